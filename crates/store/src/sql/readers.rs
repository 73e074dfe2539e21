//! The SQL behind `ReaderStore`, written once for both backends (see `sql/mod.rs`).

use async_trait::async_trait;
use jiff::Timestamp;
use newsdesk_core::Event;
use sqlx::Row;

use super::sessions::Sessions;
use super::{DbRow, SqlStore};
use crate::sql::{from_micros, to_micros};
use crate::{ReaderStore, Result, StoreError};

fn reader_from_row(row: &DbRow) -> Result<newsdesk_core::reader::Reader> {
    let status: String = row.try_get("status")?;
    Ok(newsdesk_core::reader::Reader {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        verified: row.try_get("verified")?,
        status: newsdesk_core::reader::ReaderStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("reader status {status}")))?,
        created_at: from_micros(row.try_get("created_at")?)?,
    })
}

#[async_trait]
impl ReaderStore for SqlStore {
    async fn create_reader(
        &self,
        email: &str,
        display_name: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<newsdesk_core::reader::Reader> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO readers (email, display_name, password_hash, verified, status, created_at)
                 VALUES ($1, $2, $3, FALSE, 'active', $4) RETURNING id",
        )
        .bind(email)
        .bind(display_name)
        .bind(password_hash)
        .bind(to_micros(now))
        .fetch_one(&self.writer)
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Duplicate { field: "email" }
            }
            e => e.into(),
        })?;
        ReaderStore::reader(self, id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn reader(&self, id: i64) -> Result<Option<newsdesk_core::reader::Reader>> {
        let row = sqlx::query(
                "SELECT id, email, display_name, verified, status, created_at FROM readers WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(reader_from_row).transpose()
    }

    async fn reader_for_sign_in(
        &self,
        email: &str,
    ) -> Result<Option<(newsdesk_core::reader::Reader, String)>> {
        let row = sqlx::query(
                "SELECT id, email, display_name, verified, status, created_at, password_hash FROM readers WHERE email = $1",
            )
            .bind(email)
            .fetch_optional(&self.reader)
            .await?;
        match row {
            Some(row) => Ok(Some((
                reader_from_row(&row)?,
                row.try_get("password_hash")?,
            ))),
            None => Ok(None),
        }
    }

    async fn set_reader_verified(&self, id: i64) -> Result<()> {
        sqlx::query("UPDATE readers SET verified = TRUE WHERE id = $1")
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn set_reader_password(&self, id: i64, hash: &str) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        sqlx::query("UPDATE readers SET password_hash = $2 WHERE id = $1")
            .bind(id)
            .bind(hash)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM reader_sessions WHERE reader_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_reader_display_name(&self, id: i64, name: &str) -> Result<()> {
        sqlx::query("UPDATE readers SET display_name = $2 WHERE id = $1")
            .bind(id)
            .bind(name)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn create_reader_session(
        &self,
        token_hash: &str,
        reader_id: i64,
        csrf_token: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<()> {
        self.create_session_of(
            Sessions::Readers,
            token_hash,
            reader_id,
            csrf_token,
            now,
            expires_at,
        )
        .await
    }

    async fn reader_session(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<crate::ReaderSession>> {
        let row = sqlx::query(
            "SELECT r.id, r.email, r.display_name, r.verified, r.status, r.created_at, s.csrf_token
                 FROM reader_sessions s JOIN readers r ON r.id = s.reader_id
                 WHERE s.token_hash = $1 AND s.expires_at > $2",
        )
        .bind(token_hash)
        .bind(to_micros(now))
        .fetch_optional(&self.reader)
        .await?;
        match row {
            Some(row) => Ok(Some(crate::ReaderSession {
                reader: reader_from_row(&row)?,
                csrf_token: row.try_get("csrf_token")?,
            })),
            None => Ok(None),
        }
    }

    async fn delete_reader_session(&self, token_hash: &str) -> Result<()> {
        self.delete_session_of(Sessions::Readers, token_hash).await
    }

    async fn prune_expired_reader_sessions(&self, now: Timestamp) -> Result<u64> {
        self.prune_sessions_of(Sessions::Readers, now).await
    }

    async fn create_reader_token(
        &self,
        token_hash: &str,
        reader_id: i64,
        purpose: &str,
        expires_at: Timestamp,
    ) -> Result<()> {
        sqlx::query(
                "INSERT INTO reader_tokens (token_hash, reader_id, purpose, expires_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(token_hash)
            .bind(reader_id)
            .bind(purpose)
            .bind(to_micros(expires_at))
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn take_reader_token(
        &self,
        token_hash: &str,
        purpose: &str,
        now: Timestamp,
    ) -> Result<Option<i64>> {
        let reader: Option<i64> = sqlx::query_scalar(
            "DELETE FROM reader_tokens WHERE token_hash = $1 AND purpose = $2 AND expires_at > $3
                 RETURNING reader_id",
        )
        .bind(token_hash)
        .bind(purpose)
        .bind(to_micros(now))
        .fetch_optional(&self.writer)
        .await?;
        Ok(reader)
    }

    async fn set_reader_status(
        &self,
        reader_id: i64,
        status: newsdesk_core::reader::ReaderStatus,
        actor: &str,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        let email: Option<String> =
            sqlx::query_scalar("UPDATE readers SET status = $2 WHERE id = $1 RETURNING email")
                .bind(reader_id)
                .bind(status.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        let email = email.ok_or(StoreError::NotFound)?;
        super::events::audit_row(
            &mut tx,
            actor,
            "set the reader's standing",
            &format!("reader:{email}"),
            status.as_str(),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_reader(
        &self,
        reader_id: i64,
        remove_comments: bool,
        now: Timestamp,
    ) -> Result<Vec<Event>> {
        let mut tx = self.write_transaction().await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM readers WHERE id = $1")
            .bind(reader_id)
            .fetch_optional(&mut *tx)
            .await?;
        exists.ok_or(StoreError::NotFound)?;
        let items: Vec<i64> = sqlx::query_scalar(
                "SELECT DISTINCT item_id FROM comments WHERE reader_id = $1 OR id IN (SELECT comment_id FROM comment_likes WHERE reader_id = $1)",
            )
            .bind(reader_id)
            .fetch_all(&mut *tx)
            .await?;
        // Counts on others' comments drop with the likes this reader gave.
        sqlx::query(
                "UPDATE comments SET likes = likes - 1 WHERE id IN (SELECT comment_id FROM comment_likes WHERE reader_id = $1)",
            )
            .bind(reader_id)
            .execute(&mut *tx)
            .await?;
        if remove_comments {
            sqlx::query("UPDATE comments SET body = '', status = 'deleted', featured = FALSE WHERE reader_id = $1")
                    .bind(reader_id)
                    .execute(&mut *tx)
                    .await?;
        }
        sqlx::query("DELETE FROM readers WHERE id = $1")
            .bind(reader_id)
            .execute(&mut *tx)
            .await?;
        // The address is gone with the account; the audit line keeps only the id.
        super::events::audit_row(
            &mut tx,
            &format!("reader:{reader_id}"),
            "deleted their account",
            &format!("reader:{reader_id}"),
            if remove_comments {
                "comments removed"
            } else {
                "comments anonymised"
            },
            now,
        )
        .await?;
        let mut events = Vec::new();
        for item in items {
            events.push(super::comments::comments_changed(&mut tx, item, now).await?);
        }
        tx.commit().await?;
        Ok(events)
    }
}
