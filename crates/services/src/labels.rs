//! The site's structure as editors manage it in the desk: sections (which live in the
//! database once a site starts, seeded from the configuration file), tags and authors. Every
//! change is checked against the actor's role here, audited and announced by a
//! `site_changed` event that every instance follows to reload its sections and purge pages.

use jiff::Timestamp;
use newsdesk_core::config::Section;
use newsdesk_core::event::keys_for_site;
use newsdesk_core::labels::{AuthorInput, SectionInput, validate_tag_name};
use newsdesk_core::{Account, Action, Author, Sections, Tag};
use newsdesk_store::{SiteChange, Usage};

use crate::error::{Denial, Missing, Refusal, Result, ServiceError};
use crate::newsroom::Newsroom;

fn may_manage(actor: &Account) -> Result<()> {
    if actor.role.may(Action::ManageLabels) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(Denial::ManageLabels(actor.role)))
    }
}

impl Newsroom {
    /// Seeds the sections of a new site from the configuration file, then makes the
    /// database's list the one every page uses. Run once at start, after migrating.
    pub async fn load_sections(&self) -> Result<()> {
        let config = self.config();
        if self.store().seed_sections(&config.sections).await? {
            tracing::info!(
                sections = config.sections.len(),
                "sections seeded from the configuration"
            );
        }
        self.reload_sections().await
    }

    /// Reads the sections again (another instance, or this one, changed them).
    pub async fn reload_sections(&self) -> Result<()> {
        let sections = self.store().sections().await?;
        // A database emptied by hand keeps the configured list rather than a site with no
        // sections at all.
        if sections.is_empty() {
            return Ok(());
        }
        if self.sections().as_slice() != sections.as_slice() {
            self.replace_sections(Sections::new(sections));
        }
        Ok(())
    }

    fn site_keys(&self) -> Vec<String> {
        keys_for_site(&self.config().site.languages)
    }

    /// After a change is committed: this instance uses the new sections at once (the store
    /// has woken the event follower to purge pages).
    async fn after_site_change(&self) -> Result<()> {
        self.reload_sections().await?;
        Ok(())
    }

    pub async fn add_section(
        &self,
        actor: &Account,
        input: &SectionInput,
        now: Timestamp,
    ) -> Result<Section> {
        may_manage(actor)?;
        let section = input.validate(&self.config().site.languages)?;
        let keys = self.site_keys();
        self.store()
            .add_section(&section, change(actor, now, &keys))
            .await?;
        self.after_site_change().await?;
        Ok(section)
    }

    pub async fn update_section(
        &self,
        actor: &Account,
        input: &SectionInput,
        now: Timestamp,
    ) -> Result<Section> {
        may_manage(actor)?;
        let section = input.validate(&self.config().site.languages)?;
        let keys = self.site_keys();
        self.store()
            .update_section(&section, change(actor, now, &keys))
            .await
            .map_err(|e| not_found(e, Missing::Section(section.slug.clone())))?;
        self.after_site_change().await?;
        Ok(section)
    }

    pub async fn move_section(
        &self,
        actor: &Account,
        slug: &str,
        earlier: bool,
        now: Timestamp,
    ) -> Result<()> {
        may_manage(actor)?;
        let keys = self.site_keys();
        self.store()
            .move_section(slug, earlier, change(actor, now, &keys))
            .await
            .map_err(|e| not_found(e, Missing::Section(slug.to_owned())))?;
        self.after_site_change().await
    }

    /// Refused while any item is filed in the section: its pages would lose their address.
    pub async fn delete_section(&self, actor: &Account, slug: &str, now: Timestamp) -> Result<()> {
        may_manage(actor)?;
        if self.sections().len() <= 1 {
            return Err(ServiceError::Refused(Refusal::LastSection));
        }
        let keys = self.site_keys();
        self.store()
            .delete_section(slug, change(actor, now, &keys))
            .await
            .map_err(|e| not_found(e, Missing::Section(slug.to_owned())))?;
        self.after_site_change().await
    }

    pub async fn tags_in_use(&self) -> Result<Vec<Usage<Tag>>> {
        Ok(self.store().tag_usage().await?)
    }

    pub async fn rename_tag(
        &self,
        actor: &Account,
        slug: &str,
        name: &str,
        now: Timestamp,
    ) -> Result<()> {
        may_manage(actor)?;
        let name = validate_tag_name(name)?;
        let keys = self.site_keys();
        self.store()
            .rename_tag(slug, &name, change(actor, now, &keys))
            .await
            .map_err(|e| not_found(e, Missing::Tag(slug.to_owned())))?;
        self.after_site_change().await
    }

    /// Takes the tag off every item (published ones included) and deletes it.
    pub async fn delete_tag(&self, actor: &Account, slug: &str, now: Timestamp) -> Result<()> {
        may_manage(actor)?;
        let keys = self.site_keys();
        self.store()
            .delete_tag(slug, change(actor, now, &keys))
            .await
            .map_err(|e| not_found(e, Missing::Tag(slug.to_owned())))?;
        self.after_site_change().await
    }

    /// Every author, for the editor's byline choices.
    pub async fn authors(&self) -> Result<Vec<Author>> {
        Ok(self.store().authors().await?)
    }

    pub async fn authors_in_use(&self) -> Result<Vec<Usage<Author>>> {
        Ok(self.store().author_usage().await?)
    }

    pub async fn add_author(
        &self,
        actor: &Account,
        input: &AuthorInput,
        now: Timestamp,
    ) -> Result<Author> {
        may_manage(actor)?;
        let author = input.validate()?;
        let keys = self.site_keys();
        self.store()
            .add_author(&author, change(actor, now, &keys))
            .await?;
        self.after_site_change().await?;
        Ok(author)
    }

    pub async fn update_author(
        &self,
        actor: &Account,
        input: &AuthorInput,
        now: Timestamp,
    ) -> Result<Author> {
        may_manage(actor)?;
        let author = input.validate()?;
        let keys = self.site_keys();
        self.store()
            .update_author(&author, change(actor, now, &keys))
            .await
            .map_err(|e| not_found(e, Missing::Author(author.slug.clone())))?;
        self.after_site_change().await?;
        Ok(author)
    }

    /// Refused while any item carries the byline.
    pub async fn delete_author(&self, actor: &Account, slug: &str, now: Timestamp) -> Result<()> {
        may_manage(actor)?;
        let keys = self.site_keys();
        self.store()
            .delete_author(slug, change(actor, now, &keys))
            .await
            .map_err(|e| not_found(e, Missing::Author(slug.to_owned())))?;
        self.after_site_change().await
    }
}

fn change<'a>(actor: &'a Account, now: Timestamp, keys: &'a [String]) -> SiteChange<'a> {
    SiteChange {
        actor: &actor.email,
        now,
        keys,
    }
}

fn not_found(e: newsdesk_store::StoreError, missing: Missing) -> ServiceError {
    match e {
        newsdesk_store::StoreError::NotFound => ServiceError::NotFound(missing),
        e => e.into(),
    }
}
