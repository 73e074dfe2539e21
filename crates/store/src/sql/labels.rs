//! The SQL behind `LabelStore`, written once for both backends (see `sql/mod.rs`).

use async_trait::async_trait;
use newsdesk_core::{Author, Event, EventKind, Tag};
use sqlx::Row;

use super::{Conn, DbRow, SqlStore, Tx};
use crate::{LabelStore, Result, StoreError};

pub(crate) fn section_from_row(row: &DbRow) -> Result<newsdesk_core::config::Section> {
    let names: String = row.try_get("names")?;
    Ok(newsdesk_core::config::Section {
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
        names: serde_json::from_str(&names)
            .map_err(|e| StoreError::Corrupt(format!("section names: {e}")))?,
    })
}

pub(crate) fn names_json(names: &std::collections::BTreeMap<String, String>) -> Result<String> {
    serde_json::to_string(names).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Audits a change to sections, tags or authors and appends its `site_changed` event.
pub(crate) async fn site_changed(
    tx: &mut Tx<'_>,
    change: crate::SiteChange<'_>,
    action: &str,
    subject: &str,
    detail: &str,
) -> Result<Event> {
    super::events::audit_row(tx, change.actor, action, subject, detail, change.now).await?;
    let keys = change.keys.to_vec();
    super::events::append(tx, EventKind::SiteChanged, None, None, keys, change.now).await
}

/// How many items (any status) a query of the form `SELECT COUNT(*) … WHERE … = $1`
/// finds for `slug`.
pub(crate) async fn count_users(conn: &mut Conn, sql: &'static str, slug: &str) -> Result<u64> {
    let n: i64 = sqlx::query_scalar(sql)
        .bind(slug)
        .fetch_one(&mut *conn)
        .await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

#[async_trait]
impl LabelStore for SqlStore {
    async fn upsert_author(&self, author: &Author) -> Result<()> {
        sqlx::query(
            "INSERT INTO authors (slug, name, bio) VALUES ($1, $2, $3)
                 ON CONFLICT (slug) DO UPDATE SET name = excluded.name, bio = excluded.bio",
        )
        .bind(&author.slug)
        .bind(&author.name)
        .bind(&author.bio)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn author(&self, slug: &str) -> Result<Option<Author>> {
        let row = sqlx::query("SELECT slug, name, bio FROM authors WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&self.reader)
            .await?;
        row.map(|r| {
            Ok(Author {
                slug: r.try_get("slug")?,
                name: r.try_get("name")?,
                bio: r.try_get("bio")?,
            })
        })
        .transpose()
    }

    async fn authors(&self) -> Result<Vec<Author>> {
        let rows = sqlx::query("SELECT slug, name, bio FROM authors ORDER BY name, slug")
            .fetch_all(&self.reader)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Author {
                    slug: r.try_get("slug")?,
                    name: r.try_get("name")?,
                    bio: r.try_get("bio")?,
                })
            })
            .collect()
    }

    async fn tag(&self, slug: &str) -> Result<Option<Tag>> {
        let row = sqlx::query("SELECT slug, name FROM tags WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&self.reader)
            .await?;
        row.map(|r| {
            Ok(Tag {
                slug: r.try_get("slug")?,
                name: r.try_get("name")?,
            })
        })
        .transpose()
    }

    async fn sections(&self) -> Result<Vec<newsdesk_core::config::Section>> {
        let rows = sqlx::query("SELECT slug, name, names FROM sections ORDER BY position, slug")
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(section_from_row).collect()
    }

    async fn seed_sections(&self, sections: &[newsdesk_core::config::Section]) -> Result<bool> {
        let mut tx = self.write_transaction().await?;
        let present: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sections")
            .fetch_one(&mut *tx)
            .await?;
        if present > 0 {
            return Ok(false);
        }
        for (position, section) in sections.iter().enumerate() {
            let inserted = sqlx::query(
                "INSERT INTO sections (slug, name, names, position) VALUES ($1, $2, $3, $4)",
            )
            .bind(&section.slug)
            .bind(&section.name)
            .bind(names_json(&section.names)?)
            .bind(position as i64)
            .execute(&mut *tx)
            .await;
            match inserted {
                Ok(_) => {}
                // Another instance starting at the same moment seeded them first.
                Err(sqlx::Error::Database(db)) if db.is_unique_violation() => return Ok(false),
                Err(e) => return Err(e.into()),
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn add_section(
        &self,
        section: &newsdesk_core::config::Section,
        change: crate::SiteChange<'_>,
    ) -> Result<Event> {
        let mut tx = self.write_transaction().await?;
        sqlx::query(
            "INSERT INTO sections (slug, name, names, position)
                 VALUES ($1, $2, $3, (SELECT COALESCE(MAX(position), -1) + 1 FROM sections))",
        )
        .bind(&section.slug)
        .bind(&section.name)
        .bind(names_json(&section.names)?)
        .execute(&mut *tx)
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Duplicate { field: "slug" }
            }
            e => e.into(),
        })?;
        let subject = format!("section:{}", section.slug);
        let event = site_changed(
            &mut tx,
            change,
            "added the section",
            &subject,
            &section.name,
        )
        .await?;
        tx.commit().await?;
        Ok(event)
    }

    async fn update_section(
        &self,
        section: &newsdesk_core::config::Section,
        change: crate::SiteChange<'_>,
    ) -> Result<Event> {
        let mut tx = self.write_transaction().await?;
        let changed = sqlx::query("UPDATE sections SET name = $2, names = $3 WHERE slug = $1")
            .bind(&section.slug)
            .bind(&section.name)
            .bind(names_json(&section.names)?)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        let subject = format!("section:{}", section.slug);
        let event = site_changed(
            &mut tx,
            change,
            "renamed the section",
            &subject,
            &section.name,
        )
        .await?;
        tx.commit().await?;
        Ok(event)
    }

    async fn move_section(
        &self,
        slug: &str,
        earlier: bool,
        change: crate::SiteChange<'_>,
    ) -> Result<Event> {
        let mut tx = self.write_transaction().await?;
        let slugs: Vec<String> =
            sqlx::query_scalar("SELECT slug FROM sections ORDER BY position, slug")
                .fetch_all(&mut *tx)
                .await?;
        let at = slugs
            .iter()
            .position(|s| s == slug)
            .ok_or(StoreError::NotFound)?;
        let mut order = slugs.clone();
        let other = if earlier {
            at.checked_sub(1)
        } else {
            Some(at + 1).filter(|i| *i < order.len())
        };
        if let Some(other) = other {
            order.swap(at, other);
        }
        // Positions are rewritten as 0..n, which also repairs any gaps or ties.
        for (position, s) in order.iter().enumerate() {
            sqlx::query("UPDATE sections SET position = $2 WHERE slug = $1")
                .bind(s)
                .bind(position as i64)
                .execute(&mut *tx)
                .await?;
        }
        let detail = order.join(", ");
        let event = site_changed(
            &mut tx,
            change,
            "reordered the sections",
            &format!("section:{slug}"),
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(event)
    }

    async fn delete_section(&self, slug: &str, change: crate::SiteChange<'_>) -> Result<Event> {
        let mut tx = self.write_transaction().await?;
        let used = count_users(
            &mut tx,
            "SELECT COUNT(*) FROM items WHERE section = $1",
            slug,
        )
        .await?;
        if used > 0 {
            return Err(StoreError::InUse {
                what: format!("The section `{slug}`"),
                items: used,
            });
        }
        let name: Option<String> =
            sqlx::query_scalar("DELETE FROM sections WHERE slug = $1 RETURNING name")
                .bind(slug)
                .fetch_optional(&mut *tx)
                .await?;
        let name = name.ok_or(StoreError::NotFound)?;
        let event = site_changed(
            &mut tx,
            change,
            "deleted the section",
            &format!("section:{slug}"),
            &name,
        )
        .await?;
        tx.commit().await?;
        Ok(event)
    }

    async fn tag_usage(&self) -> Result<Vec<crate::Usage<Tag>>> {
        let rows = sqlx::query(
                "SELECT t.slug, t.name, (SELECT COUNT(*) FROM item_tags it WHERE it.tag_id = t.id) AS items
                 FROM tags t ORDER BY t.name, t.slug",
            )
            .fetch_all(&self.reader)
            .await?;
        rows.iter()
            .map(|r| {
                let items: i64 = r.try_get("items")?;
                Ok(crate::Usage {
                    label: Tag {
                        slug: r.try_get("slug")?,
                        name: r.try_get("name")?,
                    },
                    items: u64::try_from(items).unwrap_or(0),
                })
            })
            .collect()
    }

    async fn rename_tag(
        &self,
        slug: &str,
        name: &str,
        change: crate::SiteChange<'_>,
    ) -> Result<Event> {
        let mut tx = self.write_transaction().await?;
        let changed = sqlx::query("UPDATE tags SET name = $2 WHERE slug = $1")
            .bind(slug)
            .bind(name)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        let event = site_changed(
            &mut tx,
            change,
            "renamed the tag",
            &format!("tag:{slug}"),
            name,
        )
        .await?;
        tx.commit().await?;
        Ok(event)
    }

    async fn delete_tag(&self, slug: &str, change: crate::SiteChange<'_>) -> Result<Event> {
        let mut tx = self.write_transaction().await?;
        let untagged = count_users(
            &mut tx,
            "SELECT COUNT(*) FROM item_tags WHERE tag_id = (SELECT id FROM tags WHERE slug = $1)",
            slug,
        )
        .await?;
        sqlx::query("DELETE FROM item_tags WHERE tag_id = (SELECT id FROM tags WHERE slug = $1)")
            .bind(slug)
            .execute(&mut *tx)
            .await?;
        let name: Option<String> =
            sqlx::query_scalar("DELETE FROM tags WHERE slug = $1 RETURNING name")
                .bind(slug)
                .fetch_optional(&mut *tx)
                .await?;
        let name = name.ok_or(StoreError::NotFound)?;
        let detail = format!("{name} (taken off {untagged} item(s))");
        let event = site_changed(
            &mut tx,
            change,
            "deleted the tag",
            &format!("tag:{slug}"),
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(event)
    }

    async fn author_usage(&self) -> Result<Vec<crate::Usage<Author>>> {
        let rows = sqlx::query(
                "SELECT a.slug, a.name, a.bio, (SELECT COUNT(*) FROM item_authors ia WHERE ia.author_id = a.id) AS items
                 FROM authors a ORDER BY a.name, a.slug",
            )
            .fetch_all(&self.reader)
            .await?;
        rows.iter()
            .map(|r| {
                let items: i64 = r.try_get("items")?;
                Ok(crate::Usage {
                    label: Author {
                        slug: r.try_get("slug")?,
                        name: r.try_get("name")?,
                        bio: r.try_get("bio")?,
                    },
                    items: u64::try_from(items).unwrap_or(0),
                })
            })
            .collect()
    }

    async fn add_author(&self, author: &Author, change: crate::SiteChange<'_>) -> Result<Event> {
        let mut tx = self.write_transaction().await?;
        sqlx::query("INSERT INTO authors (slug, name, bio) VALUES ($1, $2, $3)")
            .bind(&author.slug)
            .bind(&author.name)
            .bind(&author.bio)
            .execute(&mut *tx)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(db) if db.is_unique_violation() => {
                    StoreError::Duplicate { field: "slug" }
                }
                e => e.into(),
            })?;
        let event = site_changed(
            &mut tx,
            change,
            "added the author",
            &format!("author:{}", author.slug),
            &author.name,
        )
        .await?;
        tx.commit().await?;
        Ok(event)
    }

    async fn update_author(&self, author: &Author, change: crate::SiteChange<'_>) -> Result<Event> {
        let mut tx = self.write_transaction().await?;
        let changed = sqlx::query("UPDATE authors SET name = $2, bio = $3 WHERE slug = $1")
            .bind(&author.slug)
            .bind(&author.name)
            .bind(&author.bio)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        let event = site_changed(
            &mut tx,
            change,
            "updated the author",
            &format!("author:{}", author.slug),
            &author.name,
        )
        .await?;
        tx.commit().await?;
        Ok(event)
    }

    async fn delete_author(&self, slug: &str, change: crate::SiteChange<'_>) -> Result<Event> {
        let mut tx = self.write_transaction().await?;
        let used = count_users(
                &mut tx,
                "SELECT COUNT(*) FROM item_authors WHERE author_id = (SELECT id FROM authors WHERE slug = $1)",
                slug,
            )
            .await?;
        if used > 0 {
            return Err(StoreError::InUse {
                what: format!("The author `{slug}`"),
                items: used,
            });
        }
        let name: Option<String> =
            sqlx::query_scalar("DELETE FROM authors WHERE slug = $1 RETURNING name")
                .bind(slug)
                .fetch_optional(&mut *tx)
                .await?;
        let name = name.ok_or(StoreError::NotFound)?;
        let event = site_changed(
            &mut tx,
            change,
            "deleted the author",
            &format!("author:{slug}"),
            &name,
        )
        .await?;
        tx.commit().await?;
        Ok(event)
    }
}
