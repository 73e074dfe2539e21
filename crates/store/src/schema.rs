//! The database's schema: applying the migrations this binary carries, once, however
//! many instances start together.

use async_trait::async_trait;

use crate::{Migration, Result};

/// What to do with a database that holds migrations this binary does not know: they mean a
/// newer newsdesk ran on it, whose tables and rules this one would serve wrongly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewerSchema {
    Refuse,
    /// The operator said so at start (`--allow-newer-schema`), e.g. for a quick rollback.
    Allow,
}

/// Migrations.
#[async_trait]
pub trait Schema: Send + Sync {
    /// Applies pending migrations; returns those applied now. A database that holds a
    /// migration this binary does not know (a newer newsdesk wrote it) is refused.
    async fn migrate(&self) -> Result<Vec<Migration>> {
        self.migrate_with(NewerSchema::Refuse).await
    }
    /// Applies pending migrations, refusing or allowing a newer binary's migrations.
    async fn migrate_with(&self, newer: NewerSchema) -> Result<Vec<Migration>>;
}
