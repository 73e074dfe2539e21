//! Webhooks in the store, on every backend: endpoints and their limit, the cursor that turns
//! events into deliveries exactly once, claims under a lease that no two workers share,
//! recorded attempts and the delivery state they leave, and replays.

mod backends;

use backends::each_backend;
use jiff::{SignedDuration, Timestamp};
use newsdesk_core::webhook::{ValidWebhook, WebhookEvent};
use newsdesk_core::{Config, ItemInput, ItemKind, ItemStatus, PublicationTimes};
use newsdesk_store::{
    AttemptRecord, ClaimedDelivery, DeliveryOutcome, DeliveryState, NewDelivery, Store, StoreError,
    WebhookChange,
};

const ADMIN: &str = "admin@example.org";

fn change(now: Timestamp) -> WebhookChange<'static> {
    WebhookChange { actor: ADMIN, now }
}

fn endpoint(url: &str, events: &[WebhookEvent]) -> ValidWebhook {
    ValidWebhook {
        url: url.into(),
        description: "Partner app".into(),
        events: events.to_vec(),
    }
}

/// Publishes a story; returns the id of the event that announced it.
async fn publish(store: &dyn Store, slug: &str, now: Timestamp) -> i64 {
    let valid = ItemInput {
        kind: Some(ItemKind::Story),
        section: Some("world".into()),
        slug: Some(slug.into()),
        headline: Some("Ferries run again".into()),
        body: "The first crossing left at six.".into(),
        authors: vec!["amina-rahimova".into()],
        status: Some(ItemStatus::Published),
        ..Default::default()
    }
    .validate(&Config::default(), &Config::default().seed_sections())
    .expect("valid");
    let times = PublicationTimes {
        first_published_at: Some(now),
        published_at: Some(now),
        updated_at: None,
    };
    store
        .create_item(&valid, times, "editor@example.org", now)
        .await
        .expect("create")
        .event
        .expect("published")
        .id
}

/// Turns every event after the cursor into `item.published` deliveries, as the worker does.
async fn enqueue_all(store: &dyn Store, now: Timestamp) -> Option<u64> {
    let from = store.webhook_cursor().await.expect("cursor");
    let events = store.events_after(from, 100).await.expect("events");
    let to = events.last().map_or(from, |e| e.id);
    let deliveries: Vec<NewDelivery> = events
        .iter()
        .map(|e| NewDelivery {
            event_id: e.id,
            event: WebhookEvent::ItemPublished,
            payload: format!(r#"{{"event_id":{}}}"#, e.id),
        })
        .collect();
    store
        .enqueue_webhook_deliveries(from, to, &deliveries, now)
        .await
        .expect("enqueue")
}

fn answered(status: u16, now: Timestamp) -> AttemptRecord {
    AttemptRecord {
        started_at: now,
        duration_ms: 12,
        status_code: Some(status),
        response_excerpt: format!("answer {status}"),
        error: String::new(),
    }
}

async fn claim(store: &dyn Store, now: Timestamp, limit: u32) -> Vec<ClaimedDelivery> {
    let mut claimed = store
        .claim_webhook_deliveries(now, now + SignedDuration::from_secs(40), limit)
        .await
        .expect("claim");
    claimed.sort_by_key(|c| c.id);
    claimed
}

#[tokio::test]
async fn endpoints_are_registered_changed_disabled_and_deleted_with_an_audit_line() {
    each_backend(|store| async move {
        let now = Timestamp::now();
        let hook = store
            .create_webhook(
                &endpoint("https://a.example.org/in", &[WebhookEvent::ItemPublished]),
                "whsec_one",
                2,
                change(now),
            )
            .await
            .expect("create");
        assert_eq!(
            (hook.url.as_str(), hook.secret.as_str(), hook.enabled),
            ("https://a.example.org/in", "whsec_one", true)
        );
        assert_eq!(hook.events, vec![WebhookEvent::ItemPublished]);
        assert_eq!(hook.last_delivery, None);
        store
            .create_webhook(
                &endpoint(
                    "https://b.example.org/in",
                    &[WebhookEvent::CommentPublished],
                ),
                "whsec_two",
                2,
                change(now),
            )
            .await
            .expect("second, at the limit");
        assert!(matches!(
            store
                .create_webhook(
                    &endpoint("https://c.example.org/in", &[WebhookEvent::ItemUpdated]),
                    "whsec_three",
                    2,
                    change(now),
                )
                .await,
            Err(StoreError::Limit { max: 2, .. })
        ));

        store
            .update_webhook(
                hook.id,
                &endpoint(
                    "https://a.example.org/v2",
                    &[WebhookEvent::ItemPublished, WebhookEvent::ItemUnpublished],
                ),
                change(now),
            )
            .await
            .expect("update");
        store
            .set_webhook_enabled(hook.id, false, change(now))
            .await
            .expect("disable");
        store
            .rotate_webhook_secret(hook.id, "whsec_new", change(now))
            .await
            .expect("rotate");
        let changed = store.webhook(hook.id).await.expect("get").expect("there");
        assert_eq!(
            (
                changed.url.as_str(),
                changed.secret.as_str(),
                changed.enabled
            ),
            ("https://a.example.org/v2", "whsec_new", false)
        );
        assert_eq!(
            changed.events,
            vec![WebhookEvent::ItemPublished, WebhookEvent::ItemUnpublished]
        );
        assert_eq!(store.webhooks().await.expect("list").len(), 2);

        store
            .delete_webhook(hook.id, change(now))
            .await
            .expect("delete");
        assert_eq!(store.webhook(hook.id).await.expect("get"), None);
        assert!(matches!(
            store.delete_webhook(hook.id, change(now)).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.set_webhook_enabled(hook.id, true, change(now)).await,
            Err(StoreError::NotFound)
        ));
        let (audit, _) = store.audit_log(20, 0).await.expect("audit");
        let subject = format!("webhook:{}", hook.id);
        for action in [
            "registered the webhook",
            "changed the webhook",
            "disabled the webhook",
            "rotated the webhook's secret",
            "deleted the webhook",
        ] {
            assert!(
                audit
                    .iter()
                    .any(|e| e.action == action && e.subject == subject && e.actor == ADMIN),
                "{action}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn events_become_deliveries_once_for_subscribed_endpoints_registered_before_them() {
    each_backend(|store| async move {
        let now = Timestamp::now();
        let before = publish(&*store, "before-any-webhook", now).await;
        let hook = store
            .create_webhook(
                &endpoint("https://a.example.org/in", &[WebhookEvent::ItemPublished]),
                "whsec_a",
                50,
                change(now),
            )
            .await
            .expect("create");
        let other = store
            .create_webhook(
                &endpoint(
                    "https://b.example.org/in",
                    &[WebhookEvent::CommentPublished],
                ),
                "whsec_b",
                50,
                change(now),
            )
            .await
            .expect("create");
        // A new site's cursor starts at its endpoints' start: the old story is not sent.
        assert_eq!(store.webhook_cursor().await.expect("cursor"), before);

        let first = publish(&*store, "first-after", now).await;
        let second = publish(&*store, "second-after", now).await;
        let from = store.webhook_cursor().await.expect("cursor");
        let events = store.events_after(from, 100).await.expect("events");
        assert_eq!(
            events.iter().map(|e| e.id).collect::<Vec<_>>(),
            vec![first, second]
        );
        let deliveries: Vec<NewDelivery> = events
            .iter()
            .map(|e| NewDelivery {
                event_id: e.id,
                event: WebhookEvent::ItemPublished,
                payload: format!(r#"{{"event_id":{}}}"#, e.id),
            })
            .collect();
        assert_eq!(
            store
                .enqueue_webhook_deliveries(from, second, &deliveries, now)
                .await
                .expect("enqueue"),
            Some(2),
            "one per event for the subscribed endpoint, none for the other"
        );
        assert_eq!(store.webhook_cursor().await.expect("cursor"), second);
        // A second instance that read the same cursor writes nothing.
        assert_eq!(
            store
                .enqueue_webhook_deliveries(from, second, &deliveries, now)
                .await
                .expect("enqueue again"),
            None
        );
        // Even with the cursor in its favour, an event is never delivered twice.
        assert_eq!(
            store
                .enqueue_webhook_deliveries(second, second, &deliveries, now)
                .await
                .expect("enqueue duplicates"),
            Some(0)
        );
        let (log, total) = store.webhook_deliveries(hook.id, 10, 0).await.expect("log");
        assert_eq!(total, 2);
        assert_eq!(
            log.iter().map(|d| d.event_id).collect::<Vec<_>>(),
            vec![second, first],
            "newest first"
        );
        assert!(
            log.iter()
                .all(|d| d.state == DeliveryState::Pending && d.attempts.is_empty())
        );
        assert_eq!(log[0].payload, format!(r#"{{"event_id":{second}}}"#));
        assert_eq!(
            store
                .webhook_deliveries(other.id, 10, 0)
                .await
                .expect("log")
                .1,
            0
        );

        // A disabled endpoint gets no new deliveries.
        store
            .set_webhook_enabled(hook.id, false, change(now))
            .await
            .expect("disable");
        publish(&*store, "while-disabled", now).await;
        assert_eq!(enqueue_all(&*store, now).await, Some(0));
    })
    .await;
}

#[tokio::test]
async fn two_claimers_never_share_an_attempt_and_a_lost_lease_records_nothing() {
    each_backend(|store| async move {
        let now = Timestamp::now();
        let hook = store
            .create_webhook(
                &endpoint("https://a.example.org/in", &[WebhookEvent::ItemPublished]),
                "whsec_a",
                50,
                change(now),
            )
            .await
            .expect("create");
        for i in 0..6 {
            publish(&*store, &format!("story-{i}"), now).await;
        }
        assert_eq!(enqueue_all(&*store, now).await, Some(6));

        let (a, b) = tokio::join!(claim(&*store, now, 4), claim(&*store, now, 4));
        let mut ids: Vec<i64> = a.iter().chain(&b).map(|c| c.id).collect();
        ids.sort_unstable();
        let count = ids.len();
        ids.dedup();
        assert_eq!((count, ids.len()), (6, 6), "every delivery claimed once");
        assert!(a.iter().chain(&b).all(|c| c.attempt == 1
            && c.url == "https://a.example.org/in"
            && c.secret == "whsec_a"
            && c.webhook_id == hook.id));
        assert!(claim(&*store, now, 10).await.is_empty(), "all leased");

        // A worker that stalls past its lease loses the delivery to the next claimer.
        let stalled = a[0].clone();
        let later = stalled.lease_until + SignedDuration::from_secs(1);
        let retaken = claim(&*store, later, 10).await;
        let again = retaken
            .iter()
            .find(|c| c.id == stalled.id)
            .expect("reclaimed after the lease")
            .clone();
        assert_eq!(again.attempt, 2);
        assert!(
            !store
                .record_webhook_attempt(&stalled, &answered(200, now), DeliveryOutcome::Delivered)
                .await
                .expect("record"),
            "the stalled worker's result is not recorded"
        );
        assert!(
            store
                .record_webhook_attempt(&again, &answered(200, later), DeliveryOutcome::Delivered)
                .await
                .expect("record")
        );
        let (log, _) = store.webhook_deliveries(hook.id, 10, 0).await.expect("log");
        let delivered = log.iter().find(|d| d.id == stalled.id).expect("in log");
        assert_eq!(delivered.state, DeliveryState::Delivered);
        assert_eq!(
            delivered
                .attempts
                .iter()
                .map(|a| (a.attempt, a.status_code))
                .collect::<Vec<_>>(),
            vec![(2, Some(200))]
        );
    })
    .await;
}

#[tokio::test]
async fn outcomes_schedule_retries_mark_the_end_and_replays_send_the_same_body() {
    each_backend(|store| async move {
        let now = Timestamp::now();
        let hook = store
            .create_webhook(
                &endpoint("https://a.example.org/in", &[WebhookEvent::ItemPublished]),
                "whsec_a",
                50,
                change(now),
            )
            .await
            .expect("create");
        publish(&*store, "retried", now).await;
        publish(&*store, "given-up", now).await;
        assert_eq!(enqueue_all(&*store, now).await, Some(2));
        let claims = claim(&*store, now, 10).await;
        let (retried, given_up) = (&claims[0], &claims[1]);

        let retry_at = now + SignedDuration::from_secs(30);
        let failure = AttemptRecord {
            started_at: now,
            duration_ms: 10_000,
            status_code: None,
            response_excerpt: String::new(),
            error: "operation timed out".into(),
        };
        assert!(
            store
                .record_webhook_attempt(retried, &failure, DeliveryOutcome::RetryAt(retry_at))
                .await
                .expect("record")
        );
        assert!(
            store
                .record_webhook_attempt(given_up, &answered(500, now), DeliveryOutcome::Failed)
                .await
                .expect("record")
        );
        // Not due before its time; due at it, as the next attempt.
        assert!(
            claim(&*store, retry_at - SignedDuration::from_secs(1), 10)
                .await
                .is_empty()
        );
        let next = claim(&*store, retry_at, 10).await;
        assert_eq!(
            next.iter().map(|c| (c.id, c.attempt)).collect::<Vec<_>>(),
            vec![(retried.id, 2)]
        );
        assert_eq!(next[0].first_attempt_at, retried.first_attempt_at);
        assert!(
            store
                .record_webhook_attempt(
                    &next[0],
                    &answered(204, retry_at),
                    DeliveryOutcome::Delivered
                )
                .await
                .expect("record")
        );

        let (log, _) = store.webhook_deliveries(hook.id, 10, 0).await.expect("log");
        let find = |id: i64| log.iter().find(|d| d.id == id).expect("in log");
        let done = find(retried.id);
        assert_eq!(done.state, DeliveryState::Delivered);
        assert_eq!(
            done.attempts
                .iter()
                .map(|a| (a.attempt, a.status_code, a.error.as_str()))
                .collect::<Vec<_>>(),
            vec![(1, None, "operation timed out"), (2, Some(204), "")]
        );
        assert_eq!(done.attempts[0].duration_ms, 10_000);
        let failed = find(given_up.id);
        assert_eq!(failed.state, DeliveryState::Failed);
        assert_eq!(failed.attempts[0].response_excerpt, "answer 500");
        let listed = store.webhook(hook.id).await.expect("get").expect("there");
        let last = listed.last_delivery.expect("has deliveries");
        assert_eq!(last.state, DeliveryState::Failed, "the newest delivery");

        // A replay is a new pending delivery with the same body.
        let replay = store
            .replay_webhook_delivery(hook.id, given_up.id, change(now))
            .await
            .expect("replay");
        let (log, total) = store.webhook_deliveries(hook.id, 1, 0).await.expect("log");
        assert_eq!(total, 3);
        assert_eq!(
            (log[0].id, log[0].replay_of, log[0].state),
            (replay, Some(given_up.id), DeliveryState::Pending)
        );
        assert_eq!(log[0].payload, failed.payload);
        assert_eq!(log[0].event_id, failed.event_id);
        let resent = claim(&*store, now, 10).await;
        assert_eq!(
            resent.iter().map(|c| (c.id, c.attempt)).collect::<Vec<_>>(),
            vec![(replay, 1)]
        );
        assert_eq!(resent[0].payload, failed.payload);
        // Replaying a replay points at the original.
        let again = store
            .replay_webhook_delivery(hook.id, replay, change(now))
            .await
            .expect("replay the replay");
        let (log, _) = store.webhook_deliveries(hook.id, 1, 0).await.expect("log");
        assert_eq!((log[0].id, log[0].replay_of), (again, Some(given_up.id)));
        // Only a delivery of this endpoint can be replayed through it.
        assert!(matches!(
            store
                .replay_webhook_delivery(hook.id + 1, given_up.id, change(now))
                .await,
            Err(StoreError::NotFound)
        ));

        // Deleting the endpoint takes its log with it.
        store
            .delete_webhook(hook.id, change(now))
            .await
            .expect("delete");
        assert_eq!(
            store
                .webhook_deliveries(hook.id, 10, 0)
                .await
                .expect("log")
                .1,
            0
        );
    })
    .await;
}

#[tokio::test]
async fn delivered_webhooks_past_their_retention_are_pruned_and_the_rest_stay() {
    each_backend(|store| async move {
        let now = Timestamp::now();
        let old = now - SignedDuration::from_hours(24 * 40);
        let hook = store
            .create_webhook(
                &endpoint("https://a.example.org/in", &[WebhookEvent::ItemPublished]),
                "whsec_a",
                50,
                change(old),
            )
            .await
            .expect("create");
        for slug in ["delivered-old", "failed-old", "replayed-old"] {
            publish(&*store, slug, old).await;
        }
        assert_eq!(enqueue_all(&*store, old).await, Some(3));
        let claims = claim(&*store, old, 10).await;
        for (claimed, status, outcome) in [
            (&claims[0], 200, DeliveryOutcome::Delivered),
            (&claims[1], 500, DeliveryOutcome::Failed),
            (&claims[2], 200, DeliveryOutcome::Delivered),
        ] {
            assert!(
                store
                    .record_webhook_attempt(claimed, &answered(status, old), outcome)
                    .await
                    .expect("record")
            );
        }
        // A replay still waiting keeps its delivered original.
        let replay = store
            .replay_webhook_delivery(hook.id, claims[2].id, change(now))
            .await
            .expect("replay");
        // One delivered now, within the retention.
        publish(&*store, "delivered-lately", now).await;
        assert_eq!(enqueue_all(&*store, now).await, Some(1));
        let lately = claim(&*store, now, 10).await;
        let lately = lately.iter().find(|c| c.id != replay).expect("new");
        assert!(
            store
                .record_webhook_attempt(lately, &answered(200, now), DeliveryOutcome::Delivered)
                .await
                .expect("record")
        );

        let cutoff = now - SignedDuration::from_hours(24 * 30);
        assert_eq!(
            store.prune_delivered_webhooks(cutoff).await.expect("prune"),
            1
        );
        let (log, total) = store.webhook_deliveries(hook.id, 10, 0).await.expect("log");
        assert_eq!(total, 4);
        assert!(log.iter().all(|d| d.id != claims[0].id));
        assert_eq!(
            store.prune_delivered_webhooks(cutoff).await.expect("prune"),
            0
        );
    })
    .await;
}
