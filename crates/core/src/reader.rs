//! Readers: the public's accounts, for commenting. Kept apart from staff accounts (another
//! table, another cookie) so that nothing a reader can do reaches the desk; a reader whose
//! verified address is also a staff account's gets a staff badge on their comments.

use serde::{Deserialize, Serialize};

use crate::account::{check_password, normalize_email};
use crate::error::Error;

/// Longest display name shown beside a comment.
pub const DISPLAY_NAME_MAX: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReaderStatus {
    #[default]
    Active,
    /// May read and sign in, may not comment until an editor lifts it.
    Suspended,
    /// May not comment, ever.
    Banned,
}

impl ReaderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReaderStatus::Active => "active",
            ReaderStatus::Suspended => "suspended",
            ReaderStatus::Banned => "banned",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ReaderStatus::Active,
            ReaderStatus::Suspended,
            ReaderStatus::Banned,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reader {
    pub id: i64,
    /// Stored lowercase; never shown to other readers.
    pub email: String,
    pub display_name: String,
    pub verified: bool,
    pub status: ReaderStatus,
    pub created_at: jiff::Timestamp,
}

impl Reader {
    /// Why this reader may not like or report comments, or None if they may: only readers
    /// who confirmed their address and are in good standing weigh in, so that accounts made
    /// by the dozen, or a banned reader, cannot push a comment up or back into the queue.
    pub fn reaction_refusal(&self) -> Option<ReactionRefusal> {
        if !self.verified {
            return Some(ReactionRefusal::Unconfirmed);
        }
        match self.status {
            ReaderStatus::Active => None,
            ReaderStatus::Suspended => Some(ReactionRefusal::Suspended),
            ReaderStatus::Banned => Some(ReactionRefusal::Banned),
        }
    }
}

/// Why a reader may not like or report comments; the `Display` text is shown to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReactionRefusal {
    #[error(
        "Confirm your address with the link we mailed you, then you can like and report comments."
    )]
    Unconfirmed,
    #[error(
        "Your account is suspended: you cannot like or report comments until a moderator lifts it."
    )]
    Suspended,
    #[error("Your account is banned from commenting: you cannot like or report comments.")]
    Banned,
}

/// A display name as a reader types it: trimmed, one line, bounded, not empty.
pub fn validate_display_name(name: &str) -> Result<String, Error> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::Required {
            field: "display_name",
        });
    }
    if name.chars().count() > DISPLAY_NAME_MAX {
        return Err(Error::TooLong {
            field: "display_name",
            max: DISPLAY_NAME_MAX,
        });
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid("display_name", "must be a single line"));
    }
    Ok(name.to_owned())
}

/// A sign-up as the form sends it.
#[derive(Debug, Clone, Default)]
pub struct SignUp {
    pub email: String,
    pub display_name: String,
    pub password: String,
}

impl SignUp {
    /// The normalized email and display name, or the first rule broken.
    pub fn validate(&self) -> Result<(String, String), Error> {
        let email = normalize_email(&self.email)?;
        let name = validate_display_name(&self.display_name)?;
        check_password(&self.password)?;
        Ok((email, name))
    }
}

/// A signed-in reader as the store finds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderSession {
    pub reader: Reader,
    /// The token every form of this session must carry.
    pub csrf_token: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_are_one_bounded_line() {
        assert_eq!(validate_display_name("  Ayşe  ").as_deref(), Ok("Ayşe"));
        assert!(validate_display_name(&"ə".repeat(DISPLAY_NAME_MAX)).is_ok());
        assert_eq!(
            validate_display_name(&"ə".repeat(DISPLAY_NAME_MAX + 1)),
            Err(Error::TooLong {
                field: "display_name",
                max: DISPLAY_NAME_MAX
            })
        );
        assert!(validate_display_name("two\nlines").is_err());
        assert!(validate_display_name("   ").is_err());
    }

    #[test]
    fn a_sign_up_needs_an_address_a_name_and_a_long_enough_password() {
        let ok = SignUp {
            email: "Reader@Example.org".into(),
            display_name: "Reader".into(),
            password: "long enough words".into(),
        };
        assert_eq!(
            ok.validate(),
            Ok(("reader@example.org".into(), "Reader".into()))
        );
        let short = SignUp {
            password: "short".into(),
            ..ok.clone()
        };
        assert_eq!(
            short.validate().err().and_then(|e| e.field()),
            Some("password")
        );
    }
}
