//! Syndication and discovery against the real binary: every feed read back by feed-rs and
//! checked field by field, sitemaps parsed and held to the protocol's limits, the news
//! sitemap's two-day window, JSON-LD and social tags in page heads, hostile text, and the
//! WebSub ping received by a listener of our own.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::TestSite;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

const T_PUBLISHED: &str = "2026-11-20T08:00:00Z";
const T_UPDATED: &str = "2026-11-20T10:30:00Z";
const T_BRIEF: &str = "2026-11-19T21:30:00Z";
const T_OCTOBER: &str = "2026-10-31T23:59:59Z";

/// Two authors, a story with everything (hero upload, tags, two bylines, a translation), its
/// Russian translation, a brief, and a story in October.
fn fixture() -> String {
    format!(
        r#"
[[authors]]
slug = "amina-rahimova"
name = "Amina Rahimova"
bio = "Covers coasts."

[[authors]]
slug = "leyla-memmedova"
name = "Leyla Məmmədova"

[[items]]
kind = "story"
language = "en"
section = "world"
slug = "gates-close"
headline = "Harbour gates close before the surge"
standfirst = "The gates rose before dawn."
body = "The gates rose. See [the map](/world/october-story)."
tags = ["Storms", "Port Halden"]
authors = ["amina-rahimova", "leyla-memmedova"]
translation_group = "gates"
status = "published"
published_at = "{T_PUBLISHED}"
updated_at = "{T_UPDATED}"
hero = {{ path = "uploads/2026/11/abc.jpg", alt = "Gates rising", caption = "The barrier at dawn", credit = "Photo: A. R.", width = 2000, height = 1000 }}

[[items]]
kind = "story"
language = "ru"
section = "world"
slug = "vorota"
headline = "Ворота закрыты"
body = "Текст."
translation_group = "gates"
status = "published"
published_at = "{T_PUBLISHED}"

[[items]]
kind = "brief"
language = "en"
section = "sport"
slug = "late-goal"
body = "A late goal settles the derby."
authors = ["amina-rahimova"]
status = "published"
published_at = "{T_BRIEF}"

[[items]]
kind = "story"
language = "en"
section = "world"
slug = "october-story"
headline = "An October story"
body = "Older."
status = "published"
published_at = "{T_OCTOBER}"
"#
    )
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("time")
}

async fn body_of(site: &TestSite, path: &str) -> (reqwest::header::HeaderMap, String) {
    let response = site.get(path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    let headers = response.headers().clone();
    (headers, response.text().await.expect("body"))
}

async fn feed(site: &TestSite, path: &str) -> (reqwest::header::HeaderMap, feed_rs::model::Feed) {
    let (headers, text) = body_of(site, path).await;
    let parsed = feed_rs::parser::parse(text.as_bytes())
        .unwrap_or_else(|e| panic!("{path} does not parse: {e}\n{text}"));
    (headers, parsed)
}

fn title(entry: &feed_rs::model::Entry) -> String {
    entry
        .title
        .as_ref()
        .map(|t| t.content.clone())
        .unwrap_or_default()
}

fn link(entry: &feed_rs::model::Entry) -> String {
    entry
        .links
        .first()
        .map(|l| l.href.clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn every_feed_parses_and_carries_each_field() {
    let site = TestSite::empty();
    site.import_ok(&fixture());
    let base = site.base.clone();
    let story_url = format!("{base}/world/gates-close");
    for format in ["rss", "atom", "json"] {
        let path = format!("/feeds/all.{format}");
        let (headers, parsed) = feed(&site, &path).await;
        let content_type = headers["content-type"].to_str().expect("type");
        assert!(
            content_type.starts_with(match format {
                "rss" => "application/rss+xml",
                "atom" => "application/atom+xml",
                _ => "application/feed+json",
            }),
            "{content_type}"
        );
        assert_eq!(
            parsed.title.as_ref().map(|t| t.content.as_str()),
            Some("Newsdesk Demo"),
            "{path}"
        );
        // Newest first, English only (the Russian translation is in /ru/feeds).
        let titles: Vec<String> = parsed.entries.iter().map(title).collect();
        assert_eq!(
            titles,
            vec![
                "Harbour gates close before the surge",
                "A late goal settles the derby.",
                "An October story"
            ],
            "{path}"
        );
        let story = &parsed.entries[0];
        assert!(
            story.id.starts_with("tag:127.0.0.1,2026:item:"),
            "{path}: {}",
            story.id
        );
        assert_eq!(link(story), story_url, "{path}");
        assert_eq!(
            story.published.map(|t| t.timestamp()),
            Some(ts(T_PUBLISHED).as_second()),
            "{path}"
        );
        assert_eq!(
            story.updated.map(|t| t.timestamp()),
            Some(ts(T_UPDATED).as_second()),
            "{path}"
        );
        let authors: Vec<String> = story
            .authors
            .iter()
            .map(|a| a.name.clone().unwrap_or_default())
            .collect();
        assert_eq!(authors, vec!["Amina Rahimova", "Leyla Məmmədova"], "{path}");
        if format != "rss" {
            assert_eq!(
                story.authors[0].uri.as_deref(),
                Some(format!("{base}/author/amina-rahimova").as_str()),
                "{path}"
            );
        }
        let categories: BTreeSet<String> = story
            .categories
            .iter()
            .map(|c| c.label.clone().unwrap_or_else(|| c.term.clone()))
            .collect();
        for expected in ["World", "Storms", "Port Halden"] {
            assert!(categories.contains(expected), "{path}: {categories:?}");
        }
        // Full content by default, with our links made absolute for readers elsewhere.
        let content = story
            .content
            .as_ref()
            .and_then(|c| c.body.clone())
            .unwrap_or_default();
        assert!(
            content.contains(&format!("href=\"{base}/world/october-story\"")),
            "{path}: {content}"
        );
        assert_eq!(
            story.summary.as_ref().map(|s| s.content.as_str()),
            Some("The gates rose before dawn."),
            "{path}"
        );
        // The hero: the 1024-wide variant of the upload.
        let hero = format!("{base}/media/uploads/2026/11/abc-1024.jpg");
        if format == "json" {
            let (_, json) = body_of(&site, &path).await;
            let doc: Value = serde_json::from_str(&json).expect("json");
            assert_eq!(doc["version"], "https://jsonfeed.org/version/1.1");
            assert_eq!(doc["feed_url"], format!("{base}/feeds/all.json"));
            assert_eq!(doc["items"][0]["image"], hero);
            assert_eq!(doc["items"][0]["date_modified"], T_UPDATED);
            assert_eq!(doc["items"][0]["language"], "en");
        } else {
            let media: Vec<_> = story.media.iter().flat_map(|m| m.content.iter()).collect();
            let found = media
                .iter()
                .find(|c| c.url.as_ref().map(|u| u.as_str()) == Some(hero.as_str()))
                .unwrap_or_else(|| panic!("{path}: no media:content {hero} in {media:?}"));
            assert_eq!(
                (found.width, found.height),
                (Some(1024), Some(512)),
                "{path}"
            );
            let self_link = parsed
                .links
                .iter()
                .find(|l| l.rel.as_deref() == Some("self"))
                .map(|l| l.href.clone());
            assert_eq!(self_link, Some(format!("{base}{path}")), "{path}");
        }
    }

    // Each narrower feed holds exactly its items.
    for (path, expected) in [
        ("/feeds/briefs.atom", vec!["A late goal settles the derby."]),
        (
            "/feeds/section/world.rss",
            vec!["Harbour gates close before the surge", "An October story"],
        ),
        (
            "/feeds/tag/storms.json",
            vec!["Harbour gates close before the surge"],
        ),
        (
            "/feeds/author/amina-rahimova.atom",
            vec![
                "Harbour gates close before the surge",
                "A late goal settles the derby.",
            ],
        ),
        ("/ru/feeds/all.rss", vec!["Ворота закрыты"]),
    ] {
        let (_, parsed) = feed(&site, path).await;
        let titles: Vec<String> = parsed.entries.iter().map(title).collect();
        assert_eq!(titles, expected, "{path}");
    }
    // Atom wants an author on the feed when an entry has none (the October story).
    let (_, atom_text) = body_of(&site, "/feeds/all.atom").await;
    let atom_doc = xml(&atom_text);
    let feed_authors = children(atom_doc.root_element(), "author");
    assert_eq!(feed_authors.len(), 1);
    assert_eq!(child_text(feed_authors[0], "name"), "Newsdesk Demo");
    let (_, briefs) = feed(&site, "/feeds/briefs.atom").await;
    assert_eq!(
        briefs.title.map(|t| t.content),
        Some("Newsdesk Demo: Briefs".to_owned())
    );
    let (_, section) = feed(&site, "/ru/feeds/section/world.rss").await;
    assert_eq!(
        section.title.map(|t| t.content),
        Some("Newsdesk Demo: Мир".to_owned()),
        "the edition's own section name"
    );
    for missing in [
        "/feeds/tag/no-such-tag.rss",
        "/feeds/author/nobody.json",
        "/feeds/section/weather.atom",
    ] {
        assert_eq!(site.get(missing).await.status(), 404, "{missing}");
    }
}

#[tokio::test]
async fn an_edited_story_keeps_its_feed_id_and_moves_its_updated_time() {
    let site = TestSite::empty();
    site.import_ok(&fixture());
    let (_, before) = feed(&site, "/feeds/all.atom").await;
    let id = before.entries[0].id.clone();
    let (_, month_before) = body_of(&site, "/sitemap-items-2026-11.xml").await;
    assert!(month_before.contains(T_UPDATED));
    let edited = fixture()
        .replace(
            "Harbour gates close before the surge",
            "Harbour gates hold as the surge peaks",
        )
        .replace(T_UPDATED, "2026-11-20T18:00:00Z");
    site.import_ok(&edited);
    // The import is another process: the server learns of it from the event log, which
    // purges the cached feed.
    let started = std::time::Instant::now();
    let after = loop {
        let (_, parsed) = feed(&site, "/feeds/all.atom").await;
        if title(&parsed.entries[0]) == "Harbour gates hold as the surge peaks" {
            break parsed;
        }
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "the feed never changed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(after.entries[0].id, id, "the id survives an edit");
    // The same event purged the cached sitemap: its lastmod is the new update.
    let (_, month_after) = body_of(&site, "/sitemap-items-2026-11.xml").await;
    assert!(
        month_after.contains("2026-11-20T18:00:00Z"),
        "{month_after}"
    );
    assert_eq!(
        after.entries[0].updated.map(|t| t.timestamp()),
        Some(ts("2026-11-20T18:00:00Z").as_second())
    );
    assert_eq!(
        after.entries[0].published.map(|t| t.timestamp()),
        Some(ts(T_PUBLISHED).as_second()),
        "publication stays"
    );
}

#[tokio::test]
async fn feeds_answer_conditional_requests_and_carry_cache_headers() {
    let site = TestSite::empty();
    site.import_ok(&fixture());
    for path in [
        "/feeds/all.rss",
        "/feeds/section/world.json",
        "/sitemap.xml",
    ] {
        let first = site.get(path).await;
        assert_eq!(first.status(), 200);
        let header = |name: &str| first.headers()[name].to_str().expect("header").to_owned();
        let etag = header("etag");
        let last_modified = header("last-modified");
        assert!(header("cache-control").contains("s-maxage="), "{path}");
        assert!(header("surrogate-key").contains("stream:en"), "{path}");
        let by_etag = site.get_with(path, &[("if-none-match", &etag)]).await;
        assert_eq!(by_etag.status(), 304, "{path} by ETag");
        let by_date = site
            .get_with(path, &[("if-modified-since", &last_modified)])
            .await;
        assert_eq!(by_date.status(), 304, "{path} by date");
        let earlier = site
            .get_with(
                path,
                &[("if-modified-since", "Sat, 01 Jan 2000 00:00:00 GMT")],
            )
            .await;
        assert_eq!(earlier.status(), 200, "{path} changed since 2000");
    }
    let (headers, _) = body_of(&site, "/feeds/all.rss").await;
    assert_eq!(
        headers["last-modified"].to_str().expect("date"),
        "Fri, 20 Nov 2026 10:30:00 GMT",
        "the newest item's update"
    );
}

#[tokio::test]
async fn the_excerpt_and_length_settings_shape_feeds() {
    let site = TestSite::start_with(
        common::demo_config_text(),
        &[],
        &[
            ("NEWSDESK_SYNDICATION__FEED_CONTENT", "excerpt"),
            ("NEWSDESK_SYNDICATION__FEED_ITEMS", "2"),
        ],
    );
    site.import_ok(&fixture());
    // Three English items, two in the feed: the newest.
    let (_, atom) = feed(&site, "/feeds/all.atom").await;
    assert_eq!(
        atom.entries.iter().map(title).collect::<Vec<_>>(),
        vec![
            "Harbour gates close before the surge",
            "A late goal settles the derby."
        ]
    );
    let (_, rss) = body_of(&site, "/feeds/all.rss").await;
    assert!(!rss.contains("content:encoded"), "{rss}");
    let (_, json) = body_of(&site, "/feeds/all.json").await;
    let doc: Value = serde_json::from_str(&json).expect("json");
    assert_eq!(
        doc["items"][0]["content_text"],
        "The gates rose before dawn."
    );
    assert!(doc["items"][0].get("content_html").is_none());
}

fn xml(text: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(text).unwrap_or_else(|e| panic!("not well-formed XML: {e}\n{text}"))
}

fn children<'a>(node: roxmltree::Node<'a, 'a>, name: &str) -> Vec<roxmltree::Node<'a, 'a>> {
    node.children()
        .filter(|c| c.tag_name().name() == name)
        .collect()
}

fn child_text(node: roxmltree::Node<'_, '_>, name: &str) -> String {
    node.children()
        .find(|c| c.tag_name().name() == name)
        .and_then(|c| c.text())
        .unwrap_or_default()
        .to_owned()
}

/// Every sitemap the index names: parsed, within the protocol's limits, as (loc, lastmod,
/// image locs) per URL.
async fn sitemaps(site: &TestSite) -> Vec<(String, Vec<(String, String, Vec<String>)>)> {
    let (_, index) = body_of(site, "/sitemap.xml").await;
    let doc = xml(&index);
    assert_eq!(doc.root_element().tag_name().name(), "sitemapindex");
    let mut out = Vec::new();
    for sitemap in children(doc.root_element(), "sitemap") {
        let loc = child_text(sitemap, "loc");
        let path = loc
            .strip_prefix(&site.base)
            .expect("our own address")
            .to_owned();
        let (_, text) = body_of(site, &path).await;
        assert!(text.len() <= 52_428_800, "{path} over 50 MB");
        let doc = xml(&text);
        let urls: Vec<_> = children(doc.root_element(), "url")
            .into_iter()
            .map(|u| {
                let images = children(u, "image")
                    .into_iter()
                    .map(|i| child_text(i, "loc"))
                    .collect();
                (child_text(u, "loc"), child_text(u, "lastmod"), images)
            })
            .collect();
        assert!(urls.len() <= 50_000, "{path} over 50,000 URLs");
        out.push((path, urls));
    }
    out
}

#[tokio::test]
async fn sitemaps_split_items_by_month_and_keep_to_the_url_limit() {
    // Two URLs per file: November's three items need two files, October's one needs one.
    let site = TestSite::start_with(
        common::demo_config_text(),
        &[],
        &[("NEWSDESK_SYNDICATION__SITEMAP_URLS", "2")],
    );
    site.import_ok(&fixture());
    let base = site.base.clone();
    let all = sitemaps(&site).await;
    let paths: Vec<&str> = all.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "/sitemap-sections.xml",
            "/sitemap-tags.xml",
            "/sitemap-authors.xml",
            "/news-sitemap.xml",
            "/sitemap-items-2026-11.xml",
            "/sitemap-items-2026-11-2.xml",
            "/sitemap-items-2026-10.xml",
        ]
    );
    let file = |p: &str| &all.iter().find(|(path, _)| path == p).expect(p).1;
    for (path, urls) in &all {
        assert!(
            urls.len() <= 2,
            "{path}: {} URLs over the setting",
            urls.len()
        );
    }
    // Newest first across the month's files; lastmod is the real update.
    let november: Vec<_> = file("/sitemap-items-2026-11.xml")
        .iter()
        .chain(file("/sitemap-items-2026-11-2.xml"))
        .cloned()
        .collect();
    let locs: Vec<&str> = november.iter().map(|u| u.0.as_str()).collect();
    // The story and its translation share a publication time: the later id comes first.
    assert_eq!(
        locs,
        vec![
            format!("{base}/ru/world/vorota"),
            format!("{base}/world/gates-close"),
            format!("{base}/sport/late-goal"),
        ]
    );
    assert_eq!(november[1].1, T_UPDATED);
    assert_eq!(november[0].1, T_PUBLISHED);
    assert_eq!(
        november[1].2,
        vec![format!("{base}/media/uploads/2026/11/abc.jpg")],
        "the widest file of the hero"
    );
    assert!(november[0].2.is_empty());
    assert_eq!(
        file("/sitemap-items-2026-10.xml")
            .iter()
            .map(|u| (u.0.clone(), u.1.clone()))
            .collect::<Vec<_>>(),
        vec![(format!("{base}/world/october-story"), T_OCTOBER.to_owned())]
    );
    // A part past the end is not a file.
    assert_eq!(site.get("/sitemap-items-2026-11-3.xml").await.status(), 404);
}

#[tokio::test]
async fn listing_sitemaps_name_each_edition_section_tag_and_author_with_its_last_change() {
    let site = TestSite::empty();
    site.import_ok(&fixture());
    let base = site.base.clone();
    let all = sitemaps(&site).await;
    let file = |p: &str| {
        all.iter()
            .find(|(path, _)| path == p)
            .expect(p)
            .1
            .iter()
            .map(|u| {
                (
                    u.0.strip_prefix(&base).expect("ours").to_owned(),
                    u.1.clone(),
                )
            })
            .collect::<BTreeSet<_>>()
    };
    let set = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(
        file("/sitemap-sections.xml"),
        set(&[
            ("/", T_UPDATED),
            ("/latest", T_UPDATED),
            ("/world", T_UPDATED),
            ("/sport", T_BRIEF),
            ("/ru/", T_PUBLISHED),
            ("/ru/latest", T_PUBLISHED),
            ("/ru/world", T_PUBLISHED),
        ])
    );
    assert_eq!(
        file("/sitemap-tags.xml"),
        set(&[("/tag/storms", T_UPDATED), ("/tag/port-halden", T_UPDATED)])
    );
    assert_eq!(
        file("/sitemap-authors.xml"),
        set(&[
            ("/author/amina-rahimova", T_UPDATED),
            ("/author/leyla-memmedova", T_UPDATED)
        ])
    );
    let (headers, robots) = body_of(&site, "/robots.txt").await;
    assert!(
        headers["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/plain")
    );
    for line in [
        "User-agent: *".to_owned(),
        "Disallow: /desk$".to_owned(),
        "Disallow: /desk/".to_owned(),
        "Disallow: /api/".to_owned(),
        format!("Sitemap: {base}/sitemap.xml"),
        format!("Sitemap: {base}/news-sitemap.xml"),
        format!("Sitemap: {base}/sitemap-sections.xml"),
        format!("Sitemap: {base}/sitemap-tags.xml"),
        format!("Sitemap: {base}/sitemap-authors.xml"),
    ] {
        assert!(
            robots.lines().any(|l| l == line),
            "{line} missing:\n{robots}"
        );
    }
}

/// The folder a sitemap's address is in, with its closing slash: `https://x.org/`.
fn folder_of(address: &str) -> &str {
    &address[..address.rfind('/').expect("a slash") + 1]
}

#[tokio::test]
async fn every_url_in_every_sitemap_is_under_the_sitemaps_own_folder() {
    // sitemaps.org, "Sitemap file location": a sitemap may list only URLs under its folder.
    let site = TestSite::start_with(
        common::demo_config_text(),
        &[],
        &[("NEWSDESK_SYNDICATION__SITEMAP_URLS", "2")],
    );
    site.import_ok(&fixture());
    let index = format!("{}/sitemap.xml", site.base);
    let all = sitemaps(&site).await;
    assert!(all.len() >= 7, "every kind of sitemap file is checked");
    let robots = body_of(&site, "/robots.txt").await.1;
    let named_by_robots: Vec<&str> = robots
        .lines()
        .filter_map(|l| l.strip_prefix("Sitemap: "))
        .collect();
    assert!(named_by_robots.len() >= 5, "{robots}");
    let mut checked = 0;
    for (path, urls) in &all {
        let address = format!("{}{path}", site.base);
        assert!(
            address.starts_with(folder_of(&index)),
            "the index names {address} outside its folder"
        );
        for (loc, _, images) in urls {
            assert!(
                loc.starts_with(folder_of(&address)),
                "{path} lists {loc}, outside {}",
                folder_of(&address)
            );
            // Image locations may be anywhere (Google's image extension), but ours are ours.
            for image in images {
                assert!(image.starts_with(&site.base), "{image}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} URLs were checked");
    for sitemap in named_by_robots {
        assert!(
            all.iter()
                .any(|(path, _)| format!("{}{path}", site.base) == sitemap)
                || sitemap == index,
            "robots.txt names {sitemap}, which the index does not"
        );
    }
}

#[tokio::test]
async fn the_old_sitemap_addresses_answer_301_to_their_root_files() {
    let site = TestSite::empty();
    site.import_ok(&fixture());
    for (old, new) in [
        ("/sitemaps/sections.xml", "/sitemap-sections.xml"),
        ("/sitemaps/tags.xml", "/sitemap-tags.xml"),
        ("/sitemaps/authors.xml", "/sitemap-authors.xml"),
        ("/sitemaps/tags-2.xml", "/sitemap-tags-2.xml"),
        ("/sitemaps/items-2026-11.xml", "/sitemap-items-2026-11.xml"),
        ("/sitemaps/items-2026-10.xml", "/sitemap-items-2026-10.xml"),
    ] {
        let response = site.get(old).await;
        assert_eq!(response.status(), 301, "{old}");
        assert_eq!(response.headers()["location"], new, "{old}");
    }
    // What the old names pointed at is still there under the new ones.
    body_of(&site, "/sitemap-items-2026-11.xml").await;
    body_of(&site, "/sitemap-sections.xml").await;
    assert_eq!(site.get("/sitemaps/items-2026-13.xml").await.status(), 404);
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
}

#[tokio::test]
async fn months_without_items_are_not_sitemaps_and_fill_no_cache() {
    // The fixture publishes in October and November 2026 only.
    let site = TestSite::empty();
    site.import_ok(&fixture());
    body_of(&site, "/sitemap-items-2026-10.xml").await;
    body_of(&site, "/sitemap-items-2026-11.xml").await;
    let entries = |text: &str| metric(text, "newsdesk_page_cache_entries");
    let before = entries(&site.ok("/metrics").await.text);
    // The edges of the months a crawler can name, the months around the real ones, and a
    // part past the end of a real month.
    for path in [
        "/sitemap-items-1970-01.xml",
        "/sitemap-items-9999-12.xml",
        "/sitemap-items-2026-09.xml",
        "/sitemap-items-2026-12.xml",
        "/sitemap-items-2026-11-2.xml",
    ] {
        assert_eq!(site.get(path).await.status(), 404, "{path}");
    }
    // A crawl of many months at once: every one a 404, none kept.
    let site = &site;
    let crawl = (1971..2021).map(|year| {
        let path = format!("/sitemap-items-{year}-06.xml");
        async move { (site.get(&path).await.status().as_u16(), path) }
    });
    for (status, path) in futures_util::future::join_all(crawl).await {
        assert_eq!(status, 404, "{path}");
    }
    assert_eq!(entries(&site.ok("/metrics").await.text), before);
}

const LARGE_PREVIEWS: &str = "max-image-preview:large";

fn robots_meta(page: &common::Page) -> Vec<String> {
    page.select("meta[name=robots]")
        .iter()
        .filter_map(|m| m.value().attr("content").map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn edition_pages_invite_large_image_previews() {
    let site = TestSite::demo();
    for path in [
        "/",
        "/world/port-halden-closes-tidal-barrier-for-first-time",
        "/world/ferry-stranded-off-port-halden",
        "/world",
        "/latest",
        "/latest?page=2",
        "/tag/storms",
        "/author/leyla-memmedova",
        "/ru/",
        "/tr/science/uzay-teleskobu-su-buhari-tespit-etti",
    ] {
        let page = site.ok(path).await;
        assert_eq!(robots_meta(&page), [LARGE_PREVIEWS], "{path}");
    }
    // Pages that are not the edition's content say nothing of the kind.
    let missing = site.page("/no-such-page").await;
    assert_eq!(missing.status, 404);
    assert!(robots_meta(&missing).is_empty());
    assert_eq!(robots_meta(&site.ok("/search").await), ["noindex"]);
    assert!(robots_meta(&site.ok("/account/sign-in").await).is_empty());
}

#[tokio::test]
async fn large_image_previews_can_be_turned_off() {
    let site = TestSite::start_with(
        common::demo_config_text(),
        &["--demo"],
        &[("NEWSDESK_SYNDICATION__LARGE_IMAGE_PREVIEWS", "false")],
    );
    for path in [
        "/",
        "/world/port-halden-closes-tidal-barrier-for-first-time",
        "/world/ferry-stranded-off-port-halden",
        "/world",
    ] {
        let page = site.ok(path).await;
        assert!(robots_meta(&page).is_empty(), "{path}");
        // The page is otherwise whole: the switch removes one tag, not the head.
        assert_eq!(page.select("link[rel=canonical]").len(), 1, "{path}");
    }
}

fn news_item(slug: &str, headline: &str, at: Timestamp) -> String {
    format!(
        r#"
[[items]]
kind = "story"
section = "world"
slug = "{slug}"
headline = "{headline}"
body = "Text."
status = "published"
published_at = "{}"
"#,
        at.strftime("%Y-%m-%dT%H:%M:%SZ")
    )
}

/// (loc, name, language, publication date, title) of each news entry.
async fn news(site: &TestSite) -> Vec<(String, String, String, String, String)> {
    let (_, text) = body_of(site, "/news-sitemap.xml").await;
    assert!(text.len() <= 52_428_800);
    let doc = xml(&text);
    children(doc.root_element(), "url")
        .into_iter()
        .map(|u| {
            let news = children(u, "news")[0];
            let publication = children(news, "publication")[0];
            (
                child_text(u, "loc"),
                child_text(publication, "name"),
                child_text(publication, "language"),
                child_text(news, "publication_date"),
                child_text(news, "title"),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_news_sitemap_holds_the_last_two_days_only() {
    let site = TestSite::empty();
    let now = Timestamp::now();
    let inside = now - SignedDuration::from_hours(48) + SignedDuration::from_mins(5);
    let outside = now - SignedDuration::from_hours(48) - SignedDuration::from_mins(5);
    site.import_ok(&format!(
        "{}{}",
        news_item("just-inside", "Just inside the window", inside),
        news_item("just-outside", "Just outside the window", outside)
    ));
    let entries = news(&site).await;
    assert_eq!(
        entries,
        vec![(
            format!("{}/world/just-inside", site.base),
            "Newsdesk Demo".to_owned(),
            "en".to_owned(),
            inside.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "Just inside the window".to_owned(),
        )]
    );
}

#[tokio::test]
async fn the_news_sitemap_stops_at_a_thousand_newest() {
    let site = TestSite::empty();
    let now = Timestamp::now();
    let mut file = String::new();
    for n in 0..1001 {
        let at = now - SignedDuration::from_mins(2 * n + 1);
        file.push_str(&news_item(&format!("n-{n}"), &format!("Story {n}"), at));
    }
    site.import_ok(&file);
    let entries = news(&site).await;
    assert_eq!(entries.len(), 1000, "Google News: at most 1,000 URLs");
    assert_eq!(entries[0].4, "Story 0", "the newest first");
    assert_eq!(
        entries[999].4, "Story 999",
        "the oldest one is the one left out"
    );
}

/// The JSON-LD blocks of a page, parsed.
fn json_ld(page: &common::Page) -> Vec<Value> {
    page.select("script[type='application/ld+json']")
        .iter()
        .map(|s| {
            let text: String = s.text().collect();
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("JSON-LD: {e}\n{text}"))
        })
        .collect()
}

fn of_type<'a>(blocks: &'a [Value], kind: &str) -> &'a Value {
    blocks
        .iter()
        .find(|b| b["@type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {blocks:?}"))
}

#[tokio::test]
async fn stories_carry_news_article_breadcrumbs_cards_and_alternates() {
    let site = TestSite::empty();
    site.import_ok(&fixture());
    site.add_user("editor@example.org", "editor", "correct horse battery");
    let cookie = site
        .desk_cookie("editor@example.org", "correct horse battery")
        .await;
    // A public correction, through the desk as an editor makes it.
    let list = site.page_with_cookie("/desk?q=gates", &cookie).await;
    let edit = list.attr(".items tbody a", "href");
    let form = site.page_with_cookie(&edit, &cookie).await;
    let csrf = form.attr("form.editor input[name=csrf]", "value");
    let version = form.attr("input[name=version]", "value");
    let noted = site
        .client
        .post(site.url(&format!("{edit}/notes")))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("version", version.as_str()),
            ("kind", "correction"),
            ("text", "An earlier version misnamed the barrier."),
        ])
        .send()
        .await
        .expect("note");
    assert_eq!(noted.status(), 303);

    let base = site.base.clone();
    let url = format!("{base}/world/gates-close");
    let page = site
        .eventually("/world/gates-close", Duration::from_secs(3), |p| {
            p.text.contains("misnamed")
        })
        .await;
    let blocks = json_ld(&page);
    let article = of_type(&blocks, "NewsArticle");
    assert_eq!(article["@context"], "https://schema.org");
    assert_eq!(article["headline"], "Harbour gates close before the surge");
    assert_eq!(article["datePublished"], T_PUBLISHED);
    assert!(article["dateModified"].as_str().expect("modified") >= T_UPDATED);
    assert_eq!(article["mainEntityOfPage"]["@id"], url);
    assert_eq!(article["articleSection"], "World");
    assert_eq!(article["inLanguage"], "en");
    assert_eq!(article["author"][0]["@type"], "Person");
    assert_eq!(article["author"][0]["name"], "Amina Rahimova");
    assert_eq!(
        article["author"][0]["url"],
        format!("{base}/author/amina-rahimova")
    );
    assert_eq!(article["author"][1]["name"], "Leyla Məmmədova");
    assert_eq!(article["publisher"]["@type"], "NewsMediaOrganization");
    assert_eq!(article["publisher"]["name"], "Newsdesk Demo");
    assert!(
        article["publisher"]["logo"]["url"]
            .as_str()
            .expect("logo")
            .starts_with(&format!("{base}/assets/logo.")),
        "{article}"
    );
    let images: Vec<(String, u64)> = article["image"]
        .as_array()
        .expect("images")
        .iter()
        .map(|i| {
            (
                i["url"].as_str().expect("url").to_owned(),
                i["width"].as_u64().expect("width"),
            )
        })
        .collect();
    assert_eq!(
        images,
        vec![
            (format!("{base}/media/uploads/2026/11/abc-16x9.jpg"), 1200),
            (format!("{base}/media/uploads/2026/11/abc-4x3.jpg"), 1200),
            (format!("{base}/media/uploads/2026/11/abc-1x1.jpg"), 1000),
            (format!("{base}/media/uploads/2026/11/abc.jpg"), 2000),
            (format!("{base}/media/uploads/2026/11/abc-1024.jpg"), 1024),
            (format!("{base}/media/uploads/2026/11/abc-640.jpg"), 640),
        ]
    );
    assert_eq!(article["correction"][0]["@type"], "CorrectionComment");
    assert_eq!(
        article["correction"][0]["text"],
        "An earlier version misnamed the barrier."
    );
    let crumbs = of_type(&blocks, "BreadcrumbList");
    let names: Vec<&str> = crumbs["itemListElement"]
        .as_array()
        .expect("crumbs")
        .iter()
        .map(|c| c["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        vec![
            "Newsdesk Demo",
            "World",
            "Harbour gates close before the surge"
        ]
    );
    assert_eq!(crumbs["itemListElement"][2]["item"], url);

    assert_eq!(page.attr("link[rel=canonical]", "href"), url);
    assert_eq!(
        page.attr("meta[name=description]", "content"),
        "The gates rose before dawn."
    );
    assert_eq!(page.attr("meta[property='og:type']", "content"), "article");
    assert_eq!(
        page.attr("meta[property='og:image']", "content"),
        format!("{base}/media/uploads/2026/11/abc-1600.jpg")
    );
    assert_eq!(
        page.attr("meta[property='og:image:width']", "content"),
        "1600"
    );
    assert_eq!(
        page.attr("meta[property='og:image:height']", "content"),
        "800"
    );
    assert_eq!(
        page.attr("meta[property='og:image:alt']", "content"),
        "Gates rising"
    );
    assert_eq!(
        page.attr("meta[name='twitter:card']", "content"),
        "summary_large_image"
    );
    assert_eq!(
        page.attr("meta[name='twitter:image']", "content"),
        format!("{base}/media/uploads/2026/11/abc-1600.jpg")
    );
    let alternates: BTreeSet<(String, String)> = page
        .select("link[rel=alternate][hreflang]")
        .iter()
        .map(|l| {
            (
                l.value().attr("hreflang").unwrap_or_default().to_owned(),
                l.value().attr("href").unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        alternates,
        BTreeSet::from([
            ("en".to_owned(), url.clone()),
            ("ru".to_owned(), format!("{base}/ru/world/vorota")),
        ])
    );
    let feeds: BTreeSet<String> = page
        .select("link[rel=alternate][type]")
        .iter()
        .map(|l| l.value().attr("href").unwrap_or_default().to_owned())
        .collect();
    for path in [
        "/feeds/section/world.rss",
        "/feeds/all.atom",
        "/feeds/all.json",
    ] {
        assert!(
            feeds.contains(&format!("{base}{path}")),
            "{path}: {feeds:?}"
        );
    }
    // The translation points back.
    let ru = site.ok("/ru/world/vorota").await;
    assert_eq!(
        ru.attr("link[rel=alternate][hreflang=en]", "href"),
        url,
        "hreflang is reciprocal"
    );
}

#[tokio::test]
async fn home_pages_offer_site_search_and_listings_their_own_feeds() {
    let site = TestSite::empty();
    site.import_ok(&fixture());
    let base = site.base.clone();
    let home = site.ok("/").await;
    let blocks = json_ld(&home);
    let website = of_type(&blocks, "WebSite");
    assert_eq!(website["url"], format!("{base}/"));
    assert_eq!(website["potentialAction"]["@type"], "SearchAction");
    assert_eq!(
        website["potentialAction"]["target"]["urlTemplate"],
        format!("{base}/search?q={{search_term_string}}")
    );
    assert_eq!(
        website["potentialAction"]["query-input"],
        "required name=search_term_string"
    );
    assert_eq!(
        home.attr("link[rel=alternate][hreflang=ru]", "href"),
        format!("{base}/ru/")
    );
    for (path, feed) in [
        ("/", "/feeds/all.rss"),
        ("/tag/storms", "/feeds/tag/storms.atom"),
        (
            "/author/amina-rahimova",
            "/feeds/author/amina-rahimova.json",
        ),
        ("/world", "/feeds/section/world.rss"),
        ("/ru/world", "/ru/feeds/section/world.rss"),
    ] {
        let page = site.ok(path).await;
        let hrefs: Vec<String> = page
            .select("link[rel=alternate][type]")
            .iter()
            .map(|l| l.value().attr("href").unwrap_or_default().to_owned())
            .collect();
        assert!(
            hrefs.contains(&format!("{base}{feed}")),
            "{path}: {hrefs:?}"
        );
        // Each advertised feed answers.
        for href in &hrefs {
            let feed_path = href.strip_prefix(&base).expect("ours");
            assert_eq!(site.get(feed_path).await.status(), 200, "{feed_path}");
        }
    }
    let section = site.ok("/world").await;
    let crumbs = of_type(&json_ld(&section), "BreadcrumbList").clone();
    assert_eq!(
        crumbs["itemListElement"][1]["item"],
        format!("{base}/world")
    );
}

const HOSTILE: &str = "</title><script>alert(1)</script> & \"x\" 'y' \t🙂 ]]> <!--";

#[tokio::test]
async fn hostile_headlines_stay_inert_in_feeds_sitemaps_and_pages() {
    let site = TestSite::empty();
    let now = Timestamp::now();
    let toml_string = |s: &str| serde_json::to_string(s).expect("quoted");
    site.import_ok(&format!(
        r#"
[[items]]
kind = "story"
section = "world"
slug = "hostile"
headline = {h}
standfirst = {h}
body = "Text."
tags = [{h}]
status = "published"
published_at = "{at}"
"#,
        h = toml_string(HOSTILE),
        at = now.strftime("%Y-%m-%dT%H:%M:%SZ"),
    ));
    // A control character is refused before it can reach any of them.
    let refused = site.import(
        "[[items]]\nkind = \"story\"\nsection = \"world\"\nslug = \"bell\"\nheadline = \"Bell \\u0007\"\nbody = \"x\"\nstatus = \"published\"\n",
    );
    assert!(
        !refused.status.success(),
        "a control character in a headline is refused"
    );
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("control characters"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    for path in ["/feeds/all.rss", "/feeds/all.atom", "/feeds/all.json"] {
        let (_, parsed) = feed(&site, path).await;
        assert_eq!(title(&parsed.entries[0]), HOSTILE, "{path}");
        assert_eq!(
            parsed.entries[0]
                .summary
                .as_ref()
                .map(|s| s.content.as_str()),
            Some(HOSTILE),
            "{path}"
        );
    }
    let (_, json) = body_of(&site, "/feeds/all.json").await;
    let doc: Value = serde_json::from_str(&json).expect("valid JSON");
    assert_eq!(doc["items"][0]["title"], HOSTILE);
    assert_eq!(doc["items"][0]["tags"][1], HOSTILE);
    for (_, text) in [
        body_of(&site, "/feeds/all.rss").await,
        body_of(&site, "/feeds/all.atom").await,
    ] {
        let doc = xml(&text);
        let texts: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
        assert!(texts.contains(&HOSTILE), "the headline is one text node");
        assert!(doc.descendants().all(|n| n.tag_name().name() != "script"));
    }
    let entries = news(&site).await;
    assert_eq!(entries[0].4, HOSTILE);
    sitemaps(&site).await;

    for path in ["/world/hostile", "/", "/latest"] {
        let page = site.ok(path).await;
        let scripts = page.select("script");
        assert!(
            scripts.iter().all(|s| {
                s.value().attr("type") == Some("application/ld+json")
                    || s.value()
                        .attr("src")
                        .is_some_and(|src| src.starts_with("/assets/"))
            }),
            "{path}: only data blocks and our own files, no script made of the headline"
        );
        json_ld(&page);
    }
    let page = site.ok("/world/hostile").await;
    assert_eq!(
        page.text_of("title"),
        format!("{} | Newsdesk Demo", common::collapse(HOSTILE))
    );
    assert_eq!(
        page.attr("meta[property='og:title']", "content"),
        format!("{HOSTILE} | Newsdesk Demo")
    );
    assert_eq!(page.attr("meta[name=description]", "content"), HOSTILE);
    assert_eq!(of_type(&json_ld(&page), "NewsArticle")["headline"], HOSTILE);
}

#[tokio::test]
async fn publishing_pings_the_websub_hub_and_retries_a_failed_ping() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
    let hub = format!("http://{}/hub", listener.local_addr().expect("addr"));
    let (tx, rx) = std::sync::mpsc::channel::<(String, std::time::Instant)>();
    // The hub: refuses the first ping naming the storms tag's feed with a 503 (the import
    // pings once per item, concurrently), accepts everything else with a 204.
    std::thread::spawn(move || {
        let mut refused = false;
        for socket in listener.incoming() {
            let Ok(mut socket) = socket else { break };
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            // Read the head, then as many body bytes as Content-Length says.
            loop {
                let n = socket.read(&mut buf).unwrap_or(0);
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if body.len() >= length {
                        break;
                    }
                }
            }
            let names_tag =
                String::from_utf8_lossy(&request).contains("%2Ffeeds%2Ftag%2Fstorms.atom");
            let status = if names_tag && !refused {
                refused = true;
                "503 Service Unavailable"
            } else {
                "204 No Content"
            };
            let _ = socket.write_all(
                format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .as_bytes(),
            );
            let request = String::from_utf8_lossy(&request).to_string();
            if tx.send((request, std::time::Instant::now())).is_err() {
                break;
            }
        }
    });
    let site = TestSite::start_with(
        common::demo_config_text(),
        &[],
        &[
            ("NEWSDESK_SYNDICATION__WEBSUB_HUB", hub.as_str()),
            // The hub listens on 127.0.0.1, which the outbound guard refuses unless allowed.
            ("NEWSDESK_OUTBOUND__ALLOW", r#"["127.0.0.1"]"#),
        ],
    );
    // Feeds name the hub.
    let (_, atom) = feed(&site, "/feeds/all.atom").await;
    assert!(
        atom.links
            .iter()
            .any(|l| l.rel.as_deref() == Some("hub") && l.href == hub),
        "{:?}",
        atom.links
    );
    let (_, json) = body_of(&site, "/feeds/all.json").await;
    let doc: Value = serde_json::from_str(&json).expect("json");
    assert_eq!(doc["hubs"][0]["url"], hub);

    site.import_ok(&fixture());
    let next = || {
        rx.recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("the hub heard nothing ({e}); server log:\n{}", site.log()))
    };
    let wanted = format!(
        "hub.url={}",
        url_encode(&format!("{}/feeds/tag/storms.atom", site.base))
    );
    // Imports append one event per item; wait for the ping of the story with the tag.
    let (first, first_at) = loop {
        let (request, at) = next();
        if request.contains(&wanted) {
            break (request, at);
        }
    };
    assert!(first.starts_with("POST /hub "), "{first}");
    assert!(
        first
            .to_ascii_lowercase()
            .contains("content-type: application/x-www-form-urlencoded")
    );
    assert!(first.contains("hub.mode=publish"), "{first}");
    for path in [
        "/feeds/all.rss",
        "/feeds/section/world.json",
        "/feeds/author/amina-rahimova.rss",
    ] {
        let topic = format!("hub.url={}", url_encode(&format!("{}{path}", site.base)));
        assert!(first.contains(&topic), "{path} not named: {first}");
    }
    // The refused ping comes again, after the first backoff, with the same topics.
    let (again, again_at) = loop {
        let (request, at) = next();
        if request.contains(&wanted) {
            break (request, at);
        }
    };
    assert!(
        again_at - first_at >= Duration::from_millis(900),
        "retried with a pause"
    );
    let body = |r: &str| {
        r.split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default()
    };
    assert_eq!(body(&again), body(&first));
    // Publishing did not wait for the hub: the story was served all along.
    site.ok("/world/gates-close").await;
}

/// A listener on 127.0.0.1 that answers every request with `answer` and reports the
/// requests it got.
fn listener_answering(answer: String) -> (String, std::sync::mpsc::Receiver<String>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
    let address = listener.local_addr().expect("addr").to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for socket in listener.incoming() {
            let Ok(mut socket) = socket else { break };
            let mut buf = [0u8; 8192];
            let n = socket.read(&mut buf).unwrap_or(0);
            let _ = socket.write_all(answer.as_bytes());
            if tx
                .send(String::from_utf8_lossy(&buf[..n]).into_owned())
                .is_err()
            {
                break;
            }
        }
    });
    (address, rx)
}

#[tokio::test]
async fn websub_never_pings_inside_the_network_nor_follows_a_redirect_there() {
    // A listener that must hear nothing, where the redirects point.
    let (inside, heard) = listener_answering(
        "HTTP/1.1 204 No Content\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".into(),
    );
    let port = inside
        .rsplit_once(':')
        .map(|(_, p)| p.to_owned())
        .expect("port");

    // The hub itself inside the network, not allowed.
    let site = TestSite::start_with(
        common::demo_config_text(),
        &[],
        &[(
            "NEWSDESK_SYNDICATION__WEBSUB_HUB",
            &format!("http://{inside}/hub"),
        )],
    );
    site.import_ok(&fixture());
    site.log_containing("127.0.0.1 is a loopback address").await;
    drop(site);

    // An allowed hub that redirects inside the network: to a name meaning this machine, to
    // the metadata address, to IPv6 loopback.
    for (target, named) in [
        (
            format!("http://localhost:{port}/hub"),
            "localhost is a loopback address",
        ),
        (
            "http://169.254.169.254/latest/meta-data/".to_owned(),
            "169.254.169.254 is a link-local address",
        ),
        (
            format!("http://[::1]:{port}/hub"),
            "[::1] is a loopback address",
        ),
    ] {
        let (hub, asked) = listener_answering(format!(
            "HTTP/1.1 307 Temporary Redirect\r\nlocation: {target}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        ));
        let site = TestSite::start_with(
            common::demo_config_text(),
            &[],
            &[
                (
                    "NEWSDESK_SYNDICATION__WEBSUB_HUB",
                    &format!("http://{hub}/hub"),
                ),
                ("NEWSDESK_OUTBOUND__ALLOW", &format!(r#"["{hub}"]"#)),
            ],
        );
        site.import_ok(&fixture());
        let first = asked
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("the hub heard nothing ({e}):\n{}", site.log()));
        assert!(first.starts_with("POST /hub "), "{first}");
        let log = site.log_containing(named).await;
        assert!(log.contains("outbound.allow"), "{log}");
    }
    assert!(
        heard.try_recv().is_err(),
        "a request reached the address inside the network"
    );
}

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn tag_sitemaps_split_at_the_url_limit_and_lose_none() {
    let site = TestSite::start_with(
        common::demo_config_text(),
        &[],
        &[("NEWSDESK_SYNDICATION__SITEMAP_URLS", "2")],
    );
    let mut import = String::new();
    for n in 0..5 {
        import.push_str(&format!(
            "[[items]]\nkind = \"brief\"\nsection = \"world\"\nslug = \"brief-{n}\"\nbody = \"Brief {n}.\"\ntags = [\"topic-{n}\"]\nstatus = \"published\"\n\n"
        ));
    }
    site.import_ok(&import);
    let all = sitemaps(&site).await;
    let tag_files: Vec<_> = all
        .iter()
        .filter(|(p, _)| p.starts_with("/sitemap-tags"))
        .collect();
    let names: Vec<&str> = tag_files.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        names,
        [
            "/sitemap-tags.xml",
            "/sitemap-tags-2.xml",
            "/sitemap-tags-3.xml"
        ]
    );
    let mut listed: Vec<String> = tag_files
        .iter()
        .flat_map(|(_, urls)| urls.iter().map(|u| u.0.clone()))
        .collect();
    listed.sort();
    let expected: Vec<String> = (0..5)
        .map(|n| format!("{}/tag/topic-{n}", site.base))
        .collect();
    assert_eq!(listed, expected, "every tag page once");
    assert_eq!(site.get("/sitemap-tags-4.xml").await.status(), 404);
    assert_eq!(site.get("/sitemap-tags-02.xml").await.status(), 404);
}
