//! The SQL behind `AccountStore`, written once for both backends (see `sql/mod.rs`).

use async_trait::async_trait;
use jiff::Timestamp;
use newsdesk_core::account::Session;
use newsdesk_core::{Account, Role};
use sqlx::Row;

use super::sessions::Sessions;
use super::{DbRow, LOCK_SUBJECT, SERIALIZE_EVENTS, SqlStore};
use crate::sql::{from_micros, to_micros};
use crate::{AccountStore, Result, StoreError};

pub(crate) fn account_from_row(row: &DbRow) -> Result<newsdesk_core::Account> {
    let role: String = row.try_get("role")?;
    Ok(newsdesk_core::Account {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        role: newsdesk_core::Role::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?,
        disabled: row.try_get("disabled")?,
        created_at: from_micros(row.try_get("created_at")?)?,
    })
}

#[async_trait]
impl AccountStore for SqlStore {
    async fn create_account(
        &self,
        email: &str,
        name: &str,
        role: Role,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<Account> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO accounts (email, name, role, password_hash, disabled, created_at)
                 VALUES ($1, $2, $3, $4, FALSE, $5) RETURNING id",
        )
        .bind(email)
        .bind(name)
        .bind(role.as_str())
        .bind(password_hash)
        .bind(to_micros(now))
        .fetch_one(&self.writer)
        .await
        .map_err(|e| match StoreError::from(e) {
            StoreError::Database(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                StoreError::Duplicate { field: "email" }
            }
            other => other,
        })?;
        self.account(id).await?.ok_or(StoreError::NotFound)
    }

    async fn account(&self, id: i64) -> Result<Option<Account>> {
        let row = sqlx::query(
            "SELECT id, email, name, role, disabled, created_at FROM accounts WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.reader)
        .await?;
        row.as_ref().map(account_from_row).transpose()
    }

    async fn account_for_sign_in(&self, email: &str) -> Result<Option<(Account, String)>> {
        let row = sqlx::query(
            "SELECT id, email, name, role, disabled, created_at, password_hash
                 FROM accounts WHERE email = $1",
        )
        .bind(email)
        .fetch_optional(&self.reader)
        .await?;
        match row {
            Some(row) => Ok(Some((
                account_from_row(&row)?,
                row.try_get("password_hash")?,
            ))),
            None => Ok(None),
        }
    }

    async fn accounts(&self) -> Result<Vec<Account>> {
        let rows = sqlx::query(
            "SELECT id, email, name, role, disabled, created_at FROM accounts ORDER BY name, id",
        )
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(account_from_row).collect()
    }

    async fn count_admins(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM accounts WHERE role = 'admin' AND NOT disabled",
        )
        .fetch_one(&self.reader)
        .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn set_account_disabled(&self, id: i64, disabled: bool) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        let changed = sqlx::query("UPDATE accounts SET disabled = $2 WHERE id = $1")
            .bind(id)
            .bind(disabled)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        if disabled {
            sqlx::query("DELETE FROM sessions WHERE account_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn set_account_role(
        &self,
        id: i64,
        role: Role,
        actor: &str,
        now: Timestamp,
    ) -> Result<Account> {
        let mut tx = self.write_transaction().await?;
        // Two admins demoting each other at once must not both succeed: serialize with
        // every other writer that takes this lock.
        sqlx::query(SERIALIZE_EVENTS).execute(&mut *tx).await?;
        let before: Option<(String, String, bool)> =
            sqlx::query_as("SELECT email, role, disabled FROM accounts WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let (email, before_role, disabled) = before.ok_or(StoreError::NotFound)?;
        if before_role == "admin" && role != Role::Admin && !disabled {
            let admins: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM accounts WHERE role = 'admin' AND NOT disabled",
            )
            .fetch_one(&mut *tx)
            .await?;
            if admins <= 1 {
                return Err(StoreError::LastAdmin);
            }
        }
        sqlx::query("UPDATE accounts SET role = $2 WHERE id = $1")
            .bind(id)
            .bind(role.as_str())
            .execute(&mut *tx)
            .await?;
        let detail = format!("{before_role} → {}", role.as_str());
        super::events::audit_row(
            &mut tx,
            actor,
            "changed the role",
            &format!("account:{email}"),
            &detail,
            now,
        )
        .await?;
        tx.commit().await?;
        self.account(id).await?.ok_or(StoreError::NotFound)
    }

    async fn set_password_hash(
        &self,
        id: i64,
        hash: &str,
        keep_session: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        sqlx::query("UPDATE accounts SET password_hash = $2 WHERE id = $1")
            .bind(id)
            .bind(hash)
            .execute(&mut *tx)
            .await?;
        // A staff token acts as the person; whoever learnt the old password may have made one.
        sqlx::query(
            "UPDATE api_tokens SET revoked_at = $2
                 WHERE account_id = $1 AND kind = 'staff' AND revoked_at IS NULL",
        )
        .bind(id)
        .bind(to_micros(now))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM sessions WHERE account_id = $1 AND ($2 IS NULL OR token_hash <> $2)",
        )
        .bind(id)
        .bind(keep_session)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_session(
        &self,
        token_hash: &str,
        account_id: i64,
        csrf_token: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<()> {
        self.create_session_of(
            Sessions::Staff,
            token_hash,
            account_id,
            csrf_token,
            now,
            expires_at,
        )
        .await
    }

    async fn session(&self, token_hash: &str, now: Timestamp) -> Result<Option<Session>> {
        let row = sqlx::query(
            "SELECT a.id, a.email, a.name, a.role, a.disabled, a.created_at,
                        s.csrf_token, s.expires_at
                 FROM sessions s JOIN accounts a ON a.id = s.account_id
                 WHERE s.token_hash = $1 AND s.expires_at > $2 AND NOT a.disabled",
        )
        .bind(token_hash)
        .bind(to_micros(now))
        .fetch_optional(&self.reader)
        .await?;
        match row {
            Some(row) => Ok(Some(Session {
                account: account_from_row(&row)?,
                csrf_token: row.try_get("csrf_token")?,
                expires_at: from_micros(row.try_get("expires_at")?)?,
            })),
            None => Ok(None),
        }
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        self.delete_session_of(Sessions::Staff, token_hash).await
    }

    async fn prune_expired_sessions(&self, now: Timestamp) -> Result<u64> {
        self.prune_sessions_of(Sessions::Staff, now).await
    }

    async fn reserve_sign_in_attempt(
        &self,
        limits: &[(&str, u64)],
        since: Timestamp,
        now: Timestamp,
    ) -> Result<Option<Vec<i64>>> {
        // Locks taken in one order, so two attempts never wait on each other.
        let mut ordered: Vec<(&str, u64)> = limits.to_vec();
        ordered.sort_unstable();
        ordered.dedup_by_key(|(subject, _)| *subject);
        let mut tx = self.write_transaction().await?;
        for (subject, _) in &ordered {
            sqlx::query(LOCK_SUBJECT)
                .bind(*subject)
                .execute(&mut *tx)
                .await?;
        }
        for (subject, max) in &ordered {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM sign_in_failures WHERE subject = $1 AND at >= $2",
            )
            .bind(*subject)
            .bind(to_micros(since))
            .fetch_one(&mut *tx)
            .await?;
            if u64::try_from(n).unwrap_or(0) >= *max {
                return Ok(None);
            }
        }
        let mut ids = Vec::with_capacity(ordered.len());
        for (subject, _) in &ordered {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO sign_in_failures (subject, at) VALUES ($1, $2) RETURNING id",
            )
            .bind(*subject)
            .bind(to_micros(now))
            .fetch_one(&mut *tx)
            .await?;
            ids.push(id);
        }
        tx.commit().await?;
        Ok(Some(ids))
    }

    async fn release_sign_in_attempt(&self, ids: &[i64]) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        for id in ids {
            sqlx::query("DELETE FROM sign_in_failures WHERE id = $1")
                .bind(*id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn record_sign_in_failure(&self, subject: &str, now: Timestamp) -> Result<()> {
        sqlx::query("INSERT INTO sign_in_failures (subject, at) VALUES ($1, $2)")
            .bind(subject)
            .bind(to_micros(now))
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn count_sign_in_failures(&self, subject: &str, since: Timestamp) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sign_in_failures WHERE subject = $1 AND at >= $2",
        )
        .bind(subject)
        .bind(to_micros(since))
        .fetch_one(&self.reader)
        .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn clear_sign_in_failures(&self, subject: &str) -> Result<()> {
        sqlx::query("DELETE FROM sign_in_failures WHERE subject = $1")
            .bind(subject)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn prune_sign_in_failures(&self, before: Timestamp) -> Result<()> {
        sqlx::query("DELETE FROM sign_in_failures WHERE at < $1")
            .bind(to_micros(before))
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn create_setup_token(&self, token_hash: &str, expires_at: Timestamp) -> Result<()> {
        sqlx::query("INSERT INTO setup_tokens (token_hash, expires_at) VALUES ($1, $2)")
            .bind(token_hash)
            .bind(to_micros(expires_at))
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn take_setup_token(&self, token_hash: &str, now: Timestamp) -> Result<bool> {
        let taken =
            sqlx::query("DELETE FROM setup_tokens WHERE token_hash = $1 AND expires_at > $2")
                .bind(token_hash)
                .bind(to_micros(now))
                .execute(&self.writer)
                .await?
                .rows_affected();
        Ok(taken == 1)
    }

    async fn prune_expired_one_time_tokens(&self, now: Timestamp) -> Result<u64> {
        let mut tx = self.write_transaction().await?;
        let readers = sqlx::query("DELETE FROM reader_tokens WHERE expires_at <= $1")
            .bind(to_micros(now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let setup = sqlx::query("DELETE FROM setup_tokens WHERE expires_at <= $1")
            .bind(to_micros(now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(readers + setup)
    }
}
