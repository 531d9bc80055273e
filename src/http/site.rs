//! The site around the short links: `/`, `/robots.txt`, `/healthz`, `/readyz`, and the 404 page.

use std::sync::atomic::Ordering;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::config::{Environment, RootMode};
use crate::domain::OrphanKind;
use crate::http::api::responses;
use crate::http::error::ApiError;
use crate::http::orphans;
use crate::http::state::AppState;
use crate::visits::VisitCounters;

/// At most this many `Allow:` lines in robots.txt; crawlers stop reading long files anyway.
const MAX_ROBOTS_ALLOWS: u32 = 10_000;

/// `/`: a redirect to the configured homepage, or a small JSON index. Only a development
/// server links to `/api` from here, so production never leads crawlers into the API. A 500
/// means `root.redirect_to` is not a valid header value.
#[utoipa::path(
    get,
    path = "/",
    operation_id = "site_index",
    tag = "site",
    responses(
        (status = 200, description = "`root.mode = \"index\"`: a small JSON index",
            body = crate::http::api::openapi::SiteIndex, content_type = "application/json"),
        (status = 302, description = "`root.mode = \"redirect\"`: to `root.redirect_to`",
            headers(("Location" = String, description = "`root.redirect_to`"))),
        (status = 500, response = responses::Internal),
        (status = 503, response = responses::Unavailable),
    )
)]
pub async fn root(State(state): State<AppState>, request: Request) -> Response {
    if request.method() == Method::GET {
        let peer = orphans::peer(request.extensions());
        orphans::record_limited(&state, OrphanKind::BaseUrl, "/", peer, request.headers());
    }
    let settings = &state.settings;
    if settings.root.mode == RootMode::Redirect {
        return match HeaderValue::from_str(settings.root.redirect_to.trim()) {
            Ok(location) => (StatusCode::FOUND, [(header::LOCATION, location)]).into_response(),
            Err(_) => ApiError::Internal(anyhow::anyhow!("root.redirect_to is not a header value"))
                .into_response(),
        };
    }
    let mut index = json!({
        "name": "kurz",
        "version": env!("CARGO_PKG_VERSION"),
    });
    if settings.environment == Environment::Development {
        index["api"] = json!(format!("{}/api", state.public_url));
    }
    Json(index).into_response()
}

/// `/robots.txt`: for each of `robots.preview_agents` (link previewers), a group allowing the
/// short links and disallowing the API and the explorer; then, for everyone else, everything
/// disallowed except short links marked crawlable.
#[utoipa::path(
    get,
    path = "/robots.txt",
    operation_id = "robots_txt",
    tag = "site",
    responses(
        (status = 200, description = "A group per `robots.preview_agents` entry (`Allow: /`, `Disallow: /api/`, `Disallow: /explorer/`), then `Disallow: /` for everyone else, with `Allow: /{slug}` for each crawlable short link",
            body = String, content_type = "text/plain"),
        (status = 500, response = responses::Internal),
        (status = 503, response = responses::Unavailable),
    )
)]
pub async fn robots(State(state): State<AppState>) -> Result<Response, ApiError> {
    let slugs = state.store.crawlable_slugs(MAX_ROBOTS_ALLOWS).await?;
    let mut body = String::new();
    // Link previewers fetch a short link when it is posted in a chat or a feed: let them
    // follow short links (their visits are still counted as bots), never into the API.
    for agent in &state.settings.robots.preview_agents {
        body.push_str(&format!(
            "User-agent: {agent}\nAllow: /\nDisallow: /api/\nDisallow: /explorer/\n\n"
        ));
    }
    body.push_str("User-agent: *\n");
    for slug in slugs {
        body.push_str(&format!("Allow: /{slug}\n"));
    }
    body.push_str("Disallow: /\n");
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response())
}

/// `/healthz`: the process is up.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    tag = "health",
    responses(
        (status = 200, description = "The process runs", body = crate::http::api::openapi::Health,
            content_type = "application/json"),
    )
)]
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// `/readyz`: the database answers.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "readyz",
    tag = "health",
    responses(
        (status = 200, description = "The database answers", body = crate::http::api::openapi::Readiness,
            content_type = "application/json"),
        (status = 500, response = responses::Internal),
        (status = 503, response = responses::Unavailable),
    )
)]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    state.store.ping().await?;
    Ok(Json(
        json!({ "status": "ok", "database": state.store.backend() }),
    ))
}

/// Any path that is not a route and not a known slug. A `GET` outside the API and the
/// explorer is a `regular_404` orphan visit; like slug probes, such misses count against
/// `rate_limit.not_found_per_minute` (429 past it).
pub async fn fallback(State(state): State<AppState>, request: Request) -> Response {
    let (method, path) = (request.method(), request.uri().path());
    if orphans::is_regular_404(method, path) {
        let peer = orphans::peer(request.extensions());
        let client = state.client_ip.resolve(peer, request.headers());
        if let Err(limited) = state.rate_limits.check_not_found(client) {
            return limited.into_response();
        }
        orphans::record(
            &state,
            OrphanKind::Regular404,
            path,
            client,
            request.headers(),
        );
    }
    not_found_page(request.headers())
}

/// A 404 as the client prefers it: a small HTML page for browsers, problem JSON otherwise.
pub fn not_found_page(headers: &HeaderMap) -> Response {
    if accepts_html(headers) {
        return small_page(
            StatusCode::NOT_FOUND,
            "Not found",
            "This short link does not exist.",
        );
    }
    ApiError::not_found("no short link with this slug").into_response()
}

/// A 410 for an expired or exhausted link, as the client prefers it. Never cached: a change
/// to the link can make it answer again.
pub fn gone_page(headers: &HeaderMap) -> Response {
    let mut response = if accepts_html(headers) {
        small_page(
            StatusCode::GONE,
            "Link expired",
            "This short link has expired or has been used up.",
        )
    } else {
        ApiError::Gone("this short link has expired or its visits are used up".into())
            .into_response()
    };
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    response
}

/// A page of a heading and one sentence, with headers that keep it out of indexes and frames.
fn small_page(status: StatusCode, title: &'static str, text: &'static str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{title}</title></head><body><h1>{title}</h1><p>{text}</p></body></html>"
    );
    let mut response = (status, Html(body)).into_response();
    let headers = response.headers_mut();
    headers.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    headers.insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    );
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    response
}

/// Whether the client names `text/html` in `Accept` with a weight above zero (a browser
/// does; curl's `*/*` and scripts do not, and `text/html;q=0` refuses it, RFC 9110 12.5.1).
pub(crate) fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|range| {
            let mut parts = range.split(';').map(str::trim);
            let is_html = parts
                .next()
                .is_some_and(|media| media.eq_ignore_ascii_case("text/html"));
            let weight = parts
                .filter_map(|p| p.split_once('='))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("q"))
                .map_or(Some(1.0), |(_, q)| q.trim().parse::<f32>().ok());
            is_html && weight.is_some_and(|q| q > 0.0)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepts(values: &[&str]) -> bool {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        }
        accepts_html(&headers)
    }

    #[test]
    fn html_is_wanted_only_when_named_with_weight() {
        assert!(accepts(&["text/html,application/xhtml+xml,*/*;q=0.8"]));
        assert!(accepts(&["application/json", "TEXT/HTML; q=0.5"]));
        assert!(!accepts(&[]));
        assert!(!accepts(&["*/*"]));
        assert!(!accepts(&["text/html;q=0", "application/json"]));
        assert!(!accepts(&["text/html; q=0.0"]));
        assert!(!accepts(&["text/html-fragment"]));
        assert!(!accepts(&["text/html;q=oops"]));
    }
}

/// Prometheus metrics.
///
/// Requests by route and status and their latency, the visit pipeline, the redirect cache and
/// the database pool, in the Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = "health",
    responses(
        (status = 200, description = "The metrics, Prometheus text format 0.0.4", body = String,
            content_type = "text/plain"),
    )
)]
pub async fn prometheus_metrics(State(state): State<AppState>) -> Response {
    let visits: &VisitCounters = state.visits.counters();
    let get = VisitCounters::get;
    metrics::gauge!("kurz_visit_queue_depth").set(state.visits.depth() as f64);
    metrics::counter!("kurz_visits_enqueued_total").absolute(get(&visits.enqueued));
    metrics::counter!("kurz_visits_dropped_total").absolute(get(&visits.dropped));
    metrics::counter!("kurz_visits_stored_total").absolute(get(&visits.stored));
    metrics::counter!("kurz_visit_batches_total").absolute(get(&visits.batches));
    metrics::counter!("kurz_visit_write_failures_total").absolute(get(&visits.failed_writes));
    metrics::counter!("kurz_orphan_visits_enqueued_total").absolute(get(&visits.orphans_enqueued));
    metrics::counter!("kurz_orphan_visits_dropped_total").absolute(get(&visits.orphans_dropped));
    metrics::counter!("kurz_orphan_visits_stored_total").absolute(get(&visits.orphans_stored));

    metrics::gauge!("kurz_live_subscribers").set(state.live.subscribers() as f64);

    let cache = state.redirects.counters();
    let hits = cache.hits.load(Ordering::Relaxed);
    let misses = cache.misses.load(Ordering::Relaxed);
    metrics::counter!("kurz_redirect_cache_hits_total").absolute(hits);
    metrics::counter!("kurz_redirect_cache_misses_total").absolute(misses);
    metrics::gauge!("kurz_redirect_cache_entries").set(state.redirects.entry_count() as f64);
    let lookups = hits + misses;
    metrics::gauge!("kurz_redirect_cache_hit_ratio").set(if lookups == 0 {
        0.0
    } else {
        hits as f64 / lookups as f64
    });

    let pool = state.store.pool_status();
    metrics::gauge!("kurz_db_pool_connections").set(f64::from(pool.size));
    metrics::gauge!("kurz_db_pool_idle_connections").set(pool.idle as f64);
    metrics::gauge!("kurz_db_pool_max_connections").set(f64::from(pool.max));

    let handle = crate::prometheus::handle();
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}
