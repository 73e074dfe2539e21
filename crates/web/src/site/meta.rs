//! What a page tells browsers, search engines, feed readers and social cards about itself:
//! the `<head>` of every site page (title, canonical address, card image, feeds, language
//! alternates, JSON-LD).

use newsdesk_core::Config;
use newsdesk_services::ListingSubject;
use serde::Serialize;

use crate::AppState;
use crate::paths::{self, FeedFormat, FeedSubject};
use crate::site::feeds;

#[derive(Serialize)]
pub struct PageMeta {
    pub title: String,
    pub description: String,
    pub canonical: String,
    /// `og:type`: "article" for items, "website" for the rest.
    pub kind: &'static str,
    pub image: Option<ImageMeta>,
    /// `<link rel="alternate">` to the page's feeds.
    pub feeds: Vec<FeedLink>,
    /// `hreflang` alternates: the same page in the site's other languages (itself included,
    /// as the hreflang rules ask).
    pub alternates: Vec<Alternate>,
    /// JSON-LD blocks, already escaped for a script element (`structured::script_json`).
    pub json_ld: Vec<String>,
    pub twitter_site: Option<String>,
    /// `og:locale`: `en`, `ru`, `pt_BR`.
    pub locale: String,
    /// `<meta name="robots">`, for pages search engines should show with large images.
    pub robots: Option<&'static str>,
}

/// The social card image: one file wide enough for large cards.
#[derive(Serialize)]
pub struct ImageMeta {
    pub url: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub alt: String,
}

#[derive(Serialize)]
pub struct FeedLink {
    pub title: String,
    pub url: String,
    #[serde(rename = "type")]
    pub media_type: &'static str,
}

#[derive(Serialize)]
pub struct Alternate {
    pub language: String,
    pub url: String,
}

/// Cards want about 1200 px; our widest variant below the original is 1600.
pub const CARD_IMAGE_WIDTH: u32 = 1600;

impl PageMeta {
    pub fn new(title: String, description: String, canonical: String, kind: &'static str) -> Self {
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
    pub fn for_edition(mut self, state: &AppState, config: &Config, lang: &str) -> Self {
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
pub fn feed_links(
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
pub fn edition_alternates(
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
