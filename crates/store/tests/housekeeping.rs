//! Housekeeping in the store, on every backend: the job's claim is taken once per run however
//! many instances try at once, and each prune deletes what has expired or served its
//! retention and nothing that is still alive.

mod backends;

use backends::each_backend;
use jiff::{SignedDuration, Timestamp};
use newsdesk_core::{Role, TokenKind};
use newsdesk_store::NewApiToken;

#[tokio::test]
async fn the_housekeeping_run_is_claimed_once_by_dozens_of_concurrent_claimers() {
    each_backend(|store| async move {
        let now = Timestamp::now();
        let next = now + SignedDuration::from_secs(3600);
        let claims = futures_claims(&store, now, next, 32).await;
        assert_eq!(claims.iter().filter(|c| **c).count(), 1, "{claims:?}");
        // Not again before the next run; at it, once more.
        let early = next - SignedDuration::from_micros(1);
        assert!(
            !store
                .claim_job(
                    "housekeeping",
                    early,
                    early + SignedDuration::from_secs(3600)
                )
                .await
                .expect("claim")
        );
        let claims = futures_claims(&store, next, next + SignedDuration::from_secs(3600), 32).await;
        assert_eq!(claims.iter().filter(|c| **c).count(), 1, "{claims:?}");
        // A job without a row is never claimed.
        assert!(
            !store
                .claim_job("no-such-job", now, next)
                .await
                .expect("claim")
        );
    })
    .await;
}

async fn futures_claims(
    store: &std::sync::Arc<dyn newsdesk_store::Store>,
    now: Timestamp,
    next: Timestamp,
    claimers: usize,
) -> Vec<bool> {
    let tasks: Vec<_> = (0..claimers)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.claim_job("housekeeping", now, next).await })
        })
        .collect();
    let mut claims = Vec::new();
    for task in tasks {
        claims.push(task.await.expect("task").expect("claim"));
    }
    claims
}

#[tokio::test]
async fn expired_sessions_and_tokens_are_pruned_and_live_ones_stay() {
    each_backend(|store| async move {
        let now = Timestamp::now();
        let (past, future) = (
            now - SignedDuration::from_secs(1),
            now + SignedDuration::from_secs(3600),
        );
        let editor = store
            .create_account("leyla@example.org", "Leyla", Role::Editor, "$x", now)
            .await
            .expect("account");
        let reader = store
            .create_reader("ayse@example.org", "Ayşe", "$x", now)
            .await
            .expect("reader");
        for (hash, expires) in [
            ("staff-old", past),
            ("staff-edge", now),
            ("staff-live", future),
        ] {
            store
                .create_session(hash, editor.id, "csrf", past, expires)
                .await
                .expect("session");
            store
                .create_reader_session(hash, reader.id, "csrf", past, expires)
                .await
                .expect("reader session");
            store
                .create_reader_token(hash, reader.id, "verify", expires)
                .await
                .expect("reader token");
            store
                .create_setup_token(hash, expires)
                .await
                .expect("setup token");
        }
        // A session expiring exactly now is already refused, so it goes too.
        assert_eq!(store.prune_expired_sessions(now).await.expect("prune"), 2);
        assert_eq!(
            store
                .prune_expired_reader_sessions(now)
                .await
                .expect("prune"),
            2
        );
        assert_eq!(
            store
                .prune_expired_one_time_tokens(now)
                .await
                .expect("prune"),
            4
        );
        assert!(
            store
                .session("staff-live", now)
                .await
                .expect("get")
                .is_some()
        );
        assert!(
            store
                .reader_session("staff-live", now)
                .await
                .expect("get")
                .is_some()
        );
        assert_eq!(
            store
                .take_reader_token("staff-live", "verify", now)
                .await
                .expect("take"),
            Some(reader.id)
        );
        assert!(
            store
                .take_setup_token("staff-live", now)
                .await
                .expect("take")
        );
        // Nothing left to prune.
        assert_eq!(store.prune_expired_sessions(now).await.expect("prune"), 0);
    })
    .await;
}

#[tokio::test]
async fn revoked_api_tokens_are_pruned_after_their_retention_and_live_ones_stay() {
    each_backend(|store| async move {
        let now = Timestamp::now();
        let admin = store
            .create_account("admin@example.org", "Admin", Role::Admin, "$x", now)
            .await
            .expect("admin");
        let mut ids = Vec::new();
        for hash in ["revoked-long-ago", "revoked-lately", "live"] {
            let token = store
                .create_api_token(
                    &NewApiToken {
                        kind: TokenKind::Read,
                        name: hash,
                        token_hash: hash,
                        account_id: admin.id,
                        role: None,
                    },
                    &admin.email,
                    now - SignedDuration::from_hours(24 * 100),
                )
                .await
                .expect("token");
            ids.push(token.id);
        }
        let cutoff = now - SignedDuration::from_hours(24 * 90);
        store
            .revoke_api_token(
                ids[0],
                &admin.email,
                cutoff - SignedDuration::from_micros(1),
            )
            .await
            .expect("revoke");
        store
            .revoke_api_token(ids[1], &admin.email, cutoff)
            .await
            .expect("revoke");
        assert_eq!(
            store.prune_revoked_api_tokens(cutoff).await.expect("prune"),
            1
        );
        let left: Vec<i64> = store
            .api_tokens(None)
            .await
            .expect("list")
            .iter()
            .map(|t| t.id)
            .collect();
        assert!(!left.contains(&ids[0]) && left.contains(&ids[1]) && left.contains(&ids[2]));
    })
    .await;
}
