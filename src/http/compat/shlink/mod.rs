//! Shlink's REST API v3 (`compat.shlink`), under `/rest/v3` (and `/rest/v1`, `/rest/v2`, which
//! Shlink treats the same), with `/rest/health`: what Shlink's clients (its web client, the JS
//! SDK, Raycast, browser extensions, apps) call, answered from kurz's links through the
//! application layer. Keys come in `X-Api-Key`; errors are Shlink's problem documents. Any
//! origin may call it (CORS), as Shlink allows by default: the key is a header, never a
//! cookie. See docs/compat.md.

mod body;
pub(crate) mod domains;
mod health;
mod mercure;
pub(crate) mod overview;
mod pagination;
mod problem;
pub mod qr_code;
pub(crate) mod redirect_rules;
pub(crate) mod rules;
mod short_url_list;
mod short_urls;
mod tags;
pub mod views;
mod visit_deletions;
mod visit_lists;

use axum::http::{header, HeaderMap, HeaderName, Method};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::cors::{AllowHeaders, Any, CorsLayer};
use utoipa::openapi::{self, RefOr};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use problem::ShlinkProblem;
pub use short_url_list::LinkList;
pub use visit_lists::{LinkVisits, OrphanVisits};

use body::read_body;

use crate::http::auth::{self, Caller, API_KEY_HEADER};
use crate::http::error::ApiError;
use crate::http::state::AppState;

/// Every answer of a Shlink route, as documented: the operation's JSON, or a Shlink problem
/// document.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum ShlinkResponses {
    /// The short URL (`DELETE` answers 204 without a body).
    #[response(status = 200)]
    Ok(#[to_schema] views::ShortUrl),
    /// Deleted.
    #[response(status = 204)]
    Deleted,
    /// `invalid-data` naming the fields (`invalidElements`), `non-unique-slug`, or
    /// `malformed-request-body`.
    #[response(status = 400, content_type = "application/problem+json")]
    Invalid(#[to_schema] ShlinkProblemDoc),
    /// `missing-authentication` or `invalid-api-key`.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(#[to_schema] ShlinkProblemDoc),
    /// The key's role may not do this.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(#[to_schema] ShlinkProblemDoc),
    /// `short-url-not-found`, or the Shlink API is turned off.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(#[to_schema] ShlinkProblemDoc),
    /// Too many links created by this caller.
    #[response(status = 429, content_type = "application/problem+json")]
    TooMany(#[to_schema] ShlinkProblemDoc),
    #[response(status = 500)]
    Internal(#[ref_response] crate::http::api::responses::Internal),
    #[response(status = 503)]
    Unavailable(#[ref_response] crate::http::api::responses::Unavailable),
}

/// The problems of a Shlink read: 400, 401, 404, 500 and 503.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum ShlinkReadErrors {
    #[response(status = 400)]
    Invalid(#[ref_response] ShlinkProblemResponse),
    #[response(status = 401)]
    Unauthorized(#[ref_response] ShlinkProblemResponse),
    #[response(status = 404)]
    NotFound(#[ref_response] ShlinkProblemResponse),
    #[response(status = 500)]
    Internal(#[ref_response] crate::http::api::responses::Internal),
    #[response(status = 503)]
    Unavailable(#[ref_response] crate::http::api::responses::Unavailable),
}

/// The problems of a Shlink tag operation: those of a read, and 403 (a role's limits).
pub struct ShlinkTagErrors;

impl utoipa::IntoResponses for ShlinkTagErrors {
    fn responses() -> std::collections::BTreeMap<String, RefOr<openapi::Response>> {
        let mut responses = ShlinkReadErrors::responses();
        responses.insert(
            "403".to_owned(),
            openapi::Ref::from_response_name("ShlinkProblemResponse").into(),
        );
        responses
    }
}

/// Any Shlink problem document, as a reusable response.
#[derive(utoipa::ToResponse)]
#[response(
    description = "A Shlink problem document (`type` `https://shlink.io/api/error/<code>`)",
    content_type = "application/problem+json"
)]
#[allow(dead_code)]
pub struct ShlinkProblemResponse(ShlinkProblemDoc);

/// A Shlink problem document: `type` (`https://shlink.io/api/error/<code>`), `title`,
/// `detail`, `status` and the members of its kind (`invalidElements`, `shortCode`, ...).
#[derive(utoipa::ToSchema)]
#[schema(value_type = Object)]
#[allow(dead_code)]
pub struct ShlinkProblemDoc(serde_json::Map<String, serde_json::Value>);

/// Who is calling: the key of `X-Api-Key` (or `Authorization: Bearer`, or `query_key` where a
/// route takes one), as on `/api`; Shlink's 401s otherwise.
pub(crate) async fn caller(
    state: &AppState,
    headers: &HeaderMap,
    query_key: Option<&str>,
) -> Result<Caller, ShlinkProblem> {
    if !state.settings.compat.shlink.enabled {
        return Err(ShlinkProblem::route_not_found());
    }
    match auth::authenticate(state, headers, query_key).await {
        Ok(caller) => Ok(caller),
        Err(ApiError::Unauthorized(_)) => {
            // An empty key is no key, as Shlink reads it.
            let given = |name| {
                headers
                    .get(name)
                    .is_some_and(|v| !v.as_bytes().trim_ascii().is_empty())
            };
            let presented = given(API_KEY_HEADER)
                || given(header::AUTHORIZATION.as_str())
                || query_key.is_some_and(|k| !k.is_empty());
            Err(if presented {
                ShlinkProblem::invalid_api_key()
            } else {
                ShlinkProblem::missing_authentication()
            })
        }
        Err(other) => Err(ShlinkProblem::from_api(other)),
    }
}

/// The versioned routes, relative to `/rest/v3` (served at `/rest/v1` and `/rest/v2` too).
pub fn versioned() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(short_urls::create, short_url_list::list))
        .routes(routes!(short_urls::shorten))
        .routes(routes!(
            short_urls::get,
            short_urls::edit,
            short_urls::delete
        ))
        .routes(routes!(tags::list, tags::rename, tags::delete))
        .routes(routes!(tags::stats))
        .routes(routes!(visit_lists::short_url_visits))
        .routes(routes!(visit_lists::tag_visits))
        .routes(routes!(visit_lists::non_orphan_visits))
        .routes(routes!(visit_lists::domain_visits))
        .routes(routes!(visit_lists::orphan_visits))
        .routes(routes!(health::versioned_health))
        .routes(routes!(visit_deletions::delete_short_url_visits))
        .routes(routes!(visit_deletions::delete_orphan_visits))
        .routes(routes!(overview::overview))
        .routes(routes!(domains::list))
        .routes(routes!(domains::set_redirects))
        .routes(routes!(mercure::mercure_info))
        .routes(routes!(
            redirect_rules::list,
            redirect_rules::set,
            redirect_rules::patch
        ))
}

/// The documented Shlink routes: `/rest/health` and `/rest/v3/...`.
pub fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health::health))
        .nest("/rest/v3", versioned())
}

/// The same routes at `/rest/v1` and `/rest/v2`, undocumented (Shlink's older clients call
/// them), and Shlink's `not-found` for every other `/rest/...` path.
pub fn aliases() -> Router<AppState> {
    let (older, _) = versioned().split_for_parts();
    Router::new()
        .nest("/rest/v1", older.clone())
        .nest("/rest/v2", older)
        .route("/rest/{*rest}", axum::routing::any(unknown_route))
}

/// Any other `/rest/...` path: Shlink's `not-found`.
async fn unknown_route() -> Response {
    ShlinkProblem::route_not_found().into_response()
}

/// CORS as Shlink answers it: the configured origins (any by default), the methods of the API,
/// and every request header asked for.
pub fn cors(settings: &crate::config::ShlinkSettings) -> CorsLayer {
    let origins = &settings.cors_allow_origins;
    let layer = CorsLayer::new()
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers([HeaderName::from_static("x-request-id")])
        .max_age(std::time::Duration::from_secs(3600));
    if origins.iter().any(|o| o == "*") {
        layer.allow_origin(Any)
    } else {
        let list: Vec<_> = origins
            .iter()
            .filter_map(|o| o.parse::<axum::http::HeaderValue>().ok())
            .collect();
        layer.allow_origin(list)
    }
}
