//! The store: one interface over the database that every service uses, and its two
//! implementations (SQLite for one server, PostgreSQL for several instances on one
//! database). SQL lives here and nowhere else; the types crossing the interface are the
//! domain's, never a driver's.
//!
//! The interface is split by aggregate: each file beside this one (`items.rs`,
//! `labels.rs`, `accounts.rs`, …) declares one trait and the records only the store uses,
//! and `sql/` holds the same file names with their SQL. `Store` is all of them at once;
//! bring them into scope with `use newsdesk_store::prelude::*`.

pub mod accounts;
pub mod comments;
pub mod copy;
mod error;
pub mod events;
pub mod items;
pub mod labels;
pub mod library;
pub mod media;
mod migrate;
pub mod postgres;
pub mod readers;
pub mod schema;
mod sql;
pub mod sqlite;
pub mod tokens;
pub mod webhooks;

pub use accounts::AccountStore;
pub use comments::{ActionLimit, CommentStore, NewComment, ReaderActivity};
pub use error::StoreError;
pub use events::EventLog;
pub use items::{Autosave, ItemStore, Saved};
pub use labels::{LabelStore, SiteChange};
pub use library::LibraryStore;
pub use migrate::Migration;
pub use readers::ReaderStore;
pub use schema::{NewerSchema, Schema};
pub use tokens::{ApiToken, NewApiToken, TokenStore};
pub use webhooks::{
    AttemptRecord, ClaimedDelivery, DeliveryOutcome, NewDelivery, WebhookChange, WebhookStore,
};

// Records that moved to the domain, named here as before so callers keep their paths.
pub use newsdesk_core::PublicationTimes;
pub use newsdesk_core::account::{AuditEntry, Session};
pub use newsdesk_core::comment::{Decision, Queue, QueuedComment};
pub use newsdesk_core::item::{
    DeskQuery, ItemQuery, ListingActivity, ListingKind, PublishedTimes, RelatedChoices, Revision,
    StoryFacts,
};
pub use newsdesk_core::labels::Usage;
pub use newsdesk_core::library::LibraryImage;
pub use newsdesk_core::reader::ReaderSession;
pub use newsdesk_core::webhook::{Attempt, Delivery, DeliveryState, LastDelivery, Webhook};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Everything the services need from a database: every aggregate's trait at once, so one
/// `Arc<dyn Store>` serves them all. Writes run in one transaction each, append their event
/// in it, and return only after commit; a commit that appended events wakes the followers
/// (`EventLog::written`).
pub trait Store:
    Schema
    + ItemStore
    + LabelStore
    + AccountStore
    + ReaderStore
    + CommentStore
    + LibraryStore
    + WebhookStore
    + TokenStore
    + EventLog
    + 'static
{
}

impl<T> Store for T where
    T: Schema
        + ItemStore
        + LabelStore
        + AccountStore
        + ReaderStore
        + CommentStore
        + LibraryStore
        + WebhookStore
        + TokenStore
        + EventLog
        + 'static
{
}

/// The store's traits, for calling any of their methods on a `Store`.
pub mod prelude {
    pub use crate::{
        AccountStore, CommentStore, EventLog, ItemStore, LabelStore, LibraryStore, ReaderStore,
        Schema, Store, TokenStore, WebhookStore,
    };
}
