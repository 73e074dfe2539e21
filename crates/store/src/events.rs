//! The event log in the store (what the followers read after each write), the audit log
//! of who did what, and the claims that run each housekeeping job once across instances.

use async_trait::async_trait;
use jiff::Timestamp;
use newsdesk_core::Event;
use newsdesk_core::account::AuditEntry;

use crate::Result;

/// The event log, the audit log and job claims.
#[async_trait]
pub trait EventLog: Send + Sync {
    /// Records an action that is not an item save (those record themselves).
    async fn record_audit(
        &self,
        actor: &str,
        action: &str,
        subject: &str,
        detail: &str,
        now: Timestamp,
    ) -> Result<()>;
    /// Newest first.
    async fn audit_log(&self, limit: u32, offset: u32) -> Result<(Vec<AuditEntry>, u64)>;
    async fn events_after(&self, after: i64, limit: u32) -> Result<Vec<Event>>;
    /// Asks the backend to wake `wake` whenever any process commits an event, if it can
    /// (PostgreSQL: LISTEN/NOTIFY). The table stays the truth: followers also poll it.
    fn announce_events(&self, wake: std::sync::Arc<tokio::sync::Notify>);
    /// Woken after every commit that appended an event: the followers wait on it.
    fn written(&self) -> std::sync::Arc<tokio::sync::Notify>;
    async fn last_event_id(&self) -> Result<i64>;
    /// Claims the run of job `name` due at `now` and sets its next run; true for the one
    /// caller, on any instance, whose claim took.
    async fn claim_job(&self, name: &str, now: Timestamp, next_run: Timestamp) -> Result<bool>;
}
