//! Live visits: every visit stored, pushed to the clients watching as soon as it is enriched.
//!
//! The [`LiveHub`] fans visits out inside one process through a `tokio::sync::broadcast`
//! channel: publishing never waits, and a subscriber that falls more than
//! `live.channel_capacity` visits behind is told how many it missed and goes on. Each stream has
//! its own task (a "pump") that takes messages from the hub and hands them to the client,
//! waiting at most `live.send_timeout_secs` per message before it disconnects a stuck client.
//! Where the visits come from (this instance's writer, or other instances through PostgreSQL)
//! is the [`crate::cluster`]'s business.

pub mod http;
mod hub;
mod message;
mod sse;
mod ws;

pub use http::{all_visits, url_visits, LiveParams};
pub use hub::{LiveHub, LiveScope, Subscription, SubscriptionsFull};
pub use message::{LiveMessage, Outgoing};
