//! How an API read is answered: through the page cache when every caller would get the same
//! bytes, made fresh otherwise. It owns who may share an answer (strangers and read keys, who
//! see exactly the public edition), and the one path from JSON to a response, so the cached and
//! the fresh answer carry the same ETag, encodings and headers. It never keeps an error, never
//! keeps what a staff or reader token was shown, and never reads the cache for them.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::Response;
use newsdesk_core::Config;
use newsdesk_core::event::keys;
use newsdesk_services::api_tokens::TokenHolder;
use serde::Serialize;

use super::auth::Caller;
use super::error::ApiError;
use crate::cache::{self, CachedPage, Encoding};
use crate::{AppState, http};

/// Where every API answer kept in the page cache lives, so the metrics can count them apart
/// from the site's pages (whose addresses never start so: `/api/` is the API's).
pub const ADDRESS_PREFIX: &str = "/api/";

const JSON: HeaderValue = HeaderValue::from_static("application/json");
/// An API answer differs by encoding and by who asks (a staff token may see a draft).
const VARY: HeaderValue = HeaderValue::from_static("Accept-Encoding, Authorization, X-API-Key");
const PRIVATE: HeaderValue = HeaderValue::from_static("private, no-cache");

/// One read's answer as its handler made it: the JSON and the surrogate keys of everything it
/// shows, so the event that changes any of it purges it.
pub struct Answer {
    body: Vec<u8>,
    keys: Vec<String>,
    /// False for an answer that may be served but must not take a place in the cache.
    keep: bool,
    fresh_for: Option<Duration>,
}

impl Answer {
    pub fn json<T: Serialize>(value: &T, keys: Vec<String>) -> Result<Self, ApiError> {
        let body = serde_json::to_vec(value)
            .map_err(|e| ApiError::internal(format!("serializing an answer: {e}")))?;
        Ok(Answer {
            body,
            keys,
            keep: true,
            fresh_for: None,
        })
    }

    /// Served, never kept: an empty filtered page of the stream, whose address anyone can
    /// make up (`?tag=anything`), would otherwise let strangers fill the cache.
    pub fn served_only(mut self) -> Self {
        self.keep = false;
        self
    }

    /// Kept at most `life`: for an answer that changes with time alone at a known moment.
    pub fn fresh_for(mut self, life: Duration) -> Self {
        self.fresh_for = Some(life);
        self
    }

    fn into_page(self) -> CachedPage {
        let page = CachedPage::build(self.body, JSON, self.keys);
        match self.fresh_for {
            Some(life) => page.fresh_for(life),
            None => page,
        }
    }
}

/// Whether `caller` is shown exactly what a stranger is. Staff tokens may see drafts and
/// readers' answers are theirs; a read key only opens the door (the gate has checked it before
/// any handler runs), so on a site that needs keys its holders still share one cache.
fn sees_the_public_edition(caller: &Caller) -> bool {
    matches!(caller.holder, None | Some(TokenHolder::ReadKey { .. }))
}

/// What `make` refused, or made but may not keep.
enum NotKept {
    Refused(ApiError),
    Served(Box<CachedPage>),
}

/// Answers a read. With an `address` (the request normalised from validated values, so two
/// spellings of one question share an entry) and a caller who sees the public edition, the
/// answer comes from the page cache, made by `make` on a miss once however many ask at once;
/// anyone else, or a read without an address, gets a fresh answer that is never kept.
pub async fn serve<F, Fut>(
    state: &AppState,
    caller: &Caller,
    request: &HeaderMap,
    address: Option<String>,
    make: F,
) -> Result<Response, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Answer, ApiError>>,
{
    let encoding = http::negotiate(request);
    let Some(address) = address.filter(|_| sees_the_public_edition(caller)) else {
        let page = cache::fill_body(make().await?.into_page(), encoding)
            .await
            .map_err(ApiError::internal)?;
        return Ok(reply(state, caller, request, encoding, &page));
    };
    let made_here = AtomicBool::new(false);
    let answer = state
        .cache
        .get_or_render(&address, || async {
            made_here.store(true, Ordering::Relaxed);
            let answer = make().await.map_err(NotKept::Refused)?;
            let keep = answer.keep;
            // Only what this caller takes; the other encoding waits for its first reader.
            let page = cache::fill_body(answer.into_page(), encoding)
                .await
                .map_err(|e| NotKept::Refused(ApiError::internal(e)))?;
            if keep {
                Ok(page)
            } else {
                Err(NotKept::Served(Box::new(page)))
            }
        })
        .await;
    let counter = if made_here.load(Ordering::Relaxed) {
        &state.api.cache_misses
    } else {
        &state.api.cache_hits
    };
    counter.fetch_add(1, Ordering::Relaxed);
    match answer {
        Ok(page) => {
            let page = state
                .cache
                .with_body(&address, page, encoding)
                .await
                .map_err(ApiError::internal)?;
            Ok(reply(state, caller, request, encoding, &page))
        }
        Err(NotKept::Served(page)) => Ok(reply(state, caller, request, encoding, &page)),
        Err(NotKept::Refused(e)) => Err(e),
    }
}

/// The response for `page`. Shared caches may keep what any stranger would be given; answers
/// to key and token holders are private, whichever way they were made.
fn reply(
    state: &AppState,
    caller: &Caller,
    request: &HeaderMap,
    encoding: Encoding,
    page: &CachedPage,
) -> Response {
    let public = caller.is_anonymous() && !state.config().api.require_key;
    let cache_control = if public {
        state.cache_control.clone()
    } else {
        PRIVATE
    };
    // HEAD is answered by the GET route, which drops the body and keeps its length.
    let mut response = http::from_cached(page, encoding, request, &Method::GET, &cache_control);
    let headers = response.headers_mut();
    headers.insert(header::VARY, VARY);
    if page.keys.is_empty() {
        headers.remove(http::SURROGATE_KEY);
    }
    response
}

/// The stream keys of `lang`'s edition, or of every edition: every publication, edit and
/// withdrawal in an edition purges its key, and a change of sections, tags or authors purges
/// every edition's (`site_changed`), so an answer keyed so never shows an old name or list.
pub fn edition_keys(config: &Config, lang: Option<&str>) -> Vec<String> {
    match lang {
        Some(lang) => vec![keys::stream(lang)],
        None => config
            .site
            .languages
            .iter()
            .map(|l| keys::stream(l))
            .collect(),
    }
}

/// An address with its query written from validated values in one fixed order, leaving out
/// what was not given: `?section=x&lang=en` and `?lang=en&section=x` become one entry.
pub fn address(path: &str, query: &[(&str, Option<&str>)]) -> String {
    let mut out = path.to_owned();
    let mut separator = '?';
    for (name, value) in query {
        if let Some(value) = value {
            out.push(separator);
            out.push_str(name);
            out.push('=');
            out.push_str(value);
            separator = '&';
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_lists_what_was_given_in_one_order() {
        assert_eq!(
            address(
                "/api/v1/items",
                &[
                    ("lang", Some("en")),
                    ("section", None),
                    ("limit", Some("20"))
                ]
            ),
            "/api/v1/items?lang=en&limit=20"
        );
        assert_eq!(address("/api/v1/tags", &[]), "/api/v1/tags");
        assert!(address("/api/v1/tags", &[]).starts_with(ADDRESS_PREFIX));
    }

    fn caller(holder: Option<TokenHolder>) -> Caller {
        Caller {
            holder,
            address: "127.0.0.1".into(),
        }
    }

    #[test]
    fn only_strangers_and_read_keys_share_answers() {
        assert!(sees_the_public_edition(&caller(None)));
        assert!(sees_the_public_edition(&caller(Some(
            TokenHolder::ReadKey {
                token_id: 1,
                name: "partner".into(),
            }
        ))));
    }
}
