//! Who is calling the API: staff tokens (made in the desk, acting as their account within a
//! role no wider than the account's), read keys (made by admins for partners), and readers'
//! sign-in tokens. A token names its kind in a short prefix, so a leaked one is recognisable
//! by secret scanners and is looked up only where it can live.

use jiff::Timestamp;
use newsdesk_core::reader::Reader;
use newsdesk_core::{Account, Action, Role, TokenKind, account::validate_token_name};
use newsdesk_store::{ApiToken, NewApiToken};

use crate::accounts::{random_token, token_hash};
use crate::error::{Denial, Missing, Refusal, Result, ServiceError};
use crate::newsroom::Newsroom;

/// Prefix of staff tokens.
pub const STAFF_PREFIX: &str = "nds_";
/// Prefix of read keys.
pub const READ_KEY_PREFIX: &str = "ndk_";
/// Prefix of readers' API sign-in tokens (a reader session underneath).
pub const READER_PREFIX: &str = "ndr_";
/// Unrevoked tokens one account may hold (staff tokens acting as it, or keys it made): enough
/// for every app and script a person runs, few enough to review on one page.
pub const TOKENS_PER_ACCOUNT_MAX: usize = 20;

/// The caller behind a token.
#[derive(Debug, Clone)]
pub enum TokenHolder {
    /// A staff member, with the token's role in place of the account's.
    Staff {
        account: Account,
        token_id: i64,
    },
    /// A partner's read key.
    ReadKey {
        token_id: i64,
        name: String,
    },
    Reader(Reader),
}

impl TokenHolder {
    /// What rate limits count against: one budget per token (a reader's per reader).
    pub fn limit_key(&self) -> String {
        match self {
            TokenHolder::Staff { token_id, .. } | TokenHolder::ReadKey { token_id, .. } => {
                format!("token:{token_id}")
            }
            TokenHolder::Reader(reader) => format!("reader:{}", reader.id),
        }
    }
}

/// A token just made: its secret is shown once and never again.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub secret: String,
    pub token: ApiToken,
}

impl Newsroom {
    /// Makes a staff token acting as `actor` in `role`, which must not allow anything the
    /// actor's own role does not.
    pub async fn create_staff_token(
        &self,
        actor: &Account,
        name: &str,
        role: Role,
        now: Timestamp,
    ) -> Result<IssuedToken> {
        if !actor.role.may(Action::UseDesk) {
            return Err(ServiceError::Forbidden(Denial::UseDesk));
        }
        if !actor.role.may_grant(role) {
            return Err(ServiceError::Forbidden(Denial::GrantBeyondOwnRole {
                own: actor.role,
                asked: role,
            }));
        }
        self.issue_token(actor, TokenKind::Staff, STAFF_PREFIX, name, Some(role), now)
            .await
    }

    /// Makes a read key for a partner; admins only.
    pub async fn create_read_key(
        &self,
        actor: &Account,
        name: &str,
        now: Timestamp,
    ) -> Result<IssuedToken> {
        if !actor.role.may(Action::ManageAccounts) {
            return Err(ServiceError::Forbidden(Denial::MakeReadKey));
        }
        self.issue_token(actor, TokenKind::Read, READ_KEY_PREFIX, name, None, now)
            .await
    }

    async fn issue_token(
        &self,
        actor: &Account,
        kind: TokenKind,
        prefix: &str,
        name: &str,
        role: Option<Role>,
        now: Timestamp,
    ) -> Result<IssuedToken> {
        let name = validate_token_name(name)?;
        let held = self.store().count_live_api_tokens(actor.id).await?;
        if held >= TOKENS_PER_ACCOUNT_MAX as u64 {
            return Err(ServiceError::Refused(Refusal::TooManyTokens {
                max: TOKENS_PER_ACCOUNT_MAX,
            }));
        }
        let secret = format!("{prefix}{}", random_token()?);
        let token = self
            .store()
            .create_api_token(
                &NewApiToken {
                    kind,
                    name: &name,
                    token_hash: &token_hash(&secret),
                    account_id: actor.id,
                    role,
                },
                &actor.email,
                now,
            )
            .await?;
        Ok(IssuedToken { secret, token })
    }

    /// The tokens `viewer` may see and revoke: an admin every token, anyone else the staff
    /// tokens acting as them.
    pub async fn api_tokens_for(&self, viewer: &Account) -> Result<Vec<ApiToken>> {
        let account = (!viewer.role.may(Action::ManageAccounts)).then_some(viewer.id);
        Ok(self.store().api_tokens(account).await?)
    }

    pub async fn revoke_api_token(&self, actor: &Account, id: i64, now: Timestamp) -> Result<()> {
        let token = self
            .store()
            .api_token(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(Missing::Token(id)))?;
        let own = token.kind == TokenKind::Staff && token.account_id == actor.id;
        if !own && !actor.role.may(Action::ManageAccounts) {
            return Err(ServiceError::Forbidden(Denial::RevokeOthersToken));
        }
        match self.store().revoke_api_token(id, &actor.email, now).await {
            Err(newsdesk_store::StoreError::NotFound) => {
                Err(ServiceError::Refused(Refusal::TokenRevoked))
            }
            other => Ok(other?),
        }
    }

    /// Who holds `secret`, or None for a token that is unknown, revoked, or whose account is
    /// disabled or no longer holds the token's role.
    pub async fn token_holder(&self, secret: &str, now: Timestamp) -> Result<Option<TokenHolder>> {
        if let Some(session) = secret.strip_prefix(READER_PREFIX) {
            return Ok(self
                .reader_session(session, now)
                .await?
                .map(|s| TokenHolder::Reader(s.reader)));
        }
        if !(secret.starts_with(STAFF_PREFIX) || secret.starts_with(READ_KEY_PREFIX)) {
            return Ok(None);
        }
        let Some((token, account)) = self.store().use_api_token(&token_hash(secret), now).await?
        else {
            return Ok(None);
        };
        Ok(match (token.kind, token.role) {
            // A read key stands on its maker's authority, checked on every use like a staff
            // token's: it stops when they are disabled or are no longer an admin.
            (TokenKind::Read, _)
                if !account.disabled && account.role.may(Action::ManageAccounts) =>
            {
                Some(TokenHolder::ReadKey {
                    token_id: token.id,
                    name: token.name,
                })
            }
            (TokenKind::Read, _) => None,
            (TokenKind::Staff, Some(role)) if !account.disabled && account.role.may_grant(role) => {
                Some(TokenHolder::Staff {
                    account: Account { role, ..account },
                    token_id: token.id,
                })
            }
            (TokenKind::Staff, _) => None,
        })
    }
}
