//! View models: what templates see. Built from domain types here, so templates never compute
//! an address, a time in the site's zone or a teaser themselves, and a theme cannot get them
//! wrong.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use newsdesk_core::comment::CommentStatus;
use newsdesk_core::moderation::{self, render_comment};
use newsdesk_core::{Config, Item, ItemKind, Sections, text};
use newsdesk_services::comments::{CommentNode, Thread};
use newsdesk_services::uploads;
use serde::Serialize;

use crate::paths;

#[derive(Debug, Serialize)]
pub struct TimeView {
    /// RFC 3339 in UTC, for `<time datetime>`.
    pub iso: String,
    /// Full date and time in the site's zone: "29 November 2026, 09:15 +04".
    pub label: String,
    /// "09:15", for the stream.
    pub time: String,
    /// "29 Nov".
    pub date: String,
}

impl TimeView {
    pub fn new(at: Timestamp, zone: &TimeZone) -> Self {
        let local = at.to_zoned_datetime(zone.clone());
        TimeView {
            iso: at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            label: local.strftime("%-d %B %Y, %H:%M %Z").to_string(),
            time: local.strftime("%H:%M").to_string(),
            date: local.strftime("%-d %b").to_string(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct LinkView {
    pub name: String,
    pub url: String,
}

#[derive(Debug, Serialize)]
pub struct SourceView {
    pub name: String,
    pub url: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct HeroView {
    pub src: String,
    /// Resized JPEG variants of uploaded images, for `srcset`.
    pub srcset: Option<String>,
    /// The same widths as lossy WebP, for a `<picture>` source; only uploads have them.
    pub webp_srcset: Option<String>,
    pub caption: String,
    pub credit: String,
    pub alt: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct ItemView {
    pub id: i64,
    /// Visible comments, where the page shows counts (teasers); 0 elsewhere.
    pub comments: u64,
    pub kind: &'static str,
    pub is_brief: bool,
    pub language: String,
    pub url: String,
    pub headline: String,
    /// Whether `headline` was written, or made from a brief's first words.
    pub has_headline: bool,
    pub standfirst: Option<String>,
    /// The standfirst (or a brief's text) cut at a word boundary, with an ellipsis.
    pub teaser: String,
    pub body_html: String,
    pub section: LinkView,
    pub tags: Vec<LinkView>,
    pub authors: Vec<LinkView>,
    pub sources: Vec<SourceView>,
    pub hero: Option<HeroView>,
    pub breaking: bool,
    pub published: Option<TimeView>,
    pub updated: Option<TimeView>,
    pub notes: Vec<NoteView>,
}

#[derive(Debug, Serialize)]
pub struct NoteView {
    /// `correction` or `update`.
    pub kind: &'static str,
    pub text: String,
    pub at: TimeView,
}

impl ItemView {
    pub fn new(config: &Config, sections: &Sections, zone: &TimeZone, item: &Item) -> Self {
        let lang = item.language.as_str();
        let section_name = sections.name(&item.section, lang);
        let teaser_source = item
            .standfirst
            .clone()
            .unwrap_or_else(|| text::plain_text(&item.body_html));
        let published = item.published_at.map(|t| TimeView::new(t, zone));
        let updated = item.shown_update().map(|t| TimeView::new(t, zone));
        ItemView {
            id: item.id,
            comments: 0,
            kind: item.kind.as_str(),
            is_brief: item.kind == ItemKind::Brief,
            language: item.language.clone(),
            url: paths::item_url(config, item),
            headline: item.display_headline(),
            has_headline: item.headline.is_some(),
            standfirst: item.standfirst.clone(),
            teaser: text::truncate_at_word(&teaser_source, config.pages.teaser_chars),
            body_html: item.body_html.clone(),
            section: LinkView {
                name: section_name,
                url: paths::section_url(config, lang, &item.section),
            },
            tags: item
                .tags
                .iter()
                .map(|t| LinkView {
                    name: t.name.clone(),
                    url: paths::tag_url(config, lang, &t.slug),
                })
                .collect(),
            authors: item
                .authors
                .iter()
                .map(|a| LinkView {
                    name: a.name.clone(),
                    url: paths::author_url(config, lang, &a.slug),
                })
                .collect(),
            sources: item
                .sources
                .iter()
                .map(|s| SourceView {
                    name: s.name.clone(),
                    url: s.url.clone(),
                })
                .collect(),
            hero: item.hero.as_ref().map(|h| HeroView {
                src: format!("/media/{}", h.path),
                srcset: srcset(&h.path, h.width),
                webp_srcset: srcset(&uploads::webp_path(&h.path), h.width),
                caption: h.caption.clone(),
                credit: h.credit.clone(),
                alt: h.alt.clone(),
                width: h.width,
                height: h.height,
            }),
            breaking: item.breaking,
            published,
            updated,
            notes: item
                .notes
                .iter()
                .map(|n| NoteView {
                    kind: n.kind.as_str(),
                    text: n.text.clone(),
                    at: TimeView::new(n.at, zone),
                })
                .collect(),
        }
    }
}

/// One stored file of a hero image, with its size when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageChoice {
    /// Path in the media store.
    pub path: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

/// Every stored width of a hero image, widest first: an upload's original and each variant
/// narrower than it (same ratio; heights rounded as the resizer rounds them); any other
/// image is its one file.
pub fn image_choices(hero: &newsdesk_core::HeroImage) -> Vec<ImageChoice> {
    let original = ImageChoice {
        path: hero.path.clone(),
        width: hero.width,
        height: hero.height,
    };
    let (Some(width), Some(height)) = (hero.width, hero.height) else {
        return vec![original];
    };
    if !hero.path.starts_with("uploads/") || width == 0 {
        return vec![original];
    }
    let mut out = vec![original];
    for w in uploads::VARIANT_WIDTHS
        .into_iter()
        .rev()
        .filter(|w| *w < width)
    {
        let h = (u64::from(height) * u64::from(w) + u64::from(width) / 2) / u64::from(width);
        out.push(ImageChoice {
            path: uploads::variant_path(&hero.path, w),
            width: Some(w),
            height: u32::try_from(h).ok(),
        });
    }
    out
}

/// The widest stored file no wider than `max` (the narrowest there is, should all be wider).
pub fn image_at_most(hero: &newsdesk_core::HeroImage, max: u32) -> ImageChoice {
    let choices = image_choices(hero);
    choices
        .iter()
        .find(|c| c.width.is_none_or(|w| w <= max))
        .or(choices.last())
        .cloned()
        .unwrap_or(ImageChoice {
            path: hero.path.clone(),
            width: hero.width,
            height: hero.height,
        })
}

/// Uploaded images have variants at fixed widths narrower than the image (see uploads),
/// in JPEG and in WebP; other images (the demo's, imported paths) have neither.
fn srcset(path: &str, width: Option<u32>) -> Option<String> {
    let width = width?;
    if !path.starts_with("uploads/") {
        return None;
    }
    let mut entries: Vec<String> = uploads::VARIANT_WIDTHS
        .into_iter()
        .filter(|w| *w < width)
        .map(|w| format!("/media/{} {w}w", uploads::variant_path(path, w)))
        .collect();
    entries.push(format!("/media/{path} {width}w"));
    Some(entries.join(", "))
}

#[derive(Debug, Serialize)]
pub struct NavView {
    pub name: String,
    pub url: String,
    pub current: bool,
}

#[derive(Debug, Serialize)]
pub struct LanguageView {
    pub code: String,
    pub name: String,
    pub url: String,
    pub current: bool,
}

#[derive(Debug, Serialize)]
pub struct AppsView {
    pub title: String,
    pub text: String,
    pub app_store_url: Option<String>,
    pub google_play_url: Option<String>,
}

/// What every page shares: the masthead, navigation, language switch and footer.
#[derive(Debug, Serialize)]
pub struct SiteView {
    pub name: String,
    pub tagline: String,
    pub language: String,
    pub base_url: String,
    pub home_url: String,
    pub latest_url: String,
    /// Name of the theme asset shown as the logo (`logo.svg` when unset).
    pub logo: Option<String>,
    pub sections: Vec<NavView>,
    pub languages: Vec<LanguageView>,
    pub apps: Option<AppsView>,
    pub time_zone: String,
    pub year: i16,
}

/// A language's own name for itself, for the language switch.
fn endonym(tag: &str) -> &str {
    match tag.split('-').next().unwrap_or(tag) {
        "en" => "English",
        "ru" => "Русский",
        "tr" => "Türkçe",
        "az" => "Azərbaycanca",
        "de" => "Deutsch",
        "fr" => "Français",
        "es" => "Español",
        "ar" => "العربية",
        "fa" => "فارسی",
        "ka" => "ქართული",
        "uk" => "Українська",
        "kk" => "Қазақша",
        _ => tag,
    }
}

impl SiteView {
    pub fn new(
        config: &Config,
        sections: &Sections,
        base_url: &str,
        language: &str,
        current_section: Option<&str>,
        now: Timestamp,
    ) -> Self {
        let zone = config.time_zone();
        SiteView {
            name: config.site.name.clone(),
            tagline: config.site.tagline.clone(),
            language: language.to_owned(),
            base_url: base_url.to_owned(),
            home_url: paths::home_url(config, language),
            latest_url: paths::latest_url(config, language),
            logo: config.site.logo.clone(),
            sections: sections
                .iter()
                .map(|s| NavView {
                    name: s.name_in(language).to_owned(),
                    url: paths::section_url(config, language, &s.slug),
                    current: current_section == Some(s.slug.as_str()),
                })
                .collect(),
            languages: config
                .site
                .languages
                .iter()
                .map(|l| LanguageView {
                    code: l.clone(),
                    name: endonym(l).to_owned(),
                    url: paths::home_url(config, l),
                    current: l == language,
                })
                .collect(),
            apps: config.apps.enabled.then(|| AppsView {
                title: config.apps.title.clone(),
                text: config.apps.text.clone(),
                app_store_url: config.apps.app_store_url.clone(),
                google_play_url: config.apps.google_play_url.clone(),
            }),
            time_zone: config.site.time_zone.clone(),
            year: now.to_zoned_datetime(zone).year(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct PagerView {
    pub page: u32,
    pub pages: u32,
    pub prev_url: Option<String>,
    pub next_url: Option<String>,
}

impl PagerView {
    pub fn new(url: &str, page: u32, pages: u32) -> Self {
        PagerView {
            page,
            pages,
            prev_url: (page > 1).then(|| paths::with_page(url, page - 1)),
            next_url: (page < pages).then(|| paths::with_page(url, page + 1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_show_in_the_site_zone() {
        let at: Timestamp = "2026-11-29T05:15:00Z".parse().expect("time");
        let view = TimeView::new(at, &TimeZone::get("Asia/Baku").expect("zone"));
        assert_eq!(view.iso, "2026-11-29T05:15:00Z");
        assert_eq!(view.time, "09:15");
        assert_eq!(view.label, "29 November 2026, 09:15 +04");
    }

    #[test]
    fn image_choices_are_the_stored_widths_widest_first() {
        let hero = newsdesk_core::HeroImage {
            path: "uploads/2026/11/abc.jpg".into(),
            caption: String::new(),
            credit: String::new(),
            alt: "x".into(),
            width: Some(2000),
            height: Some(1000),
        };
        let widths: Vec<_> = image_choices(&hero).iter().map(|c| c.width).collect();
        assert_eq!(
            widths,
            vec![Some(2000), Some(1600), Some(1024), Some(640), Some(320)]
        );
        let pick = image_at_most(&hero, 1024);
        assert_eq!(pick.path, "uploads/2026/11/abc-1024.jpg");
        assert_eq!(pick.height, Some(512));
        assert_eq!(image_at_most(&hero, 100).width, Some(320));
        let demo = newsdesk_core::HeroImage {
            path: "demo/a.jpg".into(),
            ..hero
        };
        assert_eq!(image_at_most(&demo, 1024).path, "demo/a.jpg");
    }

    #[test]
    fn uploads_offer_webp_beside_jpeg_and_other_images_neither() {
        assert_eq!(
            srcset(&uploads::webp_path("uploads/2026/11/abc.jpg"), Some(700)).as_deref(),
            Some(
                "/media/uploads/2026/11/abc-320.webp 320w, /media/uploads/2026/11/abc-640.webp 640w, \
                 /media/uploads/2026/11/abc.webp 700w"
            )
        );
        assert_eq!(srcset("demo/hero-harbour.jpg", Some(1600)), None);
        assert_eq!(srcset("uploads/2026/11/abc.jpg", None), None);
    }
}

/// A comment as a page shows it; its body is already safe HTML (`render_comment`).
#[derive(Debug, Serialize)]
pub struct CommentView {
    id: i64,
    author: String,
    staff: bool,
    html: String,
    deleted: bool,
    held: bool,
    rejected: bool,
    reject_reason: String,
    featured: bool,
    likes: u32,
    edited: bool,
    at: TimeView,
    mine: bool,
    may_edit: bool,
    body: String,
    replies: Vec<CommentView>,
    continues: bool,
}

impl CommentView {
    pub fn new(
        node: &CommentNode,
        zone: &TimeZone,
        viewer: Option<i64>,
        edit_window_open: &dyn Fn(Timestamp) -> bool,
    ) -> Self {
        let c = &node.comment;
        let deleted = c.status == CommentStatus::Deleted;
        let mine = viewer.is_some() && c.reader_id == viewer && !deleted;
        CommentView {
            id: c.id,
            author: c
                .author
                .clone()
                .unwrap_or_else(|| "A former reader".to_owned()),
            staff: c.staff,
            html: if deleted {
                String::new()
            } else {
                render_comment(&c.body)
            },
            deleted,
            held: c.status == CommentStatus::Held,
            rejected: c.status == CommentStatus::Rejected,
            reject_reason: c.reject_reason.clone(),
            featured: c.featured,
            likes: c.likes,
            edited: c.edited_at.is_some(),
            at: TimeView::new(c.created_at, zone),
            mine,
            may_edit: mine && edit_window_open(c.created_at),
            body: if mine { c.body.clone() } else { String::new() },
            replies: node
                .replies
                .iter()
                .map(|r| CommentView::new(r, zone, viewer, edit_window_open))
                .collect(),
            continues: node.continues,
        }
    }
}

/// A page of threads as `viewer` sees them (None: everyone, as on the cached story page).
pub fn thread_views(config: &Config, thread: &Thread, viewer: Option<i64>) -> Vec<CommentView> {
    let zone = config.time_zone();
    let rules = config.comments.clone();
    let now = Timestamp::now();
    let open = move |at: Timestamp| moderation::within_edit_window(&rules, at, now);
    thread
        .nodes
        .iter()
        .map(|n| CommentView::new(n, &zone, viewer, &open))
        .collect()
}
