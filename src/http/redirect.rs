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

use super::destination;
use super::gate::{self, Verdict};
use crate::cache::Lookup;
use crate::domain::Click;
use crate::http::api::responses;
use crate::http::error::{ApiError, Problem};
use crate::http::site::not_found_page;
use crate::http::state::AppState;
use crate::visits::VisitEvent;

/// Follow a short link.
///
/// Answers the link's `redirect_status` (else `redirect.status`, 302 by default) with
/// `Location`, and records one visit (time, client IP, user agent, referrer) without waiting
/// for the database. A link before its `valid_since` is not found; one past its `valid_until`
/// or with its `max_visits` reached is gone (410, or a 302 to `redirect.expired_url`). A click
/// by a person on a capped link takes a unit of the cap first; bots and link previews do not.
/// `HEAD` answers the same without counting a visit. 429 when this client had too many
/// not-found answers (`rate_limit.not_found_per_minute`).
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
        (status = 404, description = "No short link has this slug, or its `valid_since` is still ahead: a problem document, or a small HTML page for clients that accept `text/html`",
            content((Problem = "application/problem+json"), (String = "text/html"))),
        (status = 410, description = "The link expired (past its `valid_until`) or is exhausted (its `max_visits` reached), and `redirect.expired_url` is not set (with it: a 302 there): a problem document, or a small HTML page for clients that accept `text/html`",
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
    let counts = parts.method == Method::GET;
    let mut cap_taken = false;
    if let Some(gate) = &redirect.gate {
        // A person's click takes a unit of the cap; a bot's (or a HEAD) only looks.
        let takes_unit = counts && !state.bots.is_bot(agent(headers));
        match gate::admit(state.store.as_ref(), gate, redirect.url_id, takes_unit).await {
            Ok(Verdict::Go { cap_taken: taken }) => cap_taken = taken,
            Ok(Verdict::Unknown) => return not_found(),
            Ok(Verdict::Expired) => return gate::expired(&state.settings.redirect, headers),
            Err(error) => return ApiError::from(error).into_response(),
        }
    }
    let resolve_ip = || state.client_ip.resolve(peer, headers);
    let (location, rule, client_ip) = match &redirect.routing {
        None => (redirect.location, None, None),
        Some(routing) => {
            let client_ip = resolve_ip();
            let click = Click {
                user_agent: agent(headers),
                accept_language: headers
                    .get(header::ACCEPT_LANGUAGE)
                    .map(HeaderValue::as_bytes),
                query: parts.uri.query(),
                client_ip,
                now: Utc::now(),
            };
            let (location, rule) = destination::choose(routing, redirect.location, &click);
            (location, rule, Some(client_ip))
        }
    };
    if counts {
        let click = Clicked {
            url_id: redirect.url_id,
            client_ip: client_ip.unwrap_or_else(resolve_ip),
            cap_taken,
            rule,
        };
        record_click(&state, headers, click).await;
    }
    redirect_response(location, redirect.status)
}

fn agent(headers: &HeaderMap) -> Option<&[u8]> {
    headers.get(header::USER_AGENT).map(HeaderValue::as_bytes)
}

/// What the redirect knows of a click it answered.
pub(crate) struct Clicked {
    pub url_id: i64,
    /// After the trusted-proxy rules.
    pub client_ip: IpAddr,
    pub cap_taken: bool,
    pub rule: Option<i16>,
}

/// Hands a click to the visit queue (it waits only when the queue is full).
pub(crate) async fn record_click(state: &AppState, headers: &HeaderMap, click: Clicked) {
    // Browsers send UTF-8 in these headers (an app name, a referrer's path); HTTP calls such
    // bytes obs-text and `to_str` refuses them, which would lose the header and count the
    // click as a bot's. Invalid UTF-8 becomes U+FFFD instead.
    let text = |name: header::HeaderName| {
        headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    state
        .visits
        .record(VisitEvent {
            url_id: click.url_id,
            at: Utc::now(),
            client_ip: click.client_ip,
            user_agent: text(header::USER_AGENT),
            referrer: text(header::REFERER),
            cap_taken: click.cap_taken,
            rule: click.rule,
        })
        .await;
}

/// A redirect to `location`, without a body.
pub(crate) fn redirect_response(location: HeaderValue, status: StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    // Room for what the lane adds (nosniff, a request id) without growing.
    let mut response_headers = HeaderMap::with_capacity(4);
    response_headers.insert(header::LOCATION, location);
    if matches!(
        status,
        StatusCode::FOUND | StatusCode::TEMPORARY_REDIRECT | StatusCode::SEE_OTHER
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
