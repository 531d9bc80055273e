//! Shlink's redirect rules of a short URL (`GET`, `POST`, `PATCH
//! /short-urls/{shortCode}/redirect-rules`), over kurz's rules: read from the link, written
//! whole through `Links::update`. The mapping of the conditions is in `rules.rs`.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::problem::ShlinkProblem;
use super::rules::{rules_to_kurz, to_shlink, ShlinkCondition, ShlinkRuleInput};
use super::short_urls::{changeable, check_domain, readable, shlink_field, DomainParam};
use super::{caller, read_body};
use crate::app::{AppError, LinkEdit};
use crate::http::state::AppState;
use crate::store::UrlRecord;

/// A short URL's rules, as Shlink lists them.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ShlinkRedirectRulesList)]
pub struct RulesList {
    /// Where a click goes when no rule holds: the short URL's long URL.
    pub default_long_url: String,
    pub redirect_rules: Vec<RedirectRule>,
}

/// One rule: the first (lowest `priority`) whose conditions all hold decides.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ShlinkRedirectRule)]
pub struct RedirectRule {
    pub long_url: String,
    /// The rule's place, from 1.
    pub priority: usize,
    pub conditions: Vec<ShlinkCondition>,
}

/// The body of `POST`/`PATCH`: the rules that replace the short URL's, in order.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ShlinkSetRedirectRules)]
pub struct SetRules {
    /// An empty list (or none) removes every rule.
    #[serde(default)]
    pub redirect_rules: Option<Vec<ShlinkRuleInput>>,
}

/// Every answer of the redirect rule routes.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum RulesResponses {
    /// The short URL's rules.
    #[response(status = 200)]
    Ok(#[to_schema] RulesList),
    /// `invalid-data` naming `redirectRules` (with the reason in `errors`: a condition kurz
    /// cannot evaluate, a bad value), or `malformed-request-body`.
    #[response(status = 400, content_type = "application/problem+json")]
    Invalid(#[to_schema] super::ShlinkProblemDoc),
    /// `missing-authentication` or `invalid-api-key`.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(#[to_schema] super::ShlinkProblemDoc),
    /// The key's role may not change this short URL.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(#[to_schema] super::ShlinkProblemDoc),
    /// `short-url-not-found`, or the Shlink API is turned off.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(#[to_schema] super::ShlinkProblemDoc),
    #[response(status = 500)]
    Internal(#[ref_response] crate::http::api::responses::Internal),
    #[response(status = 503)]
    Unavailable(#[ref_response] crate::http::api::responses::Unavailable),
}

fn listed(record: &UrlRecord) -> RulesList {
    let specs = record
        .rules
        .as_ref()
        .map(|rules| rules.specs())
        .unwrap_or_default();
    RulesList {
        default_long_url: record.target.to_string(),
        redirect_rules: specs
            .iter()
            .enumerate()
            .map(|(i, rule)| RedirectRule {
                long_url: rule.target.clone(),
                priority: i + 1,
                conditions: rule.conditions.iter().map(to_shlink).collect(),
            })
            .collect(),
    }
}

fn answer(found: Result<UrlRecord, ShlinkProblem>) -> Response {
    match found {
        Ok(record) => Json(listed(&record)).into_response(),
        Err(problem) => problem.into_response(),
    }
}

/// List a short URL's redirect rules.
#[utoipa::path(
    get,
    path = "/short-urls/{shortCode}/redirect-rules",
    operation_id = "shlink_list_redirect_rules",
    tag = "shlink-compat",
    params(("shortCode" = String, Path, description = "The slug"), DomainParam),
    responses(RulesResponses)
)]
#[tracing::instrument(skip_all)]
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(short_code): Path<String>,
    Query(domain): Query<DomainParam>,
) -> Response {
    answer(
        async {
            let caller = caller(&state, &headers, None).await?;
            check_domain(&state, domain.domain.as_deref())?;
            readable(&state, caller, &short_code).await
        }
        .await,
    )
}

/// Set a short URL's redirect rules.
///
/// Replaces them all, in the order given (the first rule whose conditions hold decides).
/// Conditions kurz cannot evaluate (the `chromeos` device, `valueless-query-param`,
/// `geolocation-city-name`, `browser`, IP wildcards other than whole trailing octets) are
/// refused as `invalid-data`.
#[utoipa::path(
    post,
    path = "/short-urls/{shortCode}/redirect-rules",
    operation_id = "shlink_set_redirect_rules",
    tag = "shlink-compat",
    params(("shortCode" = String, Path, description = "The slug"), DomainParam),
    request_body(content = SetRules, content_type = "application/json"),
    responses(RulesResponses)
)]
#[tracing::instrument(skip_all)]
pub async fn set(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(short_code): Path<String>,
    Query(domain): Query<DomainParam>,
    body: Bytes,
) -> Response {
    answer(write(&state, &headers, &short_code, domain, &body).await)
}

/// Set a short URL's redirect rules (as `POST` does).
#[utoipa::path(
    patch,
    path = "/short-urls/{shortCode}/redirect-rules",
    operation_id = "shlink_patch_redirect_rules",
    tag = "shlink-compat",
    params(("shortCode" = String, Path, description = "The slug"), DomainParam),
    request_body(content = SetRules, content_type = "application/json"),
    responses(RulesResponses)
)]
#[tracing::instrument(skip_all)]
pub async fn patch(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(short_code): Path<String>,
    Query(domain): Query<DomainParam>,
    body: Bytes,
) -> Response {
    answer(write(&state, &headers, &short_code, domain, &body).await)
}

async fn write(
    state: &AppState,
    headers: &HeaderMap,
    short_code: &str,
    domain: DomainParam,
    body: &Bytes,
) -> Result<UrlRecord, ShlinkProblem> {
    let caller = caller(state, headers, None).await?;
    check_domain(state, domain.domain.as_deref())?;
    let record = changeable(state, caller, short_code).await?;
    let body: SetRules = read_body(body)?;
    let rules = rules_to_kurz(body.redirect_rules.as_deref().unwrap_or_default())
        .map_err(|why| ShlinkProblem::invalid_data(&[("redirectRules", why)]))?;
    let edit = LinkEdit {
        rules: Some(rules),
        ..LinkEdit::default()
    };
    state
        .links
        .update(&record.slug, edit)
        .await
        .map_err(|error| match error {
            // kurz names the place (`rules[0].conditions[1].value`); Shlink's clients know
            // the member as `redirectRules`.
            AppError::Invalid(invalid) if invalid.field.starts_with("rules") => {
                let place = invalid.field.replacen("rules", "redirectRules", 1);
                ShlinkProblem::invalid_data(&[(
                    "redirectRules",
                    format!("{place}: {}", invalid.reason),
                )])
            }
            other => ShlinkProblem::from_app(other, short_code, shlink_field),
        })
}
