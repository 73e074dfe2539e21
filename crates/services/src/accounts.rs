//! Staff accounts: adding people, signing in and out, sessions, throttling failed sign-ins,
//! password changes, and the one-time set-up link of a site without an admin. Passwords are
//! argon2id hashes; session and set-up tokens are random and stored only as SHA-256 hashes.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use jiff::{SignedDuration, Timestamp};
use newsdesk_core::account::{check_password, normalize_email};
use newsdesk_core::{Account, AccountInput, Role};
use newsdesk_store::Session;
use sha2::{Digest, Sha256};
use tokio::sync::OwnedSemaphorePermit;

use crate::error::{Missing, Result, ServiceError};
use crate::newsroom::Newsroom;

/// How long a sign-in lasts.
pub const SESSION_LIFETIME: SignedDuration = SignedDuration::from_hours(24 * 7);
/// Failed sign-ins are counted over this window.
pub const THROTTLE_WINDOW: SignedDuration = SignedDuration::from_mins(15);
/// Sign-ups and reset requests are counted over this window. Throttling rows live this long,
/// the longest window of any.
pub const REQUEST_WINDOW: SignedDuration = SignedDuration::from_hours(1);
/// How long the first-admin set-up link works.
pub const SETUP_LINK_LIFETIME: SignedDuration = SignedDuration::from_hours(24);

/// A fresh sign-in: the token goes in the cookie, the session carries the CSRF token.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub token: String,
    pub session: Session,
}

/// A sign-in attempt held against the throttling budgets while its password is checked.
#[derive(Debug)]
pub(crate) struct SignInAttempt {
    held: Vec<i64>,
    by_pair: String,
}

/// 32 random bytes as hex: unguessable, and safe in a cookie or a URL.
pub fn random_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| ServiceError::Io(std::io::Error::other(format!("random: {e}"))))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// What the database keeps of a token.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// argon2id with the crate's defaults (19 MiB, 2 passes: OWASP's recommendation), off the
/// async threads: one hash takes tens of milliseconds of CPU. The turn is held until the
/// hash is done, even when the request that asked is gone.
async fn hash_with(password: String, turn: OwnedSemaphorePermit) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let _turn = turn;
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| ServiceError::Io(std::io::Error::other(format!("hashing: {e}"))))
    })
    .await
    .map_err(|e| ServiceError::Io(std::io::Error::other(e.to_string())))?
}

async fn verify_with(password: String, hash: String, turn: OwnedSemaphorePermit) -> bool {
    tokio::task::spawn_blocking(move || {
        let _turn = turn;
        PasswordHash::new(&hash).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

impl Newsroom {
    /// Hashes a new password in its turn (`accounts.hashing_at_once`).
    pub(crate) async fn hash_password(&self, password: String) -> Result<String> {
        let turn = self.hashing_turn().await?;
        hash_with(password, turn).await
    }

    /// Whether `password` matches `hash`, checked in its turn.
    pub(crate) async fn verify_password(&self, password: String, hash: String) -> Result<bool> {
        let turn = self.hashing_turn().await?;
        Ok(verify_with(password, hash, turn).await)
    }
}

/// A valid hash of nothing anyone knows, verified when the email is unknown so that the
/// answer takes as long as for a known one.
pub(crate) const DECOY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$bmV3c2Rlc2tkZWNveQ$2pVRDz1D7w2C5pO3tGSHcBiYrHfNhgH3lZ9Xrzyn0yQ";

impl Newsroom {
    /// Adds an account; `actor` is who did it, for the audit log.
    pub async fn add_account(
        &self,
        input: &AccountInput,
        actor: &str,
        now: Timestamp,
    ) -> Result<Account> {
        let (email, name) = input.validate()?;
        let hash = self.hash_password(input.password.clone()).await?;
        let account = self
            .store()
            .create_account(&email, &name, input.role, &hash, now)
            .await?;
        self.store()
            .record_audit(
                actor,
                &format!("added the account as {}", account.role.as_str()),
                &format!("account:{}", account.email),
                &account.name,
                now,
            )
            .await?;
        Ok(account)
    }

    /// Holds one sign-in attempt for `by_account` from `address` against the account's, the
    /// address's and the pair's budgets, or refuses when one is spent. The attempt counts as a
    /// failure until `sign_in_succeeded` gives it back, so parallel guesses cannot all reach
    /// the password check.
    pub(crate) async fn reserve_sign_in_attempt(
        &self,
        by_account: &str,
        address: &str,
        now: Timestamp,
    ) -> Result<SignInAttempt> {
        let by_address = format!("address:{address}");
        let by_pair = format!("{by_account} from {address}");
        // The budgets are argued in docs/architecture.md section 9: the tight one is the
        // pair's, so a stranger's guesses cannot lock the owner out.
        let budgets = self.config().accounts.clone();
        let limits = [
            (
                by_pair.as_str(),
                u64::from(budgets.sign_in_failures_per_account_and_address),
            ),
            (
                by_address.as_str(),
                u64::from(budgets.sign_in_failures_per_address),
            ),
            (by_account, u64::from(budgets.sign_in_failures_per_account)),
        ];
        match self
            .store()
            .reserve_sign_in_attempt(&limits, now - THROTTLE_WINDOW, now)
            .await?
        {
            Some(held) => Ok(SignInAttempt { held, by_pair }),
            None => Err(ServiceError::Throttled {
                retry_after_secs: THROTTLE_WINDOW.as_secs().unsigned_abs(),
            }),
        }
    }

    /// The password was right: the attempt was no failure, and the owner's earlier typos from
    /// this address are forgiven.
    pub(crate) async fn sign_in_succeeded(&self, attempt: SignInAttempt) -> Result<()> {
        self.store().release_sign_in_attempt(&attempt.held).await?;
        Ok(self
            .store()
            .clear_sign_in_failures(&attempt.by_pair)
            .await?)
    }

    /// Checks the password of a held attempt; an attempt that never got its turn at
    /// hashing is given back, since no password was tried.
    pub(crate) async fn checked_in_turn(
        &self,
        attempt: &SignInAttempt,
        password: &str,
        hash: String,
    ) -> Result<bool> {
        match self.verify_password(password.to_owned(), hash).await {
            Ok(matches) => Ok(matches),
            Err(e) => {
                self.store().release_sign_in_attempt(&attempt.held).await?;
                Err(e)
            }
        }
    }

    /// The password was wrong: the held attempt stays as the failure.
    pub(crate) async fn sign_in_failed(&self, now: Timestamp) -> Result<()> {
        // Rows older than the window count for nothing; without this an attack from many
        // addresses would grow the table without bound.
        Ok(self
            .store()
            .prune_sign_in_failures(now - REQUEST_WINDOW)
            .await?)
    }

    /// Signs in, or says why not without telling a stranger which part was wrong.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        address: &str,
        now: Timestamp,
    ) -> Result<SignedIn> {
        let email = normalize_email(email).map_err(|_| ServiceError::InvalidCredentials)?;
        let attempt = self
            .reserve_sign_in_attempt(&format!("account:{email}"), address, now)
            .await?;
        let found = self.store().account_for_sign_in(&email).await?;
        let hash = found
            .as_ref()
            .map_or(DECOY_HASH.to_owned(), |(_, h)| h.clone());
        let matches = self.checked_in_turn(&attempt, password, hash).await?;
        let account = match found {
            Some((account, _)) if matches && !account.disabled => account,
            _ => {
                self.sign_in_failed(now).await?;
                return Err(ServiceError::InvalidCredentials);
            }
        };
        self.sign_in_succeeded(attempt).await?;
        let token = random_token()?;
        let csrf = random_token()?;
        let expires_at = now + SESSION_LIFETIME;
        self.store()
            .create_session(&token_hash(&token), account.id, &csrf, now, expires_at)
            .await?;
        Ok(SignedIn {
            token,
            session: Session {
                account,
                csrf_token: csrf,
                expires_at,
            },
        })
    }

    /// The live session a cookie's token names, if any.
    pub async fn session(&self, token: &str, now: Timestamp) -> Result<Option<Session>> {
        if token.len() != 64 {
            return Ok(None);
        }
        Ok(self.store().session(&token_hash(token), now).await?)
    }

    pub async fn sign_out(&self, token: &str) -> Result<()> {
        Ok(self.store().delete_session(&token_hash(token)).await?)
    }

    /// Changes the signed-in person's password after checking the current one; every other
    /// session of the account ends and their staff API tokens are revoked.
    pub async fn change_password(
        &self,
        token: &str,
        account: &Account,
        current: &str,
        new: &str,
    ) -> Result<()> {
        check_password(new)?;
        let Some((_, hash)) = self.store().account_for_sign_in(&account.email).await? else {
            return Err(ServiceError::InvalidCredentials);
        };
        if !self.verify_password(current.to_owned(), hash).await? {
            return Err(ServiceError::InvalidCredentials);
        }
        let hash = self.hash_password(new.to_owned()).await?;
        let now = Timestamp::now();
        self.store()
            .set_password_hash(account.id, &hash, Some(&token_hash(token)), now)
            .await?;
        Ok(self
            .store()
            .record_audit(
                &account.email,
                "changed their password",
                &format!("account:{}", account.email),
                "",
                now,
            )
            .await?)
    }

    pub async fn set_account_disabled(
        &self,
        email: &str,
        disabled: bool,
        actor: &str,
        now: Timestamp,
    ) -> Result<Account> {
        let email = normalize_email(email)?;
        let Some((account, _)) = self.store().account_for_sign_in(&email).await? else {
            return Err(ServiceError::NotFound(Missing::AccountWithEmail(email)));
        };
        if disabled
            && account.role == Role::Admin
            && !account.disabled
            && self.store().count_admins().await? <= 1
        {
            return Err(newsdesk_store::StoreError::LastAdmin.into());
        }
        self.store()
            .set_account_disabled(account.id, disabled)
            .await?;
        let action = if disabled {
            "disabled the account"
        } else {
            "enabled the account"
        };
        self.store()
            .record_audit(
                actor,
                action,
                &format!("account:{}", account.email),
                "",
                now,
            )
            .await?;
        Ok(Account {
            disabled,
            ..account
        })
    }

    /// Gives an account another role; refused when it would leave no enabled admin.
    pub async fn change_role(
        &self,
        account_id: i64,
        role: Role,
        actor: &str,
        now: Timestamp,
    ) -> Result<Account> {
        match self
            .store()
            .set_account_role(account_id, role, actor, now)
            .await
        {
            Err(newsdesk_store::StoreError::NotFound) => {
                Err(ServiceError::NotFound(Missing::Account(account_id)))
            }
            other => Ok(other?),
        }
    }

    /// On a site without an enabled admin, a one-time token for creating the first one (the
    /// server prints the link instead of shipping a default password).
    pub async fn setup_token_if_needed(&self, now: Timestamp) -> Result<Option<String>> {
        if self.store().count_admins().await? > 0 {
            return Ok(None);
        }
        let token = random_token()?;
        self.store()
            .create_setup_token(&token_hash(&token), now + SETUP_LINK_LIFETIME)
            .await?;
        Ok(Some(token))
    }

    /// Creates the first admin with a set-up token; the token works once.
    pub async fn complete_setup(
        &self,
        token: &str,
        input: &AccountInput,
        now: Timestamp,
    ) -> Result<Account> {
        let input = AccountInput {
            role: Role::Admin,
            ..input.clone()
        };
        input.validate()?;
        if !self
            .store()
            .take_setup_token(&token_hash(token), now)
            .await?
        {
            return Err(ServiceError::SetupLinkInvalid);
        }
        self.add_account(&input, "set-up link", now).await
    }
}

/// What the desk's accounts room and audit log read.
impl Newsroom {
    /// Every staff account, for the accounts room.
    pub async fn accounts(&self) -> Result<Vec<Account>> {
        Ok(self.store().accounts().await?)
    }

    /// The staff account `id`.
    pub async fn account(&self, id: i64) -> Result<Account> {
        self.store()
            .account(id)
            .await?
            .ok_or(ServiceError::NotFound(Missing::Account(id)))
    }

    /// A page of the audit log, newest first, with the number of entries in all.
    pub async fn audit_log(
        &self,
        limit: u32,
        offset: u32,
    ) -> Result<(Vec<newsdesk_core::account::AuditEntry>, u64)> {
        Ok(self.store().audit_log(limit, offset).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_decoy_hash_is_a_valid_argon2id_hash() {
        let parsed = PasswordHash::new(DECOY_HASH).expect("parses");
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        assert!(
            Argon2::default()
                .verify_password(b"anything", &parsed)
                .is_err()
        );
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let a = random_token().expect("token");
        let b = random_token().expect("token");
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_ne!(token_hash(&a), a);
        assert_eq!(token_hash(&a), token_hash(&a));
    }
}
