//! The SQL both backends share. SQLite and PostgreSQL run the same statements (`$n`
//! placeholders, `RETURNING`, `ON CONFLICT`, times as BIGINT microseconds), so the code is
//! written once and instantiated per backend by `sql_store!`, which the compiler type-checks
//! against each driver. What differs is passed in: the driver types, how a list of ids is
//! unnested, how a write transaction starts, and the locks that serialize migrations and
//! event ids.

use jiff::Timestamp;

use crate::{Result, StoreError};

pub(crate) fn to_micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

pub(crate) fn from_micros(v: i64) -> Result<Timestamp> {
    Timestamp::from_microsecond(v).map_err(|e| StoreError::Corrupt(format!("time {v}: {e}")))
}

pub(crate) fn account_from_row<R: sqlx::Row>(row: &R) -> Result<newsdesk_core::Account>
where
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
{
    let role: String = row.try_get("role")?;
    Ok(newsdesk_core::Account {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        role: newsdesk_core::Role::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?,
        disabled: row.try_get("disabled")?,
        created_at: from_micros(row.try_get("created_at")?)?,
    })
}

/// The only unique key an item row has besides its id is (language, slug).
pub(crate) fn slug_taken(e: StoreError) -> StoreError {
    match e {
        StoreError::Database(sqlx::Error::Database(ref db)) if db.is_unique_violation() => {
            StoreError::Duplicate { field: "slug" }
        }
        e => e,
    }
}

/// A `LIKE … ESCAPE '\\'` pattern matching text that contains `words` (lowercased): `%` and
/// `_` typed into a search box are literal characters, not wildcards.
pub(crate) fn contains_pattern(words: &str) -> String {
    let escaped = words
        .trim()
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// A comment with its writer's current name and whether they are staff (a verified reader
/// whose address is also an enabled staff account's).
pub(crate) const COMMENT_SELECT: &str = "SELECT c.id, c.item_id, c.parent_id, c.root_id, c.reader_id,
        r.display_name AS author,
        (r.verified AND EXISTS (SELECT 1 FROM accounts a WHERE a.email = r.email AND NOT a.disabled)) AS staff,
        c.body, c.status, c.hold_reasons, c.reject_reason, c.featured, c.likes, c.reports,
        c.created_at, c.edited_at
    FROM comments c LEFT JOIN readers r ON r.id = c.reader_id";

/// Which comments a reader (`$2`, NULL when signed out) sees: published ones, a deleted one
/// that still has published replies (as a marker), and their own held or rejected ones.
pub(crate) const COMMENT_VISIBLE: &str = "c.status = 'published'
    OR (c.status = 'deleted' AND EXISTS (SELECT 1 FROM comments d WHERE d.parent_id = c.id AND d.status = 'published'))
    OR (c.reader_id = $2 AND c.status IN ('held', 'rejected'))";

pub(crate) const ITEM_COLUMNS: &str = "id, kind, status, language, translation_group, section, slug, headline, \
     standfirst, body_markdown, body_html, hero_path, hero_caption, hero_credit, hero_alt, \
     hero_width, hero_height, breaking, first_published_at, published_at, updated_at, \
     created_at, changed_at, version";

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

pub(crate) use {bind_filter, bind_item};

/// Implements `Store` for `$Store`, which must have `writer` and `reader` pools and an
/// `async fn write_transaction(&self)`.
macro_rules! sql_store {
    (
        store: $Store:ty,
        connection: $Conn:ty,
        row: $Row:ty,
        // A subquery yielding the ids of the JSON array bound as `$1`.
        ids: $ids:literal,
        // Run first in a migration's transaction; must block other migrators until commit.
        lock_migrations: $lock_migrations:literal,
        // Run before an event is appended; must block other appenders until commit.
        serialize_events: $serialize_events:literal,
        // Appended to the subquery that picks due webhook deliveries (alias `d`).
        claim_lock: $claim_lock:literal,
        // Run with a throttling subject bound as `$1` before its attempts are counted; must
        // block other counters of that subject until commit.
        lock_subject: $lock_subject:literal,
        migrations: $migrations:expr $(,)?
    ) => {
        mod items {
            use jiff::Timestamp;
            use newsdesk_core::event::keys_for;
            use newsdesk_core::{
                Author, Event, EventKind, HeroImage, Item, ItemKind, ItemStatus, Source, Tag,
                ValidItem,
            };
            use sqlx::Row;

            use crate::sql::{ITEM_COLUMNS, PUBLISHED_FILTER, bind_filter, bind_item, from_micros, to_micros};
            use crate::{ItemQuery, PublicationTimes, Result, StoreError};

        fn opt_time(row: &$Row, column: &str) -> Result<Option<Timestamp>> {
            row.try_get::<Option<i64>, _>(column)?
                .map(from_micros)
                .transpose()
        }

        pub(crate) fn item_from_row(row: &$Row) -> Result<Item> {
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
            Ok(Item {
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
            })
        }

        /// Fills in tags, authors and sources for `items` with one query each.
        pub(crate) async fn attach_labels(conn: &mut $Conn, items: &mut [Item]) -> Result<()> {
            if items.is_empty() {
                return Ok(());
            }
            let ids = serde_json::to_string(&items.iter().map(|i| i.id).collect::<Vec<_>>())
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let tag_rows = sqlx::query(
                concat!("SELECT it.item_id, t.slug, t.name FROM item_tags it JOIN tags t ON t.id = it.tag_id
                 WHERE it.item_id IN (", $ids, ") ORDER BY it.item_id, it.position"),
            )
            .bind(&ids)
            .fetch_all(&mut *conn)
            .await?;
            let author_rows = sqlx::query(
                concat!("SELECT ia.item_id, a.slug, a.name, a.bio FROM item_authors ia
                 JOIN authors a ON a.id = ia.author_id
                 WHERE ia.item_id IN (", $ids, ") ORDER BY ia.item_id, ia.position"),
            )
            .bind(&ids)
            .fetch_all(&mut *conn)
            .await?;
            let source_rows = sqlx::query(
                concat!("SELECT item_id, name, url FROM item_sources
                 WHERE item_id IN (", $ids, ") ORDER BY item_id, position"),
            )
            .bind(&ids)
            .fetch_all(&mut *conn)
            .await?;
            let note_rows = sqlx::query(
                concat!("SELECT item_id, kind, body, at FROM item_notes
                 WHERE item_id IN (", $ids, ") ORDER BY item_id, id"),
            )
            .bind(&ids)
            .fetch_all(&mut *conn)
            .await?;
            for item in items.iter_mut() {
                for r in &note_rows {
                    if r.try_get::<i64, _>("item_id")? == item.id {
                        let kind: String = r.try_get("kind")?;
                        item.notes.push(newsdesk_core::Note {
                            kind: newsdesk_core::NoteKind::parse(&kind)
                                .ok_or_else(|| StoreError::Corrupt(format!("note kind {kind}")))?,
                            text: r.try_get("body")?,
                            at: from_micros(r.try_get("at")?)?,
                        });
                    }
                }
                for r in &tag_rows {
                    if r.try_get::<i64, _>("item_id")? == item.id {
                        item.tags.push(Tag {
                            slug: r.try_get("slug")?,
                            name: r.try_get("name")?,
                        });
                    }
                }
                for r in &author_rows {
                    if r.try_get::<i64, _>("item_id")? == item.id {
                        item.authors.push(Author {
                            slug: r.try_get("slug")?,
                            name: r.try_get("name")?,
                            bio: r.try_get("bio")?,
                        });
                    }
                }
                for r in &source_rows {
                    if r.try_get::<i64, _>("item_id")? == item.id {
                        item.sources.push(Source {
                            name: r.try_get("name")?,
                            url: r.try_get("url")?,
                        });
                    }
                }
            }
            Ok(())
        }

        async fn load_one(conn: &mut $Conn, row: Option<$Row>) -> Result<Option<Item>> {
            let Some(row) = row else { return Ok(None) };
            let mut items = [item_from_row(&row)?];
            attach_labels(conn, &mut items).await?;
            let [item] = items;
            Ok(Some(item))
        }

        pub(crate) async fn load_by_id(conn: &mut $Conn, id: i64) -> Result<Option<Item>> {
            let sql = sqlx::AssertSqlSafe(format!("SELECT {ITEM_COLUMNS} FROM items WHERE id = $1"));
            let row = sqlx::query(sql).bind(id).fetch_optional(&mut *conn).await?;
            load_one(conn, row).await
        }

        pub(crate) async fn load_by_slug(
            conn: &mut $Conn,
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
            load_one(conn, row).await
        }

        pub(crate) async fn published(conn: &mut $Conn, q: &ItemQuery) -> Result<Vec<Item>> {
            let sql = sqlx::AssertSqlSafe(format!(
                "SELECT {ITEM_COLUMNS} FROM items WHERE {PUBLISHED_FILTER}
                 ORDER BY published_at DESC, id DESC LIMIT $12 OFFSET $13"
            ));
            let rows = bind_filter!(sqlx::query(sql), q)
                .bind(i64::from(q.limit))
                .bind(i64::from(q.offset))
                .fetch_all(&mut *conn)
                .await?;
            let mut items = rows.iter().map(item_from_row).collect::<Result<Vec<_>>>()?;
            attach_labels(conn, &mut items).await?;
            Ok(items)
        }

        pub(crate) async fn count_published(conn: &mut $Conn, q: &ItemQuery) -> Result<u64> {
            let sql = sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM items WHERE {PUBLISHED_FILTER}"
            ));
            let n: i64 = bind_filter!(sqlx::query_scalar(sql), q)
                .fetch_one(&mut *conn)
                .await?;
            Ok(u64::try_from(n).unwrap_or(0))
        }

        pub(crate) async fn insert(
            conn: &mut $Conn,
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
            conn: &mut $Conn,
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
            conn: &mut $Conn,
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
        pub(crate) async fn remember_address(conn: &mut $Conn, before: &Item) -> Result<()> {
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
        pub(crate) async fn forget_address(conn: &mut $Conn, language: &str, slug: &str) -> Result<()> {
            sqlx::query("DELETE FROM item_redirects WHERE language = $1 AND slug = $2")
                .bind(language)
                .bind(slug)
                .execute(&mut *conn)
                .await?;
            Ok(())
        }

        /// Replaces the item's tags, authors and sources. Tags are created on first use; authors
        /// must exist.
        pub(crate) async fn write_labels(
            conn: &mut $Conn,
            id: i64,
            item: &ValidItem,
        ) -> Result<()> {
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
            conn: &mut $Conn,
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
            conn: &mut $Conn,
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
            // Event ids must become visible in the order they were given out, or a follower could
            // move its cursor past an id whose transaction has not committed yet.
            sqlx::query($serialize_events).execute(&mut *conn).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO events (kind, item_id, keys, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(kind.as_str())
            .bind(item.id)
            .bind(keys.join(" "))
            .bind(to_micros(now))
            .fetch_one(&mut *conn)
            .await?;
            Ok(Event {
                id,
                kind,
                item_id: Some(item.id),
                comment_id: None,
                keys,
                // What a later read returns: the stored precision is microseconds.
                at: from_micros(to_micros(now))?,
            })
        }

        pub(crate) fn section_from_row(row: &$Row) -> Result<newsdesk_core::config::Section> {
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

        /// The audit line of a change to the site's sections, tags, authors or accounts.
        pub(crate) async fn audit_row(
            conn: &mut $Conn,
            actor: &str,
            action: &str,
            subject: &str,
            detail: &str,
            now: Timestamp,
        ) -> Result<()> {
            sqlx::query(
                "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(to_micros(now))
            .bind(actor)
            .bind(action)
            .bind(subject)
            .bind(detail)
            .execute(&mut *conn)
            .await?;
            Ok(())
        }

        /// Audits a change to sections, tags or authors and appends its `site_changed` event.
        pub(crate) async fn site_changed(
            conn: &mut $Conn,
            change: crate::SiteChange<'_>,
            action: &str,
            subject: &str,
            detail: &str,
        ) -> Result<Event> {
            audit_row(conn, change.actor, action, subject, detail, change.now).await?;
            sqlx::query($serialize_events).execute(&mut *conn).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO events (kind, item_id, keys, created_at) VALUES ($1, NULL, $2, $3) RETURNING id",
            )
            .bind(EventKind::SiteChanged.as_str())
            .bind(change.keys.join(" "))
            .bind(to_micros(change.now))
            .fetch_one(&mut *conn)
            .await?;
            Ok(Event {
                id,
                kind: EventKind::SiteChanged,
                item_id: None,
                comment_id: None,
                keys: change.keys.to_vec(),
                at: from_micros(to_micros(change.now))?,
            })
        }

        /// How many items (any status) a query of the form `SELECT COUNT(*) … WHERE … = $1`
        /// finds for `slug`.
        pub(crate) async fn count_users(conn: &mut $Conn, sql: &'static str, slug: &str) -> Result<u64> {
            let n: i64 = sqlx::query_scalar(sql).bind(slug).fetch_one(&mut *conn).await?;
            Ok(u64::try_from(n).unwrap_or(0))
        }

        /// Records one `limit.action` of a reader, refusing it when `limit.max` of them fall
        /// in the last `limit.window_secs`. The no-op update takes the reader's row lock on
        /// PostgreSQL until commit, so parallel requests of one reader count one after the
        /// other and cannot pass the limit together (SQLite's write transaction already runs
        /// alone). A refused attempt rolls back with its transaction and is not counted.
        pub(crate) async fn count_reader_action(
            conn: &mut $Conn,
            reader_id: i64,
            limit: crate::ActionLimit,
            now: Timestamp,
        ) -> Result<()> {
            sqlx::query("UPDATE readers SET status = status WHERE id = $1")
                .bind(reader_id)
                .execute(&mut *conn)
                .await?;
            let window = i64::from(limit.window_secs) * 1_000_000;
            let now = to_micros(now);
            sqlx::query("DELETE FROM reader_actions WHERE reader_id = $1 AND action = $2 AND at <= $3")
                .bind(reader_id)
                .bind(limit.action)
                .bind(now - window)
                .execute(&mut *conn)
                .await?;
            let (recent, oldest): (i64, Option<i64>) = sqlx::query_as(
                "SELECT COUNT(*), MIN(at) FROM reader_actions WHERE reader_id = $1 AND action = $2",
            )
            .bind(reader_id)
            .bind(limit.action)
            .fetch_one(&mut *conn)
            .await?;
            if recent >= i64::from(limit.max) {
                let free_at = oldest.unwrap_or(now) + window;
                let retry_after_secs = u64::try_from((free_at - now + 999_999) / 1_000_000)
                    .unwrap_or(1)
                    .max(1);
                return Err(StoreError::RateLimited { retry_after_secs });
            }
            sqlx::query("INSERT INTO reader_actions (reader_id, action, at) VALUES ($1, $2, $3)")
                .bind(reader_id)
                .bind(limit.action)
                .bind(now)
                .execute(&mut *conn)
                .await?;
            Ok(())
        }

        /// Appends the event that refreshes a story page after its comments changed.
        pub(crate) async fn comments_changed(conn: &mut $Conn, item_id: i64, now: Timestamp) -> Result<Event> {
            let keys = vec![newsdesk_core::event::keys::item(item_id)];
            sqlx::query($serialize_events).execute(&mut *conn).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO events (kind, item_id, keys, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(EventKind::CommentsChanged.as_str())
            .bind(item_id)
            .bind(keys.join(" "))
            .bind(to_micros(now))
            .fetch_one(&mut *conn)
            .await?;
            Ok(Event {
                id,
                kind: EventKind::CommentsChanged,
                item_id: Some(item_id),
                comment_id: None,
                keys,
                at: from_micros(to_micros(now))?,
            })
        }

        /// Appends the event of a comment becoming visible to readers: it refreshes the story
        /// page as `comments_changed` does (the same keys) and names the comment for webhooks.
        pub(crate) async fn comment_published(
            conn: &mut $Conn,
            item_id: i64,
            comment_id: i64,
            now: Timestamp,
        ) -> Result<Event> {
            let keys = vec![newsdesk_core::event::keys::item(item_id)];
            sqlx::query($serialize_events).execute(&mut *conn).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO events (kind, item_id, comment_id, keys, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(EventKind::CommentPublished.as_str())
            .bind(item_id)
            .bind(comment_id)
            .bind(keys.join(" "))
            .bind(to_micros(now))
            .fetch_one(&mut *conn)
            .await?;
            Ok(Event {
                id,
                kind: EventKind::CommentPublished,
                item_id: Some(item_id),
                comment_id: Some(comment_id),
                keys,
                at: from_micros(to_micros(now))?,
            })
        }

        pub(crate) fn event_from_row(row: &$Row) -> Result<Event> {
            let kind: String = row.try_get("kind")?;
            let keys: String = row.try_get("keys")?;
            Ok(Event {
                id: row.try_get("id")?,
                kind: EventKind::parse(&kind)
                    .ok_or_else(|| StoreError::Corrupt(format!("event kind {kind}")))?,
                item_id: row.try_get("item_id")?,
                comment_id: row.try_get("comment_id")?,
                keys: keys.split_whitespace().map(str::to_owned).collect(),
                at: from_micros(row.try_get("created_at")?)?,
            })
        }

        }

    #[async_trait]
    impl Store for $Store {
        async fn migrate_with(&self, newer: crate::NewerSchema) -> Result<Vec<Migration>> {
            let mut tx = self.write_transaction().await?;
            sqlx::query($lock_migrations).execute(&mut *tx).await?;
            sqlx::query(
                "CREATE TABLE IF NOT EXISTS schema_migrations (
                    version BIGINT PRIMARY KEY,
                    name TEXT NOT NULL,
                    checksum TEXT NOT NULL,
                    applied_at BIGINT NOT NULL
                )",
            )
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            let applied: Vec<(i64, String, String)> =
                sqlx::query("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
                    .fetch_all(&self.writer)
                    .await?
                    .iter()
                    .map(|r| Ok((r.try_get("version")?, r.try_get("name")?, r.try_get("checksum")?)))
                    .collect::<Result<_>>()?;
            let unknown: Vec<&str> = applied
                .iter()
                .filter(|(version, _, _)| !$migrations.iter().any(|m| m.version == *version))
                .map(|(_, name, _)| name.as_str())
                .collect();
            if !unknown.is_empty() {
                match newer {
                    crate::NewerSchema::Refuse => {
                        return Err(StoreError::UnknownMigrations { names: unknown.join(", ") })
                    }
                    crate::NewerSchema::Allow => tracing::warn!(
                        migrations = %unknown.join(", "),
                        "the database has migrations this binary does not know (a newer newsdesk's); serving anyway as asked"
                    ),
                }
            }
            let mut done = Vec::new();
            for m in $migrations {
                if let Some((_, _, checksum)) = applied.iter().find(|(v, _, _)| *v == m.version) {
                    if *checksum != m.checksum() {
                        return Err(StoreError::Migration {
                            version: m.version,
                            name: m.name.into(),
                            reason: "the migration file changed after it was applied".into(),
                        });
                    }
                    continue;
                }
                let fail = |e: sqlx::Error| StoreError::Migration {
                    version: m.version,
                    name: m.name.into(),
                    reason: e.to_string(),
                };
                let mut tx = self.write_transaction().await?;
                sqlx::query($lock_migrations).execute(&mut *tx).await?;
                // Another process may have applied it while we waited for the lock.
                let already: Option<i64> =
                    sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                        .bind(m.version)
                        .fetch_optional(&mut *tx)
                        .await?;
                if already.is_some() {
                    continue;
                }
                sqlx::raw_sql(m.sql).execute(&mut *tx).await.map_err(fail)?;
                sqlx::query(
                    "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(m.version)
                .bind(m.name)
                .bind(m.checksum())
                .bind(to_micros(Timestamp::now()))
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                done.push(m.clone());
            }
            Ok(done)
        }

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
            rows.iter().map(items::section_from_row).collect()
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
                .bind(items::names_json(&section.names)?)
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
            .bind(items::names_json(&section.names)?)
            .execute(&mut *tx)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(db) if db.is_unique_violation() => {
                    StoreError::Duplicate { field: "slug" }
                }
                e => e.into(),
            })?;
            let subject = format!("section:{}", section.slug);
            let event = items::site_changed(&mut tx, change, "added the section", &subject, &section.name).await?;
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
                .bind(items::names_json(&section.names)?)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            let subject = format!("section:{}", section.slug);
            let event = items::site_changed(&mut tx, change, "renamed the section", &subject, &section.name).await?;
            tx.commit().await?;
            Ok(event)
        }

        async fn move_section(&self, slug: &str, earlier: bool, change: crate::SiteChange<'_>) -> Result<Event> {
            let mut tx = self.write_transaction().await?;
            let slugs: Vec<String> = sqlx::query_scalar("SELECT slug FROM sections ORDER BY position, slug")
                .fetch_all(&mut *tx)
                .await?;
            let at = slugs.iter().position(|s| s == slug).ok_or(StoreError::NotFound)?;
            let mut order = slugs.clone();
            let other = if earlier { at.checked_sub(1) } else { Some(at + 1).filter(|i| *i < order.len()) };
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
            let event = items::site_changed(&mut tx, change, "reordered the sections", &format!("section:{slug}"), &detail).await?;
            tx.commit().await?;
            Ok(event)
        }

        async fn delete_section(&self, slug: &str, change: crate::SiteChange<'_>) -> Result<Event> {
            let mut tx = self.write_transaction().await?;
            let used = items::count_users(&mut tx, "SELECT COUNT(*) FROM items WHERE section = $1", slug).await?;
            if used > 0 {
                return Err(StoreError::InUse { what: format!("The section `{slug}`"), items: used });
            }
            let name: Option<String> = sqlx::query_scalar("DELETE FROM sections WHERE slug = $1 RETURNING name")
                .bind(slug)
                .fetch_optional(&mut *tx)
                .await?;
            let name = name.ok_or(StoreError::NotFound)?;
            let event = items::site_changed(&mut tx, change, "deleted the section", &format!("section:{slug}"), &name).await?;
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
                        label: Tag { slug: r.try_get("slug")?, name: r.try_get("name")? },
                        items: u64::try_from(items).unwrap_or(0),
                    })
                })
                .collect()
        }

        async fn rename_tag(&self, slug: &str, name: &str, change: crate::SiteChange<'_>) -> Result<Event> {
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
            let event = items::site_changed(&mut tx, change, "renamed the tag", &format!("tag:{slug}"), name).await?;
            tx.commit().await?;
            Ok(event)
        }

        async fn delete_tag(&self, slug: &str, change: crate::SiteChange<'_>) -> Result<Event> {
            let mut tx = self.write_transaction().await?;
            let untagged = items::count_users(
                &mut tx,
                "SELECT COUNT(*) FROM item_tags WHERE tag_id = (SELECT id FROM tags WHERE slug = $1)",
                slug,
            )
            .await?;
            sqlx::query("DELETE FROM item_tags WHERE tag_id = (SELECT id FROM tags WHERE slug = $1)")
                .bind(slug)
                .execute(&mut *tx)
                .await?;
            let name: Option<String> = sqlx::query_scalar("DELETE FROM tags WHERE slug = $1 RETURNING name")
                .bind(slug)
                .fetch_optional(&mut *tx)
                .await?;
            let name = name.ok_or(StoreError::NotFound)?;
            let detail = format!("{name} (taken off {untagged} item(s))");
            let event = items::site_changed(&mut tx, change, "deleted the tag", &format!("tag:{slug}"), &detail).await?;
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
                        label: Author { slug: r.try_get("slug")?, name: r.try_get("name")?, bio: r.try_get("bio")? },
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
            let event = items::site_changed(&mut tx, change, "added the author", &format!("author:{}", author.slug), &author.name).await?;
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
            let event = items::site_changed(&mut tx, change, "updated the author", &format!("author:{}", author.slug), &author.name).await?;
            tx.commit().await?;
            Ok(event)
        }

        async fn delete_author(&self, slug: &str, change: crate::SiteChange<'_>) -> Result<Event> {
            let mut tx = self.write_transaction().await?;
            let used = items::count_users(
                &mut tx,
                "SELECT COUNT(*) FROM item_authors WHERE author_id = (SELECT id FROM authors WHERE slug = $1)",
                slug,
            )
            .await?;
            if used > 0 {
                return Err(StoreError::InUse { what: format!("The author `{slug}`"), items: used });
            }
            let name: Option<String> = sqlx::query_scalar("DELETE FROM authors WHERE slug = $1 RETURNING name")
                .bind(slug)
                .fetch_optional(&mut *tx)
                .await?;
            let name = name.ok_or(StoreError::NotFound)?;
            let event = items::site_changed(&mut tx, change, "deleted the author", &format!("author:{slug}"), &name).await?;
            tx.commit().await?;
            Ok(event)
        }

        async fn item_by_id(&self, id: i64) -> Result<Option<Item>> {
            let mut conn = self.reader.acquire().await?;
            self::items::load_by_id(&mut conn, id).await
        }

        async fn item_by_slug(&self, language: &str, slug: &str) -> Result<Option<Item>> {
            let mut conn = self.reader.acquire().await?;
            self::items::load_by_slug(&mut conn, language, slug).await
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
            self::items::published(&mut conn, query).await
        }

        async fn count_published(&self, query: &ItemQuery) -> Result<u64> {
            let mut conn = self.reader.acquire().await?;
            self::items::count_published(&mut conn, query).await
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
            let id = self::items::insert(&mut tx, item, times, now)
                .await
                .map_err(slug_taken)?;
            self::items::forget_address(&mut tx, &item.language, &item.slug).await?;
            self::items::write_labels(&mut tx, id, item).await?;
            let stored = self::items::load_by_id(&mut tx, id)
                .await?
                .ok_or(StoreError::NotFound)?;
            self::items::write_revision(&mut tx, &stored, actor, now).await?;
            self::items::audit_save(&mut tx, actor, None, &stored, now).await?;
            let event = match EventKind::for_transition(None, stored.status) {
                Some(kind) => Some(self::items::append_event(&mut tx, kind, &stored, None, now).await?),
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
            let before = self::items::load_by_id(&mut tx, id)
                .await?
                .ok_or(StoreError::NotFound)?;
            if before.version != expected_version {
                return Err(StoreError::Conflict {
                    current: before.version,
                });
            }
            self::items::update(&mut tx, id, item, times, now)
                .await
                .map_err(slug_taken)?;
            if (before.language.as_str(), before.slug.as_str())
                != (item.language.as_str(), item.slug.as_str())
            {
                self::items::remember_address(&mut tx, &before).await?;
                self::items::forget_address(&mut tx, &item.language, &item.slug).await?;
            }
            self::items::write_labels(&mut tx, id, item).await?;
            let stored = self::items::load_by_id(&mut tx, id)
                .await?
                .ok_or(StoreError::NotFound)?;
            self::items::write_revision(&mut tx, &stored, actor, now).await?;
            self::items::audit_save(&mut tx, actor, Some(before.status), &stored, now).await?;
            let event = match EventKind::for_transition(Some(before.status), stored.status) {
                Some(kind) => {
                    Some(self::items::append_event(&mut tx, kind, &stored, Some(&before), now).await?)
                }
                None => None,
            };
            tx.commit().await?;
            Ok(Saved {
                item: stored,
                event,
            })
        }

        async fn publish_due(
            &self,
            now: Timestamp,
            actor: &str,
            limit: u32,
        ) -> Result<Vec<Saved>> {
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
                let stored = self::items::load_by_id(&mut tx, id)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                self::items::write_revision(&mut tx, &stored, actor, now).await?;
                self::items::audit_save(&mut tx, actor, Some(ItemStatus::Scheduled), &stored, now)
                    .await?;
                let event = self::items::append_event(
                    &mut tx,
                    EventKind::ItemPublished,
                    &stored,
                    None,
                    now,
                )
                .await?;
                tx.commit().await?;
                published.push(Saved {
                    item: stored,
                    event: Some(event),
                });
            }
            Ok(published)
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
            let before = self::items::load_by_id(&mut tx, item_id)
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
            let stored = self::items::load_by_id(&mut tx, item_id)
                .await?
                .ok_or(StoreError::NotFound)?;
            self::items::write_revision(&mut tx, &stored, actor, now).await?;
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
                Some(event_kind) => Some(
                    self::items::append_event(&mut tx, event_kind, &stored, Some(&before), now).await?,
                ),
                None => None,
            };
            tx.commit().await?;
            Ok(Saved {
                item: stored,
                event,
            })
        }

        async fn delete_item(&self, id: i64, expected_version: i64, actor: &str, now: Timestamp) -> Result<()> {
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
            sqlx::query("DELETE FROM items WHERE id = $1").bind(id).execute(&mut *tx).await?;
            let detail = headline.unwrap_or(slug);
            self::items::audit_row(&mut tx, actor, "deleted the item", &format!("item:{id}"), &detail, now).await?;
            tx.commit().await?;
            Ok(())
        }

        async fn item_creator(&self, item_id: i64) -> Result<Option<String>> {
            Ok(sqlx::query_scalar(
                "SELECT actor FROM revisions WHERE item_id = $1 ORDER BY version LIMIT 1",
            )
            .bind(item_id)
            .fetch_optional(&self.reader)
            .await?)
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
                crate::sql::ITEM_COLUMNS
            ))))
            .bind(i64::from(query.limit))
            .bind(i64::from(query.offset))
            .fetch_all(&mut *conn)
            .await?;
            let mut items = Vec::with_capacity(rows.len());
            for row in &rows {
                let id: i64 = row.try_get("id")?;
                if let Some(item) = self::items::load_by_id(&mut conn, id).await? {
                    items.push(item);
                }
            }
            Ok((items, u64::try_from(total).unwrap_or(0)))
        }

        async fn create_account(
            &self,
            email: &str,
            name: &str,
            role: Role,
            password_hash: &str,
            now: Timestamp,
        ) -> Result<Account> {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO accounts (email, name, role, password_hash, disabled, created_at)
                 VALUES ($1, $2, $3, $4, FALSE, $5) RETURNING id",
            )
            .bind(email)
            .bind(name)
            .bind(role.as_str())
            .bind(password_hash)
            .bind(to_micros(now))
            .fetch_one(&self.writer)
            .await
            .map_err(|e| match StoreError::from(e) {
                StoreError::Database(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                    StoreError::Duplicate { field: "email" }
                }
                other => other,
            })?;
            self.account(id).await?.ok_or(StoreError::NotFound)
        }

        async fn account(&self, id: i64) -> Result<Option<Account>> {
            let row = sqlx::query(
                "SELECT id, email, name, role, disabled, created_at FROM accounts WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(&self.reader)
            .await?;
            row.as_ref().map(crate::sql::account_from_row).transpose()
        }

        async fn account_for_sign_in(&self, email: &str) -> Result<Option<(Account, String)>> {
            let row = sqlx::query(
                "SELECT id, email, name, role, disabled, created_at, password_hash
                 FROM accounts WHERE email = $1",
            )
            .bind(email)
            .fetch_optional(&self.reader)
            .await?;
            match row {
                Some(row) => Ok(Some((
                    crate::sql::account_from_row(&row)?,
                    row.try_get("password_hash")?,
                ))),
                None => Ok(None),
            }
        }

        async fn accounts(&self) -> Result<Vec<Account>> {
            let rows = sqlx::query(
                "SELECT id, email, name, role, disabled, created_at FROM accounts ORDER BY name, id",
            )
            .fetch_all(&self.reader)
            .await?;
            rows.iter().map(crate::sql::account_from_row).collect()
        }

        async fn count_admins(&self) -> Result<u64> {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM accounts WHERE role = 'admin' AND NOT disabled",
            )
            .fetch_one(&self.reader)
            .await?;
            Ok(u64::try_from(n).unwrap_or(0))
        }

        async fn set_account_disabled(&self, id: i64, disabled: bool) -> Result<()> {
            let mut tx = self.write_transaction().await?;
            let changed = sqlx::query("UPDATE accounts SET disabled = $2 WHERE id = $1")
                .bind(id)
                .bind(disabled)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            if disabled {
                sqlx::query("DELETE FROM sessions WHERE account_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        }

        async fn set_account_role(&self, id: i64, role: Role, actor: &str, now: Timestamp) -> Result<Account> {
            let mut tx = self.write_transaction().await?;
            // Two admins demoting each other at once must not both succeed: serialize with
            // every other writer that takes this lock.
            sqlx::query($serialize_events).execute(&mut *tx).await?;
            let before: Option<(String, String, bool)> = sqlx::query_as("SELECT email, role, disabled FROM accounts WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            let (email, before_role, disabled) = before.ok_or(StoreError::NotFound)?;
            if before_role == "admin" && role != Role::Admin && !disabled {
                let admins: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE role = 'admin' AND NOT disabled")
                    .fetch_one(&mut *tx)
                    .await?;
                if admins <= 1 {
                    return Err(StoreError::LastAdmin);
                }
            }
            sqlx::query("UPDATE accounts SET role = $2 WHERE id = $1")
                .bind(id)
                .bind(role.as_str())
                .execute(&mut *tx)
                .await?;
            let detail = format!("{before_role} → {}", role.as_str());
            items::audit_row(&mut tx, actor, "changed the role", &format!("account:{email}"), &detail, now).await?;
            tx.commit().await?;
            self.account(id).await?.ok_or(StoreError::NotFound)
        }

        async fn set_password_hash(
            &self,
            id: i64,
            hash: &str,
            keep_session: Option<&str>,
            now: Timestamp,
        ) -> Result<()> {
            let mut tx = self.write_transaction().await?;
            sqlx::query("UPDATE accounts SET password_hash = $2 WHERE id = $1")
                .bind(id)
                .bind(hash)
                .execute(&mut *tx)
                .await?;
            // A staff token acts as the person; whoever learnt the old password may have made one.
            sqlx::query(
                "UPDATE api_tokens SET revoked_at = $2
                 WHERE account_id = $1 AND kind = 'staff' AND revoked_at IS NULL",
            )
            .bind(id)
            .bind(to_micros(now))
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "DELETE FROM sessions WHERE account_id = $1 AND ($2 IS NULL OR token_hash <> $2)",
            )
            .bind(id)
            .bind(keep_session)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        }

        async fn create_session(
            &self,
            token_hash: &str,
            account_id: i64,
            csrf_token: &str,
            now: Timestamp,
            expires_at: Timestamp,
        ) -> Result<()> {
            sqlx::query(
                "INSERT INTO sessions (token_hash, account_id, csrf_token, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(token_hash)
            .bind(account_id)
            .bind(csrf_token)
            .bind(to_micros(now))
            .bind(to_micros(expires_at))
            .execute(&self.writer)
            .await?;
            Ok(())
        }

        async fn session(&self, token_hash: &str, now: Timestamp) -> Result<Option<Session>> {
            let row = sqlx::query(
                "SELECT a.id, a.email, a.name, a.role, a.disabled, a.created_at,
                        s.csrf_token, s.expires_at
                 FROM sessions s JOIN accounts a ON a.id = s.account_id
                 WHERE s.token_hash = $1 AND s.expires_at > $2 AND NOT a.disabled",
            )
            .bind(token_hash)
            .bind(to_micros(now))
            .fetch_optional(&self.reader)
            .await?;
            match row {
                Some(row) => Ok(Some(Session {
                    account: crate::sql::account_from_row(&row)?,
                    csrf_token: row.try_get("csrf_token")?,
                    expires_at: from_micros(row.try_get("expires_at")?)?,
                })),
                None => Ok(None),
            }
        }

        async fn delete_session(&self, token_hash: &str) -> Result<()> {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(token_hash)
                .execute(&self.writer)
                .await?;
            Ok(())
        }

        async fn record_sign_in_failure(&self, subject: &str, now: Timestamp) -> Result<()> {
            sqlx::query("INSERT INTO sign_in_failures (subject, at) VALUES ($1, $2)")
                .bind(subject)
                .bind(to_micros(now))
                .execute(&self.writer)
                .await?;
            Ok(())
        }

        async fn reserve_sign_in_attempt(
            &self,
            limits: &[(&str, u64)],
            since: Timestamp,
            now: Timestamp,
        ) -> Result<Option<Vec<i64>>> {
            // Locks taken in one order, so two attempts never wait on each other.
            let mut ordered: Vec<(&str, u64)> = limits.to_vec();
            ordered.sort_unstable();
            ordered.dedup_by_key(|(subject, _)| *subject);
            let mut tx = self.write_transaction().await?;
            for (subject, _) in &ordered {
                sqlx::query($lock_subject).bind(*subject).execute(&mut *tx).await?;
            }
            for (subject, max) in &ordered {
                let n: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM sign_in_failures WHERE subject = $1 AND at >= $2",
                )
                .bind(*subject)
                .bind(to_micros(since))
                .fetch_one(&mut *tx)
                .await?;
                if u64::try_from(n).unwrap_or(0) >= *max {
                    return Ok(None);
                }
            }
            let mut ids = Vec::with_capacity(ordered.len());
            for (subject, _) in &ordered {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO sign_in_failures (subject, at) VALUES ($1, $2) RETURNING id",
                )
                .bind(*subject)
                .bind(to_micros(now))
                .fetch_one(&mut *tx)
                .await?;
                ids.push(id);
            }
            tx.commit().await?;
            Ok(Some(ids))
        }

        async fn release_sign_in_attempt(&self, ids: &[i64]) -> Result<()> {
            let mut tx = self.write_transaction().await?;
            for id in ids {
                sqlx::query("DELETE FROM sign_in_failures WHERE id = $1")
                    .bind(*id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        }

        async fn count_sign_in_failures(&self, subject: &str, since: Timestamp) -> Result<u64> {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM sign_in_failures WHERE subject = $1 AND at >= $2",
            )
            .bind(subject)
            .bind(to_micros(since))
            .fetch_one(&self.reader)
            .await?;
            Ok(u64::try_from(n).unwrap_or(0))
        }

        async fn clear_sign_in_failures(&self, subject: &str) -> Result<()> {
            sqlx::query("DELETE FROM sign_in_failures WHERE subject = $1")
                .bind(subject)
                .execute(&self.writer)
                .await?;
            Ok(())
        }

        async fn prune_sign_in_failures(&self, before: Timestamp) -> Result<()> {
            sqlx::query("DELETE FROM sign_in_failures WHERE at < $1")
                .bind(to_micros(before))
                .execute(&self.writer)
                .await?;
            Ok(())
        }

        async fn create_setup_token(&self, token_hash: &str, expires_at: Timestamp) -> Result<()> {
            sqlx::query("INSERT INTO setup_tokens (token_hash, expires_at) VALUES ($1, $2)")
                .bind(token_hash)
                .bind(to_micros(expires_at))
                .execute(&self.writer)
                .await?;
            Ok(())
        }

        async fn take_setup_token(&self, token_hash: &str, now: Timestamp) -> Result<bool> {
            let taken = sqlx::query(
                "DELETE FROM setup_tokens WHERE token_hash = $1 AND expires_at > $2",
            )
            .bind(token_hash)
            .bind(to_micros(now))
            .execute(&self.writer)
            .await?
            .rows_affected();
            Ok(taken == 1)
        }

        async fn record_audit(
            &self,
            actor: &str,
            action: &str,
            subject: &str,
            detail: &str,
            now: Timestamp,
        ) -> Result<()> {
            sqlx::query(
                "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(to_micros(now))
            .bind(actor)
            .bind(action)
            .bind(subject)
            .bind(detail)
            .execute(&self.writer)
            .await?;
            Ok(())
        }

        async fn audit_log(&self, limit: u32, offset: u32) -> Result<(Vec<AuditEntry>, u64)> {
            let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
                .fetch_one(&self.reader)
                .await?;
            let rows = sqlx::query(
                "SELECT id, at, actor, action, subject, detail FROM audit_log
                 ORDER BY id DESC LIMIT $1 OFFSET $2",
            )
            .bind(i64::from(limit))
            .bind(i64::from(offset))
            .fetch_all(&self.reader)
            .await?;
            let entries = rows
                .iter()
                .map(|r| {
                    Ok(AuditEntry {
                        id: r.try_get("id")?,
                        at: from_micros(r.try_get("at")?)?,
                        actor: r.try_get("actor")?,
                        action: r.try_get("action")?,
                        subject: r.try_get("subject")?,
                        detail: r.try_get("detail")?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok((entries, u64::try_from(total).unwrap_or(0)))
        }

        async fn events_after(&self, after: i64, limit: u32) -> Result<Vec<Event>> {
            let rows = sqlx::query(
                "SELECT id, kind, item_id, comment_id, keys, created_at FROM events WHERE id > $1 ORDER BY id LIMIT $2",
            )
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await?;
            rows.iter().map(self::items::event_from_row).collect()
        }

        fn announce_events(&self, wake: std::sync::Arc<tokio::sync::Notify>) {
            self.announce(wake);
        }

        async fn last_event_id(&self) -> Result<i64> {
            let id: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM events")
                .fetch_one(&self.reader)
                .await?;
            Ok(id.unwrap_or(0))
        }

        // ---- Autosave slots (0007_autosaves). A new item's slot is stored under item id 0,
        // which no item has, so (account, item) stays a plain primary key on both backends.

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

        async fn autosave(&self, account_id: i64, item_id: Option<i64>) -> Result<Option<crate::Autosave>> {
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

        // ---- Housekeeping (0014_jobs): pruning what has expired, once across instances.

        async fn claim_job(&self, name: &str, now: Timestamp, next_run: Timestamp) -> Result<bool> {
            // The row moves on for exactly one claimer: every other sees `next_run` in the
            // future already (on PostgreSQL the second UPDATE waits for the first's commit
            // and then re-checks the condition).
            Ok(sqlx::query("UPDATE jobs SET next_run = $1, last_run_at = $2 WHERE name = $3 AND next_run <= $2")
                .bind(to_micros(next_run))
                .bind(to_micros(now))
                .bind(name)
                .execute(&self.writer)
                .await?
                .rows_affected()
                == 1)
        }

        async fn prune_expired_sessions(&self, now: Timestamp) -> Result<u64> {
            Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                .bind(to_micros(now))
                .execute(&self.writer)
                .await?
                .rows_affected())
        }

        async fn prune_expired_reader_sessions(&self, now: Timestamp) -> Result<u64> {
            Ok(sqlx::query("DELETE FROM reader_sessions WHERE expires_at <= $1")
                .bind(to_micros(now))
                .execute(&self.writer)
                .await?
                .rows_affected())
        }

        async fn prune_expired_one_time_tokens(&self, now: Timestamp) -> Result<u64> {
            let mut tx = self.write_transaction().await?;
            let readers = sqlx::query("DELETE FROM reader_tokens WHERE expires_at <= $1")
                .bind(to_micros(now))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let setup = sqlx::query("DELETE FROM setup_tokens WHERE expires_at <= $1")
                .bind(to_micros(now))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Ok(readers + setup)
        }

        async fn prune_revoked_api_tokens(&self, revoked_before: Timestamp) -> Result<u64> {
            Ok(sqlx::query("DELETE FROM api_tokens WHERE revoked_at IS NOT NULL AND revoked_at < $1")
                .bind(to_micros(revoked_before))
                .execute(&self.writer)
                .await?
                .rows_affected())
        }

        async fn prune_delivered_webhooks(&self, created_before: Timestamp) -> Result<u64> {
            // A replay waiting to be sent would go with its original (ON DELETE CASCADE):
            // such an original stays until its replay is settled.
            Ok(sqlx::query(
                "DELETE FROM webhook_deliveries WHERE state = 'delivered' AND created_at < $1
                 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries AS r
                                 WHERE r.replay_of = webhook_deliveries.id AND r.state = 'pending')",
            )
            .bind(to_micros(created_before))
            .execute(&self.writer)
            .await?
            .rows_affected())
        }

        // ---- The media library (0008_media_library).

        async fn add_to_library(&self, image: &crate::LibraryImage) -> Result<()> {
            sqlx::query(
                "INSERT INTO media_library (path, width, height, alt, caption, credit, uploaded_by, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (path) DO NOTHING",
            )
            .bind(&image.path)
            .bind(i64::from(image.width))
            .bind(i64::from(image.height))
            .bind(&image.alt)
            .bind(&image.caption)
            .bind(&image.credit)
            .bind(&image.uploaded_by)
            .bind(to_micros(image.created_at))
            .execute(&self.writer)
            .await?;
            Ok(())
        }

        async fn library_image(&self, path: &str) -> Result<Option<crate::LibraryImage>> {
            let row = sqlx::query(
                "SELECT path, width, height, alt, caption, credit, uploaded_by, created_at
                 FROM media_library WHERE path = $1",
            )
            .bind(path)
            .fetch_optional(&self.reader)
            .await?;
            row.as_ref().map(library_image_from_row).transpose()
        }

        async fn library(
            &self,
            words: Option<&str>,
            limit: u32,
            offset: u32,
        ) -> Result<(Vec<crate::LibraryImage>, u64)> {
            let pattern = words.map(crate::sql::contains_pattern);
            let filter = "($1 IS NULL OR LOWER(alt) LIKE $1 ESCAPE '\\' OR LOWER(caption) LIKE $1 ESCAPE '\\'
                           OR LOWER(credit) LIKE $1 ESCAPE '\\')";
            let mut conn = self.reader.acquire().await?;
            let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM media_library WHERE {filter}"
            )))
            .bind(pattern.as_deref())
            .fetch_one(&mut *conn)
            .await?;
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT path, width, height, alt, caption, credit, uploaded_by, created_at
                 FROM media_library WHERE {filter} ORDER BY id DESC LIMIT $2 OFFSET $3"
            )))
            .bind(pattern.as_deref())
            .bind(i64::from(limit))
            .bind(i64::from(offset))
            .fetch_all(&mut *conn)
            .await?;
            let images = rows.iter().map(library_image_from_row).collect::<Result<Vec<_>>>()?;
            Ok((images, u64::try_from(total).unwrap_or(0)))
        }

        // ---- Readers and comments (0009_comments).

        async fn create_reader(
            &self,
            email: &str,
            display_name: &str,
            password_hash: &str,
            now: Timestamp,
        ) -> Result<newsdesk_core::reader::Reader> {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO readers (email, display_name, password_hash, verified, status, created_at)
                 VALUES ($1, $2, $3, FALSE, 'active', $4) RETURNING id",
            )
            .bind(email)
            .bind(display_name)
            .bind(password_hash)
            .bind(to_micros(now))
            .fetch_one(&self.writer)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Duplicate { field: "email" },
                e => e.into(),
            })?;
            Store::reader(self, id).await?.ok_or(StoreError::NotFound)
        }

        async fn reader(&self, id: i64) -> Result<Option<newsdesk_core::reader::Reader>> {
            let row = sqlx::query(
                "SELECT id, email, display_name, verified, status, created_at FROM readers WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(&self.reader)
            .await?;
            row.as_ref().map(reader_from_row).transpose()
        }

        async fn reader_for_sign_in(&self, email: &str) -> Result<Option<(newsdesk_core::reader::Reader, String)>> {
            let row = sqlx::query(
                "SELECT id, email, display_name, verified, status, created_at, password_hash FROM readers WHERE email = $1",
            )
            .bind(email)
            .fetch_optional(&self.reader)
            .await?;
            match row {
                Some(row) => Ok(Some((reader_from_row(&row)?, row.try_get("password_hash")?))),
                None => Ok(None),
            }
        }

        async fn set_reader_verified(&self, id: i64) -> Result<()> {
            sqlx::query("UPDATE readers SET verified = TRUE WHERE id = $1")
                .bind(id)
                .execute(&self.writer)
                .await?;
            Ok(())
        }

        async fn set_reader_password(&self, id: i64, hash: &str) -> Result<()> {
            let mut tx = self.write_transaction().await?;
            sqlx::query("UPDATE readers SET password_hash = $2 WHERE id = $1")
                .bind(id)
                .bind(hash)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM reader_sessions WHERE reader_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        }

        async fn set_reader_display_name(&self, id: i64, name: &str) -> Result<()> {
            sqlx::query("UPDATE readers SET display_name = $2 WHERE id = $1")
                .bind(id)
                .bind(name)
                .execute(&self.writer)
                .await?;
            Ok(())
        }

        async fn create_reader_session(
            &self,
            token_hash: &str,
            reader_id: i64,
            csrf_token: &str,
            now: Timestamp,
            expires_at: Timestamp,
        ) -> Result<()> {
            sqlx::query(
                "INSERT INTO reader_sessions (token_hash, reader_id, csrf_token, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(token_hash)
            .bind(reader_id)
            .bind(csrf_token)
            .bind(to_micros(now))
            .bind(to_micros(expires_at))
            .execute(&self.writer)
            .await?;
            Ok(())
        }

        async fn reader_session(&self, token_hash: &str, now: Timestamp) -> Result<Option<crate::ReaderSession>> {
            let row = sqlx::query(
                "SELECT r.id, r.email, r.display_name, r.verified, r.status, r.created_at, s.csrf_token
                 FROM reader_sessions s JOIN readers r ON r.id = s.reader_id
                 WHERE s.token_hash = $1 AND s.expires_at > $2",
            )
            .bind(token_hash)
            .bind(to_micros(now))
            .fetch_optional(&self.reader)
            .await?;
            match row {
                Some(row) => Ok(Some(crate::ReaderSession {
                    reader: reader_from_row(&row)?,
                    csrf_token: row.try_get("csrf_token")?,
                })),
                None => Ok(None),
            }
        }

        async fn delete_reader_session(&self, token_hash: &str) -> Result<()> {
            sqlx::query("DELETE FROM reader_sessions WHERE token_hash = $1")
                .bind(token_hash)
                .execute(&self.writer)
                .await?;
            Ok(())
        }

        async fn create_reader_token(
            &self,
            token_hash: &str,
            reader_id: i64,
            purpose: &str,
            expires_at: Timestamp,
        ) -> Result<()> {
            sqlx::query(
                "INSERT INTO reader_tokens (token_hash, reader_id, purpose, expires_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(token_hash)
            .bind(reader_id)
            .bind(purpose)
            .bind(to_micros(expires_at))
            .execute(&self.writer)
            .await?;
            Ok(())
        }

        async fn take_reader_token(&self, token_hash: &str, purpose: &str, now: Timestamp) -> Result<Option<i64>> {
            let reader: Option<i64> = sqlx::query_scalar(
                "DELETE FROM reader_tokens WHERE token_hash = $1 AND purpose = $2 AND expires_at > $3
                 RETURNING reader_id",
            )
            .bind(token_hash)
            .bind(purpose)
            .bind(to_micros(now))
            .fetch_optional(&self.writer)
            .await?;
            Ok(reader)
        }

        async fn insert_comment(
            &self,
            new: &crate::NewComment<'_>,
        ) -> Result<(newsdesk_core::comment::Comment, Option<Event>)> {
            use newsdesk_core::comment::CommentStatus;
            let mut tx = self.write_transaction().await?;
            if let Some(key) = new.client_key {
                let existing: Option<i64> = sqlx::query_scalar(
                    "SELECT id FROM comments WHERE reader_id = $1 AND client_key = $2",
                )
                .bind(new.reader_id)
                .bind(key)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(id) = existing {
                    drop(tx);
                    let comment = self.comment(id).await?.ok_or(StoreError::NotFound)?;
                    return Ok((comment, None));
                }
            }
            let root_id = match new.parent_id {
                None => None,
                Some(parent) => {
                    let root: Option<i64> = sqlx::query_scalar(
                        "SELECT root_id FROM comments WHERE id = $1 AND item_id = $2 AND status = 'published'",
                    )
                    .bind(parent)
                    .bind(new.item_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                    Some(root.ok_or(StoreError::NotFound)?)
                }
            };
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO comments (item_id, parent_id, root_id, reader_id, body, status, hold_reasons,
                                       address_hash, client_key, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            )
            .bind(new.item_id)
            .bind(new.parent_id)
            .bind(root_id)
            .bind(new.reader_id)
            .bind(new.body)
            .bind(new.status.as_str())
            .bind(new.hold_reasons)
            .bind(new.address_hash)
            .bind(new.client_key)
            .bind(to_micros(new.now))
            .fetch_one(&mut *tx)
            .await?;
            if root_id.is_none() {
                sqlx::query("UPDATE comments SET root_id = id WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            let event = if new.status == CommentStatus::Published {
                Some(self::items::comment_published(&mut tx, new.item_id, id, new.now).await?)
            } else {
                None
            };
            tx.commit().await?;
            let comment = self.comment(id).await?.ok_or(StoreError::NotFound)?;
            Ok((comment, event))
        }

        async fn comment(&self, id: i64) -> Result<Option<newsdesk_core::comment::Comment>> {
            let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                "{} WHERE c.id = $1",
                crate::sql::COMMENT_SELECT
            )))
            .bind(id)
            .fetch_optional(&self.reader)
            .await?;
            row.as_ref().map(comment_from_row).transpose()
        }

        async fn comment_by_client_key(
            &self,
            reader_id: i64,
            client_key: &str,
        ) -> Result<Option<newsdesk_core::comment::Comment>> {
            let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                "{} WHERE c.reader_id = $1 AND c.client_key = $2",
                crate::sql::COMMENT_SELECT
            )))
            .bind(reader_id)
            .bind(client_key)
            .fetch_optional(&self.reader)
            .await?;
            row.as_ref().map(comment_from_row).transpose()
        }

        async fn comment_page(
            &self,
            item_id: i64,
            sort: newsdesk_core::comment::CommentSort,
            viewer: Option<i64>,
            limit: u32,
            offset: u32,
        ) -> Result<(Vec<newsdesk_core::comment::Comment>, u64, u64)> {
            use newsdesk_core::comment::CommentSort;
            // Fixed strings chosen by the sort; nothing a reader sends is spliced into SQL.
            let order = match sort {
                CommentSort::Newest => "c.featured DESC, c.id DESC",
                CommentSort::Oldest => "c.featured DESC, c.id ASC",
                CommentSort::MostLiked => "c.featured DESC, c.likes DESC, c.id DESC",
            };
            let mut conn = self.reader.acquire().await?;
            let (total, top_level): (i64, i64) = sqlx::query_as(
                "SELECT COUNT(*), COALESCE(SUM(CASE WHEN parent_id IS NULL THEN 1 ELSE 0 END), 0)
                 FROM comments WHERE item_id = $1 AND status = 'published'",
            )
            .bind(item_id)
            .fetch_one(&mut *conn)
            .await?;
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "{} WHERE c.item_id = $1 AND c.parent_id IS NULL AND ({})
                 ORDER BY {order} LIMIT $3 OFFSET $4",
                crate::sql::COMMENT_SELECT,
                crate::sql::COMMENT_VISIBLE,
            )))
            .bind(item_id)
            .bind(viewer)
            .bind(i64::from(limit))
            .bind(i64::from(offset))
            .fetch_all(&mut *conn)
            .await?;
            let comments = rows.iter().map(comment_from_row).collect::<Result<Vec<_>>>()?;
            let count = |n: i64| u64::try_from(n).unwrap_or(0);
            Ok((comments, count(total), count(top_level)))
        }

        async fn replies(&self, root_ids: &[i64], viewer: Option<i64>) -> Result<Vec<newsdesk_core::comment::Comment>> {
            if root_ids.is_empty() {
                return Ok(Vec::new());
            }
            let ids = serde_json::to_string(root_ids).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "{} WHERE c.root_id IN ({}) AND c.parent_id IS NOT NULL AND ({}) ORDER BY c.id",
                crate::sql::COMMENT_SELECT,
                $ids,
                crate::sql::COMMENT_VISIBLE,
            )))
            .bind(ids)
            .bind(viewer)
            .fetch_all(&self.reader)
            .await?;
            rows.iter().map(comment_from_row).collect()
        }

        async fn comment_counts(&self, item_ids: &[i64]) -> Result<std::collections::HashMap<i64, u64>> {
            if item_ids.is_empty() {
                return Ok(std::collections::HashMap::new());
            }
            let ids = serde_json::to_string(item_ids).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let rows: Vec<(i64, i64)> = sqlx::query_as(concat!(
                "SELECT item_id, COUNT(*) FROM comments WHERE status = 'published' AND item_id IN (",
                $ids,
                ") GROUP BY item_id"
            ))
            .bind(ids)
            .fetch_all(&self.reader)
            .await?;
            Ok(rows
                .into_iter()
                .map(|(id, n)| (id, u64::try_from(n).unwrap_or(0)))
                .collect())
        }

        async fn reader_activity(
            &self,
            reader_id: i64,
            address_hash: &str,
            now: Timestamp,
            window: u32,
        ) -> Result<crate::ReaderActivity> {
            let day_ago = to_micros(now - jiff::SignedDuration::from_hours(24));
            let minute_ago = to_micros(now - jiff::SignedDuration::from_secs(60));
            let mut conn = self.reader.acquire().await?;
            let recent_bodies: Vec<String> = sqlx::query_scalar(
                "SELECT body FROM comments WHERE reader_id = $1 AND created_at >= $2 ORDER BY id DESC LIMIT 50",
            )
            .bind(reader_id)
            .bind(day_ago)
            .fetch_all(&mut *conn)
            .await?;
            let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
            let by_reader: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM comments WHERE reader_id = $1 AND created_at >= $2",
            )
            .bind(reader_id)
            .bind(minute_ago)
            .fetch_one(&mut *conn)
            .await?;
            let by_address: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM comments WHERE address_hash = $1 AND created_at >= $2",
            )
            .bind(address_hash)
            .bind(minute_ago)
            .fetch_one(&mut *conn)
            .await?;
            let approved: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM comments WHERE reader_id = $1 AND status = 'published'",
            )
            .bind(reader_id)
            .fetch_one(&mut *conn)
            .await?;
            let decided: Vec<String> = sqlx::query_scalar(
                "SELECT status FROM comments WHERE reader_id = $1 AND status IN ('published', 'rejected')
                 ORDER BY id DESC LIMIT $2",
            )
            .bind(reader_id)
            .bind(i64::from(window))
            .fetch_all(&mut *conn)
            .await?;
            Ok(crate::ReaderActivity {
                recent_bodies,
                in_last_minute_by_reader: count(by_reader),
                in_last_minute_by_address: count(by_address),
                approved: count(approved),
                recent_decided: u32::try_from(decided.len()).unwrap_or(u32::MAX),
                recent_rejected: u32::try_from(decided.iter().filter(|s| *s == "rejected").count())
                    .unwrap_or(u32::MAX),
            })
        }

        async fn toggle_like(
            &self,
            comment_id: i64,
            reader_id: i64,
            limit: crate::ActionLimit,
            now: Timestamp,
        ) -> Result<bool> {
            let mut tx = self.write_transaction().await?;
            let found: Option<i64> = sqlx::query_scalar(
                "SELECT c.id FROM comments c JOIN items i ON i.id = c.item_id
                 WHERE c.id = $1 AND c.status = 'published' AND i.status = 'published'",
            )
            .bind(comment_id)
            .fetch_optional(&mut *tx)
            .await?;
            found.ok_or(StoreError::NotFound)?;
            self::items::count_reader_action(&mut tx, reader_id, limit, now).await?;
            let removed = sqlx::query("DELETE FROM comment_likes WHERE comment_id = $1 AND reader_id = $2")
                .bind(comment_id)
                .bind(reader_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if removed == 0 {
                sqlx::query("INSERT INTO comment_likes (comment_id, reader_id) VALUES ($1, $2)")
                    .bind(comment_id)
                    .bind(reader_id)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(
                "UPDATE comments SET likes = (SELECT COUNT(*) FROM comment_likes WHERE comment_id = $1) WHERE id = $1",
            )
            .bind(comment_id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(removed == 0)
        }

        async fn report_comment(
            &self,
            comment_id: i64,
            reader_id: i64,
            reason: &str,
            hold_at: u32,
            limit: crate::ActionLimit,
            now: Timestamp,
        ) -> Result<(u32, Option<Event>)> {
            let mut tx = self.write_transaction().await?;
            let found: Option<(i64, String)> = sqlx::query_as(
                "SELECT c.item_id, c.status FROM comments c JOIN items i ON i.id = c.item_id
                 WHERE c.id = $1 AND c.status <> 'deleted' AND i.status = 'published'",
            )
            .bind(comment_id)
            .fetch_optional(&mut *tx)
            .await?;
            let (item_id, status) = found.ok_or(StoreError::NotFound)?;
            self::items::count_reader_action(&mut tx, reader_id, limit, now).await?;
            sqlx::query(
                "INSERT INTO comment_reports (comment_id, reader_id, reason, created_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (comment_id, reader_id) DO UPDATE SET reason = excluded.reason",
            )
            .bind(comment_id)
            .bind(reader_id)
            .bind(reason)
            .bind(to_micros(now))
            .execute(&mut *tx)
            .await?;
            // A reader who reported before an approval was answered by it: reporting again
            // changes the reason, not the count.
            let reports: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM comment_reports WHERE comment_id = $1 AND NOT answered",
            )
                .bind(comment_id)
                .fetch_one(&mut *tx)
                .await?;
            let reports = u32::try_from(reports).unwrap_or(u32::MAX);
            let hold = status == "published" && reports >= hold_at;
            if hold {
                // Held now because of the reports, whatever held it before it was approved.
                let reasons = newsdesk_core::moderation::HoldReason::encode_all(&[
                    newsdesk_core::moderation::HoldReason::Reports(reports),
                ]);
                sqlx::query(
                    "UPDATE comments SET reports = $2, status = 'held', hold_reasons = $3 WHERE id = $1",
                )
                .bind(comment_id)
                .bind(i64::from(reports))
                .bind(reasons)
                .execute(&mut *tx)
                .await?;
            } else {
                sqlx::query("UPDATE comments SET reports = $2 WHERE id = $1")
                    .bind(comment_id)
                    .bind(i64::from(reports))
                    .execute(&mut *tx)
                    .await?;
            }
            let event = if hold {
                Some(self::items::comments_changed(&mut tx, item_id, now).await?)
            } else {
                None
            };
            tx.commit().await?;
            Ok((reports, event))
        }

        async fn edit_comment(
            &self,
            comment_id: i64,
            reader_id: i64,
            body: &str,
            status: newsdesk_core::comment::CommentStatus,
            hold_reasons: &str,
            now: Timestamp,
        ) -> Result<Option<Event>> {
            let mut tx = self.write_transaction().await?;
            let before: Option<String> = sqlx::query_scalar(
                "SELECT status FROM comments WHERE id = $1 AND reader_id = $2",
            )
            .bind(comment_id)
            .bind(reader_id)
            .fetch_optional(&mut *tx)
            .await?;
            let item_id: Option<i64> = sqlx::query_scalar(
                "UPDATE comments SET body = $3, status = $4, hold_reasons = $5, edited_at = $6
                 WHERE id = $1 AND reader_id = $2 AND status IN ('published', 'held') RETURNING item_id",
            )
            .bind(comment_id)
            .bind(reader_id)
            .bind(body)
            .bind(status.as_str())
            .bind(hold_reasons)
            .bind(to_micros(now))
            .fetch_optional(&mut *tx)
            .await?;
            let item_id = item_id.ok_or(StoreError::NotFound)?;
            let now_visible = status == newsdesk_core::comment::CommentStatus::Published
                && before.as_deref() != Some("published");
            let event = if now_visible {
                self::items::comment_published(&mut tx, item_id, comment_id, now).await?
            } else {
                self::items::comments_changed(&mut tx, item_id, now).await?
            };
            tx.commit().await?;
            Ok(Some(event))
        }

        async fn delete_own_comment(&self, comment_id: i64, reader_id: i64) -> Result<Option<Event>> {
            let mut tx = self.write_transaction().await?;
            let item_id: Option<i64> = sqlx::query_scalar(
                "UPDATE comments SET body = '', status = 'deleted'
                 WHERE id = $1 AND reader_id = $2 AND status <> 'deleted' RETURNING item_id",
            )
            .bind(comment_id)
            .bind(reader_id)
            .fetch_optional(&mut *tx)
            .await?;
            let item_id = item_id.ok_or(StoreError::NotFound)?;
            let event = self::items::comments_changed(&mut tx, item_id, Timestamp::now()).await?;
            tx.commit().await?;
            Ok(Some(event))
        }

        // ---- Moderation.

        async fn moderation_queue(
            &self,
            queue: crate::Queue,
            limit: u32,
            offset: u32,
        ) -> Result<(Vec<crate::QueuedComment>, u64)> {
            // Fixed strings chosen by the queue; nothing sent is spliced into SQL.
            let filter = match queue {
                crate::Queue::Held => "c.status = 'held'",
                crate::Queue::Reported => "c.status = 'published' AND c.reports > 0",
                crate::Queue::Rejected => "c.status = 'rejected'",
            };
            let mut conn = self.reader.acquire().await?;
            let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM comments c WHERE {filter}"
            )))
            .fetch_one(&mut *conn)
            .await?;
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT q.*, COALESCE(i.headline, i.slug) AS item_headline, r2.email AS reader_email
                 FROM ({} WHERE {filter}) q
                 JOIN items i ON i.id = q.item_id
                 LEFT JOIN readers r2 ON r2.id = q.reader_id
                 ORDER BY q.id DESC LIMIT $1 OFFSET $2",
                crate::sql::COMMENT_SELECT
            )))
            .bind(i64::from(limit))
            .bind(i64::from(offset))
            .fetch_all(&mut *conn)
            .await?;
            let queued = rows
                .iter()
                .map(|row| {
                    Ok(crate::QueuedComment {
                        comment: comment_from_row(row)?,
                        item_headline: row.try_get("item_headline")?,
                        reader_email: row.try_get("reader_email")?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok((queued, u64::try_from(total).unwrap_or(0)))
        }

        async fn decide_comment(
            &self,
            comment_id: i64,
            decision: &crate::Decision,
            actor: &str,
            now: Timestamp,
        ) -> Result<Event> {
            let mut tx = self.write_transaction().await?;
            let found: Option<(i64, String, String)> = sqlx::query_as(
                "SELECT item_id, status, body FROM comments WHERE id = $1",
            )
            .bind(comment_id)
            .fetch_optional(&mut *tx)
            .await?;
            let (item_id, status, body) = found.ok_or(StoreError::NotFound)?;
            if status == "deleted" {
                return Err(StoreError::NotFound);
            }
            let action = match decision {
                crate::Decision::Approve => {
                    sqlx::query("UPDATE comments SET status = 'published', reject_reason = '', reports = 0 WHERE id = $1")
                        .bind(comment_id)
                        .execute(&mut *tx)
                        .await?;
                    // The approval answers every report so far; holding it again takes as
                    // many reports again, from readers who had not reported it.
                    sqlx::query("UPDATE comment_reports SET answered = TRUE WHERE comment_id = $1")
                        .bind(comment_id)
                        .execute(&mut *tx)
                        .await?;
                    "approved the comment"
                }
                crate::Decision::Reject(reason) => {
                    sqlx::query("UPDATE comments SET status = 'rejected', reject_reason = $2, featured = FALSE WHERE id = $1")
                        .bind(comment_id)
                        .bind(reason)
                        .execute(&mut *tx)
                        .await?;
                    "rejected the comment"
                }
                crate::Decision::Feature(on) => {
                    let changed = sqlx::query("UPDATE comments SET featured = $2 WHERE id = $1 AND status = 'published'")
                        .bind(comment_id)
                        .bind(*on)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if changed == 0 {
                        return Err(StoreError::NotFound);
                    }
                    if *on { "featured the comment" } else { "unfeatured the comment" }
                }
            };
            let detail: String = body.chars().take(80).collect();
            self::items::audit_row(&mut tx, actor, action, &format!("comment:{comment_id}"), &detail, now).await?;
            let now_visible = matches!(decision, crate::Decision::Approve) && status != "published";
            let event = if now_visible {
                self::items::comment_published(&mut tx, item_id, comment_id, now).await?
            } else {
                self::items::comments_changed(&mut tx, item_id, now).await?
            };
            tx.commit().await?;
            Ok(event)
        }

        async fn set_story_commenting(
            &self,
            item_id: i64,
            closed: bool,
            premoderated: bool,
            actor: &str,
            now: Timestamp,
        ) -> Result<Event> {
            let mut tx = self.write_transaction().await?;
            sqlx::query(
                "INSERT INTO story_commenting (item_id, closed, premoderated) VALUES ($1, $2, $3)
                 ON CONFLICT (item_id) DO UPDATE SET closed = excluded.closed, premoderated = excluded.premoderated",
            )
            .bind(item_id)
            .bind(closed)
            .bind(premoderated)
            .execute(&mut *tx)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::NotFound,
                e => e.into(),
            })?;
            let detail = format!(
                "{}{}",
                if closed { "closed" } else { "open" },
                if premoderated { ", held for review" } else { "" }
            );
            self::items::audit_row(&mut tx, actor, "set the story's comments", &format!("item:{item_id}"), &detail, now).await?;
            let event = self::items::comments_changed(&mut tx, item_id, now).await?;
            tx.commit().await?;
            Ok(event)
        }

        async fn set_reader_status(
            &self,
            reader_id: i64,
            status: newsdesk_core::reader::ReaderStatus,
            actor: &str,
            now: Timestamp,
        ) -> Result<()> {
            let mut tx = self.write_transaction().await?;
            let email: Option<String> = sqlx::query_scalar(
                "UPDATE readers SET status = $2 WHERE id = $1 RETURNING email",
            )
            .bind(reader_id)
            .bind(status.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            let email = email.ok_or(StoreError::NotFound)?;
            self::items::audit_row(&mut tx, actor, "set the reader's standing", &format!("reader:{email}"), status.as_str(), now).await?;
            tx.commit().await?;
            Ok(())
        }

        async fn reader_comments(&self, reader_id: i64, limit: u32) -> Result<Vec<newsdesk_core::comment::Comment>> {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "{} WHERE c.reader_id = $1 ORDER BY c.id DESC LIMIT $2",
                crate::sql::COMMENT_SELECT
            )))
            .bind(reader_id)
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await?;
            rows.iter().map(comment_from_row).collect()
        }

        async fn reader_actions(&self, reader_id: i64) -> Result<(Vec<i64>, Vec<(i64, String)>)> {
            let likes: Vec<i64> = sqlx::query_scalar(
                "SELECT comment_id FROM comment_likes WHERE reader_id = $1 ORDER BY comment_id",
            )
            .bind(reader_id)
            .fetch_all(&self.reader)
            .await?;
            let reports: Vec<(i64, String)> = sqlx::query_as(
                "SELECT comment_id, reason FROM comment_reports WHERE reader_id = $1 ORDER BY comment_id",
            )
            .bind(reader_id)
            .fetch_all(&self.reader)
            .await?;
            Ok((likes, reports))
        }

        async fn delete_reader(&self, reader_id: i64, remove_comments: bool, now: Timestamp) -> Result<Vec<Event>> {
            let mut tx = self.write_transaction().await?;
            let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM readers WHERE id = $1")
                .bind(reader_id)
                .fetch_optional(&mut *tx)
                .await?;
            exists.ok_or(StoreError::NotFound)?;
            let items: Vec<i64> = sqlx::query_scalar(
                "SELECT DISTINCT item_id FROM comments WHERE reader_id = $1 OR id IN (SELECT comment_id FROM comment_likes WHERE reader_id = $1)",
            )
            .bind(reader_id)
            .fetch_all(&mut *tx)
            .await?;
            // Counts on others' comments drop with the likes this reader gave.
            sqlx::query(
                "UPDATE comments SET likes = likes - 1 WHERE id IN (SELECT comment_id FROM comment_likes WHERE reader_id = $1)",
            )
            .bind(reader_id)
            .execute(&mut *tx)
            .await?;
            if remove_comments {
                sqlx::query("UPDATE comments SET body = '', status = 'deleted', featured = FALSE WHERE reader_id = $1")
                    .bind(reader_id)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("DELETE FROM readers WHERE id = $1")
                .bind(reader_id)
                .execute(&mut *tx)
                .await?;
            // The address is gone with the account; the audit line keeps only the id.
            self::items::audit_row(
                &mut tx,
                &format!("reader:{reader_id}"),
                "deleted their account",
                &format!("reader:{reader_id}"),
                if remove_comments { "comments removed" } else { "comments anonymised" },
                now,
            )
            .await?;
            let mut events = Vec::new();
            for item in items {
                events.push(self::items::comments_changed(&mut tx, item, now).await?);
            }
            tx.commit().await?;
            Ok(events)
        }

        async fn story_commenting(&self, item_id: i64) -> Result<(bool, bool)> {
            let row: Option<(bool, bool)> = sqlx::query_as(
                "SELECT closed, premoderated FROM story_commenting WHERE item_id = $1",
            )
            .bind(item_id)
            .fetch_optional(&self.reader)
            .await?;
            Ok(row.unwrap_or((false, false)))
        }

        // ---- Sitemaps and feeds (issue 6): reads only, no migration.

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
                crate::sql::ITEM_COLUMNS
            ));
            let rows = sqlx::query(sql)
                .bind(to_micros(from))
                .bind(to_micros(until))
                .bind(i64::from(limit))
                .bind(i64::from(offset))
                .fetch_all(&mut *conn)
                .await?;
            let mut items = rows.iter().map(items::item_from_row).collect::<Result<Vec<_>>>()?;
            items::attach_labels(&mut conn, &mut items).await?;
            Ok(items)
        }

        async fn listing_activity(&self) -> Result<Vec<crate::ListingActivity>> {
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
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.reader).await?;
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

        // ---- Search and related stories (0010_related). Kept apart so the search issue's
        // SQL can be read (and reverted) as one block.

        async fn published_after_id(&self, after_id: i64, limit: u32) -> Result<Vec<Item>> {
            let mut conn = self.reader.acquire().await?;
            let sql = sqlx::AssertSqlSafe(format!(
                "SELECT {} FROM items WHERE status = 'published' AND id > $1 ORDER BY id LIMIT $2",
                crate::sql::ITEM_COLUMNS
            ));
            let rows = sqlx::query(sql)
                .bind(after_id)
                .bind(i64::from(limit))
                .fetch_all(&mut *conn)
                .await?;
            let mut items = rows.iter().map(self::items::item_from_row).collect::<Result<Vec<_>>>()?;
            self::items::attach_labels(&mut conn, &mut items).await?;
            Ok(items)
        }

        async fn published_by_ids(&self, ids: &[i64]) -> Result<Vec<Item>> {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let mut conn = self.reader.acquire().await?;
            let json = serde_json::to_string(ids).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let sql = sqlx::AssertSqlSafe(format!(
                "SELECT {} FROM items WHERE status = 'published' AND id IN ({})",
                crate::sql::ITEM_COLUMNS,
                $ids
            ));
            let rows = sqlx::query(sql).bind(&json).fetch_all(&mut *conn).await?;
            let mut items = rows.iter().map(self::items::item_from_row).collect::<Result<Vec<_>>>()?;
            self::items::attach_labels(&mut conn, &mut items).await?;
            items.sort_by_key(|item| ids.iter().position(|id| *id == item.id));
            Ok(items)
        }

        async fn related_choices(&self, item_id: i64) -> Result<crate::RelatedChoices> {
            let rows: Vec<(i64, String)> = sqlx::query_as(
                "SELECT related_id, choice FROM related_choices WHERE item_id = $1 ORDER BY position, related_id",
            )
            .bind(item_id)
            .fetch_all(&self.reader)
            .await?;
            let mut out = crate::RelatedChoices::default();
            for (id, choice) in rows {
                match choice.as_str() {
                    "pin" => out.pinned.push(id),
                    _ => out.excluded.push(id),
                }
            }
            Ok(out)
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
            let detail = format!("pinned {:?}, excluded {:?}", choices.pinned, choices.excluded);
            self::items::audit_row(&mut tx, actor, "chose related items", &format!("item:{item_id}"), &detail, now).await?;
            let event = if status == "published" {
                sqlx::query($serialize_events).execute(&mut *tx).await?;
                let keys = vec![newsdesk_core::event::keys::item(item_id)];
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO events (kind, item_id, keys, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(newsdesk_core::EventKind::ItemUpdated.as_str())
                .bind(item_id)
                .bind(keys.join(" "))
                .bind(to_micros(now))
                .fetch_one(&mut *tx)
                .await?;
                Some(Event {
                    comment_id: None,
                    id,
                    kind: newsdesk_core::EventKind::ItemUpdated,
                    item_id: Some(item_id),
                    keys,
                    at: from_micros(to_micros(now))?,
                })
            } else {
                None
            };
            tx.commit().await?;
            Ok(event)
        }

        // ---- API tokens (0011_api_tokens).

        async fn create_api_token(
            &self,
            token: &crate::NewApiToken<'_>,
            actor: &str,
            now: Timestamp,
        ) -> Result<crate::ApiToken> {
            let mut tx = self.write_transaction().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO api_tokens (kind, name, token_hash, account_id, role, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(token.kind.as_str())
            .bind(token.name)
            .bind(token.token_hash)
            .bind(token.account_id)
            .bind(token.role.map(Role::as_str))
            .bind(to_micros(now))
            .fetch_one(&mut *tx)
            .await?;
            let detail = match token.role {
                Some(role) => format!("{} token \"{}\" ({})", token.kind.as_str(), token.name, role.as_str()),
                None => format!("{} key \"{}\"", token.kind.as_str(), token.name),
            };
            self::items::audit_row(&mut tx, actor, "created API token", &format!("token:{id}"), &detail, now).await?;
            let row = sqlx::query(sqlx::AssertSqlSafe(format!("{API_TOKEN_SELECT} WHERE t.id = $1")))
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
            let created = api_token_from_row(&row)?;
            tx.commit().await?;
            Ok(created)
        }

        async fn api_tokens(&self, account_id: Option<i64>) -> Result<Vec<crate::ApiToken>> {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "{API_TOKEN_SELECT} WHERE ($1 IS NULL OR (t.account_id = $1 AND t.kind = 'staff'))
                 ORDER BY t.id DESC"
            )))
            .bind(account_id)
            .fetch_all(&self.reader)
            .await?;
            rows.iter().map(api_token_from_row).collect()
        }

        async fn api_token(&self, id: i64) -> Result<Option<crate::ApiToken>> {
            let row = sqlx::query(sqlx::AssertSqlSafe(format!("{API_TOKEN_SELECT} WHERE t.id = $1")))
                .bind(id)
                .fetch_optional(&self.reader)
                .await?;
            row.as_ref().map(api_token_from_row).transpose()
        }

        async fn count_live_api_tokens(&self, account_id: i64) -> Result<u64> {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM api_tokens WHERE account_id = $1 AND revoked_at IS NULL",
            )
            .bind(account_id)
            .fetch_one(&self.reader)
            .await?;
            Ok(u64::try_from(n).unwrap_or(0))
        }

        async fn revoke_api_token(&self, id: i64, actor: &str, now: Timestamp) -> Result<()> {
            let mut tx = self.write_transaction().await?;
            let name: Option<String> = sqlx::query_scalar(
                "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING name",
            )
            .bind(id)
            .bind(to_micros(now))
            .fetch_optional(&mut *tx)
            .await?;
            let name = name.ok_or(StoreError::NotFound)?;
            self::items::audit_row(&mut tx, actor, "revoked API token", &format!("token:{id}"), &format!("\"{name}\""), now).await?;
            tx.commit().await?;
            Ok(())
        }

        async fn use_api_token(
            &self,
            token_hash: &str,
            now: Timestamp,
        ) -> Result<Option<(crate::ApiToken, Account)>> {
            // One read for the token and its account: this runs on every API request that
            // carries a staff token or a read key.
            let row = sqlx::query(
                "SELECT t.id, t.kind, t.name, t.account_id, a.email AS account_email, t.role,
                        t.created_at, t.last_used_at, t.revoked_at,
                        a.name AS account_name, a.role AS account_role,
                        a.disabled AS account_disabled, a.created_at AS account_created_at
                 FROM api_tokens t JOIN accounts a ON a.id = t.account_id
                 WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
            )
            .bind(token_hash)
            .fetch_optional(&self.reader)
            .await?;
            let Some(row) = row else { return Ok(None) };
            let token = api_token_from_row(&row)?;
            let role: String = row.try_get("account_role")?;
            let account = Account {
                id: token.account_id,
                email: token.account_email.clone(),
                name: row.try_get("account_name")?,
                role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?,
                disabled: row.try_get("account_disabled")?,
                created_at: from_micros(row.try_get("account_created_at")?)?,
            };
            // A write per request would make every API read a write; once a minute tells
            // the desk what it needs (is this token still in use?).
            let stale = token
                .last_used_at
                .is_none_or(|at| now.duration_since(at) >= jiff::SignedDuration::from_secs(TOKEN_USE_PRECISION_SECS));
            if stale {
                sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
                    .bind(token.id)
                    .bind(to_micros(now))
                    .execute(&self.writer)
                    .await?;
            }
            Ok(Some((token, account)))
        }

        // ---- Webhooks (0012_webhooks).

        async fn create_webhook(
            &self,
            webhook: &newsdesk_core::webhook::ValidWebhook,
            secret: &str,
            max: u64,
            change: crate::WebhookChange<'_>,
        ) -> Result<crate::Webhook> {
            let mut tx = self.write_transaction().await?;
            let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhooks")
                .fetch_one(&mut *tx)
                .await?;
            if u64::try_from(count).unwrap_or(0) >= max {
                return Err(StoreError::Limit { what: "webhooks", max });
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO webhooks (url, description, events, secret, enabled, after_event_id, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, TRUE, (SELECT COALESCE(MAX(id), 0) FROM events), $5, $5)
                 RETURNING id",
            )
            .bind(&webhook.url)
            .bind(&webhook.description)
            .bind(webhook_events_text(&webhook.events))
            .bind(secret)
            .bind(to_micros(change.now))
            .fetch_one(&mut *tx)
            .await?;
            self::items::audit_row(&mut tx, change.actor, "registered the webhook", &format!("webhook:{id}"), &webhook.url, change.now).await?;
            tx.commit().await?;
            self.webhook(id).await?.ok_or(StoreError::NotFound)
        }

        async fn webhooks(&self) -> Result<Vec<crate::Webhook>> {
            let sql = sqlx::AssertSqlSafe(format!("{WEBHOOK_SELECT} ORDER BY w.id"));
            let rows = sqlx::query(sql).fetch_all(&self.reader).await?;
            rows.iter().map(webhook_from_row).collect()
        }

        async fn webhook(&self, id: i64) -> Result<Option<crate::Webhook>> {
            let sql = sqlx::AssertSqlSafe(format!("{WEBHOOK_SELECT} WHERE w.id = $1"));
            let row = sqlx::query(sql).bind(id).fetch_optional(&self.reader).await?;
            row.as_ref().map(webhook_from_row).transpose()
        }

        async fn update_webhook(
            &self,
            id: i64,
            webhook: &newsdesk_core::webhook::ValidWebhook,
            change: crate::WebhookChange<'_>,
        ) -> Result<()> {
            let mut tx = self.write_transaction().await?;
            let changed = sqlx::query(
                "UPDATE webhooks SET url = $2, description = $3, events = $4, updated_at = $5 WHERE id = $1",
            )
            .bind(id)
            .bind(&webhook.url)
            .bind(&webhook.description)
            .bind(webhook_events_text(&webhook.events))
            .bind(to_micros(change.now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            let detail = format!("{} ({})", webhook.url, webhook_events_text(&webhook.events));
            self::items::audit_row(&mut tx, change.actor, "changed the webhook", &format!("webhook:{id}"), &detail, change.now).await?;
            tx.commit().await?;
            Ok(())
        }

        async fn set_webhook_enabled(
            &self,
            id: i64,
            enabled: bool,
            change: crate::WebhookChange<'_>,
        ) -> Result<()> {
            let mut tx = self.write_transaction().await?;
            let changed = sqlx::query("UPDATE webhooks SET enabled = $2, updated_at = $3 WHERE id = $1")
                .bind(id)
                .bind(enabled)
                .bind(to_micros(change.now))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            let action = if enabled { "enabled the webhook" } else { "disabled the webhook" };
            self::items::audit_row(&mut tx, change.actor, action, &format!("webhook:{id}"), "", change.now).await?;
            tx.commit().await?;
            Ok(())
        }

        async fn rotate_webhook_secret(
            &self,
            id: i64,
            secret: &str,
            change: crate::WebhookChange<'_>,
        ) -> Result<()> {
            let mut tx = self.write_transaction().await?;
            let changed = sqlx::query("UPDATE webhooks SET secret = $2, updated_at = $3 WHERE id = $1")
                .bind(id)
                .bind(secret)
                .bind(to_micros(change.now))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            self::items::audit_row(&mut tx, change.actor, "rotated the webhook's secret", &format!("webhook:{id}"), "", change.now).await?;
            tx.commit().await?;
            Ok(())
        }

        async fn delete_webhook(&self, id: i64, change: crate::WebhookChange<'_>) -> Result<()> {
            let mut tx = self.write_transaction().await?;
            let url: Option<String> = sqlx::query_scalar("DELETE FROM webhooks WHERE id = $1 RETURNING url")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            let url = url.ok_or(StoreError::NotFound)?;
            self::items::audit_row(&mut tx, change.actor, "deleted the webhook", &format!("webhook:{id}"), &url, change.now).await?;
            tx.commit().await?;
            Ok(())
        }

        async fn webhook_cursor(&self) -> Result<i64> {
            let found: Option<i64> = sqlx::query_scalar(
                "SELECT last_event_id FROM event_cursors WHERE consumer = 'webhooks'",
            )
            .fetch_optional(&self.writer)
            .await?;
            if let Some(cursor) = found {
                return Ok(cursor);
            }
            // A site that never ran the consumer: start where its endpoints start, or now.
            sqlx::query(
                "INSERT INTO event_cursors (consumer, last_event_id)
                 SELECT 'webhooks', COALESCE((SELECT MIN(after_event_id) FROM webhooks),
                                             (SELECT MAX(id) FROM events), 0)
                 WHERE TRUE
                 ON CONFLICT DO NOTHING",
            )
            .execute(&self.writer)
            .await?;
            let cursor: i64 = sqlx::query_scalar(
                "SELECT last_event_id FROM event_cursors WHERE consumer = 'webhooks'",
            )
            .fetch_one(&self.writer)
            .await?;
            Ok(cursor)
        }

        async fn enqueue_webhook_deliveries(
            &self,
            from: i64,
            to: i64,
            deliveries: &[crate::NewDelivery],
            now: Timestamp,
        ) -> Result<Option<u64>> {
            let mut tx = self.write_transaction().await?;
            // First, so that on PostgreSQL the cursor's row lock orders concurrent runs: the
            // second waits, then finds the cursor moved and writes nothing.
            let moved = sqlx::query(
                "UPDATE event_cursors SET last_event_id = $2 WHERE consumer = 'webhooks' AND last_event_id = $1",
            )
            .bind(from)
            .bind(to)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved == 0 {
                return Ok(None);
            }
            let mut stored = 0;
            for delivery in deliveries {
                stored += sqlx::query(
                    "INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, payload, state, attempts,
                                                     next_attempt_at, created_at)
                     SELECT w.id, $1, $2, $3, 'pending', 0, $4, $4 FROM webhooks w
                     WHERE w.enabled AND w.after_event_id < $1 AND (' ' || w.events || ' ') LIKE $5
                     ON CONFLICT DO NOTHING",
                )
                .bind(delivery.event_id)
                .bind(delivery.event.as_str())
                .bind(&delivery.payload)
                .bind(to_micros(now))
                .bind(format!("% {} %", delivery.event.as_str()))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            tx.commit().await?;
            Ok(Some(stored))
        }

        async fn claim_webhook_deliveries(
            &self,
            now: Timestamp,
            lease_until: Timestamp,
            limit: u32,
        ) -> Result<Vec<crate::ClaimedDelivery>> {
            if limit == 0 {
                return Ok(Vec::new());
            }
            // The outer conditions repeat the inner ones: a row another claimer took between
            // the subquery and the update no longer matches, so it is not claimed twice.
            let rows = sqlx::query(concat!(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, lease_until = $2,
                     first_attempt_at = COALESCE(first_attempt_at, $1)
                 WHERE id IN (SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
                              WHERE d.state = 'pending' AND d.next_attempt_at <= $1
                                AND (d.lease_until IS NULL OR d.lease_until <= $1) AND w.enabled
                              ORDER BY d.next_attempt_at, d.id LIMIT $3", $claim_lock, ")
                   AND state = 'pending' AND (lease_until IS NULL OR lease_until <= $1)
                 RETURNING id, webhook_id, event_type, payload, attempts, first_attempt_at, lease_until",
            ))
            .bind(to_micros(now))
            .bind(to_micros(lease_until))
            .bind(i64::from(limit))
            .fetch_all(&self.writer)
            .await?;
            if rows.is_empty() {
                return Ok(Vec::new());
            }
            let mut ids: Vec<i64> = Vec::new();
            for r in &rows {
                let id: i64 = r.try_get("webhook_id")?;
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            let ids = serde_json::to_string(&ids).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let hooks: Vec<(i64, String, String)> = sqlx::query_as(concat!(
                "SELECT id, url, secret FROM webhooks WHERE id IN (", $ids, ")"
            ))
            .bind(&ids)
            .fetch_all(&self.writer)
            .await?;
            let mut claimed = Vec::new();
            for r in &rows {
                let webhook_id: i64 = r.try_get("webhook_id")?;
                // Deleted since the claim: its deliveries went with it.
                let Some((_, url, secret)) = hooks.iter().find(|h| h.0 == webhook_id) else {
                    continue;
                };
                let event: String = r.try_get("event_type")?;
                let attempt: i64 = r.try_get("attempts")?;
                claimed.push(crate::ClaimedDelivery {
                    id: r.try_get("id")?,
                    webhook_id,
                    url: url.clone(),
                    secret: secret.clone(),
                    event: newsdesk_core::webhook::WebhookEvent::parse(&event)
                        .ok_or_else(|| StoreError::Corrupt(format!("webhook event {event}")))?,
                    payload: r.try_get("payload")?,
                    attempt: u32::try_from(attempt).map_err(|_| StoreError::Corrupt(format!("attempt {attempt}")))?,
                    first_attempt_at: from_micros(r.try_get::<Option<i64>, _>("first_attempt_at")?.unwrap_or(to_micros(now)))?,
                    lease_until: from_micros(r.try_get::<Option<i64>, _>("lease_until")?.unwrap_or(to_micros(lease_until)))?,
                });
            }
            Ok(claimed)
        }

        async fn record_webhook_attempt(
            &self,
            claim: &crate::ClaimedDelivery,
            attempt: &crate::AttemptRecord,
            outcome: crate::DeliveryOutcome,
        ) -> Result<bool> {
            let (state, next) = match outcome {
                crate::DeliveryOutcome::Delivered => (crate::DeliveryState::Delivered, None),
                crate::DeliveryOutcome::RetryAt(at) => (crate::DeliveryState::Pending, Some(to_micros(at))),
                crate::DeliveryOutcome::Failed => (crate::DeliveryState::Failed, None),
            };
            let mut tx = self.write_transaction().await?;
            let held = sqlx::query(
                "UPDATE webhook_deliveries SET state = $4, next_attempt_at = COALESCE($5, next_attempt_at),
                     lease_until = NULL
                 WHERE id = $1 AND attempts = $2 AND lease_until = $3",
            )
            .bind(claim.id)
            .bind(i64::from(claim.attempt))
            .bind(to_micros(claim.lease_until))
            .bind(state.as_str())
            .bind(next)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if held == 0 {
                return Ok(false);
            }
            sqlx::query(
                "INSERT INTO webhook_attempts (delivery_id, attempt, started_at, duration_ms, status_code,
                                               response_excerpt, error)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(claim.id)
            .bind(i64::from(claim.attempt))
            .bind(to_micros(attempt.started_at))
            .bind(i64::try_from(attempt.duration_ms).unwrap_or(i64::MAX))
            .bind(attempt.status_code.map(i64::from))
            .bind(&attempt.response_excerpt)
            .bind(&attempt.error)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(true)
        }

        async fn webhook_deliveries(
            &self,
            webhook_id: i64,
            limit: u32,
            offset: u32,
        ) -> Result<(Vec<crate::Delivery>, u64)> {
            let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_deliveries WHERE webhook_id = $1")
                .bind(webhook_id)
                .fetch_one(&self.reader)
                .await?;
            let rows = sqlx::query(
                "SELECT id, webhook_id, event_id, event_type, payload, replay_of, state, next_attempt_at, created_at
                 FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3",
            )
            .bind(webhook_id)
            .bind(i64::from(limit))
            .bind(i64::from(offset))
            .fetch_all(&self.reader)
            .await?;
            let mut deliveries = rows.iter().map(delivery_from_row).collect::<Result<Vec<_>>>()?;
            if !deliveries.is_empty() {
                let ids = serde_json::to_string(&deliveries.iter().map(|d| d.id).collect::<Vec<_>>())
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let attempts = sqlx::query(concat!(
                    "SELECT delivery_id, attempt, started_at, duration_ms, status_code, response_excerpt, error
                     FROM webhook_attempts WHERE delivery_id IN (", $ids, ") ORDER BY delivery_id, attempt"
                ))
                .bind(&ids)
                .fetch_all(&self.reader)
                .await?;
                for r in &attempts {
                    let delivery_id: i64 = r.try_get("delivery_id")?;
                    if let Some(d) = deliveries.iter_mut().find(|d| d.id == delivery_id) {
                        d.attempts.push(attempt_from_row(r)?);
                    }
                }
            }
            Ok((deliveries, u64::try_from(total).unwrap_or(0)))
        }

        async fn replay_webhook_delivery(
            &self,
            webhook_id: i64,
            delivery_id: i64,
            change: crate::WebhookChange<'_>,
        ) -> Result<i64> {
            let mut tx = self.write_transaction().await?;
            let id: Option<i64> = sqlx::query_scalar(
                "INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, payload, replay_of, state,
                                                 attempts, next_attempt_at, created_at)
                 SELECT webhook_id, event_id, event_type, payload, COALESCE(replay_of, id), 'pending', 0, $3, $3
                 FROM webhook_deliveries WHERE id = $1 AND webhook_id = $2
                 RETURNING id",
            )
            .bind(delivery_id)
            .bind(webhook_id)
            .bind(to_micros(change.now))
            .fetch_optional(&mut *tx)
            .await?;
            let id = id.ok_or(StoreError::NotFound)?;
            self::items::audit_row(&mut tx, change.actor, "replayed a webhook delivery", &format!("webhook:{webhook_id}"), &format!("delivery {delivery_id} again as {id}"), change.now).await?;
            tx.commit().await?;
            Ok(id)
        }
    }

    const API_TOKEN_SELECT: &str = "SELECT t.id, t.kind, t.name, t.account_id, a.email AS account_email,
            t.role, t.created_at, t.last_used_at, t.revoked_at
         FROM api_tokens t JOIN accounts a ON a.id = t.account_id";
    /// How stale a token's "last used" may be.
    const TOKEN_USE_PRECISION_SECS: i64 = 60;

    fn api_token_from_row(row: &$Row) -> Result<crate::ApiToken> {
        let kind: String = row.try_get("kind")?;
        let role: Option<String> = row.try_get("role")?;
        let time = |column: &str| -> Result<Option<Timestamp>> {
            row.try_get::<Option<i64>, _>(column)?.map(from_micros).transpose()
        };
        Ok(crate::ApiToken {
            id: row.try_get("id")?,
            kind: newsdesk_core::TokenKind::parse(&kind)
                .ok_or_else(|| StoreError::Corrupt(format!("token kind {kind}")))?,
            name: row.try_get("name")?,
            account_id: row.try_get("account_id")?,
            account_email: row.try_get("account_email")?,
            role: match role {
                Some(role) => Some(
                    Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?,
                ),
                None => None,
            },
            created_at: from_micros(row.try_get("created_at")?)?,
            last_used_at: time("last_used_at")?,
            revoked_at: time("revoked_at")?,
        })
    }

    fn reader_from_row(row: &$Row) -> Result<newsdesk_core::reader::Reader> {
        let status: String = row.try_get("status")?;
        Ok(newsdesk_core::reader::Reader {
            id: row.try_get("id")?,
            email: row.try_get("email")?,
            display_name: row.try_get("display_name")?,
            verified: row.try_get("verified")?,
            status: newsdesk_core::reader::ReaderStatus::parse(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("reader status {status}")))?,
            created_at: from_micros(row.try_get("created_at")?)?,
        })
    }

    fn comment_from_row(row: &$Row) -> Result<newsdesk_core::comment::Comment> {
        let status: String = row.try_get("status")?;
        let count = |column: &str| -> Result<u32> {
            let v: i64 = row.try_get(column)?;
            Ok(u32::try_from(v).unwrap_or(u32::MAX))
        };
        let edited: Option<i64> = row.try_get("edited_at")?;
        Ok(newsdesk_core::comment::Comment {
            id: row.try_get("id")?,
            item_id: row.try_get("item_id")?,
            parent_id: row.try_get("parent_id")?,
            root_id: row.try_get::<Option<i64>, _>("root_id")?.unwrap_or_default(),
            reader_id: row.try_get("reader_id")?,
            author: row.try_get("author")?,
            staff: row.try_get::<Option<bool>, _>("staff")?.unwrap_or(false),
            body: row.try_get("body")?,
            status: newsdesk_core::comment::CommentStatus::parse(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("comment status {status}")))?,
            hold_reasons: row.try_get("hold_reasons")?,
            reject_reason: row.try_get("reject_reason")?,
            featured: row.try_get("featured")?,
            likes: count("likes")?,
            reports: count("reports")?,
            created_at: from_micros(row.try_get("created_at")?)?,
            edited_at: edited.map(from_micros).transpose()?,
        })
    }

    fn library_image_from_row(row: &$Row) -> Result<crate::LibraryImage> {
        let side = |column: &str| -> Result<u32> {
            let v: i64 = row.try_get(column)?;
            u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("{column} {v}")))
        };
        Ok(crate::LibraryImage {
            path: row.try_get("path")?,
            width: side("width")?,
            height: side("height")?,
            alt: row.try_get("alt")?,
            caption: row.try_get("caption")?,
            credit: row.try_get("credit")?,
            uploaded_by: row.try_get("uploaded_by")?,
            created_at: from_micros(row.try_get("created_at")?)?,
        })
    }

    /// An endpoint with how its latest delivery went.
    const WEBHOOK_SELECT: &str = "SELECT w.id, w.url, w.description, w.events, w.secret, w.enabled, w.created_at,
            (SELECT d.state FROM webhook_deliveries d WHERE d.webhook_id = w.id
             ORDER BY d.id DESC LIMIT 1) AS last_state,
            (SELECT a.started_at FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
             WHERE d.webhook_id = w.id ORDER BY a.id DESC LIMIT 1) AS last_attempt_at,
            (SELECT a.status_code FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
             WHERE d.webhook_id = w.id ORDER BY a.id DESC LIMIT 1) AS last_status
        FROM webhooks w";

    fn webhook_events_text(events: &[newsdesk_core::webhook::WebhookEvent]) -> String {
        events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(" ")
    }

    fn status_code(value: Option<i64>) -> Result<Option<u16>> {
        value
            .map(|v| u16::try_from(v).map_err(|_| StoreError::Corrupt(format!("status code {v}"))))
            .transpose()
    }

    fn delivery_state(s: &str) -> Result<crate::DeliveryState> {
        crate::DeliveryState::parse(s).ok_or_else(|| StoreError::Corrupt(format!("delivery state {s}")))
    }

    fn webhook_from_row(row: &$Row) -> Result<crate::Webhook> {
        let events: String = row.try_get("events")?;
        let last_state: Option<String> = row.try_get("last_state")?;
        let last_delivery = match last_state {
            Some(state) => Some(crate::LastDelivery {
                state: delivery_state(&state)?,
                attempted_at: row.try_get::<Option<i64>, _>("last_attempt_at")?.map(from_micros).transpose()?,
                status_code: status_code(row.try_get("last_status")?)?,
            }),
            None => None,
        };
        Ok(crate::Webhook {
            id: row.try_get("id")?,
            url: row.try_get("url")?,
            description: row.try_get("description")?,
            events: events
                .split_whitespace()
                .map(|e| {
                    newsdesk_core::webhook::WebhookEvent::parse(e)
                        .ok_or_else(|| StoreError::Corrupt(format!("webhook event {e}")))
                })
                .collect::<Result<_>>()?,
            secret: row.try_get("secret")?,
            enabled: row.try_get("enabled")?,
            created_at: from_micros(row.try_get("created_at")?)?,
            last_delivery,
        })
    }

    fn delivery_from_row(row: &$Row) -> Result<crate::Delivery> {
        let event: String = row.try_get("event_type")?;
        let state: String = row.try_get("state")?;
        Ok(crate::Delivery {
            id: row.try_get("id")?,
            webhook_id: row.try_get("webhook_id")?,
            event_id: row.try_get("event_id")?,
            event: newsdesk_core::webhook::WebhookEvent::parse(&event)
                .ok_or_else(|| StoreError::Corrupt(format!("webhook event {event}")))?,
            payload: row.try_get("payload")?,
            replay_of: row.try_get("replay_of")?,
            state: delivery_state(&state)?,
            next_attempt_at: from_micros(row.try_get("next_attempt_at")?)?,
            created_at: from_micros(row.try_get("created_at")?)?,
            attempts: Vec::new(),
        })
    }

    fn attempt_from_row(row: &$Row) -> Result<crate::Attempt> {
        let attempt: i64 = row.try_get("attempt")?;
        let duration: i64 = row.try_get("duration_ms")?;
        Ok(crate::Attempt {
            attempt: u32::try_from(attempt).map_err(|_| StoreError::Corrupt(format!("attempt {attempt}")))?,
            started_at: from_micros(row.try_get("started_at")?)?,
            duration_ms: u64::try_from(duration).unwrap_or(0),
            status_code: status_code(row.try_get("status_code")?)?,
            response_excerpt: row.try_get("response_excerpt")?,
            error: row.try_get("error")?,
        })
    }

    };
}
pub(crate) use sql_store;
