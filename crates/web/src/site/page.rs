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
use crate::paths::{self, FeedFormat, FeedSubject, Parsed, SitePage, SiteRoute};
use crate::site::feeds::{self, Document};
use crate::site::{sitemaps, structured};
use crate::views::{self, ItemView, PagerView, SiteView};
use newsdesk_core::Config;

/// Template values from anything serializable.
fn val<T: Serialize>(value: T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(value))
}

const HTML: HeaderValue = HeaderValue::from_static("text/html; charset=utf-8");

/// What rendering an address produced.
enum Rendered {
    Page {
        body: String,
        content_type: HeaderValue,
        keys: Vec<String>,
        last_modified: Option<Timestamp>,
    },
    Redirect(String),
}

impl Rendered {
    fn html(html: String, keys: Vec<String>) -> Self {
        Rendered::Page {
            body: html,
            content_type: HTML,
            keys,
            last_modified: None,
        }
    }

    fn document(doc: Document) -> Self {
        Rendered::Page {
            body: doc.body,
            content_type: HeaderValue::from_static(doc.content_type),
            keys: doc.keys,
            last_modified: doc.last_modified,
        }
    }
}

fn route_name(page: &SitePage) -> &'static str {
    match page {
        SitePage::Home => "home",
        SitePage::Latest => "latest",
        SitePage::Section(_) => "section",
        SitePage::Tag(_) => "tag",
        SitePage::Author(_) => "author",
        SitePage::Item { .. } => "item",
        SitePage::Feed { .. } => "feed",
        SitePage::Sitemap(_) => "sitemap",
        SitePage::Robots => "robots",
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
    let route = match paths::parse(&state.config(), &state.sections(), uri.path()) {
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
        SitePage::Home
        | SitePage::Item { .. }
        | SitePage::Feed { .. }
        | SitePage::Sitemap(_)
        | SitePage::Robots => 1,
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
    let mut turn = state.render_locks.turn(&address);
    turn.wait().await;
    if let Some(cached) = state.cache.get(&address) {
        return with_route(
            http::from_cached(&cached, &headers, &method, &state.cache_control),
            name,
        );
    }
    let generation = state.cache.generation();
    let outcome = render(&state, &route, page).await;
    let response = match outcome {
        Ok(Rendered::Page {
            body,
            content_type,
            keys,
            last_modified,
        }) => {
            let built = tokio::task::spawn_blocking(move || {
                CachedPage::build(body, content_type, keys).with_last_modified(last_modified)
            })
            .await;
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
    drop(turn);
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
        &state.sections(),
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
            meta => val(PageMeta::new(
                format!("{} | {}", error, state.config().site.name),
                error.to_string(),
                String::new(),
                "website",
            )),
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
    image: Option<ImageMeta>,
    /// `<link rel="alternate">` to the page's feeds.
    feeds: Vec<FeedLink>,
    /// `hreflang` alternates: the same page in the site's other languages (itself included,
    /// as the hreflang rules ask).
    alternates: Vec<Alternate>,
    /// JSON-LD blocks, already escaped for a script element (`structured::script_json`).
    json_ld: Vec<String>,
    twitter_site: Option<String>,
    /// `og:locale`: `en`, `ru`, `pt_BR`.
    locale: String,
    /// `<meta name="robots">`, for pages search engines should show with large images.
    robots: Option<&'static str>,
}

/// The social card image: one file wide enough for large cards.
#[derive(Serialize)]
struct ImageMeta {
    url: String,
    width: Option<u32>,
    height: Option<u32>,
    alt: String,
}

#[derive(Serialize)]
struct FeedLink {
    title: String,
    url: String,
    #[serde(rename = "type")]
    media_type: &'static str,
}

#[derive(Serialize)]
struct Alternate {
    language: String,
    url: String,
}

/// Cards want about 1200 px; our widest variant below the original is 1600.
const CARD_IMAGE_WIDTH: u32 = 1600;

impl PageMeta {
    fn new(title: String, description: String, canonical: String, kind: &'static str) -> Self {
        PageMeta {
            title,
            description,
            canonical,
            kind,
            image: None,
            feeds: Vec::new(),
            alternates: Vec::new(),
            json_ld: Vec::new(),
            twitter_site: None,
            locale: String::new(),
            robots: None,
        }
    }

    /// What every page of one edition shares: its locale, the card account, and the
    /// edition's own feeds (a page about something narrower adds its own before them).
    fn for_edition(mut self, state: &AppState, config: &Config, lang: &str) -> Self {
        self.twitter_site = config.syndication.twitter_site.clone();
        // Google Discover shows only thumbnails of pages that do not allow large previews;
        // every page of an edition (front, listings, stories, briefs) shows pictures.
        self.robots = config
            .syndication
            .large_image_previews
            .then_some("max-image-preview:large");
        // `og:locale` is language_TERRITORY; a tag without a region says too little for it.
        self.locale = if lang.contains('-') {
            lang.replace('-', "_")
        } else {
            String::new()
        };
        let t = state.theme.strings(lang);
        let text = |key: &str| t.get(key).cloned().unwrap_or_else(|| key.to_owned());
        let (title, _) = feeds::heading(config, lang, &ListingSubject::Latest, false, &text);
        self.feeds
            .extend(feed_links(state, config, lang, &FeedSubject::All, &title));
        self
    }
}

/// The three formats of one feed, as `<link rel="alternate">` targets.
fn feed_links(
    state: &AppState,
    config: &Config,
    lang: &str,
    subject: &FeedSubject,
    title: &str,
) -> Vec<FeedLink> {
    FeedFormat::ALL
        .into_iter()
        .map(|format| FeedLink {
            title: format!(
                "{title} ({})",
                match format {
                    FeedFormat::Rss => "RSS",
                    FeedFormat::Atom => "Atom",
                    FeedFormat::Json => "JSON Feed",
                }
            ),
            url: format!(
                "{}{}",
                state.base_url,
                paths::feed_url(config, lang, subject, format)
            ),
            media_type: format.media_type(),
        })
        .collect()
}

/// The same page in every language of the site.
fn edition_alternates(
    state: &AppState,
    config: &Config,
    url_in: impl Fn(&str) -> String,
) -> Vec<Alternate> {
    if config.site.languages.len() < 2 {
        return Vec::new();
    }
    config
        .site
        .languages
        .iter()
        .map(|l| Alternate {
            language: l.clone(),
            url: format!("{}{}", state.base_url, url_in(l)),
        })
        .collect()
}

/// The live stream a page follows to add the latest news in place (live.js): the front
/// page and the first page of the latest news.
fn live_view(config: &Config, lang: &str) -> minijinja::Value {
    context! {
        url => format!("{}?lang={lang}", crate::live::PATH),
        time_zone => config.site.time_zone.clone(),
    }
}

async fn render(state: &AppState, route: &SiteRoute, page: u32) -> Result<Rendered, WebError> {
    let config = &state.config();
    let sections = &state.sections();
    let lang = route.language.as_str();
    let now = Timestamp::now();
    let zone = config.time_zone();
    let view = |item: &newsdesk_core::Item| ItemView::new(config, sections, &zone, item);
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
    let logo = state
        .theme
        .asset_url(config.site.logo.as_deref().unwrap_or("logo.svg"))
        .map(str::to_owned);

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
            let mut meta = PageMeta::new(
                config.site.name.clone(),
                config.site.tagline.clone(),
                absolute(&paths::home_url(config, lang)),
                "website",
            )
            .for_edition(state, config, lang);
            meta.alternates = edition_alternates(state, config, |l| paths::home_url(config, l));
            meta.json_ld
                .push(structured::script_json(&structured::website(
                    config,
                    &state.base_url,
                    lang,
                    logo.as_deref(),
                )));
            let html = state.theme.render(
                "home.html",
                context! {
                    site => val(SiteView::new(config, sections, &state.base_url, lang, None, now)),
                    t => val(&*t),
                    meta => val(meta),
                    breaking => val(front.breaking.as_ref().map(view)),
                    top => val(front.top.as_ref().map(|item| ItemView {
                        comments: counts.get(&item.id).copied().unwrap_or(0),
                        ..view(item)
                    })),
                    latest => val(views(&front.stream)),
                    live => live_view(config, lang),
                    rails => val(front.rails.iter().map(|rail| context! {
                        name => rail.section.name_in(lang),
                        url => paths::section_url(config, lang, &rail.section.slug),
                        items => val(counted(&rail.items, &counts)),
                    }).collect::<Vec<_>>()),
                },
            )?;
            Ok(Rendered::html(
                html,
                vec![keys::home(lang), keys::stream(lang)],
            ))
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
            let translations = newsroom.translations(&item).await?;
            let mut meta = PageMeta::new(
                format!("{} | {}", item_view.headline, config.site.name),
                item_view.teaser.clone(),
                absolute(&item_view.url),
                "article",
            );
            meta.image = item.hero.as_ref().map(|h| {
                let pick = views::image_at_most(h, CARD_IMAGE_WIDTH);
                ImageMeta {
                    url: absolute(&format!("/media/{}", pick.path)),
                    width: pick.width,
                    height: pick.height,
                    alt: h.alt.clone(),
                }
            });
            if !translations.is_empty() {
                meta.alternates = std::iter::once(&*item)
                    .chain(translations.iter())
                    .map(|t| Alternate {
                        language: t.language.clone(),
                        url: absolute(&paths::item_url(config, t)),
                    })
                    .collect();
            }
            let section_subject = FeedSubject::Section(item.section.clone());
            meta.feeds = feed_links(
                state,
                config,
                lang,
                &section_subject,
                &format!("{}: {}", config.site.name, item_view.section.name),
            );
            let mut meta = meta.for_edition(state, config, lang);
            meta.json_ld
                .push(structured::script_json(&structured::news_article(
                    config,
                    sections,
                    &state.base_url,
                    &item,
                    &item_view.teaser,
                    logo.as_deref(),
                )));
            meta.json_ld
                .push(structured::script_json(&structured::breadcrumbs(&[
                    (
                        config.site.name.clone(),
                        absolute(&paths::home_url(config, lang)),
                    ),
                    (
                        item_view.section.name.clone(),
                        absolute(&item_view.section.url),
                    ),
                    (item_view.headline.clone(), absolute(&item_view.url)),
                ])));
            let mut page_keys = vec![
                keys::item(item.id),
                keys::stream(lang),
                keys::section(lang, &item.section),
            ];
            page_keys.extend(item.tags.iter().map(|t| keys::tag(&t.slug)));
            page_keys.extend(related.iter().map(|r| keys::item(r.id)));
            // hreflang links name the translations' addresses.
            page_keys.extend(translations.iter().map(|r| keys::item(r.id)));
            let html = state.theme.render(
                "item.html",
                context! {
                    site => val(SiteView::new(config, sections, &state.base_url, lang, Some(&item.section), now)),
                    t => val(&*t),
                    meta => val(meta),
                    item => val(item_view),
                    related => val(views(&related)),
                    latest => val(views(&stream)),
                    comments => discussion.as_ref().map(|(thread, _)| val(crate::site::comments::thread_views(state, thread, None))),
                    discussion => discussion.as_ref().map(|(thread, closed)| context! {
                        item_id => item.id,
                        total => thread.total,
                        more => thread.pages > 1,
                        closed => *closed,
                        url => format!("/comments/{}", item.id),
                    }),
                },
            )?;
            Ok(Rendered::html(html, page_keys))
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
            let mut meta = PageMeta::new(
                title,
                description.clone(),
                absolute(&paths::with_page(&base, found.page)),
                "website",
            );
            let own_feed = match &found.subject {
                ListingSubject::Latest => None,
                ListingSubject::Section(s) => Some(FeedSubject::Section(s.slug.clone())),
                ListingSubject::Tag(t) => Some(FeedSubject::Tag(t.slug.clone())),
                ListingSubject::Author(a) => Some(FeedSubject::Author(a.slug.clone())),
            };
            if let Some(subject) = own_feed {
                let (feed_title, _) = feeds::heading(config, lang, &found.subject, false, &text);
                meta.feeds = feed_links(state, config, lang, &subject, &feed_title);
            }
            let mut meta = meta.for_edition(state, config, lang);
            match &found.subject {
                ListingSubject::Latest => {
                    meta.alternates =
                        edition_alternates(state, config, |l| paths::latest_url(config, l));
                }
                ListingSubject::Section(s) => {
                    meta.alternates = edition_alternates(state, config, |l| {
                        paths::section_url(config, l, &s.slug)
                    });
                    meta.json_ld
                        .push(structured::script_json(&structured::breadcrumbs(&[
                            (
                                config.site.name.clone(),
                                absolute(&paths::home_url(config, lang)),
                            ),
                            (heading.clone(), absolute(&base)),
                        ])));
                }
                _ => {}
            }
            if found.page > 1 {
                // Other pages of a listing are not the same page in another language.
                meta.alternates.clear();
            }
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
                    site => val(SiteView::new(config, sections, &state.base_url, lang, current, now)),
                    t => val(&*t),
                    meta => val(meta),
                    kind => kind,
                    heading => heading,
                    description => description,
                    items => val(counted(&found.items, &counts)),
                    total => found.total,
                    pager => val(PagerView::new(&base, found.page, found.pages)),
                    latest => val(views(&stream)),
                    live => (matches!(listing, Listing::Latest) && found.page == 1)
                        .then(|| live_view(config, lang)),
                },
            )?;
            let mut page_keys = vec![key, keys::stream(lang)];
            page_keys.dedup();
            Ok(Rendered::html(html, page_keys))
        }
        SitePage::Feed { subject, format } => {
            let (listing, briefs) = feeds::listing_of(subject);
            let Some((found, items)) = newsroom
                .feed(lang, &listing, briefs, config.syndication.feed_items)
                .await?
            else {
                return Err(WebError::NotFound);
            };
            let (title, description) = feeds::heading(config, lang, &found, briefs, &text);
            let page_url = match subject {
                FeedSubject::All | FeedSubject::Briefs => paths::latest_url(config, lang),
                FeedSubject::Section(s) => paths::section_url(config, lang, s),
                FeedSubject::Tag(s) => paths::tag_url(config, lang, s),
                FeedSubject::Author(s) => paths::author_url(config, lang, s),
            };
            let entries: Vec<_> = items
                .iter()
                .map(|i| feeds::entry(config, sections, &state.base_url, i))
                .collect();
            let updated = entries
                .iter()
                .map(|e| e.updated)
                .max()
                .unwrap_or(Timestamp::UNIX_EPOCH);
            let feed = feeds::Feed {
                title,
                description,
                language: lang.to_owned(),
                page_url: absolute(&page_url),
                self_url: absolute(&paths::route_url(config, route)),
                hub: config.syndication.websub_hub.clone(),
                publisher: (
                    config.site.name.clone(),
                    absolute(&paths::home_url(config, lang)),
                ),
                updated,
                entries,
            };
            let body = feeds::render(&feed, *format)?;
            // Every page of the edition carries the stream key, and so does every feed: any
            // publication in the edition, and any rename of a section, tag or author, purges it.
            let mut feed_keys = vec![keys::stream(lang)];
            match subject {
                FeedSubject::Section(s) => feed_keys.push(keys::section(lang, s)),
                FeedSubject::Tag(s) => feed_keys.push(keys::tag(s)),
                FeedSubject::Author(s) => feed_keys.push(keys::author(s)),
                FeedSubject::All | FeedSubject::Briefs => {}
            }
            Ok(Rendered::document(Document {
                body,
                content_type: format.content_type(),
                keys: feed_keys,
                last_modified: (!items.is_empty()).then_some(updated),
            }))
        }
        SitePage::Sitemap(part) => Ok(Rendered::document(sitemaps::render(state, part).await?)),
        SitePage::Robots => Ok(Rendered::document(sitemaps::robots(&state.base_url))),
    }
}

/// Per-address render locks (see `page`). An entry lives exactly as long as someone holds or
/// waits for its lock: release happens when the last `RenderTurn` drops, so a render whose
/// client hung up (its future dropped mid-render or mid-wait) cannot leave an entry behind.
#[derive(Default)]
pub struct RenderLocks(std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

impl RenderLocks {
    /// Joins the queue for `address`; the turn is ours after `RenderTurn::wait`.
    pub fn turn(&self, address: &str) -> RenderTurn<'_> {
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
pub struct RenderTurn<'a> {
    locks: &'a RenderLocks,
    address: String,
    lock: Option<Arc<tokio::sync::Mutex<()>>>,
    held: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl RenderTurn<'_> {
    /// Waits until every render of this address that started earlier has finished.
    pub async fn wait(&mut self) {
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
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

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
}
