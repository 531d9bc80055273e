//! `GET /api/urls/{slug}/stats` and `GET /api/tags/{name}/stats`: totals, a per-day series
//! and the top browsers, operating systems, device types and referrer hosts, read from the
//! rollups of one link or of every link carrying a tag.

use axum::extract::State;
use axum::Json;
use chrono::{Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{QueryParams, SlugPath};
use super::responses;
use super::urls::not_found;
use crate::domain::OrphanKind;
use crate::domain::{parse_day, Invalid};
use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::store::{GlobalStats, StatsOf, StatsQuery, UrlStats, ValueCount};

/// Days shown when `from` is not given.
const DEFAULT_DAYS: u64 = 30;
/// The longest range one request may ask for.
const MAX_DAYS: i64 = 3660;
const DEFAULT_TOP: u32 = 10;
const MAX_TOP: u32 = 100;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// First day, `YYYY-MM-DD` (UTC); default 29 days before `to`.
    #[param(format = Date)]
    pub from: Option<String>,
    /// Last day, inclusive; default today (UTC). The range may span at most 3660 days.
    #[param(format = Date)]
    pub to: Option<String>,
    /// Count bot visits too (default false).
    #[serde(default)]
    pub bots: bool,
    /// Values per breakdown (default 10, at most 100).
    #[param(minimum = 1, maximum = 100)]
    pub top: Option<u32>,
}

/// The statistics resource of a link (`slug`) or of a tag (`tag`): the same fields after the
/// subject, declared once here for both (the OpenAPI document shows each whole).
macro_rules! stats_view {
    ($(#[$doc:meta])* $name:ident, $subject:ident) => {
        $(#[$doc])*
        #[derive(Debug, Serialize, ToSchema)]
        pub struct $name {
            pub $subject: String,
            pub from: NaiveDate,
            pub to: NaiveDate,
            /// Whether `total_visits`, `days` and the breakdowns count bots.
            pub bots_included: bool,
            pub total_visits: i64,
            /// The bots' share, whether or not `total_visits` includes them.
            pub bot_visits: i64,
            /// Every day of the range, zeros included.
            pub days: Vec<DayView>,
            pub browsers: Vec<CountView>,
            pub os: Vec<CountView>,
            pub devices: Vec<CountView>,
            pub referrer_hosts: Vec<CountView>,
            /// Visits each redirect rule sent (by its index in the link's `rules`), for the
            /// rules that sent any; the link's own target had the rest. Always empty for a tag
            /// (a rule belongs to one link).
            pub rules: Vec<RuleCountView>,
        }

        impl $name {
            pub(super) fn new($subject: String, range: &StatsRange, stats: UrlStats) -> Self {
                let counts = |values: Vec<ValueCount>| {
                    values
                        .into_iter()
                        .map(|c| CountView {
                            value: c.value,
                            visits: c.visits,
                        })
                        .collect()
                };
                Self {
                    $subject,
                    from: range.from,
                    to: range.to,
                    bots_included: range.bots,
                    total_visits: stats.visits,
                    bot_visits: stats.bot_visits,
                    days: stats
                        .days
                        .into_iter()
                        .map(|d| DayView {
                            day: d.day,
                            visits: d.visits,
                        })
                        .collect(),
                    browsers: counts(stats.browsers),
                    os: counts(stats.os),
                    devices: counts(stats.devices),
                    referrer_hosts: counts(stats.referrer_hosts),
                    rules: stats
                        .rules
                        .into_iter()
                        .map(|r| RuleCountView {
                            rule: r.rule,
                            visits: r.visits,
                        })
                        .collect(),
                }
            }
        }
    };
}

stats_view!(
    /// Statistics of one short link over a range of days, read from the daily rollups.
    StatsView,
    slug
);

stats_view!(
    /// Statistics of the short links carrying a tag (an editor's own only) over a range of
    /// days, read from their daily rollups: the fields of a link's, with `tag` for `slug`.
    TagStatsView,
    tag
);

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleCountView {
    #[schema(minimum = 0)]
    pub rule: i16,
    pub visits: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DayView {
    pub day: NaiveDate,
    pub visits: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CountView {
    /// `null` stands for unknown (no user agent match, no referrer).
    #[schema(required = true)]
    pub value: Option<String>,
    pub visits: i64,
}

/// Statistics of one short link.
///
/// Totals, a per-day series and the top browsers, operating systems, device types and
/// referrer hosts over a range of days (UTC). 422 also when the range is empty or too long.
#[utoipa::path(
    get,
    path = "/urls/{slug}/stats",
    operation_id = "get_url_stats",
    tag = "stats",
    params(
        ("slug" = String, Path, description = "The short link's slug (case-sensitive)"),
        StatsParams
    ),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The statistics",
            body = StatsView, content_type = "application/json"),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 422, response = responses::ValidationFailed),
        (status = 500, response = responses::Internal),
        (status = 503, response = responses::Unavailable),
    )
)]
pub async fn show(
    caller: Caller,
    State(state): State<AppState>,
    SlugPath(slug): SlugPath,
    QueryParams(params): QueryParams<StatsParams>,
) -> Result<Json<StatsView>, ApiError> {
    let range = StatsRange::of(&params)?;
    let url = state.store.get_url(&slug).await.map_err(not_found)?;
    caller.require_read_url(&url)?;
    let stats = range.read(&state, StatsOf::Url(url.id)).await?;
    Ok(Json(StatsView::new(slug.to_string(), &range, stats)))
}

/// The query of `GET /api/visits/stats`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SiteStatsParams {
    /// First day, `YYYY-MM-DD` (UTC); default 29 days before `to`.
    #[param(format = Date)]
    pub from: Option<String>,
    /// Last day, inclusive; default today (UTC). The range may span at most 3660 days.
    #[param(format = Date)]
    pub to: Option<String>,
    /// Count bot visits too (default false).
    #[serde(default)]
    pub bots: bool,
}

/// Visits of every link and orphan visits over a range of days, with what is stored in all.
#[derive(Debug, Serialize, ToSchema)]
pub struct SiteStatsView {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Whether the counts of the range count bots.
    pub bots_included: bool,
    /// Visits of links in the range.
    pub visits: i64,
    /// The bots' share of `visits`, whether or not `visits` includes them.
    pub bot_visits: i64,
    /// Orphan visits in the range.
    pub orphan_visits: i64,
    /// The bots' share of `orphan_visits`, whether or not it includes them.
    pub orphan_bot_visits: i64,
    /// Orphan visits in the range by type, every type listed.
    pub orphan_types: Vec<OrphanTypeCount>,
    /// Every day of the range, zeros included.
    pub days: Vec<SiteDayView>,
    /// Everything stored, bots included, whatever the range: link visits and orphan visits.
    pub stored: StoredTotals,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrphanTypeCount {
    #[serde(rename = "type")]
    pub kind: OrphanKind,
    pub visits: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SiteDayView {
    pub day: NaiveDate,
    pub visits: i64,
    pub orphan_visits: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StoredTotals {
    pub visits: i64,
    pub orphan_visits: i64,
}

/// Statistics of the whole site.
///
/// Visits of every link and orphan visits per day over a range of days (UTC), orphan visits
/// by type, and the totals stored. Read from per-day totals the visit writer keeps, never from
/// the visits. Admins and viewers only. 422 when the range is empty or too long.
#[utoipa::path(
    get,
    path = "/visits/stats",
    operation_id = "get_site_stats",
    tag = "stats",
    params(SiteStatsParams),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The statistics",
            body = SiteStatsView, content_type = "application/json"),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 422, response = responses::ValidationFailed),
        (status = 500, response = responses::Internal),
        (status = 503, response = responses::Unavailable),
    )
)]
pub async fn site(
    caller: Caller,
    State(state): State<AppState>,
    QueryParams(params): QueryParams<SiteStatsParams>,
) -> Result<Json<SiteStatsView>, ApiError> {
    caller.require_site_wide()?;
    let range = StatsRange::of(&StatsParams {
        from: params.from,
        to: params.to,
        bots: params.bots,
        top: None,
    })?;
    let stats: GlobalStats = state
        .store
        .global_stats(range.from, range.to, range.bots)
        .await?;
    let stored = StoredTotals {
        visits: state.store.visit_total(None).await?,
        orphan_visits: state.store.orphan_visit_total().await?,
    };
    Ok(Json(SiteStatsView {
        from: range.from,
        to: range.to,
        bots_included: range.bots,
        visits: stats.visits,
        bot_visits: stats.bot_visits,
        orphan_visits: stats.orphan_visits,
        orphan_bot_visits: stats.orphan_bot_visits,
        orphan_types: stats
            .orphan_types
            .into_iter()
            .map(|(kind, visits)| OrphanTypeCount { kind, visits })
            .collect(),
        days: stats
            .days
            .into_iter()
            .map(|d| SiteDayView {
                day: d.day,
                visits: d.visits,
                orphan_visits: d.orphan_visits,
            })
            .collect(),
        stored,
    }))
}

/// The days, bots and breakdown size a statistics request asks for, checked.
pub(super) struct StatsRange {
    from: NaiveDate,
    to: NaiveDate,
    bots: bool,
    top: u32,
}

impl StatsRange {
    pub(super) fn of(params: &StatsParams) -> Result<Self, Invalid> {
        let to = match params.to.as_deref() {
            Some(value) => parse_day("to", value)?,
            None => Utc::now().date_naive(),
        };
        let from = match params.from.as_deref() {
            Some(value) => parse_day("from", value)?,
            None => to
                .checked_sub_days(Days::new(DEFAULT_DAYS - 1))
                .unwrap_or(NaiveDate::MIN),
        };
        if from > to {
            return Err(Invalid::new("from", "must not be after `to`"));
        }
        if (to - from).num_days() >= MAX_DAYS {
            return Err(Invalid::new(
                "from",
                format!("the range may span at most {MAX_DAYS} days"),
            ));
        }
        let top = match params.top {
            None => DEFAULT_TOP,
            Some(n) if (1..=MAX_TOP).contains(&n) => n,
            Some(_) => {
                return Err(Invalid::new(
                    "top",
                    format!("must be between 1 and {MAX_TOP}"),
                ))
            }
        };
        Ok(Self {
            from,
            to,
            bots: params.bots,
            top,
        })
    }

    /// The statistics of `of` over this range, from the store.
    pub(super) async fn read(&self, state: &AppState, of: StatsOf) -> Result<UrlStats, ApiError> {
        let stats = state
            .store
            .url_stats(StatsQuery {
                of,
                from: self.from,
                to: self.to,
                include_bots: self.bots,
                top: self.top,
            })
            .await?;
        Ok(stats)
    }
}
