//! The PostgreSQL store, for several stateless instances on one database. It runs the same
//! SQL as SQLite (see `sql.rs`); what is its own: a connection pool, advisory locks so that
//! instances starting together migrate once and event ids commit in order, and
//! LISTEN/NOTIFY to wake every instance's event follower at once.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use tokio::sync::Notify;

use crate::Result;
use crate::migrate::{Migration, migrations};

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
    /// Woken after every commit of this process that appended an event, and by NOTIFY once
    /// `announce_events` listens (other instances' commits).
    written: Arc<Notify>,
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
            written: Arc::new(Notify::new()),
        })
    }

    pub(crate) fn pool(&self) -> &PgPool {
        &self.writer
    }

    async fn write_transaction(&self) -> Result<crate::sql::WriteTx<'_, sqlx::Postgres>> {
        let tx = self.writer.begin().await?;
        Ok(crate::sql::WriteTx::new(tx, &self.written))
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

/// The shared SQL (`src/sql/`, one file per aggregate) compiled against PostgreSQL, through the
/// names below: the only things the two backends write differently.
#[path = "../sql"]
// Loading each file once per backend is the point: the same SQL, checked against each driver.
#[allow(clippy::duplicate_mod)]
mod sql {
    type SqlStore = super::PgStore;
    type Conn = sqlx::PgConnection;
    type DbRow = sqlx::postgres::PgRow;
    type Tx<'a> = crate::sql::WriteTx<'a, sqlx::Postgres>;

    const MIGRATIONS: &[crate::Migration] = super::MIGRATIONS;
    /// Run first in a migration's transaction; blocks other migrators until commit.
    const LOCK_MIGRATIONS: &str = "SELECT pg_advisory_xact_lock(7369701)";
    /// Run before an event is appended; held to commit, so event ids commit in order. The
    /// NOTIFY inside the transaction is delivered on commit.
    const SERIALIZE_EVENTS: &str =
        "SELECT pg_advisory_xact_lock(7369702), pg_notify('newsdesk_events', '')";
    /// One lock per throttling subject (bound as `$1`), so attempts on unrelated accounts and
    /// addresses do not queue.
    const LOCK_SUBJECT: &str = "SELECT pg_advisory_xact_lock(hashtextextended($1, 7369703))";

    /// A subquery yielding the ids of the JSON array bound as `$1`.
    macro_rules! ids {
        () => {
            "SELECT value::bigint FROM jsonb_array_elements_text($1::jsonb)"
        };
    }
    /// Appended to the subquery that picks due webhook deliveries (alias `d`).
    macro_rules! claim_lock {
        () => {
            // Concurrent claimers skip each other's rows instead of queueing behind them.
            " FOR UPDATE OF d SKIP LOCKED"
        };
    }

    mod accounts;
    mod comments;
    mod events;
    mod items;
    mod labels;
    mod library;
    mod readers;
    mod schema;
    mod sessions;
    mod tokens;
    mod webhooks;
}
