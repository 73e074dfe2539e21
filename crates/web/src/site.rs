//! The site's pages: one handler that resolves an address, answers from the page cache, and
//! on a miss renders through the newsroom service and the theme. Only successful pages are
//! cached; redirects and errors are computed each time and never stored.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use minijinja::context;
use newsdesk_core::event::keys;
use newsdesk_services::{ItemLookup, Listing, ListingSubject};
use serde::Serialize;

use crate::AppState;
use crate::cache::CachedPage;
use crate::error::WebError;
use crate::http;
use crate::metrics::RouteName;
use crate::paths::{self, Parsed, SitePage, SiteRoute};
use crate::views::{ItemView, PagerView, SiteView};

/// Template values from anything serializable.
fn val<T: Serialize>(value: T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(value))
}

const HTML: HeaderValue = HeaderValue::from_static("text/html; charset=utf-8");

/// What rendering an address produced.
enum Rendered {
    Page { html: String, keys: Vec<String> },
    Redirect(String),
}

fn route_name(page: &SitePage) -> &'static str {
    match page {
        SitePage::Home => "home",
        SitePage::Latest => "latest",
        SitePage::Section(_) => "section",
        SitePage::Tag(_) => "tag",
        SitePage::Author(_) => "author",
        SitePage::Item { .. } => "item",
    }
}

/// `?page=N` of a listing: absent is page 1; anything else but a whole number from 1 is a
/// reader's mistake worth a clear 400. Other parameters (tracking tags) are ignored, so they
/// cannot split the cache.
fn page_number(uri: &Uri) -> Result<u32, WebError> {
    let Some(query) = uri.query() else {
        return Ok(1);
    };
    for pair in query.split('&') {
        if let Some(value) = pair.strip_prefix("page=") {
            return value
                .parse::<u32>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| {
                    WebError::BadRequest("The page number must be a whole number from 1.".into())
                });
        }
    }
    Ok(1)
}

pub async fn page(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let language = state.config().site.default_language.clone();
    if method != Method::GET && method != Method::HEAD {
        let mut response = error_page(&state, &language, WebError::MethodNotAllowed);
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let route = match paths::parse(&state.config(), uri.path()) {
        Parsed::Page(route) => route,
        Parsed::Redirect(to) => {
            let to = match uri.query() {
                Some(q) => format!("{to}?{q}"),
                None => to,
            };
            return redirect(&to, "redirect");
        }
        Parsed::NotFound => return error_page(&state, &language, WebError::NotFound),
    };
    let name = route_name(&route.page);
    let page = match &route.page {
        SitePage::Home | SitePage::Item { .. } => 1,
        _ => match page_number(&uri) {
            Ok(n) => n,
            Err(e) => return with_route(error_page(&state, &route.language, e), name),
        },
    };
    let address = paths::with_page(&paths::route_url(&state.config(), &route), page);

    if let Some(cached) = state.cache.get(&address) {
        return with_route(
            http::from_cached(&cached, &headers, &method, &state.cache_control),
            name,
        );
    }

    // One render per address at a time: during a spike, the readers who arrive while a page
    // is being rendered wait for it instead of rendering it again.
    let lock = state.render_lock(&address);
    let _guard = lock.lock().await;
    if let Some(cached) = state.cache.get(&address) {
        state.release_render_lock(&address);
        return with_route(
            http::from_cached(&cached, &headers, &method, &state.cache_control),
            name,
        );
    }
    let generation = state.cache.generation();
    let outcome = render(&state, &route, page).await;
    let response = match outcome {
        Ok(Rendered::Page { html, keys }) => {
            let built =
                tokio::task::spawn_blocking(move || CachedPage::build(html, HTML, keys)).await;
            match built {
                Ok(built) => {
                    let built = Arc::new(built);
                    state
                        .cache
                        .insert(address.clone(), built.clone(), generation);
                    http::from_cached(&built, &headers, &method, &state.cache_control)
                }
                Err(e) => error_page(&state, &route.language, WebError::Internal(e.to_string())),
            }
        }
        Ok(Rendered::Redirect(to)) => redirect(&to, name),
        Err(e) => error_page(&state, &route.language, e),
    };
    state.release_render_lock(&address);
    with_route(response, name)
}

fn with_route(mut response: Response, name: &'static str) -> Response {
    response.extensions_mut().insert(RouteName(name));
    response
}

fn redirect(to: &str, name: &'static str) -> Response {
    let mut response = (
        StatusCode::MOVED_PERMANENTLY,
        [(header::LOCATION, to.to_owned())],
    )
        .into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    with_route(response, name)
}

/// The site's 404 page in the default language.
pub(crate) fn not_found_page(state: &AppState) -> Response {
    let language = state.config().site.default_language.clone();
    error_page(state, &language, WebError::NotFound)
}

/// The page every error gets: the site's chrome, the status and a message a reader can act
/// on. Never cached.
pub fn error_page(state: &AppState, language: &str, error: WebError) -> Response {
    let status = error.status();
    if let WebError::Internal(cause) = &error {
        tracing::error!(%cause, "request failed");
    }
    let site = SiteView::new(
        &state.config(),
        &state.base_url,
        language,
        None,
        Timestamp::now(),
    );
    let html = state.theme.render(
        "error.html",
        context! {
            site => val(site),
            t => val(&*state.theme.strings(language)),
            status => status.as_u16(),
            message => error.to_string(),
            meta => val(PageMeta {
                title: format!("{} | {}", error, state.config().site.name),
                description: error.to_string(),
                canonical: String::new(),
                kind: "website",
                image: None,
            }),
        },
    );
    let body = match html {
        Ok(html) => html,
        Err(e) => {
            tracing::error!(error = %e, "error template failed");
            format!(
                "<!doctype html><title>{}</title><p>{}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("Error")
            )
        }
    };
    let mut response = (status, [(header::CONTENT_TYPE, HTML)], Body::from(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, http::NO_STORE);
    with_route(response, "error")
}

#[derive(Serialize)]
struct PageMeta {
    title: String,
    description: String,
    canonical: String,
    /// `og:type`: "article" for items, "website" for the rest.
    kind: &'static str,
    image: Option<String>,
}

async fn render(state: &AppState, route: &SiteRoute, page: u32) -> Result<Rendered, WebError> {
    let config = &state.config();
    let lang = route.language.as_str();
    let now = Timestamp::now();
    let zone = config.time_zone();
    let view = |item: &newsdesk_core::Item| ItemView::new(config, &zone, item);
    let views = |items: &[newsdesk_core::Item]| items.iter().map(view).collect::<Vec<_>>();
    // Teasers carry their comment counts; a listing is purged by its own keys, so a count
    // may trail by up to `cache.s_maxage` there while the story page itself is exact.
    let counted = |items: &[newsdesk_core::Item], counts: &HashMap<i64, u64>| {
        items
            .iter()
            .map(|item| ItemView {
                comments: counts.get(&item.id).copied().unwrap_or(0),
                ..view(item)
            })
            .collect::<Vec<_>>()
    };
    let t = state.theme.strings(lang);
    let text = |key: &str| t.get(key).cloned().unwrap_or_else(|| key.to_owned());
    let absolute = |path: &str| format!("{}{path}", state.base_url);
    let newsroom = &state.newsroom;

    match &route.page {
        SitePage::Home => {
            let front = newsroom.front_page(lang, now).await?;
            let shown: Vec<i64> = front
                .top
                .iter()
                .chain(front.rails.iter().flat_map(|r| r.items.iter()))
                .map(|i| i.id)
                .collect();
            let counts = newsroom.comment_counts(&shown).await?;
            let meta = PageMeta {
                title: config.site.name.clone(),
                description: config.site.tagline.clone(),
                canonical: absolute(&paths::home_url(config, lang)),
                kind: "website",
                image: None,
            };
            let html = state.theme.render(
                "home.html",
                context! {
                    site => val(SiteView::new(config, &state.base_url, lang, None, now)),
                    t => val(&*t),
                    meta => val(meta),
                    breaking => val(front.breaking.as_ref().map(view)),
                    top => val(front.top.as_ref().map(|item| ItemView {
                        comments: counts.get(&item.id).copied().unwrap_or(0),
                        ..view(item)
                    })),
                    latest => val(views(&front.stream)),
                    rails => val(front.rails.iter().map(|rail| context! {
                        name => rail.section.name_in(lang),
                        url => paths::section_url(config, lang, &rail.section.slug),
                        items => val(counted(&rail.items, &counts)),
                    }).collect::<Vec<_>>()),
                },
            )?;
            Ok(Rendered::Page {
                html,
                keys: vec![keys::home(lang), keys::stream(lang)],
            })
        }
        SitePage::Item { section, slug } => {
            let item = match newsroom.find_item(lang, section, slug).await? {
                ItemLookup::Found(item) => item,
                ItemLookup::Moved(item) => {
                    return Ok(Rendered::Redirect(paths::item_url(config, &item)));
                }
                ItemLookup::Gone => return Err(WebError::Gone),
                ItemLookup::NotFound => return Err(WebError::NotFound),
            };
            let related = newsroom.related(&item).await?;
            let rules = &config.comments;
            let discussion = if newsdesk_core::moderation::comments_allowed_on(rules, item.kind) {
                let thread = newsroom
                    .thread(
                        item.id,
                        newsdesk_core::comment::CommentSort::Newest,
                        1,
                        None,
                    )
                    .await?;
                let commenting = newsroom.commenting(&item, now).await?;
                Some((thread, commenting.closed))
            } else {
                None
            };
            let stream = newsroom.stream(lang, Some(item.id)).await?;
            let item_view = view(&item);
            let meta = PageMeta {
                title: format!("{} | {}", item_view.headline, config.site.name),
                description: item_view.teaser.clone(),
                canonical: absolute(&item_view.url),
                kind: "article",
                image: item_view.hero.as_ref().map(|h| absolute(&h.src)),
            };
            let mut page_keys = vec![
                keys::item(item.id),
                keys::stream(lang),
                keys::section(lang, &item.section),
            ];
            page_keys.extend(item.tags.iter().map(|t| keys::tag(&t.slug)));
            page_keys.extend(related.iter().map(|r| keys::item(r.id)));
            let html = state.theme.render(
                "item.html",
                context! {
                    site => val(SiteView::new(config, &state.base_url, lang, Some(&item.section), now)),
                    t => val(&*t),
                    meta => val(meta),
                    item => val(item_view),
                    related => val(views(&related)),
                    latest => val(views(&stream)),
                    comments => discussion.as_ref().map(|(thread, _)| val(crate::comments::thread_views(state, thread, None))),
                    discussion => discussion.as_ref().map(|(thread, closed)| context! {
                        item_id => item.id,
                        total => thread.total,
                        more => thread.pages > 1,
                        closed => *closed,
                        url => format!("/comments/{}", item.id),
                    }),
                },
            )?;
            Ok(Rendered::Page {
                html,
                keys: page_keys,
            })
        }
        SitePage::Latest | SitePage::Section(_) | SitePage::Tag(_) | SitePage::Author(_) => {
            let (listing, key) = match &route.page {
                SitePage::Section(s) => (Listing::Section(s.clone()), keys::section(lang, s)),
                SitePage::Tag(s) => (Listing::Tag(s.clone()), keys::tag(s)),
                SitePage::Author(s) => (Listing::Author(s.clone()), keys::author(s)),
                _ => (Listing::Latest, keys::stream(lang)),
            };
            let Some(found) = newsroom.listing(lang, &listing, page).await? else {
                return Err(WebError::NotFound);
            };
            let base = paths::route_url(config, route);
            let (heading, description, current) = match &found.subject {
                ListingSubject::Latest => {
                    (text("latest_news"), text("latest_news_description"), None)
                }
                ListingSubject::Section(s) => (
                    s.name_in(lang).to_owned(),
                    format!("{} — {}", s.name_in(lang), config.site.name),
                    Some(s.slug.as_str()),
                ),
                ListingSubject::Tag(tag) => (
                    tag.name.clone(),
                    format!("{}: {}", text("tagged"), tag.name),
                    None,
                ),
                ListingSubject::Author(a) => (a.name.clone(), a.bio.clone(), None),
            };
            let title = if found.page > 1 {
                format!(
                    "{heading} ({} {}) | {}",
                    text("page"),
                    found.page,
                    config.site.name
                )
            } else {
                format!("{heading} | {}", config.site.name)
            };
            let meta = PageMeta {
                title,
                description: description.clone(),
                canonical: absolute(&paths::with_page(&base, found.page)),
                kind: "website",
                image: None,
            };
            let stream = if matches!(listing, Listing::Latest) {
                Vec::new()
            } else {
                newsroom.stream(lang, None).await?
            };
            let counts = newsroom
                .comment_counts(&found.items.iter().map(|i| i.id).collect::<Vec<_>>())
                .await?;
            let kind = match &found.subject {
                ListingSubject::Latest => "latest",
                ListingSubject::Section(_) => "section",
                ListingSubject::Tag(_) => "tag",
                ListingSubject::Author(_) => "author",
            };
            let html = state.theme.render(
                "listing.html",
                context! {
                    site => val(SiteView::new(config, &state.base_url, lang, current, now)),
                    t => val(&*t),
                    meta => val(meta),
                    kind => kind,
                    heading => heading,
                    description => description,
                    items => val(counted(&found.items, &counts)),
                    total => found.total,
                    pager => val(PagerView::new(&base, found.page, found.pages)),
                    latest => val(views(&stream)),
                },
            )?;
            let mut page_keys = vec![key, keys::stream(lang)];
            page_keys.dedup();
            Ok(Rendered::Page {
                html,
                keys: page_keys,
            })
        }
    }
}

/// Per-address render locks (see `page`).
#[derive(Default)]
pub struct RenderLocks(std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

impl RenderLocks {
    pub fn get(&self, address: &str) -> Arc<tokio::sync::Mutex<()>> {
        match self.0.lock() {
            Ok(mut map) => map.entry(address.to_owned()).or_default().clone(),
            Err(_) => Arc::default(),
        }
    }

    pub fn release(&self, address: &str) {
        if let Ok(mut map) = self.0.lock() {
            // Only the map and the current holder still point at it: nobody is waiting.
            if map.get(address).is_some_and(|l| Arc::strong_count(l) <= 2) {
                map.remove(address);
            }
        }
    }
}
