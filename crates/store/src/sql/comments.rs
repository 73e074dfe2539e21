//! The SQL behind `CommentStore`, written once for both backends (see `sql/mod.rs`).

use async_trait::async_trait;
use jiff::Timestamp;
use newsdesk_core::{Event, EventKind};
use sqlx::Row;

use super::{Conn, DbRow, SqlStore, Tx};
use crate::sql::{from_micros, to_micros};
use crate::{CommentStore, Result, StoreError};

/// A comment with its writer's current name and whether they are staff (a verified reader
/// whose address is also an enabled staff account's).
pub(crate) const COMMENT_SELECT: &str = "SELECT c.id, c.item_id, c.parent_id, c.root_id, c.reader_id,
        r.display_name AS author,
        (r.verified AND EXISTS (SELECT 1 FROM accounts a WHERE a.email = r.email AND NOT a.disabled)) AS staff,
        c.body, c.status, c.hold_reasons, c.reject_reason, c.featured, c.likes, c.reports,
        c.created_at, c.edited_at
    FROM comments c LEFT JOIN readers r ON r.id = c.reader_id";

/// Which comments a reader (`$2`, NULL when signed out) sees: published ones, a deleted one
/// that still has published replies (as a marker), and their own held or rejected ones.
pub(crate) const COMMENT_VISIBLE: &str = "c.status = 'published'
    OR (c.status = 'deleted' AND EXISTS (SELECT 1 FROM comments d WHERE d.parent_id = c.id AND d.status = 'published'))
    OR (c.reader_id = $2 AND c.status IN ('held', 'rejected'))";

/// Records one `limit.action` of a reader, refusing it when `limit.max` of them fall
/// in the last `limit.window_secs`. The no-op update takes the reader's row lock on
/// PostgreSQL until commit, so parallel requests of one reader count one after the
/// other and cannot pass the limit together (SQLite's write transaction already runs
/// alone). A refused attempt rolls back with its transaction and is not counted.
pub(crate) async fn count_reader_action(
    conn: &mut Conn,
    reader_id: i64,
    limit: crate::ActionLimit,
    now: Timestamp,
) -> Result<()> {
    sqlx::query("UPDATE readers SET status = status WHERE id = $1")
        .bind(reader_id)
        .execute(&mut *conn)
        .await?;
    let window = i64::from(limit.window_secs) * 1_000_000;
    let now = to_micros(now);
    sqlx::query("DELETE FROM reader_actions WHERE reader_id = $1 AND action = $2 AND at <= $3")
        .bind(reader_id)
        .bind(limit.action)
        .bind(now - window)
        .execute(&mut *conn)
        .await?;
    let (recent, oldest): (i64, Option<i64>) = sqlx::query_as(
        "SELECT COUNT(*), MIN(at) FROM reader_actions WHERE reader_id = $1 AND action = $2",
    )
    .bind(reader_id)
    .bind(limit.action)
    .fetch_one(&mut *conn)
    .await?;
    if recent >= i64::from(limit.max) {
        let free_at = oldest.unwrap_or(now) + window;
        let retry_after_secs = u64::try_from((free_at - now + 999_999) / 1_000_000)
            .unwrap_or(1)
            .max(1);
        return Err(StoreError::RateLimited { retry_after_secs });
    }
    sqlx::query("INSERT INTO reader_actions (reader_id, action, at) VALUES ($1, $2, $3)")
        .bind(reader_id)
        .bind(limit.action)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Appends the event that refreshes a story page after its comments changed.
pub(crate) async fn comments_changed(
    tx: &mut Tx<'_>,
    item_id: i64,
    now: Timestamp,
) -> Result<Event> {
    let keys = vec![newsdesk_core::event::keys::item(item_id)];
    super::events::append(
        tx,
        EventKind::CommentsChanged,
        Some(item_id),
        None,
        keys,
        now,
    )
    .await
}

/// Appends the event of a comment becoming visible to readers: it refreshes the story
/// page as `comments_changed` does (the same keys) and names the comment for webhooks.
pub(crate) async fn comment_published(
    tx: &mut Tx<'_>,
    item_id: i64,
    comment_id: i64,
    now: Timestamp,
) -> Result<Event> {
    let keys = vec![newsdesk_core::event::keys::item(item_id)];
    let kind = EventKind::CommentPublished;
    super::events::append(tx, kind, Some(item_id), Some(comment_id), keys, now).await
}

fn comment_from_row(row: &DbRow) -> Result<newsdesk_core::comment::Comment> {
    let status: String = row.try_get("status")?;
    let count = |column: &str| -> Result<u32> {
        let v: i64 = row.try_get(column)?;
        Ok(u32::try_from(v).unwrap_or(u32::MAX))
    };
    let edited: Option<i64> = row.try_get("edited_at")?;
    Ok(newsdesk_core::comment::Comment {
        id: row.try_get("id")?,
        item_id: row.try_get("item_id")?,
        parent_id: row.try_get("parent_id")?,
        root_id: row
            .try_get::<Option<i64>, _>("root_id")?
            .unwrap_or_default(),
        reader_id: row.try_get("reader_id")?,
        author: row.try_get("author")?,
        staff: row.try_get::<Option<bool>, _>("staff")?.unwrap_or(false),
        body: row.try_get("body")?,
        status: newsdesk_core::comment::CommentStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("comment status {status}")))?,
        hold_reasons: row.try_get("hold_reasons")?,
        reject_reason: row.try_get("reject_reason")?,
        featured: row.try_get("featured")?,
        likes: count("likes")?,
        reports: count("reports")?,
        created_at: from_micros(row.try_get("created_at")?)?,
        edited_at: edited.map(from_micros).transpose()?,
    })
}

#[async_trait]
impl CommentStore for SqlStore {
    async fn insert_comment(
        &self,
        new: &crate::NewComment<'_>,
    ) -> Result<(newsdesk_core::comment::Comment, Option<Event>)> {
        use newsdesk_core::comment::CommentStatus;
        let mut tx = self.write_transaction().await?;
        if let Some(key) = new.client_key {
            let existing: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM comments WHERE reader_id = $1 AND client_key = $2",
            )
            .bind(new.reader_id)
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(id) = existing {
                drop(tx);
                let comment = self.comment(id).await?.ok_or(StoreError::NotFound)?;
                return Ok((comment, None));
            }
        }
        let root_id = match new.parent_id {
            None => None,
            Some(parent) => {
                let root: Option<i64> = sqlx::query_scalar(
                        "SELECT root_id FROM comments WHERE id = $1 AND item_id = $2 AND status = 'published'",
                    )
                    .bind(parent)
                    .bind(new.item_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                Some(root.ok_or(StoreError::NotFound)?)
            }
        };
        let id: i64 = sqlx::query_scalar(
                "INSERT INTO comments (item_id, parent_id, root_id, reader_id, body, status, hold_reasons,
                                       address_hash, client_key, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            )
            .bind(new.item_id)
            .bind(new.parent_id)
            .bind(root_id)
            .bind(new.reader_id)
            .bind(new.body)
            .bind(new.status.as_str())
            .bind(new.hold_reasons)
            .bind(new.address_hash)
            .bind(new.client_key)
            .bind(to_micros(new.now))
            .fetch_one(&mut *tx)
            .await?;
        if root_id.is_none() {
            sqlx::query("UPDATE comments SET root_id = id WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let event = if new.status == CommentStatus::Published {
            Some(comment_published(&mut tx, new.item_id, id, new.now).await?)
        } else {
            None
        };
        tx.commit().await?;
        let comment = self.comment(id).await?.ok_or(StoreError::NotFound)?;
        Ok((comment, event))
    }

    async fn comment(&self, id: i64) -> Result<Option<newsdesk_core::comment::Comment>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} WHERE c.id = $1",
            COMMENT_SELECT
        )))
        .bind(id)
        .fetch_optional(&self.reader)
        .await?;
        row.as_ref().map(comment_from_row).transpose()
    }

    async fn comment_by_client_key(
        &self,
        reader_id: i64,
        client_key: &str,
    ) -> Result<Option<newsdesk_core::comment::Comment>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} WHERE c.reader_id = $1 AND c.client_key = $2",
            COMMENT_SELECT
        )))
        .bind(reader_id)
        .bind(client_key)
        .fetch_optional(&self.reader)
        .await?;
        row.as_ref().map(comment_from_row).transpose()
    }

    async fn comment_page(
        &self,
        item_id: i64,
        sort: newsdesk_core::comment::CommentSort,
        viewer: Option<i64>,
        limit: u32,
        offset: u32,
    ) -> Result<(Vec<newsdesk_core::comment::Comment>, u64, u64)> {
        use newsdesk_core::comment::CommentSort;
        // Fixed strings chosen by the sort; nothing a reader sends is spliced into SQL.
        let order = match sort {
            CommentSort::Newest => "c.featured DESC, c.id DESC",
            CommentSort::Oldest => "c.featured DESC, c.id ASC",
            CommentSort::MostLiked => "c.featured DESC, c.likes DESC, c.id DESC",
        };
        let mut conn = self.reader.acquire().await?;
        let (total, top_level): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN parent_id IS NULL THEN 1 ELSE 0 END), 0)
                 FROM comments WHERE item_id = $1 AND status = 'published'",
        )
        .bind(item_id)
        .fetch_one(&mut *conn)
        .await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} WHERE c.item_id = $1 AND c.parent_id IS NULL AND ({})
                 ORDER BY {order} LIMIT $3 OFFSET $4",
            COMMENT_SELECT, COMMENT_VISIBLE,
        )))
        .bind(item_id)
        .bind(viewer)
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(&mut *conn)
        .await?;
        let comments = rows
            .iter()
            .map(comment_from_row)
            .collect::<Result<Vec<_>>>()?;
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok((comments, count(total), count(top_level)))
    }

    async fn replies(
        &self,
        root_ids: &[i64],
        viewer: Option<i64>,
    ) -> Result<Vec<newsdesk_core::comment::Comment>> {
        if root_ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids =
            serde_json::to_string(root_ids).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} WHERE c.root_id IN ({}) AND c.parent_id IS NOT NULL AND ({}) ORDER BY c.id",
            COMMENT_SELECT,
            ids!(),
            COMMENT_VISIBLE,
        )))
        .bind(ids)
        .bind(viewer)
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(comment_from_row).collect()
    }

    async fn comment_counts(
        &self,
        item_ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, u64>> {
        if item_ids.is_empty() {
            return Ok(std::collections::HashMap::new());
        }
        let ids =
            serde_json::to_string(item_ids).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let rows: Vec<(i64, i64)> = sqlx::query_as(concat!(
            "SELECT item_id, COUNT(*) FROM comments WHERE status = 'published' AND item_id IN (",
            ids!(),
            ") GROUP BY item_id"
        ))
        .bind(ids)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, n)| (id, u64::try_from(n).unwrap_or(0)))
            .collect())
    }

    async fn reader_activity(
        &self,
        reader_id: i64,
        address_hash: &str,
        now: Timestamp,
        window: u32,
    ) -> Result<crate::ReaderActivity> {
        let day_ago = to_micros(now - jiff::SignedDuration::from_hours(24));
        let minute_ago = to_micros(now - jiff::SignedDuration::from_secs(60));
        let mut conn = self.reader.acquire().await?;
        let recent_bodies: Vec<String> = sqlx::query_scalar(
                "SELECT body FROM comments WHERE reader_id = $1 AND created_at >= $2 ORDER BY id DESC LIMIT 50",
            )
            .bind(reader_id)
            .bind(day_ago)
            .fetch_all(&mut *conn)
            .await?;
        let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
        let by_reader: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM comments WHERE reader_id = $1 AND created_at >= $2",
        )
        .bind(reader_id)
        .bind(minute_ago)
        .fetch_one(&mut *conn)
        .await?;
        let by_address: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM comments WHERE address_hash = $1 AND created_at >= $2",
        )
        .bind(address_hash)
        .bind(minute_ago)
        .fetch_one(&mut *conn)
        .await?;
        let approved: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM comments WHERE reader_id = $1 AND status = 'published'",
        )
        .bind(reader_id)
        .fetch_one(&mut *conn)
        .await?;
        let decided: Vec<String> = sqlx::query_scalar(
                "SELECT status FROM comments WHERE reader_id = $1 AND status IN ('published', 'rejected')
                 ORDER BY id DESC LIMIT $2",
            )
            .bind(reader_id)
            .bind(i64::from(window))
            .fetch_all(&mut *conn)
            .await?;
        Ok(crate::ReaderActivity {
            recent_bodies,
            in_last_minute_by_reader: count(by_reader),
            in_last_minute_by_address: count(by_address),
            approved: count(approved),
            recent_decided: u32::try_from(decided.len()).unwrap_or(u32::MAX),
            recent_rejected: u32::try_from(decided.iter().filter(|s| *s == "rejected").count())
                .unwrap_or(u32::MAX),
        })
    }

    async fn toggle_like(
        &self,
        comment_id: i64,
        reader_id: i64,
        limit: crate::ActionLimit,
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.write_transaction().await?;
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT c.id FROM comments c JOIN items i ON i.id = c.item_id
                 WHERE c.id = $1 AND c.status = 'published' AND i.status = 'published'",
        )
        .bind(comment_id)
        .fetch_optional(&mut *tx)
        .await?;
        found.ok_or(StoreError::NotFound)?;
        count_reader_action(&mut tx, reader_id, limit, now).await?;
        let removed =
            sqlx::query("DELETE FROM comment_likes WHERE comment_id = $1 AND reader_id = $2")
                .bind(comment_id)
                .bind(reader_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if removed == 0 {
            sqlx::query("INSERT INTO comment_likes (comment_id, reader_id) VALUES ($1, $2)")
                .bind(comment_id)
                .bind(reader_id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
                "UPDATE comments SET likes = (SELECT COUNT(*) FROM comment_likes WHERE comment_id = $1) WHERE id = $1",
            )
            .bind(comment_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(removed == 0)
    }

    async fn report_comment(
        &self,
        comment_id: i64,
        reader_id: i64,
        reason: &str,
        hold_at: u32,
        limit: crate::ActionLimit,
        now: Timestamp,
    ) -> Result<(u32, Option<Event>)> {
        let mut tx = self.write_transaction().await?;
        let found: Option<(i64, String)> = sqlx::query_as(
            "SELECT c.item_id, c.status FROM comments c JOIN items i ON i.id = c.item_id
                 WHERE c.id = $1 AND c.status <> 'deleted' AND i.status = 'published'",
        )
        .bind(comment_id)
        .fetch_optional(&mut *tx)
        .await?;
        let (item_id, status) = found.ok_or(StoreError::NotFound)?;
        count_reader_action(&mut tx, reader_id, limit, now).await?;
        sqlx::query(
                "INSERT INTO comment_reports (comment_id, reader_id, reason, created_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (comment_id, reader_id) DO UPDATE SET reason = excluded.reason",
            )
            .bind(comment_id)
            .bind(reader_id)
            .bind(reason)
            .bind(to_micros(now))
            .execute(&mut *tx)
            .await?;
        // A reader who reported before an approval was answered by it: reporting again
        // changes the reason, not the count.
        let reports: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM comment_reports WHERE comment_id = $1 AND NOT answered",
        )
        .bind(comment_id)
        .fetch_one(&mut *tx)
        .await?;
        let reports = u32::try_from(reports).unwrap_or(u32::MAX);
        let hold = status == "published" && reports >= hold_at;
        if hold {
            // Held now because of the reports, whatever held it before it was approved.
            let reasons = newsdesk_core::moderation::HoldReason::encode_all(&[
                newsdesk_core::moderation::HoldReason::Reports(reports),
            ]);
            sqlx::query(
                    "UPDATE comments SET reports = $2, status = 'held', hold_reasons = $3 WHERE id = $1",
                )
                .bind(comment_id)
                .bind(i64::from(reports))
                .bind(reasons)
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query("UPDATE comments SET reports = $2 WHERE id = $1")
                .bind(comment_id)
                .bind(i64::from(reports))
                .execute(&mut *tx)
                .await?;
        }
        let event = if hold {
            Some(comments_changed(&mut tx, item_id, now).await?)
        } else {
            None
        };
        tx.commit().await?;
        Ok((reports, event))
    }

    async fn edit_comment(
        &self,
        comment_id: i64,
        reader_id: i64,
        body: &str,
        status: newsdesk_core::comment::CommentStatus,
        hold_reasons: &str,
        now: Timestamp,
    ) -> Result<Option<Event>> {
        let mut tx = self.write_transaction().await?;
        let before: Option<String> =
            sqlx::query_scalar("SELECT status FROM comments WHERE id = $1 AND reader_id = $2")
                .bind(comment_id)
                .bind(reader_id)
                .fetch_optional(&mut *tx)
                .await?;
        let item_id: Option<i64> = sqlx::query_scalar(
                "UPDATE comments SET body = $3, status = $4, hold_reasons = $5, edited_at = $6
                 WHERE id = $1 AND reader_id = $2 AND status IN ('published', 'held') RETURNING item_id",
            )
            .bind(comment_id)
            .bind(reader_id)
            .bind(body)
            .bind(status.as_str())
            .bind(hold_reasons)
            .bind(to_micros(now))
            .fetch_optional(&mut *tx)
            .await?;
        let item_id = item_id.ok_or(StoreError::NotFound)?;
        let now_visible = status == newsdesk_core::comment::CommentStatus::Published
            && before.as_deref() != Some("published");
        let event = if now_visible {
            comment_published(&mut tx, item_id, comment_id, now).await?
        } else {
            comments_changed(&mut tx, item_id, now).await?
        };
        tx.commit().await?;
        Ok(Some(event))
    }

    async fn delete_own_comment(&self, comment_id: i64, reader_id: i64) -> Result<Option<Event>> {
        let mut tx = self.write_transaction().await?;
        let item_id: Option<i64> = sqlx::query_scalar(
            "UPDATE comments SET body = '', status = 'deleted'
                 WHERE id = $1 AND reader_id = $2 AND status <> 'deleted' RETURNING item_id",
        )
        .bind(comment_id)
        .bind(reader_id)
        .fetch_optional(&mut *tx)
        .await?;
        let item_id = item_id.ok_or(StoreError::NotFound)?;
        let event = comments_changed(&mut tx, item_id, Timestamp::now()).await?;
        tx.commit().await?;
        Ok(Some(event))
    }

    async fn story_commenting(&self, item_id: i64) -> Result<(bool, bool)> {
        let row: Option<(bool, bool)> =
            sqlx::query_as("SELECT closed, premoderated FROM story_commenting WHERE item_id = $1")
                .bind(item_id)
                .fetch_optional(&self.reader)
                .await?;
        Ok(row.unwrap_or((false, false)))
    }

    async fn moderation_queue(
        &self,
        queue: crate::Queue,
        limit: u32,
        offset: u32,
    ) -> Result<(Vec<crate::QueuedComment>, u64)> {
        // Fixed strings chosen by the queue; nothing sent is spliced into SQL.
        let filter = match queue {
            crate::Queue::Held => "c.status = 'held'",
            crate::Queue::Reported => "c.status = 'published' AND c.reports > 0",
            crate::Queue::Rejected => "c.status = 'rejected'",
        };
        let mut conn = self.reader.acquire().await?;
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM comments c WHERE {filter}"
        )))
        .fetch_one(&mut *conn)
        .await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT q.*, COALESCE(i.headline, i.slug) AS item_headline, r2.email AS reader_email
                 FROM ({} WHERE {filter}) q
                 JOIN items i ON i.id = q.item_id
                 LEFT JOIN readers r2 ON r2.id = q.reader_id
                 ORDER BY q.id DESC LIMIT $1 OFFSET $2",
            COMMENT_SELECT
        )))
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(&mut *conn)
        .await?;
        let queued = rows
            .iter()
            .map(|row| {
                Ok(crate::QueuedComment {
                    comment: comment_from_row(row)?,
                    item_headline: row.try_get("item_headline")?,
                    reader_email: row.try_get("reader_email")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((queued, u64::try_from(total).unwrap_or(0)))
    }

    async fn decide_comment(
        &self,
        comment_id: i64,
        decision: &crate::Decision,
        actor: &str,
        now: Timestamp,
    ) -> Result<Event> {
        let mut tx = self.write_transaction().await?;
        let found: Option<(i64, String, String)> =
            sqlx::query_as("SELECT item_id, status, body FROM comments WHERE id = $1")
                .bind(comment_id)
                .fetch_optional(&mut *tx)
                .await?;
        let (item_id, status, body) = found.ok_or(StoreError::NotFound)?;
        if status == "deleted" {
            return Err(StoreError::NotFound);
        }
        let action = match decision {
            crate::Decision::Approve => {
                sqlx::query("UPDATE comments SET status = 'published', reject_reason = '', reports = 0 WHERE id = $1")
                        .bind(comment_id)
                        .execute(&mut *tx)
                        .await?;
                // The approval answers every report so far; holding it again takes as
                // many reports again, from readers who had not reported it.
                sqlx::query("UPDATE comment_reports SET answered = TRUE WHERE comment_id = $1")
                    .bind(comment_id)
                    .execute(&mut *tx)
                    .await?;
                "approved the comment"
            }
            crate::Decision::Reject(reason) => {
                sqlx::query("UPDATE comments SET status = 'rejected', reject_reason = $2, featured = FALSE WHERE id = $1")
                        .bind(comment_id)
                        .bind(reason)
                        .execute(&mut *tx)
                        .await?;
                "rejected the comment"
            }
            crate::Decision::Feature(on) => {
                let changed = sqlx::query(
                    "UPDATE comments SET featured = $2 WHERE id = $1 AND status = 'published'",
                )
                .bind(comment_id)
                .bind(*on)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if changed == 0 {
                    return Err(StoreError::NotFound);
                }
                if *on {
                    "featured the comment"
                } else {
                    "unfeatured the comment"
                }
            }
        };
        let detail: String = body.chars().take(80).collect();
        super::events::audit_row(
            &mut tx,
            actor,
            action,
            &format!("comment:{comment_id}"),
            &detail,
            now,
        )
        .await?;
        let now_visible = matches!(decision, crate::Decision::Approve) && status != "published";
        let event = if now_visible {
            comment_published(&mut tx, item_id, comment_id, now).await?
        } else {
            comments_changed(&mut tx, item_id, now).await?
        };
        tx.commit().await?;
        Ok(event)
    }

    async fn set_story_commenting(
        &self,
        item_id: i64,
        closed: bool,
        premoderated: bool,
        actor: &str,
        now: Timestamp,
    ) -> Result<Event> {
        let mut tx = self.write_transaction().await?;
        sqlx::query(
                "INSERT INTO story_commenting (item_id, closed, premoderated) VALUES ($1, $2, $3)
                 ON CONFLICT (item_id) DO UPDATE SET closed = excluded.closed, premoderated = excluded.premoderated",
            )
            .bind(item_id)
            .bind(closed)
            .bind(premoderated)
            .execute(&mut *tx)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::NotFound,
                e => e.into(),
            })?;
        let detail = format!(
            "{}{}",
            if closed { "closed" } else { "open" },
            if premoderated {
                ", held for review"
            } else {
                ""
            }
        );
        super::events::audit_row(
            &mut tx,
            actor,
            "set the story's comments",
            &format!("item:{item_id}"),
            &detail,
            now,
        )
        .await?;
        let event = comments_changed(&mut tx, item_id, now).await?;
        tx.commit().await?;
        Ok(event)
    }

    async fn reader_comments(
        &self,
        reader_id: i64,
        limit: u32,
    ) -> Result<Vec<newsdesk_core::comment::Comment>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} WHERE c.reader_id = $1 ORDER BY c.id DESC LIMIT $2",
            COMMENT_SELECT
        )))
        .bind(reader_id)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(comment_from_row).collect()
    }

    async fn reader_actions(&self, reader_id: i64) -> Result<(Vec<i64>, Vec<(i64, String)>)> {
        let likes: Vec<i64> = sqlx::query_scalar(
            "SELECT comment_id FROM comment_likes WHERE reader_id = $1 ORDER BY comment_id",
        )
        .bind(reader_id)
        .fetch_all(&self.reader)
        .await?;
        let reports: Vec<(i64, String)> = sqlx::query_as(
                "SELECT comment_id, reason FROM comment_reports WHERE reader_id = $1 ORDER BY comment_id",
            )
            .bind(reader_id)
            .fetch_all(&self.reader)
            .await?;
        Ok((likes, reports))
    }
}
