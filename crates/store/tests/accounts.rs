//! Accounts, sessions, throttling records and set-up links, on every backend.

mod backends;

use backends::each_backend;
use jiff::{SignedDuration, Timestamp};
use newsdesk_core::Role;
use newsdesk_store::StoreError;

#[tokio::test]
async fn accounts_and_sessions_live_and_die_together() {
    each_backend(|store| async move {
        let now = Timestamp::now();
        let editor = store
            .create_account(
                "leyla@example.org",
                "Leyla Məmmədova",
                Role::Editor,
                "$argon2id$x",
                now,
            )
            .await
            .expect("create");
        assert_eq!(editor.role, Role::Editor);
        let again = store
            .create_account(
                "leyla@example.org",
                "Someone",
                Role::Admin,
                "$argon2id$y",
                now,
            )
            .await;
        assert!(
            matches!(again, Err(StoreError::Duplicate { field: "email" })),
            "{again:?}"
        );
        let (found, hash) = store
            .account_for_sign_in("leyla@example.org")
            .await
            .expect("lookup")
            .expect("exists");
        assert_eq!((found.id, hash.as_str()), (editor.id, "$argon2id$x"));
        assert_eq!(store.count_admins().await.expect("admins"), 0);

        let expires = now + SignedDuration::from_hours(12);
        store
            .create_session("hash-1", editor.id, "csrf-1", now, expires)
            .await
            .expect("session");
        store
            .create_session("hash-2", editor.id, "csrf-2", now, expires)
            .await
            .expect("session");
        let session = store
            .session("hash-1", now)
            .await
            .expect("get")
            .expect("live");
        assert_eq!(
            (session.account.id, session.csrf_token.as_str()),
            (editor.id, "csrf-1")
        );
        assert!(
            store
                .session("hash-1", expires)
                .await
                .expect("get")
                .is_none(),
            "expired"
        );

        store
            .set_password_hash(editor.id, "$argon2id$z", Some("hash-1"), now)
            .await
            .expect("password");
        assert!(
            store.session("hash-1", now).await.expect("get").is_some(),
            "the changer stays signed in"
        );
        assert!(
            store.session("hash-2", now).await.expect("get").is_none(),
            "other sessions end"
        );

        store
            .set_account_disabled(editor.id, true)
            .await
            .expect("disable");
        assert!(
            store.session("hash-1", now).await.expect("get").is_none(),
            "disabling ends sessions"
        );
        store
            .set_account_disabled(editor.id, false)
            .await
            .expect("enable");
        assert!(
            store.session("hash-1", now).await.expect("get").is_none(),
            "and they stay ended"
        );
        store.delete_session("hash-1").await.expect("delete");
    })
    .await;
}

#[tokio::test]
async fn sign_in_failures_are_counted_in_a_window_and_cleared() {
    each_backend(|store| async move {
        let now = Timestamp::now();
        for minutes in [30, 10, 5, 1] {
            store
                .record_sign_in_failure(
                    "address:192.0.2.1",
                    now - SignedDuration::from_mins(minutes),
                )
                .await
                .expect("record");
        }
        let since = now - SignedDuration::from_mins(15);
        assert_eq!(
            store
                .count_sign_in_failures("address:192.0.2.1", since)
                .await
                .expect("count"),
            3
        );
        assert_eq!(
            store
                .count_sign_in_failures("address:192.0.2.2", since)
                .await
                .expect("count"),
            0
        );
        store.prune_sign_in_failures(since).await.expect("prune");
        let all_time = now - SignedDuration::from_hours(1);
        assert_eq!(
            store
                .count_sign_in_failures("address:192.0.2.1", all_time)
                .await
                .expect("count"),
            3,
            "only the failure older than the window is gone"
        );
        store
            .clear_sign_in_failures("address:192.0.2.1")
            .await
            .expect("clear");
        assert_eq!(
            store
                .count_sign_in_failures("address:192.0.2.1", since)
                .await
                .expect("count"),
            0
        );
    })
    .await;
}

#[tokio::test]
async fn parallel_sign_in_attempts_hold_no_more_than_the_budget() {
    each_backend(|store| async move {
        let now = Timestamp::now();
        let since = now - SignedDuration::from_mins(15);
        let attempts: Vec<_> = (0..40)
            .map(|i| {
                let store = store.clone();
                // Each attempt also names an address of its own: only the shared subject is full.
                tokio::spawn(async move {
                    let address = format!("address:192.0.2.{i}");
                    store
                        .reserve_sign_in_attempt(
                            &[("account:a@example.org", 5), (address.as_str(), 20)],
                            since,
                            now,
                        )
                        .await
                        .expect("reserve")
                })
            })
            .collect();
        let mut held = Vec::new();
        for attempt in attempts {
            if let Some(ids) = attempt.await.expect("task") {
                held.push(ids);
            }
        }
        assert_eq!(held.len(), 5, "exactly the budget is held");
        assert!(held.iter().all(|ids| ids.len() == 2));
        assert_eq!(
            store
                .count_sign_in_failures("account:a@example.org", since)
                .await
                .expect("count"),
            5
        );
        let mut recorded_addresses = 0;
        for i in 0..40 {
            recorded_addresses += store
                .count_sign_in_failures(&format!("address:192.0.2.{i}"), since)
                .await
                .expect("count");
        }
        assert_eq!(recorded_addresses, 5, "a refused attempt records nothing");

        // A released attempt makes room for one more, and counts for nothing.
        let released = held.pop().expect("one");
        store
            .release_sign_in_attempt(&released)
            .await
            .expect("release");
        assert_eq!(
            store
                .count_sign_in_failures("account:a@example.org", since)
                .await
                .expect("count"),
            4
        );
        let again = store
            .reserve_sign_in_attempt(&[("account:a@example.org", 5)], since, now)
            .await
            .expect("reserve");
        assert!(again.is_some());
        let full = store
            .reserve_sign_in_attempt(&[("account:a@example.org", 5)], since, now)
            .await
            .expect("reserve");
        assert!(full.is_none(), "the budget is spent again");
        // Attempts older than the window no longer count.
        let later = now + SignedDuration::from_mins(16);
        let fresh = store
            .reserve_sign_in_attempt(
                &[("account:a@example.org", 5)],
                later - SignedDuration::from_mins(15),
                later,
            )
            .await
            .expect("reserve");
        assert!(fresh.is_some());
    })
    .await;
}

#[tokio::test]
async fn a_setup_token_works_once_and_not_after_it_expires() {
    each_backend(|store| async move {
        let now = Timestamp::now();
        store
            .create_setup_token("t1", now + SignedDuration::from_hours(1))
            .await
            .expect("create");
        store
            .create_setup_token("t2", now - SignedDuration::from_secs(1))
            .await
            .expect("create");
        assert!(store.take_setup_token("t1", now).await.expect("take"));
        assert!(
            !store.take_setup_token("t1", now).await.expect("take"),
            "used up"
        );
        assert!(
            !store.take_setup_token("t2", now).await.expect("take"),
            "expired"
        );
        assert!(!store.take_setup_token("nope", now).await.expect("take"));
    })
    .await;
}

#[tokio::test]
async fn an_autosave_slot_is_one_per_person_and_item_replaced_read_deleted_and_pruned() {
    use newsdesk_store::Autosave;
    each_backend(|store| async move {
        // Whole seconds: the stored precision is microseconds.
        let now = Timestamp::from_second(Timestamp::now().as_second()).expect("now");
        let make = |email: &'static str| {
            let store = store.clone();
            async move {
                store
                    .create_account(email, "Writer", Role::Contributor, "$argon2id$x", now)
                    .await
                    .expect("account")
            }
        };
        let (one, two) = (make("one@example.org").await, make("two@example.org").await);
        let slot =
            |account_id: i64, item_id: Option<i64>, headline: &str, at: Timestamp| Autosave {
                account_id,
                item_id,
                base_version: item_id.map(|_| 3),
                fields: serde_json::json!({ "headline": headline, "authors": ["amina-rahimova"] }),
                saved_at: at,
            };
        assert_eq!(store.autosave(one.id, Some(7)).await.expect("get"), None);

        let first = slot(one.id, Some(7), "First words", now);
        store.put_autosave(&first).await.expect("put");
        let later = now + SignedDuration::from_secs(5);
        let replaced = slot(one.id, Some(7), "Second thoughts", later);
        store.put_autosave(&replaced).await.expect("replace");
        assert_eq!(
            store.autosave(one.id, Some(7)).await.expect("get"),
            Some(replaced.clone()),
            "one slot per person per item, the newest kept"
        );

        // A new item's slot, and another person's slot for the same item, are apart.
        let draft = slot(one.id, None, "Not created yet", now);
        store.put_autosave(&draft).await.expect("new item");
        let theirs = slot(two.id, Some(7), "Their words", now);
        store.put_autosave(&theirs).await.expect("theirs");
        assert_eq!(
            store.autosave(one.id, None).await.expect("get"),
            Some(draft)
        );
        assert_eq!(
            store.autosave(two.id, Some(7)).await.expect("get"),
            Some(theirs)
        );
        assert_eq!(
            store.autosave(one.id, Some(7)).await.expect("get"),
            Some(replaced)
        );

        store.delete_autosave(one.id, None).await.expect("delete");
        assert_eq!(store.autosave(one.id, None).await.expect("get"), None);
        assert!(
            store
                .autosave(one.id, Some(7))
                .await
                .expect("get")
                .is_some(),
            "deleting one slot leaves the others"
        );

        // Pruning removes what was saved before the cut, and nothing saved at or after it.
        assert_eq!(store.prune_autosaves(later).await.expect("prune"), 1);
        assert_eq!(store.autosave(two.id, Some(7)).await.expect("get"), None);
        assert!(
            store
                .autosave(one.id, Some(7))
                .await
                .expect("get")
                .is_some()
        );
    })
    .await;
}
