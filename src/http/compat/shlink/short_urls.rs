//! Shlink's short URL resource over kurz's links: create (with `findIfExists` and
//! `shortCodeLength`), the one-step `shorten`, get, edit and delete, each through the
//! application layer (`crate::app::Links`).

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::body::{parse_time, read_body};
use super::problem::ShlinkProblem;
use super::views::ShortUrl;
use super::{caller, ShlinkResponses};
use crate::app::{LinkEdit, LinkInput};
use crate::domain::{Slug, TargetUrl};
use crate::http::api::present;
use crate::http::auth::Caller;
use crate::http::state::AppState;
use crate::store::UrlRecord;

/// Links one `findIfExists` compares at most (the oldest with the same long URL).
const FIND_IF_EXISTS_CANDIDATES: u32 = 100;

/// Generated slugs tried when `shortCodeLength` asks for a length of its own.
const SHORT_CODE_ATTEMPTS: usize = 8;

/// Shlink's name of a field kurz refused.
pub(super) fn shlink_field(field: &str) -> &'static str {
    match field {
        "url" => "longUrl",
        "slug" => "customSlug",
        "title" => "title",
        "valid_since" => "validSince",
        "valid_until" => "validUntil",
        "max_visits" => "maxVisits",
        "tags" => "tags",
        "crawlable" => "crawlable",
        "forward_query" => "forwardQuery",
        "rules" => "redirectRules",
        _ => "longUrl",
    }
}

/// The body of `POST /short-urls`. Members Shlink has and kurz does not use
/// (`deviceLongUrls`) are ignored, as Shlink ignores unknown ones.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ShlinkCreateShortUrl)]
pub struct CreateBody {
    /// The long URL (required).
    #[schema(example = "https://example.com/")]
    pub long_url: Option<String>,
    /// A slug of your own; generated when absent.
    pub custom_slug: Option<String>,
    /// Answer with an existing short URL of this long URL that matches every other field given.
    pub find_if_exists: Option<bool>,
    /// The length of a generated slug, 4 to 32.
    pub short_code_length: Option<u32>,
    /// ISO 8601 time from which the link answers.
    pub valid_since: Option<String>,
    /// ISO 8601 time from which the link has expired.
    pub valid_until: Option<String>,
    pub max_visits: Option<i64>,
    pub tags: Option<Vec<String>>,
    pub title: Option<String>,
    pub crawlable: Option<bool>,
    pub forward_query: Option<bool>,
    /// `DEFAULT` or kurz's own host; kurz has one domain.
    pub domain: Option<String>,
    /// Put before `customSlug`.
    pub path_prefix: Option<String>,
}

/// The body of `PATCH /short-urls/{shortCode}`: what it names changes; `null` clears `title`,
/// `validSince`, `validUntil` and `maxVisits`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ShlinkEditShortUrl)]
pub struct EditBody {
    pub long_url: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub valid_since: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub valid_until: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub max_visits: Option<Option<i64>>,
    pub tags: Option<Vec<String>>,
    pub crawlable: Option<bool>,
    pub forward_query: Option<bool>,
}

fn optional_time(
    value: Option<&str>,
    field: &'static str,
) -> Result<Option<DateTime<Utc>>, ShlinkProblem> {
    value.map(|v| parse_time(v, field)).transpose()
}

/// `domain` absent, `DEFAULT` or kurz's own host.
pub(super) fn check_domain(state: &AppState, domain: Option<&str>) -> Result<(), ShlinkProblem> {
    if super::short_url_list::own_domain(state, domain) {
        Ok(())
    } else {
        Err(ShlinkProblem::invalid_data(&[(
            "domain",
            format!(
                "kurz serves one domain, {}",
                super::domains::own_authority(&state.public_url)
            ),
        )]))
    }
}

fn answer(state: &AppState, record: UrlRecord) -> Response {
    Json(ShortUrl::new(&state.public_url, record)).into_response()
}

/// Create a short URL.
///
/// Shlink's `POST /rest/v3/short-urls`, authenticated with `X-Api-Key`. Answers 200 (as
/// Shlink does) with the short URL, or with an existing one under `findIfExists`.
#[utoipa::path(
    post,
    path = "/short-urls",
    operation_id = "shlink_create_short_url",
    tag = "shlink-compat",
    request_body(content = CreateBody, content_type = "application/json"),
    responses(ShlinkResponses)
)]
#[tracing::instrument(skip_all)]
pub async fn create(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match create_link(&state, peer, &headers, None, &body).await {
        Ok(record) => answer(&state, record),
        Err(problem) => problem.into_response(),
    }
}

async fn create_link(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    query_key: Option<&str>,
    body: &Bytes,
) -> Result<UrlRecord, ShlinkProblem> {
    let caller = caller(state, headers, query_key).await?;
    caller.require_create().map_err(ShlinkProblem::from_api)?;
    let client = state.client_ip.resolve(peer.ip(), headers);
    state
        .rate_limits
        .check_create(caller.creator(client))
        .map_err(ShlinkProblem::from_api)?;
    let body: CreateBody = read_body(body)?;
    create_from(state, caller, body).await
}

async fn create_from(
    state: &AppState,
    caller: Caller,
    body: CreateBody,
) -> Result<UrlRecord, ShlinkProblem> {
    let Some(long_url) = body.long_url.as_deref().filter(|u| !u.trim().is_empty()) else {
        return Err(ShlinkProblem::invalid_data(&[(
            "longUrl",
            "is required".into(),
        )]));
    };
    check_domain(state, body.domain.as_deref())?;
    let custom = match (body.path_prefix.as_deref(), body.custom_slug.as_deref()) {
        (Some(prefix), Some(slug)) => Some(format!("{prefix}{slug}")),
        (Some(_), None) => {
            return Err(ShlinkProblem::invalid_data(&[(
                "pathPrefix",
                "kurz puts a prefix only before a customSlug".into(),
            )]))
        }
        (None, slug) => slug.map(str::to_owned),
    };
    let valid_since = optional_time(body.valid_since.as_deref(), "validSince")?;
    let valid_until = optional_time(body.valid_until.as_deref(), "validUntil")?;
    let tags = body.tags.clone().unwrap_or_default();
    if body.find_if_exists == Some(true) {
        if let Some(found) = find_existing(
            state,
            caller,
            long_url,
            &body,
            custom.as_deref(),
            valid_since,
            valid_until,
        )
        .await?
        {
            return Ok(found);
        }
    }
    let length = match body.short_code_length {
        Some(length) if custom.is_none() => {
            if !(4..=32).contains(&length) {
                return Err(ShlinkProblem::invalid_data(&[(
                    "shortCodeLength",
                    "must be between 4 and 32".into(),
                )]));
            }
            Some(length as usize)
        }
        _ => None,
    };
    let input = LinkInput {
        url: long_url.to_owned(),
        slug: custom.clone(),
        title: body.title.clone(),
        crawlable: body.crawlable.unwrap_or(false),
        created_by: caller.key_id(),
        created_at: None,
        redirect_status: None,
        valid_since,
        valid_until,
        max_visits: body.max_visits,
        rules: Vec::new(),
        // Shlink forwards the query unless told not to (its clients drop `false` members, so
        // they rely on this default).
        forward_query: Some(body.forward_query.unwrap_or(true)),
        password: None,
        password_hash: None,
        tags,
    };
    let short_code = custom.clone().unwrap_or_default();
    let Some(length) = length else {
        return state
            .links
            .create(input)
            .await
            .map_err(|e| ShlinkProblem::from_app(e, &short_code, shlink_field));
    };
    // A length of its own: slugs generated here, another tried when one is taken.
    for _ in 0..SHORT_CODE_ATTEMPTS {
        let slug = state.slugs.generate_with_length(length);
        let attempt = LinkInput {
            slug: Some(slug.to_string()),
            ..input.clone()
        };
        match state.links.create(attempt).await {
            Err(crate::app::AppError::SlugTaken(_)) => continue,
            other => {
                return other.map_err(|e| ShlinkProblem::from_app(e, &short_code, shlink_field))
            }
        }
    }
    Err(ShlinkProblem::from_api(
        crate::app::AppError::NoFreeSlug(SHORT_CODE_ATTEMPTS).into(),
    ))
}

/// `findIfExists`: the oldest link of this long URL (among the caller's own for an editor)
/// that matches every field the request gives, as Shlink matches them.
async fn find_existing(
    state: &AppState,
    caller: Caller,
    long_url: &str,
    body: &CreateBody,
    custom: Option<&str>,
    valid_since: Option<DateTime<Utc>>,
    valid_until: Option<DateTime<Utc>>,
) -> Result<Option<UrlRecord>, ShlinkProblem> {
    let Ok(target) = TargetUrl::parse(long_url, state.settings.target.max_length) else {
        return Ok(None);
    };
    let candidates = state
        .store
        .find_urls_by_target(&target, caller.owner_filter(), FIND_IF_EXISTS_CANDIDATES)
        .await
        .map_err(|e| ShlinkProblem::from_api(e.into()))?;
    let mut wanted_tags: Option<Vec<String>> = body.tags.clone();
    if let Some(tags) = &mut wanted_tags {
        tags.sort();
        tags.dedup();
    }
    Ok(candidates.into_iter().find(|link| {
        custom.is_none_or(|slug| link.slug.as_str() == slug)
            && body
                .max_visits
                .is_none_or(|cap| link.max_visits.map(|m| m.get()) == Some(cap))
            && valid_since
                .is_none_or(|t| link.valid_since.map(|s| s.timestamp()) == Some(t.timestamp()))
            && valid_until
                .is_none_or(|t| link.valid_until.map(|u| u.timestamp()) == Some(t.timestamp()))
            && wanted_tags.as_ref().is_none_or(|tags| {
                let mut have: Vec<String> = link.tags.iter().map(ToString::to_string).collect();
                have.sort();
                &have == tags
            })
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ShortenParams {
    /// A kurz API key (this route takes it in the query, as Shlink's does).
    pub api_key: Option<String>,
    /// The long URL.
    #[param(example = "https://example.com/")]
    pub long_url: Option<String>,
    /// `json` (the default) or `txt` (the short URL alone, as text).
    #[param(example = "json")]
    pub format: Option<String>,
}

/// Shorten a URL in one step.
///
/// Shlink's `GET /rest/v3/short-urls/shorten?apiKey=&longUrl=&format=txt|json`, for clients
/// that can only make a `GET` (browser bookmarklets, chat commands).
#[utoipa::path(
    get,
    path = "/short-urls/shorten",
    operation_id = "shlink_shorten",
    tag = "shlink-compat",
    params(ShortenParams),
    responses(
        (status = 200, description = "The short URL: Shlink's object, or with `format=txt` the short URL alone",
            content((ShortUrl = "application/json"), (String = "text/plain"))),
        (status = 400, response = super::ShlinkProblemResponse),
        (status = 401, response = super::ShlinkProblemResponse),
        (status = 403, response = super::ShlinkProblemResponse),
        (status = 404, response = super::ShlinkProblemResponse),
        (status = 429, response = super::ShlinkProblemResponse),
        (status = 500, response = crate::http::api::responses::Internal),
        (status = 503, response = crate::http::api::responses::Unavailable),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn shorten(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(params): Query<ShortenParams>,
) -> Response {
    let body = serde_json::json!({ "longUrl": params.long_url }).to_string();
    let record = match create_link(
        &state,
        peer,
        &headers,
        params.api_key.as_deref(),
        &Bytes::from(body),
    )
    .await
    {
        Ok(record) => record,
        Err(problem) => return problem.into_response(),
    };
    let text = params
        .format
        .as_deref()
        .is_some_and(|f| f.eq_ignore_ascii_case("txt"))
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.starts_with("text/plain"));
    if text {
        let short = format!("{}/{}", state.public_url, record.slug);
        return ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], short).into_response();
    }
    answer(&state, record)
}

/// The link `short_code` names, if this caller may see it (an editor sees only its own, as a
/// Shlink key limited to its own short URLs).
pub(super) async fn readable(
    state: &AppState,
    caller: Caller,
    short_code: &str,
) -> Result<UrlRecord, ShlinkProblem> {
    let not_found = || ShlinkProblem::short_url_not_found(short_code);
    let slug = Slug::for_lookup(short_code).ok_or_else(not_found)?;
    let record = state
        .links
        .get(&slug)
        .await
        .map_err(|e| ShlinkProblem::from_app(e, short_code, shlink_field))?;
    if caller.may_read_url(&record) {
        Ok(record)
    } else {
        Err(not_found())
    }
}

/// The link, if this caller may change it: 404 for an editor's look at another's link, 403
/// for a viewer.
pub(super) async fn changeable(
    state: &AppState,
    caller: Caller,
    short_code: &str,
) -> Result<UrlRecord, ShlinkProblem> {
    let record = readable(state, caller, short_code).await?;
    caller
        .require_change_url(&record)
        .map_err(ShlinkProblem::from_api)?;
    Ok(record)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DomainParam {
    /// `DEFAULT` or kurz's own host (kurz has one domain).
    pub domain: Option<String>,
}

/// Get a short URL.
#[utoipa::path(
    get,
    path = "/short-urls/{shortCode}",
    operation_id = "shlink_get_short_url",
    tag = "shlink-compat",
    params(("shortCode" = String, Path, description = "The slug"), DomainParam),
    responses(ShlinkResponses)
)]
#[tracing::instrument(skip_all)]
pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(short_code): Path<String>,
    Query(domain): Query<DomainParam>,
) -> Response {
    let found = async {
        let caller = caller(&state, &headers, None).await?;
        check_domain(&state, domain.domain.as_deref())?;
        readable(&state, caller, &short_code).await
    };
    match found.await {
        Ok(record) => answer(&state, record),
        Err(problem) => problem.into_response(),
    }
}

/// Edit a short URL.
#[utoipa::path(
    patch,
    path = "/short-urls/{shortCode}",
    operation_id = "shlink_edit_short_url",
    tag = "shlink-compat",
    params(("shortCode" = String, Path, description = "The slug"), DomainParam),
    request_body(content = EditBody, content_type = "application/json"),
    responses(ShlinkResponses)
)]
#[tracing::instrument(skip_all)]
pub async fn edit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(short_code): Path<String>,
    Query(domain): Query<DomainParam>,
    body: Bytes,
) -> Response {
    let edited = async {
        let caller = caller(&state, &headers, None).await?;
        check_domain(&state, domain.domain.as_deref())?;
        let record = changeable(&state, caller, &short_code).await?;
        let body: EditBody = read_body(&body)?;
        let time = |value: Option<Option<String>>, field| match value {
            None => Ok(None),
            Some(None) => Ok(Some(None)),
            Some(Some(text)) => parse_time(&text, field).map(|t| Some(Some(t))),
        };
        let edit = LinkEdit {
            url: body.long_url,
            title: body.title,
            crawlable: body.crawlable,
            valid_since: time(body.valid_since, "validSince")?,
            valid_until: time(body.valid_until, "validUntil")?,
            max_visits: body.max_visits,
            forward_query: body.forward_query,
            tags: body.tags,
            ..LinkEdit::default()
        };
        state
            .links
            .update(&record.slug, edit)
            .await
            .map_err(|e| ShlinkProblem::from_app(e, &short_code, shlink_field))
    };
    match edited.await {
        Ok(record) => answer(&state, record),
        Err(problem) => problem.into_response(),
    }
}

/// Delete a short URL and its visits.
#[utoipa::path(
    delete,
    path = "/short-urls/{shortCode}",
    operation_id = "shlink_delete_short_url",
    tag = "shlink-compat",
    params(("shortCode" = String, Path, description = "The slug"), DomainParam),
    responses(ShlinkResponses)
)]
#[tracing::instrument(skip_all)]
pub async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(short_code): Path<String>,
    Query(domain): Query<DomainParam>,
) -> Response {
    let deleted = async {
        let caller = caller(&state, &headers, None).await?;
        check_domain(&state, domain.domain.as_deref())?;
        let record = changeable(&state, caller, &short_code).await?;
        state
            .links
            .delete(&record.slug)
            .await
            .map_err(|e| ShlinkProblem::from_app(e, &short_code, shlink_field))
    };
    match deleted.await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(problem) => problem.into_response(),
    }
}
