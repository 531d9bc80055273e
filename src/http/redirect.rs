//! The hot path: `GET /{slug}` answers with a redirect and hands the click to the visit queue;
//! `HEAD /{slug}` answers the same redirect without counting a visit. It runs on the redirect
//! lane (`crate::http::lane`): a cache hit sends the `Location` value the cache holds.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use percent_encoding::percent_decode_str;

use crate::cache::Lookup;
use crate::http::api::responses;
use crate::http::error::{ApiError, Problem};
use crate::http::site::not_found_page;
use crate::http::state::AppState;
use crate::visits::VisitEvent;

/// Follow a short link.
///
/// Answers `redirect.status` (302 by default) with `Location`, and records one visit (time,
/// client IP, user agent, referrer) without waiting for the database. 429 when this client
/// had too many not-found answers (`rate_limit.not_found_per_minute`).
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
    let not_found = || {
        let client = state.client_ip.resolve(peer, headers);
        match state.rate_limits.check_not_found(client) {
            Ok(()) => not_found_page(headers),
            Err(limited) => limited.into_response(),
        }
    };
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
    let redirect = match state.redirects.resolve(state.store.as_ref(), slug).await {
        Ok(Lookup::Found(redirect)) => redirect,
        Ok(Lookup::NotFound) => return not_found(),
        Ok(Lookup::Unusable) => {
            return ApiError::Internal(anyhow::anyhow!("stored target is not a header value"))
                .into_response()
        }
        Err(error) => return ApiError::from(error).into_response(),
    };
    if parts.method == Method::GET {
        // Browsers send UTF-8 in these headers (an app name, a referrer's path); HTTP calls
        // such bytes obs-text and `to_str` refuses them, which would lose the header and
        // count the click as a bot's. Invalid UTF-8 becomes U+FFFD instead.
        let text = |name: header::HeaderName| {
            headers
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        };
        state
            .visits
            .record(VisitEvent {
                url_id: redirect.url_id,
                at: Utc::now(),
                client_ip: state.client_ip.resolve(peer, headers),
                user_agent: text(header::USER_AGENT),
                referrer: text(header::REFERER),
            })
            .await;
    }
    let mut response = Response::new(Body::empty());
    *response.status_mut() = redirect.status;
    // Room for what the lane adds (nosniff, a request id) without growing.
    let mut response_headers = HeaderMap::with_capacity(4);
    response_headers.insert(header::LOCATION, redirect.location);
    if matches!(
        redirect.status,
        StatusCode::FOUND | StatusCode::TEMPORARY_REDIRECT
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
