//! What a delivery's body says: `{"id", "event", "created_at", "data"}`, `data` rendered from
//! the event's stored snapshot as the API renders the same things (`crate::views`).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::store::{
    ClaimedDelivery, LinkSnapshot, OrphanVisitRecord, Store, VisitBatchRef, MAX_VISITS_BY_IDS,
};
use crate::views::{OrphanVisitView, UrlView, VisitView};

/// A delivery's JSON body.
#[derive(Debug, Serialize)]
pub struct Envelope<'a, T> {
    /// The delivery's id: the same on every attempt, for receivers to drop repeats.
    pub id: i64,
    pub event: &'a str,
    /// When the event happened (was queued).
    pub created_at: DateTime<Utc>,
    /// A link object (`link.*`), an array of visit objects (`visit`) or orphan visit objects
    /// (`orphan_visit`), or the event's own data.
    pub data: T,
}

/// The body of `delivery`, whose links' short URLs start with `public_url`: its stored data
/// read (a visit batch's visits from `store`) and rendered as the API renders the same things.
pub async fn render(
    delivery: &ClaimedDelivery,
    public_url: &str,
    store: &dyn Store,
) -> anyhow::Result<Vec<u8>> {
    let payload = delivery.payload.as_str();
    let body = match delivery.event.as_str() {
        "link.created" | "link.updated" | "link.deleted" => {
            let link: LinkSnapshot = serde_json::from_str(payload)?;
            body(delivery, UrlView::from_snapshot(public_url, link))?
        }
        "visit" => {
            let batch: VisitBatchRef = serde_json::from_str(payload)?;
            let mut views: Vec<VisitView> = Vec::with_capacity(batch.visit_ids.len());
            for ids in batch.visit_ids.chunks(MAX_VISITS_BY_IDS) {
                let visits = store.visits_by_ids(ids).await?;
                views.extend(visits.into_iter().map(VisitView::from));
            }
            // Up to 500 visits are a millisecond of encoding: off the runtime's workers, which
            // serve redirects.
            let (id, event, created_at) =
                (delivery.id, delivery.event.clone(), delivery.created_at);
            tokio::task::spawn_blocking(move || encode(id, &event, created_at, views)).await??
        }
        "orphan_visit" => {
            let visits: Vec<OrphanVisitRecord> = serde_json::from_str(payload)?;
            let views: Vec<OrphanVisitView> =
                visits.into_iter().map(OrphanVisitView::from).collect();
            body(delivery, views)?
        }
        _ => body(
            delivery,
            serde_json::from_str::<serde_json::Value>(payload)?,
        )?,
    };
    Ok(body)
}

fn body<T: Serialize>(delivery: &ClaimedDelivery, data: T) -> Result<Vec<u8>, serde_json::Error> {
    encode(delivery.id, &delivery.event, delivery.created_at, data)
}

fn encode<T: Serialize>(
    id: i64,
    event: &str,
    created_at: DateTime<Utc>,
    data: T,
) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&Envelope {
        id,
        event,
        created_at,
        data,
    })
}
