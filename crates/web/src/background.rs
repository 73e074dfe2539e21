//! Background work of a serving process: the followers of the event log and the timers that
//! write, started in one place and in one stated order (`start_background`), the page
//! cache's own follower, which purges what each event touched, and the webhook worker's
//! wiring (the site's absolute links it puts in bodies).

use std::sync::Arc;

use newsdesk_core::{EventKind, Item};
use newsdesk_services::follow::EventFeed;
use newsdesk_services::housekeeping::run_housekeeping;
use newsdesk_services::schedule::run_scheduler;
use newsdesk_services::search::Search;
use newsdesk_services::webhooks::SiteLinks;
use tokio::sync::Notify;
use tokio::sync::broadcast::error::RecvError;

use crate::AppState;
use crate::live::follow_live;
use crate::site::websub::follow_for_websub;

/// Starts everything a serving process runs beside its requests, in this order:
///
/// 1. The log's follower: it reads the events after `cursor` (this process's writes wake
///    it, a poll catches other processes') and broadcasts each to the followers below.
/// 2. The search index, which applies every event as it comes.
/// 3. The page-cache purge, handed the search index as the step that runs before it: for
///    each event the index catches up and a changed section list is read again, then the
///    pages the event touched are purged, so a purged page never renders again from an index
///    or sections that have not seen the event.
/// 4. The followers that tell the world outside, each at its own pace and needing nothing
///    above but the feed: WebSub pings to the hub, webhook deliveries, and the live stream's
///    hub (which starts at `cursor` too).
/// 5. The timers that write: the scheduler and housekeeping. What they change reaches every
///    follower above through the log, like any other write.
///
/// Everything ends when `stop` is notified; the live stream's hub ends when the stream closes.
pub fn start_background(state: &Arc<AppState>, cursor: i64, stop: &Arc<Notify>) {
    let newsroom = &state.newsroom;
    let feed = newsroom.follow_log(cursor, stop.clone());
    let index = newsroom.search_index().cloned();
    if let Some(index) = &index {
        index.follow(&feed);
    }
    purge_pages(state.clone(), &feed, index);
    follow_for_websub(state.clone(), &feed);
    start_webhooks(state.clone(), &feed, stop.clone());
    follow_live(state.clone(), &feed, cursor);
    run_scheduler(newsroom.clone(), stop.clone());
    run_housekeeping(newsroom.clone(), stop.clone());
}

/// Builds absolute addresses from the configured base URL and the site's paths.
struct Links {
    state: Arc<AppState>,
}

impl SiteLinks for Links {
    fn item_url(&self, item: &Item) -> String {
        format!(
            "{}{}",
            self.state.base_url,
            crate::paths::item_url(&self.state.config(), item)
        )
    }

    fn discussion_url(&self, item_id: i64) -> String {
        format!(
            "{}{}",
            self.state.base_url,
            crate::site::comments::discussion_url(item_id)
        )
    }
}

/// Starts this instance's webhook enqueuer and delivery worker.
fn start_webhooks(state: Arc<AppState>, feed: &EventFeed, stop: Arc<Notify>) {
    let links = Arc::new(Links {
        state: state.clone(),
    });
    if let Err(e) = newsdesk_services::webhooks::start(state.newsroom.clone(), links, feed, stop) {
        tracing::error!(error = %e, "webhooks: cannot start; nothing will be delivered");
    }
}

/// Purges cached pages as events arrive, each after `index` has taken it (pages show search
/// results and related stories). A consumer that fell behind the channel cannot know what
/// it missed, so it drops the whole cache: correct first, fast again at once.
fn purge_pages(state: Arc<AppState>, feed: &EventFeed, index: Option<Arc<Search>>) {
    let mut events = feed.subscribe();
    // From here every event forgets the kept latest-news rails before pages are purged, so
    // a page rendered again after a purge never shows a rail older than the event.
    state.newsroom.keep_streams();
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => {
                    if let Some(index) = &index
                        && let Err(e) = index.catch_up().await
                    {
                        tracing::warn!(error = %e, "search index did not catch up before a purge");
                    }
                    // New section names must be in place before the purged pages render again.
                    if event.kind == EventKind::SiteChanged {
                        reload_sections(&state).await;
                    }
                    state.newsroom.forget_streams();
                    let purged = state.cache.invalidate(&event.keys);
                    tracing::debug!(event = event.id, purged, "page cache invalidated");
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "event consumer lagged; clearing the page cache");
                    reload_sections(&state).await;
                    state.newsroom.forget_streams();
                    state.cache.clear();
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
}

async fn reload_sections(state: &AppState) {
    if let Err(e) = state.newsroom.reload_sections().await {
        tracing::warn!(error = %e, "reading the sections again failed; keeping the old list");
    }
}
