//! Shlink's visit lists: a short URL's, a tag's, all link visits (`non-orphan`) and orphan
//! visits, newest first by page number (`crate::http::compat::paging`). Shlink's clients load
//! whole lists (the web component asks 5000 a page, four pages at once): page 1 is a keyset
//! read from the newest visit, later pages start after an id of the list's page index, and
//! totals come from the counters unless dates or bots filter the list.

use std::sync::Arc;

use async_trait::async_trait;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::body::parse_time;
use super::pagination::{self, Paged, Pagination};
use super::problem::ShlinkProblem;
use super::short_urls::readable;
use super::views::Visit;
use super::{caller, short_url_list::own_domain};
use crate::domain::{Cursor, OrphanKind, TagName};
use crate::http::compat::paging::NumberedList;
use crate::http::state::AppState;
use crate::store::{
    OrphanFilter, OrphanVisitRecord, PageIndex, PageRequest, PageStart, Store, StoreError,
    UrlRecord, VisitFilter, VisitRecord,
};

/// Visits an order may lag behind: a visit list's page index is rebuilt once the visits in all
/// moved by this many (or a link changed), not on every click. New visits come first, so a
/// lagging index still starts every page right after a visit; pages shift by the visits since.
const VISIT_STALENESS: i64 = 1000;

/// Query parameters of the visit lists.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct VisitListParams {
    /// The page, from 1.
    #[param(example = 1)]
    pub page: Option<String>,
    /// Visits per page; `-1` or absent for all, up to `compat.shlink.max_items_per_page`.
    #[param(example = 5000)]
    pub items_per_page: Option<String>,
    /// Only visits at or after this ISO 8601 time.
    pub start_date: Option<String>,
    /// Only visits at or before this ISO 8601 time.
    pub end_date: Option<String>,
    /// `true`: leave out visits by bots.
    pub exclude_bots: Option<String>,
    /// `DEFAULT` or kurz's host; any other domain lists nothing.
    pub domain: Option<String>,
}

/// The orphan visit list's own query parameter.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrphanTypeParam {
    /// `base_url`, `invalid_short_url` (kurz's unknown and expired slugs) or `regular_404`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
}

/// `{"visits": {"data": [...], "pagination": {...}}}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ShlinkVisitList)]
pub struct VisitList {
    pub visits: Paged<Visit>,
}

/// A list's page, its size and its filters as asked.
struct Asked {
    page: u64,
    per_page: u32,
    from: Option<chrono::DateTime<chrono::Utc>>,
    until: Option<chrono::DateTime<chrono::Utc>>,
    people_only: bool,
    elsewhere: bool,
}

impl Asked {
    fn parse(state: &AppState, params: &VisitListParams) -> Result<Self, ShlinkProblem> {
        let (page, per_page) =
            pagination::parse(params.page.as_deref(), params.items_per_page.as_deref())?;
        let cap = state.settings.compat.shlink.max_items_per_page;
        let per_page = per_page.map_or(cap, |n| u32::try_from(n).unwrap_or(u32::MAX).min(cap));
        let time = |value: &Option<String>, field| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(|v| parse_time(v, field))
                .transpose()
        };
        let people_only = match params.exclude_bots.as_deref().map(str::trim) {
            None | Some("") | Some("false") | Some("0") => false,
            Some("true") | Some("1") => true,
            Some(other) => {
                return Err(ShlinkProblem::invalid_data(&[(
                    "excludeBots",
                    format!("`{other}` is neither true nor false"),
                )]))
            }
        };
        let domain = params
            .domain
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty());
        Ok(Self {
            page,
            per_page,
            from: time(&params.start_date, "startDate")?,
            // Shlink's end date is inclusive; kurz's `until` is not: one microsecond later.
            until: time(&params.end_date, "endDate")?
                .map(|end| end + chrono::TimeDelta::microseconds(1)),
            people_only,
            elsewhere: !own_domain(state, domain),
        })
    }

    fn dated(&self) -> bool {
        self.from.is_some() || self.until.is_some()
    }

    /// The total a counter gives (`all` visits of which `bots` by bots), unless dates filter.
    fn counted(&self, all: i64, bots: i64) -> Option<u64> {
        if self.dated() {
            return None;
        }
        let total = if self.people_only { all - bots } else { all };
        Some(u64::try_from(total).unwrap_or(0))
    }
}

/// A numbered list of link visits.
pub struct LinkVisits {
    store: Arc<dyn Store>,
    filter: VisitFilter,
    counted: Option<u64>,
}

/// A numbered list of orphan visits.
pub struct OrphanVisits {
    store: Arc<dyn Store>,
    filter: OrphanFilter,
    counted: Option<u64>,
}

/// Where a visit page starts, as a keyset request: page 1 from the newest, later pages after an
/// id (visit lists read no offset but 0: see [`crate::http::compat::CompatPages`]).
fn keyset(start: PageStart<&i64>, limit: u32) -> Result<PageRequest, StoreError> {
    let after = match start {
        PageStart::Offset(0) => None,
        PageStart::After(id) => Some(Cursor::after(*id)),
        PageStart::Offset(_) => {
            return Err(StoreError::Other(anyhow::anyhow!(
                "a visit list page starts at the newest visit or after one"
            )))
        }
    };
    Ok(PageRequest { after, limit })
}

#[async_trait]
impl NumberedList for LinkVisits {
    type Query = VisitFilter;
    type Key = i64;
    type Epoch = (i64, i64);
    type Item = VisitRecord;

    fn query(&self) -> &VisitFilter {
        &self.filter
    }

    async fn counted(&self) -> Result<Option<u64>, StoreError> {
        Ok(self.counted)
    }

    async fn epoch(&self) -> Result<(i64, i64), StoreError> {
        let epoch = self.store.list_epoch().await?;
        Ok((epoch.link_changes, epoch.visits / VISIT_STALENESS))
    }

    async fn read(
        &self,
        start: PageStart<&i64>,
        limit: u32,
    ) -> Result<Vec<VisitRecord>, StoreError> {
        let page = self
            .store
            .list_visits(self.filter, keyset(start, limit)?)
            .await?;
        Ok(page.items)
    }

    async fn index(&self, every: u32) -> Result<PageIndex<i64>, StoreError> {
        self.store.visit_page_index(self.filter, every).await
    }
}

#[async_trait]
impl NumberedList for OrphanVisits {
    type Query = OrphanFilter;
    type Key = i64;
    type Epoch = i64;
    type Item = OrphanVisitRecord;

    fn query(&self) -> &OrphanFilter {
        &self.filter
    }

    async fn counted(&self) -> Result<Option<u64>, StoreError> {
        Ok(self.counted)
    }

    async fn epoch(&self) -> Result<i64, StoreError> {
        Ok(self.store.orphan_visit_total().await? / VISIT_STALENESS)
    }

    async fn read(
        &self,
        start: PageStart<&i64>,
        limit: u32,
    ) -> Result<Vec<OrphanVisitRecord>, StoreError> {
        let page = self
            .store
            .list_orphan_visits(self.filter, keyset(start, limit)?)
            .await?;
        Ok(page.items)
    }

    async fn index(&self, every: u32) -> Result<PageIndex<i64>, StoreError> {
        self.store.orphan_page_index(self.filter, every).await
    }
}

fn store_problem(error: StoreError) -> ShlinkProblem {
    ShlinkProblem::from_api(error.into())
}

/// A page of link visits, rendered; `link` when they are all one link's.
async fn link_visits(
    state: &AppState,
    asked: &Asked,
    filter: VisitFilter,
    counted: Option<u64>,
    link: Option<&UrlRecord>,
) -> Result<VisitList, ShlinkProblem> {
    let (items, total) = if asked.elsewhere {
        (Vec::new(), 0)
    } else {
        let list = LinkVisits {
            store: state.store.clone(),
            filter,
            counted,
        };
        let page = state
            .compat_pages
            .visits
            .page(&list, asked.page, asked.per_page)
            .await
            .map_err(store_problem)?;
        (page.items, page.total)
    };
    let data = items
        .into_iter()
        .map(|visit| Visit::of_link(&state.public_url, visit, link))
        .collect();
    Ok(VisitList {
        visits: Paged {
            data,
            pagination: Pagination::of(asked.page, Some(u64::from(asked.per_page)), total),
        },
    })
}

fn base_filter(asked: &Asked) -> VisitFilter {
    VisitFilter {
        from: asked.from,
        until: asked.until,
        is_bot: asked.people_only.then_some(false),
        ..VisitFilter::default()
    }
}

fn answer(list: Result<VisitList, ShlinkProblem>) -> Response {
    match list {
        Ok(list) => Json(list).into_response(),
        Err(problem) => problem.into_response(),
    }
}

/// List a short URL's visits.
///
/// Newest first; all of them unless `itemsPerPage` is given (at most
/// `compat.shlink.max_items_per_page` a page).
#[utoipa::path(
    get,
    path = "/short-urls/{shortCode}/visits",
    operation_id = "shlink_short_url_visits",
    tag = "shlink-compat",
    params(("shortCode" = String, Path, description = "The slug"), VisitListParams),
    responses(
        (status = 200, description = "A page of visits", body = VisitList),
        super::ShlinkReadErrors,
    )
)]
#[tracing::instrument(skip_all)]
pub async fn short_url_visits(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(short_code): Path<String>,
    Query(params): Query<VisitListParams>,
) -> Response {
    answer(
        async {
            let caller = caller(&state, &headers, None).await?;
            let asked = Asked::parse(&state, &params)?;
            let link = readable(&state, caller, &short_code).await?;
            let filter = VisitFilter {
                url_id: Some(link.id),
                ..base_filter(&asked)
            };
            let counted = asked.counted(link.visit_count, link.bot_visits);
            link_visits(&state, &asked, filter, counted, Some(&link)).await
        }
        .await,
    )
}

/// List the visits of a tag's short URLs.
///
/// An editor's: of its own short URLs with the tag.
#[utoipa::path(
    get,
    path = "/tags/{tag}/visits",
    operation_id = "shlink_tag_visits",
    tag = "shlink-compat",
    params(("tag" = String, Path, description = "The tag"), VisitListParams),
    responses(
        (status = 200, description = "A page of visits", body = VisitList),
        super::ShlinkReadErrors,
    )
)]
#[tracing::instrument(skip_all)]
pub async fn tag_visits(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(tag): Path<String>,
    Query(params): Query<VisitListParams>,
) -> Response {
    answer(
        async {
            let caller = caller(&state, &headers, None).await?;
            let asked = Asked::parse(&state, &params)?;
            let owner = caller.owner_filter();
            let not_found = || ShlinkProblem::tag_not_found(&tag);
            let name = TagName::parse(&tag, "tag").map_err(|_| not_found())?;
            let record = match state.store.get_tag(&name, owner).await {
                Ok(record) => record,
                Err(StoreError::NotFound) => return Err(not_found()),
                Err(other) => return Err(store_problem(other)),
            };
            let filter = VisitFilter {
                tag_id: Some(record.id),
                owner,
                ..base_filter(&asked)
            };
            let counted = asked.counted(record.visits, record.bot_visits);
            link_visits(&state, &asked, filter, counted, None).await
        }
        .await,
    )
}

/// List the visits of every short URL (`non-orphan`).
///
/// An editor's: of its own short URLs.
#[utoipa::path(
    get,
    path = "/visits/non-orphan",
    operation_id = "shlink_non_orphan_visits",
    tag = "shlink-compat",
    params(VisitListParams),
    responses(
        (status = 200, description = "A page of visits", body = VisitList),
        (status = 400, response = super::ShlinkProblemResponse),
        (status = 401, response = super::ShlinkProblemResponse),
        (status = 500, response = crate::http::api::responses::Internal),
        (status = 503, response = crate::http::api::responses::Unavailable),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn non_orphan_visits(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<VisitListParams>,
) -> Response {
    answer(
        async {
            let caller = caller(&state, &headers, None).await?;
            let asked = Asked::parse(&state, &params)?;
            let owner = caller.owner_filter();
            let filter = VisitFilter {
                owner,
                ..base_filter(&asked)
            };
            // Bots are counted per day in all, not per key: an editor's people-only total, like
            // a dated one, comes from the list's index.
            let counted = if asked.people_only {
                None
            } else {
                let all = state
                    .store
                    .visit_total(owner)
                    .await
                    .map_err(store_problem)?;
                asked.counted(all, 0)
            };
            link_visits(&state, &asked, filter, counted, None).await
        }
        .await,
    )
}

/// List the visits of a domain's short URLs.
///
/// kurz has one domain: `DEFAULT` or kurz's host lists every link visit (an editor's: of its
/// own links), as `non-orphan` does; any other domain is `domain-not-found`.
#[utoipa::path(
    get,
    path = "/domains/{domain}/visits",
    operation_id = "shlink_domain_visits",
    tag = "shlink-compat",
    params(("domain" = String, Path, description = "`DEFAULT` or kurz's host"), VisitListParams),
    responses(
        (status = 200, description = "A page of visits", body = VisitList),
        super::ShlinkReadErrors,
    )
)]
#[tracing::instrument(skip_all)]
pub async fn domain_visits(
    state: State<AppState>,
    headers: HeaderMap,
    Path(domain): Path<String>,
    params: Query<VisitListParams>,
) -> Response {
    if !own_domain(&state, Some(domain.trim())) {
        let refused = async {
            caller(&state, &headers, None).await?;
            Err::<(), _>(ShlinkProblem::domain_not_found(&domain))
        };
        if let Err(problem) = refused.await {
            return problem.into_response();
        }
    }
    non_orphan_visits(state, headers, params).await
}

/// List orphan visits: to the root, unknown or expired short codes, and other paths.
#[utoipa::path(
    get,
    path = "/visits/orphan",
    operation_id = "shlink_orphan_visits",
    tag = "shlink-compat",
    params(VisitListParams, OrphanTypeParam),
    responses(
        (status = 200, description = "A page of orphan visits", body = VisitList),
        (status = 400, response = super::ShlinkProblemResponse),
        (status = 401, response = super::ShlinkProblemResponse),
        (status = 403, response = super::ShlinkProblemResponse),
        (status = 500, response = crate::http::api::responses::Internal),
        (status = 503, response = crate::http::api::responses::Unavailable),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn orphan_visits(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<VisitListParams>,
    Query(orphans): Query<OrphanTypeParam>,
) -> Response {
    answer(
        async {
            let caller = caller(&state, &headers, None).await?;
            caller
                .require_site_wide()
                .map_err(ShlinkProblem::from_api)?;
            let asked = Asked::parse(&state, &params)?;
            let kinds: &'static [OrphanKind] = match orphans
                .kind
                .as_deref()
                .map(str::trim)
                .filter(|k| !k.is_empty())
            {
                None => &[],
                Some("invalid_short_url") => &[OrphanKind::InvalidSlug, OrphanKind::Expired],
                Some("base_url") => OrphanKind::BaseUrl.alone(),
                Some("regular_404") => OrphanKind::Regular404.alone(),
                Some(other) => {
                    return Err(ShlinkProblem::invalid_data(&[(
                        "type",
                        format!("`{other}` is none of base_url, invalid_short_url, regular_404"),
                    )]))
                }
            };
            let filter = OrphanFilter {
                kinds,
                from: asked.from,
                until: asked.until,
                is_bot: asked.people_only.then_some(false),
            };
            let counted = if kinds.is_empty() && !asked.people_only {
                let all = state
                    .store
                    .orphan_visit_total()
                    .await
                    .map_err(store_problem)?;
                asked.counted(all, 0)
            } else {
                None
            };
            let (items, total) = if asked.elsewhere {
                (Vec::new(), 0)
            } else {
                let list = OrphanVisits {
                    store: state.store.clone(),
                    filter,
                    counted,
                };
                let page = state
                    .compat_pages
                    .orphans
                    .page(&list, asked.page, asked.per_page)
                    .await
                    .map_err(store_problem)?;
                (page.items, page.total)
            };
            let data = items
                .into_iter()
                .map(|visit| Visit::of_orphan(&state.public_url, visit))
                .collect();
            Ok(VisitList {
                visits: Paged {
                    data,
                    pagination: Pagination::of(asked.page, Some(u64::from(asked.per_page)), total),
                },
            })
        }
        .await,
    )
}
