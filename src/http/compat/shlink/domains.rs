//! Shlink's domains: kurz serves one, the authority of its public base URL, which is Shlink's
//! default domain. Its "redirects" are what kurz's configuration does with `/`
//! (`root.mode = "redirect"`) and with expired links (`redirect.expired_url`); they are set in
//! the configuration files, so `PATCH /domains/redirects` is refused.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::caller;
use super::problem::ShlinkProblem;
use crate::config::{RootMode, Settings};
use crate::domain::Role;
use crate::http::error::ApiError;
use crate::http::state::AppState;

/// The body of `GET /domains`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ShlinkDomainsList)]
pub struct DomainsList {
    pub domains: Domains,
}

/// kurz's one domain, and the redirects of domains without their own.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ShlinkDomains)]
pub struct Domains {
    pub data: Vec<Domain>,
    pub default_redirects: Redirects,
}

/// A domain short URLs are served on.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ShlinkDomain)]
pub struct Domain {
    /// The authority (host, and port when it has one) of kurz's public base URL.
    pub domain: String,
    /// Always `true`: kurz's one domain is the default one.
    pub is_default: bool,
    pub redirects: Redirects,
}

/// Where clicks that reach no short URL are sent; `null` where kurz answers itself.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ShlinkDomainRedirects)]
pub struct Redirects {
    /// `root.redirect_to` when `root.mode` is `redirect`.
    pub base_url_redirect: Option<String>,
    /// Always `null`: kurz answers other paths with 404.
    pub regular_404_redirect: Option<String>,
    /// `redirect.expired_url`: kurz sends expired links there (an unknown slug is a 404).
    pub invalid_short_url_redirect: Option<String>,
}

impl Redirects {
    fn of(settings: &Settings) -> Self {
        let set = |value: &str| Some(value.trim().to_owned()).filter(|v| !v.is_empty());
        Self {
            base_url_redirect: match settings.root.mode {
                RootMode::Redirect => set(&settings.root.redirect_to),
                RootMode::Index => None,
            },
            regular_404_redirect: None,
            invalid_short_url_redirect: set(&settings.redirect.expired_url),
        }
    }
}

/// The authority of the public base URL (`s.example`, `localhost:8080`).
pub(super) fn own_authority(public_url: &str) -> String {
    url::Url::parse(public_url)
        .ok()
        .and_then(|url| {
            let host = url.host_str()?.to_owned();
            Some(match url.port() {
                Some(port) => format!("{host}:{port}"),
                None => host,
            })
        })
        .unwrap_or_default()
}

/// List the domains.
///
/// One: kurz's own, the default.
#[utoipa::path(
    get,
    path = "/domains",
    operation_id = "shlink_list_domains",
    tag = "shlink-compat",
    responses(
        (status = 200, description = "kurz's one domain", body = DomainsList),
        (status = 401, response = super::ShlinkProblemResponse),
        (status = 404, response = super::ShlinkProblemResponse),
        (status = 500, response = crate::http::api::responses::Internal),
        (status = 503, response = crate::http::api::responses::Unavailable),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(problem) = caller(&state, &headers, None).await {
        return problem.into_response();
    }
    let redirects = Redirects::of(&state.settings);
    Json(DomainsList {
        domains: Domains {
            data: vec![Domain {
                domain: own_authority(&state.public_url),
                is_default: true,
                redirects: redirects.clone(),
            }],
            default_redirects: redirects,
        },
    })
    .into_response()
}

/// Set a domain's redirects.
///
/// Refused: kurz's redirects (`root.redirect_to`, `redirect.expired_url`) are set in its
/// configuration. An admin's request answers `invalid-data` naming `domain`; other keys may
/// not change site-wide settings (403).
#[utoipa::path(
    patch,
    path = "/domains/redirects",
    operation_id = "shlink_set_domain_redirects",
    tag = "shlink-compat",
    request_body(content = Object, content_type = "application/json"),
    responses(
        (status = 400, response = super::ShlinkProblemResponse),
        (status = 401, response = super::ShlinkProblemResponse),
        (status = 403, response = super::ShlinkProblemResponse),
        (status = 404, response = super::ShlinkProblemResponse),
        (status = 500, response = crate::http::api::responses::Internal),
        (status = 503, response = crate::http::api::responses::Unavailable),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn set_redirects(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let caller = match caller(&state, &headers, None).await {
        Ok(caller) => caller,
        Err(problem) => return problem.into_response(),
    };
    if caller.role() != Role::Admin {
        return ShlinkProblem::from_api(ApiError::Forbidden(
            "domain redirects are site-wide settings: only an admin may ask".into(),
        ))
        .into_response();
    }
    let why = "kurz's redirects are set in its configuration (root.redirect_to, \
               redirect.expired_url), not through the API";
    ShlinkProblem::invalid_data(&[("domain", why.into())])
        .with_detail(format!("Domain redirects cannot be changed here: {why}."))
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authority_keeps_a_port_it_names() {
        assert_eq!(own_authority("https://s.example"), "s.example");
        assert_eq!(own_authority("http://127.0.0.1:8080"), "127.0.0.1:8080");
        assert_eq!(own_authority("not a url"), "");
    }
}
