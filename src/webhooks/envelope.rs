//! What a delivery's body says: `{"id", "event", "created_at", "data"}`, `data` rendered from
//! the event's stored snapshot as the API renders the same things (`crate::views`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::store::{ClaimedDelivery, LinkSnapshot, VisitRecord, VisitSnapshot};
use crate::views::{UrlView, VisitView};

/// A delivery's JSON body.
#[derive(Debug, Serialize)]
pub struct Envelope {
    /// The delivery's id: the same on every attempt, for receivers to drop repeats.
    pub id: i64,
    pub event: String,
    /// When the event happened (was queued).
    pub created_at: DateTime<Utc>,
    /// A link object (`link.*`), an array of visit objects (`visit`), or the event's own
    /// data.
    pub data: Value,
}

/// The body of `delivery`, whose links' short URLs start with `public_url`.
pub fn render(delivery: &ClaimedDelivery, public_url: &str) -> Result<Vec<u8>, serde_json::Error> {
    let data = match delivery.event.as_str() {
        "link.created" | "link.updated" | "link.deleted" => {
            let link: LinkSnapshot = serde_json::from_str(&delivery.payload)?;
            serde_json::to_value(UrlView::from_snapshot(public_url, link))?
        }
        "visit" => {
            let visits: Vec<VisitSnapshot> = serde_json::from_str(&delivery.payload)?;
            let views: Vec<VisitView> = visits
                .into_iter()
                .map(|visit| VisitView::from(VisitRecord::from(visit)))
                .collect();
            serde_json::to_value(views)?
        }
        _ => serde_json::from_str(&delivery.payload)?,
    };
    serde_json::to_vec(&Envelope {
        id: delivery.id,
        event: delivery.event.clone(),
        created_at: delivery.created_at,
        data,
    })
}
