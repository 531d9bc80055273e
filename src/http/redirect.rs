//! The hot path: `GET /{slug}` answers with a redirect and hands the click to the visit queue;
//! `HEAD /{slug}` answers the same redirect without counting a visit. It runs on the redirect
//! lane (`crate::http::lane`): a cache hit sends the `Location` value the cache holds. A link
//! with a password is answered by `crate::http::protected` instead, whose `POST /{slug}` with
//! the right password ends in [`answer_found`] too.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use percent_encoding::percent_decode_str;

use crate::cache::{CachedRedirect, Lookup};
use crate::http::api::responses;
use crate::http::error::{ApiError, Problem};
use crate::http::protected;
use crate::http::site::not_found_page;
use crate::http::state::AppState;
use crate::visits::VisitEvent;

/// Follow a short link.
///
/// Answers `redirect.status` (302 by default) with `Location`, and records one visit (time,
/// client IP, user agent, referrer) without waiting for the database. 429 when this client
/// had too many not-found answers (`rate_limit.not_found_per_minute`). A link with a password
/// answers 401 with a form (or a problem for clients that do not take HTML) and records no
/// visit: the password is sent with `POST /{slug}`.
#[utoipa::path(
    get,
    path = "/{slug}",
    operation_id = "follow_short_link",
    tag = "redirects",
    params(("slug" = String, Path, description = "The short link's slug (case-sensitive)")),
    responses(
        (status = 301, description = "`redirect.status = 301`",
            headers(("Location" = String, description = "The target URL"))),
        (status = 302, description = "The default `redirect.status`; `Cache-Control: private, no-cache`",
            headers(("Location" = String, description = "The target URL"))),
        (status = 307, description = "`redirect.status = 307`; `Cache-Control: private, no-cache`",
            headers(("Location" = String, description = "The target URL"))),
        (status = 308, description = "`redirect.status = 308`",
            headers(("Location" = String, description = "The target URL"))),
        (status = 401, description = "The link has a password: a small HTML form that posts it to `/{slug}` for clients that accept `text/html`, else a problem (`password_required`). `Cache-Control: no-store`; no visit is recorded",
            content((Problem = "application/problem+json"), (String = "text/html"))),
        (status = 404, description = "No short link has this slug: a problem document, or a small HTML page for clients that accept `text/html`",
            content((Problem = "application/problem+json"), (String = "text/html"))),
        (status = 429, response = responses::TooManyRequests),
        (status = 500, response = responses::Internal),
        (status = 503, response = responses::Unavailable),
    )
)]
pub async fn follow(State(state): State<AppState>, request: Request) -> Response {
    let (parts, _body) = request.into_parts();
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED), |info| info.0.ip());
    let headers = &parts.headers;
    let not_found = || not_found_answer(&state, peer, headers);
    let raw = parts.uri.path().strip_prefix('/').unwrap_or_default();
    // Paths arrive percent-encoded; a slug never needs it, so decoding is the rare case.
    let decoded;
    let slug = if raw.contains('%') {
        match percent_decode_str(raw).decode_utf8() {
            Ok(text) => {
                decoded = text;
                decoded.as_ref()
            }
            Err(_) => return not_found(),
        }
    } else {
        raw
    };
    let redirect = match found(&state, slug).await {
        Ok(Some(redirect)) => redirect,
        Ok(None) => return not_found(),
        Err(error) => return error.into_response(),
    };
    if redirect.protected {
        return protected::ask(slug, headers);
    }
    let click = (parts.method == Method::GET).then(|| Click::of(peer, headers));
    let status = redirect.status;
    answer_found(&state, redirect, status, click).await
}

/// The link of a slug as typed in a path, from the redirect cache.
pub(crate) async fn found(
    state: &AppState,
    slug: &str,
) -> Result<Option<CachedRedirect>, ApiError> {
    match state.redirects.resolve(state.store.as_ref(), slug).await {
        Ok(Lookup::Found(redirect)) => Ok(Some(redirect)),
        Ok(Lookup::NotFound) => Ok(None),
        Ok(Lookup::Unusable) => Err(ApiError::Internal(anyhow::anyhow!(
            "stored target is not a header value"
        ))),
        Err(error) => Err(error.into()),
    }
}

/// No link has this slug: the 404 page, or a 429 past `rate_limit.not_found_per_minute`.
pub(crate) fn not_found_answer(state: &AppState, peer: IpAddr, headers: &HeaderMap) -> Response {
    let client = state.client_ip.resolve(peer, headers);
    match state.rate_limits.check_not_found(client) {
        Ok(()) => not_found_page(headers),
        Err(limited) => limited.into_response(),
    }
}

/// What a visit records of the request that clicked.
pub(crate) struct Click<'a> {
    pub peer: IpAddr,
    pub headers: &'a HeaderMap,
    pub referrer: Option<String>,
}

impl<'a> Click<'a> {
    /// A click as the request tells it, its `Referer` header included.
    pub fn of(peer: IpAddr, headers: &'a HeaderMap) -> Self {
        Self {
            peer,
            headers,
            referrer: header_text(headers, header::REFERER),
        }
    }
}

/// Browsers send UTF-8 in these headers (an app name, a referrer's path); HTTP calls such bytes
/// obs-text and `to_str` refuses them, which would lose the header and count the click as a
/// bot's. Invalid UTF-8 becomes U+FFFD instead.
fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// What happens when a found link is answered with its target, whoever asks (`GET /{slug}`,
/// or `POST /{slug}` with the right password): the click, when there is one, goes to the
/// visit queue, and the redirect with `status` and `Location` leaves without waiting for it.
pub(crate) async fn answer_found(
    state: &AppState,
    redirect: CachedRedirect,
    status: StatusCode,
    click: Option<Click<'_>>,
) -> Response {
    if let Some(click) = click {
        state
            .visits
            .record(VisitEvent {
                url_id: redirect.url_id,
                at: Utc::now(),
                client_ip: state.client_ip.resolve(click.peer, click.headers),
                user_agent: header_text(click.headers, header::USER_AGENT),
                referrer: click.referrer,
            })
            .await;
    }
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    // Room for what the lane adds (nosniff, a request id) without growing.
    let mut response_headers = HeaderMap::with_capacity(4);
    response_headers.insert(header::LOCATION, redirect.location);
    if matches!(
        status,
        StatusCode::FOUND | StatusCode::SEE_OTHER | StatusCode::TEMPORARY_REDIRECT
    ) {
        // Temporary redirects are re-asked every time, so every click is counted.
        response_headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache"),
        );
    }
    *response.headers_mut() = response_headers;
    response
}
