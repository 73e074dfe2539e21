//! The services' one error type: what went wrong in the terms a face can show a person
//! (invalid input, conflict, missing thing), and opaque failures that are logged, never shown.
//! Refusals carry a typed reason whose `Display` is the sentence the person reads, so a face
//! can match on the reason and show the words without either being kept as a string.

use std::path::PathBuf;

use newsdesk_core::Role;
use newsdesk_core::moderation;
use newsdesk_core::reader::ReactionRefusal;
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
    /// The role may not do this; the reason names what was refused.
    #[error("{0}")]
    Forbidden(Denial),
    #[error("This set-up link is unknown, used or expired. Start the server again for a new one.")]
    SetupLinkInvalid,
    /// A mailed link that is unknown, used or expired.
    #[error("This link is unknown, used or expired. Ask for a new one.")]
    LinkInvalid,
    #[error("{0} not found")]
    NotFound(Missing),
    #[error("the item was changed by someone else (now at version {current})")]
    Conflict { current: i64 },
    #[error("{field} is already in use")]
    Duplicate { field: &'static str },
    /// The change would break something that must hold (a section still in use, the last
    /// admin); the reason names the rule.
    #[error("{0}")]
    Refused(Refusal),
    /// An import file could not be read; the problem names the place in the file.
    #[error("{0}")]
    BadImport(ImportProblem),
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
    Search(SearchFailure),
}

/// What a role or a reader may not do.
#[derive(Debug, thiserror::Error)]
pub enum Denial {
    #[error("Your account may not use the desk.")]
    UseDesk,
    #[error(
        "A token cannot do more than your own role ({}) allows: choose another role than {}.",
        .own.as_str(),
        .asked.as_str()
    )]
    GrantBeyondOwnRole { own: Role, asked: Role },
    #[error("Only admins make read keys.")]
    MakeReadKey,
    #[error("Only admins revoke other people's tokens.")]
    RevokeOthersToken,
    #[error("A {} may not change sections, tags or authors.", .0.as_str())]
    ManageLabels(Role),
    #[error("A {} may not moderate comments.", .0.as_str())]
    Moderate(Role),
    /// Likes and reports, from a reader who is not (yet, or any more) in good standing.
    #[error("{0}")]
    React(ReactionRefusal),
}

/// The thing that was not found; shown after "There is no" or before "not found".
#[derive(Debug, thiserror::Error)]
pub enum Missing {
    /// A row the store did not find, where the caller did not name it.
    #[error("record")]
    Record,
    #[error("item {0}")]
    Item(i64),
    /// An item as readers know it, from the comments' side.
    #[error("story {0}")]
    Story(i64),
    #[error("version {version} of item {item_id}")]
    Version { item_id: i64, version: i64 },
    #[error("section `{0}`")]
    Section(String),
    #[error("tag `{0}`")]
    Tag(String),
    #[error("author `{0}`")]
    Author(String),
    #[error("account {0}")]
    Account(i64),
    #[error("account {0}")]
    AccountWithEmail(String),
    #[error("comment {0}")]
    Comment(i64),
    #[error("reader {0}")]
    Reader(i64),
    #[error("webhook {0}")]
    Webhook(i64),
    #[error("delivery {0} of this webhook")]
    Delivery(i64),
    #[error("token {0}")]
    Token(i64),
}

/// The rule a change would break.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// `what` comes from the store already capitalized ("The section `world`").
    #[error("{what} is still used by {items} item(s); move them first")]
    InUse { what: String, items: u64 },
    #[error("The site must keep at least one enabled admin")]
    LastAdmin,
    #[error("This item was published once; unpublish it instead (what readers saw is kept)")]
    WasPublished,
    #[error("The site already has the most {what} it may have ({max})")]
    Limit { what: &'static str, max: u64 },
    #[error("The site needs at least one section.")]
    LastSection,
    #[error("You cannot disable your own account; ask another admin.")]
    DisableOwnAccount,
    #[error("An account may hold at most {max} tokens; revoke one first.")]
    TooManyTokens { max: usize },
    #[error("This token is already revoked.")]
    TokenRevoked,
    #[error(
        "The search index in {} is in use by another newsdesk process: each instance needs a data directory of its own, and `newsdesk reindex` needs the server on this one stopped.",
        .dir.display()
    )]
    SearchIndexInUse { dir: PathBuf },
    #[error("Confirm your address with the link we mailed you, then comment.")]
    CommentUnconfirmed,
    /// The comment rules turned the text down.
    #[error("{0}")]
    Comment(moderation::Refusal),
    #[error("The comment you answered is no longer there.")]
    ParentGone,
    #[error("Comments can be edited for {minutes} minutes after posting.")]
    EditWindowClosed { minutes: u32 },
    /// A word in a list of item numbers (the related stories' form) that is not one.
    #[error("“{0}” is not an item number.")]
    NotAnItemNumber(String),
    #[error("At most {max} items can be pinned or excluded.")]
    TooManyRelated { max: usize },
}

/// Where and why an import file (or the bundled demo edition) could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ImportProblem {
    #[error("{} is {size} bytes; the limit is {max}", .path.display())]
    TooLarge { path: PathBuf, size: u64, max: u64 },
    /// TOML that does not parse at all.
    #[error("{0}")]
    Syntax(toml::de::Error),
    #[error("{at}: {error}")]
    Json {
        at: serde_path_to_error::Path,
        error: serde_json::Error,
    },
    #[error("{at}: {error}")]
    Toml {
        at: serde_path_to_error::Path,
        error: toml::de::Error,
    },
    /// An item broke a rule of the content model; `index` counts from 0 in file order.
    #[error("items[{index}].{field}: {error}")]
    Item {
        index: usize,
        field: &'static str,
        error: newsdesk_core::Error,
    },
    #[error("demo edition: {0}")]
    Demo(toml::de::Error),
}

/// Why the search index could not answer (logged; readers see the generic apology).
#[derive(Debug, thiserror::Error)]
pub enum SearchFailure {
    #[error(transparent)]
    Index(#[from] newsdesk_search::SearchError),
    #[error("index task failed: {0}")]
    Task(tokio::task::JoinError),
    #[error("no search index attached")]
    NotAttached,
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
            StoreError::NotFound => ServiceError::NotFound(Missing::Record),
            StoreError::RateLimited { retry_after_secs } => {
                ServiceError::too_often(retry_after_secs)
            }
            StoreError::Conflict { current } => ServiceError::Conflict { current },
            StoreError::Duplicate { field } => ServiceError::Duplicate { field },
            StoreError::InUse { what, items } => {
                ServiceError::Refused(Refusal::InUse { what, items })
            }
            StoreError::LastAdmin => ServiceError::Refused(Refusal::LastAdmin),
            StoreError::WasPublished => ServiceError::Refused(Refusal::WasPublished),
            StoreError::Limit { what, max } => ServiceError::Refused(Refusal::Limit { what, max }),
            other => ServiceError::Store(other),
        }
    }
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn capitalized(s: &str) -> String {
        let mut chars = s.chars();
        match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => String::new(),
        }
    }

    /// The refusals the store raises read as the store words them, capitalized: people saw
    /// that text before the reasons were typed.
    #[test]
    fn store_refusals_keep_the_store_words() {
        let refusals: [fn() -> StoreError; 4] = [
            || StoreError::InUse {
                what: "The section `world`".into(),
                items: 3,
            },
            || StoreError::LastAdmin,
            || StoreError::WasPublished,
            || StoreError::Limit {
                what: "tags",
                max: 500,
            },
        ];
        for refusal in refusals {
            let words = capitalized(&refusal().to_string());
            let error = ServiceError::from(refusal());
            assert!(matches!(error, ServiceError::Refused(_)), "{error:?}");
            assert_eq!(error.to_string(), words);
        }
    }

    #[test]
    fn missing_things_are_named_as_before() {
        assert_eq!(
            ServiceError::NotFound(Missing::Version {
                item_id: 7,
                version: 2
            })
            .to_string(),
            "version 2 of item 7 not found"
        );
        assert_eq!(
            ServiceError::NotFound(Missing::Section("world".into())).to_string(),
            "section `world` not found"
        );
        assert_eq!(
            ServiceError::from(StoreError::NotFound).to_string(),
            "record not found"
        );
    }
}
