//! Items (stories and briefs) in the store: reading and listing them, saving them with
//! their revisions, notes and redirects, publishing what is due, the desk's content list,
//! the sitemaps' and search's reads, editors' related choices and autosave slots.

use async_trait::async_trait;
use jiff::Timestamp;
use newsdesk_core::item::{
    DeskQuery, ItemQuery, ListingActivity, ListingKind, PublishedTimes, RelatedChoices, Revision,
};
use newsdesk_core::{Event, Item, PublicationTimes, ValidItem};

use crate::Result;

/// What a save left behind: the item as stored and the event it appended, if the public
/// can see the change.
#[derive(Debug, Clone)]
pub struct Saved {
    pub item: Item,
    pub event: Option<Event>,
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

/// Items, their history, listings and the editors' working state.
#[async_trait]
pub trait ItemStore: Send + Sync {
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
    /// Writes the slot, replacing the one this person had for this item.
    async fn put_autosave(&self, slot: &Autosave) -> Result<()>;
    async fn autosave(&self, account_id: i64, item_id: Option<i64>) -> Result<Option<Autosave>>;
    async fn delete_autosave(&self, account_id: i64, item_id: Option<i64>) -> Result<()>;
    /// Forgets slots saved before `before`; returns how many.
    async fn prune_autosaves(&self, before: Timestamp) -> Result<u64>;
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
    /// Every listing of the given kinds (sections, tags, authors) that has published items,
    /// per language, with its latest change: the section, tag and author sitemaps. Each kind
    /// is a pass over every published item, so ask only for those needed.
    async fn listing_activity(&self, kinds: &[ListingKind]) -> Result<Vec<ListingActivity>>;
    /// Published items with an id above `after_id`, lowest id first: the search index is
    /// rebuilt from these in batches without OFFSET's quadratic cost.
    async fn published_after_id(&self, after_id: i64, limit: u32) -> Result<Vec<Item>>;
    /// Published items among `ids`, in the order of `ids` (missing or unpublished ones left out).
    async fn published_by_ids(&self, ids: &[i64]) -> Result<Vec<Item>>;
    /// The editors' pinned and excluded related items of `item_id` (empty when none).
    async fn related_choices(&self, item_id: i64) -> Result<RelatedChoices>;
    /// Everything a story page needs about `item_id` besides the item, in one statement (see
    /// `StoryFacts`); a story page is mostly read on a cache miss, where each statement
    /// counts.
    async fn story_facts(&self, item_id: i64) -> Result<newsdesk_core::item::StoryFacts>;
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
}
