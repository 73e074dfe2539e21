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
    15 "0015_published_index",
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
    /// Nothing at start: autovacuum keeps PostgreSQL's planner statistics.
    const REFRESH_PLANNER_STATISTICS: &[&str] = &[];
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
    /// An item's labels as one JSON array column of `[kind, a, b, c, at, pos]` (see
    /// `items::labels_from_row`), for a query whose table is `items`.
    macro_rules! item_labels {
        () => {
            "(SELECT COALESCE(json_agg(json_build_array(k, a, b, c, at, pos)), '[]')::text FROM (
                SELECT 't' AS k, t.slug AS a, t.name AS b, CAST(NULL AS TEXT) AS c,
                       CAST(NULL AS BIGINT) AS at, CAST(it.position AS BIGINT) AS pos
                  FROM item_tags it JOIN tags t ON t.id = it.tag_id WHERE it.item_id = items.id
                UNION ALL
                SELECT 'a', au.slug, au.name, au.bio, NULL, ia.position
                  FROM item_authors ia JOIN authors au ON au.id = ia.author_id
                 WHERE ia.item_id = items.id
                UNION ALL
                SELECT 's', s.name, s.url, NULL, NULL, s.position
                  FROM item_sources s WHERE s.item_id = items.id
                UNION ALL
                SELECT 'n', n.kind, n.body, NULL, n.at, n.id
                  FROM item_notes n WHERE n.item_id = items.id) AS labels_of_item) AS labels"
        };
    }
    /// The texts of an expression over a group, joined by commas, in no set order.
    macro_rules! text_list {
        ($e:literal) => {
            concat!("string_agg(", $e, ", ',')")
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
