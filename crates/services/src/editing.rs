//! Writing in the desk: a save carries what the person pressed (save, submit, publish, …),
//! and the workflow decides on the server whether their role may do it to this item.

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

impl Newsroom {
    /// Whether `account` wrote `item` (saved its first revision).
    pub async fn is_own(&self, account: &Account, item: &Item) -> Result<bool> {
        Ok(self.store().item_creator(item.id).await?.as_deref() == Some(account.email.as_str()))
    }

    /// The item as `account` may see it, in the desk and through a staff token alike: a
    /// published item to anyone on the desk, any other to roles that see every item and to
    /// the person who wrote it. Otherwise NotFound, as for an id that does not exist, so a
    /// contributor learns nothing of a colleague's drafts.
    pub async fn item_for_staff(&self, account: &Account, id: i64) -> Result<Item> {
        let not_found = || ServiceError::NotFound(Missing::Item(id));
        let item = self.store().item_by_id(id).await?.ok_or_else(not_found)?;
        let visible = item.status == ItemStatus::Published
            || account.role.may(newsdesk_core::Action::ViewAllItems)
            || self.is_own(account, &item).await?;
        if visible { Ok(item) } else { Err(not_found()) }
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
        let item = self.item_for_staff(account, id).await?;
        let own = self.is_own(account, &item).await?;
        workflow::check_delete(account.role, own, item.status)?;
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

    /// Saves from the editor: `id` is the item being edited (None for a new one) and
    /// `expected_version` the version the form was opened at.
    pub async fn save_from_desk(
        &self,
        account: &Account,
        id: Option<i64>,
        input: &ItemInput,
        expected_version: Option<i64>,
        action: DeskAction,
        now: Timestamp,
    ) -> Result<Saved> {
        let existing = match id {
            Some(id) => Some(self.item_for_staff(account, id).await?),
            None => None,
        };
        let own = match &existing {
            Some(item) => self.is_own(account, item).await?,
            None => true,
        };
        let to = action.target(existing.as_ref().map(|e| e.status));
        workflow::check(account.role, own, existing.as_ref().map(|e| e.status), to)?;
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
                .as_ref()
                .and_then(|e| e.hero.as_ref())
                .is_some_and(|h| h.path == path)
        };
        if let Some(hero) = &valid.hero
            && !unchanged_hero(&hero.path)
        {
            self.check_media_exists("hero.path", &hero.path).await?;
        }
        let saved = self
            .write(
                existing.as_ref(),
                &valid,
                expected_version,
                &account.email,
                now,
            )
            .await?;
        // Saved for real: this person's autosave of the form is spent (for a new item, the
        // slot kept under no id). The save stands even if forgetting the slot fails: a slot
        // that holds what was saved is not offered back.
        if let Err(e) = self.discard_autosave(account, id).await {
            tracing::warn!(error = %e, item = saved.item.id, "could not forget the autosave after a save");
        }
        Ok(saved)
    }
}

impl Newsroom {
    /// The item as it was saved at `version`, read back from its revision.
    pub async fn revision(&self, item_id: i64, version: i64) -> Result<Option<Item>> {
        let revisions = self.store().revisions(item_id).await?;
        match revisions.into_iter().find(|r| r.version == version) {
            Some(r) => serde_json::from_value(r.snapshot).map(Some).map_err(|e| {
                ServiceError::Io(std::io::Error::other(format!("revision {version}: {e}")))
            }),
            None => Ok(None),
        }
    }

    /// Brings back the text of `version` as a new revision (history is never rewritten).
    /// The item keeps its status; the workflow decides whether this person may edit it.
    pub async fn restore_revision(
        &self,
        account: &Account,
        item_id: i64,
        version: i64,
        expected_version: i64,
        now: Timestamp,
    ) -> Result<Saved> {
        let current = self.item_for_staff(account, item_id).await?;
        let old = self
            .revision(item_id, version)
            .await?
            .ok_or_else(|| ServiceError::NotFound(Missing::Version { item_id, version }))?;
        let input = ItemInput {
            kind: Some(old.kind),
            language: Some(old.language),
            section: Some(old.section),
            slug: Some(old.slug),
            headline: old.headline,
            standfirst: old.standfirst,
            body: old.body_markdown,
            tags: old.tags.into_iter().map(|t| t.name).collect(),
            authors: old.authors.into_iter().map(|a| a.slug).collect(),
            sources: old.sources,
            hero: old.hero,
            breaking: old.breaking,
            translation_group: old.translation_group,
            // A scheduled item keeps its slot; the others keep their own times.
            published_at: (current.status == ItemStatus::Scheduled)
                .then_some(current.published_at)
                .flatten(),
            ..ItemInput::default()
        };
        self.save_from_desk(
            account,
            Some(item_id),
            &input,
            Some(expected_version),
            DeskAction::Save,
            now,
        )
        .await
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

/// What the desk's content list and history read.
impl Newsroom {
    /// A page of the desk's content list and the number of items that match in all.
    pub async fn desk_items(
        &self,
        query: &newsdesk_core::item::DeskQuery,
    ) -> Result<(Vec<Item>, u64)> {
        Ok(self.store().desk_items(query).await?)
    }

    /// Every saved version of an item, oldest first.
    pub async fn revisions(&self, item_id: i64) -> Result<Vec<newsdesk_core::item::Revision>> {
        Ok(self.store().revisions(item_id).await?)
    }
}
