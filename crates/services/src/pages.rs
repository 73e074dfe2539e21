//! The pages readers read, each as one model the site renders: the front page of an edition
//! and the story page. A page's reads are gathered here, so the web face makes one call per
//! page and knows nothing of which parts come from where.

use jiff::Timestamp;
use newsdesk_core::comment::CommentSort;
use newsdesk_core::config::Section;
use newsdesk_core::{Item, ItemKind, moderation};
use newsdesk_store::ItemQuery;

use crate::comments::Thread;
use crate::error::Result;
use crate::newsroom::{ItemLookup, Newsroom};

/// How many items each section rail on the front page shows.
pub const RAIL_SIZE: u32 = 4;

/// The front page of one language edition.
#[derive(Debug, Clone)]
pub struct FrontPage {
    pub breaking: Option<Item>,
    pub top: Option<Item>,
    pub stream: Vec<Item>,
    pub rails: Vec<Rail>,
}

#[derive(Debug, Clone)]
pub struct Rail {
    pub section: Section,
    pub items: Vec<Item>,
}

/// A story page: the item and everything shown around it.
#[derive(Debug, Clone)]
pub struct ItemPage {
    pub item: Box<Item>,
    /// Editors' pins first, then the index's choice (see `Newsroom::related`).
    pub related: Vec<Item>,
    /// The first page of comments, newest first; `None` where the item's kind takes none.
    pub discussion: Option<Discussion>,
    /// The latest news beside the story, without the story itself.
    pub stream: Vec<Item>,
    /// The same story in the site's other languages, one per language.
    pub translations: Vec<Item>,
}

/// The comments a story page shows for everyone (no reader's own held comments: the page
/// is cached).
#[derive(Debug, Clone)]
pub struct Discussion {
    pub thread: Thread,
    /// Whether new comments are refused now (by hand, by kind or by age).
    pub closed: bool,
}

impl Newsroom {
    pub async fn front_page(&self, language: &str, now: Timestamp) -> Result<FrontPage> {
        let breaking = self.breaking(language, now).await?;
        let top = self
            .store()
            .published(&ItemQuery {
                kind: Some(ItemKind::Story),
                limit: 1,
                ..self.query(language)
            })
            .await?
            .into_iter()
            .next();
        let stream = self.stream(language, None).await?;
        let mut rails = Vec::new();
        let sections = self.sections();
        for section in sections.iter() {
            let items = self
                .store()
                .published(&ItemQuery {
                    section: Some(section.slug.clone()),
                    exclude_id: top.as_ref().map(|t| t.id),
                    limit: RAIL_SIZE,
                    ..self.query(language)
                })
                .await?;
            if !items.is_empty() {
                rails.push(Rail {
                    section: section.clone(),
                    items,
                });
            }
        }
        Ok(FrontPage {
            breaking,
            top,
            stream,
            rails,
        })
    }

    /// The story page at `/{section}/{slug}` of one edition, or where its reader goes
    /// instead (see `find_item`).
    pub async fn item_page(
        &self,
        language: &str,
        section: &str,
        slug: &str,
        now: Timestamp,
    ) -> Result<ItemLookup<ItemPage>> {
        let item = match self.find_item(language, section, slug).await? {
            ItemLookup::Found(item) => item,
            ItemLookup::Moved(item) => return Ok(ItemLookup::Moved(item)),
            ItemLookup::Gone => return Ok(ItemLookup::Gone),
            ItemLookup::NotFound => return Ok(ItemLookup::NotFound),
        };
        // One statement for what surrounds the item: a miss is mostly statements.
        let facts = self.store().story_facts(item.id).await?;
        let related = self.related_with(&item, &facts.related).await?;
        let discussion = if moderation::comments_allowed_on(&self.config().comments, item.kind) {
            let thread = if facts.top_level_shown == 0 {
                // Most of an archive has no comments: nothing to read for the first page.
                Thread {
                    nodes: Vec::new(),
                    total: facts.comments,
                    page: 1,
                    pages: 1,
                }
            } else {
                self.thread(item.id, CommentSort::Newest, 1, None).await?
            };
            let commenting =
                self.commenting_with(&item, facts.closed_by_hand, facts.premoderated, now);
            Some(Discussion {
                thread,
                closed: commenting.closed,
            })
        } else {
            None
        };
        let stream = self.stream(language, Some(item.id)).await?;
        let translations = self.translations(&item).await?;
        Ok(ItemLookup::Found(ItemPage {
            item,
            related,
            discussion,
            stream,
            translations,
        }))
    }
}
