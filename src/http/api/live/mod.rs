//! `GET /api/visits/live` and `GET /api/urls/{slug}/visits/live`: a WebSocket upgrade gets a
//! WebSocket, any other `GET` (`Accept: text/event-stream`) Server-Sent Events.

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

mod message;
mod sse;
mod ws;

pub use message::{LiveMessage, ENCODING};
use sse::LiveEvent;

use super::responses;
use super::{url_not_found, QueryParams, SlugPath};
use crate::http::auth::authenticate;
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::live::LiveScope;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LiveParams {
    /// An API token, for clients that cannot send headers (a browser's `EventSource` and
    /// `WebSocket`). Headers are preferred: query strings end up in access logs.
    pub access_token: Option<String>,
}

/// Watch the visits of every short link as they are stored.
///
/// A WebSocket upgrade gets a WebSocket (one text frame per message); any other `GET`, such as
/// `Accept: text/event-stream`, gets Server-Sent Events (one event per message, named by its
/// `type`). The first message is `totals`; then one `visit` per visit stored, the same object
/// the visit lists return, and `lagged` when the client fell behind. See docs/api.md.
///
/// The key may also come as `access_token` (browsers' `EventSource` and `WebSocket` send no
/// headers). 503 also when `live.max_subscribers` streams are open already.
#[utoipa::path(
    get,
    path = "/visits/live",
    operation_id = "watch_visits",
    tag = "visits",
    params(LiveParams),
    security(("bearer" = []), ("api_key" = []), ("access_token" = [])),
    responses(
        (status = 101, description = "Switching to a WebSocket (the request asked for an upgrade)"),
        (status = 200, description = "A stream of Server-Sent Events until the client leaves or the server stops: \
            per message, `event: <type>` and `data: <the message as JSON>` (schema `LiveMessage`), then a blank \
            line; a comment line (`:`) every `live.heartbeat_secs`. The schema describes one event",
            body = LiveEvent, content_type = "text/event-stream"),
        (status = 401, response = responses::Unauthorized),
        (status = 422, response = responses::ValidationFailed),
        (status = 500, response = responses::Internal),
        (status = 503, response = responses::Unavailable),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn all_visits(
    State(state): State<AppState>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    headers: HeaderMap,
    QueryParams(params): QueryParams<LiveParams>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers, params.access_token.as_deref()).await?;
    // An editor sees the visits of the URLs its key created; every other role all of them.
    let owner = caller.owner_filter();
    let scope = owner.map_or(LiveScope::All, LiveScope::OwnedBy);
    let subscription = state
        .live
        .subscribe(scope)
        .map_err(|_| ApiError::Overloaded)?;
    let visits = state.store.visit_total(owner).await?;
    let first = LiveMessage::Totals { visits, url: None }.outgoing();
    respond(&state, upgrade, &headers, subscription, first)
}

/// Watch the visits of one short link as they are stored.
///
/// The same stream as `GET /api/visits/live`, with only this URL's visits; the first message's
/// `visits` is the URL's `visit_count`. The key may also come as `access_token`; 503 also when
/// `live.max_subscribers` streams are open already.
#[utoipa::path(
    get,
    path = "/urls/{slug}/visits/live",
    operation_id = "watch_url_visits",
    tag = "visits",
    params(
        ("slug" = String, Path, description = "The short link's slug (case-sensitive)"),
        LiveParams
    ),
    security(("bearer" = []), ("api_key" = []), ("access_token" = [])),
    responses(
        (status = 101, description = "Switching to a WebSocket (the request asked for an upgrade)"),
        (status = 200, description = "A stream of Server-Sent Events until the client leaves or the server stops: \
            per message, `event: <type>` and `data: <the message as JSON>` (schema `LiveMessage`), then a blank \
            line; a comment line (`:`) every `live.heartbeat_secs`. The schema describes one event",
            body = LiveEvent, content_type = "text/event-stream"),
        (status = 404, response = responses::NotFound),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 422, response = responses::ValidationFailed),
        (status = 500, response = responses::Internal),
        (status = 503, response = responses::Unavailable),
    )
)]
#[tracing::instrument(skip_all, fields(slug = %slug))]
pub async fn url_visits(
    State(state): State<AppState>,
    SlugPath(slug): SlugPath,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    headers: HeaderMap,
    QueryParams(params): QueryParams<LiveParams>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers, params.access_token.as_deref()).await?;
    let url = state.store.get_url(&slug).await.map_err(url_not_found)?;
    caller.require_read_url(&url)?;
    let subscription = state
        .live
        .subscribe(LiveScope::Url(url.id))
        .map_err(|_| ApiError::Overloaded)?;
    // Read again after subscribing, so no visit falls between the count and the stream.
    let url = state.store.get_url(&slug).await?;
    let first = LiveMessage::Totals {
        visits: url.visit_count,
        url: Some(url.slug.to_string()),
    }
    .outgoing();
    respond(&state, upgrade, &headers, subscription, first)
}

fn respond(
    state: &AppState,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    headers: &HeaderMap,
    subscription: crate::live::Subscription,
    first: crate::live::Outgoing,
) -> Result<Response, ApiError> {
    let wants_websocket = headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if !wants_websocket {
        return Ok(sse::respond(&state.live, subscription, first));
    }
    match upgrade {
        Ok(upgrade) => Ok(ws::respond(&state.live, upgrade, subscription, first)),
        Err(rejection) => Ok(rejection.into_response()),
    }
}
