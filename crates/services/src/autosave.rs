//! The editor's autosave: what a person typed and has not saved, kept in a slot of their own
//! (one per person per item) so a closed tab or a lost connection loses nothing. A slot never
//! changes what the public sees, the workflow status or the history, and never touches another
//! person's work: it becomes the item only when its owner restores it and saves for real.

use jiff::{SignedDuration, Timestamp};
use newsdesk_core::{Account, ItemStatus, workflow};
use newsdesk_store::Autosave;

use crate::error::Result;
use crate::newsroom::Newsroom;

/// Slots not written for this long are forgotten by default (`housekeeping.
/// autosave_retention_days`; pruned on each autosave and by the housekeeping job): a month
/// covers a holiday, and nobody means to come back to a half-written story after that.
pub const AUTOSAVE_RETENTION: SignedDuration = SignedDuration::from_hours(30 * 24);

impl Newsroom {
    /// Keeps `fields` (the editor's form) as `account`'s slot for item `item_id` (None: an item
    /// not created yet), replacing the one they had. Allowed only to someone who may save the
    /// item as it stands: a contributor may not autosave someone else's story.
    pub async fn autosave(
        &self,
        account: &Account,
        item_id: Option<i64>,
        base_version: Option<i64>,
        fields: serde_json::Value,
        now: Timestamp,
    ) -> Result<Autosave> {
        self.check_may_autosave(account, item_id).await?;
        let slot = Autosave {
            account_id: account.id,
            item_id,
            base_version: item_id.and(base_version),
            fields,
            saved_at: now,
        };
        self.store().put_autosave(&slot).await?;
        self.store()
            .prune_autosaves(
                now - crate::housekeeping::days(self.config().housekeeping.autosave_retention_days),
            )
            .await?;
        Ok(slot)
    }

    /// The slot `account` has for this item, if any.
    pub async fn autosaved(
        &self,
        account: &Account,
        item_id: Option<i64>,
    ) -> Result<Option<Autosave>> {
        Ok(self.store().autosave(account.id, item_id).await?)
    }

    /// Forgets `account`'s slot for this item (the editor's "Discard", and every real save).
    pub async fn discard_autosave(&self, account: &Account, item_id: Option<i64>) -> Result<()> {
        Ok(self.store().delete_autosave(account.id, item_id).await?)
    }

    /// The same rule as a save that keeps the item's status.
    async fn check_may_autosave(&self, account: &Account, item_id: Option<i64>) -> Result<()> {
        let Some(id) = item_id else {
            return Ok(workflow::check(
                account.role,
                true,
                None,
                ItemStatus::Draft,
            )?);
        };
        let opened = self.open_item(account, id).await?;
        let status = opened.item().status;
        Ok(workflow::check(
            account.role,
            opened.own(),
            Some(status),
            status,
        )?)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use jiff::{SignedDuration, Timestamp};
    use newsdesk_core::{Config, Role};
    use newsdesk_store::media::LocalMedia;
    use newsdesk_store::sqlite::SqliteStore;
    use newsdesk_store::{Autosave, Store};

    use super::AUTOSAVE_RETENTION;
    use crate::Newsroom;

    #[tokio::test]
    async fn an_autosave_prunes_slots_older_than_the_retention_and_keeps_one_at_its_edge() {
        let dir = tempfile::tempdir().expect("dir");
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).await.expect("open"));
        store.migrate().await.expect("migrate");
        let newsroom = Newsroom::new(
            store.clone(),
            Arc::new(LocalMedia::new(dir.path().join("media"))),
            Arc::new(Config::default()),
        );
        let now = Timestamp::from_second(Timestamp::now().as_second()).expect("now");
        let (writer, away) = (
            store
                .create_account("writer@example.org", "W", Role::Contributor, "$x", now)
                .await
                .expect("account"),
            store
                .create_account("away@example.org", "A", Role::Contributor, "$x", now)
                .await
                .expect("account"),
        );
        for (item, at) in [
            (1, now - AUTOSAVE_RETENTION),
            (2, now - AUTOSAVE_RETENTION - SignedDuration::from_micros(1)),
        ] {
            store
                .put_autosave(&Autosave {
                    account_id: away.id,
                    item_id: Some(item),
                    base_version: Some(1),
                    fields: serde_json::json!({}),
                    saved_at: at,
                })
                .await
                .expect("old slot");
        }
        newsroom
            .autosave(
                &writer,
                None,
                None,
                serde_json::json!({"body": "New words"}),
                now,
            )
            .await
            .expect("autosave");
        assert!(
            store
                .autosave(away.id, Some(1))
                .await
                .expect("get")
                .is_some(),
            "a slot exactly as old as the retention stays"
        );
        assert!(
            store
                .autosave(away.id, Some(2))
                .await
                .expect("get")
                .is_none(),
            "one a moment older is gone"
        );
        assert!(
            store
                .autosave(writer.id, None)
                .await
                .expect("get")
                .is_some()
        );
    }
}
