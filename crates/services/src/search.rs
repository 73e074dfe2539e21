//! Keeping this instance's search index equal to the database, and answering searches and
//! related-item questions from it. The index lives in the data directory and is derived
//! from the event log: checked at start (rebuilt when missing, unreadable, of another schema,
//! ahead of the database or holding a different number of items; caught up when behind),
//! then moved on by every event. Items shown are always read from the database, so a name
//! or headline is never older than the page around it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::Timestamp;
use newsdesk_core::{EventKind, Item, ItemStatus};
use newsdesk_search::{Checkpoint, SearchIndex, SearchRequest, Unusable};
use newsdesk_store::{ItemQuery, Store};
use tokio::sync::broadcast::error::RecvError;

pub use newsdesk_search::{Filters, MAX_QUERY_CHARS, Sort};

use crate::error::{Refusal, Result, SearchFailure, ServiceError};
use crate::follow::EventFeed;
use crate::related::{Recall, RelatedMemo};

/// The index's folder inside the data directory.
pub const INDEX_DIR: &str = "search";
/// Results per page.
pub const SEARCH_PAGE_SIZE: u32 = 10;
/// Deepest result page served: 500 results is more than anyone reads, and deep offsets
/// cost the index as much as the whole prefix.
pub const MAX_SEARCH_PAGE: u32 = 50;
/// Events read from the log per batch while catching up (one commit per batch).
const CATCH_UP_BATCH: u32 = 500;
/// Items read from the database per batch while rebuilding.
const REBUILD_BATCH: u32 = 500;
/// Items in one batch of events that the related memo follows one by one; a larger batch
/// clears it (see `move_related_on`).
const RELATED_FOLLOW_MAX: usize = 32;
/// Characters of body text shown under a result.
const SNIPPET_CHARS: usize = 220;

impl From<newsdesk_search::SearchError> for ServiceError {
    fn from(e: newsdesk_search::SearchError) -> Self {
        ServiceError::Search(SearchFailure::Index(e))
    }
}

fn busy(dir: &Path) -> ServiceError {
    ServiceError::Refused(Refusal::SearchIndexInUse {
        dir: dir.to_path_buf(),
    })
}

fn joined(e: tokio::task::JoinError) -> ServiceError {
    ServiceError::Search(SearchFailure::Task(e))
}

/// What the start-up check found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartCheck {
    /// The index held every event already.
    Current { items: u64 },
    /// The index was behind and applied the events it missed.
    CaughtUp { events: usize, items: u64 },
    /// The index could not be used as it was and was built again from the database.
    Rebuilt { reason: String, items: u64 },
}

pub struct Search {
    index: Arc<SearchIndex>,
    store: Arc<dyn Store>,
    /// The last event applied; held while applying, so two wake-ups never apply the same
    /// events twice or commit out of order.
    cursor: tokio::sync::Mutex<i64>,
    /// Each item's matches between renders (see `related.rs`).
    related: RelatedMemo,
}

/// One result, with the item as the database has it now.
#[derive(Debug, Clone)]
pub struct SearchResult {
    pub item: Item,
    /// Escaped; matched terms in `<mark>`.
    pub headline_html: String,
    /// Escaped; matched terms in `<mark>`.
    pub snippet_html: String,
}

#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub text: String,
    pub filters: Filters,
    pub sort: Sort,
    /// 1-based.
    pub page: u32,
}

#[derive(Debug, Clone)]
pub struct SearchPage {
    pub results: Vec<SearchResult>,
    pub total: u64,
    pub page: u32,
    pub pages: u32,
    /// No item had every word; these have some of them.
    pub relaxed: bool,
}

impl Search {
    pub fn index_dir(data_dir: &Path) -> PathBuf {
        data_dir.join(INDEX_DIR)
    }

    /// Opens this instance's index and makes it equal to the database before it answers
    /// anything, so search never silently misses or shows stale items after a restart.
    pub async fn open(data_dir: &Path, store: Arc<dyn Store>) -> Result<(Arc<Search>, StartCheck)> {
        let dir = Search::index_dir(data_dir);
        let opened = {
            let dir = dir.clone();
            tokio::task::spawn_blocking(move || SearchIndex::open(&dir))
                .await
                .map_err(joined)?
        };
        let (index, checkpoint) = match opened {
            Ok(found) => found,
            Err(Unusable::Busy) => return Err(busy(&dir)),
            Err(unusable) => {
                let reason = unusable.to_string();
                let (search, items) = Search::rebuild(data_dir, store).await?;
                return Ok((search, StartCheck::Rebuilt { reason, items }));
            }
        };
        let last = store.last_event_id().await?;
        if checkpoint.cursor > last {
            drop(index);
            let reason = format!(
                "the index has events up to {} but the database only up to {last} (another or restored database)",
                checkpoint.cursor
            );
            let (search, items) = Search::rebuild(data_dir, store).await?;
            return Ok((search, StartCheck::Rebuilt { reason, items }));
        }
        let search = Arc::new(Search {
            index: Arc::new(index),
            store: store.clone(),
            cursor: tokio::sync::Mutex::new(checkpoint.cursor),
            related: RelatedMemo::default(),
        });
        let events = search.catch_up().await?;
        let published = store.count_published(&ItemQuery::default()).await?;
        let held = search.index.len();
        if held != published {
            drop(search);
            let reason =
                format!("the index holds {held} items, the database has {published} published");
            let (search, items) = Search::rebuild(data_dir, store).await?;
            return Ok((search, StartCheck::Rebuilt { reason, items }));
        }
        let check = if events == 0 {
            StartCheck::Current { items: held }
        } else {
            StartCheck::CaughtUp {
                events,
                items: held,
            }
        };
        Ok((search, check))
    }

    /// Builds the index anew from every published item (`newsdesk reindex`, or a start
    /// that found it unusable). Fails if another process holds the index.
    pub async fn rebuild(data_dir: &Path, store: Arc<dyn Store>) -> Result<(Arc<Search>, u64)> {
        let dir = Search::index_dir(data_dir);
        let index = {
            let dir = dir.clone();
            tokio::task::spawn_blocking(move || match SearchIndex::open(&dir) {
                // Emptied under its own writer lock, so a running server's index is never
                // deleted from under it.
                Ok((index, _)) => index.remove_all().map(|()| index).map_err(Some),
                Err(Unusable::Busy) => Err(None),
                Err(why) => {
                    tracing::info!(reason = %why, "creating the search index anew");
                    SearchIndex::create(&dir).map_err(Some)
                }
            })
            .await
            .map_err(joined)?
        };
        let index = match index {
            Ok(index) => index,
            Err(None) => return Err(busy(&dir)),
            Err(Some(e)) => return Err(e.into()),
        };
        let index = Arc::new(index);
        // The cursor is read before the items: an event committed while we read is then
        // applied again by the follower, which is harmless; the other order could lose it.
        let cursor = store.last_event_id().await?;
        let mut after = 0;
        let mut items = 0u64;
        loop {
            let batch = store.published_after_id(after, REBUILD_BATCH).await?;
            let Some(last) = batch.last() else { break };
            after = last.id;
            items += batch.len() as u64;
            let index = index.clone();
            tokio::task::spawn_blocking(move || batch.iter().try_for_each(|item| index.put(item)))
                .await
                .map_err(joined)??;
        }
        {
            let index = index.clone();
            tokio::task::spawn_blocking(move || index.commit(cursor))
                .await
                .map_err(joined)??;
        }
        let search = Arc::new(Search {
            index,
            store,
            cursor: tokio::sync::Mutex::new(cursor),
            related: RelatedMemo::default(),
        });
        Ok((search, items))
    }

    /// The last event the index holds.
    pub async fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            schema: newsdesk_search::SCHEMA_VERSION,
            cursor: *self.cursor.lock().await,
        }
    }

    pub fn items(&self) -> u64 {
        self.index.len()
    }

    /// Applies every event after the index's cursor; returns how many were read.
    ///
    /// `site_changed` mostly needs nothing: the index holds slugs (which never change for
    /// sections and authors, and which a tag rename keeps), never names, and results are
    /// read from the database. A deleted tag is taken off its items without an item event,
    /// so the items the index still holds under a tag the database no longer has are
    /// indexed again (only those, not the whole index).
    pub async fn catch_up(&self) -> Result<usize> {
        let mut cursor = self.cursor.lock().await;
        let mut read = 0;
        loop {
            let events = self.store.events_after(*cursor, CATCH_UP_BATCH).await?;
            let Some(last) = events.last() else { break };
            let last_id = last.id;
            read += events.len();
            let mut touched: Vec<i64> = Vec::new();
            let mut site_changed = false;
            for event in &events {
                match event.kind {
                    EventKind::ItemPublished
                    | EventKind::ItemUpdated
                    | EventKind::ItemUnpublished => {
                        if let Some(id) = event.item_id
                            && !touched.contains(&id)
                        {
                            touched.push(id);
                        }
                    }
                    EventKind::SiteChanged => site_changed = true,
                    // Comments are not indexed.
                    EventKind::CommentsChanged | EventKind::CommentPublished => {}
                }
            }
            if site_changed {
                for id in self.items_with_deleted_tags().await? {
                    if !touched.contains(&id) {
                        touched.push(id);
                    }
                }
            }
            // The item as it is now decides, whatever the event said: a burst of saves
            // costs one read, and an event read late never resurrects a removed item.
            let mut current: Vec<(i64, Option<Item>)> = Vec::with_capacity(touched.len());
            for id in touched {
                let item = self.store.item_by_id(id).await?;
                current.push((id, item.filter(|i| i.status == ItemStatus::Published)));
            }
            let index = self.index.clone();
            let current = tokio::task::spawn_blocking(
                move || -> newsdesk_search::Result<Vec<(i64, Option<Item>)>> {
                    for (id, item) in &current {
                        match item {
                            Some(item) => index.put(item)?,
                            None => index.remove(*id),
                        }
                    }
                    index.commit(last_id)?;
                    Ok(current)
                },
            )
            .await
            .map_err(joined)??;
            *cursor = last_id;
            self.move_related_on(current).await;
            if events.len() < CATCH_UP_BATCH as usize {
                break;
            }
        }
        Ok(read)
    }

    /// Tells the related memo what the index just took in. A few items (a newsroom's
    /// events) are followed one by one: their own lists and the lists naming them are
    /// forgotten, and each item still published is searched here, on the follower, so the
    /// items it now matches are forgotten too and find it at their next render. A large
    /// batch (a catch-up after an import) clears the memo instead.
    async fn move_related_on(&self, current: Vec<(i64, Option<Item>)>) {
        if current.len() > RELATED_FOLLOW_MAX {
            self.related.clear();
            return;
        }
        let touched: Vec<i64> = current.iter().map(|(id, _)| *id).collect();
        self.related.forget_touched(&touched);
        let now = Timestamp::now();
        for item in current.into_iter().filter_map(|(_, item)| item) {
            let index = self.index.clone();
            let found = tokio::task::spawn_blocking(move || {
                index.related(&item, crate::related::KEPT, &[], now)
            })
            .await;
            match found {
                Ok(Ok(hits)) => {
                    let ids: Vec<i64> = hits.into_iter().map(|h| h.id).collect();
                    self.related.forget(&ids);
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "related search on the follower failed; clearing the memo");
                    self.related.clear();
                }
                Err(e) => {
                    tracing::warn!(error = %e, "related search on the follower stopped; clearing the memo");
                    self.related.clear();
                }
            }
        }
    }

    async fn items_with_deleted_tags(&self) -> Result<Vec<i64>> {
        let known: Vec<String> = self
            .store
            .tag_usage()
            .await?
            .into_iter()
            .map(|u| u.label.slug)
            .collect();
        let index = self.index.clone();
        let ids = tokio::task::spawn_blocking(move || -> newsdesk_search::Result<Vec<i64>> {
            let mut ids = Vec::new();
            for slug in index.tag_slugs()? {
                if !known.contains(&slug) {
                    ids.extend(index.ids_with_tag(&slug)?);
                }
            }
            Ok(ids)
        })
        .await
        .map_err(joined)??;
        Ok(ids)
    }

    /// Keeps the index moving with the log: every event (or a lag, which says some were
    /// missed) triggers a catch-up from the table, which is the truth.
    pub fn follow(self: &Arc<Self>, feed: &EventFeed) {
        let mut events = feed.subscribe();
        let search = self.clone();
        tokio::spawn(async move {
            // Events committed between the start check and the subscription arrive on no
            // channel: the table has them.
            if let Err(e) = search.catch_up().await {
                tracing::warn!(error = %e, "search index did not catch up; retrying at the next event");
            }
            // Closed: the follower stopped with the server.
            while let Ok(_) | Err(RecvError::Lagged(_)) = events.recv().await {
                // Drain what is already queued: one catch-up covers all of it.
                while let Ok(_) | Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) =
                    events.try_recv()
                {}
                if let Err(e) = search.catch_up().await {
                    tracing::warn!(error = %e, "search index did not catch up; retrying at the next event");
                }
            }
        });
    }

    /// One page of results; items come from the database, in the index's order.
    pub async fn search(&self, query: &SearchQuery, now: Timestamp) -> Result<Option<SearchPage>> {
        if query.text.chars().count() > MAX_QUERY_CHARS {
            return Err(ServiceError::QueryTooLong {
                max: MAX_QUERY_CHARS,
            });
        }
        if query.page == 0 || query.page > MAX_SEARCH_PAGE {
            return Ok(None);
        }
        let request = SearchRequest {
            text: query.text.clone(),
            filters: query.filters.clone(),
            sort: query.sort,
            offset: ((query.page - 1) * SEARCH_PAGE_SIZE) as usize,
            limit: SEARCH_PAGE_SIZE as usize,
            now,
        };
        let index = self.index.clone();
        let outcome = tokio::task::spawn_blocking(move || index.search(&request))
            .await
            .map_err(joined)??;
        let total = outcome.total as u64;
        let pages = (total.div_ceil(u64::from(SEARCH_PAGE_SIZE)) as u32).clamp(1, MAX_SEARCH_PAGE);
        if query.page > pages {
            return Ok(None);
        }
        let ids: Vec<i64> = outcome.hits.iter().map(|h| h.id).collect();
        let items = self.store.published_by_ids(&ids).await?;
        let results = items
            .into_iter()
            .map(|item| {
                let headline = item.display_headline();
                let mut text = item.standfirst.clone().unwrap_or_default();
                text.push(' ');
                text.push_str(&newsdesk_core::text::plain_text(&item.body_html));
                SearchResult {
                    headline_html: outcome.highlighter.headline(&headline, &item.language),
                    snippet_html: outcome
                        .highlighter
                        .snippet(&text, &item.language, SNIPPET_CHARS),
                    item,
                }
            })
            .collect();
        Ok(Some(SearchPage {
            results,
            total,
            page: query.page,
            pages,
            relaxed: outcome.relaxed,
        }))
    }

    /// Ids of items like `item`, best first, leaving out `skip`.
    pub async fn related_ids(
        &self,
        item: &Item,
        limit: usize,
        skip: &[i64],
        now: Timestamp,
    ) -> Result<Vec<i64>> {
        let (generation, fetch) = match self.related.recall(item.id, item.version, limit, skip, now)
        {
            Recall::Known(ids) => return Ok(ids),
            Recall::Search { generation, fetch } => (generation, fetch),
        };
        let index = self.index.clone();
        let searched = item.clone();
        let hits = tokio::task::spawn_blocking(move || index.related(&searched, fetch, &[], now))
            .await
            .map_err(joined)??;
        let ids: Vec<i64> = hits.into_iter().map(|h| h.id).collect();
        let out = ids
            .iter()
            .filter(|id| !skip.contains(id))
            .take(limit)
            .copied()
            .collect();
        self.related
            .remember(generation, item.id, item.version, now, ids, fetch);
        Ok(out)
    }
}
