//! The store: one interface over the database that every service uses, and its
//! implementations (SQLite now; PostgreSQL satisfies the same trait). SQL lives here and
//! nowhere else; the types crossing the interface are the domain's, never a driver's.

pub mod copy;
mod error;
pub mod media;
mod migrate;
pub mod postgres;
mod sql;
pub mod sqlite;

use async_trait::async_trait;
use jiff::Timestamp;
use newsdesk_core::config::Section;
use newsdesk_core::{Account, Author, Event, Item, ItemKind, ItemStatus, Role, Tag, ValidItem};
use serde::{Deserialize, Serialize};

pub use error::StoreError;
pub use migrate::Migration;
pub use newsdesk_core::PublicationTimes;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which published items a listing wants. Every filter is optional; items come newest first.
#[derive(Debug, Clone, Default)]
pub struct ItemQuery {
    pub language: Option<String>,
    pub kind: Option<ItemKind>,
    pub section: Option<String>,
    pub tag: Option<String>,
    pub author: Option<String>,
    pub breaking: Option<bool>,
    pub translation_group: Option<String>,
    /// Leave this item out (the story a sidebar sits beside).
    pub exclude_id: Option<i64>,
    /// Only items published at or after this time.
    pub published_since: Option<Timestamp>,
    /// Only items that come after this (publication time, id) in newest-first order: a
    /// cursor that stays put while new items arrive, unlike an offset.
    pub before: Option<(Timestamp, i64)>,
    pub limit: u32,
    pub offset: u32,
}

/// Which items the desk's content list wants: every status, newest change first.
#[derive(Debug, Clone, Default)]
pub struct DeskQuery {
    pub status: Option<ItemStatus>,
    pub kind: Option<ItemKind>,
    pub section: Option<String>,
    pub language: Option<String>,
    pub author: Option<String>,
    pub breaking: Option<bool>,
    /// Words the headline contains, matched without regard to case.
    pub headline: Option<String>,
    /// For a person who may not see every item (a contributor): only published items and
    /// those this address wrote (the first revision's actor), so the list shows no more than
    /// the item pages would.
    pub published_or_written_by: Option<String>,
    pub limit: u32,
    pub offset: u32,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    /// `item:42` or `account:leyla@example.org`.
    pub subject: String,
    pub detail: String,
}

/// Who changes the site's sections, tags or authors, when, and which cached pages the
/// change touches (the event carries them).
#[derive(Debug, Clone, Copy)]
pub struct SiteChange<'a> {
    pub actor: &'a str,
    pub now: Timestamp,
    pub keys: &'a [String],
}

/// A tag or an author with the number of items (any status) that carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage<T> {
    pub label: T,
    pub items: u64,
}

/// A signed-in session as the store finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub account: Account,
    /// The token every form of this session must carry.
    pub csrf_token: String,
    pub expires_at: Timestamp,
}

/// What a save left behind: the item as stored and the event it appended, if the public
/// can see the change.
#[derive(Debug, Clone)]
pub struct Saved {
    pub item: Item,
    pub event: Option<Event>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revision {
    pub item_id: i64,
    pub version: i64,
    pub actor: String,
    pub created_at: Timestamp,
    pub snapshot: serde_json::Value,
}

/// A signed-in reader as the store finds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderSession {
    pub reader: newsdesk_core::reader::Reader,
    /// The token every form of this session must carry.
    pub csrf_token: String,
}

/// A comment to store; the pipeline has already decided its status.
#[derive(Debug, Clone)]
pub struct NewComment<'a> {
    pub item_id: i64,
    pub parent_id: Option<i64>,
    pub reader_id: i64,
    pub body: &'a str,
    pub status: newsdesk_core::comment::CommentStatus,
    pub hold_reasons: &'a str,
    pub address_hash: &'a str,
    /// The form's one-time key: the same key from the same reader is stored once.
    pub client_key: Option<&'a str>,
    pub now: Timestamp,
}

/// How many times a reader may do one thing (like, report) within a sliding window of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionLimit {
    /// The counter's name: `like` or `report`.
    pub action: &'static str,
    pub max: u32,
    pub window_secs: u32,
}

/// What the moderation pipeline needs to know about a reader's recent commenting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReaderActivity {
    /// Bodies of their comments of the last day, newest first.
    pub recent_bodies: Vec<String>,
    pub in_last_minute_by_reader: u32,
    pub in_last_minute_by_address: u32,
    /// Comments of theirs readers can see.
    pub approved: u32,
    /// Of their last `window` decided comments (published or rejected), how many, and how
    /// many rejected.
    pub recent_decided: u32,
    pub recent_rejected: u32,
}

/// A comment in the moderation queue, with what a moderator needs beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedComment {
    pub comment: newsdesk_core::comment::Comment,
    pub item_headline: String,
    pub reader_email: Option<String>,
}

/// Which comments the moderation queue lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    /// Held by the system or by reports.
    Held,
    /// Published but reported.
    Reported,
    Rejected,
}

/// A moderator's decision on one comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Approve,
    /// With the reason the writer sees.
    Reject(String),
    Feature(bool),
}

/// What editors decided about one item's related list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelatedChoices {
    /// Shown first, in this order.
    pub pinned: Vec<i64>,
    /// Never shown.
    pub excluded: Vec<i64>,
}

/// An image in the media library, with the words that go with it by default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LibraryImage {
    /// Path in the media store (`uploads/2026/11/1a2b….jpg`).
    pub path: String,
    pub width: u32,
    pub height: u32,
    pub alt: String,
    pub caption: String,
    pub credit: String,
    pub uploaded_by: String,
    pub created_at: Timestamp,
}

/// An editor's autosave slot: what one person typed into one item's form and has not saved.
/// Kept apart from the item, so it never changes what the public sees, the workflow status
/// or the history.
#[derive(Debug, Clone, PartialEq)]
pub struct Autosave {
    pub account_id: i64,
    /// None: an item not created yet.
    pub item_id: Option<i64>,
    /// The version the form was opened at; None for a new item.
    pub base_version: Option<i64>,
    /// The editor's form fields, as the editor wrote them.
    pub fields: serde_json::Value,
    pub saved_at: Timestamp,
}

/// A registered webhook endpoint, with the outcome of its latest delivery for the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: i64,
    pub url: String,
    pub description: String,
    pub events: Vec<newsdesk_core::webhook::WebhookEvent>,
    /// Signs every delivery; the receiver needs it to check the signature.
    pub secret: String,
    pub enabled: bool,
    pub created_at: Timestamp,
    pub last_delivery: Option<LastDelivery>,
}

/// How the latest delivery of an endpoint went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastDelivery {
    pub state: DeliveryState,
    /// Its latest attempt: when, and the answer's status (None: no answer).
    pub attempted_at: Option<Timestamp>,
    pub status_code: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// Waiting for its next attempt (or its first).
    Pending,
    /// A receiver answered 2xx.
    Delivered,
    /// Still failing when the retry window closed.
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            DeliveryState::Pending,
            DeliveryState::Delivered,
            DeliveryState::Failed,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

/// A delivery derived from one event, with the body every attempt will send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    pub event_id: i64,
    pub event: newsdesk_core::webhook::WebhookEvent,
    pub payload: String,
}

/// A delivery a worker has claimed: it alone sends attempt `attempt`, until `lease_until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedDelivery {
    pub id: i64,
    pub webhook_id: i64,
    pub url: String,
    pub secret: String,
    pub event: newsdesk_core::webhook::WebhookEvent,
    pub payload: String,
    pub attempt: u32,
    pub first_attempt_at: Timestamp,
    pub lease_until: Timestamp,
}

/// What one attempt found out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    pub started_at: Timestamp,
    pub duration_ms: u64,
    pub status_code: Option<u16>,
    /// At most `newsdesk_core::webhook::RESPONSE_EXCERPT_MAX` bytes of the answer.
    pub response_excerpt: String,
    pub error: String,
}

/// Where a delivery stands after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Delivered,
    RetryAt(Timestamp),
    Failed,
}

/// One delivery in the log, with its attempts in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    pub webhook_id: i64,
    pub event_id: i64,
    pub event: newsdesk_core::webhook::WebhookEvent,
    pub payload: String,
    pub replay_of: Option<i64>,
    pub state: DeliveryState,
    pub next_attempt_at: Timestamp,
    pub created_at: Timestamp,
    pub attempts: Vec<Attempt>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub attempt: u32,
    pub started_at: Timestamp,
    pub duration_ms: u64,
    pub status_code: Option<u16>,
    pub response_excerpt: String,
    pub error: String,
}

/// Who changes a webhook and when (the change is audited in the same transaction).
#[derive(Debug, Clone, Copy)]
pub struct WebhookChange<'a> {
    pub actor: &'a str,
    pub now: Timestamp,
}

/// What to do with a database that holds migrations this binary does not know: they mean a
/// newer newsdesk ran on it, whose tables and rules this one would serve wrongly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewerSchema {
    Refuse,
    /// The operator said so at start (`--allow-newer-schema`), e.g. for a quick rollback.
    Allow,
}

/// Everything the services need from a database. Writes run in one transaction each, append
/// their event in it, and return only after commit.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Applies pending migrations; returns those applied now. A database that holds a
    /// migration this binary does not know (a newer newsdesk wrote it) is refused.
    async fn migrate(&self) -> Result<Vec<Migration>> {
        self.migrate_with(NewerSchema::Refuse).await
    }
    /// Applies pending migrations, refusing or allowing a newer binary's migrations.
    async fn migrate_with(&self, newer: NewerSchema) -> Result<Vec<Migration>>;

    async fn upsert_author(&self, author: &Author) -> Result<()>;
    async fn author(&self, slug: &str) -> Result<Option<Author>>;
    /// Every author, by name.
    async fn authors(&self) -> Result<Vec<Author>>;
    async fn tag(&self, slug: &str) -> Result<Option<Tag>>;

    /// The site's sections in navigation order.
    async fn sections(&self) -> Result<Vec<Section>>;
    /// Writes `sections` when the table is empty (a new site); true when it did.
    async fn seed_sections(&self, sections: &[Section]) -> Result<bool>;
    /// Adds a section at the end of the order, with an audit line and a `site_changed`
    /// event, in one transaction. Refused with `StoreError::Duplicate` when the slug is taken.
    async fn add_section(&self, section: &Section, change: SiteChange<'_>) -> Result<Event>;
    /// Renames a section (its slug, and so its address, stays).
    async fn update_section(&self, section: &Section, change: SiteChange<'_>) -> Result<Event>;
    /// Swaps the section with its neighbour before (`earlier`) or after it.
    async fn move_section(
        &self,
        slug: &str,
        earlier: bool,
        change: SiteChange<'_>,
    ) -> Result<Event>;
    /// Refused with `StoreError::InUse` while any item is filed in it.
    async fn delete_section(&self, slug: &str, change: SiteChange<'_>) -> Result<Event>;
    /// Every tag, by name, with how many items carry it.
    async fn tag_usage(&self) -> Result<Vec<Usage<Tag>>>;
    async fn rename_tag(&self, slug: &str, name: &str, change: SiteChange<'_>) -> Result<Event>;
    /// Takes the tag off every item and deletes it.
    async fn delete_tag(&self, slug: &str, change: SiteChange<'_>) -> Result<Event>;
    /// Every author, by name, with how many items carry their byline.
    async fn author_usage(&self) -> Result<Vec<Usage<Author>>>;
    /// Adds an author, with an audit line and a `site_changed` event, in one transaction.
    /// Refused with `StoreError::Duplicate` when the slug is taken.
    async fn add_author(&self, author: &Author, change: SiteChange<'_>) -> Result<Event>;
    /// Updates an author's name and biography (the slug stays).
    async fn update_author(&self, author: &Author, change: SiteChange<'_>) -> Result<Event>;
    /// Refused with `StoreError::InUse` while any item carries the byline.
    async fn delete_author(&self, slug: &str, change: SiteChange<'_>) -> Result<Event>;

    async fn item_by_id(&self, id: i64) -> Result<Option<Item>>;
    /// Any status; `slug` is matched exactly (slugs are stored lowercase).
    async fn item_by_slug(&self, language: &str, slug: &str) -> Result<Option<Item>>;
    /// The item that used to live at this address, if its slug or language has changed.
    async fn redirect_for(&self, language: &str, slug: &str) -> Result<Option<i64>>;
    /// Published items matching `query`, newest first.
    async fn published(&self, query: &ItemQuery) -> Result<Vec<Item>>;
    async fn count_published(&self, query: &ItemQuery) -> Result<u64>;
    /// Items of any status, for checks such as "is this site empty".
    async fn count_all_items(&self) -> Result<u64>;

    async fn create_item(
        &self,
        item: &ValidItem,
        times: PublicationTimes,
        actor: &str,
        now: Timestamp,
    ) -> Result<Saved>;
    /// Refused with `StoreError::Conflict` when the stored version is not `expected_version`.
    async fn update_item(
        &self,
        id: i64,
        expected_version: i64,
        item: &ValidItem,
        times: PublicationTimes,
        actor: &str,
        now: Timestamp,
    ) -> Result<Saved>;
    /// Deletes an item that was never published, with its revisions, labels, notes,
    /// redirects and autosaves, and records who did it, in one transaction. Refused with
    /// `StoreError::Conflict` on a stale version and `StoreError::WasPublished` when the
    /// item was ever public (what readers saw is unpublished, never erased).
    async fn delete_item(
        &self,
        id: i64,
        expected_version: i64,
        actor: &str,
        now: Timestamp,
    ) -> Result<()>;
    async fn revisions(&self, item_id: i64) -> Result<Vec<Revision>>;
    /// Attaches a public correction or update note to an item: a new version, a revision, an
    /// audit line and (when public) an `item_updated` event, in one transaction.
    #[allow(clippy::too_many_arguments)]
    async fn add_note(
        &self,
        item_id: i64,
        expected_version: i64,
        kind: newsdesk_core::NoteKind,
        text: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<Saved>;
    /// Who saved the item's first revision: its writer.
    async fn item_creator(&self, item_id: i64) -> Result<Option<String>>;
    /// Publishes scheduled items whose time has come, at most `limit`, each in its own
    /// transaction. Safe to run on every instance at once: an item is claimed by a
    /// conditional update, so exactly one run publishes it (and appends its one event).
    async fn publish_due(&self, now: Timestamp, actor: &str, limit: u32) -> Result<Vec<Saved>>;

    /// Items of any status for the desk, with the total matching count.
    async fn desk_items(&self, query: &DeskQuery) -> Result<(Vec<Item>, u64)>;

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

    /// Records an action that is not an item save (those record themselves).
    async fn record_audit(
        &self,
        actor: &str,
        action: &str,
        subject: &str,
        detail: &str,
        now: Timestamp,
    ) -> Result<()>;
    /// Newest first.
    async fn audit_log(&self, limit: u32, offset: u32) -> Result<(Vec<AuditEntry>, u64)>;

    async fn events_after(&self, after: i64, limit: u32) -> Result<Vec<Event>>;
    /// Asks the backend to wake `wake` whenever any process commits an event, if it can
    /// (PostgreSQL: LISTEN/NOTIFY). The table stays the truth: followers also poll it.
    fn announce_events(&self, wake: std::sync::Arc<tokio::sync::Notify>);
    async fn last_event_id(&self) -> Result<i64>;

    // Autosave slots, one per person per item (`item_id` None: a new item).
    /// Writes the slot, replacing the one this person had for this item.
    async fn put_autosave(&self, slot: &Autosave) -> Result<()>;
    async fn autosave(&self, account_id: i64, item_id: Option<i64>) -> Result<Option<Autosave>>;
    async fn delete_autosave(&self, account_id: i64, item_id: Option<i64>) -> Result<()>;
    /// Forgets slots saved before `before`; returns how many.
    async fn prune_autosaves(&self, before: Timestamp) -> Result<u64>;

    // ---- Housekeeping: periodic pruning (0014_jobs). Each returns the rows it deleted.
    /// Claims the run of job `name` due at `now` and sets its next run; true for the one
    /// caller, on any instance, whose claim took.
    async fn claim_job(&self, name: &str, now: Timestamp, next_run: Timestamp) -> Result<bool>;
    /// Staff sessions past their expiry.
    async fn prune_expired_sessions(&self, now: Timestamp) -> Result<u64>;
    /// Reader sessions past their expiry.
    async fn prune_expired_reader_sessions(&self, now: Timestamp) -> Result<u64>;
    /// Mailed verification and reset tokens, and set-up links, past their expiry.
    async fn prune_expired_one_time_tokens(&self, now: Timestamp) -> Result<u64>;
    /// API tokens revoked before `revoked_before` (the audit log keeps their story).
    async fn prune_revoked_api_tokens(&self, revoked_before: Timestamp) -> Result<u64>;
    /// Webhook deliveries that arrived, made before `created_before`, with their attempts.
    async fn prune_delivered_webhooks(&self, created_before: Timestamp) -> Result<u64>;

    // The media library.
    /// Adds an image; one already in the library (the same bytes uploaded again) keeps its
    /// first entry and words.
    async fn add_to_library(&self, image: &LibraryImage) -> Result<()>;
    async fn library_image(&self, path: &str) -> Result<Option<LibraryImage>>;
    /// Newest first, with the total matching; `words` are found in the alt text, caption or
    /// credit without regard to case.
    async fn library(
        &self,
        words: Option<&str>,
        limit: u32,
        offset: u32,
    ) -> Result<(Vec<LibraryImage>, u64)>;

    // Readers, their sessions and mailed tokens (0009_comments).
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

    // Comments.
    /// Stores a comment (a reply must answer a visible comment of the same item), with a
    /// `comments_changed` event when it is published, in one transaction. A second post with
    /// the same client key from the same reader returns the first, unchanged.
    async fn insert_comment(
        &self,
        comment: &NewComment<'_>,
    ) -> Result<(newsdesk_core::comment::Comment, Option<Event>)>;
    async fn comment(&self, id: i64) -> Result<Option<newsdesk_core::comment::Comment>>;
    /// The comment a reader already posted with this form key, if any.
    async fn comment_by_client_key(
        &self,
        reader_id: i64,
        client_key: &str,
    ) -> Result<Option<newsdesk_core::comment::Comment>>;
    /// One page of an item's top-level comments that readers can see (and `viewer`'s own held
    /// or rejected ones), featured first, then in `sort` order; with the number of visible
    /// comments at every depth and at the top level (for the pager), counted in one query.
    async fn comment_page(
        &self,
        item_id: i64,
        sort: newsdesk_core::comment::CommentSort,
        viewer: Option<i64>,
        limit: u32,
        offset: u32,
    ) -> Result<(Vec<newsdesk_core::comment::Comment>, u64, u64)>;
    /// The visible replies in the threads of these top-level comments, oldest first.
    async fn replies(
        &self,
        root_ids: &[i64],
        viewer: Option<i64>,
    ) -> Result<Vec<newsdesk_core::comment::Comment>>;
    /// Visible comments per item, for teasers; items without any are left out.
    async fn comment_counts(&self, item_ids: &[i64])
    -> Result<std::collections::HashMap<i64, u64>>;
    async fn reader_activity(
        &self,
        reader_id: i64,
        address_hash: &str,
        now: Timestamp,
        window: u32,
    ) -> Result<ReaderActivity>;
    /// Likes a published comment of a published story for this reader, or takes the like
    /// back; returns whether it is now liked. Appends no event: a count of likes may trail on
    /// cached pages rather than purge the story everywhere. Counted against `limit`
    /// ([`StoreError::RateLimited`] past it, and nothing changes).
    async fn toggle_like(
        &self,
        comment_id: i64,
        reader_id: i64,
        limit: ActionLimit,
        now: Timestamp,
    ) -> Result<bool>;
    /// Records one report per reader per comment; a published comment with `hold_at` or
    /// more reports not yet answered by a moderator's approval is held again (and the story
    /// page refreshed). Returns the unanswered report count. Counted against `limit`.
    async fn report_comment(
        &self,
        comment_id: i64,
        reader_id: i64,
        reason: &str,
        hold_at: u32,
        limit: ActionLimit,
        now: Timestamp,
    ) -> Result<(u32, Option<Event>)>;
    /// Replaces the body of the reader's own comment with the status the pipeline gave it.
    async fn edit_comment(
        &self,
        comment_id: i64,
        reader_id: i64,
        body: &str,
        status: newsdesk_core::comment::CommentStatus,
        hold_reasons: &str,
        now: Timestamp,
    ) -> Result<Option<Event>>;
    /// Marks the reader's own comment deleted and empties its body.
    async fn delete_own_comment(&self, comment_id: i64, reader_id: i64) -> Result<Option<Event>>;
    /// Whether a story's comments are closed, and held for review.
    async fn story_commenting(&self, item_id: i64) -> Result<(bool, bool)>;

    // Moderation.
    /// Newest first, with the total.
    async fn moderation_queue(
        &self,
        queue: Queue,
        limit: u32,
        offset: u32,
    ) -> Result<(Vec<QueuedComment>, u64)>;
    /// Applies a decision, with an audit line and the event that refreshes the story page,
    /// in one transaction.
    async fn decide_comment(
        &self,
        comment_id: i64,
        decision: &Decision,
        actor: &str,
        now: Timestamp,
    ) -> Result<Event>;
    /// Closes or opens a story's comments, and holds them for review or not; audited.
    async fn set_story_commenting(
        &self,
        item_id: i64,
        closed: bool,
        premoderated: bool,
        actor: &str,
        now: Timestamp,
    ) -> Result<Event>;
    /// Suspends, bans or restores a reader; audited.
    async fn set_reader_status(
        &self,
        reader_id: i64,
        status: newsdesk_core::reader::ReaderStatus,
        actor: &str,
        now: Timestamp,
    ) -> Result<()>;
    /// A reader's comments of every status, newest first.
    async fn reader_comments(
        &self,
        reader_id: i64,
        limit: u32,
    ) -> Result<Vec<newsdesk_core::comment::Comment>>;
    /// The ids of the comments a reader liked and their reports (comment id, reason).
    async fn reader_actions(&self, reader_id: i64) -> Result<(Vec<i64>, Vec<(i64, String)>)>;
    /// Deletes a reader's account with their sessions, tokens, likes and reports. Their
    /// comments stay without a name, or (`remove_comments`) are emptied to deleted markers.
    /// One `comments_changed` event per story touched; audited.
    async fn delete_reader(
        &self,
        reader_id: i64,
        remove_comments: bool,
        now: Timestamp,
    ) -> Result<Vec<Event>>;
    // Sitemaps and feeds (issue 6).
    /// When each published item was published and last changed for readers (its update
    /// time when later, else its publication), oldest first: enough to split the item
    /// sitemaps by month and give each its real `lastmod` without loading the items.
    async fn published_times(&self) -> Result<Vec<PublishedTimes>>;
    /// Published items of every language published in `[from, until)`, newest first.
    async fn published_between(
        &self,
        from: Timestamp,
        until: Timestamp,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Item>>;
    /// Every section, tag and author listing that has published items, per language, with
    /// its latest change: the section, tag and author sitemaps.
    async fn listing_activity(&self) -> Result<Vec<ListingActivity>>;

    // Search and related stories (0010_related).
    /// Published items with an id above `after_id`, lowest id first: the search index is
    /// rebuilt from these in batches without OFFSET's quadratic cost.
    async fn published_after_id(&self, after_id: i64, limit: u32) -> Result<Vec<Item>>;
    /// Published items among `ids`, in the order of `ids` (missing or unpublished ones left out).
    async fn published_by_ids(&self, ids: &[i64]) -> Result<Vec<Item>>;
    /// The editors' pinned and excluded related items of `item_id` (empty when none).
    async fn related_choices(&self, item_id: i64) -> Result<RelatedChoices>;
    /// Replaces the choices of `item_id`, audited; a published item gets an `item_updated`
    /// event (keys: its own page) so every instance re-renders its related list.
    /// `NotFound` when the item or a chosen item does not exist.
    async fn set_related_choices(
        &self,
        item_id: i64,
        choices: &RelatedChoices,
        actor: &str,
        now: Timestamp,
    ) -> Result<Option<Event>>;
    // Webhooks (0012_webhooks).
    /// Registers an endpoint that hears of events after the latest one; audited. Refused
    /// with `StoreError::Limit` when `max` endpoints exist already.
    async fn create_webhook(
        &self,
        webhook: &newsdesk_core::webhook::ValidWebhook,
        secret: &str,
        max: u64,
        change: WebhookChange<'_>,
    ) -> Result<Webhook>;
    /// Every endpoint, oldest first.
    async fn webhooks(&self) -> Result<Vec<Webhook>>;
    async fn webhook(&self, id: i64) -> Result<Option<Webhook>>;
    /// Replaces the address, note and events; audited. `NotFound` when unknown.
    async fn update_webhook(
        &self,
        id: i64,
        webhook: &newsdesk_core::webhook::ValidWebhook,
        change: WebhookChange<'_>,
    ) -> Result<()>;
    /// A disabled endpoint gets no new deliveries and its pending ones wait; audited.
    async fn set_webhook_enabled(
        &self,
        id: i64,
        enabled: bool,
        change: WebhookChange<'_>,
    ) -> Result<()>;
    async fn rotate_webhook_secret(
        &self,
        id: i64,
        secret: &str,
        change: WebhookChange<'_>,
    ) -> Result<()>;
    /// Deletes the endpoint with its deliveries and their attempts; audited.
    async fn delete_webhook(&self, id: i64, change: WebhookChange<'_>) -> Result<()>;
    /// The last event turned into deliveries (set to the latest event on first use, so a
    /// new site does not deliver its history).
    async fn webhook_cursor(&self) -> Result<i64>;
    /// In one transaction: if the cursor is still `from`, stores one delivery per enabled
    /// endpoint subscribed to each delivery's event (and registered before it), and moves
    /// the cursor to `to`. `None` when another process moved the cursor first (nothing is
    /// written); else the number of deliveries stored. An event never gets two deliveries
    /// to one endpoint, whoever runs this.
    async fn enqueue_webhook_deliveries(
        &self,
        from: i64,
        to: i64,
        deliveries: &[NewDelivery],
        now: Timestamp,
    ) -> Result<Option<u64>>;
    /// Claims up to `limit` due deliveries of enabled endpoints, counting an attempt for
    /// each and leasing it until `lease_until`. Two claimers never get the same attempt.
    async fn claim_webhook_deliveries(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>>;
    /// Records a claimed attempt and where the delivery stands, only if the claim still
    /// holds (same attempt, same lease); false (nothing written) when it does not.
    async fn record_webhook_attempt(
        &self,
        claim: &ClaimedDelivery,
        attempt: &AttemptRecord,
        outcome: DeliveryOutcome,
    ) -> Result<bool>;
    /// An endpoint's deliveries, newest first, with their attempts, and the total.
    async fn webhook_deliveries(
        &self,
        webhook_id: i64,
        limit: u32,
        offset: u32,
    ) -> Result<(Vec<Delivery>, u64)>;
    /// Sends a delivery of this endpoint again: a new pending delivery with the same body,
    /// marked as a replay of the original; audited. Returns its id.
    async fn replay_webhook_delivery(
        &self,
        webhook_id: i64,
        delivery_id: i64,
        change: WebhookChange<'_>,
    ) -> Result<i64>;

    // API tokens (0011_api_tokens).
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
}

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

/// One published item's times, for the item sitemaps (see `Store::published_times`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishedTimes {
    pub published_at: Timestamp,
    pub last_changed: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListingKind {
    Section,
    Tag,
    Author,
}

/// A listing page with published items in one language, and when it last changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingActivity {
    pub kind: ListingKind,
    pub slug: String,
    pub language: String,
    pub last_changed: Timestamp,
}
