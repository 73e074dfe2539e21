//! Readers in the store: their accounts, sessions and mailed tokens, and what is done to an
//! account as a whole (suspending it, deleting it with its traces).

use async_trait::async_trait;
use jiff::Timestamp;
use newsdesk_core::Event;
use newsdesk_core::reader::ReaderSession;

use crate::Result;

/// Readers, their sessions and their mailed tokens.
#[async_trait]
pub trait ReaderStore: Send + Sync {
    /// Refused with `StoreError::Duplicate { field: "email" }` when the address is taken.
    async fn create_reader(
        &self,
        email: &str,
        display_name: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<newsdesk_core::reader::Reader>;
    async fn reader(&self, id: i64) -> Result<Option<newsdesk_core::reader::Reader>>;
    /// The reader and their password hash, for signing in.
    async fn reader_for_sign_in(
        &self,
        email: &str,
    ) -> Result<Option<(newsdesk_core::reader::Reader, String)>>;
    async fn set_reader_verified(&self, id: i64) -> Result<()>;
    /// Replaces the password hash and ends every session of the reader.
    async fn set_reader_password(&self, id: i64, hash: &str) -> Result<()>;
    async fn set_reader_display_name(&self, id: i64, name: &str) -> Result<()>;
    async fn create_reader_session(
        &self,
        token_hash: &str,
        reader_id: i64,
        csrf_token: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<()>;
    async fn reader_session(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<ReaderSession>>;
    async fn delete_reader_session(&self, token_hash: &str) -> Result<()>;
    /// Reader sessions past their expiry.
    async fn prune_expired_reader_sessions(&self, now: Timestamp) -> Result<u64>;
    /// `purpose` is `verify` or `reset`.
    async fn create_reader_token(
        &self,
        token_hash: &str,
        reader_id: i64,
        purpose: &str,
        expires_at: Timestamp,
    ) -> Result<()>;
    /// Uses up a token: the reader it was for, or None when unknown, used or expired.
    async fn take_reader_token(
        &self,
        token_hash: &str,
        purpose: &str,
        now: Timestamp,
    ) -> Result<Option<i64>>;
    /// Suspends, bans or restores a reader; audited.
    async fn set_reader_status(
        &self,
        reader_id: i64,
        status: newsdesk_core::reader::ReaderStatus,
        actor: &str,
        now: Timestamp,
    ) -> Result<()>;
    /// Deletes a reader's account with their sessions, tokens, likes and reports. Their
    /// comments stay without a name, or (`remove_comments`) are emptied to deleted markers.
    /// One `comments_changed` event per story touched; audited.
    async fn delete_reader(
        &self,
        reader_id: i64,
        remove_comments: bool,
        now: Timestamp,
    ) -> Result<Vec<Event>>;
}
