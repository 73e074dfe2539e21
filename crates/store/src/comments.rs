//! Readers' comments in the store: posting, threads and counts, likes and reports, and
//! moderation (the queue, decisions, closing a story's comments).

use async_trait::async_trait;
use jiff::Timestamp;
use newsdesk_core::Event;
use newsdesk_core::comment::{Decision, Queue, QueuedComment};

use crate::Result;

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

/// Comments and their moderation.
#[async_trait]
pub trait CommentStore: Send + Sync {
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
    /// A reader's comments of every status, newest first.
    async fn reader_comments(
        &self,
        reader_id: i64,
        limit: u32,
    ) -> Result<Vec<newsdesk_core::comment::Comment>>;
    /// The ids of the comments a reader liked and their reports (comment id, reason).
    async fn reader_actions(&self, reader_id: i64) -> Result<(Vec<i64>, Vec<(i64, String)>)>;
}
