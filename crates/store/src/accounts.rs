//! Staff accounts in the store: roles and passwords, signed-in sessions, the sign-in
//! throttle and the one-time set-up links.

use async_trait::async_trait;
use jiff::Timestamp;
use newsdesk_core::account::Session;
use newsdesk_core::{Account, Role};

use crate::Result;

/// Staff accounts, their sessions and their sign-in.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Refused with `StoreError::Duplicate { field: "email" }` when the address is taken.
    async fn create_account(
        &self,
        email: &str,
        name: &str,
        role: Role,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<Account>;
    async fn account(&self, id: i64) -> Result<Option<Account>>;
    /// The account and its password hash, for signing in.
    async fn account_for_sign_in(&self, email: &str) -> Result<Option<(Account, String)>>;
    async fn accounts(&self) -> Result<Vec<Account>>;
    /// Enabled admins.
    async fn count_admins(&self) -> Result<u64>;
    /// Disabling also ends every session of the account, in the same transaction.
    async fn set_account_disabled(&self, id: i64, disabled: bool) -> Result<()>;
    /// Changes an account's role and records who did it, in one transaction. Refused with
    /// `StoreError::LastAdmin` when it would leave the site without an enabled admin.
    async fn set_account_role(
        &self,
        id: i64,
        role: Role,
        actor: &str,
        now: Timestamp,
    ) -> Result<Account>;
    /// Replaces the password hash, ends every session but `keep_session` and revokes the
    /// account's staff API tokens (as of `now`).
    async fn set_password_hash(
        &self,
        id: i64,
        hash: &str,
        keep_session: Option<&str>,
        now: Timestamp,
    ) -> Result<()>;
    async fn create_session(
        &self,
        token_hash: &str,
        account_id: i64,
        csrf_token: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<()>;
    /// A live session of an enabled account.
    async fn session(&self, token_hash: &str, now: Timestamp) -> Result<Option<Session>>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;
    /// Staff sessions past their expiry.
    async fn prune_expired_sessions(&self, now: Timestamp) -> Result<u64>;
    /// Holds one sign-in attempt against every `(subject, max)` at once, unless a subject
    /// already has `max` attempts since `since`: then nothing is recorded and the answer is
    /// `None`. Counting and recording are one step, so parallel attempts cannot all pass the
    /// count. A held attempt counts as a failure until released; the ids release it.
    async fn reserve_sign_in_attempt(
        &self,
        limits: &[(&str, u64)],
        since: Timestamp,
        now: Timestamp,
    ) -> Result<Option<Vec<i64>>>;
    /// Gives back an attempt held by `reserve_sign_in_attempt` (it was not a failure).
    async fn release_sign_in_attempt(&self, ids: &[i64]) -> Result<()>;
    async fn record_sign_in_failure(&self, subject: &str, now: Timestamp) -> Result<()>;
    async fn count_sign_in_failures(&self, subject: &str, since: Timestamp) -> Result<u64>;
    async fn clear_sign_in_failures(&self, subject: &str) -> Result<()>;
    /// Forgets failures older than `before`, so the table stays as small as the window.
    async fn prune_sign_in_failures(&self, before: Timestamp) -> Result<()>;
    async fn create_setup_token(&self, token_hash: &str, expires_at: Timestamp) -> Result<()>;
    /// Uses up a set-up token; false when it is unknown, used or expired.
    async fn take_setup_token(&self, token_hash: &str, now: Timestamp) -> Result<bool>;
    /// Mailed verification and reset tokens, and set-up links, past their expiry.
    async fn prune_expired_one_time_tokens(&self, now: Timestamp) -> Result<u64>;
}
