//! The SQLite store: one file in the data directory, in WAL mode. Writes go through a
//! single connection and open with `BEGIN IMMEDIATE`, so two writers never deadlock on a
//! lock upgrade; other processes (the CLI beside a running server) wait on `busy_timeout`.

mod items;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use newsdesk_core::{Author, Event, EventKind, Item, Tag, ValidItem};
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::migrate::{Migration, migrations};
use crate::{ItemQuery, PublicationTimes, Result, Revision, Saved, Store, StoreError};

const MIGRATIONS: &[Migration] = migrations!("sqlite":
    1 "0001_content",
);

/// Name of the database file inside the data directory.
pub const DATABASE_FILE: &str = "newsdesk.sqlite3";

pub struct SqliteStore {
    /// One connection: SQLite has one writer at a time, and queueing in-process is cheaper
    /// than retrying on SQLITE_BUSY.
    writer: SqlitePool,
    reader: SqlitePool,
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
        Ok(SqliteStore { writer, reader })
    }

    async fn applied_migrations(&self) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query("SELECT version, checksum FROM schema_migrations ORDER BY version")
            .fetch_all(&self.writer)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("version")?, r.try_get("checksum")?)))
            .collect()
    }
}

pub(crate) fn to_micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

pub(crate) fn from_micros(v: i64) -> Result<Timestamp> {
    Timestamp::from_microsecond(v).map_err(|e| StoreError::Corrupt(format!("time {v}: {e}")))
}

/// The only unique key an item row has besides its id is (language, slug).
fn slug_taken(e: StoreError) -> StoreError {
    match e {
        StoreError::Database(sqlx::Error::Database(ref db)) if db.is_unique_violation() => {
            StoreError::Duplicate { field: "slug" }
        }
        e => e,
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> Result<Vec<Migration>> {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                checksum TEXT NOT NULL,
                applied_at INTEGER NOT NULL
            )",
        )
        .execute(&self.writer)
        .await?;
        let applied = self.applied_migrations().await?;
        let mut done = Vec::new();
        for m in MIGRATIONS {
            if let Some((_, checksum)) = applied.iter().find(|(v, _)| *v == m.version) {
                if *checksum != m.checksum() {
                    return Err(StoreError::Migration {
                        version: m.version,
                        name: m.name.into(),
                        reason: "the migration file changed after it was applied".into(),
                    });
                }
                continue;
            }
            let fail = |e: sqlx::Error| StoreError::Migration {
                version: m.version,
                name: m.name.into(),
                reason: e.to_string(),
            };
            let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
            // Another process may have applied it while we waited for the lock.
            let already: Option<i64> =
                sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                    .bind(m.version)
                    .fetch_optional(&mut *tx)
                    .await?;
            if already.is_some() {
                continue;
            }
            sqlx::raw_sql(m.sql).execute(&mut *tx).await.map_err(fail)?;
            sqlx::query(
                "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(m.version)
            .bind(m.name)
            .bind(m.checksum())
            .bind(to_micros(Timestamp::now()))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            done.push(m.clone());
        }
        Ok(done)
    }

    async fn upsert_author(&self, author: &Author) -> Result<()> {
        sqlx::query(
            "INSERT INTO authors (slug, name, bio) VALUES ($1, $2, $3)
             ON CONFLICT (slug) DO UPDATE SET name = excluded.name, bio = excluded.bio",
        )
        .bind(&author.slug)
        .bind(&author.name)
        .bind(&author.bio)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn author(&self, slug: &str) -> Result<Option<Author>> {
        let row = sqlx::query("SELECT slug, name, bio FROM authors WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&self.reader)
            .await?;
        row.map(|r| {
            Ok(Author {
                slug: r.try_get("slug")?,
                name: r.try_get("name")?,
                bio: r.try_get("bio")?,
            })
        })
        .transpose()
    }

    async fn tag(&self, slug: &str) -> Result<Option<Tag>> {
        let row = sqlx::query("SELECT slug, name FROM tags WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&self.reader)
            .await?;
        row.map(|r| {
            Ok(Tag {
                slug: r.try_get("slug")?,
                name: r.try_get("name")?,
            })
        })
        .transpose()
    }

    async fn item_by_id(&self, id: i64) -> Result<Option<Item>> {
        let mut conn = self.reader.acquire().await?;
        items::load_by_id(&mut conn, id).await
    }

    async fn item_by_slug(&self, language: &str, slug: &str) -> Result<Option<Item>> {
        let mut conn = self.reader.acquire().await?;
        items::load_by_slug(&mut conn, language, slug).await
    }

    async fn published(&self, query: &ItemQuery) -> Result<Vec<Item>> {
        let mut conn = self.reader.acquire().await?;
        items::published(&mut conn, query).await
    }

    async fn count_published(&self, query: &ItemQuery) -> Result<u64> {
        let mut conn = self.reader.acquire().await?;
        items::count_published(&mut conn, query).await
    }

    async fn count_all_items(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM items")
            .fetch_one(&self.reader)
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn create_item(
        &self,
        item: &ValidItem,
        times: PublicationTimes,
        actor: &str,
        now: Timestamp,
    ) -> Result<Saved> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let id = items::insert(&mut tx, item, times, now)
            .await
            .map_err(slug_taken)?;
        items::write_labels(&mut tx, id, item).await?;
        let stored = items::load_by_id(&mut tx, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        items::write_revision(&mut tx, &stored, actor, now).await?;
        let event = match EventKind::for_transition(None, stored.status) {
            Some(kind) => Some(items::append_event(&mut tx, kind, &stored, None, now).await?),
            None => None,
        };
        tx.commit().await?;
        Ok(Saved {
            item: stored,
            event,
        })
    }

    async fn update_item(
        &self,
        id: i64,
        expected_version: i64,
        item: &ValidItem,
        times: PublicationTimes,
        actor: &str,
        now: Timestamp,
    ) -> Result<Saved> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let before = items::load_by_id(&mut tx, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        if before.version != expected_version {
            return Err(StoreError::Conflict {
                current: before.version,
            });
        }
        items::update(&mut tx, id, item, times, now)
            .await
            .map_err(slug_taken)?;
        items::write_labels(&mut tx, id, item).await?;
        let stored = items::load_by_id(&mut tx, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        items::write_revision(&mut tx, &stored, actor, now).await?;
        let event = match EventKind::for_transition(Some(before.status), stored.status) {
            Some(kind) => {
                Some(items::append_event(&mut tx, kind, &stored, Some(&before), now).await?)
            }
            None => None,
        };
        tx.commit().await?;
        Ok(Saved {
            item: stored,
            event,
        })
    }

    async fn revisions(&self, item_id: i64) -> Result<Vec<Revision>> {
        let rows = sqlx::query(
            "SELECT item_id, version, actor, created_at, snapshot FROM revisions
             WHERE item_id = $1 ORDER BY version",
        )
        .bind(item_id)
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                let snapshot: String = r.try_get("snapshot")?;
                Ok(Revision {
                    item_id: r.try_get("item_id")?,
                    version: r.try_get("version")?,
                    actor: r.try_get("actor")?,
                    created_at: from_micros(r.try_get("created_at")?)?,
                    snapshot: serde_json::from_str(&snapshot)
                        .map_err(|e| StoreError::Corrupt(format!("revision snapshot: {e}")))?,
                })
            })
            .collect()
    }

    async fn events_after(&self, after: i64, limit: u32) -> Result<Vec<Event>> {
        let rows = sqlx::query(
            "SELECT id, kind, item_id, keys, created_at FROM events WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(items::event_from_row).collect()
    }

    async fn last_event_id(&self) -> Result<i64> {
        let id: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM events")
            .fetch_one(&self.reader)
            .await?;
        Ok(id.unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::MIGRATIONS;

    #[test]
    fn migration_files_are_named_after_their_version_in_order() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.name);
            assert!(
                m.name.starts_with(&format!("{:04}_", m.version)),
                "{}",
                m.name
            );
        }
    }
}
