//! API tokens in the store: staff tokens and read keys, kept by the hash of their secret.

use async_trait::async_trait;
use jiff::Timestamp;
use newsdesk_core::{Account, Role};
use serde::Serialize;

use crate::Result;

/// A token to store; the secret itself is never stored.
#[derive(Debug, Clone)]
pub struct NewApiToken<'a> {
    pub kind: newsdesk_core::TokenKind,
    pub name: &'a str,
    pub token_hash: &'a str,
    pub account_id: i64,
    /// Staff tokens: the role they act in.
    pub role: Option<Role>,
}

/// An API token as the desk lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub kind: newsdesk_core::TokenKind,
    pub name: String,
    pub account_id: i64,
    /// The address of the account it acts as (staff) or was made by (read keys).
    pub account_email: String,
    pub role: Option<Role>,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// API tokens.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Stores a new token (by the hash of its secret) with an audit line, in one transaction.
    async fn create_api_token(
        &self,
        token: &NewApiToken<'_>,
        actor: &str,
        now: Timestamp,
    ) -> Result<ApiToken>;
    /// Tokens newest first: every token, or the staff tokens acting as one account.
    async fn api_tokens(&self, account_id: Option<i64>) -> Result<Vec<ApiToken>>;
    async fn api_token(&self, id: i64) -> Result<Option<ApiToken>>;
    /// Unrevoked tokens of one account: staff tokens acting as it and keys it made.
    async fn count_live_api_tokens(&self, account_id: i64) -> Result<u64>;
    /// Revokes a token for good, audited. `NotFound` when it does not exist or is revoked.
    async fn revoke_api_token(&self, id: i64, actor: &str, now: Timestamp) -> Result<()>;
    /// The unrevoked token with this hash and the account behind it (which may be disabled:
    /// the caller decides). Marks it used, at most once a minute.
    async fn use_api_token(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<(ApiToken, Account)>>;
    /// API tokens revoked before `revoked_before` (the audit log keeps their story).
    async fn prune_revoked_api_tokens(&self, revoked_before: Timestamp) -> Result<u64>;
}
