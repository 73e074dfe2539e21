//! The site's structure as editors manage it in the desk: sections (which live in the
//! database once a site starts, seeded from the configuration file), tags and authors. Every
//! change is checked against the actor's role here, audited and announced by a
//! `site_changed` event that every instance follows to reload its sections and purge pages.

use jiff::Timestamp;
use newsdesk_core::config::Section;
use newsdesk_core::event::keys_for_site;
use newsdesk_core::labels::{AuthorInput, SectionInput, validate_tag_name};
use newsdesk_core::{Account, Action, Author, Config, Tag};
use newsdesk_store::{SiteChange, Usage};

use crate::error::{Result, ServiceError};
use crate::newsroom::Newsroom;

fn may_manage(actor: &Account) -> Result<()> {
    if actor.role.may(Action::ManageLabels) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(format!(
            "A {} may not change sections, tags or authors.",
            actor.role.as_str()
        )))
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
        let current = self.config();
        if current.sections != sections {
            self.replace_config(Config {
                sections,
                ..(*current).clone()
            });
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
            .map_err(|e| not_found(e, "section", &section.slug))?;
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
            .map_err(|e| not_found(e, "section", slug))?;
        self.after_site_change().await
    }

    /// Refused while any item is filed in the section: its pages would lose their address.
    pub async fn delete_section(&self, actor: &Account, slug: &str, now: Timestamp) -> Result<()> {
        may_manage(actor)?;
        if self.config().sections.len() <= 1 {
            return Err(ServiceError::Refused(
                "The site needs at least one section.".into(),
            ));
        }
        let keys = self.site_keys();
        self.store()
            .delete_section(slug, change(actor, now, &keys))
            .await
            .map_err(|e| not_found(e, "section", slug))?;
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
            .map_err(|e| not_found(e, "tag", slug))?;
        self.after_site_change().await
    }

    /// Takes the tag off every item (published ones included) and deletes it.
    pub async fn delete_tag(&self, actor: &Account, slug: &str, now: Timestamp) -> Result<()> {
        may_manage(actor)?;
        let keys = self.site_keys();
        self.store()
            .delete_tag(slug, change(actor, now, &keys))
            .await
            .map_err(|e| not_found(e, "tag", slug))?;
        self.after_site_change().await
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
            .map_err(|e| not_found(e, "author", &author.slug))?;
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
            .map_err(|e| not_found(e, "author", slug))?;
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

fn not_found(e: newsdesk_store::StoreError, what: &str, slug: &str) -> ServiceError {
    match e {
        newsdesk_store::StoreError::NotFound => ServiceError::NotFound(format!("{what} `{slug}`")),
        e => e.into(),
    }
}
