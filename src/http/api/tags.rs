//! `/api/tags`: the tags of short links — list and search them, rename one, delete one, and
//! the statistics of the links carrying one. A link's own tags are set with the link
//! (`POST`/`PATCH /api/urls`).
//!
//! Viewers and admins see every tag with its counters; an editor sees only the tags of the
//! links it created, counted over those links, and may rename or delete a tag only while no
//! other key's link carries it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{JsonBody, QueryParams};
use super::pagination::{page_limit, with_query, PageView};
use super::responses;
use super::stats::{StatsParams, StatsRange, TagStatsView};
use crate::app::Tagging;
use crate::domain::{Invalid, Role, TagName, MAX_TAG_CHARS};
use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::store::{StatsOf, TagQuery, TagRecord};

/// A tag with its counters.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"name": "launch", "links": 12, "visits": 3456}))]
pub struct TagView {
    #[schema(schema_with = super::views::tag_name_schema)]
    pub name: String,
    /// Links carrying the tag (an editor's own only).
    pub links: i64,
    /// The sum of those links' `visit_count` (bots included).
    pub visits: i64,
}

impl From<TagRecord> for TagView {
    fn from(tag: TagRecord) -> Self {
        Self {
            name: tag.name.to_string(),
            links: tag.links,
            visits: tag.visits,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TagListParams {
    /// Only tags whose name starts with this text (case-insensitive; up to 64 characters).
    #[param(max_length = 64)]
    pub q: Option<String>,
    /// Items per page (default `pagination.default_limit`, capped at `pagination.max_limit`).
    #[param(minimum = 1)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The body of `PATCH /api/tags/{name}`. Unknown fields are a 422.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "spring-launch"}))]
pub struct RenameTag {
    /// The new name: `a-z 0-9 - _ .`, 1 to 64 characters.
    #[schema(schema_with = super::views::tag_name_schema)]
    pub name: String,
}

/// List tags in name order.
///
/// Keyset-paginated like the other lists; `q` keeps the names starting with it (the explorer's
/// tag picker), each page a range of the name index. `links` and `visits` are counters kept
/// with every change, not counted per request.
#[utoipa::path(
    get,
    path = "/tags",
    operation_id = "list_tags",
    tag = "tags",
    params(TagListParams),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "One page of tags (an editor's own links' only)",
            body = PageView<TagView>, content_type = "application/json"),
        (status = 401, response = responses::Unauthorized),
        (status = 422, response = responses::ValidationFailed),
        (status = 500, response = responses::Internal),
        (status = 503, response = responses::Unavailable),
    )
)]
pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    QueryParams(params): QueryParams<TagListParams>,
) -> Result<Json<PageView<TagView>>, ApiError> {
    let limit = page_limit(params.limit, &state.settings.pagination)?;
    let prefix = match params.q.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(q) if q.chars().count() > MAX_TAG_CHARS => {
            return Err(
                Invalid::new("q", format!("must be at most {MAX_TAG_CHARS} characters")).into(),
            )
        }
        Some(q) if q.chars().any(char::is_control) => {
            return Err(Invalid::new("q", "must not contain control characters").into())
        }
        Some(q) => Some(q.to_lowercase()),
    };
    let after = match params.cursor.as_deref() {
        None | Some("") => None,
        Some(cursor) => Some(TagName::from_cursor(cursor)?),
    };
    let page = state
        .store
        .list_tags(
            &TagQuery {
                prefix: prefix.clone(),
                after,
                limit,
            },
            caller.owner_filter(),
        )
        .await?;
    let next_cursor = page.next.as_ref().map(TagName::cursor);
    let next = next_cursor.as_deref().map(|cursor| {
        let limit = limit.to_string();
        let mut query = vec![("limit", limit.as_str())];
        if let Some(q) = &prefix {
            query.push(("q", q.as_str()));
        }
        query.push(("cursor", cursor));
        with_query(&format!("{}/api/tags", state.public_url), &query)
    });
    Ok(Json(PageView {
        items: page.items.into_iter().map(TagView::from).collect(),
        next_cursor,
        next,
    }))
}

/// Rename a tag on every link.
///
/// 409 (`tag_exists`) when a tag of the new name exists. An editor may rename only a tag no
/// other key's link carries (403 otherwise); viewers may not.
#[utoipa::path(
    patch,
    path = "/tags/{name}",
    operation_id = "rename_tag",
    tag = "tags",
    params(("name" = String, Path, description = "The tag's name")),
    request_body(content = RenameTag, content_type = "application/json"),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The renamed tag", body = TagView,
            content_type = "application/json"),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::TagNotFound),
        (status = 409, response = responses::TagExists),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::ValidationFailed),
        (status = 500, response = responses::Internal),
        (status = 503, response = responses::Unavailable),
    )
)]
#[tracing::instrument(skip_all, fields(tag = %name))]
pub async fn rename(
    caller: Caller,
    State(state): State<AppState>,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<RenameTag>,
) -> Result<Json<TagView>, ApiError> {
    let editor = changer(&caller)?;
    let tag = Tagging::new(state.store.clone())
        .rename(&name, &body.name, editor)
        .await?;
    Ok(Json(tag.into()))
}

/// Delete a tag, taking it from every link.
///
/// The links stay. An editor may delete only a tag no other key's link carries (403
/// otherwise); viewers may not.
#[utoipa::path(
    delete,
    path = "/tags/{name}",
    operation_id = "delete_tag",
    tag = "tags",
    params(("name" = String, Path, description = "The tag's name")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 204, description = "Deleted; no link carries it any more"),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::TagNotFound),
        (status = 500, response = responses::Internal),
        (status = 503, response = responses::Unavailable),
    )
)]
#[tracing::instrument(skip_all, fields(tag = %name))]
pub async fn remove(
    caller: Caller,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    let editor = changer(&caller)?;
    Tagging::new(state.store.clone())
        .delete(&name, editor)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Statistics of the links carrying a tag.
///
/// The same totals, per-day series and breakdowns as a link's statistics, over the daily
/// rollups of every link carrying the tag (an editor's own links only). 422 also when the
/// range is empty or too long.
#[utoipa::path(
    get,
    path = "/tags/{name}/stats",
    operation_id = "get_tag_stats",
    tag = "tags",
    params(("name" = String, Path, description = "The tag's name"), StatsParams),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The statistics",
            body = TagStatsView, content_type = "application/json"),
        (status = 401, response = responses::Unauthorized),
        (status = 404, response = responses::TagNotFound),
        (status = 422, response = responses::ValidationFailed),
        (status = 500, response = responses::Internal),
        (status = 503, response = responses::Unavailable),
    )
)]
pub async fn stats(
    caller: Caller,
    State(state): State<AppState>,
    Path(name): Path<String>,
    QueryParams(params): QueryParams<StatsParams>,
) -> Result<Json<TagStatsView>, ApiError> {
    let range = StatsRange::of(&params)?;
    let owner = caller.owner_filter();
    let tag = Tagging::new(state.store.clone()).get(&name, owner).await?;
    let stats = range
        .read(&state, StatsOf::Tag { id: tag.id, owner })
        .await?;
    Ok(Json(TagStatsView::new(tag.name.to_string(), &range, stats)))
}

/// Who may change tags: admins any, editors their own (`Some(key)`), viewers none (403).
fn changer(caller: &Caller) -> Result<Option<i64>, ApiError> {
    match caller.role() {
        Role::Viewer => Err(ApiError::Forbidden("a viewer may not change tags".into())),
        Role::Editor => Ok(caller.owner_filter()),
        Role::Admin => Ok(None),
    }
}
