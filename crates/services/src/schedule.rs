//! The scheduler: publishes scheduled items when their time comes. Every instance runs it;
//! the store's claim makes each publication happen exactly once across instances, so no
//! leader election is needed and a dead instance never strands a scheduled story.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::Notify;

use crate::newsroom::Newsroom;

/// How often due items are looked for; a story goes out at most this late.
pub const SCHEDULER_INTERVAL: Duration = Duration::from_secs(1);
/// Items published per run; a backlog is worked off over several runs.
const BATCH: u32 = 100;
/// Who the revision history names for a scheduled publication.
pub const SCHEDULER_ACTOR: &str = "scheduler";

/// Runs until `stop` is notified.
pub fn run_scheduler(newsroom: Arc<Newsroom>, stop: Arc<Notify>) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(SCHEDULER_INTERVAL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = stop.notified() => break,
            }
            match newsroom.publish_due(Timestamp::now()).await {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, "scheduled items published"),
                Err(e) => tracing::warn!(error = %e, "publishing scheduled items failed; retrying"),
            }
        }
    });
}

impl Newsroom {
    /// Publishes what is due at `now`; returns how many items this call published.
    pub async fn publish_due(&self, now: Timestamp) -> crate::Result<usize> {
        let published = self
            .store()
            .publish_due(now, SCHEDULER_ACTOR, BATCH)
            .await?;
        Ok(published.len())
    }
}
