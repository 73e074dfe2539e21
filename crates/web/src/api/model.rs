//! The API's JSON shapes, each with its OpenAPI schema, and how they are made from the domain's
//! types. Addresses are absolute, times RFC 3339 in UTC, bodies safe HTML (sanitized when saved)
//! and structured blocks. These types are the API's contract: a change here is a change for
//! every app in the stores, so fields are added, never renamed or removed, within `/api/v1`.

use jiff::Timestamp;
use newsdesk_core::blocks::{self, Block as CoreBlock};
use newsdesk_core::comment::CommentStatus;
use newsdesk_core::moderation::{self, render_comment};
use newsdesk_core::{Config, Item, Sections};
use newsdesk_services::comments::CommentNode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::paths;
use crate::views;

/// Absolute links need the site's address; one value carries what every conversion needs,
/// the sections read once for the request.
pub struct Linker<'a> {
    pub config: &'a Config,
    pub sections: std::sync::Arc<Sections>,
    pub base_url: &'a str,
}

impl Linker<'_> {
    fn absolute(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    fn media(&self, path: &str) -> String {
        self.absolute(&format!("/media/{path}"))
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Story,
    Brief,
}

impl From<newsdesk_core::ItemKind> for Kind {
    fn from(k: newsdesk_core::ItemKind) -> Self {
        match k {
            newsdesk_core::ItemKind::Story => Kind::Story,
            newsdesk_core::ItemKind::Brief => Kind::Brief,
        }
    }
}

impl From<Kind> for newsdesk_core::ItemKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Story => newsdesk_core::ItemKind::Story,
            Kind::Brief => newsdesk_core::ItemKind::Brief,
        }
    }
}

/// A section, tag or author as an item names it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Label {
    pub slug: String,
    pub name: String,
    /// The label's page on the site, in the item's edition.
    pub url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Image {
    /// The original (widest) file.
    pub url: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub alt: String,
    pub caption: String,
    pub credit: String,
    /// Narrower files of the same picture, widest first, in JPEG and WebP where they exist:
    /// pick the narrowest at least as wide as the screen.
    pub variants: Vec<ImageVariant>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImageVariant {
    pub url: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// `image/jpeg` or `image/webp`.
    pub media_type: String,
}

/// An item in a list: enough to show a teaser.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemSummary {
    pub id: i64,
    pub kind: Kind,
    /// BCP 47 tag of the item's edition.
    pub language: String,
    pub section: Label,
    pub slug: String,
    /// The item's page on the site.
    pub url: String,
    /// Briefs may have none.
    pub headline: Option<String>,
    /// What to show where a headline goes: the headline, or a brief's opening words.
    pub title: String,
    pub standfirst: Option<String>,
    pub breaking: bool,
    pub hero: Option<Image>,
    pub tags: Vec<Label>,
    pub authors: Vec<Label>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub published_at: Option<Timestamp>,
    /// The last change readers were told about.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub updated_at: Option<Timestamp>,
}

/// One item whole: its body as safe HTML and as structured blocks.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemDetail {
    #[serde(flatten)]
    pub summary: ItemSummary,
    /// `draft`, `in_review`, `scheduled`, `published` or `unpublished`; readers only ever
    /// see `published`.
    pub status: String,
    /// Grows by one on every save; an update names the version it started from.
    pub version: i64,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub first_published_at: Option<Timestamp>,
    pub body_html: String,
    pub body_blocks: Vec<Block>,
    pub sources: Vec<Source>,
    /// Corrections and update notes, oldest first.
    pub notes: Vec<Note>,
    /// Visible comments at every depth.
    pub comment_count: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Source {
    pub name: String,
    pub url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Note {
    /// `correction` or `update`.
    pub kind: String,
    pub text: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
}

/// One top-level block of a body. HTML in blocks is sanitized like the page's body.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    Paragraph { html: String },
    Heading { level: u8, text: String },
    Quote { html: String },
    List { ordered: bool, items: Vec<String> },
    Code { text: String },
    Table { html: String },
    Rule,
    Html { html: String },
}

impl From<CoreBlock> for Block {
    fn from(b: CoreBlock) -> Self {
        match b {
            CoreBlock::Paragraph { html } => Block::Paragraph { html },
            CoreBlock::Heading { level, text } => Block::Heading { level, text },
            CoreBlock::Quote { html } => Block::Quote { html },
            CoreBlock::List { ordered, items } => Block::List { ordered, items },
            CoreBlock::Code { text } => Block::Code { text },
            CoreBlock::Table { html } => Block::Table { html },
            CoreBlock::Rule => Block::Rule,
            CoreBlock::Html { html } => Block::Html { html },
        }
    }
}

/// A page of the stream.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemPage {
    pub items: Vec<ItemSummary>,
    /// Pass as `cursor` for the next (older) page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ItemList {
    pub items: Vec<ItemSummary>,
}

/// The breaking item leading an edition, if one is within its window.
#[derive(Debug, Serialize, ToSchema)]
pub struct Breaking {
    pub item: Option<ItemSummary>,
}

impl Linker<'_> {
    fn label(&self, slug: &str, name: &str, url: String) -> Label {
        Label {
            slug: slug.to_owned(),
            name: name.to_owned(),
            url: self.absolute(&url),
        }
    }

    pub fn summary(&self, item: &Item) -> ItemSummary {
        let config = self.config;
        let lang = item.language.as_str();
        let section_name = self.sections.name(&item.section, lang);
        ItemSummary {
            id: item.id,
            kind: item.kind.into(),
            language: item.language.clone(),
            section: self.label(
                &item.section,
                &section_name,
                paths::section_url(config, lang, &item.section),
            ),
            slug: item.slug.clone(),
            url: self.absolute(&paths::item_url(config, item)),
            headline: item.headline.clone(),
            title: item.display_headline(),
            standfirst: item.standfirst.clone(),
            breaking: item.breaking,
            hero: item.hero.as_ref().map(|h| self.image(h)),
            tags: item
                .tags
                .iter()
                .map(|t| self.label(&t.slug, &t.name, paths::tag_url(config, lang, &t.slug)))
                .collect(),
            authors: item
                .authors
                .iter()
                .map(|a| self.label(&a.slug, &a.name, paths::author_url(config, lang, &a.slug)))
                .collect(),
            published_at: item.published_at,
            updated_at: item.shown_update(),
        }
    }

    fn image(&self, hero: &newsdesk_core::HeroImage) -> Image {
        let mut variants = Vec::new();
        for choice in views::image_choices(hero).into_iter().skip(1) {
            variants.push(ImageVariant {
                url: self.media(&choice.path),
                width: choice.width,
                height: choice.height,
                media_type: "image/jpeg".into(),
            });
        }
        if hero
            .path
            .starts_with(newsdesk_services::uploads::UPLOADS_PREFIX)
        {
            for choice in views::image_choices(hero) {
                variants.push(ImageVariant {
                    url: self.media(&newsdesk_services::uploads::webp_path(&choice.path)),
                    width: choice.width,
                    height: choice.height,
                    media_type: "image/webp".into(),
                });
            }
        }
        Image {
            url: self.media(&hero.path),
            width: hero.width,
            height: hero.height,
            alt: hero.alt.clone(),
            caption: hero.caption.clone(),
            credit: hero.credit.clone(),
            variants,
        }
    }

    pub fn detail(&self, item: &Item, comment_count: u64) -> ItemDetail {
        ItemDetail {
            summary: self.summary(item),
            status: item.status.as_str().to_owned(),
            version: item.version,
            first_published_at: item.first_published_at,
            body_html: item.body_html.clone(),
            body_blocks: blocks::body_blocks(&item.body_markdown)
                .into_iter()
                .map(Block::from)
                .collect(),
            sources: item
                .sources
                .iter()
                .map(|s| Source {
                    name: s.name.clone(),
                    url: s.url.clone(),
                })
                .collect(),
            notes: item
                .notes
                .iter()
                .map(|n| Note {
                    kind: n.kind.as_str().to_owned(),
                    text: n.text.clone(),
                    at: n.at,
                })
                .collect(),
            comment_count,
        }
    }
}

/// A comment with the replies shown under it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentOut {
    pub id: i64,
    pub item_id: i64,
    pub parent_id: Option<i64>,
    /// The writer's display name; null once their account was deleted.
    pub author: Option<String>,
    /// The writer is on the outlet's staff.
    pub staff: bool,
    /// `published`; `deleted` (kept as a marker so replies keep their place); `held` or
    /// `rejected` only for the writer's own comments.
    pub status: String,
    /// Safe HTML; empty for a deleted comment.
    pub body_html: String,
    pub featured: bool,
    pub likes: u32,
    /// The caller wrote it.
    pub mine: bool,
    /// The caller may still edit it (their own, within the edit window).
    pub editable: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub edited_at: Option<Timestamp>,
    #[schema(no_recursion)]
    pub replies: Vec<CommentOut>,
    /// Deeper replies exist: read them at `/api/v1/comments/{id}`.
    pub continues: bool,
}

impl CommentOut {
    pub fn new(
        node: &CommentNode,
        viewer: Option<i64>,
        editable: &dyn Fn(Timestamp) -> bool,
    ) -> Self {
        let c = &node.comment;
        let deleted = c.status == CommentStatus::Deleted;
        let mine = viewer.is_some() && c.reader_id == viewer && !deleted;
        CommentOut {
            id: c.id,
            item_id: c.item_id,
            parent_id: c.parent_id,
            author: c.author.clone(),
            staff: c.staff,
            status: c.status.as_str().to_owned(),
            body_html: if deleted {
                String::new()
            } else {
                render_comment(&c.body)
            },
            featured: c.featured,
            likes: c.likes,
            mine,
            editable: mine && editable(c.created_at),
            created_at: c.created_at,
            edited_at: c.edited_at,
            replies: node
                .replies
                .iter()
                .map(|r| CommentOut::new(r, viewer, editable))
                .collect(),
            continues: node.continues,
        }
    }
}

/// The edit window as a function, for `CommentOut::new`.
pub fn edit_window(config: &Config) -> impl Fn(Timestamp) -> bool + use<> {
    let rules = config.comments.clone();
    let now = Timestamp::now();
    move |at| moderation::within_edit_window(&rules, at, now)
}

/// One page of an item's comments.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentPage {
    /// Visible comments at every depth.
    pub total: u64,
    pub page: u32,
    pub pages: u32,
    /// Whether the item takes comments now.
    pub open: bool,
    pub comments: Vec<CommentOut>,
}
