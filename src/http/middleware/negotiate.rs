//! Content negotiation on `/api`: a browser's `GET` is answered by the JSON API as usual, and
//! the JSON is then rendered into an HTML page for that endpoint.

use askama::Template;
use axum::body::to_bytes;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use super::csrf;
use crate::http::error::ApiError;
use crate::http::explorer::{pages, secure_headers};
use crate::http::site::accepts_html;
use crate::http::state::AppState;

/// Largest API answer rendered; pages are bounded by `pagination.max_limit`, so this is ample.
const MAX_JSON_BYTES: usize = 16 * 1024 * 1024;

pub async fn negotiate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    // Live streams never end, so they cannot be rendered; the URL page shows them instead.
    if request.method() != Method::GET
        || !accepts_html(request.headers())
        || request.uri().path().ends_with("/live")
    {
        return next.run(request).await;
    }
    let uri = request
        .extensions()
        .get::<OriginalUri>()
        .map(|original| original.0.clone())
        .unwrap_or_else(|| request.uri().clone());
    let (token, set_cookie) = csrf::token_for(request.headers());
    request
        .headers_mut()
        .insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    let response = next.run(request).await;
    let status = response.status();
    let json = match to_bytes(response.into_body(), MAX_JSON_BYTES).await {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        Err(_) => serde_json::Value::Null,
    };
    let page = pages::build(
        &state,
        uri.path(),
        uri.query().unwrap_or(""),
        status,
        json,
        token,
    )
    .await;
    let html = match page.render() {
        Ok(html) => html,
        Err(error) => {
            return ApiError::Internal(anyhow::Error::new(error).context("explorer template"))
                .into_response()
        }
    };
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    secure_headers(headers);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(cookie) = set_cookie {
        headers.insert(header::SET_COOKIE, cookie);
    }
    response
}
