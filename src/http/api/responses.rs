//! The problem responses that operations share, each defined once: an operation names one with
//! `(status = 503, response = Unavailable)` in its `#[utoipa::path]`, and the OpenAPI document
//! holds it once under `components/responses` (registered in [`super::openapi::ApiDoc`]). What
//! is particular to one operation goes into that operation's description.
//!
//! Each wraps the [`Problem`] body that [`crate::http::error::ApiError`] renders; the headers listed
//! are those its `IntoResponse` sets for that status.

use utoipa::ToResponse;

use crate::http::error::Problem;

/// 400: the body is not valid JSON.
#[derive(ToResponse)]
#[response(
    description = "The body is not valid JSON",
    content_type = "application/problem+json"
)]
pub struct BadRequest(pub Problem);

/// 401, with the challenge.
#[derive(ToResponse)]
#[response(
    description = "No API key while `auth.allow_anonymous` is off, or a malformed, unknown or \
        revoked key",
    content_type = "application/problem+json",
    headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"kurz\"`"))
)]
pub struct Unauthorized(pub Problem);

/// 403: the key's role, or the explorer's CSRF check.
#[derive(ToResponse)]
#[response(
    description = "The key's role does not allow this: a viewer changing anything, or an editor \
        reading or changing a short link another key created; or an explorer session's unsafe \
        request without its `X-CSRF-Token`",
    content_type = "application/problem+json"
)]
pub struct Forbidden(pub Problem);

/// 404 of the operations on one short link.
#[derive(ToResponse)]
#[response(
    description = "No short link has this slug",
    content_type = "application/problem+json"
)]
pub struct NotFound(pub Problem);

/// 409: a custom slug that is taken.
#[derive(ToResponse)]
#[response(
    description = "The custom slug is taken",
    content_type = "application/problem+json"
)]
pub struct Conflict(pub Problem);

/// 413: a body over the limit.
#[derive(ToResponse)]
#[response(
    description = "The body is larger than `server.max_body_bytes`",
    content_type = "application/problem+json"
)]
pub struct PayloadTooLarge(pub Problem);

/// 415: a body that is not JSON.
#[derive(ToResponse)]
#[response(
    description = "The body is not sent as `application/json`",
    content_type = "application/problem+json"
)]
pub struct UnsupportedMediaType(pub Problem);

/// 422: a field or query parameter that is wrong.
#[derive(ToResponse)]
#[response(
    description = "A field or query parameter is missing, unknown or invalid; `errors` names it",
    content_type = "application/problem+json"
)]
pub struct ValidationFailed(pub Problem);

/// 429, with the wait.
#[derive(ToResponse)]
#[response(
    description = "Too many requests of this kind by this client or key (the `rate_limit.*` \
        settings); retry after `Retry-After` seconds",
    content_type = "application/problem+json",
    headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))
)]
pub struct TooManyRequests(pub Problem);

/// 500: logged, never explained.
#[derive(ToResponse)]
#[response(
    description = "An unexpected error, logged by the server",
    content_type = "application/problem+json"
)]
pub struct Internal(pub Problem);

/// 503, with the wait: the database, or a bound on what the server takes at once.
#[derive(ToResponse)]
#[response(
    description = "The database is unavailable or not reached yet (at start), or the server is \
        at a bound (`server.max_concurrent_requests`, `live.max_subscribers`); retry after \
        `Retry-After` seconds",
    content_type = "application/problem+json",
    headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))
)]
pub struct Unavailable(pub Problem);

/// 404 of the operations on one tag.
#[derive(ToResponse)]
#[response(
    description = "No tag has this name (for an editor: none of its links carries it)",
    content_type = "application/problem+json"
)]
pub struct TagNotFound(pub Problem);

/// 409 of a rename onto a name that is taken (`code` `tag_exists`).
#[derive(ToResponse)]
#[response(
    description = "A tag of the new name exists (`code`: `tag_exists`)",
    content_type = "application/problem+json"
)]
pub struct TagExists(pub Problem);
