//! The JSON REST API under `/api`, one file per resource.

mod extract;
pub mod openapi;
mod pagination;
pub mod responses;
mod stats;
mod urls;
mod views;
mod visits;

use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

pub use extract::{JsonBody, QueryParams, SlugPath};
pub(crate) use urls::not_found as url_not_found;
pub use views::{UrlView, VisitView};

use crate::error::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/openapi.json", get(openapi::serve))
        .route("/urls", get(urls::list).post(urls::create))
        .route("/urls/search", get(urls::search))
        .route(
            "/urls/{slug}",
            get(urls::show).patch(urls::update).delete(urls::remove),
        )
        .route("/urls/{slug}/visits", get(visits::list_for_url))
        .route("/urls/{slug}/visits/live", get(crate::live::url_visits))
        .route("/urls/{slug}/stats", get(stats::show))
        .route("/visits", get(visits::list))
        .route("/visits/live", get(crate::live::all_visits))
        .fallback(not_found)
}

/// Links to the API's collections.
#[utoipa::path(
    get,
    path = "/api",
    operation_id = "api_index",
    tag = "site",
    responses(
        (status = 200, description = "Links to the collections", body = openapi::ApiIndex,
            content_type = "application/json"),
        (status = 503, response = responses::Unavailable),
    )
)]
async fn index(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Json<serde_json::Value> {
    let base = &state.public_url;
    Json(json!({
        "urls": format!("{base}/api/urls"),
        "visits": format!("{base}/api/visits"),
    }))
}

async fn not_found() -> ApiError {
    ApiError::not_found("no API endpoint at this path")
}
