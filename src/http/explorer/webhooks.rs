//! The explorer's webhook pages (admins only, like the API under them): the list of endpoints
//! with a form registering one (its generated secret shown once, by explorer.js, from the
//! `POST`'s answer: the API never answers it again), an endpoint's page with its edit and
//! delete forms, and the table of its delivery attempts. Everything is read from the API's
//! own JSON answer.

use serde_json::Value;

use super::pages::{link, Link};
use crate::domain::WebhookEvent;

/// One row of `/api/webhooks`.
pub struct WebhookRow {
    pub id: i64,
    pub href: String,
    pub url: String,
    /// The event names, separated by commas.
    pub events: String,
    pub created: String,
}

/// One of the forms' event checkboxes.
pub struct EventChoice {
    pub name: &'static str,
    pub checked: bool,
}

/// `/api/webhooks`: the endpoints, and the events the create form offers.
pub struct WebhookList {
    pub rows: Vec<WebhookRow>,
    pub events: Vec<EventChoice>,
}

/// `/api/webhooks/{id}`: the endpoint and its edit form's values.
pub struct WebhookDetail {
    pub id: i64,
    pub url: String,
    pub events: Vec<EventChoice>,
    pub created: String,
    pub updated: String,
    pub deliveries_href: String,
}

/// One row of `/api/webhooks/{id}/deliveries`.
pub struct AttemptRow {
    pub time: String,
    pub event: String,
    pub delivery_id: i64,
    /// The endpoint's answer, or `no answer`.
    pub status: String,
    /// Whether it was a 2xx answer.
    pub ok: bool,
    pub duration_ms: i64,
    /// Why it failed, or `-`.
    pub error: String,
    /// The delivery's state now: pending, delivered or failed.
    pub state: String,
}

/// `/api/webhooks/{id}/deliveries`: the page's attempts and the endpoint they belong to.
pub struct AttemptList {
    pub rows: Vec<AttemptRow>,
    pub webhook_href: String,
}

/// The crumbs below `API`: the list, and the endpoint when `id` is given.
pub fn crumbs(id: Option<&str>) -> Vec<Link> {
    let mut crumbs = vec![link("/api/webhooks", "webhooks")];
    if let Some(id) = id {
        crumbs.push(link(format!("/api/webhooks/{id}"), id));
    }
    crumbs
}

/// Every event kurz knows, those of `chosen` checked.
fn choices(chosen: &Value) -> Vec<EventChoice> {
    let chosen: Vec<&str> = chosen
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    WebhookEvent::ALL
        .iter()
        .map(|event| EventChoice {
            name: event.as_str(),
            checked: chosen.contains(&event.as_str()),
        })
        .collect()
}

/// An RFC 3339 time of the answer as `2026-12-02 10:00:00` (UTC), or `-`.
fn time(value: &Value) -> String {
    value
        .as_str()
        .and_then(|text| chrono::DateTime::parse_from_rfc3339(text).ok())
        .map(|time| {
            time.with_timezone(&chrono::Utc)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|| "-".into())
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or("").to_owned()
}

impl WebhookList {
    /// The endpoints of the API's answer (an array of `WebhookView`).
    pub fn of(json: &Value) -> Self {
        let rows = json
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|hook| {
                let id = hook["id"].as_i64()?;
                let events: Vec<&str> = hook["events"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                Some(WebhookRow {
                    id,
                    href: format!("/api/webhooks/{id}"),
                    url: text(&hook["url"]),
                    events: events.join(", "),
                    created: time(&hook["created_at"]),
                })
            })
            .collect();
        Self {
            rows,
            events: choices(&Value::Null),
        }
    }
}

impl WebhookDetail {
    /// The endpoint in the API's answer (`WebhookView`), or `None` when it is not one.
    pub fn of(json: &Value) -> Option<Self> {
        let id = json["id"].as_i64()?;
        Some(Self {
            id,
            url: text(&json["url"]),
            events: choices(&json["events"]),
            created: time(&json["created_at"]),
            updated: time(&json["updated_at"]),
            deliveries_href: format!("/api/webhooks/{id}/deliveries"),
        })
    }
}

impl AttemptList {
    /// The attempts of the API's page of `DeliveryAttemptView`s, of the endpoint `id`.
    pub fn of(id: &str, json: &Value) -> Option<Self> {
        let rows = json["items"]
            .as_array()?
            .iter()
            .map(|attempt| {
                let status = attempt["status_code"].as_i64();
                AttemptRow {
                    time: time(&attempt["attempted_at"]),
                    event: text(&attempt["event"]),
                    delivery_id: attempt["delivery_id"].as_i64().unwrap_or(0),
                    status: status.map_or_else(|| "no answer".into(), |code| code.to_string()),
                    ok: status.is_some_and(|code| (200..300).contains(&code)),
                    duration_ms: attempt["duration_ms"].as_i64().unwrap_or(0),
                    error: attempt["error"].as_str().unwrap_or("-").to_owned(),
                    state: text(&attempt["delivery_state"]),
                }
            })
            .collect();
        Some(Self {
            rows,
            webhook_href: format!("/api/webhooks/{id}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_list_links_each_endpoint_and_offers_every_event() {
        let list = WebhookList::of(&json!([{
            "id": 7, "url": "https://hooks.example.com/a", "events": ["visit", "link.created"],
            "created_at": "2026-12-02T10:00:00.5Z", "updated_at": "2026-12-02T10:00:00Z",
            "created_by": null
        }]));
        assert_eq!(list.rows.len(), 1);
        let row = &list.rows[0];
        assert_eq!(row.href, "/api/webhooks/7");
        assert_eq!(row.events, "visit, link.created");
        assert_eq!(row.created, "2026-12-02 10:00:00");
        let offered: Vec<&str> = list.events.iter().map(|e| e.name).collect();
        assert_eq!(offered, WebhookEvent::ALL.map(WebhookEvent::as_str));
        assert!(list.events.iter().all(|e| !e.checked));
    }

    #[test]
    fn an_endpoints_events_are_checked_in_its_form() {
        let detail = WebhookDetail::of(&json!({
            "id": 3, "url": "https://hooks.example.com/b", "events": ["orphan_visit"]
        }))
        .expect("an endpoint");
        let checked: Vec<&str> = detail
            .events
            .iter()
            .filter(|e| e.checked)
            .map(|e| e.name)
            .collect();
        assert_eq!(checked, ["orphan_visit"]);
        assert_eq!(detail.events.len(), WebhookEvent::ALL.len());
        assert_eq!(detail.deliveries_href, "/api/webhooks/3/deliveries");
        assert!(WebhookDetail::of(&json!({"title": "Not Found"})).is_none());
    }

    #[test]
    fn attempts_without_an_answer_say_so() {
        let list = AttemptList::of(
            "3",
            &json!({"items": [
                {"id": 2, "delivery_id": 1, "event": "visit", "attempted_at": "2026-12-02T10:00:01Z",
                 "status_code": null, "duration_ms": 3, "error": "connection refused",
                 "delivery_state": "pending"},
                {"id": 1, "delivery_id": 1, "event": "visit", "attempted_at": "2026-12-02T10:00:00Z",
                 "status_code": 204, "duration_ms": 12, "error": null, "delivery_state": "delivered"}
            ], "next_cursor": null, "next": null}),
        )
        .expect("a page");
        assert_eq!(list.rows[0].status, "no answer");
        assert!(!list.rows[0].ok);
        assert_eq!(list.rows[0].error, "connection refused");
        assert_eq!(list.rows[1].status, "204");
        assert!(list.rows[1].ok);
        assert_eq!(list.rows[1].error, "-");
        assert_eq!(list.webhook_href, "/api/webhooks/3");
    }
}
