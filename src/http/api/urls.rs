//! `/api/urls`: create, list, show, change and delete short links.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};
use utoipa::{IntoParams, ToSchema};

use super::extract::{JsonBody, QueryParams, SlugPath};
use super::pagination::{filtered_page_view, page_request, PageView};
use super::responses;
use super::views::UrlView;
use crate::app::{LinkEdit, LinkInput};
use crate::domain::{Invalid, RuleSpec, Tags};
use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::store::{StoreError, TagFilter, UrlFilter};

/// The body of `POST /api/urls`. Unknown fields are a 422.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "url": "https://example.com/page", "slug": "spring", "title": "Spring launch"
}))]
pub struct CreateUrl {
    /// Absolute `http` or `https` URL with a host, no user name or password, at most
    /// `target.max_length` bytes. Normalised before it is stored. The host must be a domain
    /// name with at least one dot or a public IP address, not kurz's own host and not in
    /// `target.deny_hosts` (see "What a link may point to" in docs/api.md).
    #[schema(format = "uri")]
    pub url: String,
    /// A custom slug: `A-Z a-z 0-9 - _`, at most `slug.max_length` characters, not reserved.
    /// Without one, kurz generates one of `slug.length` characters.
    #[schema(pattern = "^[A-Za-z0-9_-]+$", min_length = 1)]
    pub slug: Option<String>,
    /// Up to 512 characters.
    #[schema(max_length = 512)]
    pub title: Option<String>,
    /// List the short link in `robots.txt` as allowed (default false).
    #[serde(default)]
    pub crawlable: bool,
    /// The link's own redirect status: 301, 302, 307 or 308. Left out or `null`, the link
    /// answers with the server's `redirect.status`.
    #[schema(schema_with = super::views::redirect_status_schema)]
    pub redirect_status: Option<u16>,
    /// The link answers from this time on (RFC 3339); before it, `GET /{slug}` answers 404 as
    /// if the link did not exist. Left out or `null`: at once.
    pub valid_since: Option<DateTime<Utc>>,
    /// The link expires at this time (RFC 3339, after `valid_since`): from then on
    /// `GET /{slug}` answers 410 (or redirects to `redirect.expired_url`). Left out or `null`:
    /// never.
    pub valid_until: Option<DateTime<Utc>>,
    /// How many visits by people the link answers (at least 1); bots and link previews do not
    /// count. Then it answers like an expired link. Left out or `null`: no cap.
    #[schema(minimum = 1)]
    pub max_visits: Option<i64>,
    /// Redirect rules, in order (at most 20): the first whose conditions all hold decides
    /// where a click goes; otherwise `url` does. Left out, `null` or `[]`: none.
    pub rules: Option<Vec<RuleSpec>>,
    /// Append the click's query string to the target (merged with the target's own). Left
    /// out: the server's `redirect.forward_query`.
    pub forward_query: Option<bool>,
    /// Tag names (`a-z 0-9 - _ .`, 1 to 64 characters), at most 20 different ones; repeats
    /// count once.
    #[serde(default)]
    #[schema(schema_with = super::views::tags_schema)]
    pub tags: Vec<String>,
    /// A password to ask for before redirecting (1 to 1 024 bytes, kept as typed); stored as
    /// an Argon2id hash and never shown. Left out or `null`: anyone may follow the link. A
    /// link with a password cannot be `crawlable` (422 naming `crawlable`).
    #[schema(write_only, min_length = 1)]
    pub password: Option<String>,
}

/// The body of `PATCH /api/urls/{slug}`: every field is optional, and a field left out is left
/// unchanged. Unknown fields are a 422.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://example.com/summer", "title": null}))]
pub struct UpdateUrl {
    /// A new target, checked like the one of `POST /api/urls`.
    #[serde(default, deserialize_with = "not_null")]
    #[schema(format = "uri", nullable = false)]
    pub url: Option<String>,
    /// Absent leaves the title alone; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 512)]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub crawlable: Option<bool>,
    /// 301, 302, 307 or 308; `null` goes back to the server's `redirect.status`.
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = super::views::redirect_status_schema)]
    pub redirect_status: Option<Option<u16>>,
    /// RFC 3339; `null` removes the bound.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub valid_since: Option<Option<DateTime<Utc>>>,
    /// RFC 3339, after `valid_since`; `null` removes the bound.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub valid_until: Option<Option<DateTime<Utc>>>,
    /// At least 1; `null` removes the cap. Visits by people so far count towards it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, minimum = 1)]
    pub max_visits: Option<Option<i64>>,
    /// Replaces every rule; `null` or `[]` removes them.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<RuleSpec>>)]
    pub rules: Option<Option<Vec<RuleSpec>>>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub forward_query: Option<bool>,
    /// Replaces the link's tags (`[]` removes them all); checked like those of
    /// `POST /api/urls`.
    #[serde(default, deserialize_with = "not_null")]
    #[schema(schema_with = super::views::tags_schema)]
    pub tags: Option<Vec<String>>,
    /// A new password (1 to 1 024 bytes); `null` removes the password. Setting one turns
    /// `crawlable` off; `crawlable: true` on a link that keeps a password is a 422.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, write_only, min_length = 1)]
    pub password: Option<Option<String>>,
}

/// A field that may be left out but not sent as `null` (there is nothing to clear).
fn not_null<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// Tells a field sent as `null` (`Some(None)`) from one not sent at all (`None`).
pub(crate) fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Results of `GET /api/urls/search` when `limit` is not given, and at most.
const SEARCH_DEFAULT_LIMIT: u32 = 10;
const SEARCH_MAX_LIMIT: u32 = 20;
const SEARCH_MAX_QUERY_CHARS: usize = 100;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// A prefix of a slug (case-sensitive) or of a target host; 1 to 100 characters.
    #[param(min_length = 1, max_length = 100)]
    pub q: String,
    /// Results at most (default 10, capped at 20).
    #[param(minimum = 1)]
    pub limit: Option<u32>,
}

/// The answer of `GET /api/urls/search`: slug matches first, then host matches.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct SearchView {
    pub items: Vec<UrlView>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Items per page (default `pagination.default_limit`, capped at `pagination.max_limit`).
    #[param(minimum = 1)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `true` leaves out links that do not answer now: before their `valid_since`, past their
    /// `valid_until`, or with their `max_visits` reached.
    pub active: Option<bool>,
    /// Only links with this tag; repeat it for several (`tag=a&tag=b`, at most 20).
    #[serde(default)]
    #[param(value_type = Vec<crate::views::TagNameParam>, style = Form, explode, max_items = 20)]
    pub tag: Vec<String>,
    /// With several `tag`s: links with `any` of them (the default) or with `all` of them.
    #[param(inline)]
    pub tags: Option<TagMatch>,
}

/// How several `tag` parameters combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TagMatch {
    Any,
    All,
}

/// Shorten a URL.
///
/// With a `slug`, the short link gets that slug (409 if it is taken); without one, kurz
/// generates one. Only editors and admins create. 429 counts creations by client IP for
/// anonymous callers (`rate_limit.anonymous_creates_per_minute`) and by key for editors
/// (`rate_limit.editor_creates_per_minute`).
#[utoipa::path(
    post,
    path = "/urls",
    operation_id = "create_url",
    tag = "urls",
    request_body(content = CreateUrl, content_type = "application/json"),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 201, description = "Created", body = UrlView, content_type = "application/json",
            headers(("Location" = String, description = "`/api/urls/{slug}`, the new resource"))),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::ValidationFailed),
        (status = 429, response = responses::TooManyRequests),
        (status = 500, response = responses::Internal),
        (status = 503, response = responses::Unavailable),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn create(
    caller: Caller,
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Result<Response, ApiError> {
    // Who may create, and how often, before the body is read: a viewer or a rate-limited
    // client gets its 403 or 429 whatever it sent.
    caller.require_create()?;
    let client = state.client_ip.resolve(peer.ip(), request.headers());
    state.rate_limits.check_create(caller.creator(client))?;
    let JsonBody(body) = JsonBody::<CreateUrl>::from_request(request, &state).await?;
    let record = state
        .links
        .create(LinkInput {
            url: body.url,
            slug: body.slug,
            title: body.title,
            crawlable: body.crawlable,
            created_by: caller.key_id(),
            created_at: None,
            redirect_status: body.redirect_status,
            valid_since: body.valid_since,
            valid_until: body.valid_until,
            max_visits: body.max_visits,
            rules: body.rules.unwrap_or_default(),
            forward_query: body.forward_query,
            tags: body.tags,
            password: body.password,
            password_hash: None,
        })
        .await?;
    let location = format!("/api/urls/{}", record.slug);
    let view = UrlView::new(&state.public_url, record);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(view),
    )
        .into_response())
}

/// List short links, newest first.
///
/// Keyset-paginated: follow `next` (or pass `cursor=next_cursor`) until it is `null`. There is
/// deliberately no total count. `tag` (repeatable) keeps the links with any, or with
/// `tags=all` all, of those tags; each page is still an index range scan.
#[utoipa::path(
    get,
    path = "/urls",
    operation_id = "list_urls",
    tag = "urls",
    params(ListParams),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "One page of short links (an editor's own only)",
            body = PageView<UrlView>, content_type = "application/json"),
        (status = 401, response = responses::Unauthorized),
        (status = 422, response = responses::ValidationFailed),
        (status = 500, response = responses::Internal),
        (status = 503, response = responses::Unavailable),
    )
)]
pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    QueryParams(params): QueryParams<ListParams>,
) -> Result<Json<PageView<UrlView>>, ApiError> {
    let request = page_request(
        params.limit,
        params.cursor.as_deref(),
        &state.settings.pagination,
    )?;
    let active = params.active.unwrap_or(false);
    let urls = UrlFilter {
        owner: caller.owner_filter(),
        active_at: active.then(Utc::now),
    };
    let filter = tag_filter(&params)?;
    let page = match &filter {
        None => state.store.list_urls(request, urls).await?,
        Some(filter) => state.store.list_tagged_urls(filter, request, urls).await?,
    };
    let base = format!("{}/api/urls", state.public_url);
    let limit = request.limit.to_string();
    let mut given: Vec<(&str, Option<&str>)> = vec![("limit", Some(limit.as_str()))];
    if let Some(filter) = &filter {
        given.extend(filter.names.iter().map(|name| ("tag", Some(name.as_str()))));
        given.push(("tags", filter.all.then_some("all")));
    }
    given.push(("active", active.then_some("true")));
    Ok(Json(filtered_page_view(
        page,
        |record| UrlView::new(&state.public_url, record),
        &base,
        &given,
    )))
}

/// The tag filter of a list, if it has one: the names checked as tags (`tag[i]` names a bad
/// one), `tags` without any `tag` refused.
fn tag_filter(params: &ListParams) -> Result<Option<TagFilter>, Invalid> {
    if params.tag.is_empty() {
        return match params.tags {
            None => Ok(None),
            Some(_) => Err(Invalid::new(
                "tags",
                "filters by `tag`, and no `tag` was given",
            )),
        };
    }
    let names = Tags::parse(&params.tag, "tag")?.into_names();
    Ok(Some(TagFilter {
        names,
        all: params.tags == Some(TagMatch::All),
    }))
}

/// Search short links by slug or target host prefix.
///
/// `GET /api/urls/search?q=&limit=`: the pickers' endpoint. Prefix match on slug, then on
/// target host; at most 20 results, each query an index range scan. 422 when `q` is missing,
/// empty, too long or has control characters.
#[utoipa::path(
    get,
    path = "/urls/search",
    operation_id = "search_urls",
    tag = "urls",
    params(SearchParams),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The matches, slug matches first (an editor's own only)",
            body = SearchView, content_type = "application/json"),
        (status = 401, response = responses::Unauthorized),
        (status = 422, response = responses::ValidationFailed),
        (status = 500, response = responses::Internal),
        (status = 503, response = responses::Unavailable),
    )
)]
pub async fn search(
    caller: Caller,
    State(state): State<AppState>,
    QueryParams(params): QueryParams<SearchParams>,
) -> Result<Json<SearchView>, ApiError> {
    let q = params.q.trim();
    if q.is_empty() {
        return Err(Invalid::new("q", "must not be empty").into());
    }
    if q.chars().count() > SEARCH_MAX_QUERY_CHARS {
        return Err(Invalid::new(
            "q",
            format!("must be at most {SEARCH_MAX_QUERY_CHARS} characters"),
        )
        .into());
    }
    if q.chars().any(char::is_control) {
        return Err(Invalid::new("q", "must not contain control characters").into());
    }
    let limit = match params.limit {
        None => SEARCH_DEFAULT_LIMIT,
        Some(0) => return Err(Invalid::new("limit", "must be at least 1").into()),
        Some(n) => n.min(SEARCH_MAX_LIMIT),
    };
    let found = state
        .store
        .search_urls(q, limit, caller.owner_filter())
        .await?;
    Ok(Json(SearchView {
        items: found
            .into_iter()
            .map(|record| UrlView::new(&state.public_url, record))
            .collect(),
    }))
}

/// Show one short link.
#[utoipa::path(
    get,
    path = "/urls/{slug}",
    operation_id = "get_url",
    tag = "urls",
    params(("slug" = String, Path, description = "The short link's slug (case-sensitive)")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The short link",
            body = UrlView, content_type = "application/json"),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 500, response = responses::Internal),
        (status = 503, response = responses::Unavailable),
    )
)]
pub async fn show(
    caller: Caller,
    State(state): State<AppState>,
    SlugPath(slug): SlugPath,
) -> Result<Json<UrlView>, ApiError> {
    let record = state.store.get_url(&slug).await.map_err(not_found)?;
    caller.require_read_url(&record)?;
    Ok(Json(UrlView::new(&state.public_url, record)))
}

/// Change a short link.
///
/// Fields left out are left unchanged; `null` clears the title, the redirect status, a bound
/// of the validity window, the visit cap or the password.
#[utoipa::path(
    patch,
    path = "/urls/{slug}",
    operation_id = "update_url",
    tag = "urls",
    params(("slug" = String, Path, description = "The short link's slug (case-sensitive)")),
    request_body(content = UpdateUrl, content_type = "application/json"),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The changed short link",
            body = UrlView, content_type = "application/json"),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::ValidationFailed),
        (status = 500, response = responses::Internal),
        (status = 503, response = responses::Unavailable),
    )
)]
#[tracing::instrument(skip_all, fields(slug = %slug))]
pub async fn update(
    caller: Caller,
    State(state): State<AppState>,
    SlugPath(slug): SlugPath,
    request: Request,
) -> Result<Json<UrlView>, ApiError> {
    let current = state.store.get_url(&slug).await.map_err(not_found)?;
    // May this caller change this link, before the body is read (403 whatever it sent).
    caller.require_change_url(&current)?;
    let JsonBody(body) = JsonBody::<UpdateUrl>::from_request(request, &state).await?;
    let edit = LinkEdit {
        url: body.url,
        title: body.title,
        crawlable: body.crawlable,
        redirect_status: body.redirect_status,
        valid_since: body.valid_since,
        valid_until: body.valid_until,
        max_visits: body.max_visits,
        rules: body.rules.map(Option::unwrap_or_default),
        forward_query: body.forward_query,
        tags: body.tags,
        password: body.password,
    };
    let record = state.links.update(&slug, edit).await?;
    Ok(Json(UrlView::new(&state.public_url, record)))
}

/// Delete a short link and its visits.
#[utoipa::path(
    delete,
    path = "/urls/{slug}",
    operation_id = "delete_url",
    tag = "urls",
    params(("slug" = String, Path, description = "The short link's slug (case-sensitive)")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 204, description = "Deleted, with its visits"),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 500, response = responses::Internal),
        (status = 503, response = responses::Unavailable),
    )
)]
#[tracing::instrument(skip_all, fields(slug = %slug))]
pub async fn remove(
    caller: Caller,
    State(state): State<AppState>,
    SlugPath(slug): SlugPath,
) -> Result<StatusCode, ApiError> {
    let current = state.store.get_url(&slug).await.map_err(not_found)?;
    caller.require_change_url(&current)?;
    state.links.delete(&slug).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A store `NotFound` on a slug look-up, worded for the client.
pub(crate) fn not_found(error: StoreError) -> ApiError {
    match error {
        StoreError::NotFound => ApiError::not_found("no URL has this slug"),
        other => other.into(),
    }
}
