//! The site's labels in the store: sections (in navigation order), tags and authors; every
//! change is audited with the event that purges the pages it touches.

use async_trait::async_trait;
use jiff::Timestamp;
use newsdesk_core::config::Section;
use newsdesk_core::labels::Usage;
use newsdesk_core::{Author, Event, Tag};

use crate::Result;

/// Who changes the site's sections, tags or authors, when, and which cached pages the
/// change touches (the event carries them).
#[derive(Debug, Clone, Copy)]
pub struct SiteChange<'a> {
    pub actor: &'a str,
    pub now: Timestamp,
    pub keys: &'a [String],
}

/// Sections, tags and authors.
#[async_trait]
pub trait LabelStore: Send + Sync {
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
}
