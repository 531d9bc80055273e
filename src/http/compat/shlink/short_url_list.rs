//! Shlink's short URL list, `GET /short-urls`, with all its parameters, served by page number
//! over kurz's links (`crate::http::compat::paging`): totals from counters where one applies,
//! later pages after a key of the list's page index.

use std::sync::Arc;

use async_trait::async_trait;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::body::parse_time;
use super::caller;
use super::pagination::{Paged, Pagination};
use super::problem::ShlinkProblem;
use super::views::ShortUrl;
use crate::domain::{Role, TagName};
use crate::http::compat::paging::NumberedList;
use crate::http::state::AppState;
use crate::store::{
    LinkKey, LinkOrder, LinkOrderField, LinkQuery, ListEpoch, PageIndex, PageStart, Store,
    StoreError, TagFilter, UrlRecord,
};

/// Shlink's page size when `itemsPerPage` is absent.
const DEFAULT_ITEMS_PER_PAGE: u32 = 10;

/// Clicks an order by visits may lag behind: its page index is rebuilt once the visits in all
/// moved by this many, not on every click.
const VISIT_ORDER_STALENESS: i64 = 1000;

/// Query parameters of `GET /short-urls`, as documented (the handler reads the raw query,
/// where `tags[]` and `excludeTags[]` repeat).
#[derive(Debug, Deserialize, IntoParams)]
#[allow(dead_code)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ListParams {
    /// The page, from 1.
    #[param(example = 1)]
    pub page: Option<String>,
    /// Short URLs per page (10 when absent); `-1` for all, up to
    /// `compat.shlink.max_items_per_page`.
    #[param(example = 10)]
    pub items_per_page: Option<String>,
    /// Only short URLs whose short code, long URL, title or a tag contains this (any case).
    pub search_term: Option<String>,
    /// Only short URLs with these tags (`tags[]=a&tags[]=b`).
    #[serde(rename = "tags[]", default)]
    #[param(rename = "tags[]", style = Form, explode, example = json!(["launch"]))]
    pub tags: Vec<String>,
    /// `any` (default) or `all` of `tags[]`.
    #[param(example = "any")]
    pub tags_mode: Option<String>,
    /// Leave out short URLs with these tags.
    #[serde(rename = "excludeTags[]", default)]
    #[param(rename = "excludeTags[]", style = Form, explode, example = json!(["old"]))]
    pub exclude_tags: Vec<String>,
    /// `any` (default) or `all` of `excludeTags[]`.
    pub exclude_tags_mode: Option<String>,
    /// `dateCreated`, `shortCode`, `longUrl`, `title`, `visits` or `nonBotVisits`, then `-ASC`
    /// or `-DESC`; newest first when absent.
    #[param(example = "dateCreated-DESC")]
    pub order_by: Option<String>,
    /// Only short URLs created at or after this ISO 8601 time.
    pub start_date: Option<String>,
    /// Only short URLs created at or before this ISO 8601 time.
    pub end_date: Option<String>,
    /// `true`: leave out short URLs whose visit cap is reached.
    pub exclude_max_visits_reached: Option<String>,
    /// `true`: leave out short URLs whose `validUntil` has passed.
    pub exclude_past_valid_until: Option<String>,
    /// `DEFAULT` or kurz's host; any other domain lists nothing.
    pub domain: Option<String>,
    /// Only the short URLs of the API key with this name (admins only; ignored for others).
    pub api_key_name: Option<String>,
}

/// `{"shortUrls": {"data": [...], "pagination": {...}}}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ShlinkShortUrlList)]
pub struct ShortUrlList {
    pub short_urls: Paged<ShortUrl>,
}

/// The raw query's parameters, lists gathered.
#[derive(Debug, Default)]
struct RawParams {
    single: Vec<(String, String)>,
    tags: Vec<String>,
    exclude_tags: Vec<String>,
}

impl RawParams {
    fn parse(query: &str) -> Self {
        let mut params = Self::default();
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            if name == "tags" || name.starts_with("tags[") {
                params.tags.push(value.into_owned());
            } else if name == "excludeTags" || name.starts_with("excludeTags[") {
                params.exclude_tags.push(value.into_owned());
            } else {
                params.single.push((name.into_owned(), value.into_owned()));
            }
        }
        params
    }

    /// The last value of a parameter, trimmed; `None` when absent or empty.
    fn get(&self, name: &str) -> Option<&str> {
        self.single
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    fn flag(&self, name: &'static str) -> Result<bool, ShlinkProblem> {
        match self.get(name) {
            None | Some("false") | Some("0") => Ok(false),
            Some("true") | Some("1") => Ok(true),
            Some(other) => Err(ShlinkProblem::invalid_data(&[(
                name,
                format!("`{other}` is neither true nor false"),
            )])),
        }
    }

    fn time(&self, name: &'static str) -> Result<Option<DateTime<Utc>>, ShlinkProblem> {
        self.get(name).map(|v| parse_time(v, name)).transpose()
    }

    fn tags(
        names: &[String],
        mode: Option<&str>,
        field: &'static str,
        mode_field: &'static str,
    ) -> Result<Option<TagFilter>, ShlinkProblem> {
        let all = match mode {
            None | Some("any") => false,
            Some("all") => true,
            Some(other) => {
                return Err(ShlinkProblem::invalid_data(&[(
                    mode_field,
                    format!("`{other}` is neither any nor all"),
                )]))
            }
        };
        let mut parsed: Vec<TagName> = Vec::new();
        for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
            let tag = TagName::parse(name, field)
                .map_err(|e| ShlinkProblem::invalid_data(&[(field, e.to_string())]))?;
            if !parsed.contains(&tag) {
                parsed.push(tag);
            }
        }
        if parsed.is_empty() {
            return Ok(None);
        }
        parsed.sort();
        Ok(Some(TagFilter { names: parsed, all }))
    }
}

/// `orderBy`: a field and `-ASC` or `-DESC` (Shlink's `OrderableField`).
fn parse_order(value: Option<&str>) -> Result<LinkOrder, ShlinkProblem> {
    let Some(value) = value else {
        return Ok(LinkOrder {
            field: LinkOrderField::Created,
            descending: true,
        });
    };
    let (field, dir) = value.rsplit_once('-').unwrap_or((value, "ASC"));
    let field = match field {
        "dateCreated" => LinkOrderField::Created,
        "shortCode" => LinkOrderField::Slug,
        "longUrl" => LinkOrderField::Target,
        "title" => LinkOrderField::Title,
        "visits" => LinkOrderField::Visits,
        "nonBotVisits" => LinkOrderField::HumanVisits,
        _ => return Err(ShlinkProblem::invalid_data(&[(
            "orderBy",
            "dateCreated, shortCode, longUrl, title, visits or nonBotVisits, then -ASC or -DESC"
                .into(),
        )])),
    };
    let descending = match dir.to_ascii_uppercase().as_str() {
        "ASC" => false,
        "DESC" => true,
        _ => {
            return Err(ShlinkProblem::invalid_data(&[(
                "orderBy",
                "the direction is -ASC or -DESC".into(),
            )]))
        }
    };
    Ok(LinkOrder { field, descending })
}

/// A numbered list of links for one caller.
pub struct LinkList {
    store: Arc<dyn Store>,
    query: LinkQuery,
}

impl LinkList {
    /// Whether only the owner (or nothing) filters the list, so a counter holds its total.
    fn unfiltered(&self) -> bool {
        let q = &self.query;
        q.search.is_none()
            && q.exclude_tags.is_none()
            && q.created_from.is_none()
            && q.created_until.is_none()
            && !q.exclude_exhausted
            && q.exclude_expired_at.is_none()
    }
}

#[async_trait]
impl NumberedList for LinkList {
    type Query = LinkQuery;
    type Key = LinkKey;
    type Epoch = ListEpoch;
    type Item = UrlRecord;

    fn query(&self) -> &LinkQuery {
        &self.query
    }

    async fn counted(&self) -> Result<Option<u64>, StoreError> {
        if !self.unfiltered() {
            return Ok(None);
        }
        let total = match (&self.query.tags, self.query.owner) {
            (None, owner) => self.store.link_total(owner).await?,
            // One tag: its link counter.
            (Some(tags), None) if tags.names.len() == 1 => {
                match self.store.get_tag(&tags.names[0], None).await {
                    Ok(tag) => tag.links,
                    Err(StoreError::NotFound) => 0,
                    Err(other) => return Err(other),
                }
            }
            _ => return Ok(None),
        };
        Ok(Some(u64::try_from(total).unwrap_or(0)))
    }

    async fn epoch(&self) -> Result<ListEpoch, StoreError> {
        let mut epoch = self.store.list_epoch().await?;
        epoch.visits = if self.query.order.field.moved_by_visits() || self.query.exclude_exhausted {
            epoch.visits / VISIT_ORDER_STALENESS
        } else {
            0
        };
        Ok(epoch)
    }

    async fn read(
        &self,
        start: PageStart<&LinkKey>,
        limit: u32,
    ) -> Result<Vec<UrlRecord>, StoreError> {
        self.store.list_links(&self.query, start, limit).await
    }

    async fn index(&self, every: u32) -> Result<PageIndex<LinkKey>, StoreError> {
        self.store.link_page_index(&self.query, every).await
    }
}

/// Whether `domain` names kurz's one domain (or none).
pub(super) fn own_domain(state: &AppState, domain: Option<&str>) -> bool {
    let Some(domain) = domain.map(str::trim).filter(|d| !d.is_empty()) else {
        return true;
    };
    let own = url::Url::parse(&state.public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    // The host, or the authority `GET /domains` names (with its port, when it has one).
    domain.eq_ignore_ascii_case("DEFAULT")
        || domain.eq_ignore_ascii_case(&own)
        || domain.eq_ignore_ascii_case(&super::domains::own_authority(&state.public_url))
}

/// List short URLs.
///
/// Shlink's `GET /rest/v3/short-urls`: the short URLs this key sees (an editor: its own),
/// filtered and ordered as asked, by page number, with Shlink's pagination object. Totals come
/// from counters when only the key or one tag filters the list; otherwise from the list's page
/// index, built in one pass and kept while no link, tag or (for visit orders) a thousand visits
/// changed. Pages after the first thousand rows start after a key of that index, so a deep page
/// costs what the first does.
#[utoipa::path(
    get,
    path = "/short-urls",
    operation_id = "shlink_list_short_urls",
    tag = "shlink-compat",
    params(ListParams),
    responses(
        (status = 200, description = "A page of short URLs", body = ShortUrlList),
        super::ShlinkReadErrors,
    )
)]
#[tracing::instrument(skip_all)]
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    match listed(&state, &headers, query.as_deref().unwrap_or_default()).await {
        Ok(list) => Json(list).into_response(),
        Err(problem) => problem.into_response(),
    }
}

async fn listed(
    state: &AppState,
    headers: &HeaderMap,
    query: &str,
) -> Result<ShortUrlList, ShlinkProblem> {
    let caller = caller(state, headers, None).await?;
    let raw = RawParams::parse(query);
    let (page, per_page) = super::pagination::parse(raw.get("page"), raw.get("itemsPerPage"))?;
    let limit = state.settings.compat.shlink.max_items_per_page;
    let per_page = match (per_page, raw.get("itemsPerPage")) {
        (Some(n), _) => u32::try_from(n).unwrap_or(u32::MAX).min(limit),
        (None, Some(_)) => limit,
        (None, None) => DEFAULT_ITEMS_PER_PAGE.min(limit),
    };
    let now = Utc::now()
        .duration_trunc(TimeDelta::minutes(1))
        .unwrap_or_else(|_| Utc::now());
    let mut list = LinkQuery {
        owner: caller.owner_filter(),
        search: raw.get("searchTerm").map(str::to_lowercase),
        tags: RawParams::tags(&raw.tags, raw.get("tagsMode"), "tags", "tagsMode")?,
        exclude_tags: RawParams::tags(
            &raw.exclude_tags,
            raw.get("excludeTagsMode"),
            "excludeTags",
            "excludeTagsMode",
        )?,
        created_from: raw.time("startDate")?,
        created_until: raw.time("endDate")?,
        exclude_exhausted: raw.flag("excludeMaxVisitsReached")?,
        exclude_expired_at: raw.flag("excludePastValidUntil")?.then_some(now),
        order: parse_order(raw.get("orderBy"))?,
    };
    let mut nothing = !own_domain(state, raw.get("domain"));
    if let (Some(name), Role::Admin) = (raw.get("apiKeyName"), caller.role()) {
        let keys = state
            .store
            .list_api_keys()
            .await
            .map_err(|e| ShlinkProblem::from_api(e.into()))?;
        match keys.iter().find(|key| key.name == name) {
            Some(key) => list.owner = Some(key.id),
            None => nothing = true,
        }
    }
    let (items, total) = if nothing {
        (Vec::new(), 0)
    } else {
        let numbered = LinkList {
            store: state.store.clone(),
            query: list,
        };
        let found = state
            .compat_pages
            .links
            .page(&numbered, page, per_page)
            .await
            .map_err(|e| ShlinkProblem::from_api(e.into()))?;
        (found.items, found.total)
    };
    let pagination = Pagination::of(page, Some(u64::from(per_page)), total);
    let data = items
        .into_iter()
        .map(|record| ShortUrl::new(&state.public_url, record))
        .collect();
    Ok(ShortUrlList {
        short_urls: Paged { data, pagination },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_read_as_shlink_writes_them() {
        let order = parse_order(Some("nonBotVisits-DESC")).unwrap();
        assert_eq!(order.field, LinkOrderField::HumanVisits);
        assert!(order.descending);
        let order = parse_order(Some("shortCode-ASC")).unwrap();
        assert_eq!(order.field, LinkOrderField::Slug);
        assert!(!order.descending);
        assert!(parse_order(Some("clicks-DESC")).is_err());
        assert!(parse_order(Some("title-SIDEWAYS")).is_err());
        assert!(parse_order(None).unwrap().descending);
    }

    #[test]
    fn repeated_tags_are_gathered_once_each() {
        let raw = RawParams::parse("tags[]=b&tags[]=a&tags[]=b&tagsMode=all&page=2");
        let tags = RawParams::tags(&raw.tags, raw.get("tagsMode"), "tags", "tagsMode")
            .unwrap()
            .unwrap();
        assert_eq!(tags.names.len(), 2);
        assert!(tags.all);
        assert_eq!(raw.get("page"), Some("2"));
        assert!(RawParams::tags(&raw.tags, Some("most"), "tags", "tagsMode").is_err());
        assert!(RawParams::parse("excludeMaxVisitsReached=maybe")
            .flag("excludeMaxVisitsReached")
            .is_err());
    }
}
