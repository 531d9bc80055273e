//! Server-Sent Events: `Accept: text/event-stream` (or any plain `GET`) gets the stream as an
//! SSE body. Each message is an event named by its `type` with the JSON as data; comment lines
//! every `live.heartbeat_secs` keep proxies from closing an idle stream.

use std::convert::Infallible;

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio::sync::mpsc;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

use super::LiveMessage;
use crate::live::{LiveHub, Outgoing, Subscription};

/// The schema of one event of the stream, for the OpenAPI document: an object of the event's
/// fields, as OpenAPI 3.2's `itemSchema` describes a `text/event-stream` (and as schemathesis
/// reads the `schema` of one in OpenAPI 3.1, which has no item schema): `event` is the
/// message's `type`, `data` its JSON (`contentSchema`: [`LiveMessage`]). Heartbeat comments
/// carry no data and are not events.
pub struct LiveEvent;

impl PartialSchema for LiveEvent {
    fn schema() -> RefOr<Schema> {
        // utoipa has no builder for `contentSchema`; it is a JSON Schema 2020-12 keyword, so it
        // is set beside `contentMediaType` through the flattened extensions.
        let content_schema = Extensions::from_iter([(
            "contentSchema",
            json!({ "$ref": format!("#/components/schemas/{}", LiveMessage::name()) }),
        )]);
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "One event of the stream: `event` is the message's `type`; `data` is the \
                 message as JSON (`LiveMessage`)",
            ))
            .property(
                "event",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["totals", "visit", "lagged"])),
            )
            .required("event")
            .property(
                "data",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .content_media_type("application/json")
                    .extensions(Some(content_schema)),
            )
            .required("data")
            .into()
    }
}

impl ToSchema for LiveEvent {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((LiveMessage::name().into(), LiveMessage::schema()));
        LiveMessage::schemas(schemas);
    }
}

/// Messages handed to the HTTP body ahead of the client; past these the pump waits (at most
/// `live.send_timeout_secs`).
const BODY_BUFFER: usize = 16;

pub fn respond(hub: &LiveHub, subscription: Subscription, first: Outgoing) -> Response {
    let (sender, receiver) = mpsc::channel::<Outgoing>(BODY_BUFFER);
    tokio::spawn(pump(subscription, first, sender, hub.send_timeout));
    let events = futures_util::stream::unfold(receiver, |mut receiver| async move {
        let message = receiver.recv().await?;
        let event = Event::default()
            .event(message.kind)
            .data(message.json.as_str());
        Some((Ok::<_, Infallible>(event), receiver))
    });
    let mut response = Sse::new(events)
        .keep_alive(KeepAlive::new().interval(hub.heartbeat))
        .into_response();
    // Tell buffering proxies (nginx) to pass events through at once.
    response.headers_mut().insert(
        "x-accel-buffering",
        axum::http::HeaderValue::from_static("no"),
    );
    response
}

/// Moves messages from the hub to the body until the client leaves, stalls or the server stops;
/// dropping the sender then ends the body.
async fn pump(
    mut subscription: Subscription,
    first: Outgoing,
    sender: mpsc::Sender<Outgoing>,
    send_timeout: std::time::Duration,
) {
    let mut next = Some(first);
    while let Some(message) = next.take() {
        match tokio::time::timeout(send_timeout, sender.send(message)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return,
            Err(_) => {
                tracing::info!("live SSE client stalled; disconnecting it");
                metrics::counter!("kurz_live_disconnected_total", "reason" => "stalled")
                    .increment(1);
                return;
            }
        }
        next = tokio::select! {
            message = subscription.next() => message,
            () = sender.closed() => None,
        };
    }
}
