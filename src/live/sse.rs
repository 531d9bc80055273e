//! Server-Sent Events: `Accept: text/event-stream` (or any plain `GET`) gets the stream as an
//! SSE body. Each message is an event named by its `type` with the JSON as data; comment lines
//! every `live.heartbeat_secs` keep proxies from closing an idle stream.

use std::convert::Infallible;

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;

use super::hub::{LiveHub, Subscription};
use super::message::Outgoing;

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
