//! The event log's vocabulary: what happened to public content, and which cached pages
//! (surrogate keys) it touches. The store appends events in the same transaction as the
//! change; every derived thing (page cache, search, live stream, webhooks) follows them.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::item::{Item, ItemStatus};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    ItemPublished,
    ItemUpdated,
    ItemUnpublished,
    /// Sections, tags or authors changed: names in navigation, bylines and labels on any
    /// page may be stale, and the site's section list must be read again.
    SiteChanged,
    /// A story's visible comments changed (one edited, removed, featured, liked): its page
    /// shows them.
    CommentsChanged,
    /// A comment became visible to readers (posted and published at once, or approved by a
    /// moderator). The story page changes as for `CommentsChanged` (same keys); the event
    /// also names the comment, for webhooks.
    CommentPublished,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::ItemPublished => "item_published",
            EventKind::ItemUpdated => "item_updated",
            EventKind::ItemUnpublished => "item_unpublished",
            EventKind::SiteChanged => "site_changed",
            EventKind::CommentsChanged => "comments_changed",
            EventKind::CommentPublished => "comment_published",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "item_published" => EventKind::ItemPublished,
            "item_updated" => EventKind::ItemUpdated,
            "item_unpublished" => EventKind::ItemUnpublished,
            "site_changed" => EventKind::SiteChanged,
            "comments_changed" => EventKind::CommentsChanged,
            "comment_published" => EventKind::CommentPublished,
            _ => return None,
        })
    }

    /// The event a save produces, given the public status before and after it; `None` when
    /// the public cannot see the change (a draft edited, say).
    pub fn for_transition(before: Option<ItemStatus>, after: ItemStatus) -> Option<Self> {
        let was_public = before == Some(ItemStatus::Published);
        match (was_public, after == ItemStatus::Published) {
            (false, true) => Some(EventKind::ItemPublished),
            (true, true) => Some(EventKind::ItemUpdated),
            (true, false) => Some(EventKind::ItemUnpublished),
            (false, false) => None,
        }
    }
}

/// One row of the event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Only grows; consumers keep the last id they handled as their cursor.
    pub id: i64,
    pub kind: EventKind,
    pub item_id: Option<i64>,
    /// The comment a `CommentPublished` event is about.
    #[serde(default)]
    pub comment_id: Option<i64>,
    /// Surrogate keys of every page whose content this event changes.
    pub keys: Vec<String>,
    pub at: Timestamp,
}

/// Surrogate keys name groups of pages so that one event can purge exactly the pages it
/// touched, here and in a CDN. Every public page carries `stream:{lang}` because the latest
/// news stream is on every page.
pub mod keys {
    pub fn item(id: i64) -> String {
        format!("item:{id}")
    }
    pub fn stream(lang: &str) -> String {
        format!("stream:{}", lang.to_ascii_lowercase())
    }
    pub fn home(lang: &str) -> String {
        format!("home:{}", lang.to_ascii_lowercase())
    }
    pub fn section(lang: &str, section: &str) -> String {
        format!("section:{}:{section}", lang.to_ascii_lowercase())
    }
    pub fn tag(slug: &str) -> String {
        format!("tag:{slug}")
    }
    pub fn author(slug: &str) -> String {
        format!("author:{slug}")
    }
    pub const ASSETS: &str = "assets";
}

/// The keys of every public page of these language editions: each carries its edition's
/// stream key, since the latest-news stream is on every page.
pub fn keys_for_site(languages: &[String]) -> Vec<String> {
    languages.iter().map(|l| keys::stream(l)).collect()
}

/// The keys an item's change touches: its own page, every listing it appears on.
pub fn keys_for(item: &Item) -> Vec<String> {
    let mut out = vec![
        keys::item(item.id),
        keys::stream(&item.language),
        keys::home(&item.language),
        keys::section(&item.language, &item.section),
    ];
    out.extend(item.tags.iter().map(|t| keys::tag(&t.slug)));
    out.extend(item.authors.iter().map(|a| keys::author(&a.slug)));
    out
}

#[cfg(test)]
mod tests {
    use super::EventKind;

    #[test]
    fn every_kind_round_trips_through_its_stored_name() {
        for kind in [
            EventKind::ItemPublished,
            EventKind::ItemUpdated,
            EventKind::ItemUnpublished,
            EventKind::SiteChanged,
            EventKind::CommentsChanged,
            EventKind::CommentPublished,
        ] {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EventKind::parse("comment_deleted"), None);
    }
}
