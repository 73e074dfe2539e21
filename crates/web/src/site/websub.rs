//! WebSub publishing (W3C WebSub §7 and PubSubHubbub 0.3 §7.1): when the event log says
//! feeds changed, tell the hub which, so subscribers fetch them at once. Each event's ping
//! runs on its own task, so a slow or failing hub never holds up publishing or other pings;
//! a failed ping is retried with backoff. Retry state is in memory: a restart forgets
//! pending retries, which only delays subscribers until their next poll.

use std::sync::Arc;
use std::time::Duration;

use newsdesk_core::Event;
use newsdesk_services::follow::EventFeed;
use newsdesk_services::outbound::{OutboundGuard, refusal_of};
use tokio::sync::broadcast::error::RecvError;

use crate::AppState;
use crate::paths::{self, FeedFormat, FeedSubject};

/// First wait after a failed ping; doubled after each failure.
pub const RETRY_FIRST: Duration = Duration::from_secs(1);
/// Longest wait between two tries.
pub const RETRY_MAX: Duration = Duration::from_secs(300);
/// Tries per ping, the first included: about ten minutes of retries in all.
pub const ATTEMPTS: u32 = 10;
/// How long one request to the hub may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Redirects a ping follows (a hub that moved), each checked by the outbound guard.
const REDIRECTS: usize = 5;

/// The feeds an event changed, as absolute URLs, read from its surrogate keys: the same
/// keys that purge the cached feeds name the topics to ping.
pub fn topics(state: &AppState, event: &Event) -> Vec<String> {
    let config = state.config();
    let mut languages: Vec<String> = Vec::new();
    let mut subjects: Vec<(Option<String>, FeedSubject)> = Vec::new();
    for key in &event.keys {
        if let Some(lang) = key.strip_prefix("stream:") {
            if let Some(l) = config
                .site
                .languages
                .iter()
                .find(|l| l.to_ascii_lowercase() == lang)
            {
                languages.push(l.clone());
            }
        } else if let Some(rest) = key.strip_prefix("section:") {
            if let Some((lang, slug)) = rest.split_once(':')
                && let Some(l) = config
                    .site
                    .languages
                    .iter()
                    .find(|l| l.to_ascii_lowercase() == lang)
            {
                subjects.push((Some(l.clone()), FeedSubject::Section(slug.to_owned())));
            }
        } else if let Some(slug) = key.strip_prefix("tag:") {
            subjects.push((None, FeedSubject::Tag(slug.to_owned())));
        } else if let Some(slug) = key.strip_prefix("author:") {
            subjects.push((None, FeedSubject::Author(slug.to_owned())));
        }
    }
    let mut out = Vec::new();
    let mut add = |lang: &str, subject: &FeedSubject| {
        for format in FeedFormat::ALL {
            out.push(format!(
                "{}{}",
                state.base_url,
                paths::feed_url(&config, lang, subject, format)
            ));
        }
    };
    for lang in &languages {
        add(lang, &FeedSubject::All);
        add(lang, &FeedSubject::Briefs);
    }
    for (lang, subject) in &subjects {
        match lang {
            Some(lang) => add(lang, subject),
            // Tag and author keys carry no language: their feeds in the event's editions.
            None => {
                for l in &languages {
                    add(l, subject);
                }
            }
        }
    }
    out.dedup();
    out
}

/// The wait before try `attempt` (2 = the first retry).
pub fn backoff(attempt: u32) -> Duration {
    let doublings = attempt.saturating_sub(2).min(16);
    RETRY_FIRST.saturating_mul(1 << doublings).min(RETRY_MAX)
}

/// Follows the event log and pings the hub, when the site names one.
pub fn follow_for_websub(state: Arc<AppState>, feed: &EventFeed) {
    let Some(hub) = state.config().syndication.websub_hub.clone() else {
        return;
    };
    // The workspace builds reqwest without a default TLS provider; name the one we use.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let guard = OutboundGuard::new(&state.config().outbound);
    let client = match guard.client(reqwest::Client::builder().timeout(TIMEOUT), REDIRECTS) {
        Ok(client) => client,
        Err(e) => {
            tracing::error!(error = %e, "WebSub: no HTTP client; the hub will not be pinged");
            return;
        }
    };
    let mut events = feed.subscribe();
    tokio::spawn(async move {
        loop {
            let topics = match events.recv().await {
                Ok(event) => topics(&state, &event),
                Err(RecvError::Lagged(missed)) => {
                    // What changed is unknown: every edition's whole feeds did.
                    tracing::warn!(
                        missed,
                        "WebSub follower lagged; pinging every edition's feeds"
                    );
                    let config = state.config();
                    config
                        .site
                        .languages
                        .iter()
                        .flat_map(|l| {
                            FeedFormat::ALL.map(|f| {
                                format!(
                                    "{}{}",
                                    state.base_url,
                                    paths::feed_url(&config, l, &FeedSubject::All, f)
                                )
                            })
                        })
                        .collect()
                }
                Err(RecvError::Closed) => break,
            };
            if topics.is_empty() {
                continue;
            }
            tokio::spawn(ping(client.clone(), guard.clone(), hub.clone(), topics));
        }
    });
}

/// One publish notification naming every changed topic (`hub.url` repeated, as hubs take
/// it), tried until the hub answers 2xx or the tries run out.
async fn ping(client: reqwest::Client, guard: OutboundGuard, hub: String, topics: Vec<String>) {
    let refused = match reqwest::Url::parse(&hub) {
        Ok(url) => guard.check_url(&url).err().map(|r| r.to_string()),
        Err(e) => Some(format!("the hub's address is not a URL: {e}")),
    };
    if let Some(refusal) = refused {
        // Trying again cannot change the address: only the settings can.
        tracing::error!(hub, refusal = %refusal, "WebSub: the hub was not pinged");
        return;
    }
    let body = {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("hub.mode", "publish");
        for topic in &topics {
            form.append_pair("hub.url", topic);
        }
        form.finish()
    };
    for attempt in 1..=ATTEMPTS {
        if attempt > 1 {
            tokio::time::sleep(backoff(attempt)).await;
        }
        let sent = client
            .post(&hub)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => {
                tracing::debug!(hub, topics = topics.len(), attempt, "WebSub hub pinged");
                return;
            }
            Ok(response) => {
                tracing::warn!(
                    hub,
                    status = response.status().as_u16(),
                    attempt,
                    "WebSub hub refused a ping"
                );
            }
            Err(e) => match refusal_of(&e) {
                Some(refusal) => {
                    tracing::error!(hub, refusal = %refusal, "WebSub: the hub was not pinged");
                    return;
                }
                None => tracing::warn!(hub, error = %e, attempt, "WebSub hub unreachable"),
            },
        }
    }
    tracing::error!(
        hub,
        topics = topics.len(),
        "WebSub: giving up on a ping after {ATTEMPTS} tries"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_one_second_up_to_five_minutes() {
        assert_eq!(backoff(2), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(2));
        assert_eq!(backoff(6), Duration::from_secs(16));
        assert_eq!(backoff(10), Duration::from_secs(256));
        assert_eq!(backoff(11), RETRY_MAX);
        assert_eq!(backoff(40), RETRY_MAX);
    }
}
