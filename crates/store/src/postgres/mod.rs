//! The PostgreSQL store, for several stateless instances on one database. It runs the same
//! SQL as SQLite (see `sql.rs`); what is its own: a connection pool, advisory locks so that
//! instances starting together migrate once and event ids commit in order, and
//! LISTEN/NOTIFY to wake every instance's event follower at once.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use newsdesk_core::{
    Account, Author, Event, EventKind, Item, ItemKind, ItemStatus, Role, Tag, ValidItem,
};
use sqlx::Row;
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use tokio::sync::Notify;

use crate::migrate::{Migration, migrations};
use crate::sql::{from_micros, slug_taken, sql_store, to_micros};
use crate::{
    AuditEntry, DeskQuery, ItemQuery, PublicationTimes, Result, Revision, Saved, Session, Store,
    StoreError,
};

const MIGRATIONS: &[Migration] = migrations!("postgres":
    1 "0001_content",
    2 "0002_accounts",
    3 "0003_redirects",
    4 "0004_audit",
    5 "0005_notes",
    6 "0006_sections",
    7 "0007_autosaves",
    8 "0008_media_library",
    9 "0009_comments",
    10 "0010_related",
    11 "0011_api_tokens",
    12 "0012_webhooks",
    13 "0013_reader_reactions",
    14 "0014_jobs",
);

/// The channel every committed event is announced on (the payload is the event id).
pub const EVENTS_CHANNEL: &str = "newsdesk_events";
/// Connections per instance; PostgreSQL's own limit is shared by every instance.
const POOL_SIZE: u32 = 16;

pub struct PgStore {
    // One pool serves both roles; they are separate so a read replica can take `reader`.
    writer: PgPool,
    reader: PgPool,
    url: String,
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/database`).
    pub async fn connect(url: &str) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            // Fail a request in seconds rather than hang it while the database is away.
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        Ok(PgStore {
            writer: pool.clone(),
            reader: pool,
            url: url.to_owned(),
        })
    }

    pub(crate) fn pool(&self) -> &PgPool {
        &self.writer
    }

    async fn write_transaction(&self) -> Result<sqlx::Transaction<'_, sqlx::Postgres>> {
        Ok(self.writer.begin().await?)
    }

    /// Wakes `wake` whenever any instance commits an event. Runs until the process ends,
    /// reconnecting after a lost connection; notifications missed meanwhile are caught up by
    /// the follower's poll of the table.
    fn announce(&self, wake: Arc<Notify>) {
        let url = self.url.clone();
        tokio::spawn(async move {
            loop {
                match listen(&url, &wake).await {
                    Ok(()) => {}
                    Err(e) => tracing::warn!(error = %e, "LISTEN connection lost; reconnecting"),
                }
                wake.notify_one();
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }
}

async fn listen(url: &str, wake: &Notify) -> Result<()> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(EVENTS_CHANNEL).await?;
    loop {
        listener.recv().await?;
        wake.notify_one();
    }
}

sql_store! {
    store: PgStore,
    connection: sqlx::PgConnection,
    row: sqlx::postgres::PgRow,
    ids: "SELECT value::bigint FROM jsonb_array_elements_text($1::jsonb)",
    lock_migrations: "SELECT pg_advisory_xact_lock(7369701)",
    // Held to commit; the NOTIFY inside the transaction is delivered on commit.
    serialize_events: "SELECT pg_advisory_xact_lock(7369702), pg_notify('newsdesk_events', '')",
    // Concurrent claimers skip each other's rows instead of queueing behind them.
    claim_lock: " FOR UPDATE OF d SKIP LOCKED",
    // One lock per subject, so attempts on unrelated accounts and addresses do not queue.
    lock_subject: "SELECT pg_advisory_xact_lock(hashtextextended($1, 7369703))",
    migrations: MIGRATIONS,
}
