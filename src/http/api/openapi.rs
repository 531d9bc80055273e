//! The OpenAPI 3.1 description of kurz, served at `GET /api/openapi.json`. Its operations come
//! from the routes themselves: every route is registered with `utoipa_axum::routes!` into an
//! `OpenApiRouter` ([`crate::http::router::routes`], [`super::router`]), which adds the handler's
//! `#[utoipa::path]` to the document, so a route cannot be served undocumented. [`ApiDoc`]
//! holds the rest: the description, the shared problem responses ([`super::responses`]), the
//! security schemes and the tags.
//!
//! `tests/api/openapi.rs` snapshots the document and checks it against the live server: every
//! documented operation answers with a documented status and content type.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::openapi::server::Server;
use utoipa::{Modify, OpenApi, ToSchema};

use super::responses;
use crate::http::error::{FieldError, Problem};
use crate::http::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "kurz",
        version = env!("CARGO_PKG_VERSION"),
        description = "A self-hosted URL shortener with click tracking.\n\n\
            The JSON API lives under `/api`; request bodies must be sent with \
            `Content-Type: application/json`. Every error is an RFC 9457 problem document \
            (`application/problem+json`, schema `Problem`). Besides the statuses listed per \
            operation, any request may be answered `405` (the path exists, the method does not; \
            `Allow` lists the methods), `408` (the request took longer than \
            `server.request_timeout_secs`), `413` (a `Content-Length` over \
            `server.max_body_bytes`), `414` (a URI over `server.max_uri_bytes`), `431` \
            (headers over `server.max_header_bytes`) or `503` with `Retry-After` (more than \
            `server.max_concurrent_requests` requests in flight), each as a problem document.\n\n\
            In development builds, a browser's `GET` of an `/api` URL (`Accept: text/html`) is \
            answered with an HTML page of the explorer instead of JSON.\n\n\
            Authentication: the operations on URLs, tags, visits, statistics and webhooks need an API key \
            (`kurz apikey create --role admin|editor|viewer`), sent as \
            `Authorization: Bearer <key>` (scheme `bearer`) or `X-Api-Key: <key>` (scheme \
            `api_key`); 401 without a valid one, 403 when the key's role does not allow the \
            action. A viewer reads everything; an editor creates, and reads and changes only \
            the short links it created; an admin does everything (webhooks are admins' only). Servers with \
            `auth.allow_anonymous` (development) also serve requests without a key, with \
            `auth.anonymous_role`. `GET /api` and this document are public.",
        license(name = "MIT", identifier = "MIT"),
    ),
    // `HEAD /{slug}` is served by the `GET /{slug}` route (on the redirect lane, `crate::http::lane`,
    // which is no `OpenApiRouter`); it is documented on its own because it counts no visit.
    paths(probe_short_link),
    components(
        schemas(
            Problem,
            FieldError,
            crate::views::TagNameParam,
            crate::http::compat::shlink::views::Meta,
            crate::http::compat::shlink::views::VisitsSummary,
            crate::http::compat::shlink::overview::VisitsStats,
            crate::http::compat::shlink::domains::Domains,
            crate::http::compat::shlink::domains::Domain,
            crate::http::compat::shlink::domains::Redirects,
            crate::http::compat::shlink::redirect_rules::RedirectRule,
            crate::http::compat::shlink::rules::ShlinkCondition,
            crate::http::compat::shlink::rules::ShlinkRuleInput
        ),
        responses(
            crate::http::compat::shlink::ShlinkProblemResponse,
            responses::BadRequest,
            responses::Unauthorized,
            responses::Forbidden,
            responses::NotFound,
            responses::Conflict,
            responses::PayloadTooLarge,
            responses::UnsupportedMediaType,
            responses::ValidationFailed,
            responses::TooManyRequests,
            responses::Internal,
            responses::Unavailable,
            responses::TagNotFound,
            responses::TagExists,
        ),
    ),
    modifiers(&ApiKeySchemes),
    tags(
        (name = "urls", description = "Short links: create, list, search, show, change, delete"),
        (name = "visits", description = "The clicks on short links: newest first, or live as they are stored"),
        (name = "stats", description = "Per-link statistics read from daily rollups"),
        (name = "tags", description = "Tags of short links: list, search, rename, delete, statistics"),
        (name = "webhooks", description = "Endpoints that receive events as signed JSON POSTs, and their delivery attempts (admins only)"),
        (name = "redirects", description = "The short links themselves: `/{slug}`"),
        (name = "health", description = "Liveness, readiness and metrics for orchestrators and monitoring"),
        (name = "site", description = "Index documents, `robots.txt` and this description"),
        (name = "shlink-compat", description = "Shlink's REST API v3 (`/rest/...`, keys in `X-Api-Key`) for the clients that speak it; see docs/compat.md"),
        (name = "yourls-compat", description = "YOURLS's API (`yourls-api.php`) for the clients that speak it; see docs/compat.md"),
    )
)]
pub struct ApiDoc;

/// The ways of sending an API key: `Authorization: Bearer <key>` and `X-Api-Key: <key>`, and
/// for the live streams only (browsers' `EventSource` and `WebSocket` send no headers) the
/// `access_token` query parameter.
struct ApiKeySchemes;

impl Modify for ApiKeySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            utoipa::openapi::security::SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("kurz_ followed by 40 letters and digits")
                    .description(Some("An API key from `kurz apikey create`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "api_key",
            utoipa::openapi::security::SecurityScheme::ApiKey(ApiKey::Header(
                ApiKeyValue::with_description("X-Api-Key", "An API key from `kurz apikey create`"),
            )),
        );
        components.add_security_scheme(
            "access_token",
            utoipa::openapi::security::SecurityScheme::ApiKey(ApiKey::Query(
                ApiKeyValue::with_description(
                    "access_token",
                    "An API key in the query string; only the live visit streams accept it",
                ),
            )),
        );
    }
}

/// The OpenAPI 3.1 description of this server.
///
/// Generated from the code; `servers` names this server's public URL.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "get_openapi",
    tag = "site",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json",
            body = Object),
        (status = 503, response = responses::Unavailable),
    )
)]
pub async fn serve(State(state): State<AppState>) -> Response {
    let mut document = state.openapi.clone();
    document.servers = Some(vec![Server::new(state.public_url.as_ref())]);
    match serde_json::to_vec(&document) {
        Ok(body) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response(),
        Err(error) => crate::http::error::ApiError::Internal(
            anyhow::Error::new(error).context("serialising the OpenAPI document"),
        )
        .into_response(),
    }
}

/// The answer of `GET /api`: links to the collections.
#[derive(Serialize, ToSchema)]
pub struct ApiIndex {
    /// `{public_url}/api/urls`
    pub urls: String,
    /// `{public_url}/api/visits`
    pub visits: String,
    /// `{public_url}/api/tags`
    pub tags: String,
    /// `{public_url}/api/webhooks`
    pub webhooks: String,
}

/// The answer of `GET /` in `root.mode = "index"`.
#[derive(Serialize, ToSchema)]
pub struct SiteIndex {
    /// Always `kurz`.
    pub name: String,
    /// The server's version.
    pub version: String,
    /// `{public_url}/api`; development servers only.
    pub api: Option<String>,
}

/// The answer of `GET /healthz`.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: String,
}

/// The answer of `GET /readyz` when the database answers.
#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// Always `ok`.
    pub status: String,
    /// `sqlite` or `postgres`.
    pub database: String,
}

/// Probe a short link without counting a visit.
///
/// The same redirect as `GET /{slug}`, without a body, and no visit is recorded. (Served by the
/// `GET /{slug}` handler; this function only carries the documentation.)
#[utoipa::path(
    head,
    path = "/{slug}",
    operation_id = "probe_short_link",
    tag = "redirects",
    params(("slug" = String, Path, description = "The short link's slug (case-sensitive)")),
    responses(
        (status = 301, description = "`redirect.status = 301`",
            headers(("Location" = String, description = "The target URL"))),
        (status = 302, description = "The default `redirect.status`",
            headers(("Location" = String, description = "The target URL"))),
        (status = 307, description = "`redirect.status = 307`",
            headers(("Location" = String, description = "The target URL"))),
        (status = 308, description = "`redirect.status = 308`",
            headers(("Location" = String, description = "The target URL"))),
        (status = 401, description = "The link has a password (the headers of the `GET` answer, no body)"),
        (status = 404, description = "No short link has this slug (the headers of the `GET` answer, no body)"),
        (status = 410, description = "The link expired or is exhausted (the headers of the `GET` answer, no body)"),
        (status = 429, response = responses::TooManyRequests),
        (status = 500, response = responses::Internal),
        (status = 503, response = responses::Unavailable),
    )
)]
#[allow(dead_code)]
fn probe_short_link() {}
