//! Orphan visits, `GET /api/visits/orphan`: clicks that reached no link, newest first,
//! filtered by type, time range and bot flag. For admins and viewers.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use super::extract::QueryParams;
use super::pagination::{filtered_page_view, page_request, PageView};
use super::responses;
use super::visits::Instant;
use crate::domain::{parse_end, parse_start, OrphanKind};
use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::store::OrphanFilter;
use crate::views::OrphanVisitView;

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
        kinds: params.kind.map_or(&[], OrphanKind::alone),
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
