//! The related-stories memo: each item's best matches from the search index, kept between
//! renders and moved on by the event log instead of asked of the index on every render.
//!
//! Asking the index costs a fifth of a story page's render (the more-like-this query
//! tokenizes and stems the whole story), and a newsroom's day is mostly renders that the page
//! cache cannot serve: edits and comments purge pages, crawlers walk the archive. An item's
//! matches change only when the item changes, when an item it matched changes or goes, or
//! when a new item comes that is like it; the search follower, which sees every event, tells
//! the memo so (`forget_touched`, and `forget` for the items a new item matched). A new item
//! that is like an old one but does not count it among its own best matches leaves the old
//! one's list as it was until `MAX_AGE` has passed: a bounded staleness traded for never
//! searching on the request path of a page that has not changed.
//!
//! Entries are kept for what the index returned without the editors' choices, so pinning or
//! excluding a story (applied at render) never needs a new search.

use std::collections::HashMap;
use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};

/// After this, an entry is searched again even without an event: recency weighs in the
/// ranking, and a new item like this one may have missed it (see the module comment).
pub const MAX_AGE: SignedDuration = SignedDuration::from_hours(24);
/// Matches kept per item, beyond what a page shows, so an excluded story or two never sends
/// a render back to the index.
pub const KEPT: usize = 12;
/// Items remembered. An entry is a few dozen bytes, so this is a few megabytes at most; past
/// it the memo starts again empty rather than tracking which entry is oldest.
pub const MAX_ENTRIES: usize = 200_000;

#[derive(Debug, Clone)]
struct Entry {
    /// The item's version when it was searched: a save makes the entry stale by itself.
    version: i64,
    at: Timestamp,
    ids: Vec<i64>,
    /// The index had no more matches than these.
    complete: bool,
}

#[derive(Debug, Default)]
struct Inner {
    /// Moves on at every forgetting, so a search that started before it is never stored
    /// after it (the page cache's rule for pages, here for lists).
    generation: u64,
    entries: HashMap<i64, Entry>,
}

#[derive(Debug, Default)]
pub struct RelatedMemo {
    inner: Mutex<Inner>,
}

/// What a lookup found.
#[derive(Debug, PartialEq, Eq)]
pub enum Recall {
    /// Up to `limit` ids, best first, `skip` left out.
    Known(Vec<i64>),
    /// Search, then `remember` with this generation.
    Search { generation: u64, fetch: usize },
}

impl RelatedMemo {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; keep using it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The item's matches if the memo holds enough that are current.
    pub fn recall(
        &self,
        item_id: i64,
        version: i64,
        limit: usize,
        skip: &[i64],
        now: Timestamp,
    ) -> Recall {
        let inner = self.lock();
        let wanted = limit + skip.len();
        if let Some(entry) = inner.entries.get(&item_id)
            && entry.version == version
            && now.duration_since(entry.at) < MAX_AGE
            && (entry.complete || entry.ids.len() >= wanted)
        {
            return Recall::Known(
                entry
                    .ids
                    .iter()
                    .filter(|id| !skip.contains(id))
                    .take(limit)
                    .copied()
                    .collect(),
            );
        }
        Recall::Search {
            generation: inner.generation,
            fetch: wanted.max(KEPT),
        }
    }

    /// Keeps what a search found, unless something was forgotten since it began.
    pub fn remember(
        &self,
        generation: u64,
        item_id: i64,
        version: i64,
        now: Timestamp,
        ids: Vec<i64>,
        fetch: usize,
    ) {
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        if inner.entries.len() >= MAX_ENTRIES && !inner.entries.contains_key(&item_id) {
            inner.entries.clear();
        }
        let complete = ids.len() < fetch;
        inner.entries.insert(
            item_id,
            Entry {
                version,
                at: now,
                ids,
                complete,
            },
        );
    }

    /// Forgets the entries of `touched` items and every entry that names one of them: a
    /// changed item may match differently, a removed one must leave the lists.
    pub fn forget_touched(&self, touched: &[i64]) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.entries.retain(|id, entry| {
            !touched.contains(id) && !entry.ids.iter().any(|r| touched.contains(r))
        });
    }

    /// Forgets the entries of `items` (the items a new or changed item matched: it may now
    /// belong in their lists).
    pub fn forget(&self, items: &[i64]) {
        let mut inner = self.lock();
        inner.generation += 1;
        for id in items {
            inner.entries.remove(id);
        }
    }

    /// Forgets everything (a large batch of events, where following each is not worth it).
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.entries.clear();
    }

    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn searched(memo: &RelatedMemo, id: i64, version: i64, limit: usize, skip: &[i64]) -> u64 {
        match memo.recall(id, version, limit, skip, Timestamp::now()) {
            Recall::Search { generation, .. } => generation,
            Recall::Known(ids) => panic!("expected a search, memo had {ids:?}"),
        }
    }

    #[test]
    fn a_remembered_list_answers_until_the_item_or_a_match_changes() {
        let memo = RelatedMemo::default();
        let now = Timestamp::now();
        let generation = searched(&memo, 1, 3, 4, &[]);
        memo.remember(generation, 1, 3, now, vec![5, 6, 7, 8, 9], KEPT);
        assert_eq!(
            memo.recall(1, 3, 4, &[], now),
            Recall::Known(vec![5, 6, 7, 8])
        );
        assert_eq!(
            memo.recall(1, 3, 4, &[6], now),
            Recall::Known(vec![5, 7, 8, 9])
        );
        // Fewer matches than fetched: the list is all there is, whatever is asked.
        assert_eq!(
            memo.recall(1, 3, 4, &[5, 6, 7], now),
            Recall::Known(vec![8, 9])
        );
        // A newer version of the item searches again.
        searched(&memo, 1, 4, 4, &[]);
        // A match that changed takes the list with it.
        memo.forget_touched(&[7]);
        searched(&memo, 1, 3, 4, &[]);
    }

    #[test]
    fn a_full_fetch_is_not_taken_for_all_there_is() {
        let memo = RelatedMemo::default();
        let now = Timestamp::now();
        let generation = searched(&memo, 1, 1, 4, &[]);
        memo.remember(
            generation,
            1,
            1,
            now,
            (10..10 + KEPT as i64).collect(),
            KEPT,
        );
        assert!(matches!(memo.recall(1, 1, 4, &[], now), Recall::Known(_)));
        // Skipping more than the spare would leave fewer than asked for: search again.
        let skip: Vec<i64> = (10..19).collect();
        searched(&memo, 1, 1, 4, &skip);
    }

    #[test]
    fn a_search_older_than_a_forgetting_is_not_kept() {
        let memo = RelatedMemo::default();
        let now = Timestamp::now();
        let generation = searched(&memo, 1, 1, 4, &[]);
        memo.forget(&[2]);
        memo.remember(generation, 1, 1, now, vec![2, 3], KEPT);
        assert!(memo.is_empty());
    }

    #[test]
    fn entries_expire_with_age() {
        let memo = RelatedMemo::default();
        let then = Timestamp::now() - SignedDuration::from_hours(25);
        let generation = searched(&memo, 1, 1, 4, &[]);
        memo.remember(generation, 1, 1, then, vec![2], KEPT);
        searched(&memo, 1, 1, 4, &[]);
    }
}
