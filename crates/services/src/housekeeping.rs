//! Housekeeping: deletes what has expired or served its time (staff and reader sessions,
//! mailed and set-up tokens, old sign-in failures, revoked API tokens, old autosaves,
//! delivered webhooks). Every instance runs the loop; each run is claimed in the database
//! (`jobs`), so one instance does it per interval and none is special. It never touches
//! anything live: every prune is bounded by an expiry or a retention.

use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::Notify;

use crate::newsroom::Newsroom;

/// The job's row in `jobs`.
pub const HOUSEKEEPING_JOB: &str = "housekeeping";
/// Sign-in failures older than this are no use to any throttle.
const SIGN_IN_FAILURE_RETENTION: SignedDuration = SignedDuration::from_hours(24);
/// How often an instance looks whether a run is due, at most; a run is at most this late.
const LOOK_EVERY_MAX: Duration = Duration::from_secs(60);

/// `days` as a duration.
pub fn days(days: u32) -> SignedDuration {
    SignedDuration::from_hours(i64::from(days) * 24)
}

/// What one run deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pruned {
    pub sessions: u64,
    pub reader_sessions: u64,
    pub one_time_tokens: u64,
    pub revoked_api_tokens: u64,
    pub autosaves: u64,
    pub webhook_deliveries: u64,
}

/// Runs until `stop` is notified.
pub fn run_housekeeping(newsroom: Arc<Newsroom>, stop: Arc<Notify>) {
    tokio::spawn(async move {
        loop {
            let interval = newsroom.config().housekeeping.interval_seconds;
            match newsroom.housekeeping_if_due(Timestamp::now()).await {
                Ok(None) => {}
                Ok(Some(pruned)) => tracing::info!(
                    sessions = pruned.sessions,
                    reader_sessions = pruned.reader_sessions,
                    one_time_tokens = pruned.one_time_tokens,
                    revoked_api_tokens = pruned.revoked_api_tokens,
                    autosaves = pruned.autosaves,
                    webhook_deliveries = pruned.webhook_deliveries,
                    "housekeeping ran"
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "housekeeping failed; retrying at the next interval")
                }
            }
            let wait = Duration::from_secs(interval).min(LOOK_EVERY_MAX);
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.notified() => break,
            }
        }
    });
}

impl Newsroom {
    /// Runs housekeeping if its run is due at `now` and no other instance has claimed it;
    /// returns what it deleted, or None when there was nothing to run.
    pub async fn housekeeping_if_due(&self, now: Timestamp) -> crate::Result<Option<Pruned>> {
        let settings = self.config().housekeeping.clone();
        let interval =
            SignedDuration::from_secs(i64::try_from(settings.interval_seconds).unwrap_or(i64::MAX));
        // Saturating: a next run past the end of time is "never again", not an error.
        let next_run = now.checked_add(interval).unwrap_or(Timestamp::MAX);
        if !self
            .store()
            .claim_job(HOUSEKEEPING_JOB, now, next_run)
            .await?
        {
            return Ok(None);
        }
        let store = self.store();
        store
            .prune_sign_in_failures(now - SIGN_IN_FAILURE_RETENTION)
            .await?;
        Ok(Some(Pruned {
            sessions: store.prune_expired_sessions(now).await?,
            reader_sessions: store.prune_expired_reader_sessions(now).await?,
            one_time_tokens: store.prune_expired_one_time_tokens(now).await?,
            revoked_api_tokens: store
                .prune_revoked_api_tokens(now - days(settings.revoked_token_retention_days))
                .await?,
            autosaves: store
                .prune_autosaves(now - days(settings.autosave_retention_days))
                .await?,
            webhook_deliveries: store
                .prune_delivered_webhooks(now - days(settings.webhook_delivery_retention_days))
                .await?,
        }))
    }
}
