//! Shlink's visits overview (`GET /visits`): how many link visits and orphan visits are
//! stored, people and bots apart, read from the counters the visit writer keeps, never counted
//! over the visits.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::caller;
use super::problem::ShlinkProblem;
use super::views::VisitsSummary;
use crate::http::state::AppState;

/// The overview's body.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ShlinkVisitsOverview)]
pub struct Overview {
    pub visits: VisitsStats,
}

/// Link visits and orphan visits.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ShlinkVisitsStats)]
pub struct VisitsStats {
    pub non_orphan_visits: VisitsSummary,
    pub orphan_visits: VisitsSummary,
}

/// Every answer of the overview.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum OverviewResponses {
    /// The totals.
    #[response(status = 200)]
    Ok(#[to_schema] Overview),
    /// `missing-authentication` or `invalid-api-key`.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(#[to_schema] super::ShlinkProblemDoc),
    /// The Shlink API is turned off.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(#[to_schema] super::ShlinkProblemDoc),
    #[response(status = 500)]
    Internal(#[ref_response] crate::http::api::responses::Internal),
    #[response(status = 503)]
    Unavailable(#[ref_response] crate::http::api::responses::Unavailable),
}

/// Get the visits overview.
///
/// All stored link visits and orphan visits, with their bots apart. An editor's key counts
/// its own links' visits, and no orphan visits (they are no one's), as Shlink counts for a
/// key limited to its own short URLs.
#[utoipa::path(
    get,
    path = "/visits",
    operation_id = "shlink_visits_overview",
    tag = "shlink-compat",
    responses(OverviewResponses)
)]
#[tracing::instrument(skip_all)]
pub async fn overview(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let totals = async {
        let caller = caller(&state, &headers, None).await?;
        state
            .store
            .visit_totals(caller.owner_filter())
            .await
            .map_err(|e| ShlinkProblem::from_api(e.into()))
    };
    match totals.await {
        Ok(totals) => Json(Overview {
            visits: VisitsStats {
                non_orphan_visits: VisitsSummary::of(totals.visits, totals.bot_visits),
                orphan_visits: VisitsSummary::of(totals.orphan_visits, totals.orphan_bot_visits),
            },
        })
        .into_response(),
        Err(problem) => problem.into_response(),
    }
}
