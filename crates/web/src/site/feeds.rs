//! Feeds: RSS 2.0, Atom 1.0 and JSON Feed 1.1 of one edition, a section, a tag, an author or
//! the briefs. XML is written with quick-xml's writer and JSON with serde_json, so escaping
//! is right by construction; nothing here concatenates markup. Feeds are cached like pages.

use std::io;

use jiff::Timestamp;
use newsdesk_core::config::FeedContent;
use newsdesk_core::event::keys;
use newsdesk_core::{Config, HeroImage, Item, Sections};
use newsdesk_services::{Listing, ListingSubject};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use serde_json::json;

use crate::AppState;
use crate::error::WebError;
use crate::paths::{self, FeedFormat, FeedSubject, SiteRoute};
use crate::views::{self, ImageChoice};

/// A rendered feed or sitemap: its body, type, surrogate keys and real change time.
pub struct Document {
    pub body: String,
    pub content_type: &'static str,
    pub keys: Vec<String>,
    pub last_modified: Option<Timestamp>,
}

/// Widest hero image a feed points at: big enough for any reader's column, and one of the
/// widths an upload always has (see `views::image_choices`).
const FEED_IMAGE_WIDTH: u32 = 1024;

/// Characters XML 1.0 cannot carry even escaped (§2.2: C0 controls but tab, LF and CR;
/// U+FFFE, U+FFFF). Validation already refuses them in items; this keeps any text that
/// reaches a feed (a tag name, a setting) well-formed whatever its origin. C1 controls are
/// legal but never meaningful text, so they go too.
pub fn xml_safe(text: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| {
        (c < ' ' && !matches!(c, '\t' | '\n' | '\r'))
            || ('\u{7f}'..='\u{9f}').contains(&c)
            || c == '\u{fffe}'
            || c == '\u{ffff}'
    };
    if text.chars().any(bad) {
        text.chars().filter(|c| !bad(*c)).collect::<String>().into()
    } else {
        text.into()
    }
}

/// One item as every feed format sees it.
pub struct Entry {
    /// Stable across edits, slug and section changes: a tag URI (RFC 4151) of the item id.
    pub id: String,
    pub url: String,
    pub title: String,
    pub summary: String,
    pub content_html: Option<String>,
    pub published: Timestamp,
    pub updated: Timestamp,
    /// Name and absolute author page.
    pub authors: Vec<(String, String)>,
    /// Section first, then tags: (term, label, absolute page).
    pub categories: Vec<(String, String, String)>,
    pub image: Option<FeedImage>,
    pub language: String,
}

pub struct FeedImage {
    pub url: String,
    pub mime: &'static str,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub alt: String,
    pub credit: String,
}

/// What a feed is, around its entries.
pub struct Feed {
    pub title: String,
    pub description: String,
    pub language: String,
    pub page_url: String,
    pub self_url: String,
    pub hub: Option<String>,
    /// The outlet's name and home page: Atom (RFC 4287 §4.1.1) wants a feed-level author
    /// whenever any entry has none, as briefs and agency copy often do.
    pub publisher: (String, String),
    /// The newest entry's change; the epoch for an empty feed, so its ETag stays put.
    pub updated: Timestamp,
    pub entries: Vec<Entry>,
}

/// `news.example.org` from `https://news.example.org:8443`: the tagging authority of ids.
fn authority(base_url: &str) -> &str {
    let rest = base_url.split_once("://").map_or(base_url, |(_, r)| r);
    let host = rest.split('/').next().unwrap_or(rest);
    if host.starts_with('[') {
        return host
            .split(']')
            .next()
            .map_or(host, |h| h.trim_start_matches('['));
    }
    host.rsplit_once(':').map_or(host, |(h, _)| h)
}

/// `tag:news.example.org,2026:item:42`: the year of first publication never changes, and
/// neither does the id, so a reader never sees an edited story twice.
pub fn entry_id(base_url: &str, item: &Item) -> String {
    let first = item
        .first_published_at
        .or(item.published_at)
        .unwrap_or(item.created_at);
    format!(
        "tag:{},{}:item:{}",
        authority(base_url),
        first.strftime("%Y"),
        item.id
    )
}

/// The time readers were last told the item changed: its update, else its publication.
pub fn last_changed(item: &Item) -> Timestamp {
    let published = item.published_at.unwrap_or(item.changed_at);
    item.updated_at
        .filter(|u| *u > published)
        .unwrap_or(published)
}

/// Sanitized body HTML links to `/media/…` and our own pages by path; a feed reader has no
/// page to resolve them against, so they are made absolute. The sanitizer writes every
/// attribute in double quotes, so these two forms are all there is.
fn absolute_links(html: &str, base_url: &str) -> String {
    html.replace("src=\"/", &format!("src=\"{base_url}/"))
        .replace("href=\"/", &format!("href=\"{base_url}/"))
        // A protocol-relative address was not ours: put it back.
        .replace(&format!("src=\"{base_url}//"), "src=\"//")
        .replace(&format!("href=\"{base_url}//"), "href=\"//")
}

pub fn mime_of(path: &str) -> &'static str {
    match path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .as_deref()
    {
        Some("png") => "image/png",
        Some("webp") => "image/webp",
        Some("gif") => "image/gif",
        Some("svg") => "image/svg+xml",
        _ => "image/jpeg",
    }
}

fn feed_image(base_url: &str, hero: &HeroImage) -> FeedImage {
    let ImageChoice {
        path,
        width,
        height,
    } = views::image_at_most(hero, FEED_IMAGE_WIDTH);
    FeedImage {
        url: format!("{base_url}/media/{path}"),
        mime: mime_of(&path),
        width,
        height,
        alt: hero.alt.clone(),
        credit: hero.credit.clone(),
    }
}

pub fn entry(config: &Config, sections: &Sections, base_url: &str, item: &Item) -> Entry {
    let lang = item.language.as_str();
    let section_name = sections.name(&item.section, lang);
    let summary = item.standfirst.clone().unwrap_or_else(|| {
        newsdesk_core::text::truncate_at_word(
            &newsdesk_core::text::plain_text(&item.body_html),
            config.pages.teaser_chars,
        )
    });
    let mut categories = vec![(
        item.section.clone(),
        section_name,
        format!(
            "{base_url}{}",
            paths::section_url(config, lang, &item.section)
        ),
    )];
    categories.extend(item.tags.iter().map(|t| {
        (
            t.slug.clone(),
            t.name.clone(),
            format!("{base_url}{}", paths::tag_url(config, lang, &t.slug)),
        )
    }));
    Entry {
        id: entry_id(base_url, item),
        url: format!("{base_url}{}", paths::item_url(config, item)),
        title: item.display_headline(),
        summary,
        content_html: (config.syndication.feed_content == FeedContent::Full)
            .then(|| absolute_links(&item.body_html, base_url)),
        published: item.published_at.unwrap_or(item.changed_at),
        updated: last_changed(item),
        authors: item
            .authors
            .iter()
            .map(|a| {
                (
                    a.name.clone(),
                    format!("{base_url}{}", paths::author_url(config, lang, &a.slug)),
                )
            })
            .collect(),
        categories,
        image: item.hero.as_ref().map(|h| feed_image(base_url, h)),
        language: item.language.clone(),
    }
}

/// A feed's whole answer, as the page cache keeps it: the newest items of its subject in
/// `format`, with the keys that purge it and its real change time.
pub async fn document(
    state: &AppState,
    route: &SiteRoute,
    subject: &FeedSubject,
    format: FeedFormat,
) -> Result<Document, WebError> {
    let config = &state.config();
    let sections = &state.sections();
    let lang = route.language.as_str();
    let t = state.theme.strings(lang);
    let text = |key: &str| t.get(key).cloned().unwrap_or_else(|| key.to_owned());
    let absolute = |path: &str| format!("{}{path}", state.base_url);
    let (listing, briefs) = listing_of(subject);
    let Some((found, items)) = state
        .newsroom
        .feed(lang, &listing, briefs, config.syndication.feed_items)
        .await?
    else {
        return Err(WebError::NotFound);
    };
    let (title, description) = heading(config, lang, &found, briefs, &text);
    let page_url = match subject {
        FeedSubject::All | FeedSubject::Briefs => paths::latest_url(config, lang),
        FeedSubject::Section(s) => paths::section_url(config, lang, s),
        FeedSubject::Tag(s) => paths::tag_url(config, lang, s),
        FeedSubject::Author(s) => paths::author_url(config, lang, s),
    };
    let entries: Vec<_> = items
        .iter()
        .map(|i| entry(config, sections, &state.base_url, i))
        .collect();
    let updated = entries
        .iter()
        .map(|e| e.updated)
        .max()
        .unwrap_or(Timestamp::UNIX_EPOCH);
    let feed = Feed {
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
    let body = render(&feed, format)?;
    // Every page of the edition carries the stream key, and so does every feed: any
    // publication in the edition, and any rename of a section, tag or author, purges it.
    let mut feed_keys = vec![keys::stream(lang)];
    match subject {
        FeedSubject::Section(s) => feed_keys.push(keys::section(lang, s)),
        FeedSubject::Tag(s) => feed_keys.push(keys::tag(s)),
        FeedSubject::Author(s) => feed_keys.push(keys::author(s)),
        FeedSubject::All | FeedSubject::Briefs => {}
    }
    Ok(Document {
        body,
        content_type: format.content_type(),
        keys: feed_keys,
        last_modified: (!items.is_empty()).then_some(updated),
    })
}

/// The listing a feed subject reads, and whether only briefs.
fn listing_of(subject: &FeedSubject) -> (Listing, bool) {
    match subject {
        FeedSubject::All => (Listing::Latest, false),
        FeedSubject::Briefs => (Listing::Latest, true),
        FeedSubject::Section(s) => (Listing::Section(s.clone()), false),
        FeedSubject::Tag(s) => (Listing::Tag(s.clone()), false),
        FeedSubject::Author(s) => (Listing::Author(s.clone()), false),
    }
}

/// Title and description of a feed, in the edition's words.
pub fn heading(
    config: &Config,
    language: &str,
    subject: &ListingSubject,
    briefs: bool,
    text: &dyn Fn(&str) -> String,
) -> (String, String) {
    let site = &config.site.name;
    match subject {
        ListingSubject::Latest if briefs => (
            format!("{site}: {}", text("briefs")),
            format!("{} — {site}", text("briefs")),
        ),
        ListingSubject::Latest => (site.clone(), config.site.tagline.clone()),
        ListingSubject::Section(s) => (
            format!("{site}: {}", s.name_in(language)),
            format!("{} — {site}", s.name_in(language)),
        ),
        ListingSubject::Tag(t) => (
            format!("{site}: {}", t.name),
            format!("{}: {}", text("tagged"), t.name),
        ),
        ListingSubject::Author(a) => (format!("{site}: {}", a.name), a.bio.clone()),
    }
}

pub fn render(feed: &Feed, format: FeedFormat) -> Result<String, WebError> {
    let written = match format {
        FeedFormat::Rss => rss(feed),
        FeedFormat::Atom => atom(feed),
        FeedFormat::Json => return json_feed(feed),
    };
    let bytes = written.map_err(|e| WebError::Internal(format!("writing a feed: {e}")))?;
    String::from_utf8(bytes).map_err(|e| WebError::Internal(e.to_string()))
}

type Xml = Writer<Vec<u8>>;

fn text_element(w: &mut Xml, name: &str, value: &str) -> io::Result<()> {
    w.create_element(name)
        .write_text_content(BytesText::new(&xml_safe(value)))?;
    Ok(())
}

/// RFC 822 dates, as RSS 2.0 asks ("Sat, 07 Sep 2002 09:42:31 GMT").
fn rfc822(at: Timestamp) -> String {
    crate::http::http_date(at)
}

fn rfc3339(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub(crate) fn xml_writer() -> io::Result<Xml> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 1);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))?;
    Ok(w)
}

fn media_content(w: &mut Xml, image: &FeedImage) -> io::Result<()> {
    let mut element = w
        .create_element("media:content")
        .with_attribute(("url", xml_safe(&image.url).as_ref()))
        .with_attribute(("type", image.mime))
        .with_attribute(("medium", "image"));
    let width = image.width.map(|v| v.to_string());
    let height = image.height.map(|v| v.to_string());
    if let (Some(width), Some(height)) = (&width, &height) {
        element = element
            .with_attribute(("width", width.as_str()))
            .with_attribute(("height", height.as_str()));
    }
    element.write_inner_content(|w| {
        if !image.alt.is_empty() {
            text_element(w, "media:description", &image.alt)?;
        }
        if !image.credit.is_empty() {
            text_element(w, "media:credit", &image.credit)?;
        }
        Ok(())
    })?;
    Ok(())
}

fn rss(feed: &Feed) -> io::Result<Vec<u8>> {
    let mut w = xml_writer()?;
    w.create_element("rss")
        .with_attribute(("version", "2.0"))
        .with_attribute(("xmlns:atom", "http://www.w3.org/2005/Atom"))
        .with_attribute(("xmlns:content", "http://purl.org/rss/1.0/modules/content/"))
        .with_attribute(("xmlns:dc", "http://purl.org/dc/elements/1.1/"))
        .with_attribute(("xmlns:media", "http://search.yahoo.com/mrss/"))
        .write_inner_content(|w| {
            w.create_element("channel").write_inner_content(|w| {
                text_element(w, "title", &feed.title)?;
                text_element(w, "link", &feed.page_url)?;
                text_element(w, "description", &feed.description)?;
                text_element(w, "language", &feed.language)?;
                text_element(w, "lastBuildDate", &rfc822(feed.updated))?;
                text_element(w, "generator", "newsdesk")?;
                w.create_element("atom:link")
                    .with_attribute(("rel", "self"))
                    .with_attribute(("type", FeedFormat::Rss.media_type()))
                    .with_attribute(("href", xml_safe(&feed.self_url).as_ref()))
                    .write_empty()?;
                if let Some(hub) = &feed.hub {
                    w.create_element("atom:link")
                        .with_attribute(("rel", "hub"))
                        .with_attribute(("href", xml_safe(hub).as_ref()))
                        .write_empty()?;
                }
                for e in &feed.entries {
                    w.create_element("item").write_inner_content(|w| {
                        text_element(w, "title", &e.title)?;
                        text_element(w, "link", &e.url)?;
                        w.create_element("guid")
                            .with_attribute(("isPermaLink", "false"))
                            .write_text_content(BytesText::new(&xml_safe(&e.id)))?;
                        text_element(w, "pubDate", &rfc822(e.published))?;
                        // RSS 2.0 has no update date; Atom's element is the common extension.
                        text_element(w, "atom:updated", &rfc3339(e.updated))?;
                        text_element(w, "description", &e.summary)?;
                        if let Some(html) = &e.content_html {
                            text_element(w, "content:encoded", html)?;
                        }
                        // RSS's <author> wants an e-mail address; bylines are names.
                        for (name, _) in &e.authors {
                            text_element(w, "dc:creator", name)?;
                        }
                        for (i, (_, label, _)) in e.categories.iter().enumerate() {
                            w.create_element("category")
                                .with_attribute(("domain", if i == 0 { "section" } else { "tag" }))
                                .write_text_content(BytesText::new(&xml_safe(label)))?;
                        }
                        if let Some(image) = &e.image {
                            media_content(w, image)?;
                        }
                        Ok(())
                    })?;
                }
                Ok(())
            })?;
            Ok(())
        })?;
    Ok(w.into_inner())
}

fn atom(feed: &Feed) -> io::Result<Vec<u8>> {
    let mut w = xml_writer()?;
    w.create_element("feed")
        .with_attribute(("xmlns", "http://www.w3.org/2005/Atom"))
        .with_attribute(("xmlns:media", "http://search.yahoo.com/mrss/"))
        .with_attribute(("xml:lang", xml_safe(&feed.language).as_ref()))
        .write_inner_content(|w| {
            // The feed's own address is its stable identity.
            text_element(w, "id", &feed.self_url)?;
            text_element(w, "title", &feed.title)?;
            if !feed.description.is_empty() {
                text_element(w, "subtitle", &feed.description)?;
            }
            text_element(w, "updated", &rfc3339(feed.updated))?;
            text_element(w, "generator", "newsdesk")?;
            w.create_element("author").write_inner_content(|w| {
                text_element(w, "name", &feed.publisher.0)?;
                text_element(w, "uri", &feed.publisher.1)
            })?;
            w.create_element("link")
                .with_attribute(("rel", "self"))
                .with_attribute(("type", FeedFormat::Atom.media_type()))
                .with_attribute(("href", xml_safe(&feed.self_url).as_ref()))
                .write_empty()?;
            w.create_element("link")
                .with_attribute(("rel", "alternate"))
                .with_attribute(("type", "text/html"))
                .with_attribute(("href", xml_safe(&feed.page_url).as_ref()))
                .write_empty()?;
            if let Some(hub) = &feed.hub {
                w.create_element("link")
                    .with_attribute(("rel", "hub"))
                    .with_attribute(("href", xml_safe(hub).as_ref()))
                    .write_empty()?;
            }
            for e in &feed.entries {
                w.create_element("entry").write_inner_content(|w| {
                    text_element(w, "id", &e.id)?;
                    w.create_element("title")
                        .with_attribute(("type", "text"))
                        .write_text_content(BytesText::new(&xml_safe(&e.title)))?;
                    w.create_element("link")
                        .with_attribute(("rel", "alternate"))
                        .with_attribute(("type", "text/html"))
                        .with_attribute(("href", xml_safe(&e.url).as_ref()))
                        .write_empty()?;
                    text_element(w, "published", &rfc3339(e.published))?;
                    text_element(w, "updated", &rfc3339(e.updated))?;
                    for (name, uri) in &e.authors {
                        w.create_element("author").write_inner_content(|w| {
                            text_element(w, "name", name)?;
                            text_element(w, "uri", uri)
                        })?;
                    }
                    for (term, label, scheme) in &e.categories {
                        w.create_element("category")
                            .with_attribute(("term", xml_safe(term).as_ref()))
                            .with_attribute(("label", xml_safe(label).as_ref()))
                            .with_attribute(("scheme", xml_safe(scheme).as_ref()))
                            .write_empty()?;
                    }
                    w.create_element("summary")
                        .with_attribute(("type", "text"))
                        .write_text_content(BytesText::new(&xml_safe(&e.summary)))?;
                    if let Some(html) = &e.content_html {
                        w.create_element("content")
                            .with_attribute(("type", "html"))
                            .write_text_content(BytesText::new(&xml_safe(html)))?;
                    }
                    if let Some(image) = &e.image {
                        w.create_element("link")
                            .with_attribute(("rel", "enclosure"))
                            .with_attribute(("type", image.mime))
                            .with_attribute(("href", xml_safe(&image.url).as_ref()))
                            .write_empty()?;
                        media_content(w, image)?;
                    }
                    Ok(())
                })?;
            }
            Ok(())
        })?;
    Ok(w.into_inner())
}

fn json_feed(feed: &Feed) -> Result<String, WebError> {
    let items: Vec<serde_json::Value> = feed
        .entries
        .iter()
        .map(|e| {
            let mut item = json!({
                "id": e.id,
                "url": e.url,
                "title": e.title,
                "summary": e.summary,
                "date_published": rfc3339(e.published),
                "date_modified": rfc3339(e.updated),
                "authors": e.authors.iter().map(|(name, url)| json!({"name": name, "url": url})).collect::<Vec<_>>(),
                "tags": e.categories.iter().map(|(_, label, _)| label).collect::<Vec<_>>(),
                "language": e.language,
            });
            // JSON Feed 1.1: an item has content_html or content_text, at least one.
            match &e.content_html {
                Some(html) => item["content_html"] = json!(html),
                None => item["content_text"] = json!(e.summary),
            }
            if let Some(image) = &e.image {
                item["image"] = json!(image.url);
            }
            item
        })
        .collect();
    let mut doc = json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": feed.title,
        "home_page_url": feed.page_url,
        "feed_url": feed.self_url,
        "description": feed.description,
        "language": feed.language,
        "items": items,
    });
    if let Some(hub) = &feed.hub {
        doc["hubs"] = json!([{"type": "WebSub", "url": hub}]);
    }
    serde_json::to_string_pretty(&doc).map_err(|e| WebError::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_xml_cannot_carry_are_dropped_and_the_rest_kept() {
        assert_eq!(xml_safe("a\u{1}b\tc\u{85}d\u{fffe}🙂"), "ab\tcd🙂");
        assert!(matches!(xml_safe("plain"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn ids_use_the_host_without_port() {
        assert_eq!(
            authority("https://news.example.org:8443/x"),
            "news.example.org"
        );
        assert_eq!(authority("http://127.0.0.1:4000"), "127.0.0.1");
        assert_eq!(authority("http://[::1]:4000"), "::1");
    }

    #[test]
    fn body_links_become_absolute_and_foreign_ones_stay() {
        let html = r#"<a href="/world/x">x</a><img src="/media/a.jpg"><a href="//other.org/">o</a><a href="https://e.org/">e</a>"#;
        assert_eq!(
            absolute_links(html, "https://n.org"),
            r#"<a href="https://n.org/world/x">x</a><img src="https://n.org/media/a.jpg"><a href="//other.org/">o</a><a href="https://e.org/">e</a>"#
        );
    }
}
