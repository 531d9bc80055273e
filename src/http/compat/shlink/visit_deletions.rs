//! Shlink's visit deletions: every visit of one short URL (`DELETE /short-urls/{shortCode}/visits`)
//! and every orphan visit (`DELETE /visits/orphan`), through the application layer
//! (`crate::app::Visits`), which keeps every counter and rollup of them right.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::caller;
use super::problem::ShlinkProblem;
use super::short_urls::{changeable, check_domain, shlink_field, DomainParam};
use crate::domain::Role;
use crate::http::state::AppState;

/// How many visits a deletion removed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ShlinkDeletedVisits)]
pub struct DeletedVisits {
    pub deleted_visits: u64,
}

/// Every answer of a visit deletion.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum DeletionResponses {
    /// How many visits went.
    #[response(status = 200)]
    Deleted(#[to_schema] DeletedVisits),
    /// `invalid-data` (a `domain` other than kurz's).
    #[response(status = 400, content_type = "application/problem+json")]
    Invalid(#[to_schema] super::ShlinkProblemDoc),
    /// `missing-authentication` or `invalid-api-key`.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(#[to_schema] super::ShlinkProblemDoc),
    /// The key's role may not delete these visits.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(#[to_schema] super::ShlinkProblemDoc),
    /// `short-url-not-found`, or the Shlink API is turned off.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(#[to_schema] super::ShlinkProblemDoc),
    #[response(status = 500)]
    Internal(#[ref_response] crate::http::api::responses::Internal),
    #[response(status = 503)]
    Unavailable(#[ref_response] crate::http::api::responses::Unavailable),
}

fn answer(deleted: Result<u64, ShlinkProblem>) -> Response {
    match deleted {
        Ok(deleted_visits) => Json(DeletedVisits { deleted_visits }).into_response(),
        Err(problem) => problem.into_response(),
    }
}

/// Delete a short URL's visits.
///
/// Every visit of the link goes, with its statistics and counters: its visit count starts
/// again from zero, and so does its `maxVisits` cap. An editor deletes its own links' visits
/// only; a viewer none.
#[utoipa::path(
    delete,
    path = "/short-urls/{shortCode}/visits",
    operation_id = "shlink_delete_short_url_visits",
    tag = "shlink-compat",
    params(("shortCode" = String, Path, description = "The slug"), DomainParam),
    responses(DeletionResponses)
)]
#[tracing::instrument(skip_all)]
pub async fn delete_short_url_visits(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(short_code): Path<String>,
    Query(domain): Query<DomainParam>,
) -> Response {
    let deleted = async {
        let caller = caller(&state, &headers, None).await?;
        check_domain(&state, domain.domain.as_deref())?;
        let record = changeable(&state, caller, &short_code).await?;
        state
            .stored_visits
            .delete_for_link(&record.slug)
            .await
            .map_err(|e| ShlinkProblem::from_app(e, &short_code, shlink_field))
    };
    answer(deleted.await)
}

/// Delete every orphan visit.
///
/// Admins only delete them. An editor's key sees no orphan visits, so for it none are
/// deleted (as Shlink answers a key without orphan visits); a viewer may not delete.
#[utoipa::path(
    delete,
    path = "/visits/orphan",
    operation_id = "shlink_delete_orphan_visits",
    tag = "shlink-compat",
    responses(DeletionResponses)
)]
#[tracing::instrument(skip_all)]
pub async fn delete_orphan_visits(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let deleted = async {
        let caller = caller(&state, &headers, None).await?;
        match caller.role() {
            Role::Admin => state
                .stored_visits
                .delete_orphans()
                .await
                .map_err(|e| ShlinkProblem::from_api(e.into())),
            Role::Editor => Ok(0),
            Role::Viewer => Err(ShlinkProblem::from_api(
                crate::http::error::ApiError::Forbidden("a viewer may not delete visits".into()),
            )),
        }
    };
    answer(deleted.await)
}
