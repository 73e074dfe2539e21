//! The services' one error type: what went wrong in the terms a face can show a person
//! (invalid input, conflict, missing thing), and opaque failures that are logged, never shown.

use newsdesk_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The input broke a rule of the content model; the error names the field.
    #[error(transparent)]
    Invalid(#[from] newsdesk_core::Error),
    /// The same answer for an unknown address and a wrong password, so neither leaks.
    #[error("The email address or password is not right.")]
    InvalidCredentials,
    #[error("Too many failed sign-ins. Try again in {retry_after_secs} seconds.")]
    Throttled { retry_after_secs: u64 },
    /// Over a limit on what one address or one mailbox may ask for (sign-ups, resets).
    #[error("{what} Try again in {retry_after_secs} seconds.")]
    Limited {
        what: &'static str,
        retry_after_secs: u64,
    },
    /// Every turn at password hashing stayed taken for as long as a request waits.
    #[error("The site is busy checking passwords. Try again in {retry_after_secs} seconds.")]
    Busy { retry_after_secs: u64 },
    /// The role may not do this; the text says what was refused.
    #[error("{0}")]
    Forbidden(String),
    #[error("This set-up link is unknown, used or expired. Start the server again for a new one.")]
    SetupLinkInvalid,
    /// A mailed link that is unknown, used or expired.
    #[error("This link is unknown, used or expired. Ask for a new one.")]
    LinkInvalid,
    #[error("{0} not found")]
    NotFound(String),
    #[error("the item was changed by someone else (now at version {current})")]
    Conflict { current: i64 },
    #[error("{field} is already in use")]
    Duplicate { field: &'static str },
    /// The change would break something that must hold (a section still in use, the last
    /// admin); the text says what.
    #[error("{0}")]
    Refused(String),
    /// An import file could not be read; the message names the place in the file.
    #[error("{0}")]
    BadImport(String),
    #[error("storage failed: {0}")]
    Store(StoreError),
    #[error("file system: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Media(#[from] newsdesk_store::media::MediaError),
    /// A search longer than the index reads; the reader is told the limit.
    #[error("A search can be at most {max} characters long.")]
    QueryTooLong { max: usize },
    /// The search index failed (logged; readers see the generic apology).
    #[error("search index: {0}")]
    Search(String),
}

impl ServiceError {
    /// Seconds to wait before trying again, for refusals that are about timing, not input.
    /// Done as often as a limit allows (likes, reports).
    pub fn too_often(retry_after_secs: u64) -> Self {
        ServiceError::Limited {
            what: "You are doing that too often.",
            retry_after_secs,
        }
    }

    pub fn retry_after(&self) -> Option<u64> {
        match self {
            ServiceError::Throttled { retry_after_secs }
            | ServiceError::Limited {
                retry_after_secs, ..
            }
            | ServiceError::Busy { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ServiceError::NotFound("record".into()),
            StoreError::RateLimited { retry_after_secs } => {
                ServiceError::too_often(retry_after_secs)
            }
            StoreError::Conflict { current } => ServiceError::Conflict { current },
            StoreError::Duplicate { field } => ServiceError::Duplicate { field },
            e @ (StoreError::InUse { .. }
            | StoreError::LastAdmin
            | StoreError::WasPublished
            | StoreError::Limit { .. }) => ServiceError::Refused(capitalized(&e.to_string())),
            other => ServiceError::Store(other),
        }
    }
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;
