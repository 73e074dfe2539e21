//! Sitemaps (sitemaps.org 0.9 with Google's image and news extensions) and robots.txt: the
//! index at `/sitemap.xml`, item sitemaps by month of publication, the front, section, tag
//! and author listings, and `/news-sitemap.xml` for Google News, every file at the site's
//! root because a sitemap may list only addresses under its own folder. Written with quick-xml's
//! writer like the feeds; cached like pages and purged by every edition's stream key.

use std::collections::BTreeMap;
use std::io;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use newsdesk_core::Config;
use newsdesk_core::item::ListingKind;

use crate::AppState;
use crate::error::WebError;
use crate::paths::{self, SitemapPart};
use crate::site::feeds::{Document, last_changed, xml_safe, xml_writer};
use crate::views;

/// Sitemaps protocol: "no more than 50,000 URLs" per file.
pub const SITEMAP_MAX_URLS: u32 = 50_000;
/// Sitemaps protocol: "no larger than 50MB (52,428,800 bytes)" uncompressed.
pub const SITEMAP_MAX_BYTES: usize = 52_428_800;

const XML: &str = "application/xml; charset=utf-8";
const SITEMAP_NS: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";
const IMAGE_NS: &str = "http://www.google.com/schemas/sitemap-image/1.1";
const NEWS_NS: &str = "http://www.google.com/schemas/sitemap-news/0.9";

type Xml = quick_xml::Writer<Vec<u8>>;

fn w3c(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn text(w: &mut Xml, name: &str, value: &str) -> io::Result<()> {
    w.create_element(name)
        .write_text_content(quick_xml::events::BytesText::new(&xml_safe(value)))?;
    Ok(())
}

/// How many files a listing of `items` addresses needs at `per_file` URLs each (at least
/// one, so the tag and author sitemaps the index and robots.txt name always answer).
pub fn parts_for(items: u64, per_file: u32) -> u32 {
    u32::try_from(items.div_ceil(u64::from(per_file.max(1))).max(1)).unwrap_or(u32::MAX)
}

/// Google News wants ISO 639 codes, with `zh-cn` and `zh-tw` as the only regional ones.
fn news_language(tag: &str) -> String {
    let lower = tag.to_ascii_lowercase();
    match lower.as_str() {
        "zh-cn" | "zh-hans" | "zh-hans-cn" => "zh-cn".into(),
        "zh-tw" | "zh-hant" | "zh-hant-tw" => "zh-tw".into(),
        _ => lower.split('-').next().unwrap_or("en").to_owned(),
    }
}

fn document(
    bytes: Vec<u8>,
    config: &Config,
    last_modified: Option<Timestamp>,
) -> Result<Document, WebError> {
    if bytes.len() > SITEMAP_MAX_BYTES {
        // Never serve a file crawlers must reject; `sitemap_urls` is set too high for the
        // addresses this site has.
        return Err(WebError::Internal(format!(
            "a sitemap came to {} bytes, over the protocol's {SITEMAP_MAX_BYTES}; lower syndication.sitemap_urls",
            bytes.len()
        )));
    }
    Ok(Document {
        body: String::from_utf8(bytes).map_err(|e| WebError::Internal(e.to_string()))?,
        content_type: XML,
        // Any publication, update or site change in any edition can change a sitemap.
        keys: newsdesk_core::event::keys_for_site(&config.site.languages),
        last_modified,
    })
}

fn io_error(e: io::Error) -> WebError {
    WebError::Internal(format!("writing a sitemap: {e}"))
}

/// The UTC months that have published items, with how many and their latest change.
fn months(times: &[newsdesk_core::item::PublishedTimes]) -> BTreeMap<(i16, i8), (u64, Timestamp)> {
    let mut out: BTreeMap<(i16, i8), (u64, Timestamp)> = BTreeMap::new();
    for t in times {
        let date = t.published_at.to_zoned_datetime(TimeZone::UTC).date();
        let entry = out
            .entry((date.year(), date.month()))
            .or_insert((0, t.last_changed));
        entry.0 += 1;
        entry.1 = entry.1.max(t.last_changed);
    }
    out
}

pub async fn render(state: &AppState, part: &SitemapPart) -> Result<Document, WebError> {
    let config = state.config();
    let sections = state.sections();
    let base = &state.base_url;
    let newsroom = &state.newsroom;
    // The setting is checked against the same limit at start; this keeps the promise local.
    let per_file = config.syndication.sitemap_urls.min(SITEMAP_MAX_URLS);
    match part {
        SitemapPart::Index => {
            let times = newsroom.published_times().await?;
            let activity = newsroom
                .listing_activity(&[ListingKind::Section, ListingKind::Tag, ListingKind::Author])
                .await?;
            let latest = |kind: ListingKind| {
                activity
                    .iter()
                    .filter(|a| a.kind == kind)
                    .map(|a| a.last_changed)
                    .max()
            };
            let months = months(&times);
            let newest = times.iter().map(|t| t.last_changed).max();
            let listed = |kind: ListingKind| {
                activity
                    .iter()
                    .filter(|a| a.kind == kind && config.site.languages.contains(&a.language))
                    .count() as u64
            };
            let mut w = xml_writer().map_err(io_error)?;
            w.create_element("sitemapindex")
                .with_attribute(("xmlns", SITEMAP_NS))
                .write_inner_content(|w| {
                    let mut entry = |part: SitemapPart, lastmod: Option<Timestamp>| {
                        w.create_element("sitemap").write_inner_content(|w| {
                            text(w, "loc", &format!("{base}{}", paths::sitemap_url(&part)))?;
                            if let Some(at) = lastmod {
                                text(w, "lastmod", &w3c(at))?;
                            }
                            Ok(())
                        })?;
                        Ok::<_, io::Error>(())
                    };
                    entry(
                        SitemapPart::Sections,
                        latest(ListingKind::Section).max(newest),
                    )?;
                    for part in 1..=parts_for(listed(ListingKind::Tag), per_file) {
                        entry(SitemapPart::Tags { part }, latest(ListingKind::Tag))?;
                    }
                    for part in 1..=parts_for(listed(ListingKind::Author), per_file) {
                        entry(SitemapPart::Authors { part }, latest(ListingKind::Author))?;
                    }
                    entry(SitemapPart::News, newest)?;
                    // Newest month first: what crawlers most need to re-read.
                    for ((year, month), (count, lastmod)) in months.iter().rev() {
                        for part in 1..=parts_for(*count, per_file) {
                            entry(
                                SitemapPart::Items {
                                    year: *year,
                                    month: *month,
                                    part,
                                },
                                Some(*lastmod),
                            )?;
                        }
                    }
                    Ok(())
                })
                .map_err(io_error)?;
            document(w.into_inner(), &config, newest)
        }
        SitemapPart::Items { year, month, part } => {
            let start = Date::new(*year, *month, 1)
                .map_err(|_| WebError::NotFound)?
                .to_zoned_datetime(TimeZone::UTC)
                .map_err(|e| WebError::Internal(e.to_string()))?;
            // December 9999 has no next month in jiff's range: its end is the end of time.
            let end = start
                .checked_add(1.month())
                .map_or(Timestamp::MAX, |end| end.timestamp());
            let offset = (part - 1).saturating_mul(per_file);
            let items = newsroom
                .published_between(start.timestamp(), end, per_file, offset)
                .await?;
            // A month without published items, or a part past its end, is not a file: only
            // the months the index names answer, so a crawler walking every month from 1970
            // to 9999 meets uncached 404s and cannot fill the page cache with empty sitemaps.
            if items.is_empty() {
                return Err(WebError::NotFound);
            }
            let lastmod = items.iter().map(last_changed).max();
            let mut w = xml_writer().map_err(io_error)?;
            w.create_element("urlset")
                .with_attribute(("xmlns", SITEMAP_NS))
                .with_attribute(("xmlns:image", IMAGE_NS))
                .write_inner_content(|w| {
                    for item in &items {
                        w.create_element("url").write_inner_content(|w| {
                            text(
                                w,
                                "loc",
                                &format!("{base}{}", paths::item_url(&config, item)),
                            )?;
                            text(w, "lastmod", &w3c(last_changed(item)))?;
                            if let Some(hero) = &item.hero {
                                // The widest file we keep: search engines pick their own size.
                                let best = views::image_choices(hero)
                                    .into_iter()
                                    .next()
                                    .map_or_else(|| hero.path.clone(), |c| c.path);
                                w.create_element("image:image").write_inner_content(|w| {
                                    text(w, "image:loc", &format!("{base}/media/{best}"))
                                })?;
                            }
                            Ok(())
                        })?;
                    }
                    Ok(())
                })
                .map_err(io_error)?;
            document(w.into_inner(), &config, lastmod)
        }
        SitemapPart::Sections | SitemapPart::Tags { .. } | SitemapPart::Authors { .. } => {
            let (kind, file) = match part {
                SitemapPart::Sections => (ListingKind::Section, 1),
                SitemapPart::Tags { part } => (ListingKind::Tag, *part),
                SitemapPart::Authors { part } => (ListingKind::Author, *part),
                _ => (ListingKind::Section, 1),
            };
            let mut entries: Vec<(String, Timestamp)> = Vec::new();
            if kind == ListingKind::Section {
                // Each edition's front and latest pages change with any of its items.
                let mut newest: BTreeMap<&str, Timestamp> = BTreeMap::new();
                let activity = newsroom.listing_activity(&[kind]).await?;
                for a in activity.iter().filter(|a| a.kind == ListingKind::Section) {
                    let at = newest.entry(&a.language).or_insert(a.last_changed);
                    *at = (*at).max(a.last_changed);
                }
                for (lang, at) in &newest {
                    if config.site.languages.iter().any(|l| l == lang) {
                        entries.push((paths::home_url(&config, lang), *at));
                        entries.push((paths::latest_url(&config, lang), *at));
                    }
                }
                for a in activity.iter().filter(|a| a.kind == kind) {
                    if sections.contains(&a.slug) && config.site.languages.contains(&a.language) {
                        entries.push((
                            paths::section_url(&config, &a.language, &a.slug),
                            a.last_changed,
                        ));
                    }
                }
            } else {
                let activity = newsroom.listing_activity(&[kind]).await?;
                for a in activity.iter().filter(|a| a.kind == kind) {
                    if !config.site.languages.contains(&a.language) {
                        continue;
                    }
                    let url = if kind == ListingKind::Tag {
                        paths::tag_url(&config, &a.language, &a.slug)
                    } else {
                        paths::author_url(&config, &a.language, &a.slug)
                    };
                    entries.push((url, a.last_changed));
                }
            }
            // Files of `per_file` addresses in address order, so an entry stays in its file as
            // listings change; sections are few and always fit one file.
            entries.sort();
            let offset = (file.max(1) as usize - 1).saturating_mul(per_file as usize);
            if offset >= entries.len() && file > 1 {
                return Err(WebError::NotFound);
            }
            let entries: Vec<(String, Timestamp)> = entries
                .into_iter()
                .skip(offset)
                .take(per_file as usize)
                .collect();
            let lastmod = entries.iter().map(|e| e.1).max();
            let mut w = xml_writer().map_err(io_error)?;
            w.create_element("urlset")
                .with_attribute(("xmlns", SITEMAP_NS))
                .write_inner_content(|w| {
                    for (path, at) in &entries {
                        w.create_element("url").write_inner_content(|w| {
                            text(w, "loc", &format!("{base}{path}"))?;
                            text(w, "lastmod", &w3c(*at))
                        })?;
                    }
                    Ok(())
                })
                .map_err(io_error)?;
            document(w.into_inner(), &config, lastmod)
        }
        SitemapPart::News => {
            let items = newsroom.news_items(Timestamp::now()).await?;
            let lastmod = items.iter().map(last_changed).max();
            let mut w = xml_writer().map_err(io_error)?;
            w.create_element("urlset")
                .with_attribute(("xmlns", SITEMAP_NS))
                .with_attribute(("xmlns:news", NEWS_NS))
                .write_inner_content(|w| {
                    for item in &items {
                        let Some(published) = item.published_at else {
                            continue;
                        };
                        w.create_element("url").write_inner_content(|w| {
                            text(
                                w,
                                "loc",
                                &format!("{base}{}", paths::item_url(&config, item)),
                            )?;
                            w.create_element("news:news").write_inner_content(|w| {
                                w.create_element("news:publication")
                                    .write_inner_content(|w| {
                                        text(w, "news:name", &config.site.name)?;
                                        text(w, "news:language", &news_language(&item.language))
                                    })?;
                                text(w, "news:publication_date", &w3c(published))?;
                                text(w, "news:title", &item.display_headline())
                            })?;
                            Ok(())
                        })?;
                    }
                    Ok(())
                })
                .map_err(io_error)?;
            document(w.into_inner(), &config, lastmod)
        }
    }
}

/// robots.txt (RFC 9309): every crawler may read the site; none the desk or the API, whose
/// write paths (and JSON) are for the outlet's own apps. `$` anchors `/desk` so a section
/// such as `/desktop` stays open. It names the index, the news sitemap and the listing
/// sitemaps that always exist; the monthly item files change and are found through the index.
pub fn robots(base_url: &str) -> Document {
    let sitemaps: String = [
        SitemapPart::Index,
        SitemapPart::News,
        SitemapPart::Sections,
        SitemapPart::Tags { part: 1 },
        SitemapPart::Authors { part: 1 },
    ]
    .iter()
    .map(|part| format!("Sitemap: {base_url}{}\n", paths::sitemap_url(part)))
    .collect();
    let body =
        format!("User-agent: *\nDisallow: /desk$\nDisallow: /desk/\nDisallow: /api/\n\n{sitemaps}");
    Document {
        body,
        content_type: "text/plain; charset=utf-8",
        keys: Vec::new(),
        last_modified: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_is_split_at_the_per_file_limit() {
        assert_eq!(parts_for(0, 10_000), 1);
        assert_eq!(parts_for(10_000, 10_000), 1);
        assert_eq!(parts_for(10_001, 10_000), 2);
        assert_eq!(parts_for(50_000, SITEMAP_MAX_URLS), 1);
        assert_eq!(parts_for(50_001, SITEMAP_MAX_URLS), 2);
    }

    #[test]
    fn news_languages_are_iso_639() {
        assert_eq!(news_language("en"), "en");
        assert_eq!(news_language("pt-BR"), "pt");
        assert_eq!(news_language("zh-TW"), "zh-tw");
    }

    #[test]
    fn the_largest_item_entry_fits_the_byte_limit_at_the_url_limit() {
        // The longest address an item can have (slug at its limit, the longest section
        // slug, a long language tag, a long base address) and an upload path with an image.
        let base = format!("https://{}.example.org", "n".repeat(60));
        let loc = format!(
            "{base}/zh-hant-tw/{}/{}",
            "s".repeat(40),
            "x".repeat(newsdesk_core::item::SLUG_MAX)
        );
        let entry = format!(
            "<url><loc>{loc}</loc><lastmod>2026-11-29T09:15:00Z</lastmod><image:image><image:loc>{base}/media/uploads/2026/11/{}.jpg</image:loc></image:image></url>\n",
            "h".repeat(64)
        );
        assert!(
            entry.len() * SITEMAP_MAX_URLS as usize + 1024 < SITEMAP_MAX_BYTES,
            "{}",
            entry.len()
        );
    }
}
