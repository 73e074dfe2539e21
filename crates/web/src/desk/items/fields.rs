//! The editor's field model: what its form holds, read from a stored item, from a posted
//! form, or from an autosave (stored as [`ItemFields`]' JSON), and turned into the item the
//! newsroom saves.

use jiff::tz::TimeZone;
use newsdesk_core::library::LibraryImage;
use newsdesk_core::{HeroImage, Item, ItemInput, ItemKind, ItemStatus, Source};
use serde::{Deserialize, Serialize};

/// What the editor's fields hold, as text the way the form shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(super) struct ItemFields {
    pub kind: String,
    pub language: String,
    pub section: String,
    pub slug: String,
    pub headline: String,
    pub standfirst: String,
    pub body: String,
    pub tags: String,
    pub authors: Vec<String>,
    pub sources: String,
    pub breaking: bool,
    /// `YYYY-MM-DDTHH:MM` in the site's zone, for `<input type="datetime-local">`.
    pub publish_at: String,
    pub hero_path: String,
    pub hero_width: String,
    pub hero_height: String,
    pub hero_caption: String,
    pub hero_credit: String,
    pub hero_alt: String,
}

/// The editor's form as posted: its fields, and what rides along with them.
#[derive(Debug, Default)]
pub(super) struct PostedEditor {
    pub fields: ItemFields,
    pub csrf: String,
    /// The version the form was opened at, as sent (checked by whoever reads it).
    pub version: Option<String>,
    /// The button pressed.
    pub action: Option<String>,
    /// An image chosen in the form's library picker.
    pub hero_pick: Option<String>,
}

impl ItemFields {
    /// Puts a library image in the hero fields; its words fill the ones the writer left empty.
    pub fn use_library_image(&mut self, image: &LibraryImage) {
        self.hero_path = image.path.clone();
        self.hero_width = image.width.to_string();
        self.hero_height = image.height.to_string();
        for (field, default) in [
            (&mut self.hero_alt, &image.alt),
            (&mut self.hero_caption, &image.caption),
            (&mut self.hero_credit, &image.credit),
        ] {
            if field.trim().is_empty() {
                field.clone_from(default);
            }
        }
    }

    pub fn from_item(item: &Item, zone: &TimeZone) -> Self {
        let hero = item.hero.as_ref();
        let hero_text = |text: fn(&HeroImage) -> &String| hero.map(text).cloned();
        let size = |size: fn(&HeroImage) -> Option<u32>| {
            hero.and_then(size)
                .map(|n| n.to_string())
                .unwrap_or_default()
        };
        ItemFields {
            kind: item.kind.as_str().into(),
            language: item.language.clone(),
            section: item.section.clone(),
            slug: item.slug.clone(),
            headline: item.headline.clone().unwrap_or_default(),
            standfirst: item.standfirst.clone().unwrap_or_default(),
            body: item.body_markdown.clone(),
            tags: item
                .tags
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            authors: item.authors.iter().map(|a| a.slug.clone()).collect(),
            sources: item
                .sources
                .iter()
                .map(|s| match &s.url {
                    Some(url) => format!("{} | {url}", s.name),
                    None => s.name.clone(),
                })
                .collect::<Vec<_>>()
                .join("\n"),
            breaking: item.breaking,
            hero_path: hero_text(|h| &h.path).unwrap_or_default(),
            hero_width: size(|h| h.width),
            hero_height: size(|h| h.height),
            hero_caption: hero_text(|h| &h.caption).unwrap_or_default(),
            hero_credit: hero_text(|h| &h.credit).unwrap_or_default(),
            hero_alt: hero_text(|h| &h.alt).unwrap_or_default(),
            publish_at: match (item.status, item.published_at) {
                (ItemStatus::Scheduled, Some(at)) => at
                    .to_zoned_datetime(zone.clone())
                    .strftime("%Y-%m-%dT%H:%M")
                    .to_string(),
                _ => String::new(),
            },
        }
    }

    /// The posted form's pairs, in the order sent: a repeated field keeps its last value,
    /// but authors are a list and the picker takes its first choice.
    pub fn from_form(pairs: &[(String, String)]) -> PostedEditor {
        let mut posted = PostedEditor::default();
        let f = &mut posted.fields;
        for (k, v) in pairs {
            match k.as_str() {
                "kind" => f.kind = v.clone(),
                "language" => f.language = v.clone(),
                "section" => f.section = v.clone(),
                "slug" => f.slug = v.clone(),
                "headline" => f.headline = v.clone(),
                "standfirst" => f.standfirst = v.clone(),
                "body" => f.body = v.clone(),
                "tags" => f.tags = v.clone(),
                "authors" => f.authors.push(v.clone()),
                "sources" => f.sources = v.clone(),
                "breaking" => f.breaking = v == "yes",
                "publish_at" => f.publish_at = v.clone(),
                "hero_path" => f.hero_path = v.clone(),
                "hero_width" => f.hero_width = v.clone(),
                "hero_height" => f.hero_height = v.clone(),
                "hero_caption" => f.hero_caption = v.clone(),
                "hero_credit" => f.hero_credit = v.clone(),
                "hero_alt" => f.hero_alt = v.clone(),
                "csrf" => posted.csrf = v.clone(),
                "version" => posted.version = Some(v.clone()),
                "action" => posted.action = Some(v.clone()),
                "hero_pick" if posted.hero_pick.is_none() && !v.is_empty() => {
                    posted.hero_pick = Some(v.clone());
                }
                _ => {}
            }
        }
        posted
    }

    /// The item the fields describe; malformed fields are named.
    pub fn to_input(&self, zone: &TimeZone) -> Result<ItemInput, newsdesk_core::Error> {
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let mut sources = Vec::new();
        for line in self
            .sources
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            let (name, url) = match line.split_once('|') {
                Some((n, u)) => (n.trim(), text(u)),
                None => (line, None),
            };
            sources.push(Source {
                name: name.to_owned(),
                url,
            });
        }
        let published_at = match text(&self.publish_at) {
            None => None,
            Some(local) => {
                let civil: jiff::civil::DateTime = local.parse().map_err(|_| {
                    newsdesk_core::Error::invalid(
                        "published_at",
                        "use a date and time such as 2026-12-01T09:30",
                    )
                })?;
                Some(
                    civil
                        .to_zoned_datetime(zone.clone())
                        .map_err(|_| {
                            newsdesk_core::Error::invalid(
                                "published_at",
                                "is not a time in the site's zone",
                            )
                        })?
                        .timestamp(),
                )
            }
        };
        Ok(ItemInput {
            kind: Some(
                ItemKind::parse(&self.kind)
                    .ok_or(newsdesk_core::Error::Required { field: "kind" })?,
            ),
            language: text(&self.language),
            section: text(&self.section),
            slug: text(&self.slug),
            headline: text(&self.headline),
            standfirst: text(&self.standfirst),
            body: self.body.clone(),
            tags: self
                .tags
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
            authors: self.authors.clone(),
            sources,
            breaking: self.breaking,
            published_at,
            hero: text(&self.hero_path).map(|path| HeroImage {
                path,
                caption: self.hero_caption.trim().to_owned(),
                credit: self.hero_credit.trim().to_owned(),
                alt: self.hero_alt.trim().to_owned(),
                width: self.hero_width.parse().ok(),
                height: self.hero_height.parse().ok(),
            }),
            ..ItemInput::default()
        })
    }
}
