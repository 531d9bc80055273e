//! Webhook deliveries. Events are queued by the store in the transaction of what they
//! describe (`store::webhooks`); the [`worker`] claims due deliveries (leased, so instances
//! sharing a database never send the same one at once, and a crashed instance's come back),
//! renders each ([`envelope`]), signs it ([`signature`]) and posts it ([`client`]), retrying
//! with exponential backoff up to `webhooks.max_attempts`.

pub mod client;
pub mod envelope;
pub mod signature;
pub mod worker;

pub use client::{WebhookClient, DELIVERY_HEADER, EVENT_HEADER};
pub use signature::{sign, verify, SIGNATURE_HEADER};
pub use worker::{backoff, Deliverer};
