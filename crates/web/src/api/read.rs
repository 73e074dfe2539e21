//! Reading the edition: the stream with a time cursor, one item by id or by slug, related
//! items, the breaking item, sections, tags, authors and search.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use jiff::Timestamp;
use newsdesk_core::ItemKind;
use newsdesk_core::event::keys;
use newsdesk_core::item::ItemQuery;
use newsdesk_services::newsroom::BREAKING_WINDOW;
use newsdesk_services::search::{Filters, SearchQuery, Sort};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::error::{ApiError, ErrorBody, NotModified, Refusals};
use super::extract::ApiQuery;
use super::model::{Breaking, ItemDetail, ItemList, ItemPage, ItemSummary, Kind};
use super::shared::{self, Answer, edition_keys};
use super::{check_id, check_language, check_slug, linker, respond};
use crate::AppState;
use crate::paths;

/// Items per page of the stream when the caller names no `limit`.
pub const STREAM_DEFAULT_LIMIT: u32 = 20;
/// Most items one page of the stream holds.
pub const STREAM_MAX_LIMIT: u32 = 100;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StreamParams {
    /// One edition (BCP 47 tag, one of the site's languages); all editions when left out.
    pub lang: Option<String>,
    /// Only this section (slug).
    #[param(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100)]
    pub section: Option<String>,
    /// Only items with this tag (slug).
    #[param(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100)]
    pub tag: Option<String>,
    /// Only items by this author (slug).
    #[param(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100)]
    pub author: Option<String>,
    #[param(inline)]
    pub kind: Option<Kind>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^[0-9]{1,19}\.[0-9]{1,19}$")]
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

fn label_filter(name: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    match value {
        Some(v) => check_slug(name, &v, newsdesk_core::item::LABEL_MAX).map(Some),
        None => Ok(None),
    }
}

fn cursor_of(item: &newsdesk_core::Item) -> Option<String> {
    item.published_at
        .map(|at| format!("{}.{}", at.as_microsecond(), item.id))
}

/// Reads a cursor. Any cursor of the documented shape names a point in the stream: one
/// beyond the times a timestamp holds is taken as the nearest end, so a forged or stale
/// cursor gives a well-defined page instead of an error.
fn parse_cursor(cursor: &str) -> Result<(Timestamp, i64), ApiError> {
    let bad = || {
        ApiError::invalid(
            "cursor",
            "Pass the `next_cursor` of the previous page as it was.",
        )
    };
    let (micros, id) = cursor.split_once('.').ok_or_else(bad)?;
    let digits = |s: &str| !s.is_empty() && s.len() <= 19 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(micros) || !digits(id) {
        return Err(bad());
    }
    let micros: i64 = micros.parse().unwrap_or(i64::MAX);
    let at = Timestamp::from_microsecond(micros).unwrap_or(Timestamp::MAX);
    let id: i64 = id.parse().unwrap_or(i64::MAX);
    Ok((at, id))
}

/// The latest stories and briefs, newest first, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/items",
    tag = "items",
    params(StreamParams),
    responses(
        (status = 200, description = "A page of the stream", body = ItemPage),
        Refusals,
        NotModified,
    ),
    security((), ("bearer" = []), ("api_key" = []))
)]
pub async fn stream(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<StreamParams>,
) -> Result<Response, ApiError> {
    let config = state.config();
    let limit = params.limit.unwrap_or(STREAM_DEFAULT_LIMIT);
    if !(1..=STREAM_MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("`limit` must be between 1 and {STREAM_MAX_LIMIT}."),
        ));
    }
    let language = params
        .lang
        .map(|l| check_language(&config, &l))
        .transpose()?;
    let query = ItemQuery {
        language,
        kind: params.kind.map(ItemKind::from),
        section: label_filter("section", params.section)?,
        tag: label_filter("tag", params.tag)?,
        author: label_filter("author", params.author)?,
        before: params.cursor.as_deref().map(parse_cursor).transpose()?,
        // One more than asked tells whether there is a next page.
        limit: limit + 1,
        ..ItemQuery::default()
    };
    // Only the first page is kept: apps poll the top of the stream, while a later page is
    // read once per scroll and every cursor of the documented shape is a page of its own.
    let address = query.before.is_none().then(|| {
        let limit = limit.to_string();
        shared::address(
            "/api/v1/items",
            &[
                ("lang", query.language.as_deref()),
                ("section", query.section.as_deref()),
                ("tag", query.tag.as_deref()),
                ("author", query.author.as_deref()),
                ("kind", query.kind.map(ItemKind::as_str)),
                ("limit", Some(&limit)),
            ],
        )
    });
    shared::serve(&state, &caller, &headers, address, || async {
        let mut items = state.newsroom.published_items(&query).await?;
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        let links = linker(&state, &config);
        let page = ItemPage {
            next_cursor: if more {
                items.last().and_then(cursor_of)
            } else {
                None
            },
            items: items.iter().map(|i| links.summary(i)).collect(),
        };
        let answer = Answer::json(&page, edition_keys(&config, query.language.as_deref()))?;
        // A label filter is any slug; only labels with published items take a place.
        let labelled = query.section.is_some() || query.tag.is_some() || query.author.is_some();
        Ok(if labelled && page.items.is_empty() {
            answer.served_only()
        } else {
            answer
        })
    })
    .await
}

/// One item by its id, with its body as HTML and as blocks. Staff tokens that may see every
/// item also read drafts, reviews and scheduled items.
#[utoipa::path(
    get,
    path = "/api/v1/items/{id}",
    tag = "items",
    params(("id" = i64, Path, minimum = 1, description = "The item's id")),
    responses(
        (status = 200, body = ItemDetail),
        (status = 404, description = "No such published item", body = ErrorBody),
        Refusals,
        NotModified,
    ),
    security((), ("bearer" = []), ("api_key" = []))
)]
pub async fn item(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = check_id("id", &id)?;
    let address = format!("/api/v1/items/{id}");
    shared::serve(&state, &caller, &headers, Some(address), || async {
        // Staff see what the desk shows them (one rule for both); everyone else, published
        // items. Staff answers are never kept (`shared::serve`).
        let item = match caller.staff() {
            Ok(account) => state.newsroom.item_for_staff(account, id).await?,
            Err(_) => state
                .newsroom
                .item_by_id(id, false)
                .await?
                .ok_or_else(|| ApiError::not_found("item"))?,
        };
        detail(&state, &item).await
    })
    .await
}

/// An item whole. Its keys: the item's own (edits, withdrawal, comments) and its edition's
/// (renamed sections, tags and authors).
async fn detail(state: &AppState, item: &newsdesk_core::Item) -> Result<Answer, ApiError> {
    let config = state.config();
    let counts = state.newsroom.comment_counts(&[item.id]).await?;
    let body = linker(state, &config).detail(item, counts.get(&item.id).copied().unwrap_or(0));
    Answer::json(
        &body,
        vec![keys::item(item.id), keys::stream(&item.language)],
    )
}

/// One published item by its edition and slug (the last part of its address on the site).
#[utoipa::path(
    get,
    path = "/api/v1/items/by-slug/{lang}/{slug}",
    tag = "items",
    params(
        ("lang" = String, Path, description = "The edition (one of the site's languages)"),
        ("slug" = String, Path, pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 120),
    ),
    responses(
        (status = 200, body = ItemDetail),
        (status = 404, body = ErrorBody),
        Refusals,
        NotModified,
    ),
    security((), ("bearer" = []), ("api_key" = []))
)]
pub async fn item_by_slug(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    Path((lang, slug)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let config = state.config();
    let lang = check_language(&config, &lang)?;
    let slug = check_slug("slug", &slug, newsdesk_core::item::SLUG_MAX)?;
    let address = format!("/api/v1/items/by-slug/{lang}/{slug}");
    shared::serve(&state, &caller, &headers, Some(address), || async {
        let item = state
            .newsroom
            .published_by_slug(&lang, &slug)
            .await?
            .ok_or_else(|| ApiError::not_found("item"))?;
        detail(&state, &item).await
    })
    .await
}

/// Items related to a published item: the editors' pins first, then the closest by content.
#[utoipa::path(
    get,
    path = "/api/v1/items/{id}/related",
    tag = "items",
    params(("id" = i64, Path, minimum = 1)),
    responses(
        (status = 200, body = ItemList),
        (status = 404, body = ErrorBody),
        Refusals,
        NotModified,
    ),
    security((), ("bearer" = []), ("api_key" = []))
)]
pub async fn related(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = check_id("id", &id)?;
    let address = format!("/api/v1/items/{id}/related");
    shared::serve(&state, &caller, &headers, Some(address), || async {
        let item = state
            .newsroom
            .item_by_id(id, false)
            .await?
            .ok_or_else(|| ApiError::not_found("item"))?;
        let related = state.newsroom.related(&item).await?;
        let config = state.config();
        let links = linker(&state, &config);
        let list = ItemList {
            items: related.iter().map(|i| links.summary(i)).collect(),
        };
        // The edition's key: any publication may change what is closest (the page cache's
        // follower brings the search index up to date before it purges).
        let mut answer_keys = vec![keys::item(item.id), keys::stream(&item.language)];
        answer_keys.extend(related.iter().map(|r| keys::item(r.id)));
        Answer::json(&list, answer_keys)
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EditionParams {
    /// The edition; the site's default language when left out.
    pub lang: Option<String>,
}

/// The breaking item leading an edition now, or null.
#[utoipa::path(
    get,
    path = "/api/v1/breaking",
    tag = "items",
    params(EditionParams),
    responses(
        (status = 200, body = Breaking),
        Refusals,
        NotModified,
    ),
    security((), ("bearer" = []), ("api_key" = []))
)]
pub async fn breaking(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<EditionParams>,
) -> Result<Response, ApiError> {
    let config = state.config();
    let lang = match params.lang {
        Some(l) => check_language(&config, &l)?,
        None => config.site.default_language.clone(),
    };
    let address = shared::address("/api/v1/breaking", &[("lang", Some(&lang))]);
    shared::serve(&state, &caller, &headers, Some(address), || async {
        let now = Timestamp::now();
        let item = state.newsroom.breaking(&lang, now).await?;
        let links = linker(&state, &config);
        let body = Breaking {
            item: item.as_ref().map(|i| links.summary(i)),
        };
        let answer = Answer::json(&body, vec![keys::stream(&lang)])?;
        // Publishing a breaking item purges this; its leaving the window is an event of time
        // alone, so the answer is kept no longer than the item stays breaking.
        let window_ends = item
            .and_then(|i| i.published_at)
            .and_then(|at| at.checked_add(BREAKING_WINDOW).ok());
        Ok(match window_ends {
            Some(end) => answer
                .fresh_for(Duration::try_from(end.duration_since(now)).unwrap_or(Duration::ZERO)),
            None => answer,
        })
    })
    .await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SectionOut {
    pub slug: String,
    /// The name in the edition asked for.
    pub name: String,
    pub url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SectionList {
    pub sections: Vec<SectionOut>,
}

/// The sections, in the site's order, named in one edition's language.
#[utoipa::path(
    get,
    path = "/api/v1/sections",
    tag = "labels",
    params(EditionParams),
    responses(
        (status = 200, body = SectionList),
        Refusals,
        NotModified,
    ),
    security((), ("bearer" = []), ("api_key" = []))
)]
pub async fn sections(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<EditionParams>,
) -> Result<Response, ApiError> {
    let config = state.config();
    let lang = match params.lang {
        Some(l) => check_language(&config, &l)?,
        None => config.site.default_language.clone(),
    };
    let address = shared::address("/api/v1/sections", &[("lang", Some(&lang))]);
    shared::serve(&state, &caller, &headers, Some(address), || async {
        let body = SectionList {
            sections: state
                .sections()
                .iter()
                .map(|s| SectionOut {
                    slug: s.slug.clone(),
                    name: s.name_in(&lang).to_owned(),
                    url: format!(
                        "{}{}",
                        state.base_url,
                        paths::section_url(&config, &lang, &s.slug)
                    ),
                })
                .collect(),
        };
        Answer::json(&body, vec![keys::stream(&lang)])
    })
    .await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LabelOut {
    pub slug: String,
    pub name: String,
    /// Items carrying it.
    pub items: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TagList {
    pub tags: Vec<LabelOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorOut {
    pub slug: String,
    pub name: String,
    pub bio: String,
    pub items: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorList {
    pub authors: Vec<AuthorOut>,
}

/// Every tag in use, by name.
#[utoipa::path(
    get,
    path = "/api/v1/tags",
    tag = "labels",
    responses(
        (status = 200, body = TagList),
        Refusals,
        NotModified,
    ),
    security((), ("bearer" = []), ("api_key" = []))
)]
pub async fn tags(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    shared::serve(
        &state,
        &caller,
        &headers,
        Some("/api/v1/tags".into()),
        || async {
            let body = TagList {
                tags: state
                    .newsroom
                    .tags_in_use()
                    .await?
                    .into_iter()
                    .filter(|u| u.items > 0)
                    .map(|u| LabelOut {
                        slug: u.label.slug,
                        name: u.label.name,
                        items: u.items,
                    })
                    .collect(),
            };
            // Counts move with any edition's publications.
            Answer::json(&body, edition_keys(&state.config(), None))
        },
    )
    .await
}

/// Every author, by name.
#[utoipa::path(
    get,
    path = "/api/v1/authors",
    tag = "labels",
    responses(
        (status = 200, body = AuthorList),
        Refusals,
        NotModified,
    ),
    security((), ("bearer" = []), ("api_key" = []))
)]
pub async fn authors(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    shared::serve(
        &state,
        &caller,
        &headers,
        Some("/api/v1/authors".into()),
        || async {
            let body = AuthorList {
                authors: state
                    .newsroom
                    .authors_in_use()
                    .await?
                    .into_iter()
                    .map(|u| AuthorOut {
                        slug: u.label.slug,
                        name: u.label.name,
                        bio: u.label.bio,
                        items: u.items,
                    })
                    .collect(),
            };
            Answer::json(&body, edition_keys(&state.config(), None))
        },
    )
    .await
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchSort {
    Relevance,
    Newest,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// Words, "quoted phrases" and -excluded words.
    #[param(min_length = 1, max_length = 200)]
    pub q: String,
    pub lang: Option<String>,
    #[param(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100)]
    pub section: Option<String>,
    #[param(inline)]
    pub kind: Option<Kind>,
    #[param(inline)]
    pub sort: Option<SearchSort>,
    #[param(minimum = 1, maximum = 50)]
    pub page: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchHit {
    pub item: ItemSummary,
    /// The headline, escaped, with matched words in `<mark>`.
    pub headline_html: String,
    /// Words around the matches, escaped, with matched words in `<mark>`.
    pub snippet_html: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResults {
    pub total: u64,
    pub page: u32,
    pub pages: u32,
    /// No item had every word; these have some of them.
    pub relaxed: bool,
    pub results: Vec<SearchHit>,
}

/// Searches published items.
#[utoipa::path(
    get,
    path = "/api/v1/search",
    tag = "items",
    params(SearchParams),
    responses(
        (status = 200, body = SearchResults),
        Refusals,
        NotModified,
    ),
    security((), ("bearer" = []), ("api_key" = []))
)]
pub async fn search(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> Result<Response, ApiError> {
    let config = state.config();
    let max = newsdesk_services::search::MAX_QUERY_CHARS;
    let text = params.q.trim();
    if text.is_empty() {
        return Err(ApiError::invalid("q", "Say what to search for."));
    }
    if params.q.chars().count() > max {
        return Err(ApiError::invalid(
            "q",
            format!("A search can be at most {max} characters long."),
        ));
    }
    let max_page = newsdesk_services::search::MAX_SEARCH_PAGE;
    let page = params.page.unwrap_or(1);
    if !(1..=max_page).contains(&page) {
        return Err(ApiError::invalid(
            "page",
            format!("`page` must be between 1 and {max_page}."),
        ));
    }
    let query = SearchQuery {
        text: text.to_owned(),
        filters: Filters {
            language: params
                .lang
                .map(|l| check_language(&config, &l))
                .transpose()?,
            section: label_filter("section", params.section)?,
            kind: params.kind.map(|k| ItemKind::from(k).as_str().to_owned()),
            ..Filters::default()
        },
        sort: match params.sort {
            Some(SearchSort::Newest) => Sort::Newest,
            _ => Sort::Relevance,
        },
        page,
    };
    let found = state.newsroom.search(&query, Timestamp::now()).await?;
    let links = linker(&state, &config);
    let body = match found {
        Some(found) => SearchResults {
            total: found.total,
            page: found.page,
            pages: found.pages,
            relaxed: found.relaxed,
            results: found
                .results
                .iter()
                .map(|r| SearchHit {
                    item: links.summary(&r.item),
                    headline_html: r.headline_html.clone(),
                    snippet_html: r.snippet_html.clone(),
                })
                .collect(),
        },
        // A page past the last: nothing on it.
        None => SearchResults {
            total: 0,
            page,
            pages: 0,
            relaxed: false,
            results: Vec::new(),
        },
    };
    // Searches are never kept: each query would be an entry of its own.
    respond(&state, &caller, &headers, &body).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cursor_of_the_documented_shape_names_a_point() {
        let item_at = Timestamp::from_second(1_800_000_000).expect("time");
        let (at, id) = parse_cursor(&format!("{}.42", item_at.as_microsecond())).expect("ours");
        assert_eq!((at, id), (item_at, 42));
        for edge in [
            "0730146283942140607.325",
            "9999999999999999999.9999999999999999999",
            "0.0",
        ] {
            assert!(parse_cursor(edge).is_ok(), "{edge}");
        }
        for bad in [
            "",
            ".",
            "1.",
            ".1",
            "1.2.3",
            "a.1",
            "-1.1",
            "12345678901234567890.1",
        ] {
            assert!(parse_cursor(bad).is_err(), "{bad}");
        }
    }
}
