//! The SQLite store: one file in the data directory, in WAL mode. Writes go through a
//! single connection and open with `BEGIN IMMEDIATE`, so two writers never deadlock on a
//! lock upgrade; other processes (the CLI beside a running server) wait on `busy_timeout`.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use std::sync::Arc;

use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::migrate::{Migration, migrations};
use tokio::sync::Notify;

use crate::{Result, StoreError};

const MIGRATIONS: &[Migration] = migrations!("sqlite":
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

/// Name of the database file inside the data directory.
pub const DATABASE_FILE: &str = "newsdesk.sqlite3";

pub struct SqliteStore {
    /// One connection: SQLite has one writer at a time, and queueing in-process is cheaper
    /// than retrying on SQLITE_BUSY.
    writer: SqlitePool,
    reader: SqlitePool,
    /// Woken after every commit that appended an event.
    written: Arc<Notify>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database in `data_dir`.
    pub async fn open(data_dir: &Path) -> Result<Self> {
        let path = data_dir.join(DATABASE_FILE);
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit that returned is on disk, even if the machine loses power.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .connect_with(options.read_only(true))
            .await?;
        Ok(SqliteStore {
            writer,
            reader,
            written: Arc::new(Notify::new()),
        })
    }

    pub(crate) fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    /// SQLite has one writer at a time: take the write lock when the transaction starts
    /// (`BEGIN IMMEDIATE`), not halfway through it, where a deadlock would be the answer.
    async fn write_transaction(&self) -> Result<crate::sql::WriteTx<'_, sqlx::Sqlite>> {
        let tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        Ok(crate::sql::WriteTx::new(tx, &self.written))
    }

    /// Nothing to do: writes from this process wake the follower directly, and writes from
    /// other processes (the CLI beside a server) are found by its poll of the table.
    fn announce(&self, _wake: Arc<Notify>) {}
}

/// Writes a consistent copy of the database in `data_dir` to `to` (a new file) while servers
/// keep reading and writing it. `VACUUM INTO` copies one read transaction's view, and in WAL
/// mode a reader never blocks the writer, so the site keeps publishing meanwhile; the copy is
/// self-contained (nothing is left in a WAL beside it). It runs on a connection of its own,
/// never on the store's single writer.
pub async fn snapshot(data_dir: &Path, to: &Path) -> Result<()> {
    use sqlx::Connection;
    let target = to
        .to_str()
        .ok_or_else(|| StoreError::Corrupt(format!("{} is not a UTF-8 path", to.display())))?;
    let options = SqliteConnectOptions::new()
        .filename(data_dir.join(DATABASE_FILE))
        .busy_timeout(Duration::from_secs(10));
    let mut conn = sqlx::SqliteConnection::connect_with(&options).await?;
    sqlx::query("VACUUM INTO $1")
        .bind(target)
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

/// What a database file holds and whether it is sound, for backup manifests and restores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseCheck {
    /// `PRAGMA integrity_check`'s verdict: `ok`, or the problems it found.
    pub integrity: String,
    /// Applied migrations, by version.
    pub migrations: Vec<(i64, String)>,
    /// Applied migrations this binary does not know (a newer newsdesk's).
    pub unknown_migrations: Vec<String>,
    pub items: i64,
    pub comments: i64,
}

/// Checks the database file at `path` (not a live one: it is opened for writing, so that a
/// copy left in WAL mode can be read without its server).
pub async fn inspect(path: &Path) -> Result<DatabaseCheck> {
    use sqlx::Connection;
    let options = SqliteConnectOptions::new()
        .filename(path)
        .busy_timeout(Duration::from_secs(10));
    let mut conn = sqlx::SqliteConnection::connect_with(&options).await?;
    let verdicts: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await?;
    let migrations: Vec<(i64, String)> =
        sqlx::query("SELECT version, name FROM schema_migrations ORDER BY version")
            .fetch_all(&mut conn)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("version")?, r.try_get("name")?)))
            .collect::<Result<_>>()?;
    let items: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM items")
        .fetch_one(&mut conn)
        .await?;
    let comments: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM comments")
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;
    let unknown_migrations = migrations
        .iter()
        .filter(|(version, _)| !MIGRATIONS.iter().any(|m| m.version == *version))
        .map(|(_, name)| name.clone())
        .collect();
    Ok(DatabaseCheck {
        integrity: verdicts.join("; "),
        migrations,
        unknown_migrations,
        items,
        comments,
    })
}

/// The shared SQL (`src/sql/`, one file per aggregate) compiled against SQLite, through the
/// names below: the only things the two backends write differently.
#[path = "../sql"]
// Loading each file once per backend is the point: the same SQL, checked against each driver.
#[allow(clippy::duplicate_mod)]
mod sql {
    type SqlStore = super::SqliteStore;
    type Conn = sqlx::SqliteConnection;
    type DbRow = sqlx::sqlite::SqliteRow;
    type Tx<'a> = crate::sql::WriteTx<'a, sqlx::Sqlite>;

    const MIGRATIONS: &[crate::Migration] = super::MIGRATIONS;
    /// Run first in a migration's transaction: `BEGIN IMMEDIATE` already holds the only write lock.
    const LOCK_MIGRATIONS: &str = "SELECT 1";
    /// Run at every start, after the migrations. Without statistics SQLite takes an equality
    /// on an index's first column for a selective one, and `status = 'published'`, which
    /// nearly every item matches, drew queries onto `items_published` that the primary key
    /// answers in a fraction of the time. `optimize` analyzes only the tables that changed
    /// much since the last time (an import), reading at most 400 rows of each index.
    const REFRESH_PLANNER_STATISTICS: &[&str] =
        &["PRAGMA analysis_limit = 400", "PRAGMA optimize = 0x10002"];
    /// Run before an event is appended: the one writer already runs alone.
    const SERIALIZE_EVENTS: &str = "SELECT 1";
    /// Run with a throttling subject bound as `$1` before its attempts are counted.
    const LOCK_SUBJECT: &str = "SELECT $1";

    /// A subquery yielding the ids of the JSON array bound as `$1`.
    macro_rules! ids {
        () => {
            "SELECT value FROM json_each($1)"
        };
    }
    /// An item's labels as one JSON array column of `[kind, a, b, c, at, pos]` (see
    /// `items::labels_from_row`), for a query whose table is `items`.
    macro_rules! item_labels {
        () => {
            "(SELECT json_group_array(json_array(k, a, b, c, at, pos)) FROM (
                SELECT 't' AS k, t.slug AS a, t.name AS b, NULL AS c, NULL AS at, it.position AS pos
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
                  FROM item_notes n WHERE n.item_id = items.id)) AS labels"
        };
    }
    /// The texts of an expression over a group, joined by commas, in no set order.
    macro_rules! text_list {
        ($e:literal) => {
            concat!("group_concat(", $e, ", ',')")
        };
    }
    /// Appended to the subquery that picks due webhook deliveries (alias `d`).
    macro_rules! claim_lock {
        () => {
            // One writer: a claim's UPDATE cannot interleave with another's.
            ""
        };
    }

    mod accounts;
    mod comments;
    mod events;
    // Visible to this backend's tests, which read the plans of its statements.
    pub(super) mod items;
    mod labels;
    mod library;
    mod readers;
    mod schema;
    mod sessions;
    mod tokens;
    mod webhooks;
}

#[cfg(test)]
mod tests {
    use super::MIGRATIONS;
    use crate::Schema;

    /// Every public listing asks for `PUBLISHED_FILTER` newest first: on SQLite that must be
    /// a walk of `items_published` that stops at the page, never a scan of every item's row
    /// and a sort (what a large archive paid before; BENCHMARKS.md, "A large archive").
    #[tokio::test]
    async fn the_published_listing_walks_its_index_without_sorting() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let store = super::SqliteStore::open(dir.path()).await.expect("open");
        store.migrate().await.expect("migrate");
        let sql = format!(
            "EXPLAIN QUERY PLAN SELECT id FROM items WHERE {}
             ORDER BY published_at DESC, id DESC LIMIT 20",
            super::sql::items::PUBLISHED_FILTER
        );
        let mut query = sqlx::query_as::<_, (i64, i64, i64, String)>(sqlx::AssertSqlSafe(sql));
        for _ in 0..11 {
            query = query.bind(None::<String>);
        }
        let plan: Vec<String> = query
            .fetch_all(&store.reader)
            .await
            .expect("plan")
            .into_iter()
            .map(|(_, _, _, detail)| detail)
            .collect();
        assert!(
            plan.iter().any(|step| step.contains("items_published")),
            "{plan:?}"
        );
        assert!(
            !plan.iter().any(|step| step.contains("TEMP B-TREE")),
            "{plan:?}"
        );
    }

    #[test]
    fn migration_files_are_named_after_their_version_in_order() {
        // Numbers are handed out to branches in advance, so one may be missing for a while;
        // the order and the names must still hold.
        let mut previous = 0;
        for m in MIGRATIONS {
            assert!(m.version > previous, "{} is out of order", m.name);
            previous = m.version;
            assert!(
                m.name.starts_with(&format!("{:04}_", m.version)),
                "{}",
                m.name
            );
        }
    }
}
