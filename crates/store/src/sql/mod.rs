//! The SQL both backends share. SQLite and PostgreSQL run the same statements (`$n`
//! placeholders, `RETURNING`, `ON CONFLICT`, times as BIGINT microseconds), so each
//! aggregate's SQL is written once, in the file of its name here (`items.rs` implements
//! `ItemStore`, `labels.rs` `LabelStore`, …), and compiled once per backend:
//! `sqlite/mod.rs` and `postgres/mod.rs` each include these files as their module `sql`,
//! after naming what differs (the driver's types, how a list of ids is unnested, the locks
//! that serialize migrations and event ids). The compiler so checks every statement's Rust
//! against both real drivers, without generic bounds over sqlx's traits.
//!
//! This module itself holds what needs no driver: time conversions, error mapping, and the
//! write transaction that wakes the event followers when it commits an appended event.

use std::ops::{Deref, DerefMut};

use jiff::Timestamp;
use tokio::sync::Notify;

use crate::{Result, StoreError};

pub(crate) fn to_micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

pub(crate) fn from_micros(v: i64) -> Result<Timestamp> {
    Timestamp::from_microsecond(v).map_err(|e| StoreError::Corrupt(format!("time {v}: {e}")))
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

/// A write transaction that remembers whether it appended an event, so that its commit (and
/// only a commit that appended one) wakes the event followers: one place for every write.
pub(crate) struct WriteTx<'a, DB: sqlx::Database> {
    tx: sqlx::Transaction<'a, DB>,
    appended: bool,
    written: &'a Notify,
}

impl<'a, DB: sqlx::Database> WriteTx<'a, DB> {
    pub(crate) fn new(tx: sqlx::Transaction<'a, DB>, written: &'a Notify) -> Self {
        WriteTx {
            tx,
            appended: false,
            written,
        }
    }

    /// The connection, for appending an event: the commit will wake the followers.
    pub(crate) fn appending(&mut self) -> &mut DB::Connection {
        self.appended = true;
        &mut self.tx
    }

    /// Commits, then wakes the followers if an event was appended.
    pub(crate) async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        if self.appended {
            self.written.notify_one();
        }
        Ok(())
    }
}

impl<DB: sqlx::Database> Deref for WriteTx<'_, DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &DB::Connection {
        &self.tx
    }
}

impl<DB: sqlx::Database> DerefMut for WriteTx<'_, DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        &mut self.tx
    }
}
