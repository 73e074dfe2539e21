//! The demo edition: our own invented newsroom, loaded into an empty site so a newcomer
//! sees a complete news site at once. Times are relative to the moment it loads, so feeds
//! and the news sitemap have fresh items. It never touches a site that has content.

use jiff::{SignedDuration, Timestamp};
use newsdesk_core::{Author, HeroImage, ItemInput, ItemKind, ItemStatus, Source};
use newsdesk_store::media;
use serde::Deserialize;

use crate::error::{ImportProblem, Result, ServiceError};
use crate::newsroom::Newsroom;

const EDITION: &str = include_str!("../demo/edition.toml");
const HERO_FILES: &[(&str, &[u8])] = &[(
    "hero-harbour.jpg",
    include_bytes!("../demo/hero-harbour.jpg"),
)];
/// Demo media live under this folder of the media directory.
pub const DEMO_MEDIA_FOLDER: &str = "demo";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Edition {
    authors: Vec<Author>,
    items: Vec<DemoItem>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoItem {
    kind: ItemKind,
    language: String,
    section: String,
    slug: String,
    headline: Option<String>,
    standfirst: Option<String>,
    body: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    authors: Vec<String>,
    #[serde(default)]
    sources: Vec<Source>,
    #[serde(default)]
    breaking: bool,
    minutes_ago: i64,
    updated_minutes_ago: Option<i64>,
    translation_group: Option<String>,
    hero: Option<DemoHero>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoHero {
    file: String,
    width: u32,
    height: u32,
    caption: String,
    credit: String,
    alt: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoOutcome {
    Loaded {
        items: usize,
    },
    /// The site already has content; nothing was written.
    SkippedNotEmpty,
}

impl DemoItem {
    fn into_input(self, now: Timestamp) -> ItemInput {
        let ago = |minutes: i64| now - SignedDuration::from_mins(minutes);
        ItemInput {
            kind: Some(self.kind),
            language: Some(self.language),
            section: Some(self.section),
            slug: Some(self.slug),
            headline: self.headline,
            standfirst: self.standfirst,
            body: self.body,
            tags: self.tags,
            authors: self.authors,
            sources: self.sources,
            hero: self.hero.map(|h| HeroImage {
                path: format!("{DEMO_MEDIA_FOLDER}/{}", h.file),
                caption: h.caption,
                credit: h.credit,
                alt: h.alt,
                width: Some(h.width),
                height: Some(h.height),
            }),
            breaking: self.breaking,
            status: Some(ItemStatus::Published),
            translation_group: self.translation_group,
            published_at: Some(ago(self.minutes_ago)),
            updated_at: self.updated_minutes_ago.map(ago),
        }
    }
}

impl Newsroom {
    /// Loads the demo edition when the site has no items; stores its images under `demo/`
    /// in the media store.
    pub async fn load_demo(&self, now: Timestamp) -> Result<DemoOutcome> {
        if self.store().count_all_items().await? > 0 {
            return Ok(DemoOutcome::SkippedNotEmpty);
        }
        let edition: Edition =
            toml::from_str(EDITION).map_err(|e| ServiceError::BadImport(ImportProblem::Demo(e)))?;
        for (name, bytes) in HERO_FILES {
            let path = format!("{DEMO_MEDIA_FOLDER}/{name}");
            self.media()
                .put(&path, bytes, media::content_type_of(&path))
                .await?;
        }
        for author in &edition.authors {
            self.upsert_author(author).await?;
        }
        let mut items = edition.items;
        // Oldest first, so event ids grow with publication time as they would in real life.
        items.sort_by_key(|i| std::cmp::Reverse(i.minutes_ago));
        let count = items.len();
        for item in items {
            let input = item.into_input(now);
            self.save_by_slug(&input, None, "demo", now).await?;
            // The demo's pictures are in the media library, ready to reuse, like an upload.
            if let Some(hero) = &input.hero {
                self.store()
                    .add_to_library(&newsdesk_store::LibraryImage {
                        path: hero.path.clone(),
                        width: hero.width.unwrap_or(0),
                        height: hero.height.unwrap_or(0),
                        alt: hero.alt.clone(),
                        caption: hero.caption.clone(),
                        credit: hero.credit.clone(),
                        uploaded_by: "demo".into(),
                        created_at: now,
                    })
                    .await?;
            }
        }
        Ok(DemoOutcome::Loaded { items: count })
    }
}
