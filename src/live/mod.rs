//! Live visits: every visit stored, pushed to the clients watching as soon as it is enriched.
//!
//! The [`LiveHub`] fans visits out inside one process through a `tokio::sync::broadcast`
//! channel: publishing never waits, and a subscriber that falls more than
//! `live.channel_capacity` visits behind is told how many it missed and goes on. Each stream has
//! its own task (a "pump") that takes messages from the hub and hands them to the client,
//! waiting at most `live.send_timeout_secs` per message before it disconnects a stuck client.
//! Where the visits come from (this instance's writer, or other instances through PostgreSQL)
//! is the [`crate::cluster`]'s business; the HTTP endpoints are `crate::http::api::live`.

mod hub;

use axum::extract::ws::Utf8Bytes;

pub use hub::{LiveHub, LiveScope, Subscription, SubscriptionsFull};

use crate::store::VisitRecord;

/// A message ready to send: its SSE event name and its JSON, serialised once for every
/// subscriber and shared by reference (a WebSocket frame is sent without copying it).
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub kind: &'static str,
    pub json: Utf8Bytes,
}

/// How the hub turns what it fans out into messages: the streams' wire format, which the HTTP
/// API owns (`crate::http::api::live::message::ENCODING`). A visit is encoded once, whatever
/// the number of its subscribers, and only when someone watches.
#[derive(Clone, Copy)]
pub struct Encoding {
    pub visit: fn(VisitRecord) -> Outgoing,
    /// The notice to a stream that fell this many visits behind.
    pub lagged: fn(u64) -> Outgoing,
}
