//! Orphan visits, `GET /api/visits/orphan`: clicks that reached no link, newest first,
//! filtered by type, time range and bot flag. For admins and viewers.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::QueryParams;
use super::pagination::{filtered_page_view, page_request, PageView};
use super::responses;
use super::visits::Instant;
use crate::domain::{parse_end, parse_start, OrphanKind};
use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::store::{OrphanFilter, OrphanVisitRecord};

/// The query of `GET /api/visits/orphan`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrphanParams {
    /// Only orphan visits of this type.
    #[serde(rename = "type")]
    #[param(inline)]
    pub kind: Option<OrphanKind>,
    /// Visits at or after this day or RFC 3339 time.
    #[param(inline)]
    pub from: Option<Instant>,
    /// Visits before this RFC 3339 time, or up to the end of this day.
    #[param(inline)]
    pub to: Option<Instant>,
    /// `true`: only bots; `false`: only people; absent: everyone. (`bots` is taken too.)
    #[serde(alias = "bots")]
    pub bot: Option<bool>,
    /// Items per page (default `pagination.default_limit`, capped at `pagination.max_limit`).
    #[param(minimum = 1)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// An orphan visit: a click that reached no link.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrphanVisitView {
    pub id: i64,
    /// What was asked for: `invalid_slug` (no link has the slug, or its `valid_since` is
    /// ahead), `expired` (past `valid_until` or `max_visits`), `base_url` (`/`) or
    /// `regular_404` (any other path that matches nothing).
    #[serde(rename = "type")]
    pub kind: OrphanKind,
    /// The path asked for, as sent, without the query.
    pub path: String,
    pub visited_at: DateTime<Utc>,
    /// The client's IP address, anonymised unless `enrichment.anonymize_ips` is off.
    #[schema(required = true)]
    pub client_ip: Option<String>,
    #[schema(required = true)]
    pub user_agent: Option<String>,
    #[schema(required = true)]
    pub referrer: Option<String>,
    #[schema(required = true)]
    pub referrer_host: Option<String>,
    #[schema(required = true)]
    pub browser: Option<String>,
    #[schema(required = true)]
    pub os: Option<String>,
    /// `desktop`, `mobile`, `tablet`, `bot` or `other`.
    #[schema(required = true)]
    pub device: Option<String>,
    pub is_bot: bool,
}

impl From<OrphanVisitRecord> for OrphanVisitView {
    fn from(record: OrphanVisitRecord) -> Self {
        Self {
            id: record.id,
            kind: record.kind,
            path: record.path,
            visited_at: record.visited_at,
            client_ip: record.client_ip,
            user_agent: record.user_agent,
            referrer: record.referrer,
            referrer_host: record.referrer_host,
            browser: record.browser,
            os: record.os,
            device: record.device,
            is_bot: record.is_bot,
        }
    }
}

/// List orphan visits, newest first.
///
/// Clicks that reached no link, recorded while `visits.track_orphans` is on. Keyset-paginated
/// like `GET /api/visits`; the `next` link repeats the filters given. Admins and viewers only.
#[utoipa::path(
    get,
    path = "/visits/orphan",
    operation_id = "list_orphan_visits",
    tag = "visits",
    params(OrphanParams),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "One page of orphan visits",
            body = PageView<OrphanVisitView>, content_type = "application/json"),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 422, response = responses::ValidationFailed),
        (status = 500, response = responses::Internal),
        (status = 503, response = responses::Unavailable),
    )
)]
pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    QueryParams(params): QueryParams<OrphanParams>,
) -> Result<Json<PageView<OrphanVisitView>>, ApiError> {
    caller.require_site_wide()?;
    let request = page_request(
        params.limit,
        params.cursor.as_deref(),
        &state.settings.pagination,
    )?;
    let filter = OrphanFilter {
        kind: params.kind,
        from: params
            .from
            .as_ref()
            .map(|v| parse_start("from", &v.0))
            .transpose()?,
        until: params
            .to
            .as_ref()
            .map(|v| parse_end("to", &v.0))
            .transpose()?,
        is_bot: params.bot,
    };
    let page = state.store.list_orphan_visits(filter, request).await?;
    let base = format!("{}/api/visits/orphan", state.public_url);
    let limit = request.limit.to_string();
    let bot = params.bot.map(|b| b.to_string());
    let given = [
        ("type", params.kind.map(OrphanKind::as_str)),
        ("from", params.from.as_ref().map(|v| v.0.as_str())),
        ("to", params.to.as_ref().map(|v| v.0.as_str())),
        ("bot", bot.as_deref()),
        ("limit", Some(limit.as_str())),
    ];
    Ok(Json(filtered_page_view(
        page,
        OrphanVisitView::from,
        &base,
        &given,
    )))
}
