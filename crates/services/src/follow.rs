//! Following the event log: one task per process reads new events after its cursor and
//! broadcasts them to every consumer (search index, page cache, live stream, webhooks,
//! WebSub; the web crate's `background` starts them in order). The table is the truth: a
//! wake-up only shortens the wait, and a periodic poll catches writes made by other
//! processes (`newsdesk import`, other instances).

use std::sync::Arc;
use std::time::Duration;

use newsdesk_core::Event;
use newsdesk_store::Store;
use tokio::sync::{Notify, broadcast};

use crate::error::Result;
use crate::newsroom::Newsroom;

/// How often the log is read when nothing in this process woke the follower.
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// Events read per query; a long backlog is read in several.
const BATCH: u32 = 500;
const CHANNEL_CAPACITY: usize = 4096;

/// What consumers receive. `Lagged` consumers must assume they missed anything.
pub type EventReceiver = broadcast::Receiver<Arc<Event>>;

#[derive(Clone)]
pub struct EventFeed {
    sender: broadcast::Sender<Arc<Event>>,
}

impl EventFeed {
    pub fn subscribe(&self) -> EventReceiver {
        self.sender.subscribe()
    }
}

/// Starts following the log after event `cursor`. The task ends when `stop` is notified.
pub fn follow(
    store: Arc<dyn Store>,
    mut cursor: i64,
    wake: Arc<Notify>,
    stop: Arc<Notify>,
) -> EventFeed {
    let (sender, _) = broadcast::channel(CHANNEL_CAPACITY);
    let feed = EventFeed {
        sender: sender.clone(),
    };
    tokio::spawn(async move {
        loop {
            match store.events_after(cursor, BATCH).await {
                Ok(events) => {
                    let full = events.len() == BATCH as usize;
                    for event in events {
                        cursor = event.id;
                        // No receivers is fine: nothing is cached yet.
                        let _ = sender.send(Arc::new(event));
                    }
                    if full {
                        continue;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "reading the event log failed; retrying"),
            }
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(POLL_INTERVAL) => {}
                _ = stop.notified() => break,
            }
        }
    });
    feed
}

impl Newsroom {
    /// Starts this process's follower of the log after event `cursor`, woken by this
    /// newsroom's writes; it ends when `stop` is notified.
    pub fn follow_log(&self, cursor: i64, stop: Arc<Notify>) -> EventFeed {
        follow(self.store().clone(), cursor, self.written(), stop)
    }

    /// The newest event's id (0 for an empty log): where a follower starts, and proof that
    /// the database answers.
    pub async fn last_event_id(&self) -> Result<i64> {
        Ok(self.store().last_event_id().await?)
    }

    /// Up to `limit` events after `after`, oldest first: for a consumer that fell behind
    /// the feed and reads the table, which is the truth.
    pub async fn events_after(&self, after: i64, limit: u32) -> Result<Vec<Event>> {
        Ok(self.store().events_after(after, limit).await?)
    }
}
