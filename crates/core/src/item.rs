//! Stories and briefs: one kind of thing with a `kind`, as the newsroom treats them.
//! `ItemInput` is what a writer hands in; `ValidItem` is what passed the rules and may be
//! stored; `Item` is what the store gives back.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::Error;
use crate::sections::Sections;
use crate::text;

/// Longest headline, in characters; long enough for any wire headline, short enough for a
/// search result and a social card.
pub const HEADLINE_MAX: usize = 200;
pub const STANDFIRST_MAX: usize = 600;
/// Markdown source, in bytes: several times the longest long-read we have seen.
pub const BODY_MAX_BYTES: usize = 200_000;
pub const SLUG_MAX: usize = 120;
pub const CAPTION_MAX: usize = 500;
pub const CREDIT_MAX: usize = 200;
pub const ALT_MAX: usize = 400;
/// Longest hero image path, in characters: the media store's own limit.
pub const HERO_PATH_MAX: usize = 300;
pub const LABEL_MAX: usize = 100;
pub const SOURCES_MAX: usize = 10;
pub const TAGS_MAX: usize = 20;
pub const AUTHORS_MAX: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Story,
    Brief,
}

impl ItemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Story => "story",
            ItemKind::Brief => "brief",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "story" => Some(ItemKind::Story),
            "brief" => Some(ItemKind::Brief),
            _ => None,
        }
    }
}

/// Where an item stands in the workflow `draft → in_review → scheduled → published →
/// unpublished`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    Draft,
    InReview,
    Scheduled,
    Published,
    Unpublished,
}

impl ItemStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Draft => "draft",
            ItemStatus::InReview => "in_review",
            ItemStatus::Scheduled => "scheduled",
            ItemStatus::Published => "published",
            ItemStatus::Unpublished => "unpublished",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "draft" => ItemStatus::Draft,
            "in_review" => ItemStatus::InReview,
            "scheduled" => ItemStatus::Scheduled,
            "published" => ItemStatus::Published,
            "unpublished" => ItemStatus::Unpublished,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub bio: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub slug: String,
    pub name: String,
}

/// Attribution: a wire agency, another outlet, an institution's statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeroImage {
    /// Path under the media store, such as `demo/hero-harbour.jpg`.
    pub path: String,
    #[serde(default)]
    pub caption: String,
    #[serde(default)]
    pub credit: String,
    pub alt: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

/// What kind of note an editor attaches to a published item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteKind {
    /// Something published was wrong, and this says what and what is right.
    Correction,
    /// The story has moved on since publication.
    Update,
}

impl NoteKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoteKind::Correction => "correction",
            NoteKind::Update => "update",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "correction" => Some(NoteKind::Correction),
            "update" => Some(NoteKind::Update),
            _ => None,
        }
    }
}

/// Longest correction or update note.
pub const NOTE_MAX: usize = 2000;

/// A public note at the end of a story, with its time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub kind: NoteKind,
    pub text: String,
    pub at: Timestamp,
}

/// The text of a note, trimmed, or the rule it breaks.
pub fn check_note(text: &str) -> Result<String, Error> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::Required { field: "note" });
    }
    check_len("note", text, NOTE_MAX)?;
    Ok(text.to_owned())
}

/// A stored story or brief.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub id: i64,
    pub kind: ItemKind,
    pub status: ItemStatus,
    pub language: String,
    pub translation_group: Option<String>,
    pub section: String,
    pub slug: String,
    pub headline: Option<String>,
    pub standfirst: Option<String>,
    pub body_markdown: String,
    /// Rendered from `body_markdown` and sanitized when saved; safe to emit as is.
    pub body_html: String,
    pub hero: Option<HeroImage>,
    pub breaking: bool,
    pub tags: Vec<Tag>,
    pub authors: Vec<Author>,
    pub sources: Vec<Source>,
    /// Public corrections and update notes, oldest first.
    #[serde(default)]
    pub notes: Vec<Note>,
    pub first_published_at: Option<Timestamp>,
    pub published_at: Option<Timestamp>,
    /// The last change readers are told about ("Updated …").
    pub updated_at: Option<Timestamp>,
    pub created_at: Timestamp,
    /// Last change of any kind, for the desk and for sorting.
    pub changed_at: Timestamp,
    /// Grows by one on every save; a save names the version it started from.
    pub version: i64,
}

impl Item {
    /// The update readers are told about ("Updated …"): only one later than publication,
    /// since imports can carry both times.
    pub fn shown_update(&self) -> Option<Timestamp> {
        self.updated_at
            .filter(|u| self.published_at.is_none_or(|p| *u > p))
    }

    /// What to show where a headline goes: briefs without one show their opening words.
    pub fn display_headline(&self) -> String {
        match &self.headline {
            Some(h) => h.clone(),
            None => text::truncate_at_word(&text::plain_text(&self.body_html), 90),
        }
    }
}

/// A story or brief as a writer or an import hands it in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemInput {
    pub kind: Option<ItemKind>,
    pub language: Option<String>,
    pub section: Option<String>,
    pub slug: Option<String>,
    pub headline: Option<String>,
    pub standfirst: Option<String>,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub authors: Vec<String>,
    #[serde(default)]
    pub sources: Vec<Source>,
    pub hero: Option<HeroImage>,
    #[serde(default)]
    pub breaking: bool,
    pub status: Option<ItemStatus>,
    pub translation_group: Option<String>,
    pub published_at: Option<Timestamp>,
    pub updated_at: Option<Timestamp>,
}

/// An item that passed every rule; the only thing the store accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidItem {
    pub kind: ItemKind,
    pub status: ItemStatus,
    pub language: String,
    pub translation_group: Option<String>,
    pub section: String,
    pub slug: String,
    pub headline: Option<String>,
    pub standfirst: Option<String>,
    pub body_markdown: String,
    pub body_html: String,
    pub hero: Option<HeroImage>,
    pub breaking: bool,
    pub tags: Vec<Tag>,
    pub author_slugs: Vec<String>,
    pub sources: Vec<Source>,
    pub published_at: Option<Timestamp>,
    pub updated_at: Option<Timestamp>,
}

fn trimmed(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

pub(crate) fn check_len(field: &'static str, value: &str, max: usize) -> Result<(), Error> {
    if value.chars().count() > max {
        return Err(Error::TooLong { field, max });
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(Error::invalid(field, "contains control characters"));
    }
    Ok(())
}

pub(crate) fn check_single_line(field: &'static str, value: &str, max: usize) -> Result<(), Error> {
    check_len(field, value, max)?;
    if value.contains(['\n', '\r']) {
        return Err(Error::invalid(field, "must be a single line"));
    }
    Ok(())
}

fn check_http_url(field: &'static str, value: &str) -> Result<(), Error> {
    match url::Url::parse(value) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => Ok(()),
        _ => Err(Error::invalid(field, "must be an http or https address")),
    }
}

impl ItemInput {
    /// Applies every rule of the content model and renders the body.
    /// `sections` is the list items may be filed in now (the database's, not the file's).
    pub fn validate(&self, config: &Config, sections: &Sections) -> Result<ValidItem, Error> {
        let kind = self.kind.ok_or(Error::Required { field: "kind" })?;
        let language = match trimmed(&self.language) {
            None => config.site.default_language.clone(),
            Some(tag) => {
                let normal = crate::lang::normalize(&tag)
                    .ok_or_else(|| Error::invalid("language", "not a BCP 47 language tag"))?;
                if !config.site.languages.iter().any(|l| l == &normal) {
                    return Err(Error::UnknownLanguage(normal));
                }
                normal
            }
        };
        let section = trimmed(&self.section).ok_or(Error::Required { field: "section" })?;
        if !sections.contains(&section) {
            return Err(Error::UnknownSection(section));
        }

        let headline = trimmed(&self.headline);
        if let Some(h) = &headline {
            check_single_line("headline", h, HEADLINE_MAX)?;
        } else if kind == ItemKind::Story {
            return Err(Error::Required { field: "headline" });
        }
        let standfirst = trimmed(&self.standfirst);
        if let Some(s) = &standfirst {
            check_len("standfirst", s, STANDFIRST_MAX)?;
        }
        let body_markdown = self.body.trim().replace("\r\n", "\n");
        if body_markdown.is_empty() {
            return Err(Error::Required { field: "body" });
        }
        if body_markdown.len() > BODY_MAX_BYTES {
            return Err(Error::TooLong {
                field: "body",
                max: BODY_MAX_BYTES,
            });
        }
        check_len("body", &body_markdown, usize::MAX)?;
        let body_html = text::render_markdown(&body_markdown);

        let slug = match trimmed(&self.slug) {
            Some(s) => {
                if !text::is_slug(&s) {
                    return Err(Error::invalid(
                        "slug",
                        "use lowercase letters, digits and single hyphens",
                    ));
                }
                s
            }
            None => {
                let basis = headline
                    .clone()
                    .unwrap_or_else(|| text::truncate_words(&text::plain_text(&body_html), 8));
                text::slugify(&basis)
            }
        };
        if slug.is_empty() {
            return Err(Error::Required { field: "slug" });
        }
        if slug.len() > SLUG_MAX {
            return Err(Error::TooLong {
                field: "slug",
                max: SLUG_MAX,
            });
        }

        if self.tags.len() > TAGS_MAX {
            return Err(Error::invalid("tags", format!("at most {TAGS_MAX} tags")));
        }
        let mut tags: Vec<Tag> = Vec::new();
        for raw in &self.tags {
            let name = raw.trim();
            check_single_line("tags", name, LABEL_MAX)?;
            let slug = text::slugify(name);
            if slug.is_empty() {
                return Err(Error::invalid(
                    "tags",
                    format!("`{name}` has no letters or digits"),
                ));
            }
            if !tags.iter().any(|t| t.slug == slug) {
                tags.push(Tag {
                    name: text::label_from_slug_or_name(name),
                    slug,
                });
            }
        }

        if self.authors.len() > AUTHORS_MAX {
            return Err(Error::invalid(
                "authors",
                format!("at most {AUTHORS_MAX} authors"),
            ));
        }
        let mut author_slugs = Vec::new();
        for a in &self.authors {
            let a = a.trim();
            if !text::is_slug(a) {
                return Err(Error::invalid(
                    "authors",
                    format!("`{a}` is not an author's slug"),
                ));
            }
            if !author_slugs.iter().any(|x| x == a) {
                author_slugs.push(a.to_owned());
            }
        }

        if self.sources.len() > SOURCES_MAX {
            return Err(Error::invalid(
                "sources",
                format!("at most {SOURCES_MAX} sources"),
            ));
        }
        let mut sources = Vec::new();
        for s in &self.sources {
            let name = s.name.trim();
            if name.is_empty() {
                return Err(Error::Required { field: "sources" });
            }
            check_single_line("sources", name, LABEL_MAX)?;
            let url = trimmed(&s.url);
            if let Some(u) = &url {
                check_http_url("sources", u)?;
            }
            sources.push(Source {
                name: name.to_owned(),
                url,
            });
        }

        let hero = match &self.hero {
            None => None,
            Some(h) => {
                let path = h.path.trim();
                check_single_line("hero.path", path, HERO_PATH_MAX)?;
                if path.is_empty()
                    || path.starts_with('/')
                    || path.contains('\\')
                    || path.split('/').any(|p| p == ".." || p.is_empty())
                {
                    return Err(Error::invalid("hero.path", "must be a relative media path"));
                }
                let alt = h.alt.trim();
                if alt.is_empty() {
                    return Err(Error::Required { field: "hero.alt" });
                }
                check_single_line("hero.alt", alt, ALT_MAX)?;
                check_len("hero.caption", h.caption.trim(), CAPTION_MAX)?;
                check_single_line("hero.credit", h.credit.trim(), CREDIT_MAX)?;
                Some(HeroImage {
                    path: path.to_owned(),
                    caption: h.caption.trim().to_owned(),
                    credit: h.credit.trim().to_owned(),
                    alt: alt.to_owned(),
                    width: h.width,
                    height: h.height,
                })
            }
        };

        let translation_group = trimmed(&self.translation_group);
        if let Some(g) = &translation_group
            && !text::is_slug(g)
        {
            return Err(Error::invalid(
                "translation_group",
                "use lowercase letters, digits and single hyphens",
            ));
        }
        if let (Some(p), Some(u)) = (self.published_at, self.updated_at)
            && u < p
        {
            return Err(Error::invalid("updated_at", "is before published_at"));
        }

        let status = self.status.unwrap_or(ItemStatus::Draft);
        if status == ItemStatus::Scheduled && self.published_at.is_none() {
            // The scheduler publishes at `published_at`; without it nothing would happen.
            return Err(Error::Required {
                field: "published_at",
            });
        }

        Ok(ValidItem {
            kind,
            status,
            language,
            translation_group,
            section,
            slug,
            headline,
            standfirst,
            body_markdown,
            body_html,
            hero,
            breaking: self.breaking,
            tags,
            author_slugs,
            sources,
            published_at: self.published_at,
            updated_at: self.updated_at,
        })
    }
}

/// The times a save settles on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicationTimes {
    pub first_published_at: Option<Timestamp>,
    pub published_at: Option<Timestamp>,
    pub updated_at: Option<Timestamp>,
}

impl PublicationTimes {
    /// The newsroom's rules for the three public times of a save at `now`:
    /// - first published is set once, the first time an item goes public, and never moves;
    /// - published is when the current publication began (an explicit time wins, as for a
    ///   backdated import or a scheduled slot), kept across edits while the item stays public;
    /// - updated is set when an item that was already public is saved again, so readers see
    ///   that the text changed after they may have read it; an explicit time wins.
    ///
    /// Items that are not published keep whatever times they had, so a story taken down and
    /// put back still shows when it first appeared.
    pub fn settle(before: Option<&Item>, next: &ValidItem, now: Timestamp) -> Self {
        let was_public = before.is_some_and(|b| b.status == ItemStatus::Published);
        let first = before.and_then(|b| b.first_published_at);
        if next.status != ItemStatus::Published {
            return PublicationTimes {
                first_published_at: first,
                published_at: next.published_at.or(before.and_then(|b| b.published_at)),
                updated_at: before.and_then(|b| b.updated_at),
            };
        }
        let published_at = match (next.published_at, was_public) {
            (Some(at), _) => at,
            (None, true) => before.and_then(|b| b.published_at).unwrap_or(now),
            (None, false) => now,
        };
        let updated_at = match next.updated_at {
            Some(at) => Some(at),
            None if was_public => Some(now),
            None => before
                .and_then(|b| b.updated_at)
                .filter(|u| *u > published_at),
        };
        PublicationTimes {
            first_published_at: Some(first.map_or(published_at, |f| f.min(published_at))),
            published_at: Some(published_at),
            updated_at,
        }
    }
}

/// Which published items a listing wants. Every filter is optional; items come newest first.
#[derive(Debug, Clone, Default)]
pub struct ItemQuery {
    pub language: Option<String>,
    pub kind: Option<ItemKind>,
    pub section: Option<String>,
    pub tag: Option<String>,
    pub author: Option<String>,
    pub breaking: Option<bool>,
    pub translation_group: Option<String>,
    /// Leave this item out (the story a sidebar sits beside).
    pub exclude_id: Option<i64>,
    /// Only items published at or after this time.
    pub published_since: Option<Timestamp>,
    /// Only items that come after this (publication time, id) in newest-first order: a
    /// cursor that stays put while new items arrive, unlike an offset.
    pub before: Option<(Timestamp, i64)>,
    pub limit: u32,
    pub offset: u32,
}

/// Which items the desk's content list wants: every status, newest change first.
#[derive(Debug, Clone, Default)]
pub struct DeskQuery {
    pub status: Option<ItemStatus>,
    pub kind: Option<ItemKind>,
    pub section: Option<String>,
    pub language: Option<String>,
    pub author: Option<String>,
    pub breaking: Option<bool>,
    /// Words the headline contains, matched without regard to case.
    pub headline: Option<String>,
    /// For a person who may not see every item (a contributor): only published items and
    /// those this address wrote (the first revision's actor), so the list shows no more than
    /// the item pages would.
    pub published_or_written_by: Option<String>,
    pub limit: u32,
    pub offset: u32,
}

/// What editors decided about one item's related list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelatedChoices {
    /// Shown first, in this order.
    pub pinned: Vec<i64>,
    /// Never shown.
    pub excluded: Vec<i64>,
}

/// What a story page shows around its item, read together (`Store::story_facts`): the
/// editors' related choices, the commenting switches and the comment counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoryFacts {
    pub related: RelatedChoices,
    /// Comments closed on this story by an editor.
    pub closed_by_hand: bool,
    /// Comments on this story held for review first.
    pub premoderated: bool,
    /// Published comments at every depth.
    pub comments: u64,
    /// Top-level comments anyone sees (published, or deleted and kept for their replies):
    /// none, and the first page of the discussion needs no query.
    pub top_level_shown: u64,
}

/// One published item's times, for the item sitemaps (see `Store::published_times`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishedTimes {
    pub published_at: Timestamp,
    pub last_changed: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListingKind {
    Section,
    Tag,
    Author,
}

/// A listing page with published items in one language, and when it last changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingActivity {
    pub kind: ListingKind,
    pub slug: String,
    pub language: String,
    pub last_changed: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_sections() -> Sections {
        Config::default().seed_sections()
    }

    fn brief(body: &str) -> ItemInput {
        ItemInput {
            kind: Some(ItemKind::Brief),
            section: Some("world".into()),
            body: body.into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_brief_without_headline_gets_a_slug_from_its_words() {
        let v = brief("Ferry *services* resume after the storm, the operator said.")
            .validate(&Config::default(), &default_sections())
            .expect("valid");
        assert_eq!(v.slug, "ferry-services-resume-after-the-storm-the-operator");
        assert_eq!(v.language, "en");
        assert!(v.body_html.contains("<em>services</em>"));
    }

    #[test]
    fn a_story_needs_a_headline() {
        let mut input = brief("Text.");
        input.kind = Some(ItemKind::Story);
        assert_eq!(
            input.validate(&Config::default(), &default_sections()),
            Err(Error::Required { field: "headline" })
        );
    }

    #[test]
    fn headline_limit_is_enforced_at_its_edge() {
        let mut input = brief("Text.");
        input.headline = Some("ə".repeat(HEADLINE_MAX));
        assert!(
            input
                .validate(&Config::default(), &default_sections())
                .is_ok()
        );
        input.headline = Some("ə".repeat(HEADLINE_MAX + 1));
        assert_eq!(
            input.validate(&Config::default(), &default_sections()),
            Err(Error::TooLong {
                field: "headline",
                max: HEADLINE_MAX
            })
        );
    }

    #[test]
    fn unknown_section_and_language_are_named() {
        let mut input = brief("Text.");
        input.section = Some("weather".into());
        assert_eq!(
            input.validate(&Config::default(), &default_sections()),
            Err(Error::UnknownSection("weather".into()))
        );
        let mut input = brief("Text.");
        input.language = Some("xx".into());
        assert_eq!(
            input.validate(&Config::default(), &default_sections()),
            Err(Error::UnknownLanguage("xx".into()))
        );
    }

    #[test]
    fn hero_needs_alt_text() {
        let mut input = brief("Text.");
        input.hero = Some(HeroImage {
            path: "a.jpg".into(),
            caption: String::new(),
            credit: String::new(),
            alt: "  ".into(),
            width: None,
            height: None,
        });
        assert_eq!(
            input.validate(&Config::default(), &default_sections()),
            Err(Error::Required { field: "hero.alt" })
        );
    }

    #[test]
    fn hero_paths_are_bounded_relative_and_free_of_control_characters() {
        let with_path = |path: &str| {
            let mut input = brief("Text.");
            input.hero = Some(HeroImage {
                path: path.into(),
                caption: String::new(),
                credit: String::new(),
                alt: "A harbour".into(),
                width: None,
                height: None,
            });
            input
                .validate(&Config::default(), &default_sections())
                .map(|v| v.hero)
        };
        let longest = format!("{}.jpg", "a".repeat(HERO_PATH_MAX - 4));
        assert!(with_path(&longest).is_ok(), "{HERO_PATH_MAX} characters");
        assert_eq!(
            with_path(&format!("a{longest}")),
            Err(Error::TooLong {
                field: "hero.path",
                max: HERO_PATH_MAX
            })
        );
        assert_eq!(
            with_path(&"a".repeat(5000)),
            Err(Error::TooLong {
                field: "hero.path",
                max: HERO_PATH_MAX
            })
        );
        for bad in [
            "a\0.jpg",
            "a\u{1}b.jpg",
            "a\nb.jpg",
            "a\u{7f}.jpg",
            "../secret.jpg",
            "demo/../../x.jpg",
            "/etc/passwd",
            "demo//x.jpg",
            "demo\\x.jpg",
        ] {
            let e = with_path(bad).expect_err(bad);
            assert_eq!(e.field(), Some("hero.path"), "{bad:?}: {e}");
        }
        assert!(with_path("uploads/ab/cd.jpg").is_ok());
    }

    #[test]
    fn control_characters_in_a_headline_are_refused() {
        let mut input = brief("Text.");
        input.headline = Some("Bell\u{7} rings".into());
        assert!(matches!(
            input.validate(&Config::default(), &default_sections()),
            Err(Error::Invalid {
                field: "headline",
                ..
            })
        ));
    }

    fn stored(v: &ValidItem, times: PublicationTimes) -> Item {
        let now = Timestamp::UNIX_EPOCH;
        Item {
            id: 1,
            kind: v.kind,
            status: v.status,
            language: v.language.clone(),
            translation_group: None,
            section: v.section.clone(),
            slug: v.slug.clone(),
            headline: v.headline.clone(),
            standfirst: None,
            body_markdown: v.body_markdown.clone(),
            body_html: v.body_html.clone(),
            hero: None,
            breaking: false,
            tags: vec![],
            authors: vec![],
            sources: vec![],
            notes: vec![],
            first_published_at: times.first_published_at,
            published_at: times.published_at,
            updated_at: times.updated_at,
            created_at: now,
            changed_at: now,
            version: 1,
        }
    }

    #[test]
    fn publication_times_follow_a_story_through_edit_takedown_and_return() {
        let t = |s: i64| Timestamp::from_second(1_800_000_000 + s).expect("time");
        let mut input = brief("Text.");
        input.status = Some(ItemStatus::Published);
        let v = input
            .validate(&Config::default(), &default_sections())
            .expect("valid");

        let first = PublicationTimes::settle(None, &v, t(0));
        assert_eq!(first.first_published_at, Some(t(0)));
        assert_eq!(first.published_at, Some(t(0)));
        assert_eq!(
            first.updated_at, None,
            "a first publication is not an update"
        );

        let edited = PublicationTimes::settle(Some(&stored(&v, first)), &v, t(60));
        assert_eq!(edited.published_at, Some(t(0)));
        assert_eq!(edited.updated_at, Some(t(60)));

        let mut down = v.clone();
        down.status = ItemStatus::Unpublished;
        let taken_down = PublicationTimes::settle(Some(&stored(&v, edited)), &down, t(120));
        assert_eq!(taken_down.first_published_at, Some(t(0)));

        let back = PublicationTimes::settle(Some(&stored(&down, taken_down)), &v, t(180));
        assert_eq!(
            back.first_published_at,
            Some(t(0)),
            "first published never moves"
        );
        assert_eq!(back.published_at, Some(t(180)));
    }

    #[test]
    fn explicit_times_from_an_import_win() {
        let at = Timestamp::from_second(1_700_000_000).expect("time");
        let mut input = brief("Text.");
        input.status = Some(ItemStatus::Published);
        input.published_at = Some(at);
        let v = input
            .validate(&Config::default(), &default_sections())
            .expect("valid");
        let times = PublicationTimes::settle(None, &v, Timestamp::now());
        assert_eq!(times.published_at, Some(at));
        assert_eq!(times.first_published_at, Some(at));
    }
}

/// One saved version of an item: who saved it, when, and the item as it was then (the
/// JSON the history compares and restores from).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revision {
    pub item_id: i64,
    pub version: i64,
    pub actor: String,
    pub created_at: Timestamp,
    pub snapshot: serde_json::Value,
}
