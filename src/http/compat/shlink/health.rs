//! `GET /rest/health`: Shlink's health document, with the Shlink version kurz answers as
//! (`compat.shlink.version`), which clients read to know which features they may use.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::state::AppState;

/// Shlink's health answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ShlinkHealth)]
pub struct Health {
    /// `pass`, or `fail` when the database does not answer.
    pub status: &'static str,
    /// The Shlink version whose features kurz provides.
    pub version: String,
    pub links: HealthLinks,
}

/// Where to read about this server: kurz's API index and its description.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ShlinkHealthLinks)]
pub struct HealthLinks {
    pub about: String,
    pub project: String,
}

/// Shlink's health check.
///
/// No key needed. 200 with `pass`, or 503 with `fail` when the database does not answer;
/// `version` is `compat.shlink.version`.
#[utoipa::path(
    get,
    path = "/rest/health",
    operation_id = "shlink_health",
    tag = "shlink-compat",
    responses(
        (status = 200, description = "Healthy", content((Health = "application/health+json"))),
        (status = 404, description = "The Shlink API is turned off", content((super::ShlinkProblemDoc = "application/problem+json"))),
        (status = 503, description = "The database does not answer (a health document), or kurz is not ready yet (a problem document)",
            content((Health = "application/health+json"), (crate::http::error::Problem = "application/problem+json"))),
    )
)]
pub async fn health(State(state): State<AppState>) -> Response {
    answer(&state).await
}

/// Shlink's health check, also under the versioned prefix.
#[utoipa::path(
    get,
    path = "/health",
    operation_id = "shlink_versioned_health",
    tag = "shlink-compat",
    responses(
        (status = 200, description = "Healthy", content((Health = "application/health+json"))),
        (status = 404, description = "The Shlink API is turned off", content((super::ShlinkProblemDoc = "application/problem+json"))),
        (status = 503, description = "The database does not answer (a health document), or kurz is not ready yet (a problem document)",
            content((Health = "application/health+json"), (crate::http::error::Problem = "application/problem+json"))),
    )
)]
pub async fn versioned_health(State(state): State<AppState>) -> Response {
    answer(&state).await
}

async fn answer(state: &AppState) -> Response {
    if !state.settings.compat.shlink.enabled {
        return super::ShlinkProblem::route_not_found().into_response();
    }
    let healthy = state.store.ping().await.is_ok();
    let body = Health {
        status: if healthy { "pass" } else { "fail" },
        version: state.settings.compat.shlink.version.clone(),
        links: HealthLinks {
            about: format!("{}/api", state.public_url),
            project: format!("{}/api/openapi.json", state.public_url),
        },
    };
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        [(header::CONTENT_TYPE, "application/health+json")],
        serde_json::to_string(&body).unwrap_or_default(),
    )
        .into_response()
}
