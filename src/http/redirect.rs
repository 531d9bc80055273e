//! The hot path: `GET /{slug}` answers with a redirect and hands the click to the visit queue;
//! `HEAD /{slug}` answers the same redirect without counting a visit. It runs on the redirect
//! lane (`crate::http::lane`): a cache hit sends the `Location` value the cache holds. A link
//! with a password is answered by `crate::http::protected` instead, whose `POST /{slug}` with
//! the right password ends in [`answer_found`] too.

use std::net::IpAddr;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use percent_encoding::percent_decode_str;

use super::destination;
use super::gate::{self, Verdict};
use crate::cache::{CachedRedirect, Lookup};
use crate::domain::{Click, OrphanKind};
use crate::http::api::responses;
use crate::http::error::{ApiError, Problem};
use crate::http::orphans;
use crate::http::protected;
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
/// not-found answers (`rate_limit.not_found_per_minute`). A link with a password answers 401
/// with a form (or a problem for clients that do not take HTML) and records no visit: the
/// password is sent with `POST /{slug}`.
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
    let peer = orphans::peer(&parts.extensions);
    let headers = &parts.headers;
    let path = parts.uri.path();
    // A GET is a click (recorded, as an orphan visit when it reaches no link); a HEAD looks.
    let counts = parts.method == Method::GET;
    let click = counts.then_some(path);
    let not_found = || not_found_answer(&state, peer, headers, click);
    let raw = path.strip_prefix('/').unwrap_or_default();
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
        // A link not yet or no longer answering says so, whatever its password.
        if let Err(answer) = pass_gate(&state, &redirect, peer, headers, false, click).await {
            return answer;
        }
        return protected::ask(slug, headers);
    }
    let asked = Asked {
        peer,
        headers,
        query: parts.uri.query(),
        path,
        counts,
        status: redirect.status,
        referrer: None,
    };
    answer_found(&state, redirect, asked).await
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

/// No link has this slug: the 404 page, or a 429 past `rate_limit.not_found_per_minute`. A
/// `click` (the path of a `GET`) answered 404 is recorded as an `invalid_slug` orphan visit.
pub(crate) fn not_found_answer(
    state: &AppState,
    peer: IpAddr,
    headers: &HeaderMap,
    click: Option<&str>,
) -> Response {
    let client = state.client_ip.resolve(peer, headers);
    match state.rate_limits.check_not_found(client) {
        Ok(()) => {
            if let Some(path) = click {
                orphans::record(state, OrphanKind::InvalidSlug, path, client, headers);
            }
            not_found_page(headers)
        }
        Err(limited) => limited.into_response(),
    }
}

/// How a found link was asked for.
pub(crate) struct Asked<'a> {
    /// The TCP peer (the trusted-proxy rules are applied to it with `headers`).
    pub peer: IpAddr,
    pub headers: &'a HeaderMap,
    /// The query string, for rules and query forwarding.
    pub query: Option<&'a str>,
    /// The path asked for, recorded with an orphan visit when the link does not answer.
    pub path: &'a str,
    /// A click to count: a `GET`, or a `POST` with the right password (a `HEAD` only looks).
    pub counts: bool,
    /// The link's status; 303 after a password.
    pub status: StatusCode,
    /// The referrer to record instead of the request's `Referer`: the password form carries
    /// the one of the `GET` that showed it.
    pub referrer: Option<String>,
}

/// What happens when a found link is answered with its target, whoever asks (`GET /{slug}`,
/// or `POST /{slug}` with the right password): its validity window and cap are checked (a
/// person's click takes a unit of the cap), its rules choose the target, the click goes to the
/// visit queue, and the redirect leaves without waiting for any write.
pub(crate) async fn answer_found(
    state: &AppState,
    redirect: CachedRedirect,
    asked: Asked<'_>,
) -> Response {
    let headers = asked.headers;
    // A person's click takes a unit of the cap; a bot's (or a HEAD) only looks.
    let takes_unit = asked.counts && redirect.gate.is_some() && !state.bots.is_bot(agent(headers));
    let click = asked.counts.then_some(asked.path);
    let cap_taken = match pass_gate(state, &redirect, asked.peer, headers, takes_unit, click).await
    {
        Ok(taken) => taken,
        Err(answer) => return answer,
    };
    let resolve_ip = || state.client_ip.resolve(asked.peer, headers);
    let (location, rule, client_ip) = match &redirect.routing {
        None => (redirect.location, None, None),
        Some(routing) => {
            let client_ip = resolve_ip();
            let click = Click {
                user_agent: agent(headers),
                accept_language: headers
                    .get(header::ACCEPT_LANGUAGE)
                    .map(HeaderValue::as_bytes),
                query: asked.query,
                client_ip,
                now: Utc::now(),
            };
            let (location, rule) = destination::choose(routing, redirect.location, &click);
            (location, rule, Some(client_ip))
        }
    };
    if asked.counts {
        let click = Clicked {
            url_id: redirect.url_id,
            client_ip: client_ip.unwrap_or_else(resolve_ip),
            cap_taken,
            rule,
            referrer: asked.referrer,
        };
        record_click(state, headers, click).await;
    }
    redirect_response(location, asked.status)
}

/// A link's validity window and visit cap (a link with neither passes at once):
/// `Ok(cap_taken)`, or the answer of a link that is not (or no longer) answering. A `click`
/// (the path of a counted request) on such a link is recorded as an orphan visit.
pub(crate) async fn pass_gate(
    state: &AppState,
    redirect: &CachedRedirect,
    peer: IpAddr,
    headers: &HeaderMap,
    takes_unit: bool,
    click: Option<&str>,
) -> Result<bool, Response> {
    let Some(gate) = &redirect.gate else {
        return Ok(false);
    };
    match gate::admit(state.store.as_ref(), gate, redirect.url_id, takes_unit).await {
        Ok(Verdict::Go { cap_taken }) => Ok(cap_taken),
        Ok(Verdict::Unknown) => Err(not_found_answer(state, peer, headers, click)),
        Ok(Verdict::Expired) => {
            if let Some(path) = click {
                orphans::record_limited(state, OrphanKind::Expired, path, peer, headers);
            }
            Err(gate::expired(&state.settings.redirect, headers))
        }
        Err(error) => Err(ApiError::from(error).into_response()),
    }
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
    /// `None`: the request's `Referer`.
    pub referrer: Option<String>,
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
            referrer: click.referrer.or_else(|| text(header::REFERER)),
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
