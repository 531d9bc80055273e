//! The browsable HTML explorer, for development (cargo feature `explorer`, setting
//! `explorer.enabled`). A browser opening any `/api/...` URL gets an HTML page for that
//! endpoint: the JSON pretty-printed, keyset pagination links, and forms for the methods the
//! endpoint allows. Every picker is a search-as-you-type box backed by a bounded endpoint
//! (`GET /api/urls/search`, `GET /api/tags?q=`); no page ever lists all rows.

mod chart;
pub(crate) mod pages;
mod tags;
mod webhooks;

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::http::error::ApiError;
use crate::http::state::AppState;

const EXPLORER_JS: &str = include_str!("../../../assets/explorer/explorer.js");
const EXPLORER_CSS: &str = include_str!("../../../assets/explorer/explorer.css");

/// Headers every explorer response carries: no indexing, no framing, scripts and styles only
/// from kurz itself.
pub(crate) fn secure_headers(headers: &mut HeaderMap) {
    let set = |headers: &mut HeaderMap, name: &'static str, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(headers, "x-robots-tag", "noindex, nofollow");
    set(
        headers,
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    );
    set(headers, "referrer-policy", "same-origin");
    set(headers, "x-frame-options", "DENY");
}

/// `/explorer/static/{file}`: the explorer's script and stylesheet, served by kurz itself.
pub fn router() -> Router<AppState> {
    Router::new().route("/explorer/static/{file}", get(asset))
}

async fn asset(Path(file): Path<String>) -> Response {
    let (body, content_type) = match file.as_str() {
        "explorer.js" => (EXPLORER_JS, "text/javascript; charset=utf-8"),
        "explorer.css" => (EXPLORER_CSS, "text/css; charset=utf-8"),
        _ => return ApiError::not_found("no such explorer asset").into_response(),
    };
    let mut response = ([(header::CONTENT_TYPE, content_type)], body).into_response();
    secure_headers(response.headers_mut());
    response
}
