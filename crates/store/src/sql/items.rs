//! The SQL behind `ItemStore`, written once for both backends (see `sql/mod.rs`).

use async_trait::async_trait;
use jiff::Timestamp;
use newsdesk_core::event::keys_for;
use newsdesk_core::{
    Author, Event, EventKind, HeroImage, Item, ItemKind, ItemStatus, Source, Tag, ValidItem,
};
use sqlx::Row;

use super::{Conn, DbRow, SqlStore, Tx};
use crate::sql::{from_micros, slug_taken, to_micros};
use crate::{
    DeskQuery, ItemQuery, ItemStore, PublicationTimes, Result, Revision, Saved, StoreError,
};

/// Every column `item_from_row` reads: the item's own, and its tags, authors, sources and
/// notes as one JSON column (`item_labels!`, written per backend). Labels came by a second
/// statement per batch before; on SQLite each statement is a hand-off to the connection's
/// thread and back, and those hand-offs were the largest cost of a story page's miss.
pub(crate) const ITEM_COLUMNS: &str = concat!(
    "id, kind, status, language, translation_group, section, slug, headline, \
     standfirst, body_markdown, body_html, hero_path, hero_caption, hero_credit, hero_alt, \
     hero_width, hero_height, breaking, first_published_at, published_at, updated_at, \
     created_at, changed_at, version, ",
    item_labels!()
);

// Optional filters as `($n IS NULL OR …)`: one static statement for every combination, so
// nothing is ever spliced into SQL.
pub(crate) const PUBLISHED_FILTER: &str = "status = 'published'
    AND ($1 IS NULL OR language = $1)
    AND ($2 IS NULL OR kind = $2)
    AND ($3 IS NULL OR section = $3)
    AND ($4 IS NULL OR EXISTS (SELECT 1 FROM item_tags it JOIN tags t ON t.id = it.tag_id
                               WHERE it.item_id = items.id AND t.slug = $4))
    AND ($5 IS NULL OR EXISTS (SELECT 1 FROM item_authors ia JOIN authors a ON a.id = ia.author_id
                               WHERE ia.item_id = items.id AND a.slug = $5))
    AND ($6 IS NULL OR breaking = $6)
    AND ($7 IS NULL OR translation_group = $7)
    AND ($8 IS NULL OR id <> $8)
    AND ($9 IS NULL OR published_at >= $9)
    AND ($10 IS NULL OR published_at < $10 OR (published_at = $10 AND id < $11))";

macro_rules! bind_filter {
    ($query:expr, $q:expr) => {
        $query
            .bind($q.language.as_deref())
            .bind($q.kind.map(ItemKind::as_str))
            .bind($q.section.as_deref())
            .bind($q.tag.as_deref())
            .bind($q.author.as_deref())
            .bind($q.breaking)
            .bind($q.translation_group.as_deref())
            .bind($q.exclude_id)
            .bind($q.published_since.map(to_micros))
            .bind($q.before.map(|(at, _)| to_micros(at)))
            .bind($q.before.map(|(_, id)| id))
    };
}

macro_rules! bind_item {
    ($query:expr, $item:expr, $times:expr, $now:expr) => {{
        let hero = $item.hero.as_ref();
        $query
            .bind($item.kind.as_str())
            .bind($item.status.as_str())
            .bind(&$item.language)
            .bind($item.translation_group.as_deref())
            .bind(&$item.section)
            .bind(&$item.slug)
            .bind($item.headline.as_deref())
            .bind($item.standfirst.as_deref())
            .bind(&$item.body_markdown)
            .bind(&$item.body_html)
            .bind(hero.map(|h| h.path.as_str()))
            .bind(hero.map(|h| h.caption.as_str()).unwrap_or(""))
            .bind(hero.map(|h| h.credit.as_str()).unwrap_or(""))
            .bind(hero.map(|h| h.alt.as_str()).unwrap_or(""))
            .bind(hero.and_then(|h| h.width).map(i64::from))
            .bind(hero.and_then(|h| h.height).map(i64::from))
            .bind($item.breaking)
            .bind($times.first_published_at.map(to_micros))
            .bind($times.published_at.map(to_micros))
            .bind($times.updated_at.map(to_micros))
            .bind(to_micros($now))
    }};
}

fn opt_time(row: &DbRow, column: &str) -> Result<Option<Timestamp>> {
    row.try_get::<Option<i64>, _>(column)?
        .map(from_micros)
        .transpose()
}

pub(crate) fn item_from_row(row: &DbRow) -> Result<Item> {
    let kind: String = row.try_get("kind")?;
    let status: String = row.try_get("status")?;
    let hero_path: Option<String> = row.try_get("hero_path")?;
    let dimension = |c: &str| -> Result<Option<u32>> {
        Ok(row
            .try_get::<Option<i64>, _>(c)?
            .and_then(|v| u32::try_from(v).ok()))
    };
    let hero = match hero_path {
        Some(path) => Some(HeroImage {
            path,
            caption: row.try_get("hero_caption")?,
            credit: row.try_get("hero_credit")?,
            alt: row.try_get("hero_alt")?,
            width: dimension("hero_width")?,
            height: dimension("hero_height")?,
        }),
        None => None,
    };
    let mut item = Item {
        id: row.try_get("id")?,
        kind: ItemKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("kind {kind}")))?,
        status: ItemStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("status {status}")))?,
        language: row.try_get("language")?,
        translation_group: row.try_get("translation_group")?,
        section: row.try_get("section")?,
        slug: row.try_get("slug")?,
        headline: row.try_get("headline")?,
        standfirst: row.try_get("standfirst")?,
        body_markdown: row.try_get("body_markdown")?,
        body_html: row.try_get("body_html")?,
        hero,
        breaking: row.try_get("breaking")?,
        tags: Vec::new(),
        authors: Vec::new(),
        sources: Vec::new(),
        notes: Vec::new(),
        first_published_at: opt_time(row, "first_published_at")?,
        published_at: opt_time(row, "published_at")?,
        updated_at: opt_time(row, "updated_at")?,
        created_at: from_micros(row.try_get("created_at")?)?,
        changed_at: from_micros(row.try_get("changed_at")?)?,
        version: row.try_get("version")?,
    };
    labels_from_row(row, &mut item)?;
    Ok(item)
}

/// One label of the `labels` column: its kind (`t`ag, `a`uthor, `s`ource, `n`ote), up to
/// three texts in the order the kind needs them, a time (notes) and its order in the item.
type LabelRow = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    i64,
);

/// Fills in `item`'s tags, authors, sources and notes from its `labels` column.
fn labels_from_row(row: &DbRow, item: &mut Item) -> Result<()> {
    let json: Option<String> = row.try_get("labels")?;
    let mut labels: Vec<LabelRow> = match json.as_deref() {
        None | Some("") => Vec::new(),
        Some(json) => serde_json::from_str(json)
            .map_err(|e| StoreError::Corrupt(format!("labels of item {}: {e}", item.id)))?,
    };
    labels.sort_by(|x, y| (&x.0, x.5).cmp(&(&y.0, y.5)));
    let text = |value: Option<String>, what: &str| {
        value.ok_or_else(|| {
            StoreError::Corrupt(format!("a label of item {} has no {what}", item.id))
        })
    };
    for (kind, a, b, c, at, _) in labels {
        match kind.as_str() {
            "t" => item.tags.push(Tag {
                slug: text(a, "slug")?,
                name: text(b, "name")?,
            }),
            "a" => item.authors.push(Author {
                slug: text(a, "slug")?,
                name: text(b, "name")?,
                bio: c.unwrap_or_default(),
            }),
            "s" => item.sources.push(Source {
                name: text(a, "name")?,
                url: b,
            }),
            "n" => {
                let note = text(a, "note kind")?;
                item.notes.push(newsdesk_core::Note {
                    kind: newsdesk_core::NoteKind::parse(&note)
                        .ok_or_else(|| StoreError::Corrupt(format!("note kind {note}")))?,
                    text: text(b, "note text")?,
                    at: from_micros(at.ok_or_else(|| {
                        StoreError::Corrupt(format!("a note of item {} has no time", item.id))
                    })?)?,
                });
            }
            other => return Err(StoreError::Corrupt(format!("label kind {other}"))),
        }
    }
    Ok(())
}

/// An item's related choices (bound as `$1`) as one text: `id:choice:position` entries joined
/// by commas, read back by `related_choices_from_list`.
const RELATED_CHOICES_LIST: &str = concat!(
    "SELECT ",
    text_list!("related_id || ':' || choice || ':' || position"),
    " FROM related_choices WHERE item_id = $1"
);

/// Related choices from `RELATED_CHOICES_LIST`'s text, by position, then id.
fn related_choices_from_list(list: &str) -> Result<crate::RelatedChoices> {
    let mut entries = Vec::new();
    for entry in list.split(',').filter(|e| !e.is_empty()) {
        let corrupt = || StoreError::Corrupt(format!("related choice {entry}"));
        let mut parts = entry.split(':');
        let id: i64 = parts
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(corrupt)?;
        let pinned = match parts.next() {
            Some("pin") => true,
            Some("exclude") => false,
            _ => return Err(corrupt()),
        };
        let position: i64 = parts
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(corrupt)?;
        entries.push((position, id, pinned));
    }
    entries.sort_unstable();
    let mut out = crate::RelatedChoices::default();
    for (_, id, pinned) in entries {
        if pinned {
            out.pinned.push(id);
        } else {
            out.excluded.push(id);
        }
    }
    Ok(out)
}

fn load_one(row: Option<DbRow>) -> Result<Option<Item>> {
    row.as_ref().map(item_from_row).transpose()
}

pub(crate) async fn load_by_id(conn: &mut Conn, id: i64) -> Result<Option<Item>> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {ITEM_COLUMNS} FROM items WHERE id = $1"));
    let row = sqlx::query(sql).bind(id).fetch_optional(&mut *conn).await?;
    load_one(row)
}

pub(crate) async fn load_by_slug(
    conn: &mut Conn,
    language: &str,
    slug: &str,
) -> Result<Option<Item>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ITEM_COLUMNS} FROM items WHERE language = $1 AND slug = $2"
    ));
    let row = sqlx::query(sql)
        .bind(language)
        .bind(slug)
        .fetch_optional(&mut *conn)
        .await?;
    load_one(row)
}

pub(crate) async fn published(conn: &mut Conn, q: &ItemQuery) -> Result<Vec<Item>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ITEM_COLUMNS} FROM items WHERE {PUBLISHED_FILTER}
                 ORDER BY published_at DESC, id DESC LIMIT $12 OFFSET $13"
    ));
    let rows = bind_filter!(sqlx::query(sql), q)
        .bind(i64::from(q.limit))
        .bind(i64::from(q.offset))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(item_from_row).collect()
}

pub(crate) async fn count_published(conn: &mut Conn, q: &ItemQuery) -> Result<u64> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM items WHERE {PUBLISHED_FILTER}"
    ));
    let n: i64 = bind_filter!(sqlx::query_scalar(sql), q)
        .fetch_one(&mut *conn)
        .await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

pub(crate) async fn insert(
    conn: &mut Conn,
    item: &ValidItem,
    times: PublicationTimes,
    now: Timestamp,
) -> Result<i64> {
    let id: i64 = bind_item!(
                sqlx::query_scalar(
                    "INSERT INTO items (kind, status, language, translation_group, section, slug, headline,
                        standfirst, body_markdown, body_html, hero_path, hero_caption, hero_credit, hero_alt,
                        hero_width, hero_height, breaking, first_published_at, published_at, updated_at,
                        changed_at, created_at, version)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                        $18, $19, $20, $21, $21, 1)
                     RETURNING id",
                ),
                item,
                times,
                now
            )
            .fetch_one(&mut *conn)
            .await?;
    Ok(id)
}

pub(crate) async fn update(
    conn: &mut Conn,
    id: i64,
    item: &ValidItem,
    times: PublicationTimes,
    now: Timestamp,
) -> Result<()> {
    bind_item!(
        sqlx::query(
            "UPDATE items SET kind = $1, status = $2, language = $3, translation_group = $4,
                        section = $5, slug = $6, headline = $7, standfirst = $8, body_markdown = $9,
                        body_html = $10, hero_path = $11, hero_caption = $12, hero_credit = $13,
                        hero_alt = $14, hero_width = $15, hero_height = $16, breaking = $17,
                        first_published_at = $18, published_at = $19, updated_at = $20,
                        changed_at = $21, version = version + 1
                     WHERE id = $22",
        ),
        item,
        times,
        now
    )
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The audit line of an item save, in the save's transaction.
pub(crate) async fn audit_save(
    conn: &mut Conn,
    actor: &str,
    before: Option<ItemStatus>,
    item: &Item,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(to_micros(now))
    .bind(actor)
    .bind(newsdesk_core::workflow::audit_action(before, item.status))
    .bind(format!("item:{}", item.id))
    .bind(item.display_headline())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Keeps the address `before` had, so that links to it answer 301 to the new one.
pub(crate) async fn remember_address(conn: &mut Conn, before: &Item) -> Result<()> {
    sqlx::query(
        "INSERT INTO item_redirects (language, slug, item_id) VALUES ($1, $2, $3)
                 ON CONFLICT (language, slug) DO UPDATE SET item_id = excluded.item_id",
    )
    .bind(&before.language)
    .bind(&before.slug)
    .bind(before.id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An address taken by an item is no longer a redirect to another.
pub(crate) async fn forget_address(conn: &mut Conn, language: &str, slug: &str) -> Result<()> {
    sqlx::query("DELETE FROM item_redirects WHERE language = $1 AND slug = $2")
        .bind(language)
        .bind(slug)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Replaces the item's tags, authors and sources. Tags are created on first use; authors
/// must exist.
pub(crate) async fn write_labels(conn: &mut Conn, id: i64, item: &ValidItem) -> Result<()> {
    for table in [
        "DELETE FROM item_tags WHERE item_id = $1",
        "DELETE FROM item_authors WHERE item_id = $1",
        "DELETE FROM item_sources WHERE item_id = $1",
    ] {
        sqlx::query(table).bind(id).execute(&mut *conn).await?;
    }
    for (position, tag) in item.tags.iter().enumerate() {
        let tag_id: i64 = sqlx::query_scalar(
            "INSERT INTO tags (slug, name) VALUES ($1, $2)
                     ON CONFLICT (slug) DO UPDATE SET slug = excluded.slug RETURNING id",
        )
        .bind(&tag.slug)
        .bind(&tag.name)
        .fetch_one(&mut *conn)
        .await?;
        sqlx::query("INSERT INTO item_tags (item_id, tag_id, position) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(tag_id)
            .bind(position as i64)
            .execute(&mut *conn)
            .await?;
    }
    for (position, slug) in item.author_slugs.iter().enumerate() {
        let author_id: Option<i64> = sqlx::query_scalar("SELECT id FROM authors WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&mut *conn)
            .await?;
        let author_id = author_id.ok_or(StoreError::Corrupt(format!("unknown author `{slug}`")))?;
        sqlx::query("INSERT INTO item_authors (item_id, author_id, position) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(author_id)
            .bind(position as i64)
            .execute(&mut *conn)
            .await?;
    }
    for (position, source) in item.sources.iter().enumerate() {
        sqlx::query(
            "INSERT INTO item_sources (item_id, position, name, url) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(position as i64)
        .bind(&source.name)
        .bind(source.url.as_deref())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub(crate) async fn write_revision(
    conn: &mut Conn,
    item: &Item,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    let snapshot = serde_json::to_string(item).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sqlx::query(
                "INSERT INTO revisions (item_id, version, actor, created_at, snapshot) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(item.id)
            .bind(item.version)
            .bind(actor)
            .bind(to_micros(now))
            .bind(snapshot)
            .execute(&mut *conn)
            .await?;
    Ok(())
}

/// Appends the event for a change of `item`; `before` adds the keys of the pages the item
/// was on, so moving a story between sections purges both.
pub(crate) async fn append_event(
    tx: &mut Tx<'_>,
    kind: EventKind,
    item: &Item,
    before: Option<&Item>,
    now: Timestamp,
) -> Result<Event> {
    let mut keys = keys_for(item);
    if let Some(b) = before {
        for k in keys_for(b) {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    super::events::append(tx, kind, Some(item.id), None, keys, now).await
}

#[async_trait]
impl ItemStore for SqlStore {
    async fn item_by_id(&self, id: i64) -> Result<Option<Item>> {
        let mut conn = self.reader.acquire().await?;
        load_by_id(&mut conn, id).await
    }

    async fn item_by_slug(&self, language: &str, slug: &str) -> Result<Option<Item>> {
        let mut conn = self.reader.acquire().await?;
        load_by_slug(&mut conn, language, slug).await
    }

    async fn redirect_for(&self, language: &str, slug: &str) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT item_id FROM item_redirects WHERE language = $1 AND slug = $2",
        )
        .bind(language)
        .bind(slug)
        .fetch_optional(&self.reader)
        .await?)
    }

    async fn published(&self, query: &ItemQuery) -> Result<Vec<Item>> {
        let mut conn = self.reader.acquire().await?;
        published(&mut conn, query).await
    }

    async fn count_published(&self, query: &ItemQuery) -> Result<u64> {
        let mut conn = self.reader.acquire().await?;
        count_published(&mut conn, query).await
    }

    async fn count_all_items(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM items")
            .fetch_one(&self.reader)
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn create_item(
        &self,
        item: &ValidItem,
        times: PublicationTimes,
        actor: &str,
        now: Timestamp,
    ) -> Result<Saved> {
        let mut tx = self.write_transaction().await?;
        let id = insert(&mut tx, item, times, now)
            .await
            .map_err(slug_taken)?;
        forget_address(&mut tx, &item.language, &item.slug).await?;
        write_labels(&mut tx, id, item).await?;
        let stored = load_by_id(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
        write_revision(&mut tx, &stored, actor, now).await?;
        audit_save(&mut tx, actor, None, &stored, now).await?;
        let event = match EventKind::for_transition(None, stored.status) {
            Some(kind) => Some(append_event(&mut tx, kind, &stored, None, now).await?),
            None => None,
        };
        tx.commit().await?;
        Ok(Saved {
            item: stored,
            event,
        })
    }

    async fn update_item(
        &self,
        id: i64,
        expected_version: i64,
        item: &ValidItem,
        times: PublicationTimes,
        actor: &str,
        now: Timestamp,
    ) -> Result<Saved> {
        let mut tx = self.write_transaction().await?;
        let before = load_by_id(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
        if before.version != expected_version {
            return Err(StoreError::Conflict {
                current: before.version,
            });
        }
        update(&mut tx, id, item, times, now)
            .await
            .map_err(slug_taken)?;
        if (before.language.as_str(), before.slug.as_str())
            != (item.language.as_str(), item.slug.as_str())
        {
            remember_address(&mut tx, &before).await?;
            forget_address(&mut tx, &item.language, &item.slug).await?;
        }
        write_labels(&mut tx, id, item).await?;
        let stored = load_by_id(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
        write_revision(&mut tx, &stored, actor, now).await?;
        audit_save(&mut tx, actor, Some(before.status), &stored, now).await?;
        let event = match EventKind::for_transition(Some(before.status), stored.status) {
            Some(kind) => Some(append_event(&mut tx, kind, &stored, Some(&before), now).await?),
            None => None,
        };
        tx.commit().await?;
        Ok(Saved {
            item: stored,
            event,
        })
    }

    async fn delete_item(
        &self,
        id: i64,
        expected_version: i64,
        actor: &str,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        let row: Option<(i64, Option<i64>, Option<String>, String)> = sqlx::query_as(
            "SELECT version, first_published_at, headline, slug FROM items WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let (version, first_published_at, headline, slug) = row.ok_or(StoreError::NotFound)?;
        if version != expected_version {
            return Err(StoreError::Conflict { current: version });
        }
        if first_published_at.is_some() {
            return Err(StoreError::WasPublished);
        }
        // Autosaves name the item without a foreign key (a new item's slot uses id 0).
        sqlx::query("DELETE FROM autosaves WHERE item_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM items WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let detail = headline.unwrap_or(slug);
        super::events::audit_row(
            &mut tx,
            actor,
            "deleted the item",
            &format!("item:{id}"),
            &detail,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn revisions(&self, item_id: i64) -> Result<Vec<Revision>> {
        let rows = sqlx::query(
            "SELECT item_id, version, actor, created_at, snapshot FROM revisions
                 WHERE item_id = $1 ORDER BY version",
        )
        .bind(item_id)
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                let snapshot: String = r.try_get("snapshot")?;
                Ok(Revision {
                    item_id: r.try_get("item_id")?,
                    version: r.try_get("version")?,
                    actor: r.try_get("actor")?,
                    created_at: from_micros(r.try_get("created_at")?)?,
                    snapshot: serde_json::from_str(&snapshot)
                        .map_err(|e| StoreError::Corrupt(format!("revision snapshot: {e}")))?,
                })
            })
            .collect()
    }

    async fn add_note(
        &self,
        item_id: i64,
        expected_version: i64,
        kind: newsdesk_core::NoteKind,
        text: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<Saved> {
        let mut tx = self.write_transaction().await?;
        let before = load_by_id(&mut tx, item_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        if before.version != expected_version {
            return Err(StoreError::Conflict {
                current: before.version,
            });
        }
        sqlx::query(
            "INSERT INTO item_notes (item_id, kind, body, at, actor) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(item_id)
        .bind(kind.as_str())
        .bind(text)
        .bind(to_micros(now))
        .bind(actor)
        .execute(&mut *tx)
        .await?;
        // A note changes what readers see: the item shows it as updated.
        sqlx::query(
                "UPDATE items SET updated_at = $2, changed_at = $2, version = version + 1 WHERE id = $1",
            )
            .bind(item_id)
            .bind(to_micros(now))
            .execute(&mut *tx)
            .await?;
        let stored = load_by_id(&mut tx, item_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        write_revision(&mut tx, &stored, actor, now).await?;
        sqlx::query(
                "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(to_micros(now))
            .bind(actor)
            .bind(format!("added a {} note", kind.as_str()))
            .bind(format!("item:{item_id}"))
            .bind(stored.display_headline())
            .execute(&mut *tx)
            .await?;
        let event = match EventKind::for_transition(Some(before.status), stored.status) {
            Some(event_kind) => {
                Some(append_event(&mut tx, event_kind, &stored, Some(&before), now).await?)
            }
            None => None,
        };
        tx.commit().await?;
        Ok(Saved {
            item: stored,
            event,
        })
    }

    async fn item_creator(&self, item_id: i64) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT actor FROM revisions WHERE item_id = $1 ORDER BY version LIMIT 1",
        )
        .bind(item_id)
        .fetch_optional(&self.reader)
        .await?)
    }

    async fn publish_due(&self, now: Timestamp, actor: &str, limit: u32) -> Result<Vec<Saved>> {
        let due: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM items WHERE status = 'scheduled' AND published_at <= $1
                 ORDER BY published_at, id LIMIT $2",
        )
        .bind(to_micros(now))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        let mut published = Vec::new();
        for id in due {
            let mut tx = self.write_transaction().await?;
            // The claim: only the run whose update finds the item still scheduled
            // publishes it. First published is set once, as `PublicationTimes` does.
            let claimed: Option<i64> = sqlx::query_scalar(
                "UPDATE items SET status = 'published',
                        first_published_at = COALESCE(first_published_at, published_at),
                        changed_at = $2, version = version + 1
                     WHERE id = $1 AND status = 'scheduled' AND published_at <= $2
                     RETURNING id",
            )
            .bind(id)
            .bind(to_micros(now))
            .fetch_optional(&mut *tx)
            .await?;
            if claimed.is_none() {
                continue;
            }
            let stored = load_by_id(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
            write_revision(&mut tx, &stored, actor, now).await?;
            audit_save(&mut tx, actor, Some(ItemStatus::Scheduled), &stored, now).await?;
            let event = append_event(&mut tx, EventKind::ItemPublished, &stored, None, now).await?;
            tx.commit().await?;
            published.push(Saved {
                item: stored,
                event: Some(event),
            });
        }
        Ok(published)
    }

    async fn desk_items(&self, query: &DeskQuery) -> Result<(Vec<Item>, u64)> {
        // `%` and `_` typed into the search box are literal characters, not wildcards.
        let pattern = query.headline.as_deref().map(crate::sql::contains_pattern);
        let filter = "($1 IS NULL OR status = $1)
                AND ($2 IS NULL OR kind = $2)
                AND ($3 IS NULL OR section = $3)
                AND ($4 IS NULL OR language = $4)
                AND ($5 IS NULL OR EXISTS (SELECT 1 FROM item_authors ia JOIN authors a ON a.id = ia.author_id
                                           WHERE ia.item_id = items.id AND a.slug = $5))
                AND ($6 IS NULL OR breaking = $6)
                AND ($7 IS NULL OR LOWER(COALESCE(headline, body_markdown)) LIKE $7 ESCAPE '\\')
                AND ($8 IS NULL OR status = 'published'
                     OR (SELECT r.actor FROM revisions r WHERE r.item_id = items.id
                         ORDER BY r.version LIMIT 1) = $8)";
        macro_rules! bind_desk {
            ($q:expr) => {
                $q.bind(query.status.map(ItemStatus::as_str))
                    .bind(query.kind.map(ItemKind::as_str))
                    .bind(query.section.as_deref())
                    .bind(query.language.as_deref())
                    .bind(query.author.as_deref())
                    .bind(query.breaking)
                    .bind(pattern.as_deref())
                    .bind(query.published_or_written_by.as_deref())
            };
        }
        let mut conn = self.reader.acquire().await?;
        let total: i64 = bind_desk!(sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM items WHERE {filter}"
        ))))
        .fetch_one(&mut *conn)
        .await?;
        let rows = bind_desk!(sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {} FROM items WHERE {filter} ORDER BY changed_at DESC, id DESC LIMIT $9 OFFSET $10",
                ITEM_COLUMNS
            ))))
            .bind(i64::from(query.limit))
            .bind(i64::from(query.offset))
            .fetch_all(&mut *conn)
            .await?;
        let items = rows.iter().map(item_from_row).collect::<Result<Vec<_>>>()?;
        Ok((items, u64::try_from(total).unwrap_or(0)))
    }

    async fn put_autosave(&self, slot: &crate::Autosave) -> Result<()> {
        let fields = serde_json::to_string(&slot.fields)
            .map_err(|e| StoreError::Corrupt(format!("autosave fields: {e}")))?;
        sqlx::query(
                "INSERT INTO autosaves (account_id, item_id, base_version, fields, saved_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (account_id, item_id) DO UPDATE SET base_version = excluded.base_version,
                    fields = excluded.fields, saved_at = excluded.saved_at",
            )
            .bind(slot.account_id)
            .bind(slot.item_id.unwrap_or(0))
            .bind(slot.base_version)
            .bind(fields)
            .bind(to_micros(slot.saved_at))
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn autosave(
        &self,
        account_id: i64,
        item_id: Option<i64>,
    ) -> Result<Option<crate::Autosave>> {
        let row = sqlx::query(
            "SELECT base_version, fields, saved_at FROM autosaves
                 WHERE account_id = $1 AND item_id = $2",
        )
        .bind(account_id)
        .bind(item_id.unwrap_or(0))
        .fetch_optional(&self.reader)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let fields: String = row.try_get("fields")?;
        Ok(Some(crate::Autosave {
            account_id,
            item_id: item_id.filter(|id| *id != 0),
            base_version: row.try_get("base_version")?,
            fields: serde_json::from_str(&fields)
                .map_err(|e| StoreError::Corrupt(format!("autosave fields: {e}")))?,
            saved_at: from_micros(row.try_get("saved_at")?)?,
        }))
    }

    async fn delete_autosave(&self, account_id: i64, item_id: Option<i64>) -> Result<()> {
        sqlx::query("DELETE FROM autosaves WHERE account_id = $1 AND item_id = $2")
            .bind(account_id)
            .bind(item_id.unwrap_or(0))
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn prune_autosaves(&self, before: Timestamp) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM autosaves WHERE saved_at < $1")
            .bind(to_micros(before))
            .execute(&self.writer)
            .await?
            .rows_affected())
    }

    async fn published_times(&self) -> Result<Vec<crate::PublishedTimes>> {
        let rows = sqlx::query(
            "SELECT published_at, updated_at FROM items
                 WHERE status = 'published' AND published_at IS NOT NULL ORDER BY published_at",
        )
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|row| {
                let published = from_micros(row.try_get("published_at")?)?;
                let updated: Option<i64> = row.try_get("updated_at")?;
                let updated = updated.map(from_micros).transpose()?;
                Ok(crate::PublishedTimes {
                    published_at: published,
                    last_changed: updated.filter(|u| *u > published).unwrap_or(published),
                })
            })
            .collect()
    }

    async fn published_between(
        &self,
        from: Timestamp,
        until: Timestamp,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Item>> {
        let mut conn = self.reader.acquire().await?;
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM items
                 WHERE status = 'published' AND published_at >= $1 AND published_at < $2
                 ORDER BY published_at DESC, id DESC LIMIT $3 OFFSET $4",
            ITEM_COLUMNS
        ));
        let rows = sqlx::query(sql)
            .bind(to_micros(from))
            .bind(to_micros(until))
            .bind(i64::from(limit))
            .bind(i64::from(offset))
            .fetch_all(&mut *conn)
            .await?;
        rows.iter().map(item_from_row).collect()
    }

    async fn listing_activity(
        &self,
        kinds: &[crate::ListingKind],
    ) -> Result<Vec<crate::ListingActivity>> {
        // The latest change readers were told about: the update when later, else the
        // publication. `updated_at > published_at` is NULL (so false) without an update.
        const LAST: &str = "MAX(CASE WHEN i.updated_at > i.published_at THEN i.updated_at ELSE i.published_at END)";
        let queries = [
                (crate::ListingKind::Section, format!(
                    "SELECT i.section AS slug, i.language AS language, {LAST} AS last_changed
                     FROM items i WHERE i.status = 'published'
                     GROUP BY i.section, i.language ORDER BY i.section, i.language")),
                (crate::ListingKind::Tag, format!(
                    "SELECT t.slug AS slug, i.language AS language, {LAST} AS last_changed
                     FROM tags t JOIN item_tags it ON it.tag_id = t.id JOIN items i ON i.id = it.item_id
                     WHERE i.status = 'published'
                     GROUP BY t.slug, i.language ORDER BY t.slug, i.language")),
                (crate::ListingKind::Author, format!(
                    "SELECT a.slug AS slug, i.language AS language, {LAST} AS last_changed
                     FROM authors a JOIN item_authors ia ON ia.author_id = a.id JOIN items i ON i.id = ia.item_id
                     WHERE i.status = 'published'
                     GROUP BY a.slug, i.language ORDER BY a.slug, i.language")),
            ];
        let mut out = Vec::new();
        for (kind, sql) in queries {
            if !kinds.contains(&kind) {
                continue;
            }
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(&self.reader)
                .await?;
            for row in &rows {
                out.push(crate::ListingActivity {
                    kind,
                    slug: row.try_get("slug")?,
                    language: row.try_get("language")?,
                    last_changed: from_micros(row.try_get("last_changed")?)?,
                });
            }
        }
        Ok(out)
    }

    async fn published_after_id(&self, after_id: i64, limit: u32) -> Result<Vec<Item>> {
        let mut conn = self.reader.acquire().await?;
        let sql = sqlx::AssertSqlSafe(format!(
            // `COALESCE` keeps the planner off `items_published` (led by `status`, which
            // every published item shares): walking ids from `$1` reads only the rows asked
            // for, where the index would be read whole and sorted (18 ms at 100,000 items).
            "SELECT {} FROM items WHERE COALESCE(status, '') = 'published' AND id > $1
             ORDER BY id LIMIT $2",
            ITEM_COLUMNS
        ));
        let rows = sqlx::query(sql)
            .bind(after_id)
            .bind(i64::from(limit))
            .fetch_all(&mut *conn)
            .await?;
        rows.iter().map(item_from_row).collect()
    }

    async fn published_by_ids(&self, ids: &[i64]) -> Result<Vec<Item>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let json = serde_json::to_string(ids).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let sql = sqlx::AssertSqlSafe(format!(
            // By id, never by `items_published` (see `published_after_id`).
            "SELECT {} FROM items WHERE COALESCE(status, '') = 'published' AND id IN ({})",
            ITEM_COLUMNS,
            ids!()
        ));
        let rows = sqlx::query(sql).bind(&json).fetch_all(&self.reader).await?;
        let mut items = rows.iter().map(item_from_row).collect::<Result<Vec<_>>>()?;
        items.sort_by_key(|item| ids.iter().position(|id| *id == item.id));
        Ok(items)
    }

    async fn story_facts(&self, item_id: i64) -> Result<newsdesk_core::item::StoryFacts> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COALESCE((SELECT closed FROM story_commenting WHERE item_id = $1), FALSE) AS closed,
                    COALESCE((SELECT premoderated FROM story_commenting WHERE item_id = $1), FALSE)
                        AS premoderated,
                    (SELECT COUNT(*) FROM comments WHERE item_id = $1 AND status = 'published')
                        AS comments,
                    (SELECT COUNT(*) FROM comments c
                      WHERE c.item_id = $1 AND c.parent_id IS NULL AND ({})) AS top_level_shown,
                    ({}) AS choices",
            super::comments::COMMENT_VISIBLE,
            RELATED_CHOICES_LIST,
        )))
        .bind(item_id)
        // No viewer: the page is the same for everyone (`COMMENT_VISIBLE`'s `$2`).
        .bind(None::<i64>)
        .fetch_one(&self.reader)
        .await?;
        let count = |column: &str| -> Result<u64> {
            Ok(u64::try_from(row.try_get::<i64, _>(column)?).unwrap_or(0))
        };
        let choices: Option<String> = row.try_get("choices")?;
        Ok(newsdesk_core::item::StoryFacts {
            related: related_choices_from_list(choices.as_deref().unwrap_or(""))?,
            closed_by_hand: row.try_get("closed")?,
            premoderated: row.try_get("premoderated")?,
            comments: count("comments")?,
            top_level_shown: count("top_level_shown")?,
        })
    }

    async fn related_choices(&self, item_id: i64) -> Result<crate::RelatedChoices> {
        let list: Option<String> = sqlx::query_scalar(RELATED_CHOICES_LIST)
            .bind(item_id)
            .fetch_one(&self.reader)
            .await?;
        related_choices_from_list(list.as_deref().unwrap_or(""))
    }

    async fn set_related_choices(
        &self,
        item_id: i64,
        choices: &crate::RelatedChoices,
        actor: &str,
        now: Timestamp,
    ) -> Result<Option<Event>> {
        let mut tx = self.write_transaction().await?;
        let status: Option<String> = sqlx::query_scalar("SELECT status FROM items WHERE id = $1")
            .bind(item_id)
            .fetch_optional(&mut *tx)
            .await?;
        let status = status.ok_or(StoreError::NotFound)?;
        sqlx::query("DELETE FROM related_choices WHERE item_id = $1")
            .bind(item_id)
            .execute(&mut *tx)
            .await?;
        let chosen = choices
            .pinned
            .iter()
            .map(|id| (*id, "pin"))
            .chain(choices.excluded.iter().map(|id| (*id, "exclude")));
        for (position, (related_id, choice)) in chosen.enumerate() {
            if related_id == item_id {
                continue;
            }
            let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM items WHERE id = $1")
                .bind(related_id)
                .fetch_optional(&mut *tx)
                .await?;
            if exists.is_none() {
                return Err(StoreError::NotFound);
            }
            // A later choice of the same item wins (ON CONFLICT), so a form naming an item
            // both pinned and excluded cannot fail half-way.
            sqlx::query(
                    "INSERT INTO related_choices (item_id, related_id, choice, position) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (item_id, related_id) DO UPDATE SET choice = excluded.choice, position = excluded.position",
                )
                .bind(item_id)
                .bind(related_id)
                .bind(choice)
                .bind(position as i64)
                .execute(&mut *tx)
                .await?;
        }
        let detail = format!(
            "pinned {:?}, excluded {:?}",
            choices.pinned, choices.excluded
        );
        super::events::audit_row(
            &mut tx,
            actor,
            "chose related items",
            &format!("item:{item_id}"),
            &detail,
            now,
        )
        .await?;
        let event = if status == "published" {
            let keys = vec![newsdesk_core::event::keys::item(item_id)];
            let kind = EventKind::ItemUpdated;
            Some(super::events::append(&mut tx, kind, Some(item_id), None, keys, now).await?)
        } else {
            None
        };
        tx.commit().await?;
        Ok(event)
    }
}
