//! The in-memory page cache: rendered public pages (and the API's public answers, under
//! `/api/…` addresses) with their brotli and gzip bodies made once each, when first asked
//! for, strong ETags, and an index from surrogate key to pages so one event purges exactly
//! what it touched. It never holds an error page, and never stores a page rendered from
//! data older than an invalidation that happened while it rendered. It renders each address
//! once at a time however many readers ask (`get_or_render`). It is bounded by pages and by
//! bytes, and a full cache drops the least recently used page, never an arbitrary one.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::HeaderValue;
use sha2::{Digest, Sha256};

/// One rendered page, its compressed bodies made when first asked for. A miss compresses
/// only the encoding its reader accepts (`fill`), so a crawler that takes gzip never pays
/// for brotli; the other encoding is made, once, by the first reader who wants it, and the
/// cache's byte count follows (`PageCache::account`).
#[derive(Debug)]
pub struct CachedPage {
    pub identity: Bytes,
    gzip: OnceLock<Bytes>,
    brotli: OnceLock<Bytes>,
    effort: Effort,
    /// The quoted strong ETag of each representation (they differ, as RFC 9110 §8.8.3 asks).
    pub etag_identity: HeaderValue,
    pub etag_gzip: HeaderValue,
    pub etag_brotli: HeaderValue,
    pub content_type: HeaderValue,
    pub surrogate_keys: HeaderValue,
    pub keys: Vec<String>,
    /// `Last-Modified`, for documents whose content has a real change time (feeds and
    /// sitemaps); HTML pages mix many items and go by ETag alone. Kept with its header value,
    /// formatted once rather than on every answer.
    last_modified: Option<(jiff::Timestamp, HeaderValue)>,
    created: Instant,
    /// A shorter life than the cache's `max_age`, for a document that changes with time at a
    /// moment known when it is made (the API's breaking item leaves its window).
    fresh_for: Option<Duration>,
}

/// How hard a page's bodies are compressed. The setting is fixed per page, so a
/// representation's bytes, and thus its strong ETag, never depend on who asked first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effort {
    /// Rendered pages: made on a miss, so compression must cost a fraction of the render
    /// (see `PAGE_BROTLI_QUALITY`).
    Page,
    /// Theme assets: made once at start and served for a year, so worth the best ratio.
    Asset,
}

/// Brotli quality of rendered pages, chosen by measurement on a 600-word story page of
/// 19 KB (BENCHMARKS.md, "Cache miss"): quality 4 takes 0.26 ms for 5,107 bytes; 5 to 9
/// give 4,790 to 4,857 bytes (5 % less) but take 9 to 14 ms, because from quality 5 this
/// brotli allocates and clears hash tables of megabytes whatever the window.
const PAGE_BROTLI_QUALITY: i32 = 4;
/// gzip level of rendered pages, by the same measurement: level 6 gives the same 5,284
/// bytes as 9 in 0.18 ms instead of 0.24 ms; level 1 saves 0.1 ms for a quarter more bytes.
const PAGE_GZIP_LEVEL: u32 = 6;

/// Brotli's window: the page's size rounded up to a power of two. A window larger than the
/// input buys nothing, and brotli allocates and clears its hash tables by the window, which
/// at the maximum (4 MiB) cost more than compressing a page.
fn brotli_window(len: usize) -> i32 {
    let bits = len.max(1).next_power_of_two().trailing_zeros() as i32;
    bits.clamp(16, 22)
}

fn compress(identity: &[u8], encoding: Encoding, effort: Effort) -> Bytes {
    match encoding {
        Encoding::Gzip => {
            let level = match effort {
                Effort::Page => PAGE_GZIP_LEVEL,
                Effort::Asset => 9,
            };
            let mut enc =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
            // Writing into a Vec cannot fail.
            let _ = enc.write_all(identity);
            exact(enc.finish().unwrap_or_default())
        }
        Encoding::Brotli => {
            let mut out = Vec::new();
            let params = brotli::enc::BrotliEncoderParams {
                quality: match effort {
                    Effort::Page => PAGE_BROTLI_QUALITY,
                    Effort::Asset => 9,
                },
                lgwin: brotli_window(identity.len()),
                ..Default::default()
            };
            let _ = brotli::BrotliCompress(&mut &identity[..], &mut out, &params);
            exact(out)
        }
        Encoding::Identity => Bytes::copy_from_slice(identity),
    }
}

/// Bytes that hold no more memory than their length. A rendered page or a compressed body
/// grows by doubling, and `Bytes::from(Vec)` keeps the whole allocation: cached pages took up
/// to twice what the cache counted against `cache.max_bytes`.
fn exact(bytes: Vec<u8>) -> Bytes {
    Bytes::from(bytes.into_boxed_slice())
}

/// A short, stable fingerprint of some bytes: the opaque part of a strong ETag, and the
/// hash in an asset's file name. 96 bits of SHA-256 make a collision beyond reach.
pub fn content_tag(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Pages up to this size are compressed on the async worker that made them: at the pages'
/// settings that takes about a quarter of a millisecond for a 20 KB story, less than the
/// render, and saves two thread hand-offs per miss. Bigger documents (sitemaps, long feeds,
/// a full page of the API's stream) go to the blocking pool so they never stall other
/// requests.
const COMPRESS_INLINE_MAX: usize = 64 * 1024;

/// Makes `page`'s body in `encoding` (see `CachedPage::fill`), on this worker or on the
/// blocking pool by its size.
pub async fn fill_body<P>(page: P, encoding: Encoding) -> Result<P, tokio::task::JoinError>
where
    P: std::borrow::Borrow<CachedPage> + Send + 'static,
{
    if page.borrow().identity.len() <= COMPRESS_INLINE_MAX {
        page.borrow().fill(encoding);
        return Ok(page);
    }
    tokio::task::spawn_blocking(move || {
        page.borrow().fill(encoding);
        page
    })
    .await
}

/// Which body a client gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

impl CachedPage {
    /// A rendered page, no body compressed yet: `fill` the encoding the reader asked for.
    pub fn build(body: impl Into<Vec<u8>>, content_type: HeaderValue, keys: Vec<String>) -> Self {
        Self::new(exact(body.into()), content_type, keys, Effort::Page)
    }

    /// A theme asset with both compressed bodies made now, at the best settings.
    pub fn precompressed(
        body: impl Into<Bytes>,
        content_type: HeaderValue,
        keys: Vec<String>,
    ) -> Self {
        let page = Self::new(body.into(), content_type, keys, Effort::Asset);
        page.fill(Encoding::Gzip);
        page.fill(Encoding::Brotli);
        page
    }

    fn new(identity: Bytes, content_type: HeaderValue, keys: Vec<String>, effort: Effort) -> Self {
        let tag = content_tag(&identity);
        let header = |s: String| HeaderValue::from_str(&s).unwrap_or(HeaderValue::from_static(""));
        CachedPage {
            etag_identity: header(format!("\"{tag}\"")),
            etag_gzip: header(format!("\"{tag}-gz\"")),
            etag_brotli: header(format!("\"{tag}-br\"")),
            content_type,
            surrogate_keys: header(keys.join(" ")),
            identity,
            gzip: OnceLock::new(),
            brotli: OnceLock::new(),
            effort,
            keys,
            last_modified: None,
            created: Instant::now(),
            fresh_for: None,
        }
    }

    pub fn with_last_modified(mut self, at: Option<jiff::Timestamp>) -> Self {
        self.last_modified = at.and_then(|at| {
            let header = HeaderValue::try_from(crate::http::http_date(at)).ok()?;
            Some((at, header))
        });
        self
    }

    /// `Last-Modified`, as a time and as the header value.
    pub fn last_modified(&self) -> Option<(jiff::Timestamp, &HeaderValue)> {
        self.last_modified
            .as_ref()
            .map(|(at, header)| (*at, header))
    }

    /// Keeps the page at most `life` (and never beyond the cache's own `max_age`).
    pub fn fresh_for(mut self, life: Duration) -> Self {
        self.fresh_for = Some(life);
        self
    }

    /// Whether the page has outlived `max_age` or its own shorter life.
    fn expired(&self, max_age: Duration) -> bool {
        let life = self.fresh_for.map_or(max_age, |own| own.min(max_age));
        self.created.elapsed() >= life
    }

    fn slot(&self, encoding: Encoding) -> Option<&OnceLock<Bytes>> {
        match encoding {
            Encoding::Brotli => Some(&self.brotli),
            Encoding::Gzip => Some(&self.gzip),
            Encoding::Identity => None,
        }
    }

    /// The body in `encoding` if it has been made.
    pub fn compressed(&self, encoding: Encoding) -> Option<&Bytes> {
        match self.slot(encoding) {
            Some(slot) => slot.get(),
            None => Some(&self.identity),
        }
    }

    /// The body in `encoding`, compressing it now if nobody has yet (CPU work: call it off
    /// the async workers for a page of any size). Concurrent callers compress it once.
    pub fn fill(&self, encoding: Encoding) -> &Bytes {
        match self.slot(encoding) {
            Some(slot) => slot.get_or_init(|| compress(&self.identity, encoding, self.effort)),
            None => &self.identity,
        }
    }

    /// The body and ETag for `encoding`, made now if they were not yet.
    pub fn body(&self, encoding: Encoding) -> (&Bytes, &HeaderValue) {
        let etag = match encoding {
            Encoding::Brotli => &self.etag_brotli,
            Encoding::Gzip => &self.etag_gzip,
            Encoding::Identity => &self.etag_identity,
        };
        (self.fill(encoding), etag)
    }
}

/// Which queue a page waits in. New pages start on probation; a page read again while there
/// is promoted, and only pages on probation make room for new ones while any are left. A
/// crawler reading each of thousands of addresses once therefore churns probation and never
/// reaches the front page that readers keep asking for (segmented LRU).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segment {
    Probation,
    Protected,
}

struct Entry {
    page: Arc<CachedPage>,
    /// What the page costs in memory: its bodies made so far, its address and its keys.
    size: usize,
    segment: Segment,
    /// The clock reading it is queued under in its segment.
    queued_at: u64,
    /// The clock reading of its last read. Reads hold only the read lock, so they record
    /// recency here and the queue catches up lazily when it next reaches the page.
    last_read: AtomicU64,
    /// Reads since it entered its segment.
    reads: AtomicU64,
}

/// The most of the cache (by entries and by bytes) protected pages may take, in percent:
/// the rest stays for new pages to prove themselves.
const PROTECTED_SHARE: usize = 80;

#[derive(Default)]
struct Pages {
    by_address: HashMap<String, Entry>,
    by_key: HashMap<String, HashSet<String>>,
    /// Each segment's pages, least recently used first, by clock reading.
    probation: BTreeMap<u64, String>,
    protected: BTreeMap<u64, String>,
    bytes: usize,
    protected_len: usize,
    protected_bytes: usize,
    /// The latest purges, oldest first: the generation each one made and the keys it named
    /// (`None`: everything). A render that started before some of them is kept unless one
    /// named a key of its page, so a comment on one story no longer throws away the home
    /// page rendered meanwhile (and makes the readers waiting for it render it again).
    purges: std::collections::VecDeque<(u64, Option<Vec<String>>)>,
}

/// Purges remembered for `Pages::purges`. A render older than all of them is not kept: at
/// a comment a second this is minutes, and a render takes milliseconds.
const PURGES_KEPT: usize = 256;

impl Pages {
    fn record_purge(&mut self, generation: u64, keys: Option<Vec<String>>) {
        if self.purges.len() == PURGES_KEPT {
            self.purges.pop_front();
        }
        self.purges.push_back((generation, keys));
    }

    /// Whether a page with `keys`, rendered from data read at generation `rendered_at`,
    /// may be stored: no purge since then named any of its keys.
    fn untouched_since(&self, rendered_at: u64, current: u64, keys: &[String]) -> bool {
        if rendered_at == current {
            return true;
        }
        // Every purge after `rendered_at` must still be remembered to be judged.
        let Some((oldest, _)) = self.purges.front() else {
            return false;
        };
        if *oldest > rendered_at + 1 {
            return false;
        }
        self.purges
            .iter()
            .filter(|(generation, _)| *generation > rendered_at)
            .all(|(_, purged)| {
                purged
                    .as_ref()
                    .is_some_and(|purged| !purged.iter().any(|k| keys.contains(k)))
            })
    }

    fn queue(&mut self, segment: Segment) -> &mut BTreeMap<u64, String> {
        match segment {
            Segment::Probation => &mut self.probation,
            Segment::Protected => &mut self.protected,
        }
    }

    fn remove(&mut self, address: &str) {
        let Some(entry) = self.by_address.remove(address) else {
            return;
        };
        self.queue(entry.segment).remove(&entry.queued_at);
        self.bytes -= entry.size;
        if entry.segment == Segment::Protected {
            self.protected_len -= 1;
            self.protected_bytes -= entry.size;
        }
        for key in &entry.page.keys {
            if let Some(set) = self.by_key.get_mut(key) {
                set.remove(address);
                if set.is_empty() {
                    self.by_key.remove(key);
                }
            }
        }
    }

    /// Queues `address` in `segment` under clock reading `at` (or, should another page be
    /// queued under it, a new one).
    fn enqueue(&mut self, address: String, segment: Segment, at: u64, clock: &AtomicU64) {
        let at = if self.queue(segment).contains_key(&at) {
            tick(clock)
        } else {
            at
        };
        let Some(entry) = self.by_address.get_mut(&address) else {
            return;
        };
        let size = entry.size;
        let was = entry.segment;
        entry.segment = segment;
        entry.queued_at = at;
        entry.reads.store(0, Ordering::Relaxed);
        match (was, segment) {
            (Segment::Probation, Segment::Protected) => {
                self.protected_len += 1;
                self.protected_bytes += size;
            }
            (Segment::Protected, Segment::Probation) => {
                self.protected_len -= 1;
                self.protected_bytes -= size;
            }
            _ => {}
        }
        self.queue(segment).insert(at, address);
    }

    /// Takes the least recently used page of `segment` off its queue, first moving pages
    /// read since they were queued to their true place. The page stays in the cache.
    fn least_recent(&mut self, segment: Segment, clock: &AtomicU64) -> Option<String> {
        loop {
            let (at, address) = self.queue(segment).pop_first()?;
            let Some(entry) = self.by_address.get(&address) else {
                continue;
            };
            let last_read = entry.last_read.load(Ordering::Relaxed);
            if segment == Segment::Protected && last_read > at {
                self.enqueue(address, segment, last_read, clock);
                continue;
            }
            // Off the queue for now; the caller queues it again or removes it.
            if let Some(entry) = self.by_address.get_mut(&address) {
                entry.queued_at = u64::MAX;
            }
            return Some(address);
        }
    }

    /// Makes room for one page by dropping the least recently used page on probation (after
    /// promoting those read while there), or of the protected pages when probation is empty.
    /// Pages past their age go first in either. False when the cache is empty.
    fn evict_one(&mut self, limits: &Limits, clock: &AtomicU64, max_age: Duration) -> bool {
        while let Some(address) = self.least_recent(Segment::Probation, clock) {
            let Some(entry) = self.by_address.get(&address) else {
                continue;
            };
            let read_again = entry.reads.load(Ordering::Relaxed) > 0;
            if read_again && !entry.page.expired(max_age) {
                let last_read = entry.last_read.load(Ordering::Relaxed);
                self.enqueue(address, Segment::Protected, last_read, clock);
                self.demote_over_share(limits, clock);
                continue;
            }
            self.remove(&address);
            return true;
        }
        match self.least_recent(Segment::Protected, clock) {
            Some(address) => {
                self.remove(&address);
                true
            }
            None => false,
        }
    }

    /// Keeps protected pages within their share; the least recently read go back on
    /// probation as its newest, with one more chance to be read.
    fn demote_over_share(&mut self, limits: &Limits, clock: &AtomicU64) {
        while self.protected_len > limits.protected_entries()
            || self.protected_bytes > limits.protected_bytes()
        {
            let Some(address) = self.least_recent(Segment::Protected, clock) else {
                return;
            };
            self.enqueue(address, Segment::Probation, tick(clock), clock);
        }
    }
}

struct Limits {
    max_entries: usize,
    max_bytes: usize,
}

impl Limits {
    fn protected_entries(&self) -> usize {
        self.max_entries * PROTECTED_SHARE / 100
    }

    fn protected_bytes(&self) -> usize {
        self.max_bytes / 100 * PROTECTED_SHARE
    }
}

/// The next reading of a cache's clock: every reading is taken once.
fn tick(clock: &AtomicU64) -> u64 {
    clock.fetch_add(1, Ordering::Relaxed) + 1
}

/// What a page costs in memory, counted the same way on the way in and out.
/// Compressed bodies count once made; `PageCache::account` catches up when one is.
fn footprint(address: &str, page: &CachedPage) -> usize {
    page.identity.len()
        + page.gzip.get().map_or(0, Bytes::len)
        + page.brotli.get().map_or(0, Bytes::len)
        + address.len() * 2
        + page.keys.iter().map(|k| k.len() * 2).sum::<usize>()
        + std::mem::size_of::<Entry>()
}

pub struct PageCache {
    pages: RwLock<Pages>,
    /// Grows on every invalidation; a render that started before one may not be stored.
    generation: AtomicU64,
    /// Orders reads and insertions for recency; never goes back.
    clock: AtomicU64,
    limits: Limits,
    /// Pages also expire on their own, so time-driven content (a breaking banner's window)
    /// changes without an event.
    max_age: Duration,
    /// One render per address at a time (`get_or_render`).
    render_locks: RenderLocks,
    pub hits: AtomicU64,
    pub misses: AtomicU64,
}

impl PageCache {
    /// A cache of at most `max_entries` pages and `max_bytes` bytes of them.
    pub fn new(max_entries: usize, max_bytes: usize, max_age: Duration) -> Self {
        PageCache {
            pages: RwLock::new(Pages::default()),
            generation: AtomicU64::new(0),
            clock: AtomicU64::new(0),
            limits: Limits {
                max_entries,
                max_bytes,
            },
            max_age,
            render_locks: RenderLocks::default(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn get(&self, address: &str) -> Option<Arc<CachedPage>> {
        let found = self.pages.read().ok().and_then(|p| {
            let entry = p.by_address.get(address)?;
            if entry.page.expired(self.max_age) {
                return None;
            }
            entry.last_read.store(tick(&self.clock), Ordering::Relaxed);
            entry.reads.fetch_add(1, Ordering::Relaxed);
            Some(entry.page.clone())
        });
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// The page at `address`, made by `render` on a miss and kept (see `insert`). One render
    /// per address at a time: during a spike, the readers who arrive while a page is being
    /// rendered wait for it instead of rendering it again. What `render` answers instead of
    /// a page (a redirect, an error) is handed back and never kept.
    pub async fn get_or_render<E, Fut>(
        &self,
        address: &str,
        render: impl FnOnce() -> Fut,
    ) -> Result<Arc<CachedPage>, E>
    where
        Fut: Future<Output = Result<CachedPage, E>>,
    {
        if let Some(cached) = self.get(address) {
            return Ok(cached);
        }
        let mut turn = self.render_locks.turn(address);
        turn.wait().await;
        if let Some(cached) = self.get(address) {
            return Ok(cached);
        }
        // Read before the render: a purge while it renders makes the page unfit to keep.
        let generation = self.generation();
        let page = Arc::new(render().await?);
        self.insert(address.to_owned(), page.clone(), generation);
        Ok(page)
    }

    /// Stores a page rendered after reading generation `rendered_at`; a page that raced an
    /// invalidation is dropped so stale content can never stick. A full cache makes room by
    /// recency (see `Segment`), never by chance.
    pub fn insert(&self, address: String, page: Arc<CachedPage>, rendered_at: u64) {
        if self.limits.max_entries == 0 {
            return;
        }
        let Ok(mut pages) = self.pages.write() else {
            return;
        };
        let current = self.generation.load(Ordering::Acquire);
        if !pages.untouched_since(rendered_at, current, &page.keys) {
            return;
        }
        // Measured under the lock, like `account`: a body filled in meanwhile is either
        // counted here or by its `account` call, which finds the entry, never by neither.
        let size = footprint(&address, &page);
        if size > self.limits.max_bytes {
            return;
        }
        pages.remove(&address);
        while pages.by_address.len() >= self.limits.max_entries
            || pages.bytes + size > self.limits.max_bytes
        {
            if !pages.evict_one(&self.limits, &self.clock, self.max_age) {
                break;
            }
        }
        let now = tick(&self.clock);
        for key in &page.keys {
            pages
                .by_key
                .entry(key.clone())
                .or_default()
                .insert(address.clone());
        }
        pages.bytes += size;
        pages.by_address.insert(
            address.clone(),
            Entry {
                page,
                size,
                segment: Segment::Probation,
                queued_at: now,
                last_read: AtomicU64::new(now),
                reads: AtomicU64::new(0),
            },
        );
        pages.probation.insert(now, address);
    }

    /// Brings the byte count up to date after a body of `page` was filled (see
    /// `CachedPage::fill`), if `page` is still the one cached at `address`, and makes room
    /// if the cache is now over its bytes. Calling it again changes nothing.
    pub fn account(&self, address: &str, page: &Arc<CachedPage>) {
        let Ok(mut pages) = self.pages.write() else {
            return;
        };
        let pages = &mut *pages;
        let Some(entry) = pages.by_address.get_mut(address) else {
            return;
        };
        if !Arc::ptr_eq(&entry.page, page) {
            return;
        }
        let size = footprint(address, page);
        let was = std::mem::replace(&mut entry.size, size);
        pages.bytes = pages.bytes - was + size;
        if entry.segment == Segment::Protected {
            pages.protected_bytes = pages.protected_bytes - was + size;
        }
        while pages.bytes > self.limits.max_bytes {
            if !pages.evict_one(&self.limits, &self.clock, self.max_age) {
                break;
            }
        }
        pages.demote_over_share(&self.limits, &self.clock);
    }

    /// Removes every page carrying any of `keys`; returns how many.
    pub fn invalidate<'a>(&self, keys: impl IntoIterator<Item = &'a String>) -> usize {
        let Ok(mut pages) = self.pages.write() else {
            return 0;
        };
        let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
        let keys: Vec<String> = keys.into_iter().cloned().collect();
        let mut addresses = Vec::new();
        for key in &keys {
            if let Some(set) = pages.by_key.get(key) {
                addresses.extend(set.iter().cloned());
            }
        }
        pages.record_purge(generation, Some(keys));
        let count = addresses.len();
        for address in addresses {
            pages.remove(&address);
        }
        count
    }

    pub fn clear(&self) {
        if let Ok(mut pages) = self.pages.write() {
            let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
            *pages = Pages::default();
            pages.record_purge(generation, None);
        }
    }

    pub fn len(&self) -> usize {
        self.pages.read().map(|p| p.by_address.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `page` (kept at `address`) with its body in `encoding` made: the first reader of a
    /// cached page in an encoding makes it, and the cache counts the new bytes.
    pub async fn with_body(
        &self,
        address: &str,
        page: Arc<CachedPage>,
        encoding: Encoding,
    ) -> Result<Arc<CachedPage>, tokio::task::JoinError> {
        if page.compressed(encoding).is_some() {
            return Ok(page);
        }
        let page = fill_body(page, encoding).await?;
        self.account(address, &page);
        Ok(page)
    }

    /// Entries whose address starts with `prefix` (the API's share of the cache, for the
    /// metrics). It walks every address, so it is for a scrape, not for a request.
    pub fn len_under(&self, prefix: &str) -> usize {
        self.pages
            .read()
            .map(|p| {
                p.by_address
                    .keys()
                    .filter(|a| a.starts_with(prefix))
                    .count()
            })
            .unwrap_or(0)
    }

    /// Bytes the cached pages take, as counted against `cache.max_bytes`.
    pub fn bytes(&self) -> usize {
        self.pages.read().map(|p| p.bytes).unwrap_or(0)
    }
}

/// Per-address render locks (see `PageCache::get_or_render`). An entry lives exactly as long as someone holds or
/// waits for its lock: release happens when the last `RenderTurn` drops, so a render whose
/// client hung up (its future dropped mid-render or mid-wait) cannot leave an entry behind.
#[derive(Default)]
struct RenderLocks(std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

impl RenderLocks {
    /// Joins the queue for `address`; the turn is ours after `RenderTurn::wait`.
    fn turn(&self, address: &str) -> RenderTurn<'_> {
        let lock = match self.0.lock() {
            Ok(mut map) => map.entry(address.to_owned()).or_default().clone(),
            Err(_) => Arc::default(),
        };
        RenderTurn {
            locks: self,
            address: address.to_owned(),
            lock: Some(lock),
            held: None,
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.lock().map(|map| map.len()).unwrap_or(0)
    }
}

/// One request's place in an address's render queue; dropping it (at the end of the render
/// or when the request is abandoned) gives the lock up and removes the entry if nobody else
/// holds or waits for it.
struct RenderTurn<'a> {
    locks: &'a RenderLocks,
    address: String,
    lock: Option<Arc<tokio::sync::Mutex<()>>>,
    held: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl RenderTurn<'_> {
    /// Waits until every render of this address that started earlier has finished.
    async fn wait(&mut self) {
        if let Some(lock) = &self.lock {
            self.held = Some(lock.clone().lock_owned().await);
        }
    }
}

impl Drop for RenderTurn<'_> {
    fn drop(&mut self) {
        // Under the map's lock, so nobody can take a new clone between the count and the
        // removal.
        let Ok(mut map) = self.locks.0.lock() else {
            return;
        };
        self.held = None;
        self.lock = None;
        if map
            .get(&self.address)
            .is_some_and(|lock| Arc::strong_count(lock) == 1)
        {
            map.remove(&self.address);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    fn page(body: &str, keys: &[&str]) -> Arc<CachedPage> {
        Arc::new(CachedPage::build(
            body.to_owned(),
            HeaderValue::from_static("text/html; charset=utf-8"),
            keys.iter().map(|k| (*k).to_owned()).collect(),
        ))
    }

    #[test]
    fn bodies_hold_no_more_memory_than_their_length() {
        // A render grows by doubling: this one has room for twice its length.
        let mut rendered = Vec::with_capacity(40_000);
        rendered.extend((0..20_000u32).map(|i| b"<p>news</p>"[i as usize % 11]));
        for encoding in [Encoding::Gzip, Encoding::Brotli] {
            // Taking sole bytes back as a Vec gives their whole allocation.
            let body: Vec<u8> = compress(&rendered, encoding, Effort::Page).into();
            assert_eq!(body.capacity(), body.len(), "{encoding:?}");
        }
        let page = CachedPage::build(rendered, HeaderValue::from_static("text/html"), Vec::new());
        let identity: Vec<u8> = page.identity.into();
        assert_eq!(identity.capacity(), 20_000);
    }

    #[test]
    fn an_event_purges_exactly_the_pages_with_its_keys() {
        let cache = PageCache::new(10, usize::MAX, Duration::from_secs(60));
        let g = cache.generation();
        cache.insert("/".into(), page("home", &["home:en", "stream:en"]), g);
        cache.insert("/world/a".into(), page("a", &["item:1", "stream:en"]), g);
        cache.insert("/sport".into(), page("sport", &["section:en:sport"]), g);
        assert_eq!(cache.invalidate(&["item:1".to_owned()]), 1);
        assert!(cache.get("/world/a").is_none());
        assert!(cache.get("/").is_some());
        assert_eq!(cache.invalidate(&["stream:en".to_owned()]), 1);
        assert!(cache.get("/sport").is_some());
    }

    #[test]
    fn a_render_that_raced_an_invalidation_is_not_stored() {
        let cache = PageCache::new(10, usize::MAX, Duration::from_secs(60));
        let before = cache.generation();
        cache.invalidate(&["item:1".to_owned()]);
        cache.insert("/world/a".into(), page("old", &["item:1"]), before);
        assert!(cache.get("/world/a").is_none());
    }

    #[test]
    fn a_render_is_dropped_only_by_a_purge_of_its_own_keys() {
        let cache = PageCache::new(10, usize::MAX, Duration::from_secs(60));
        let before = cache.generation();
        // A comment on another story while the home page rendered: the home page is kept.
        cache.invalidate(&["item:2".to_owned()]);
        cache.insert("/".into(), page("home", &["home:en", "stream:en"]), before);
        assert!(cache.get("/").is_some());
        // A publish named the home page's key meanwhile: not kept.
        cache.invalidate(&["item:3".to_owned()]);
        cache.invalidate(&["stream:en".to_owned()]);
        cache.insert("/latest".into(), page("latest", &["stream:en"]), before);
        assert!(cache.get("/latest").is_none());
        // A clear names every key.
        let before = cache.generation();
        cache.clear();
        cache.insert(
            "/sport".into(),
            page("sport", &["section:en:sport"]),
            before,
        );
        assert!(cache.get("/sport").is_none());
        // Older than every remembered purge: not judged, not kept.
        let before = cache.generation();
        for n in 0..=PURGES_KEPT {
            cache.invalidate(&[format!("item:{}", 100 + n)]);
        }
        cache.insert(
            "/world".into(),
            page("world", &["section:en:world"]),
            before,
        );
        assert!(cache.get("/world").is_none());
        let recent = cache.generation();
        cache.invalidate(&["item:1".to_owned()]);
        cache.insert(
            "/world".into(),
            page("world", &["section:en:world"]),
            recent,
        );
        assert!(cache.get("/world").is_some());
    }

    #[test]
    fn a_page_with_a_shorter_life_expires_before_the_cache_age() {
        let cache = PageCache::new(10, usize::MAX, Duration::from_secs(60));
        let g = cache.generation();
        let gone = CachedPage::build(
            "breaking",
            HeaderValue::from_static("application/json"),
            vec!["stream:en".to_owned()],
        )
        .fresh_for(Duration::ZERO);
        cache.insert("/api/v1/breaking?lang=en".into(), Arc::new(gone), g);
        cache.insert("/".into(), page("home", &["stream:en"]), g);
        assert!(cache.get("/api/v1/breaking?lang=en").is_none());
        assert!(cache.get("/").is_some());
        assert_eq!(cache.len_under("/api/"), 1);
    }

    #[test]
    fn the_bound_on_entries_holds() {
        let cache = PageCache::new(2, usize::MAX, Duration::from_secs(60));
        for n in 0..5 {
            cache.insert(format!("/p{n}"), page("x", &["k"]), cache.generation());
        }
        assert_eq!(cache.len(), 2);
    }

    fn fill(cache: &PageCache, addresses: &[&str]) {
        for address in addresses {
            cache.insert(
                (*address).into(),
                page(address, &["stream:en"]),
                cache.generation(),
            );
        }
    }

    fn cached(cache: &PageCache, addresses: &[&str]) -> Vec<bool> {
        let pages = cache.pages.read().expect("lock");
        addresses
            .iter()
            .map(|a| pages.by_address.contains_key(*a))
            .collect()
    }

    /// Every page is queued exactly once and the counts agree with the pages.
    fn assert_consistent(cache: &PageCache) {
        let pages = cache.pages.read().expect("lock");
        assert_eq!(
            pages.probation.len() + pages.protected.len(),
            pages.by_address.len()
        );
        for (at, address) in pages.probation.iter().chain(pages.protected.iter()) {
            assert_eq!(pages.by_address[address].queued_at, *at, "{address}");
        }
        let protected: Vec<&Entry> = pages
            .by_address
            .values()
            .filter(|e| e.segment == Segment::Protected)
            .collect();
        assert_eq!(protected.len(), pages.protected_len);
        assert_eq!(
            protected.iter().map(|e| e.size).sum::<usize>(),
            pages.protected_bytes
        );
        assert_eq!(
            pages.by_address.values().map(|e| e.size).sum::<usize>(),
            pages.bytes
        );
    }

    #[test]
    fn a_full_cache_drops_the_least_recently_stored_page_nobody_read() {
        let cache = PageCache::new(3, usize::MAX, Duration::from_secs(60));
        fill(&cache, &["/a", "/b", "/c"]);
        fill(&cache, &["/d"]);
        assert_eq!(
            cached(&cache, &["/a", "/b", "/c", "/d"]),
            [false, true, true, true]
        );
        fill(&cache, &["/e"]);
        assert_eq!(
            cached(&cache, &["/b", "/c", "/d", "/e"]),
            [false, true, true, true]
        );
        assert_consistent(&cache);
    }

    #[test]
    fn a_page_read_again_outlives_a_crawl_of_pages_read_once() {
        let cache = PageCache::new(5, usize::MAX, Duration::from_secs(60));
        fill(&cache, &["/"]);
        assert!(cache.get("/").is_some());
        assert!(cache.get("/").is_some());
        for n in 0..1_000 {
            let address = format!("/sitemap-items-{n}.xml");
            fill(&cache, &[address.as_str()]);
        }
        assert!(cache.get("/").is_some(), "the front page was pushed out");
        assert_eq!(cache.len(), 5);
        // The crawl's newest pages are the ones kept beside it.
        assert_eq!(
            cached(
                &cache,
                &["/sitemap-items-999.xml", "/sitemap-items-995.xml"]
            ),
            [true, false]
        );
        assert_consistent(&cache);
    }

    #[test]
    fn among_pages_read_again_the_least_recently_read_goes_first() {
        // Five pages, all read again, the first stored read last: protected pages may take
        // four places, so the one read longest ago goes back on probation and out.
        let cache = PageCache::new(5, usize::MAX, Duration::from_secs(60));
        fill(&cache, &["/a", "/b", "/c", "/d", "/e"]);
        for address in ["/e", "/d", "/c", "/b", "/a"] {
            assert!(cache.get(address).is_some());
        }
        fill(&cache, &["/f"]);
        assert_eq!(
            cached(&cache, &["/a", "/b", "/c", "/d", "/e", "/f"]),
            [true, true, true, true, false, true]
        );
        // /d was promoted first but is now the most recently read, so when /f earns its
        // place, /c (read longest ago) is the one that goes.
        assert!(cache.get("/d").is_some());
        assert!(cache.get("/f").is_some());
        fill(&cache, &["/g"]);
        assert_eq!(
            cached(&cache, &["/a", "/b", "/c", "/d", "/f", "/g"]),
            [true, true, false, true, true, true]
        );
        assert_consistent(&cache);
        assert_eq!(cache.len(), 5);
    }

    #[test]
    fn the_bound_on_bytes_holds_and_a_page_over_it_is_not_kept() {
        let one = footprint("/p00", &page("/p00", &["stream:en"]));
        let cache = PageCache::new(1_000, one * 3, Duration::from_secs(60));
        for n in 0..20 {
            let address = format!("/p{n:02}");
            fill(&cache, &[address.as_str()]);
            assert!(cache.bytes() <= one * 3, "{} > {}", cache.bytes(), one * 3);
        }
        assert_eq!(cache.len(), 3);
        assert_eq!(
            cached(&cache, &["/p16", "/p17", "/p18", "/p19"]),
            [false, true, true, true]
        );
        // A page bigger than the whole cache is served but never stored, and evicts nothing.
        let huge = page(&"x".repeat(one * 4), &["stream:en"]);
        cache.insert("/huge".into(), huge, cache.generation());
        assert!(cache.get("/huge").is_none());
        assert_eq!(cache.len(), 3);
        assert_consistent(&cache);
    }

    #[test]
    fn a_big_page_pushes_out_as_many_small_ones_as_it_needs() {
        let small = footprint("/p0", &page("/p0", &["stream:en"]));
        let cache = PageCache::new(1_000, small * 10, Duration::from_secs(60));
        for n in 0..10 {
            let address = format!("/p{n}");
            fill(&cache, &[address.as_str()]);
        }
        assert_eq!(cache.len(), 10);
        // Brotli and gzip squeeze repeated text, so build a page that stays big in all three.
        let noise: String = (0..small * 2)
            .map(|n| char::from(b'a' + ((n * 7919 + n / 3) % 26) as u8))
            .collect();
        let big = page(&noise, &["stream:en"]);
        let big_size = footprint("/big", &big);
        cache.insert("/big".into(), big, cache.generation());
        assert!(cache.get("/big").is_some());
        assert!(cache.bytes() <= small * 10);
        let kept: Vec<bool> = (0..10)
            .map(|n| cache.get(&format!("/p{n}")).is_some())
            .collect();
        let gone = kept.iter().filter(|k| !**k).count();
        assert!(
            gone >= big_size / small,
            "{gone} pages made room for {big_size} bytes"
        );
        assert!(
            kept[..gone].iter().all(|k| !k) && kept[gone..].iter().all(|k| *k),
            "the oldest pages make room: {kept:?}"
        );
        assert_consistent(&cache);
    }

    #[test]
    fn the_queues_stay_consistent_under_mixed_traffic() {
        let cache = PageCache::new(20, usize::MAX, Duration::from_secs(60));
        let mut seed = 7u64;
        for _ in 0..5_000 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let address = format!("/p{}", (seed >> 33) % 60);
            match (seed >> 20) % 4 {
                0 | 1 => {
                    cache.get(&address);
                }
                2 => {
                    let key = format!("item:{}", (seed >> 40) % 5);
                    cache.insert(address, page("x", &[key.as_str()]), cache.generation());
                }
                _ => {
                    cache.invalidate(&[format!("item:{}", (seed >> 40) % 5)]);
                }
            }
        }
        assert!(cache.len() <= 20);
        assert_consistent(&cache);
    }

    #[test]
    fn compressed_bodies_decode_to_the_page() {
        use std::io::Read;
        let p = page(&"A harbour city at dawn. ".repeat(200), &[]);
        let mut out = String::new();
        flate2::read::GzDecoder::new(&p.body(Encoding::Gzip).0[..])
            .read_to_string(&mut out)
            .expect("gzip");
        assert_eq!(out.as_bytes(), &p.identity[..]);
        let mut out = Vec::new();
        brotli::BrotliDecompress(&mut &p.body(Encoding::Brotli).0[..], &mut out).expect("brotli");
        assert_eq!(out, &p.identity[..]);
        assert!(p.brotli.get().expect("made").len() < p.identity.len() / 10);
        assert_ne!(p.etag_gzip, p.etag_brotli);
    }

    #[test]
    fn the_window_follows_the_page_size() {
        assert_eq!(brotli_window(0), 16);
        assert_eq!(brotli_window(30_000), 16);
        assert_eq!(brotli_window(65_537), 17);
        assert_eq!(brotli_window(300_000), 19);
        assert_eq!(brotli_window(50 << 20), 22);
    }

    #[test]
    fn a_body_is_compressed_only_when_first_asked_for_and_once() {
        let p = page(&"A harbour city at dawn. ".repeat(200), &[]);
        assert!(p.compressed(Encoding::Gzip).is_none());
        assert!(p.compressed(Encoding::Brotli).is_none());
        assert_eq!(p.compressed(Encoding::Identity), Some(&p.identity));
        let gzip = p.fill(Encoding::Gzip).clone();
        assert!(
            p.compressed(Encoding::Brotli).is_none(),
            "brotli made unasked"
        );
        // Made once: the same bytes (the same allocation) every time after.
        assert_eq!(p.fill(Encoding::Gzip).as_ptr(), gzip.as_ptr());
        assert_eq!(p.body(Encoding::Gzip).0.as_ptr(), gzip.as_ptr());
        // An asset has both at once.
        let asset = CachedPage::precompressed(
            "body { color: black }".repeat(50),
            HeaderValue::from_static("text/css"),
            vec![],
        );
        assert!(asset.compressed(Encoding::Gzip).is_some());
        assert!(asset.compressed(Encoding::Brotli).is_some());
    }

    #[test]
    fn a_body_filled_in_the_cache_is_counted_once() {
        let cache = PageCache::new(10, usize::MAX, Duration::from_secs(60));
        let p = page(&"A harbour city at dawn. ".repeat(200), &["item:1"]);
        cache.insert("/world/a".into(), p.clone(), cache.generation());
        let before = cache.bytes();
        assert_eq!(before, footprint("/world/a", &p));
        let brotli = p.fill(Encoding::Brotli).len();
        cache.account("/world/a", &p);
        assert_eq!(cache.bytes(), before + brotli);
        // Accounting again, or for a page no longer (or never) cached, changes nothing.
        cache.account("/world/a", &p);
        assert_eq!(cache.bytes(), before + brotli);
        let stranger = page("other", &["item:1"]);
        stranger.fill(Encoding::Gzip);
        cache.account("/world/a", &stranger);
        cache.account("/world/b", &stranger);
        assert_eq!(cache.bytes(), before + brotli);
        assert_consistent(&cache);
        // The count is what the removal takes off.
        cache.invalidate(&["item:1".to_owned()]);
        assert_eq!(cache.bytes(), 0);
        assert_consistent(&cache);
    }

    #[test]
    fn a_body_filled_before_the_insert_is_counted_by_the_insert() {
        let cache = PageCache::new(10, usize::MAX, Duration::from_secs(60));
        let p = page(&"A harbour city at dawn. ".repeat(200), &["item:1"]);
        let g = cache.generation();
        p.fill(Encoding::Gzip);
        // Its `account` ran before the page was cached, so found nothing to correct.
        cache.account("/world/a", &p);
        cache.insert("/world/a".into(), p.clone(), g);
        assert_eq!(cache.bytes(), footprint("/world/a", &p));
        assert!(p.compressed(Encoding::Gzip).is_some());
        assert_consistent(&cache);
    }

    #[test]
    fn a_page_grown_past_the_bound_on_bytes_makes_room() {
        // Letters drawn at random, so gzip cannot shrink them much below 5 bits each.
        let text = |n: u64| -> String {
            let mut seed = n + 1;
            (0..4_000)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    char::from(b'a' + ((seed >> 33) % 26) as u8)
                })
                .collect()
        };
        let plain = footprint("/p0", &page(&text(0), &["stream:en"]));
        // Room for three pages as rendered, not for three with a compressed body each.
        let bound = plain * 3 + plain / 4;
        let cache = PageCache::new(100, bound, Duration::from_secs(60));
        let pages: Vec<_> = (0..3u64).map(|n| page(&text(n), &["stream:en"])).collect();
        for (n, p) in pages.iter().enumerate() {
            cache.insert(format!("/p{n}"), p.clone(), cache.generation());
        }
        assert_eq!(cache.len(), 3);
        pages[2].fill(Encoding::Gzip);
        cache.account("/p2", &pages[2]);
        assert!(cache.bytes() <= bound);
        assert!(cache.get("/p0").is_none(), "the oldest page made room");
        assert!(cache.get("/p2").is_some());
        assert_consistent(&cache);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stampede_in_two_encodings_renders_once_and_compresses_each_once() {
        let cache = Arc::new(PageCache::new(10, usize::MAX, Duration::from_secs(60)));
        let renders = Arc::new(AtomicU64::new(0));
        let readers = (0..16).map(|n| {
            let cache = cache.clone();
            let renders = renders.clone();
            let encoding = if n % 2 == 0 {
                Encoding::Brotli
            } else {
                Encoding::Gzip
            };
            tokio::spawn(async move {
                let page = cache
                    .get_or_render("/world/a", || async {
                        renders.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        let page = built(&"Storm surge. ".repeat(100), &["item:1"]);
                        page.fill(encoding);
                        Ok::<_, ()>(page)
                    })
                    .await
                    .expect("a page");
                let body = page.fill(encoding).clone();
                cache.account("/world/a", &page);
                (encoding, body)
            })
        });
        let mut seen: HashMap<&str, Bytes> = HashMap::new();
        for reader in futures_util::future::join_all(readers).await {
            let (encoding, body) = reader.expect("joined");
            let name = if encoding == Encoding::Brotli {
                "br"
            } else {
                "gz"
            };
            let first = seen.entry(name).or_insert_with(|| body.clone());
            assert_eq!(first.as_ptr(), body.as_ptr(), "{name} compressed twice");
        }
        assert_eq!(renders.load(Ordering::SeqCst), 1);
        let page = cache.get("/world/a").expect("cached");
        assert_eq!(cache.bytes(), footprint("/world/a", &page));
        assert_consistent(&cache);
    }

    /// Polls a future once, as a server does before the client hangs up.
    fn poll_once<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
        future.poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn an_abandoned_render_leaves_no_lock_behind() {
        let locks = RenderLocks::default();
        let (release_render, render_blocks) = tokio::sync::oneshot::channel::<()>();
        {
            // A render that holds the lock and is dropped while it waits on the database.
            let mut render = pin!(async {
                let mut turn = locks.turn("/world");
                turn.wait().await;
                let _ = render_blocks.await;
            });
            assert!(poll_once(render.as_mut()).is_pending());
            assert_eq!(locks.len(), 1);
            // A second reader of the same address, waiting for the first, also hangs up.
            let mut waiter = pin!(async {
                let mut turn = locks.turn("/world");
                turn.wait().await;
            });
            assert!(poll_once(waiter.as_mut()).is_pending());
            assert_eq!(locks.len(), 1);
        }
        assert_eq!(locks.len(), 0, "entries left behind");
        drop(release_render);
    }

    #[test]
    fn a_waiter_abandoned_after_the_holder_finished_leaves_no_lock_behind() {
        let locks = RenderLocks::default();
        let mut first = locks.turn("/sport");
        assert!(poll_once(pin!(first.wait())).is_ready());
        let mut second = locks.turn("/sport");
        // The second reader waits, then its request is dropped mid-wait.
        assert!(poll_once(pin!(second.wait())).is_pending());
        drop(first);
        assert_eq!(locks.len(), 1, "the second reader still holds its place");
        drop(second);
        assert_eq!(locks.len(), 0);
    }

    fn built(body: &str, keys: &[&str]) -> CachedPage {
        CachedPage::build(
            body.to_owned(),
            HeaderValue::from_static("text/html; charset=utf-8"),
            keys.iter().map(|k| (*k).to_owned()).collect(),
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stampede_on_one_address_renders_it_once() {
        let cache = Arc::new(PageCache::new(10, usize::MAX, Duration::from_secs(60)));
        let renders = Arc::new(AtomicU64::new(0));
        let readers = (0..16).map(|_| {
            let cache = cache.clone();
            let renders = renders.clone();
            tokio::spawn(async move {
                cache
                    .get_or_render("/world/a", || async {
                        renders.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Ok::<_, ()>(built("a", &["item:1"]))
                    })
                    .await
            })
        });
        for reader in futures_util::future::join_all(readers).await {
            let page = reader.expect("joined").expect("a page");
            assert_eq!(&page.identity[..], b"a");
        }
        assert_eq!(renders.load(Ordering::SeqCst), 1);
        assert_eq!(cache.render_locks.len(), 0);
    }

    #[tokio::test]
    async fn a_page_purged_while_it_rendered_is_served_but_not_kept() {
        let cache = PageCache::new(10, usize::MAX, Duration::from_secs(60));
        let page = cache
            .get_or_render("/world/a", || async {
                cache.invalidate(&["item:1".to_owned()]);
                Ok::<_, ()>(built("old", &["item:1"]))
            })
            .await
            .expect("a page");
        assert_eq!(&page.identity[..], b"old");
        assert!(cache.get("/world/a").is_none());
        let page = cache
            .get_or_render("/world/a", || async {
                Ok::<_, ()>(built("new", &["item:1"]))
            })
            .await
            .expect("a page");
        assert_eq!(&page.identity[..], b"new");
        assert!(cache.get("/world/a").is_some());
    }

    #[tokio::test]
    async fn what_is_not_a_page_is_handed_back_and_not_kept() {
        let cache = PageCache::new(10, usize::MAX, Duration::from_secs(60));
        let answer = cache
            .get_or_render("/old-address", || async { Err::<CachedPage, _>("moved") })
            .await;
        assert_eq!(answer.err(), Some("moved"));
        assert!(cache.is_empty());
    }
}
