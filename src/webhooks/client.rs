//! One attempt at a delivery: the endpoint's URL through the outbound guard (target policy,
//! every resolved address checked, the connection made to the checked address, no redirects
//! followed), a signed JSON `POST`, the whole attempt bounded by the timeout.

use std::time::Duration;

use chrono::Utc;
use reqwest::header::CONTENT_TYPE;

use super::signature::{sign, SIGNATURE_HEADER};
use crate::outbound::OutboundGuard;

/// The event's name, for receivers that route before parsing.
pub const EVENT_HEADER: &str = "kurz-event";
/// The delivery's id, the same on every attempt, for receivers to drop repeats.
pub const DELIVERY_HEADER: &str = "kurz-delivery";

const USER_AGENT: &str = concat!("kurz/", env!("CARGO_PKG_VERSION"), " (webhooks)");

/// A request to send.
pub struct Request<'a> {
    pub url: &'a str,
    pub secret: &'a str,
    pub event: &'a str,
    pub delivery_id: i64,
    pub body: Vec<u8>,
}

/// How an attempt went: the answer's status, or why there was none.
#[derive(Debug)]
pub enum Answer {
    Status(u16),
    NoAnswer(String),
}

#[derive(Clone)]
pub struct WebhookClient {
    guard: OutboundGuard,
    timeout: Duration,
}

impl WebhookClient {
    pub fn new(guard: OutboundGuard, timeout: Duration) -> Self {
        Self { guard, timeout }
    }

    pub async fn send(&self, request: Request<'_>) -> Answer {
        match tokio::time::timeout(self.timeout, self.post(request)).await {
            Ok(Ok(status)) => Answer::Status(status),
            Ok(Err(why)) => Answer::NoAnswer(why),
            Err(_) => Answer::NoAnswer(format!("no answer within {:?}", self.timeout)),
        }
    }

    async fn post(&self, request: Request<'_>) -> Result<u16, String> {
        let url = self.guard.checked(request.url).map_err(|e| e.to_string())?;
        let address = self.guard.resolve(&url).await.map_err(|e| e.to_string())?;
        let client = self
            .guard
            .client(&url, address, USER_AGENT, Some(self.timeout))
            .map_err(|e| e.to_string())?;
        // Hashing a visit batch's body (hundreds of KiB) runs off the runtime's workers.
        let (secret, body, now) = (request.secret.to_owned(), request.body, Utc::now());
        let (body, signature) = tokio::task::spawn_blocking(move || {
            let signature = sign(&secret, now.timestamp(), &body);
            (body, signature)
        })
        .await
        .map_err(|e| format!("cannot sign the body: {e}"))?;
        let response = client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature)
            .header(EVENT_HEADER, request.event)
            .header(DELIVERY_HEADER, request.delivery_id.to_string())
            .body(body)
            .send()
            .await
            .map_err(|e| without_url(&e))?;
        Ok(response.status().as_u16())
    }
}

/// A transport error's text, with its cause but without the URL (which may carry a token).
fn without_url(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "cannot connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
