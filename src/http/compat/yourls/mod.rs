//! YOURLS's API, `GET` or `POST /yourls-api.php` (`compat.yourls`): the actions its clients
//! call (ShareX, WordPress plugins, bots, the PyPI `yourls` client), answered from kurz's links
//! in YOURLS's shapes and formats. See docs/compat.md.

mod actions;
mod auth;
mod output;
mod params;

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

pub use params::YourlsParams;

use crate::http::api::responses;
use crate::http::error::ApiError;
use crate::http::state::AppState;
use output::{Answer, Format};

/// A YOURLS answer as documented: any JSON object (YOURLS's members differ per action).
#[derive(utoipa::ToSchema)]
#[schema(value_type = Object)]
pub struct YourlsAnswer(#[allow(dead_code)] Map<String, Value>);

/// YOURLS's API (query parameters).
///
/// `action` is `shorturl` (`url`, `keyword`, `title`), `expand` or `url-stats` (`shorturl`),
/// `stats` (`filter`, `limit`, `start`), `db-stats` or `version` (`db`). Authenticate with
/// `signature` (a kurz API key, or its token from `kurz apikey yourls-token`), or `signature`
/// with `timestamp` and `hash`; without them, as the native API (headers, or anonymous in
/// development). The answer is in `format`: `xml` (the default), `json`, `jsonp` (with
/// `callback`) or `simple`; its HTTP status is the answer's `statusCode` or `errorCode`.
#[utoipa::path(
    get,
    path = "/yourls-api.php",
    operation_id = "yourls_api_get",
    tag = "yourls-compat",
    params(YourlsParams),
    responses(
        (status = 200, description = "The action's answer",
            content((YourlsAnswer = "application/json"), (String = "application/xml"),
                    (String = "application/javascript"), (String = "text/plain"))),
        (status = 400, description = "Unknown action, a missing or malformed URL, a keyword taken, a long URL shortened already, or a JSONP callback that is not a plain name",
            content((YourlsAnswer = "application/json"), (String = "application/xml"),
                    (String = "application/javascript"), (String = "text/plain"))),
        (status = 403, description = "\"Please log in\": no valid signature, or the caller may not create",
            content((YourlsAnswer = "application/json"), (String = "application/xml"),
                    (String = "application/javascript"), (String = "text/plain"))),
        (status = 404, description = "No such short URL (`expand`, `url-stats`), or the YOURLS API is turned off",
            content((YourlsAnswer = "application/json"), (String = "application/xml"),
                    (String = "application/javascript"), (String = "text/plain"),
                    (crate::http::error::Problem = "application/problem+json"))),
        (status = 429, description = "Too many links created by this caller",
            content((YourlsAnswer = "application/json"), (String = "application/xml"),
                    (String = "application/javascript"), (String = "text/plain"))),
        (status = 500, response = responses::Internal),
        (status = 503, response = responses::Unavailable),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn yourls_get(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = read_params(query.as_deref().unwrap_or_default().as_bytes(), &[]);
    answer(&state, peer, &headers, params).await
}

/// YOURLS's API (form body).
///
/// The parameters of `GET /yourls-api.php` as an `application/x-www-form-urlencoded` body
/// (query parameters count too; the body's win, as in PHP's `$_REQUEST`).
#[utoipa::path(
    post,
    path = "/yourls-api.php",
    operation_id = "yourls_api_post",
    tag = "yourls-compat",
    request_body(content = YourlsParams, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The action's answer",
            content((YourlsAnswer = "application/json"), (String = "application/xml"),
                    (String = "application/javascript"), (String = "text/plain"))),
        (status = 400, description = "As for `GET`",
            content((YourlsAnswer = "application/json"), (String = "application/xml"),
                    (String = "application/javascript"), (String = "text/plain"))),
        (status = 403, description = "\"Please log in\"",
            content((YourlsAnswer = "application/json"), (String = "application/xml"),
                    (String = "application/javascript"), (String = "text/plain"))),
        (status = 404, description = "No such short URL, or the YOURLS API is turned off",
            content((YourlsAnswer = "application/json"), (String = "application/xml"),
                    (String = "application/javascript"), (String = "text/plain"),
                    (crate::http::error::Problem = "application/problem+json"))),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 429, description = "Too many links created by this caller",
            content((YourlsAnswer = "application/json"), (String = "application/xml"),
                    (String = "application/javascript"), (String = "text/plain"))),
        (status = 500, response = responses::Internal),
        (status = 503, response = responses::Unavailable),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn yourls_post(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let params = read_params(query.as_deref().unwrap_or_default().as_bytes(), &body);
    answer(&state, peer, &headers, params).await
}

/// The parameters of a query and a form body, the body's winning and the last of a repeated
/// name winning, as PHP reads them.
fn read_params(query: &[u8], body: &[u8]) -> YourlsParams {
    let mut values = Map::new();
    for (name, value) in url::form_urlencoded::parse(query).chain(url::form_urlencoded::parse(body))
    {
        values.insert(name.into_owned(), Value::String(value.into_owned()));
    }
    // Unknown names are ignored; every known one is text, so this cannot fail.
    serde_json::from_value(Value::Object(values)).unwrap_or_default()
}

async fn answer(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    params: YourlsParams,
) -> Response {
    if !state.settings.compat.yourls.enabled {
        return ApiError::not_found("the YOURLS API is turned off (compat.yourls.enabled)")
            .into_response();
    }
    let callback = params.text(&params.callback).or(params.text(&params.jsonp));
    let format = match Format::of(params.text(&params.format), callback) {
        Ok(format) => format,
        Err(refused) => return refused.render(&Format::Json),
    };
    let caller = match auth::caller(state, headers, &params).await {
        Ok(caller) => caller,
        Err(refused) => return refused.render(&format),
    };
    let answer = match params.text(&params.action) {
        Some("shorturl") => {
            let client = state.client_ip.resolve(peer.ip(), headers);
            actions::shorturl(state, caller, client, &params).await
        }
        Some("expand") => actions::expand(state, caller, &params).await,
        Some("url-stats") => actions::url_stats(state, caller, &params).await,
        Some("stats") => actions::stats(state, caller, &params).await,
        Some("db-stats") => actions::db_stats(state, caller).await,
        Some("version") => actions::version(state, &params),
        _ => Answer::error(400, "Unknown or missing \"action\" parameter"),
    };
    answer.render(&format)
}
