//! The newsroom service: everything the faces read about the edition (items, listings, the
//! stream; whole pages are assembled in `pages`) and the one way content is written
//! (validate, settle times, save; the store wakes the event follower). Faces call these
//! functions and never the store directly.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use newsdesk_core::{
    Author, Config, Item, ItemInput, ItemStatus, PublicationTimes, Sections, Tag, config::Section,
};
use newsdesk_store::media::MediaStore;
use newsdesk_store::{ItemQuery, Saved, Store};
use tokio::sync::Notify;

use crate::error::Result;

/// A breaking item leads the front page as a banner for this long after it was published.
pub const BREAKING_WINDOW: SignedDuration = SignedDuration::from_hours(6);
/// Deepest page a listing serves; beyond it readers use search, and crawlers stop.
pub const MAX_PAGE: u32 = 500;

pub struct Newsroom {
    store: Arc<dyn Store>,
    media: Arc<dyn MediaStore>,
    /// The settings from the file; they do not change while the process runs.
    config: Arc<Config>,
    /// The sections from the database, swapped whole when the desk changes them, so a
    /// reader holds one consistent list for a whole page.
    sections: std::sync::RwLock<Arc<Sections>>,
    /// Mail to readers; None where nothing is ever mailed (benchmarks, imports).
    mailer: Option<Arc<crate::mail::Mailer>>,
    /// Turns at argon2 (19 MiB each): bounds the memory and CPU strangers can spend.
    hashing: Arc<tokio::sync::Semaphore>,
    /// This instance's search index, once `serve` has checked it; commands that do not
    /// serve pages run without one and related items fall back to shared labels.
    search: std::sync::OnceLock<Arc<crate::search::Search>>,
    /// The latest-news rail, read once per language and kept until the next event, so the
    /// story pages a crawler walks do not each read it again (see `keep_streams`).
    streams: std::sync::Mutex<Streams>,
}

/// What `Newsroom::stream` keeps. Off until a follower of the event log promises to call
/// `forget_streams` on every event (`keep_streams`); a process without one (a command, a
/// test) always reads the database.
#[derive(Default)]
struct Streams {
    on: bool,
    /// Grows on every `forget_streams`: a read that started before one is not kept.
    generation: u64,
    /// Per language: the newest `stream_size + 1` items, so one can be left out, and when
    /// they were read.
    by_language: HashMap<String, (Arc<Vec<Item>>, std::time::Instant)>,
}

/// Sends mail from a background task, logging what fails.
pub(crate) struct MailOut {
    mailer: Option<Arc<crate::mail::Mailer>>,
}

impl MailOut {
    pub(crate) async fn send(&self, mail: crate::mail::Mail) {
        let sent = match &self.mailer {
            Some(mailer) => mailer.send(&mail).await,
            None => Err(crate::ServiceError::Io(std::io::Error::other(
                "this process has no mailer",
            ))),
        };
        if let Err(e) = sent {
            tracing::warn!(subject = %mail.subject, "mail not sent: {e}");
        }
    }
}

/// What a reader's item address resolves to: the item, or (for `item_page`) its whole page.
#[derive(Debug, Clone)]
pub enum ItemLookup<Found = Box<Item>> {
    Found(Found),
    /// The item lives at another address (other section, other letter case).
    Moved(Box<Item>),
    /// It was public once and has been taken down.
    Gone,
    NotFound,
}

/// Which stream of items a listing page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listing {
    Latest,
    Section(String),
    Tag(String),
    Author(String),
}

/// Who or what a listing is about, for its heading.
#[derive(Debug, Clone)]
pub enum ListingSubject {
    Latest,
    Section(Section),
    Tag(Tag),
    Author(Author),
}

#[derive(Debug, Clone)]
pub struct ListingPage {
    pub subject: ListingSubject,
    pub items: Vec<Item>,
    /// 1-based.
    pub page: u32,
    pub pages: u32,
    pub total: u64,
}

impl Newsroom {
    pub fn new(store: Arc<dyn Store>, media: Arc<dyn MediaStore>, config: Arc<Config>) -> Self {
        let hashing_at_once = usize::try_from(config.accounts.hashing_at_once).unwrap_or(1);
        Newsroom {
            store,
            media,
            sections: std::sync::RwLock::new(Arc::new(config.seed_sections())),
            config,
            mailer: None,
            hashing: Arc::new(tokio::sync::Semaphore::new(hashing_at_once)),
            search: std::sync::OnceLock::new(),
            streams: std::sync::Mutex::default(),
        }
    }

    /// Keeps the latest-news rail in memory from now on. The caller must call
    /// `forget_streams` for every event it follows, before pages are purged for it.
    pub fn keep_streams(&self) {
        if let Ok(mut streams) = self.streams.lock() {
            streams.on = true;
        }
    }

    /// Drops the kept rails: any event may have published, changed or taken down an item.
    pub fn forget_streams(&self) {
        if let Ok(mut streams) = self.streams.lock() {
            streams.generation += 1;
            streams.by_language.clear();
        }
    }

    /// Gives the newsroom a way to mail readers.
    pub fn with_mailer(mut self, mailer: crate::mail::Mailer) -> Self {
        self.mailer = Some(Arc::new(mailer));
        self
    }

    /// Sends a mail off the request path: the request answers at once, and a failure is
    /// logged (the reader asks again) instead of becoming an error page that would tell
    /// which addresses have accounts.
    pub(crate) fn send_mail_later(&self, mail: crate::mail::Mail) {
        let out = self.mail_out();
        tokio::spawn(async move { out.send(mail).await });
    }

    /// What a background task needs to send mail.
    pub(crate) fn mail_out(&self) -> MailOut {
        MailOut {
            mailer: self.mailer.clone(),
        }
    }

    /// A turn at password hashing, waiting up to `accounts.hashing_wait_seconds` for one.
    pub(crate) async fn hashing_turn(&self) -> Result<tokio::sync::OwnedSemaphorePermit> {
        let wait = u64::from(self.config().accounts.hashing_wait_seconds);
        match tokio::time::timeout(
            std::time::Duration::from_secs(wait),
            self.hashing.clone().acquire_owned(),
        )
        .await
        {
            Ok(Ok(turn)) => Ok(turn),
            _ => Err(crate::ServiceError::Busy {
                retry_after_secs: wait,
            }),
        }
    }

    /// Attaches the checked search index; the first one attached stays.
    pub fn attach_search(&self, search: Arc<crate::search::Search>) {
        let _ = self.search.set(search);
    }

    pub fn search_index(&self) -> Option<&Arc<crate::search::Search>> {
        self.search.get()
    }

    /// A reader's search (the site's `/search` page and the API call this). `None` for a
    /// page past the last or past `MAX_SEARCH_PAGE`.
    pub async fn search(
        &self,
        query: &crate::search::SearchQuery,
        now: Timestamp,
    ) -> Result<Option<crate::search::SearchPage>> {
        match self.search.get() {
            Some(search) => search.search(query, now).await,
            None => Err(crate::ServiceError::Search(
                crate::error::SearchFailure::NotAttached,
            )),
        }
    }

    /// The editors' pinned and excluded related items of an item.
    pub async fn related_choices(&self, item_id: i64) -> Result<newsdesk_store::RelatedChoices> {
        Ok(self.store.related_choices(item_id).await?)
    }

    /// Replaces an item's pinned and excluded related items (editors and above). The item's page is purged on every instance through the event.
    pub async fn set_related_choices(
        &self,
        account: &newsdesk_core::Account,
        item_id: i64,
        choices: &newsdesk_store::RelatedChoices,
    ) -> Result<()> {
        self.item_for_staff(account, item_id).await?;
        if !account.role.may(newsdesk_core::Action::Correct) {
            return Err(newsdesk_core::Error::Forbidden {
                role: account.role.as_str(),
                what: "choose related stories",
            }
            .into());
        }
        self.store
            .set_related_choices(item_id, choices, &account.name, Timestamp::now())
            .await?;
        Ok(())
    }

    /// The settings from the configuration file.
    pub fn config(&self) -> Arc<Config> {
        Arc::clone(&self.config)
    }

    /// The sections as they are now (the desk can change them); hold the snapshot for the
    /// whole of one page or request.
    pub fn sections(&self) -> Arc<Sections> {
        self.sections
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn replace_sections(&self, sections: Sections) {
        *self
            .sections
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(sections);
    }

    /// The database, for the services only: every face goes through a service.
    pub(crate) fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn media(&self) -> &Arc<dyn MediaStore> {
        &self.media
    }

    /// Notified after every commit that appended an event (the store wakes it).
    pub fn written(&self) -> Arc<Notify> {
        self.store.written()
    }

    pub(crate) fn query(&self, language: &str) -> ItemQuery {
        ItemQuery {
            language: Some(language.to_owned()),
            limit: self.config().pages.page_size,
            ..ItemQuery::default()
        }
    }

    /// The breaking item that leads an edition now, if one was published within the window.
    pub async fn breaking(&self, language: &str, now: Timestamp) -> Result<Option<Item>> {
        Ok(self
            .store
            .published(&ItemQuery {
                breaking: Some(true),
                published_since: Some(now - BREAKING_WINDOW),
                limit: 1,
                ..self.query(language)
            })
            .await?
            .into_iter()
            .next())
    }

    /// Published items matching `query`, newest first (the API's stream).
    pub async fn published_items(&self, query: &ItemQuery) -> Result<Vec<Item>> {
        Ok(self.store.published(query).await?)
    }

    /// The item with this id: any status for `include_unpublished` (staff), else only a
    /// published one.
    pub async fn item_by_id(&self, id: i64, include_unpublished: bool) -> Result<Option<Item>> {
        let item = self.store.item_by_id(id).await?;
        Ok(item.filter(|i| include_unpublished || i.status == ItemStatus::Published))
    }

    /// The published item with this slug in one edition (slugs are stored lowercase).
    pub async fn published_by_slug(&self, language: &str, slug: &str) -> Result<Option<Item>> {
        let item = self
            .store
            .item_by_slug(language, &slug.to_lowercase())
            .await?;
        Ok(item.filter(|i| i.status == ItemStatus::Published))
    }

    /// The latest-news stream shown beside every page, newest first.
    pub async fn stream(&self, language: &str, exclude: Option<i64>) -> Result<Vec<Item>> {
        let size = self.config().pages.stream_size;
        // Rails also age out like cached pages, for what changes with time alone.
        let max_age = std::time::Duration::from_secs(u64::from(self.config().cache.s_maxage));
        let kept = |items: &[Item]| -> Vec<Item> {
            items
                .iter()
                .filter(|i| Some(i.id) != exclude)
                .take(size as usize)
                .cloned()
                .collect()
        };
        let generation = match self.streams.lock() {
            Ok(streams) if streams.on => {
                if let Some((items, at)) = streams.by_language.get(language)
                    && at.elapsed() < max_age
                {
                    return Ok(kept(items));
                }
                Some(streams.generation)
            }
            _ => None,
        };
        let Some(generation) = generation else {
            return Ok(self
                .store
                .published(&ItemQuery {
                    exclude_id: exclude,
                    limit: size,
                    ..self.query(language)
                })
                .await?);
        };
        // One more than shown, so the rail beside any one of them still has `size` items.
        let items = self
            .store
            .published(&ItemQuery {
                limit: size + 1,
                ..self.query(language)
            })
            .await?;
        let shown = kept(&items);
        if let Ok(mut streams) = self.streams.lock()
            && streams.generation == generation
        {
            streams.by_language.insert(
                language.to_owned(),
                (Arc::new(items), std::time::Instant::now()),
            );
        }
        Ok(shown)
    }

    /// Resolves `/{section}/{slug}` in one language edition. Slugs are stored lowercase,
    /// so a differently cased address finds the item and is sent to the canonical one.
    pub async fn find_item(&self, language: &str, section: &str, slug: &str) -> Result<ItemLookup> {
        let lowered = slug.to_lowercase();
        let item = match self.store.item_by_slug(language, &lowered).await? {
            Some(item) => item,
            // An address the item had before its slug changed: send readers on.
            None => match self.store.redirect_for(language, &lowered).await? {
                Some(id) => match self.store.item_by_id(id).await? {
                    Some(item) if item.status == ItemStatus::Published => {
                        return Ok(ItemLookup::Moved(Box::new(item)));
                    }
                    Some(item) if item.first_published_at.is_some() => return Ok(ItemLookup::Gone),
                    _ => return Ok(ItemLookup::NotFound),
                },
                None => return Ok(ItemLookup::NotFound),
            },
        };
        Ok(match item.status {
            ItemStatus::Published if item.section == section && item.slug == slug => {
                ItemLookup::Found(Box::new(item))
            }
            ItemStatus::Published => ItemLookup::Moved(Box::new(item)),
            // An address readers once had answers 410, so search engines drop it for good.
            ItemStatus::Unpublished if item.first_published_at.is_some() => ItemLookup::Gone,
            _ => ItemLookup::NotFound,
        })
    }

    /// Related items: the editors' pins first, then the search index's choice (text
    /// similarity and shared tags, weighted to recent), never an excluded one. Without an
    /// index (or if it fails) items sharing tags, then the section, fill in.
    pub async fn related(&self, item: &Item) -> Result<Vec<Item>> {
        let choices = self.store.related_choices(item.id).await?;
        self.related_with(item, &choices).await
    }

    /// `related`, with the editors' choices already read.
    pub(crate) async fn related_with(
        &self,
        item: &Item,
        choices: &newsdesk_store::RelatedChoices,
    ) -> Result<Vec<Item>> {
        let want = self.config().pages.related as usize;
        let mut out = self.store.published_by_ids(&choices.pinned).await?;
        out.truncate(want);
        if out.len() >= want {
            return Ok(out);
        }
        let mut skip: Vec<i64> = choices.pinned.clone();
        skip.extend(&choices.excluded);
        if let Some(search) = self.search.get() {
            match search
                .related_ids(item, want - out.len(), &skip, Timestamp::now())
                .await
            {
                Ok(ids) => {
                    out.extend(self.store.published_by_ids(&ids).await?);
                    return Ok(out);
                }
                Err(e) => {
                    tracing::warn!(error = %e, item = item.id, "related from the index failed; using shared labels")
                }
            }
        }
        for candidate in self.related_by_labels(item, want * 2).await? {
            if out.len() < want
                && !skip.contains(&candidate.id)
                && !out.iter().any(|o| o.id == candidate.id)
            {
                out.push(candidate);
            }
        }
        Ok(out)
    }

    /// Items sharing the item's tags (first tag first), then its section.
    async fn related_by_labels(&self, item: &Item, want: usize) -> Result<Vec<Item>> {
        let mut out: Vec<Item> = Vec::new();
        let push_new = |found: Vec<Item>, out: &mut Vec<Item>| {
            for candidate in found {
                if out.len() < want && !out.iter().any(|o| o.id == candidate.id) {
                    out.push(candidate);
                }
            }
        };
        for tag in &item.tags {
            if out.len() >= want {
                break;
            }
            let found = self
                .store
                .published(&ItemQuery {
                    tag: Some(tag.slug.clone()),
                    exclude_id: Some(item.id),
                    limit: want as u32,
                    ..self.query(&item.language)
                })
                .await?;
            push_new(found, &mut out);
        }
        if out.len() < want {
            let found = self
                .store
                .published(&ItemQuery {
                    section: Some(item.section.clone()),
                    exclude_id: Some(item.id),
                    limit: want as u32 * 2,
                    ..self.query(&item.language)
                })
                .await?;
            push_new(found, &mut out);
        }
        Ok(out)
    }

    /// One page of a listing; `None` when the subject does not exist or the page is past
    /// the end (page 1 of an empty listing exists, so readers see an empty state).
    pub async fn listing(
        &self,
        language: &str,
        listing: &Listing,
        page: u32,
    ) -> Result<Option<ListingPage>> {
        if page == 0 || page > MAX_PAGE {
            return Ok(None);
        }
        let mut query = self.query(language);
        let subject = match listing {
            Listing::Latest => ListingSubject::Latest,
            Listing::Section(slug) => match self.sections().get(slug) {
                Some(section) => {
                    query.section = Some(slug.clone());
                    ListingSubject::Section(section.clone())
                }
                None => return Ok(None),
            },
            Listing::Tag(slug) => match self.store.tag(slug).await? {
                Some(tag) => {
                    query.tag = Some(slug.clone());
                    ListingSubject::Tag(tag)
                }
                None => return Ok(None),
            },
            Listing::Author(slug) => match self.store.author(slug).await? {
                Some(author) => {
                    query.author = Some(slug.clone());
                    ListingSubject::Author(author)
                }
                None => return Ok(None),
            },
        };
        let total = self.store.count_published(&query).await?;
        let size = u64::from(query.limit.max(1));
        let pages = total.div_ceil(size).max(1) as u32;
        if page > pages {
            return Ok(None);
        }
        query.offset = (page - 1) * query.limit;
        let items = self.store.published(&query).await?;
        Ok(Some(ListingPage {
            subject,
            items,
            page,
            pages,
            total,
        }))
    }

    pub async fn upsert_author(&self, author: &Author) -> Result<()> {
        if !newsdesk_core::text::is_slug(&author.slug) {
            return Err(newsdesk_core::Error::invalid(
                "author.slug",
                "use lowercase letters, digits and single hyphens",
            )
            .into());
        }
        if author.name.trim().is_empty() {
            return Err(newsdesk_core::Error::Required {
                field: "author.name",
            }
            .into());
        }
        self.store.upsert_author(author).await?;
        Ok(())
    }

    /// Saves an item, creating it or replacing the one with the same language and slug.
    /// `expected_version` guards against overwriting someone else's save; `None` means the
    /// caller (an import) is authoritative.
    pub async fn save_by_slug(
        &self,
        input: &ItemInput,
        expected_version: Option<i64>,
        actor: &str,
        now: Timestamp,
    ) -> Result<Saved> {
        let valid = self.validate(input).await?;
        let existing = self
            .store
            .item_by_slug(&valid.language, &valid.slug)
            .await?;
        let expected = expected_version.or(existing.as_ref().map(|e| e.version));
        self.write(existing.as_ref(), &valid, expected, actor, now)
            .await
    }

    /// Every rule of the content model, and authors that exist.
    pub(crate) async fn validate(&self, input: &ItemInput) -> Result<newsdesk_core::ValidItem> {
        let valid = input.validate(&self.config, &self.sections())?;
        for slug in &valid.author_slugs {
            if self.store.author(slug).await?.is_none() {
                return Err(newsdesk_core::Error::invalid(
                    "authors",
                    format!("no author with slug `{slug}`"),
                )
                .into());
            }
        }
        Ok(valid)
    }

    /// Creates, or updates `existing` if the stored version is still `expected_version`; then
    /// wakes the event follower so this process's pages change at once.
    pub(crate) async fn write(
        &self,
        existing: Option<&Item>,
        valid: &newsdesk_core::ValidItem,
        expected_version: Option<i64>,
        actor: &str,
        now: Timestamp,
    ) -> Result<Saved> {
        let times = PublicationTimes::settle(existing, valid, now);
        let saved = match existing {
            Some(before) => {
                let version = expected_version.unwrap_or(before.version);
                self.store
                    .update_item(before.id, version, valid, times, actor, now)
                    .await?
            }
            None => self.store.create_item(valid, times, actor, now).await?,
        };
        Ok(saved)
    }
}
