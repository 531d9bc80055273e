//! The JSON REST API under `/api`, one file per resource.

pub(crate) mod extract;
pub mod live;
pub mod openapi;
mod orphans;
mod pagination;
pub mod responses;
mod stats;
mod tags;
mod urls;
mod views;
mod visits;
mod webhooks;

use axum::Json;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use extract::{JsonBody, QueryParams, SlugPath};
pub(crate) use urls::not_found as url_not_found;
pub(crate) use urls::present;
pub use views::{UrlView, VisitView};

use crate::http::error::ApiError;
use crate::http::state::AppState;

/// The API's routes, relative to `/api`, each registered with its OpenAPI operation, so none
/// can be served undocumented. (`routes!` takes the handlers of one path.)
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(index))
        .routes(routes!(openapi::serve))
        .routes(routes!(urls::list, urls::create))
        .routes(routes!(urls::search))
        .routes(routes!(urls::show, urls::update, urls::remove))
        .routes(routes!(visits::list_for_url))
        .routes(routes!(live::url_visits))
        .routes(routes!(stats::show))
        .routes(routes!(tags::list))
        .routes(routes!(tags::show, tags::rename, tags::remove))
        .routes(routes!(tags::stats))
        .routes(routes!(visits::list))
        .routes(routes!(orphans::list))
        .routes(routes!(stats::site))
        .routes(routes!(live::all_visits))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(webhooks::show, webhooks::update, webhooks::remove))
        .routes(routes!(webhooks::deliveries))
        .fallback(not_found)
}

/// Links to the API's collections.
#[utoipa::path(
    get,
    path = "/",
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
        "tags": format!("{base}/api/tags"),
        "webhooks": format!("{base}/api/webhooks"),
    }))
}

async fn not_found() -> ApiError {
    ApiError::not_found("no API endpoint at this path")
}
