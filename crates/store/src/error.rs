//! The store's errors: what the services may need to tell a person (conflict, duplicate),
//! and everything else as an opaque database failure that is logged, never shown.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// Someone saved since the version the writer started from.
    #[error("the item was changed by someone else (now at version {current})")]
    Conflict { current: i64 },
    /// A unique field is taken, such as a slug in the same language.
    #[error("{field} is already in use")]
    Duplicate { field: &'static str },
    /// A section or author still used by items cannot be deleted.
    #[error("{what} is still used by {items} item(s); move them first")]
    InUse { what: String, items: u64 },
    /// An item readers have seen is unpublished, never deleted.
    #[error("this item was published once; unpublish it instead (what readers saw is kept)")]
    WasPublished,
    /// The change would leave no enabled admin to manage accounts.
    #[error("the site must keep at least one enabled admin")]
    LastAdmin,
    /// A limit on how many of something a site keeps.
    #[error("the site already has the most {what} it may have ({max})")]
    Limit { what: &'static str, max: u64 },
    /// A reader did one thing (like, report) as often as a window allows.
    #[error("too many at once; try again in {retry_after_secs} seconds")]
    RateLimited { retry_after_secs: u64 },
    #[error("migration {version} ({name}) failed: {reason}")]
    Migration {
        version: i64,
        name: String,
        reason: String,
    },
    /// The database was migrated by a newer newsdesk.
    #[error(
        "the database has migrations this newsdesk does not know: {names}. A newer newsdesk has run on it; start that version, or pass --allow-newer-schema if you are sure this one may serve it"
    )]
    UnknownMigrations { names: String },
    /// `migrate-data` copies only into an empty database.
    #[error(
        "the target database already holds data ({table}: {rows} rows); migrate-data copies a site only into an empty database"
    )]
    TargetNotEmpty { table: &'static str, rows: i64 },
    /// Copying a table failed; nothing was kept.
    #[error("copying {table} failed, nothing was written: {reason}")]
    Copy { table: &'static str, reason: String },
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}
