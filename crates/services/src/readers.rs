//! Readers' accounts: sign-up with a mailed verification link, sign-in throttled like the
//! desk's, sessions, password reset by mail, and the display name. Answers never tell a
//! stranger whether an address has an account: sign-up and reset say "check your mail"
//! either way, and the mail says what happened.

use jiff::{SignedDuration, Timestamp};
use newsdesk_core::account::{check_password, normalize_email};
use newsdesk_core::reader::{Reader, SignUp, validate_display_name};
use newsdesk_store::ReaderSession;

use crate::accounts::{DECOY_HASH, REQUEST_WINDOW, random_token, token_hash};
use crate::error::{Result, ServiceError};
use crate::mail::Mail;
use crate::newsroom::Newsroom;

/// How long a reader stays signed in.
pub const READER_SESSION_LIFETIME: SignedDuration = SignedDuration::from_hours(24 * 30);
/// How long the address verification link works.
pub const VERIFY_LINK_LIFETIME: SignedDuration = SignedDuration::from_hours(48);
/// How long a password reset link works.
pub const RESET_LINK_LIFETIME: SignedDuration = SignedDuration::from_hours(1);

/// A fresh sign-in: the token goes in the cookie.
#[derive(Debug, Clone)]
pub struct ReaderSignedIn {
    pub token: String,
    pub session: ReaderSession,
}

impl Newsroom {
    /// Creates an account and mails its verification link. An address that already has an
    /// account gets a mail saying so instead, and the answer is the same. Limited per asking
    /// address and per mailbox; the mail is sent after the answer.
    pub async fn sign_up(
        &self,
        input: &SignUp,
        address: &str,
        links: &str,
        now: Timestamp,
    ) -> Result<()> {
        let (email, name) = input.validate()?;
        self.spend_account_request(address, &email, now).await?;
        let site = self.config().site.name.clone();
        let hash = self.hash_password(input.password.clone()).await?;
        match self.store().create_reader(&email, &name, &hash, now).await {
            Ok(reader) => self.send_verification(&reader, links, now).await,
            Err(newsdesk_store::StoreError::Duplicate { .. }) => {
                self.send_mail_later(Mail {
                    to: email,
                    subject: format!("Your account at {site}"),
                    text: format!(
                        "Someone, perhaps you, tried to create an account at {site} with this address, \
                         which already has one.\n\nSign in: {links}/account/sign-in\n\
                         Forgot your password? {links}/account/reset\n"
                    ),
                });
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Counts a sign-up or reset request against the asking address and the mailbox it
    /// mails, or refuses it: each one costs a mail (and a sign-up an argon2 hash), so
    /// neither a flood from one address nor one from many at one mailbox gets through.
    async fn spend_account_request(
        &self,
        address: &str,
        email: &str,
        now: Timestamp,
    ) -> Result<()> {
        let limits = self.config().accounts.clone();
        let by_address = format!("requests from {address}");
        let by_mailbox = format!("mail to {email}");
        let since = now - REQUEST_WINDOW;
        let retry_after_secs = REQUEST_WINDOW.as_secs().unsigned_abs();
        let store = self.store();
        if store
            .reserve_sign_in_attempt(
                &[(&by_address, u64::from(limits.requests_per_address_per_hour))],
                since,
                now,
            )
            .await?
            .is_none()
        {
            return Err(ServiceError::Limited {
                what: "Too many sign-ups and password resets from your address.",
                retry_after_secs,
            });
        }
        if store
            .reserve_sign_in_attempt(
                &[(&by_mailbox, u64::from(limits.mail_per_mailbox_per_hour))],
                since,
                now,
            )
            .await?
            .is_none()
        {
            return Err(ServiceError::Limited {
                what: "Too many mails were asked for this address lately.",
                retry_after_secs,
            });
        }
        Ok(store.prune_sign_in_failures(since).await?)
    }

    async fn send_verification(&self, reader: &Reader, links: &str, now: Timestamp) -> Result<()> {
        let token = random_token()?;
        self.store()
            .create_reader_token(
                &token_hash(&token),
                reader.id,
                "verify",
                now + VERIFY_LINK_LIFETIME,
            )
            .await?;
        let site = self.config().site.name.clone();
        self.send_mail_later(Mail {
            to: reader.email.clone(),
            subject: format!("Confirm your address for {site}"),
            text: format!(
                "Hello {name},\n\nconfirm your address to start commenting at {site}:\n\n\
                 {links}/account/verify/{token}\n\nThe link works for {hours} hours. \
                 If you did not sign up, ignore this mail.\n",
                name = reader.display_name,
                hours = VERIFY_LINK_LIFETIME.as_hours(),
            ),
        });
        Ok(())
    }

    /// Uses a verification link.
    pub async fn verify_reader(&self, token: &str, now: Timestamp) -> Result<Reader> {
        let Some(id) = self
            .store()
            .take_reader_token(&token_hash(token), "verify", now)
            .await?
        else {
            return Err(ServiceError::LinkInvalid);
        };
        self.store().set_reader_verified(id).await?;
        self.store()
            .reader(id)
            .await?
            .ok_or(ServiceError::LinkInvalid)
    }

    /// Signs a reader in, throttled per address and per account like the desk.
    pub async fn reader_sign_in(
        &self,
        email: &str,
        password: &str,
        address: &str,
        now: Timestamp,
    ) -> Result<ReaderSignedIn> {
        let email = normalize_email(email).map_err(|_| ServiceError::InvalidCredentials)?;
        let attempt = self
            .reserve_sign_in_attempt(&format!("reader:{email}"), address, now)
            .await?;
        let found = self.store().reader_for_sign_in(&email).await?;
        let hash = found
            .as_ref()
            .map_or(DECOY_HASH.to_owned(), |(_, h)| h.clone());
        let matches = self.checked_in_turn(&attempt, password, hash).await?;
        let reader = match found {
            Some((reader, _)) if matches => reader,
            _ => {
                self.sign_in_failed(now).await?;
                return Err(ServiceError::InvalidCredentials);
            }
        };
        self.sign_in_succeeded(attempt).await?;
        let token = random_token()?;
        let csrf = random_token()?;
        self.store()
            .create_reader_session(
                &token_hash(&token),
                reader.id,
                &csrf,
                now,
                now + READER_SESSION_LIFETIME,
            )
            .await?;
        Ok(ReaderSignedIn {
            token,
            session: ReaderSession {
                reader,
                csrf_token: csrf,
            },
        })
    }

    pub async fn reader_session(
        &self,
        token: &str,
        now: Timestamp,
    ) -> Result<Option<ReaderSession>> {
        if token.len() != 64 {
            return Ok(None);
        }
        Ok(self.store().reader_session(&token_hash(token), now).await?)
    }

    pub async fn reader_sign_out(&self, token: &str) -> Result<()> {
        Ok(self
            .store()
            .delete_reader_session(&token_hash(token))
            .await?)
    }

    /// Mails a reset link when the address has an account; the answer is the same either
    /// way, and so is the work done before it: the limits, one lookup, one token made. The
    /// link is stored and mailed only for a known address, after the answer.
    pub async fn request_password_reset(
        &self,
        email: &str,
        address: &str,
        links: &str,
        now: Timestamp,
    ) -> Result<()> {
        // A malformed address is the asker's typo, said as such; it tells nothing about who
        // has an account.
        let email = normalize_email(email)?;
        self.spend_account_request(address, &email, now).await?;
        let found = self.store().reader_for_sign_in(&email).await?;
        let token = random_token()?;
        let site = self.config().site.name.clone();
        let store = self.store().clone();
        let links = links.to_owned();
        let out = self.mail_out();
        tokio::spawn(async move {
            let Some((reader, _)) = found else {
                return;
            };
            let stored = store
                .create_reader_token(
                    &token_hash(&token),
                    reader.id,
                    "reset",
                    now + RESET_LINK_LIFETIME,
                )
                .await;
            if let Err(e) = stored {
                tracing::warn!("reset link not stored: {e}");
                return;
            }
            out.send(Mail {
                to: reader.email.clone(),
                subject: format!("Reset your password at {site}"),
                text: format!(
                    "Hello {name},\n\nchoose a new password here:\n\n{links}/account/reset/{token}\n\n\
                     The link works for one hour, once. If you did not ask, ignore this mail: your \
                     password stays as it is.\n",
                    name = reader.display_name,
                ),
            })
            .await;
        });
        Ok(())
    }

    /// Sets a new password with a reset link; every session of the reader ends. Reading the
    /// link also proves the address.
    pub async fn reset_password(&self, token: &str, password: &str, now: Timestamp) -> Result<()> {
        check_password(password)?;
        let Some(id) = self
            .store()
            .take_reader_token(&token_hash(token), "reset", now)
            .await?
        else {
            return Err(ServiceError::LinkInvalid);
        };
        let hash = self.hash_password(password.to_owned()).await?;
        self.store().set_reader_password(id, &hash).await?;
        self.store().set_reader_verified(id).await?;
        Ok(())
    }

    pub async fn change_display_name(&self, reader: &Reader, name: &str) -> Result<String> {
        let name = validate_display_name(name)?;
        self.store()
            .set_reader_display_name(reader.id, &name)
            .await?;
        Ok(name)
    }
}

impl Newsroom {
    /// Everything the site keeps about a reader, as JSON they can download.
    pub async fn export_reader(&self, reader: &Reader) -> Result<serde_json::Value> {
        let comments = self.store().reader_comments(reader.id, u32::MAX).await?;
        let (likes, reports) = self.store().reader_actions(reader.id).await?;
        Ok(serde_json::json!({
            "account": {
                "email": reader.email,
                "display_name": reader.display_name,
                "verified": reader.verified,
                "standing": reader.status.as_str(),
                "created_at": reader.created_at.to_string(),
            },
            "comments": comments.iter().map(|c| serde_json::json!({
                "id": c.id,
                "story": c.item_id,
                "in_reply_to": c.parent_id,
                "body": c.body,
                "status": c.status.as_str(),
                "rejected_because": c.reject_reason,
                "posted_at": c.created_at.to_string(),
                "edited_at": c.edited_at.map(|t| t.to_string()),
            })).collect::<Vec<_>>(),
            "liked_comments": likes,
            "reports": reports.iter().map(|(id, reason)| serde_json::json!({ "comment": id, "reason": reason })).collect::<Vec<_>>(),
        }))
    }

    /// Deletes the reader's account after checking their password; their comments are
    /// anonymised or removed as `comments.on_account_deletion` says.
    pub async fn delete_reader_account(
        &self,
        reader: &Reader,
        password: &str,
        now: Timestamp,
    ) -> Result<()> {
        let Some((_, hash)) = self.store().reader_for_sign_in(&reader.email).await? else {
            return Err(ServiceError::InvalidCredentials);
        };
        if !self.verify_password(password.to_owned(), hash).await? {
            return Err(ServiceError::InvalidCredentials);
        }
        let remove = self.config().comments.on_account_deletion
            == newsdesk_core::config::OnAccountDeletion::Remove;
        self.store().delete_reader(reader.id, remove, now).await?;
        Ok(())
    }
}
