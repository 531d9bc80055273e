//! The one place where the HTTP side is put together: the redirect lane and the full stack,
//! every route (registered with its OpenAPI operation) and every middleware layer, in order.

use std::sync::LazyLock;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::IntoResponse;
use axum::Router;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::CorsLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use super::lane::{self, Split, REQUEST_ID};
use super::middleware::{self, admission::Admission};
use super::state::AppState;
use super::{api, compat, protected, qr, redirect, site};

/// The application: the redirect lane (`crate::http::lane`) for `GET`/`HEAD` of one-segment paths,
/// the full stack of [`make_app`] for everything else.
pub fn make_split(state: AppState) -> Split {
    let limits = Admission::new(&state.settings.server);
    let lane = lane::router(&state, &limits);
    Split::new(lane, make_app(state, limits))
}

/// The router with every layer. Innermost first: body limit and timeout; problem bodies for
/// bare error responses; then panic catcher, `nosniff`, request id and tracing outermost.
pub fn make_app(state: AppState, limits: Admission) -> Router {
    let timeout = Duration::from_secs(state.settings.server.request_timeout_secs);
    let max_body = state.settings.server.max_body_bytes;
    #[allow(unused_mut)]
    let mut api = api::router();
    #[allow(unused_mut)]
    let mut router = Router::new();
    #[cfg(feature = "explorer")]
    if state.settings.explorer.enabled {
        api = api
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                middleware::negotiate::negotiate,
            ))
            .layer(axum::middleware::from_fn(middleware::csrf::protect));
        router = router.merge(super::explorer::router());
    }
    let cors = compat::shlink::cors(&state.settings.compat.shlink);
    let (documented, _) = routes(api, cors.clone()).split_for_parts();
    router
        .merge(documented)
        .merge(compat::shlink::aliases().layer(cors))
        .fallback(site::fallback)
        .layer(RequestBodyLimitLayer::new(max_body))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(axum::middleware::map_response(
            middleware::problem_bodies::problem_for_bare_errors,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.readiness.clone(),
            middleware::readiness::gate,
        ))
        .layer(axum::middleware::from_fn_with_state(
            limits,
            middleware::admission::enforce,
        ))
        .layer(axum::middleware::from_fn(
            middleware::request_metrics::track_requests,
        ))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<Body>| {
                    let id = request
                        .headers()
                        .get(REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!("request", method = %request.method(), uri = %request.uri(), request_id = %id)
                }))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(CatchPanicLayer::custom(|_panic| {
                    ApiError::Internal(anyhow::anyhow!("a handler panicked")).into_response()
                })),
        )
        .with_state(state)
}

/// Every route of the full stack but the explorer's, each registered with its OpenAPI operation
/// (`routes!`): the site's, and `api` (see [`api::router`]) at `/api`. The document
/// ([`document`]) is built from the same function, so what is served is what is
/// documented (Shlink's `/rest/...` with `shlink_cors` around it). `GET`/`HEAD` of `/{slug}`, `/robots.txt` and `/healthz` are answered by the
/// redirect lane (`crate::http::lane`) before they get here; their routes here answer the other
/// methods (405 with `Allow`), but for the password of a protected link (`POST /{slug}`).
/// `/{slug}/qr` (and Shlink's `/{shortCode}/qr-code`) has two segments and is always answered
/// here.
pub fn routes(api: OpenApiRouter<AppState>, shlink_cors: CorsLayer) -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(api::openapi::ApiDoc::openapi())
        .routes(routes!(site::root))
        .routes(routes!(site::robots))
        .routes(routes!(site::healthz))
        .routes(routes!(site::readyz))
        .routes(routes!(site::prometheus_metrics))
        .routes(routes!(redirect::follow, protected::unlock))
        .routes(routes!(qr::qr_code))
        .routes(routes!(compat::shlink::qr_code::qr_code))
        .routes(routes!(
            compat::yourls::yourls_get,
            compat::yourls::yourls_post
        ))
        .merge(compat::shlink::documented().layer(shlink_cors))
        .nest("/api", api)
}

/// The OpenAPI document, built once from [`routes()`]: what is served is what is documented.
/// `GET /api/openapi.json` serves it (from the state) with `servers` set to the public URL.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: LazyLock<utoipa::openapi::OpenApi> =
        LazyLock::new(|| routes(api::router(), CorsLayer::new()).into_openapi());
    &DOCUMENT
}
