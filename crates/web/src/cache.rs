//! The in-memory page cache: rendered public pages with their brotli and gzip bodies made
//! once, strong ETags, and an index from surrogate key to pages so one event purges exactly
//! what it touched. It never holds an error page, and never stores a page rendered from
//! data older than an invalidation that happened while it rendered.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::HeaderValue;
use sha2::{Digest, Sha256};

/// One rendered page in every encoding we serve.
#[derive(Debug)]
pub struct CachedPage {
    pub identity: Bytes,
    pub gzip: Bytes,
    pub brotli: Bytes,
    /// The quoted strong ETag of each representation (they differ, as RFC 9110 §8.8.3 asks).
    pub etag_identity: HeaderValue,
    pub etag_gzip: HeaderValue,
    pub etag_brotli: HeaderValue,
    pub content_type: HeaderValue,
    pub surrogate_keys: HeaderValue,
    pub keys: Vec<String>,
    /// `Last-Modified`, for documents whose content has a real change time (feeds and
    /// sitemaps); HTML pages mix many items and go by ETag alone.
    pub last_modified: Option<jiff::Timestamp>,
    created: Instant,
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

/// Which body a client gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

impl CachedPage {
    /// Compresses `body` both ways. Brotli quality 9 is within a few percent of 11 on HTML
    /// at a tenth of the time, which matters when a breaking story is edited every minute.
    pub fn build(body: impl Into<Bytes>, content_type: HeaderValue, keys: Vec<String>) -> Self {
        let identity: Bytes = body.into();
        let tag = content_tag(&identity);
        let gzip = {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            // Writing into a Vec cannot fail.
            let _ = enc.write_all(&identity);
            Bytes::from(enc.finish().unwrap_or_default())
        };
        let brotli = {
            let mut out = Vec::new();
            let params = brotli::enc::BrotliEncoderParams {
                quality: 9,
                lgwin: 22,
                ..Default::default()
            };
            let _ = brotli::BrotliCompress(&mut &identity[..], &mut out, &params);
            Bytes::from(out)
        };
        let header = |s: String| HeaderValue::from_str(&s).unwrap_or(HeaderValue::from_static(""));
        CachedPage {
            etag_identity: header(format!("\"{tag}\"")),
            etag_gzip: header(format!("\"{tag}-gz\"")),
            etag_brotli: header(format!("\"{tag}-br\"")),
            content_type,
            surrogate_keys: header(keys.join(" ")),
            identity,
            gzip,
            brotli,
            keys,
            last_modified: None,
            created: Instant::now(),
        }
    }

    pub fn with_last_modified(mut self, at: Option<jiff::Timestamp>) -> Self {
        self.last_modified = at;
        self
    }

    pub fn body(&self, encoding: Encoding) -> (&Bytes, &HeaderValue) {
        match encoding {
            Encoding::Brotli => (&self.brotli, &self.etag_brotli),
            Encoding::Gzip => (&self.gzip, &self.etag_gzip),
            Encoding::Identity => (&self.identity, &self.etag_identity),
        }
    }
}

#[derive(Default)]
struct Pages {
    by_address: HashMap<String, std::sync::Arc<CachedPage>>,
    by_key: HashMap<String, HashSet<String>>,
}

impl Pages {
    fn remove(&mut self, address: &str) {
        if let Some(page) = self.by_address.remove(address) {
            for key in &page.keys {
                if let Some(set) = self.by_key.get_mut(key) {
                    set.remove(address);
                    if set.is_empty() {
                        self.by_key.remove(key);
                    }
                }
            }
        }
    }
}

pub struct PageCache {
    pages: RwLock<Pages>,
    /// Grows on every invalidation; a render that started before one may not be stored.
    generation: AtomicU64,
    max_entries: usize,
    /// Pages also expire on their own, so time-driven content (a breaking banner's window)
    /// changes without an event.
    max_age: Duration,
    pub hits: AtomicU64,
    pub misses: AtomicU64,
}

impl PageCache {
    pub fn new(max_entries: usize, max_age: Duration) -> Self {
        PageCache {
            pages: RwLock::new(Pages::default()),
            generation: AtomicU64::new(0),
            max_entries,
            max_age,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn get(&self, address: &str) -> Option<std::sync::Arc<CachedPage>> {
        let found = self
            .pages
            .read()
            .ok()
            .and_then(|p| p.by_address.get(address).cloned())
            .filter(|page| page.created.elapsed() < self.max_age);
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Stores a page rendered after reading generation `rendered_at`; a page that raced an
    /// invalidation is dropped so stale content can never stick.
    pub fn insert(&self, address: String, page: std::sync::Arc<CachedPage>, rendered_at: u64) {
        if self.max_entries == 0 {
            return;
        }
        let Ok(mut pages) = self.pages.write() else {
            return;
        };
        if self.generation.load(Ordering::Acquire) != rendered_at {
            return;
        }
        pages.remove(&address);
        while pages.by_address.len() >= self.max_entries {
            // Full: drop any one page. A news site's hot set is small; the bound only
            // protects memory against crawlers walking every archive page.
            let Some(victim) = pages.by_address.keys().next().cloned() else {
                break;
            };
            pages.remove(&victim);
        }
        for key in &page.keys {
            pages
                .by_key
                .entry(key.clone())
                .or_default()
                .insert(address.clone());
        }
        pages.by_address.insert(address, page);
    }

    /// Removes every page carrying any of `keys`; returns how many.
    pub fn invalidate<'a>(&self, keys: impl IntoIterator<Item = &'a String>) -> usize {
        let Ok(mut pages) = self.pages.write() else {
            return 0;
        };
        self.generation.fetch_add(1, Ordering::AcqRel);
        let mut addresses = Vec::new();
        for key in keys {
            if let Some(set) = pages.by_key.get(key) {
                addresses.extend(set.iter().cloned());
            }
        }
        let count = addresses.len();
        for address in addresses {
            pages.remove(&address);
        }
        count
    }

    pub fn clear(&self) {
        if let Ok(mut pages) = self.pages.write() {
            self.generation.fetch_add(1, Ordering::AcqRel);
            *pages = Pages::default();
        }
    }

    pub fn len(&self) -> usize {
        self.pages.read().map(|p| p.by_address.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn page(body: &str, keys: &[&str]) -> Arc<CachedPage> {
        Arc::new(CachedPage::build(
            body.to_owned(),
            HeaderValue::from_static("text/html; charset=utf-8"),
            keys.iter().map(|k| (*k).to_owned()).collect(),
        ))
    }

    #[test]
    fn an_event_purges_exactly_the_pages_with_its_keys() {
        let cache = PageCache::new(10, Duration::from_secs(60));
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
        let cache = PageCache::new(10, Duration::from_secs(60));
        let before = cache.generation();
        cache.invalidate(&["item:1".to_owned()]);
        cache.insert("/world/a".into(), page("old", &["item:1"]), before);
        assert!(cache.get("/world/a").is_none());
    }

    #[test]
    fn the_bound_on_entries_holds() {
        let cache = PageCache::new(2, Duration::from_secs(60));
        for n in 0..5 {
            cache.insert(format!("/p{n}"), page("x", &["k"]), cache.generation());
        }
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn compressed_bodies_decode_to_the_page() {
        use std::io::Read;
        let p = page(&"A harbour city at dawn. ".repeat(200), &[]);
        let mut out = String::new();
        flate2::read::GzDecoder::new(&p.gzip[..])
            .read_to_string(&mut out)
            .expect("gzip");
        assert_eq!(out.as_bytes(), &p.identity[..]);
        let mut out = Vec::new();
        brotli::BrotliDecompress(&mut &p.brotli[..], &mut out).expect("brotli");
        assert_eq!(out, &p.identity[..]);
        assert!(p.brotli.len() < p.identity.len() / 10);
        assert_ne!(p.etag_gzip, p.etag_brotli);
    }
}
