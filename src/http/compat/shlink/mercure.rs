//! `GET /mercure-info`: Shlink's clients ask where its Mercure hub is before subscribing to
//! real-time updates. kurz has none (its live visit streams are its own, on `/api`), so it
//! answers Shlink's `mercure-not-configured`, and the clients do without.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::caller;
use super::problem::ShlinkProblem;
use crate::http::state::AppState;

/// Get the Mercure hub's details.
///
/// Always 501 `mercure-not-configured` (with a valid key): kurz has no Mercure hub.
#[utoipa::path(
    get,
    path = "/mercure-info",
    operation_id = "shlink_mercure_info",
    tag = "shlink-compat",
    responses(
        (status = 401, response = super::ShlinkProblemResponse),
        (status = 404, response = super::ShlinkProblemResponse),
        (status = 500, response = crate::http::api::responses::Internal),
        (status = 501, response = super::ShlinkProblemResponse),
        (status = 503, response = crate::http::api::responses::Unavailable),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn mercure_info(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match caller(&state, &headers, None).await {
        Ok(_) => ShlinkProblem::mercure_not_configured().into_response(),
        Err(problem) => problem.into_response(),
    }
}
