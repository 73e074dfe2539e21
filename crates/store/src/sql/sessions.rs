//! Signed-in sessions, the staff's and the readers': one implementation over two tables that
//! differ only in their name and in whose id a session holds. Looking a session up joins
//! its owner's table, so that stays with accounts and readers.

use jiff::Timestamp;

use super::SqlStore;
use crate::Result;
use crate::sql::to_micros;

/// Whose sessions: each kind lives in its own table, with its own cookie.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Sessions {
    Staff,
    Readers,
}

impl Sessions {
    fn insert(self) -> &'static str {
        match self {
            Sessions::Staff => {
                "INSERT INTO sessions (token_hash, account_id, csrf_token, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5)"
            }
            Sessions::Readers => {
                "INSERT INTO reader_sessions (token_hash, reader_id, csrf_token, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5)"
            }
        }
    }

    fn delete(self) -> &'static str {
        match self {
            Sessions::Staff => "DELETE FROM sessions WHERE token_hash = $1",
            Sessions::Readers => "DELETE FROM reader_sessions WHERE token_hash = $1",
        }
    }

    fn prune(self) -> &'static str {
        match self {
            Sessions::Staff => "DELETE FROM sessions WHERE expires_at <= $1",
            Sessions::Readers => "DELETE FROM reader_sessions WHERE expires_at <= $1",
        }
    }
}

impl SqlStore {
    /// Starts a session of `owner_id` (an account or a reader, as `sessions` says).
    pub(crate) async fn create_session_of(
        &self,
        sessions: Sessions,
        token_hash: &str,
        owner_id: i64,
        csrf_token: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<()> {
        sqlx::query(sessions.insert())
            .bind(token_hash)
            .bind(owner_id)
            .bind(csrf_token)
            .bind(to_micros(now))
            .bind(to_micros(expires_at))
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub(crate) async fn delete_session_of(
        &self,
        sessions: Sessions,
        token_hash: &str,
    ) -> Result<()> {
        sqlx::query(sessions.delete())
            .bind(token_hash)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Sessions past their expiry at `now`; returns how many were deleted.
    pub(crate) async fn prune_sessions_of(
        &self,
        sessions: Sessions,
        now: Timestamp,
    ) -> Result<u64> {
        Ok(sqlx::query(sessions.prune())
            .bind(to_micros(now))
            .execute(&self.writer)
            .await?
            .rows_affected())
    }
}
