//! The messages of a live stream. Every message is one JSON object with a `type`; over SSE the
//! same JSON is the event's data and `type` is also the event's name.

use serde::Serialize;
use utoipa::ToSchema;

use crate::http::api::VisitView;
use crate::live::{Encoding, Outgoing};
use crate::store::VisitRecord;

/// How the live hub serialises what it fans out: these messages, as JSON.
pub const ENCODING: Encoding = Encoding {
    visit: |record: VisitRecord| {
        LiveMessage::Visit {
            visit: Box::new(VisitView::from(record)),
        }
        .outgoing()
    },
    lagged: |missed| LiveMessage::Lagged { missed }.outgoing(),
};

/// One message of a live stream (`GET /api/visits/live`, `GET /api/urls/{slug}/visits/live`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveMessage {
    /// The first message: the visits stored so far (all of them, or the URL's `visit_count`).
    /// Read just after subscribing, so a visit pushed next may already be counted here.
    Totals {
        visits: i64,
        /// The slug of the stream's URL; `null` on the stream of all visits.
        #[schema(required = true)]
        url: Option<String>,
    },
    /// One visit, as the visit lists return it, once enriched.
    Visit { visit: Box<VisitView> },
    /// The client fell behind: this many visits were skipped; the stream goes on.
    Lagged { missed: u64 },
}

impl LiveMessage {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Totals { .. } => "totals",
            Self::Visit { .. } => "visit",
            Self::Lagged { .. } => "lagged",
        }
    }

    pub fn outgoing(&self) -> Outgoing {
        // Serialising these plain structs cannot fail; an empty object would be harmless.
        let json = serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"));
        Outgoing {
            kind: self.kind(),
            json: json.into(),
        }
    }
}
