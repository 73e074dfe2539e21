//! The SQL behind `EventLog`, written once for both backends (see `sql/mod.rs`).

use async_trait::async_trait;
use jiff::Timestamp;
use newsdesk_core::{Event, EventKind};
use sqlx::Row;

use super::{Conn, DbRow, SERIALIZE_EVENTS, SqlStore, Tx};
use crate::sql::{from_micros, to_micros};
use crate::{AuditEntry, EventLog, Result, StoreError};

/// The audit line of a change to the site's sections, tags, authors or accounts.
pub(crate) async fn audit_row(
    conn: &mut Conn,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(to_micros(now))
    .bind(actor)
    .bind(action)
    .bind(subject)
    .bind(detail)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) fn event_from_row(row: &DbRow) -> Result<Event> {
    let kind: String = row.try_get("kind")?;
    let keys: String = row.try_get("keys")?;
    Ok(Event {
        id: row.try_get("id")?,
        kind: EventKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("event kind {kind}")))?,
        item_id: row.try_get("item_id")?,
        comment_id: row.try_get("comment_id")?,
        keys: keys.split_whitespace().map(str::to_owned).collect(),
        at: from_micros(row.try_get("created_at")?)?,
    })
}

/// Appends one event in the write transaction `tx`; its commit then wakes the followers.
pub(crate) async fn append(
    tx: &mut Tx<'_>,
    kind: EventKind,
    item_id: Option<i64>,
    comment_id: Option<i64>,
    keys: Vec<String>,
    now: Timestamp,
) -> Result<Event> {
    let conn = tx.appending();
    // Event ids must become visible in the order they were given out, or a follower could
    // move its cursor past an id whose transaction has not committed yet.
    sqlx::query(SERIALIZE_EVENTS).execute(&mut *conn).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO events (kind, item_id, comment_id, keys, created_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(kind.as_str())
    .bind(item_id)
    .bind(comment_id)
    .bind(keys.join(" "))
    .bind(to_micros(now))
    .fetch_one(&mut *conn)
    .await?;
    Ok(Event {
        id,
        kind,
        item_id,
        comment_id,
        keys,
        // What a later read returns: the stored precision is microseconds.
        at: from_micros(to_micros(now))?,
    })
}

#[async_trait]
impl EventLog for SqlStore {
    async fn record_audit(
        &self,
        actor: &str,
        action: &str,
        subject: &str,
        detail: &str,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
                "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(to_micros(now))
            .bind(actor)
            .bind(action)
            .bind(subject)
            .bind(detail)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn audit_log(&self, limit: u32, offset: u32) -> Result<(Vec<AuditEntry>, u64)> {
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
            .fetch_one(&self.reader)
            .await?;
        let rows = sqlx::query(
            "SELECT id, at, actor, action, subject, detail FROM audit_log
                 ORDER BY id DESC LIMIT $1 OFFSET $2",
        )
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(&self.reader)
        .await?;
        let entries = rows
            .iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.try_get("id")?,
                    at: from_micros(r.try_get("at")?)?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    subject: r.try_get("subject")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((entries, u64::try_from(total).unwrap_or(0)))
    }

    async fn events_after(&self, after: i64, limit: u32) -> Result<Vec<Event>> {
        let rows = sqlx::query(
                "SELECT id, kind, item_id, comment_id, keys, created_at FROM events WHERE id > $1 ORDER BY id LIMIT $2",
            )
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(event_from_row).collect()
    }

    fn announce_events(&self, wake: std::sync::Arc<tokio::sync::Notify>) {
        self.announce(wake);
    }

    fn written(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.written.clone()
    }

    async fn last_event_id(&self) -> Result<i64> {
        let id: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM events")
            .fetch_one(&self.reader)
            .await?;
        Ok(id.unwrap_or(0))
    }

    async fn claim_job(&self, name: &str, now: Timestamp, next_run: Timestamp) -> Result<bool> {
        // The row moves on for exactly one claimer: every other sees `next_run` in the
        // future already (on PostgreSQL the second UPDATE waits for the first's commit
        // and then re-checks the condition).
        Ok(sqlx::query(
            "UPDATE jobs SET next_run = $1, last_run_at = $2 WHERE name = $3 AND next_run <= $2",
        )
        .bind(to_micros(next_run))
        .bind(to_micros(now))
        .bind(name)
        .execute(&self.writer)
        .await?
        .rows_affected()
            == 1)
    }
}
