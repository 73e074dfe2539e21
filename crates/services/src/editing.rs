//! Writing in the desk: who may see and change an item (an [`OpenedItem`] is read, and its
//! writer asked, once per request), saves that carry what the person pressed (save, submit,
//! publish, …) for the workflow to decide on the server, deletion, and correction notes.

use jiff::Timestamp;
use newsdesk_core::{Account, Item, ItemInput, ItemStatus, workflow};

use crate::Saved;
use crate::error::{Missing, Result, ServiceError};
use crate::newsroom::Newsroom;

/// The buttons of the editor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeskAction {
    /// Keep the status; on a published item this is an edit of the live story.
    Save,
    Submit,
    Publish,
    Schedule,
    Unpublish,
    ToDraft,
}

impl DeskAction {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "save" => DeskAction::Save,
            "submit" => DeskAction::Submit,
            "publish" => DeskAction::Publish,
            "schedule" => DeskAction::Schedule,
            "unpublish" => DeskAction::Unpublish,
            "draft" => DeskAction::ToDraft,
            _ => return None,
        })
    }

    pub fn target(self, current: Option<ItemStatus>) -> ItemStatus {
        match self {
            DeskAction::Save => current.unwrap_or(ItemStatus::Draft),
            DeskAction::Submit => ItemStatus::InReview,
            DeskAction::Publish => ItemStatus::Published,
            DeskAction::Schedule => ItemStatus::Scheduled,
            DeskAction::Unpublish => ItemStatus::Unpublished,
            DeskAction::ToDraft => ItemStatus::Draft,
        }
    }
}

/// An item as one staff member opened it: the item, read once, and whether they wrote it,
/// decided once. A save of an opened item asks neither again; only [`Newsroom::open_item`]
/// makes one, so "own" is always the store's answer for this person.
#[derive(Debug, Clone)]
pub struct OpenedItem {
    item: Item,
    own: bool,
    opened_by: i64,
}

impl OpenedItem {
    pub fn item(&self) -> &Item {
        &self.item
    }

    /// Whether the person who opened it wrote it (the workflow's "own").
    pub fn own(&self) -> bool {
        self.own
    }
}

/// Whether a staff member may see an item at all: a published item to anyone on the desk,
/// any other to roles that see every item and to the person who wrote it.
fn visible_to(account: &Account, item: &Item, own: bool) -> bool {
    item.status == ItemStatus::Published
        || account.role.may(newsdesk_core::Action::ViewAllItems)
        || own
}

impl Newsroom {
    /// Whether `account` wrote `item` (saved its first revision).
    async fn is_own(&self, account: &Account, item: &Item) -> Result<bool> {
        Ok(self.store().item_creator(item.id).await?.as_deref() == Some(account.email.as_str()))
    }

    async fn item_or_missing(&self, id: i64) -> Result<Item> {
        self.store()
            .item_by_id(id)
            .await?
            .ok_or(ServiceError::NotFound(Missing::Item(id)))
    }

    /// The item as `account` may see it, in the desk and through a staff token alike (see
    /// [`visible_to`]); who wrote it is asked only when that decides. Otherwise NotFound, as
    /// for an id that does not exist, so a contributor learns nothing of a colleague's drafts.
    pub async fn item_for_staff(&self, account: &Account, id: i64) -> Result<Item> {
        let item = self.item_or_missing(id).await?;
        let visible = visible_to(account, &item, false) || self.is_own(account, &item).await?;
        if visible {
            Ok(item)
        } else {
            Err(ServiceError::NotFound(Missing::Item(id)))
        }
    }

    /// The item as `account` may see it (as [`Newsroom::item_for_staff`]), with whether they
    /// wrote it: one read of the item and one of its writer, for everything that then changes
    /// it or shows what its writer may do.
    pub async fn open_item(&self, account: &Account, id: i64) -> Result<OpenedItem> {
        let item = self.item_or_missing(id).await?;
        let own = self.is_own(account, &item).await?;
        if !visible_to(account, &item, own) {
            return Err(ServiceError::NotFound(Missing::Item(id)));
        }
        Ok(OpenedItem {
            item,
            own,
            opened_by: account.id,
        })
    }

    /// Refuses a path the media store does not hold: a page must not point at a missing
    /// image. The desk and the API check it; `import` does not, since imports of markup bring
    /// their paths before (or without) their files.
    pub(crate) async fn check_media_exists(&self, field: &'static str, path: &str) -> Result<()> {
        let missing = || {
            newsdesk_core::Error::invalid(
                field,
                "names no file in the media library; upload it first",
            )
        };
        match self.media().get(path).await {
            Ok(Some(_)) => Ok(()),
            Ok(None) | Err(newsdesk_store::media::MediaError::InvalidPath(_)) => {
                Err(missing().into())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes an item that was never public: writers their own drafts, editors any.
    pub async fn delete_item(
        &self,
        account: &Account,
        id: i64,
        expected_version: i64,
        now: Timestamp,
    ) -> Result<()> {
        let opened = self.open_item(account, id).await?;
        workflow::check_delete(account.role, opened.own, opened.item.status)?;
        match self
            .store()
            .delete_item(id, expected_version, &account.email, now)
            .await
        {
            Err(newsdesk_store::StoreError::NotFound) => {
                Err(ServiceError::NotFound(Missing::Item(id)))
            }
            other => Ok(other?),
        }
    }

    /// Saves from the editor or the API: `id` is the item being edited (None for a new one)
    /// and `expected_version` the version the form was opened at.
    pub async fn save_from_desk(
        &self,
        account: &Account,
        id: Option<i64>,
        input: &ItemInput,
        expected_version: Option<i64>,
        action: DeskAction,
        now: Timestamp,
    ) -> Result<Saved> {
        let opened = match id {
            Some(id) => Some(self.open_item(account, id).await?),
            None => None,
        };
        self.save_opened(
            account,
            opened.as_ref(),
            input,
            expected_version,
            action,
            now,
        )
        .await
    }

    /// Saves an item `account` has opened with [`Newsroom::open_item`] (None: a new one),
    /// without reading it or its writer again; a change made since it was opened is still
    /// refused, by `expected_version`.
    pub async fn save_opened(
        &self,
        account: &Account,
        opened: Option<&OpenedItem>,
        input: &ItemInput,
        expected_version: Option<i64>,
        action: DeskAction,
        now: Timestamp,
    ) -> Result<Saved> {
        debug_assert!(
            opened.is_none_or(|o| o.opened_by == account.id),
            "an item is saved by the person who opened it"
        );
        let existing = opened.map(OpenedItem::item);
        let own = opened.is_none_or(OpenedItem::own);
        let to = action.target(existing.map(|e| e.status));
        workflow::check(account.role, own, existing.map(|e| e.status), to)?;
        if existing.is_some() && expected_version.is_none() {
            return Err(newsdesk_core::Error::Required { field: "version" }.into());
        }
        let mut input = input.clone();
        input.status = Some(to);
        if to == ItemStatus::Scheduled && input.published_at.is_none_or(|at| at <= now) {
            return Err(newsdesk_core::Error::invalid(
                "published_at",
                "a scheduled item needs a publication time in the future",
            )
            .into());
        }
        if to != ItemStatus::Scheduled && action != DeskAction::Save {
            // Publishing now means now, whatever time an earlier schedule had set.
            input.published_at = None;
        }
        let valid = self.validate(&input).await?;
        let unchanged_hero = |path: &str| {
            existing
                .and_then(|e| e.hero.as_ref())
                .is_some_and(|h| h.path == path)
        };
        if let Some(hero) = &valid.hero
            && !unchanged_hero(&hero.path)
        {
            self.check_media_exists("hero.path", &hero.path).await?;
        }
        let saved = self
            .write(existing, &valid, expected_version, &account.email, now)
            .await?;
        // Saved for real: this person's autosave of the form is spent (for a new item, the
        // slot kept under no id). The save stands even if forgetting the slot fails: a slot
        // that holds what was saved is not offered back.
        let id = existing.map(|e| e.id);
        if let Err(e) = self.discard_autosave(account, id).await {
            tracing::warn!(error = %e, item = saved.item.id, "could not forget the autosave after a save");
        }
        Ok(saved)
    }
}

impl Newsroom {
    /// Attaches a public correction or update note to a published item (editors).
    pub async fn add_note(
        &self,
        account: &Account,
        item_id: i64,
        expected_version: i64,
        kind: newsdesk_core::NoteKind,
        text: &str,
        now: Timestamp,
    ) -> Result<Saved> {
        let item = self.item_for_staff(account, item_id).await?;
        if !account.role.may(newsdesk_core::Action::Correct) {
            return Err(newsdesk_core::Error::Forbidden {
                role: account.role.as_str(),
                what: "add corrections",
            }
            .into());
        }
        let text = newsdesk_core::item::check_note(text)?;
        if item.status != ItemStatus::Published {
            return Err(newsdesk_core::Error::invalid(
                "note",
                "corrections and updates go on published items",
            )
            .into());
        }
        let saved = self
            .store()
            .add_note(item_id, expected_version, kind, &text, &account.email, now)
            .await?;
        Ok(saved)
    }
}

/// What the desk's content list reads.
impl Newsroom {
    /// A page of the desk's content list and the number of items that match in all.
    pub async fn desk_items(
        &self,
        query: &newsdesk_core::item::DeskQuery,
    ) -> Result<(Vec<Item>, u64)> {
        Ok(self.store().desk_items(query).await?)
    }
}
