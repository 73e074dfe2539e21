//! The SQL behind `Schema`, written once for both backends (see `sql/mod.rs`).

use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::Row;

use super::{LOCK_MIGRATIONS, MIGRATIONS, REFRESH_PLANNER_STATISTICS, SqlStore};
use crate::sql::to_micros;
use crate::{Migration, Result, Schema, StoreError};

#[async_trait]
impl Schema for SqlStore {
    async fn migrate_with(&self, newer: crate::NewerSchema) -> Result<Vec<Migration>> {
        let mut tx = self.write_transaction().await?;
        sqlx::query(LOCK_MIGRATIONS).execute(&mut *tx).await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                    version BIGINT PRIMARY KEY,
                    name TEXT NOT NULL,
                    checksum TEXT NOT NULL,
                    applied_at BIGINT NOT NULL
                )",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        let applied: Vec<(i64, String, String)> =
            sqlx::query("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
                .fetch_all(&self.writer)
                .await?
                .iter()
                .map(|r| {
                    Ok((
                        r.try_get("version")?,
                        r.try_get("name")?,
                        r.try_get("checksum")?,
                    ))
                })
                .collect::<Result<_>>()?;
        let unknown: Vec<&str> = applied
            .iter()
            .filter(|(version, _, _)| !MIGRATIONS.iter().any(|m| m.version == *version))
            .map(|(_, name, _)| name.as_str())
            .collect();
        if !unknown.is_empty() {
            match newer {
                crate::NewerSchema::Refuse => {
                    return Err(StoreError::UnknownMigrations {
                        names: unknown.join(", "),
                    });
                }
                crate::NewerSchema::Allow => tracing::warn!(
                    migrations = %unknown.join(", "),
                    "the database has migrations this binary does not know (a newer newsdesk's); serving anyway as asked"
                ),
            }
        }
        let mut done = Vec::new();
        for m in MIGRATIONS {
            if let Some((_, _, checksum)) = applied.iter().find(|(v, _, _)| *v == m.version) {
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
            let mut tx = self.write_transaction().await?;
            sqlx::query(LOCK_MIGRATIONS).execute(&mut *tx).await?;
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
        let mut conn = self.writer.acquire().await?;
        for statement in REFRESH_PLANNER_STATISTICS {
            sqlx::query(*statement).execute(&mut *conn).await?;
        }
        Ok(done)
    }
}
