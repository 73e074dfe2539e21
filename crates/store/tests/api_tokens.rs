//! API tokens on every backend: stored by hash with an audit line, listed per account or all,
//! revoked once for good, and found with their account when used.

mod backends;

use backends::each_backend;
use jiff::{SignedDuration, Timestamp};
use newsdesk_core::{Role, TokenKind};
use newsdesk_store::{NewApiToken, StoreError};

#[tokio::test]
async fn tokens_are_made_listed_used_and_revoked() {
    each_backend(|store| async move {
        let now = Timestamp::now();
        let editor = store
            .create_account(
                "leyla@example.org",
                "Leyla",
                Role::Editor,
                "$argon2id$x",
                now,
            )
            .await
            .expect("editor");
        let admin = store
            .create_account(
                "admin@example.org",
                "Admin",
                Role::Admin,
                "$argon2id$x",
                now,
            )
            .await
            .expect("admin");
        let staff = store
            .create_api_token(
                &NewApiToken {
                    kind: TokenKind::Staff,
                    name: "wire desk",
                    token_hash: "hash-one",
                    account_id: editor.id,
                    role: Some(Role::Contributor),
                },
                &editor.email,
                now,
            )
            .await
            .expect("staff token");
        assert_eq!(staff.role, Some(Role::Contributor));
        assert_eq!(staff.account_email, "leyla@example.org");
        assert!(staff.last_used_at.is_none() && staff.revoked_at.is_none());
        let key = store
            .create_api_token(
                &NewApiToken {
                    kind: TokenKind::Read,
                    name: "Partner radio",
                    token_hash: "hash-two",
                    account_id: admin.id,
                    role: None,
                },
                &admin.email,
                now,
            )
            .await
            .expect("read key");
        // The same secret twice is refused by the unique hash.
        let again = store
            .create_api_token(
                &NewApiToken {
                    kind: TokenKind::Read,
                    name: "copy",
                    token_hash: "hash-two",
                    account_id: admin.id,
                    role: None,
                },
                &admin.email,
                now,
            )
            .await;
        assert!(again.is_err());
        // Lists: everything, newest first; or one account's staff tokens.
        let all = store.api_tokens(None).await.expect("all");
        assert_eq!(
            all.iter().map(|t| t.id).collect::<Vec<_>>(),
            [key.id, staff.id]
        );
        let mine = store.api_tokens(Some(editor.id)).await.expect("mine");
        assert_eq!(mine.iter().map(|t| t.id).collect::<Vec<_>>(), [staff.id]);
        assert!(
            store
                .api_tokens(Some(admin.id))
                .await
                .expect("admin's")
                .is_empty(),
            "keys are not staff tokens"
        );
        // Using marks the token used, at most once a minute.
        let (found, account) = store
            .use_api_token("hash-one", now)
            .await
            .expect("use")
            .expect("found");
        assert_eq!(found.id, staff.id);
        assert_eq!(account, editor, "the whole account comes with the token");
        let used = store
            .api_token(staff.id)
            .await
            .expect("read")
            .expect("there");
        assert_eq!(
            used.last_used_at.map(|t| t.as_second()),
            Some(now.as_second())
        );
        let soon = now + SignedDuration::from_secs(30);
        store
            .use_api_token("hash-one", soon)
            .await
            .expect("use")
            .expect("found");
        let used = store
            .api_token(staff.id)
            .await
            .expect("read")
            .expect("there");
        assert_eq!(
            used.last_used_at.map(|t| t.as_second()),
            Some(now.as_second())
        );
        let later = now + SignedDuration::from_secs(61);
        store
            .use_api_token("hash-one", later)
            .await
            .expect("use")
            .expect("found");
        let used = store
            .api_token(staff.id)
            .await
            .expect("read")
            .expect("there");
        assert_eq!(
            used.last_used_at.map(|t| t.as_second()),
            Some(later.as_second())
        );
        assert!(
            store
                .use_api_token("no-such-hash", now)
                .await
                .expect("use")
                .is_none()
        );
        assert_eq!(
            store.count_live_api_tokens(editor.id).await.expect("count"),
            1
        );
        assert_eq!(
            store.count_live_api_tokens(admin.id).await.expect("count"),
            1
        );
        // Revoked once, for good, audited.
        store
            .revoke_api_token(staff.id, &admin.email, now)
            .await
            .expect("revoke");
        assert!(matches!(
            store.revoke_api_token(staff.id, &admin.email, now).await,
            Err(StoreError::NotFound)
        ));
        assert!(
            store
                .use_api_token("hash-one", now)
                .await
                .expect("use")
                .is_none()
        );
        assert_eq!(
            store.count_live_api_tokens(editor.id).await.expect("count"),
            0
        );
        assert!(
            store
                .api_token(staff.id)
                .await
                .expect("read")
                .expect("kept")
                .revoked_at
                .is_some()
        );
        let (audit, _) = store.audit_log(10, 0).await.expect("audit");
        let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
        assert_eq!(
            actions,
            [
                "revoked API token",
                "created API token",
                "created API token"
            ]
        );
        assert_eq!(audit[0].subject, format!("token:{}", staff.id));
    })
    .await;
}
