//! What feeds, sitemaps and the structured data of pages read: the newest items of a feed's
//! subject, items by publication window, listings with published items, and an item's
//! translations. Reads only; the web face turns them into XML and JSON.

use jiff::{SignedDuration, Timestamp};
use newsdesk_core::{Item, ItemKind};
use newsdesk_store::{ItemQuery, ListingActivity, ListingKind, PublishedTimes};

use crate::error::Result;
use crate::newsroom::{Listing, ListingSubject, Newsroom};

/// Google News sitemap: "only URLs for articles published in the last two days".
pub const NEWS_WINDOW: SignedDuration = SignedDuration::from_hours(48);
/// Google News sitemap: "up to 1,000 news:news tags".
pub const NEWS_MAX_URLS: u32 = 1000;

impl Newsroom {
    /// The newest `limit` items of a feed, with what the feed is about; `None` when the
    /// section, tag or author does not exist. `briefs_only` narrows the whole edition's
    /// feed to briefs.
    pub async fn feed(
        &self,
        language: &str,
        listing: &Listing,
        briefs_only: bool,
        limit: u32,
    ) -> Result<Option<(ListingSubject, Vec<Item>)>> {
        let mut query = ItemQuery {
            language: Some(language.to_owned()),
            kind: briefs_only.then_some(ItemKind::Brief),
            limit,
            ..ItemQuery::default()
        };
        let subject = match listing {
            Listing::Latest => ListingSubject::Latest,
            Listing::Section(slug) => match self.sections().get(slug) {
                Some(section) => {
                    query.section = Some(slug.clone());
                    ListingSubject::Section(section.clone())
                }
                None => return Ok(None),
            },
            Listing::Tag(slug) => match self.store().tag(slug).await? {
                Some(tag) => {
                    query.tag = Some(slug.clone());
                    ListingSubject::Tag(tag)
                }
                None => return Ok(None),
            },
            Listing::Author(slug) => match self.store().author(slug).await? {
                Some(author) => {
                    query.author = Some(slug.clone());
                    ListingSubject::Author(author)
                }
                None => return Ok(None),
            },
        };
        let items = self.store().published(&query).await?;
        Ok(Some((subject, items)))
    }

    /// Every published item's publication and last-change times, oldest first.
    pub async fn published_times(&self) -> Result<Vec<PublishedTimes>> {
        Ok(self.store().published_times().await?)
    }

    /// Published items of every edition in `[from, until)`, newest first.
    pub async fn published_between(
        &self,
        from: Timestamp,
        until: Timestamp,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Item>> {
        Ok(self
            .store()
            .published_between(from, until, limit, offset)
            .await?)
    }

    /// Items for the Google News sitemap: published in the two days before `now`, newest
    /// first, at most 1,000.
    pub async fn news_items(&self, now: Timestamp) -> Result<Vec<Item>> {
        // The upper bound only keeps the window half-open; nothing is published in the future.
        let until = now + SignedDuration::from_secs(1);
        self.published_between(now - NEWS_WINDOW, until, NEWS_MAX_URLS, 0)
            .await
    }

    pub async fn listing_activity(&self, kinds: &[ListingKind]) -> Result<Vec<ListingActivity>> {
        Ok(self.store().listing_activity(kinds).await?)
    }

    /// The published translations of an item (same translation group, other languages).
    pub async fn translations(&self, item: &Item) -> Result<Vec<Item>> {
        let Some(group) = &item.translation_group else {
            return Ok(Vec::new());
        };
        let found = self
            .store()
            .published(&ItemQuery {
                translation_group: Some(group.clone()),
                exclude_id: Some(item.id),
                limit: 50,
                ..ItemQuery::default()
            })
            .await?;
        // One per language: the newest, should a group hold two in one language.
        let mut out: Vec<Item> = Vec::new();
        for candidate in found {
            if candidate.language != item.language
                && !out.iter().any(|o| o.language == candidate.language)
            {
                out.push(candidate);
            }
        }
        Ok(out)
    }
}
