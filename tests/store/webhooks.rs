//! Webhooks in the store: endpoints with their subscriptions, events queued in the transaction
//! of what they describe (only for subscribed endpoints, a visit batch as one array), deliveries
//! claimed under a lease, attempts recorded, retries, release and pruning.

use std::time::Duration;

use chrono::Utc;
use kurz::domain::{WebhookEvent, WebhookSecret};
use kurz::store::{
    DeliveryOutcome, LinkSnapshot, NewAttempt, NewWebhook, StoreError, UrlPatch, VisitBatchRef,
    WebhookPatch, VISITS_PER_DELIVERY,
};

use super::{first_page, fixture, visit, Backend, Fixture};

const LEASE: Duration = Duration::from_secs(60);

impl Fixture {
    async fn hook(&self, url: &str, events: &[WebhookEvent]) -> i64 {
        self.store
            .create_webhook(NewWebhook {
                url: url.into(),
                secret: WebhookSecret::parse("0123456789abcdef").unwrap(),
                events: events.to_vec(),
                created_by: None,
            })
            .await
            .expect("registered")
            .id
    }
}

fn attempt(status: Option<u16>) -> NewAttempt {
    NewAttempt {
        attempted_at: Utc::now(),
        status_code: status,
        duration: Duration::from_millis(12),
        error: status
            .filter(|s| *s >= 300)
            .map(|s| format!("answered {s}")),
    }
}

async fn endpoints_are_stored_changed_and_deleted(backend: Backend) {
    let f = fixture(backend).await;
    let id = f
        .hook(
            "https://hooks.example.com/a",
            &[WebhookEvent::Visit, WebhookEvent::LinkCreated],
        )
        .await;
    let other = f
        .hook("https://hooks.example.com/b", &[WebhookEvent::OrphanVisit])
        .await;
    let hook = f.store.get_webhook(id).await.unwrap();
    assert_eq!(hook.url, "https://hooks.example.com/a");
    assert_eq!(hook.secret.as_str(), "0123456789abcdef");
    assert_eq!(
        hook.events,
        vec![WebhookEvent::Visit, WebhookEvent::LinkCreated]
    );
    let all = f.store.list_webhooks().await.unwrap();
    assert_eq!(
        all.iter().map(|h| h.id).collect::<Vec<_>>(),
        vec![id, other]
    );

    let changed = f
        .store
        .update_webhook(
            id,
            WebhookPatch {
                events: Some(vec![WebhookEvent::LinkDeleted]),
                ..WebhookPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(changed.events, vec![WebhookEvent::LinkDeleted]);
    assert_eq!(changed.url, "https://hooks.example.com/a");
    assert!(changed.updated_at >= hook.updated_at);

    f.store.delete_webhook(id).await.unwrap();
    assert!(matches!(
        f.store.get_webhook(id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        f.store.delete_webhook(id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        f.store.update_webhook(id, WebhookPatch::default()).await,
        Err(StoreError::NotFound)
    ));
}

async fn link_changes_queue_events_for_subscribers_only(backend: Backend) {
    let f = fixture(backend).await;
    // Nothing subscribes: nothing is queued.
    f.create("before", "https://example.com/before").await;
    assert!(f
        .store
        .claim_deliveries(10, LEASE, &[])
        .await
        .unwrap()
        .is_empty());

    let all = f
        .hook(
            "https://hooks.example.com/all",
            &[
                WebhookEvent::LinkCreated,
                WebhookEvent::LinkUpdated,
                WebhookEvent::LinkDeleted,
            ],
        )
        .await;
    let created_only = f
        .hook(
            "https://hooks.example.com/created",
            &[WebhookEvent::LinkCreated],
        )
        .await;
    let record = f.create("spring", "https://example.com/spring").await;
    let slug = f.slug("spring");
    f.store
        .update_url(
            &slug,
            UrlPatch {
                title: Some(Some(kurz::domain::Title::parse("Spring").unwrap())),
                ..UrlPatch::default()
            },
        )
        .await
        .unwrap();
    f.store.delete_url(&slug).await.unwrap();

    let claimed = f.store.claim_deliveries(10, LEASE, &[]).await.unwrap();
    let seen: Vec<(i64, &str)> = claimed
        .iter()
        .map(|d| (d.endpoint_id, d.event.as_str()))
        .collect();
    assert_eq!(seen.len(), 4, "{seen:?}");
    for expected in [
        (all, "link.created"),
        (created_only, "link.created"),
        (all, "link.updated"),
        (all, "link.deleted"),
    ] {
        assert!(seen.contains(&expected), "{expected:?} in {seen:?}");
    }
    let created: LinkSnapshot = serde_json::from_str(&claimed[0].payload).unwrap();
    assert_eq!(created, LinkSnapshot::from(&record));
    let updated = claimed.iter().find(|d| d.event == "link.updated").unwrap();
    let updated: LinkSnapshot = serde_json::from_str(&updated.payload).unwrap();
    assert_eq!(updated.title.as_deref(), Some("Spring"));
    let deleted = claimed.iter().find(|d| d.event == "link.deleted").unwrap();
    let deleted: LinkSnapshot = serde_json::from_str(&deleted.payload).unwrap();
    assert_eq!(deleted.slug, "spring");
    assert_eq!(deleted.title.as_deref(), Some("Spring"));
}

async fn a_visit_batch_is_one_delivery_per_endpoint(backend: Backend) {
    let f = fixture(backend).await;
    let record = f.create("clicked", "https://example.com/").await;
    // No subscriber: the batch queues nothing.
    f.store.record_visits(&[visit(record.id, 5)]).await.unwrap();
    assert!(f
        .store
        .claim_deliveries(10, LEASE, &[])
        .await
        .unwrap()
        .is_empty());

    let hook = f
        .hook("https://hooks.example.com/v", &[WebhookEvent::Visit])
        .await;
    let ids = f
        .store
        .record_visits(&[
            visit(record.id, 3),
            visit(record.id, 2),
            visit(record.id, 1),
        ])
        .await
        .unwrap();
    let claimed = f.store.claim_deliveries(10, LEASE, &[]).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].endpoint_id, hook);
    assert_eq!(claimed[0].event, "visit");
    let batch: VisitBatchRef = serde_json::from_str(&claimed[0].payload).unwrap();
    assert_eq!(batch.visit_ids, ids);
    f.store
        .record_attempt(&claimed[0], &attempt(Some(204)), DeliveryOutcome::Delivered)
        .await
        .unwrap();

    // A batch past VISITS_PER_DELIVERY is split in order, each part to every endpoint.
    let second = f
        .hook("https://hooks.example.com/w", &[WebhookEvent::Visit])
        .await;
    let many: Vec<_> = (0..VISITS_PER_DELIVERY + 3)
        .map(|n| visit(record.id, n as i64 % 7))
        .collect();
    let ids = f.store.record_visits(&many).await.unwrap();
    let claimed = f.store.claim_deliveries(10, LEASE, &[]).await.unwrap();
    assert_eq!(claimed.len(), 4);
    for endpoint in [hook, second] {
        let parts: Vec<Vec<i64>> = claimed
            .iter()
            .filter(|d| d.endpoint_id == endpoint)
            .map(|d| {
                serde_json::from_str::<VisitBatchRef>(&d.payload)
                    .unwrap()
                    .visit_ids
            })
            .collect();
        assert_eq!(parts.len(), 2, "endpoint {endpoint}");
        assert_eq!(parts[0].len(), VISITS_PER_DELIVERY);
        assert_eq!(parts.concat(), ids);
    }
}

async fn claims_lease_retries_and_finish(backend: Backend) {
    let f = fixture(backend).await;
    let hook = f
        .hook("https://hooks.example.com/a", &[WebhookEvent::LinkCreated])
        .await;
    f.create("one", "https://example.com/1").await;
    f.create("two", "https://example.com/2").await;

    // Busy endpoints are left out; a claimed delivery is not claimed again while leased.
    assert!(f
        .store
        .claim_deliveries(10, LEASE, &[hook])
        .await
        .unwrap()
        .is_empty());
    let first = f.store.claim_deliveries(1, LEASE, &[]).await.unwrap();
    assert_eq!(first.len(), 1);
    let second = f.store.claim_deliveries(10, LEASE, &[]).await.unwrap();
    assert_eq!(second.len(), 1);
    assert_ne!(first[0].id, second[0].id);
    assert!(f
        .store
        .claim_deliveries(10, LEASE, &[])
        .await
        .unwrap()
        .is_empty());

    // A failed attempt with a retry now: due again, its attempt counted.
    f.store
        .record_attempt(
            &first[0],
            &attempt(Some(500)),
            DeliveryOutcome::Retry(Utc::now()),
        )
        .await
        .unwrap();
    let again = f.store.claim_deliveries(10, LEASE, &[]).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, first[0].id);
    assert_eq!(again[0].attempts, 1);
    f.store
        .record_attempt(&again[0], &attempt(Some(204)), DeliveryOutcome::Delivered)
        .await
        .unwrap();

    // Released unattempted: due again, no attempt counted.
    f.store
        .release_deliveries(&[second[0].id], Utc::now())
        .await
        .unwrap();
    let released = f.store.claim_deliveries(10, LEASE, &[]).await.unwrap();
    assert_eq!(released.len(), 1);
    assert_eq!(released[0].attempts, 0);
    f.store
        .record_attempt(&released[0], &attempt(None), DeliveryOutcome::Failed)
        .await
        .unwrap();
    assert!(f
        .store
        .claim_deliveries(10, LEASE, &[])
        .await
        .unwrap()
        .is_empty());

    // A lease that ran out: due again (a crashed deliverer's rows come back).
    f.create("three", "https://example.com/3").await;
    let leased = f
        .store
        .claim_deliveries(10, Duration::from_millis(1), &[])
        .await
        .unwrap();
    assert_eq!(leased.len(), 1);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let back = f.store.claim_deliveries(10, LEASE, &[]).await.unwrap();
    assert_eq!(
        back.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![leased[0].id]
    );

    // The attempts, newest first, with their delivery's state.
    let page = f
        .store
        .list_webhook_attempts(hook, first_page(2))
        .await
        .unwrap();
    let shown: Vec<(Option<i32>, &str)> = page
        .items
        .iter()
        .map(|a| (a.status_code, a.state.as_str()))
        .collect();
    assert_eq!(shown, vec![(None, "failed"), (Some(204), "delivered")]);
    let next = f
        .store
        .list_webhook_attempts(
            hook,
            kurz::store::PageRequest {
                after: page.next,
                limit: 2,
            },
        )
        .await
        .unwrap();
    assert_eq!(next.items.len(), 1);
    assert_eq!(next.items[0].status_code, Some(500));
    assert_eq!(next.items[0].duration_ms, 12);
    assert!(next.next.is_none());

    // Pruning takes finished deliveries and their attempts, not pending ones.
    let pruned = f
        .store
        .prune_webhook_deliveries(Utc::now() + chrono::Duration::seconds(1), 100)
        .await
        .unwrap();
    assert_eq!(pruned, 2);
    let left = f
        .store
        .list_webhook_attempts(hook, first_page(10))
        .await
        .unwrap();
    assert!(left.items.is_empty());
    f.store
        .release_deliveries(&[leased[0].id], Utc::now())
        .await
        .unwrap();
    assert_eq!(
        f.store
            .claim_deliveries(10, LEASE, &[])
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn an_orphan_visit_batch_is_one_delivery_per_endpoint(backend: Backend) {
    use kurz::domain::OrphanKind;
    use kurz::store::NewOrphanVisit;
    let orphan = |path: &str| NewOrphanVisit {
        kind: OrphanKind::InvalidSlug,
        path: path.into(),
        visited_at: Utc::now(),
        client_ip: Some("203.0.113.0".parse().unwrap()),
        user_agent: Some("agent".into()),
        referrer: None,
        referrer_host: None,
        browser: None,
        os: None,
        device: None,
        is_bot: false,
        location: Default::default(),
    };
    let f = fixture(backend).await;
    f.store
        .record_orphan_visits(&[orphan("/before")])
        .await
        .unwrap();
    assert!(f
        .store
        .claim_deliveries(10, LEASE, &[])
        .await
        .unwrap()
        .is_empty());
    let hook = f
        .hook("https://hooks.example.com/o", &[WebhookEvent::OrphanVisit])
        .await;
    let ids = f
        .store
        .record_orphan_visits(&[orphan("/a"), orphan("/b")])
        .await
        .unwrap();
    let claimed = f.store.claim_deliveries(10, LEASE, &[]).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(
        (claimed[0].endpoint_id, claimed[0].event.as_str()),
        (hook, "orphan_visit")
    );
    let data: serde_json::Value = serde_json::from_str(&claimed[0].payload).unwrap();
    let items = data.as_array().unwrap();
    assert_eq!(
        items
            .iter()
            .map(|v| v["id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        ids
    );
    assert_eq!(items[1]["path"], "/b");
    assert_eq!(items[1]["type"], "invalid_slug");
    assert_eq!(items[1]["client_ip"], "203.0.113.0");
}

crate::on_both_backends!(
    an_orphan_visit_batch_is_one_delivery_per_endpoint,
    endpoints_are_stored_changed_and_deleted,
    link_changes_queue_events_for_subscribers_only,
    a_visit_batch_is_one_delivery_per_endpoint,
    claims_lease_retries_and_finish,
);
