//! Shlink's tags: the list (names, or with their counters as `stats`), renaming and deleting,
//! over kurz's tags and their counters (`tags.links`, `tags.visits`, `tags.bot_visits`).

use axum::body::Bytes;
use axum::extract::{Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::pagination::{Paged, Pagination};
use super::problem::ShlinkProblem;
use super::views::VisitsSummary;
use super::{caller, read_body};
use crate::app::{AppError, Tagging};
use crate::domain::Role;
use crate::http::auth::Caller;
use crate::http::state::AppState;
use crate::store::{TagQuery, TagRecord};

/// Tags read per store call while listing.
const TAGS_PER_READ: u32 = 1000;

/// The most tags a list reads (and sorts); more are left out of it.
pub const MAX_TAGS_LISTED: usize = 100_000;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct TagListParams {
    /// The page, from 1.
    #[param(example = 1)]
    pub page: Option<String>,
    /// Tags per page; `-1` or absent for all.
    #[param(example = 10)]
    pub items_per_page: Option<String>,
    /// Only tags whose name contains this (case-insensitive).
    pub search_term: Option<String>,
    /// `tag`, `shortUrlsCount`, `visits` or `nonBotVisits`, then `-ASC` or `-DESC`.
    #[param(example = "tag-ASC")]
    pub order_by: Option<String>,
}

/// One tag with its counters.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ShlinkTagInfo)]
pub struct TagInfo {
    pub tag: String,
    pub short_urls_count: i64,
    pub visits_summary: VisitsSummary,
}

impl From<&TagRecord> for TagInfo {
    fn from(tag: &TagRecord) -> Self {
        Self {
            tag: tag.name.to_string(),
            short_urls_count: tag.links,
            visits_summary: VisitsSummary::of(tag.visits, tag.bot_visits),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ShlinkTagList)]
pub struct TagList {
    pub tags: Paged<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ShlinkTagStats)]
pub struct TagStats {
    pub tags: Paged<TagInfo>,
}

/// The tags this caller sees (an editor: those of its own links, counted over them), filtered
/// and ordered as asked.
async fn listed(
    state: &AppState,
    caller: Caller,
    params: &TagListParams,
) -> Result<Vec<TagRecord>, ShlinkProblem> {
    let order = Order::parse(params.order_by.as_deref())?;
    let owner = caller.owner_filter();
    let term = params
        .search_term
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase);
    let mut tags = Vec::new();
    let mut after = None;
    loop {
        let query = TagQuery {
            prefix: None,
            after,
            limit: TAGS_PER_READ,
        };
        let page = state
            .store
            .list_tags(&query, owner)
            .await
            .map_err(|e| ShlinkProblem::from_api(e.into()))?;
        tags.extend(page.items.into_iter().filter(|tag| {
            term.as_deref()
                .is_none_or(|term| tag.name.as_str().contains(term))
        }));
        match page.next {
            Some(next) if tags.len() < MAX_TAGS_LISTED => after = Some(next),
            _ => break,
        }
    }
    tags.truncate(MAX_TAGS_LISTED);
    order.sort(&mut tags);
    Ok(tags)
}

/// `orderBy` of the tag lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Order {
    field: OrderField,
    descending: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OrderField {
    Tag,
    ShortUrlsCount,
    Visits,
    NonBotVisits,
}

impl Order {
    fn parse(value: Option<&str>) -> Result<Self, ShlinkProblem> {
        let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(Self {
                field: OrderField::Tag,
                descending: false,
            });
        };
        let (field, direction) = value.rsplit_once('-').unwrap_or((value, "ASC"));
        let field = match field {
            "tag" => OrderField::Tag,
            "shortUrlsCount" => OrderField::ShortUrlsCount,
            "visits" => OrderField::Visits,
            "nonBotVisits" => OrderField::NonBotVisits,
            _ => return Err(invalid_order()),
        };
        let descending = match direction.to_ascii_uppercase().as_str() {
            "ASC" => false,
            "DESC" => true,
            _ => return Err(invalid_order()),
        };
        Ok(Self { field, descending })
    }

    fn sort(self, tags: &mut [TagRecord]) {
        let key = |tag: &TagRecord| match self.field {
            OrderField::Tag => 0,
            OrderField::ShortUrlsCount => tag.links,
            OrderField::Visits => tag.visits,
            OrderField::NonBotVisits => tag.visits - tag.bot_visits,
        };
        // Names break ties (and are the order itself for `tag`): tags arrive in name order.
        tags.sort_by(|a, b| {
            let ordering = key(a).cmp(&key(b)).then_with(|| a.name.cmp(&b.name));
            if self.descending {
                ordering.reverse()
            } else {
                ordering
            }
        });
    }
}

fn invalid_order() -> ShlinkProblem {
    ShlinkProblem::invalid_data(&[(
        "orderBy",
        "one of tag, shortUrlsCount, visits, nonBotVisits, then -ASC or -DESC".into(),
    )])
}

/// The asked page of the tags this caller sees, each rendered by `item` (only the page's).
async fn tag_page<T>(
    state: &AppState,
    headers: &HeaderMap,
    params: &TagListParams,
    item: impl Fn(&TagRecord) -> T,
) -> Result<Paged<T>, ShlinkProblem> {
    let caller = caller(state, headers, None).await?;
    let tags = listed(state, caller, params).await?;
    let page = Pagination::page(
        tags,
        params.page.as_deref(),
        params.items_per_page.as_deref(),
    )?;
    Ok(Paged {
        data: page.data.iter().map(item).collect(),
        pagination: page.pagination,
    })
}

/// List tags.
///
/// Names, in name order unless `orderBy` says otherwise; all of them unless `itemsPerPage`
/// pages them. An editor sees the tags of its own links.
#[utoipa::path(
    get,
    path = "/tags",
    operation_id = "shlink_list_tags",
    tag = "shlink-compat",
    params(TagListParams),
    responses(
        (status = 200, description = "The tags' names", body = TagList),
        super::ShlinkTagErrors,
    )
)]
#[tracing::instrument(skip_all)]
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<TagListParams>,
) -> Response {
    match tag_page(&state, &headers, &params, |tag| tag.name.to_string()).await {
        Ok(tags) => Json(TagList { tags }).into_response(),
        Err(problem) => problem.into_response(),
    }
}

/// List tags with their counters.
///
/// As the tag list, each tag with the number of its short URLs and their visits (people and
/// bots), from the counters kurz keeps.
#[utoipa::path(
    get,
    path = "/tags/stats",
    operation_id = "shlink_tag_stats",
    tag = "shlink-compat",
    params(TagListParams),
    responses(
        (status = 200, description = "The tags with their counters", body = TagStats),
        super::ShlinkTagErrors,
    )
)]
#[tracing::instrument(skip_all)]
pub async fn stats(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<TagListParams>,
) -> Response {
    match tag_page(&state, &headers, &params, |tag| TagInfo::from(tag)).await {
        Ok(tags) => Json(TagStats { tags }).into_response(),
        Err(problem) => problem.into_response(),
    }
}

/// The body of `PUT /tags`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ShlinkRenameTag)]
pub struct RenameBody {
    #[schema(example = "old")]
    pub old_name: Option<String>,
    #[schema(example = "new")]
    pub new_name: Option<String>,
}

/// The editor a tag change is limited to, or Shlink's 403 for a viewer.
fn tag_editor(caller: Caller, action: &str) -> Result<Option<i64>, ShlinkProblem> {
    if caller.role() == Role::Viewer {
        return Err(ShlinkProblem::forbidden_tag_operation(format!(
            "You are not allowed to {action} tags"
        )));
    }
    Ok(caller.owner_filter())
}

/// Rename a tag.
#[utoipa::path(
    put,
    path = "/tags",
    operation_id = "shlink_rename_tag",
    tag = "shlink-compat",
    request_body(content = RenameBody, content_type = "application/json"),
    responses(
        (status = 204, description = "Renamed"),
        (status = 409, response = super::ShlinkProblemResponse),
        super::ShlinkTagErrors,
    )
)]
#[tracing::instrument(skip_all)]
pub async fn rename(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let renamed = async {
        let caller = caller(&state, &headers, None).await?;
        let editor = tag_editor(caller, "rename")?;
        let body: RenameBody = read_body(&body)?;
        let mut missing = Vec::new();
        if body.old_name.as_deref().is_none_or(str::is_empty) {
            missing.push(("oldName", "is required".to_owned()));
        }
        if body.new_name.as_deref().is_none_or(str::is_empty) {
            missing.push(("newName", "is required".to_owned()));
        }
        if !missing.is_empty() {
            return Err(ShlinkProblem::invalid_data(&missing));
        }
        let (old, new) = (
            body.old_name.unwrap_or_default(),
            body.new_name.unwrap_or_default(),
        );
        Tagging::new(state.store.clone())
            .rename(&old, &new, editor)
            .await
            .map_err(|error| match error {
                AppError::NoSuchTag(_) => ShlinkProblem::tag_not_found(&old),
                AppError::TagExists(_) => ShlinkProblem::tag_conflict(&old, &new),
                AppError::TagShared(_) => ShlinkProblem::forbidden_tag_operation(
                    "You are not allowed to rename a tag that short URLs of other keys carry",
                ),
                AppError::Invalid(invalid) => {
                    ShlinkProblem::invalid_data(&[("newName", invalid.reason)])
                }
                other => ShlinkProblem::from_api(other.into()),
            })
    };
    match renamed.await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(problem) => problem.into_response(),
    }
}

/// Query parameters of `DELETE /tags`, as documented (the handler reads the raw query, where
/// `tags[]` repeats).
#[derive(Debug, Deserialize, IntoParams)]
#[allow(dead_code)]
#[into_params(parameter_in = Query)]
pub struct DeleteTagsParams {
    /// A tag to delete; repeat it (`tags[]=a&tags[]=b`). Unknown names are ignored.
    #[serde(rename = "tags[]", default)]
    #[param(rename = "tags[]", style = Form, explode, example = json!(["old"]))]
    pub tags: Vec<String>,
}

/// Delete tags.
///
/// Takes each tag from every link and deletes it; names no tag has are ignored, as Shlink
/// ignores them.
#[utoipa::path(
    delete,
    path = "/tags",
    operation_id = "shlink_delete_tags",
    tag = "shlink-compat",
    params(DeleteTagsParams),
    responses(
        (status = 204, description = "Deleted"),
        super::ShlinkTagErrors,
    )
)]
#[tracing::instrument(skip_all)]
pub async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let deleted = async {
        let caller = caller(&state, &headers, None).await?;
        let editor = tag_editor(caller, "delete")?;
        let names: Vec<String> = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .filter(|(name, _)| name == "tags[]" || name == "tags")
            .map(|(_, value)| value.into_owned())
            .collect();
        let tagging = Tagging::new(state.store.clone());
        for name in &names {
            match tagging.delete(name, editor).await {
                Ok(_) | Err(AppError::NoSuchTag(_)) => {}
                Err(AppError::TagShared(_)) => {
                    return Err(ShlinkProblem::forbidden_tag_operation(
                        "You are not allowed to delete a tag that short URLs of other keys carry",
                    ))
                }
                Err(other) => return Err(ShlinkProblem::from_api(other.into())),
            }
        }
        Ok(())
    };
    match deleted.await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(problem) => problem.into_response(),
    }
}
