//! The site's pages: one handler that resolves an address, answers from the page cache, and
//! on a miss renders the newsroom's page model through the theme (feeds and sitemaps are
//! rendered by their own modules). Only successful pages are cached; redirects and errors
//! are computed each time and never stored.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use minijinja::context;
use newsdesk_core::Config;
use newsdesk_core::event::keys;
use newsdesk_services::{ItemLookup, Listing, ListingSubject};

use crate::AppState;
use crate::cache::{self, CachedPage};
use crate::error::WebError;
use crate::http;
use crate::metrics::RouteName;
use crate::paths::{self, FeedSubject, Parsed, SitePage, SiteRoute};
use crate::site::error_page::error_page;
use crate::site::feeds::{self, Document};
use crate::site::meta::{
    Alternate, CARD_IMAGE_WIDTH, ImageMeta, PageMeta, edition_alternates, feed_links,
};
use crate::site::{sitemaps, structured};
use crate::theme::val;
use crate::views::{self, ItemView, PagerView, SiteView, thread_views};

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

/// What an address answers instead of a page: never cached.
enum Uncached {
    Redirect(String),
    Failed(WebError),
}

impl Rendered {
    fn html(html: String, keys: Vec<String>) -> Self {
        Rendered::Page {
            body: html,
            content_type: http::HTML,
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

pub async fn page(State(state): State<Arc<AppState>>, request: Request) -> Response {
    // The request taken whole: a cached page is answered without copying its headers.
    let (request, _body) = request.into_parts();
    let (method, uri, headers) = (&request.method, &request.uri, &request.headers);
    let default_language = || state.config().site.default_language.clone();
    if method != Method::GET && method != Method::HEAD {
        let mut response = error_page(&state, &default_language(), WebError::MethodNotAllowed);
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
        Parsed::NotFound => return error_page(&state, &default_language(), WebError::NotFound),
    };
    let name = route_name(&route.page);
    let page = match &route.page {
        SitePage::Home
        | SitePage::Item { .. }
        | SitePage::Feed { .. }
        | SitePage::Sitemap(_)
        | SitePage::Robots => 1,
        _ => match page_number(uri) {
            Ok(n) => n,
            Err(e) => return with_route(error_page(&state, &route.language, e), name),
        },
    };
    let address = paths::with_page(&paths::route_url(&state.config(), &route), page);
    let encoding = http::negotiate(headers);
    let answer = state
        .cache
        .get_or_render(&address, || async {
            match render(&state, &route, page).await {
                Ok(Rendered::Page {
                    body,
                    content_type,
                    keys,
                    last_modified,
                }) => {
                    let page = CachedPage::build(body, content_type, keys)
                        .with_last_modified(last_modified);
                    // Only what this reader takes; the other encoding waits for its reader.
                    cache::fill_body(page, encoding)
                        .await
                        .map_err(|e| Uncached::Failed(WebError::Internal(e.to_string())))
                }
                Ok(Rendered::Redirect(to)) => Err(Uncached::Redirect(to)),
                Err(e) => Err(Uncached::Failed(e)),
            }
        })
        .await;
    let response = match answer {
        Ok(page) => match state.cache.with_body(&address, page, encoding).await {
            Ok(page) => http::from_cached(&page, encoding, headers, method, &state.cache_control),
            Err(e) => error_page(&state, &route.language, WebError::Internal(e.to_string())),
        },
        Err(Uncached::Redirect(to)) => redirect(&to, name),
        Err(Uncached::Failed(e)) => error_page(&state, &route.language, e),
    };
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
            let story = match newsroom.item_page(lang, section, slug, now).await? {
                ItemLookup::Found(story) => story,
                ItemLookup::Moved(item) => {
                    return Ok(Rendered::Redirect(paths::item_url(config, &item)));
                }
                ItemLookup::Gone => return Err(WebError::Gone),
                ItemLookup::NotFound => return Err(WebError::NotFound),
            };
            let item: &newsdesk_core::Item = &story.item;
            let item_view = view(item);
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
            if !story.translations.is_empty() {
                meta.alternates = std::iter::once(item)
                    .chain(story.translations.iter())
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
                    item,
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
            page_keys.extend(story.related.iter().map(|r| keys::item(r.id)));
            // hreflang links name the translations' addresses.
            page_keys.extend(story.translations.iter().map(|r| keys::item(r.id)));
            let html = state.theme.render(
                "item.html",
                context! {
                    site => val(SiteView::new(config, sections, &state.base_url, lang, Some(&item.section), now)),
                    t => val(&*t),
                    meta => val(meta),
                    item => val(item_view),
                    related => val(views(&story.related)),
                    latest => val(views(&story.stream)),
                    comments => story.discussion.as_ref().map(|d| val(thread_views(config, &d.thread, None))),
                    discussion => story.discussion.as_ref().map(|d| context! {
                        item_id => item.id,
                        total => d.thread.total,
                        more => d.thread.pages > 1,
                        closed => d.closed,
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
        SitePage::Feed { subject, format } => Ok(Rendered::document(
            feeds::document(state, route, subject, *format).await?,
        )),
        SitePage::Sitemap(part) => Ok(Rendered::document(sitemaps::render(state, part).await?)),
        SitePage::Robots => Ok(Rendered::document(sitemaps::robots(&state.base_url))),
    }
}
