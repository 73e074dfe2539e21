//! Webhooks' rules: the events an endpoint can subscribe to, what a registration may say,
//! and when a delivery that failed is tried again or given up. Sending, signing and storing
//! are the services' and the store's.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::error::Error;
use crate::event::EventKind;

/// Longest endpoint address.
pub const URL_MAX: usize = 2000;
/// Longest note an admin keeps about an endpoint.
pub const DESCRIPTION_MAX: usize = 200;
/// Endpoints a site may register: each one multiplies every event's deliveries.
pub const WEBHOOKS_MAX: u64 = 50;
/// How much of a receiver's text answer the delivery log keeps, in bytes: enough for an
/// admin to read why it refused, too little to turn the desk into a way of reading what a
/// server answers.
pub const RESPONSE_EXCERPT_MAX: usize = 200;
/// Longest wait between two tries of one delivery.
pub const RETRY_MAX: SignedDuration = SignedDuration::from_hours(1);

/// What a webhook can be told about, under the names receivers see (`Newsdesk-Event`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum WebhookEvent {
    #[serde(rename = "item.published")]
    ItemPublished,
    #[serde(rename = "item.updated")]
    ItemUpdated,
    #[serde(rename = "item.unpublished")]
    ItemUnpublished,
    #[serde(rename = "comment.published")]
    CommentPublished,
}

impl WebhookEvent {
    pub const ALL: [WebhookEvent; 4] = [
        WebhookEvent::ItemPublished,
        WebhookEvent::ItemUpdated,
        WebhookEvent::ItemUnpublished,
        WebhookEvent::CommentPublished,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::ItemPublished => "item.published",
            WebhookEvent::ItemUpdated => "item.updated",
            WebhookEvent::ItemUnpublished => "item.unpublished",
            WebhookEvent::CommentPublished => "comment.published",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        WebhookEvent::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// How the desk names it.
    pub fn label(self) -> &'static str {
        match self {
            WebhookEvent::ItemPublished => "A story or brief is published",
            WebhookEvent::ItemUpdated => "A published item is updated",
            WebhookEvent::ItemUnpublished => "An item is unpublished",
            WebhookEvent::CommentPublished => "A reader's comment is published",
        }
    }

    /// The webhook event an entry of the event log is, if webhooks hear about it.
    pub fn for_event(kind: EventKind) -> Option<Self> {
        match kind {
            EventKind::ItemPublished => Some(WebhookEvent::ItemPublished),
            EventKind::ItemUpdated => Some(WebhookEvent::ItemUpdated),
            EventKind::ItemUnpublished => Some(WebhookEvent::ItemUnpublished),
            EventKind::CommentPublished => Some(WebhookEvent::CommentPublished),
            EventKind::SiteChanged | EventKind::CommentsChanged => None,
        }
    }
}

/// A registration as an admin typed it.
#[derive(Debug, Clone, Default)]
pub struct WebhookInput {
    pub url: String,
    pub description: String,
    pub events: Vec<WebhookEvent>,
}

/// A registration that obeys every rule below.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidWebhook {
    pub url: String,
    pub description: String,
    /// At least one, each once, in `WebhookEvent::ALL` order.
    pub events: Vec<WebhookEvent>,
}

impl WebhookInput {
    pub fn validate(&self) -> Result<ValidWebhook, Error> {
        let url = self.url.trim();
        if url.is_empty() {
            return Err(Error::Required { field: "url" });
        }
        if url.chars().count() > URL_MAX {
            return Err(Error::TooLong {
                field: "url",
                max: URL_MAX,
            });
        }
        let parsed = url::Url::parse(url)
            .map_err(|e| Error::invalid("url", format!("is not an address: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::invalid("url", "must start with http:// or https://"));
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(Error::invalid("url", "must name a host"));
        }
        // The address is shown in the desk and logs; a password in it would be shown too.
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(Error::invalid(
                "url",
                "must not carry a user name or password (the signature authenticates us)",
            ));
        }
        if parsed.fragment().is_some() {
            return Err(Error::invalid("url", "must not have a #fragment"));
        }
        let description = self.description.trim();
        if description.chars().count() > DESCRIPTION_MAX {
            return Err(Error::TooLong {
                field: "description",
                max: DESCRIPTION_MAX,
            });
        }
        if description.chars().any(char::is_control) {
            return Err(Error::invalid("description", "must be a single line"));
        }
        let events: Vec<WebhookEvent> = WebhookEvent::ALL
            .into_iter()
            .filter(|e| self.events.contains(e))
            .collect();
        if events.is_empty() {
            return Err(Error::invalid("events", "choose at least one event"));
        }
        Ok(ValidWebhook {
            url: url.to_owned(),
            description: description.to_owned(),
            events,
        })
    }
}

/// How long failed deliveries keep being tried (from `[webhooks]` in the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the first failure; doubled after each further one, up to `RETRY_MAX`.
    pub first: SignedDuration,
    /// No try is scheduled later than this after the first.
    pub give_up_after: SignedDuration,
}

impl RetryPolicy {
    /// The wait after try `attempt` (1 = the first) failed.
    pub fn backoff(&self, attempt: u32) -> SignedDuration {
        let mut wait = self.first;
        for _ in 1..attempt {
            if wait >= RETRY_MAX {
                break;
            }
            wait = wait.saturating_mul(2);
        }
        wait.min(RETRY_MAX)
    }

    /// When to try again after try `attempt` failed at `now`, or `None`: give up.
    pub fn next_attempt(
        &self,
        attempt: u32,
        first_attempt_at: Timestamp,
        now: Timestamp,
    ) -> Option<Timestamp> {
        let next = now.checked_add(self.backoff(attempt)).ok()?;
        (next.duration_since(first_attempt_at) <= self.give_up_after).then_some(next)
    }
}

/// A registered webhook endpoint, with the outcome of its latest delivery for the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: i64,
    pub url: String,
    pub description: String,
    pub events: Vec<WebhookEvent>,
    /// Signs every delivery; the receiver needs it to check the signature.
    pub secret: String,
    pub enabled: bool,
    pub created_at: Timestamp,
    pub last_delivery: Option<LastDelivery>,
}

/// How the latest delivery of an endpoint went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastDelivery {
    pub state: DeliveryState,
    /// Its latest attempt: when, and the answer's status (None: no answer).
    pub attempted_at: Option<Timestamp>,
    pub status_code: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// Waiting for its next attempt (or its first).
    Pending,
    /// A receiver answered 2xx.
    Delivered,
    /// Still failing when the retry window closed.
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            DeliveryState::Pending,
            DeliveryState::Delivered,
            DeliveryState::Failed,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

/// One delivery in the log, with its attempts in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    pub webhook_id: i64,
    pub event_id: i64,
    pub event: WebhookEvent,
    pub payload: String,
    pub replay_of: Option<i64>,
    pub state: DeliveryState,
    pub next_attempt_at: Timestamp,
    pub created_at: Timestamp,
    pub attempts: Vec<Attempt>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub attempt: u32,
    pub started_at: Timestamp,
    pub duration_ms: u64,
    pub status_code: Option<u16>,
    pub response_excerpt: String,
    pub error: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(url: &str) -> WebhookInput {
        WebhookInput {
            url: url.into(),
            description: "Partner app".into(),
            events: vec![WebhookEvent::CommentPublished, WebhookEvent::ItemPublished],
        }
    }

    #[test]
    fn event_names_round_trip_and_map_from_the_log() {
        for e in WebhookEvent::ALL {
            assert_eq!(WebhookEvent::parse(e.as_str()), Some(e));
        }
        assert_eq!(
            WebhookEvent::for_event(EventKind::CommentPublished),
            Some(WebhookEvent::CommentPublished)
        );
        assert_eq!(WebhookEvent::for_event(EventKind::SiteChanged), None);
        assert_eq!(WebhookEvent::for_event(EventKind::CommentsChanged), None);
    }

    #[test]
    fn a_registration_needs_an_http_address_and_an_event() {
        let valid = input(" https://hooks.example.org/in ")
            .validate()
            .expect("valid");
        assert_eq!(valid.url, "https://hooks.example.org/in");
        assert_eq!(
            valid.events,
            vec![WebhookEvent::ItemPublished, WebhookEvent::CommentPublished]
        );
        for bad in [
            "",
            "ftp://hooks.example.org/",
            "hooks.example.org",
            "https://user:pw@hooks.example.org/",
            "https://hooks.example.org/#x",
        ] {
            let e = input(bad).validate().expect_err(bad);
            assert_eq!(e.field(), Some("url"), "{bad}");
        }
        let none = WebhookInput {
            events: vec![],
            ..input("https://hooks.example.org/")
        };
        assert_eq!(none.validate().expect_err("events").field(), Some("events"));
    }

    #[test]
    fn limits_hold_at_their_edge() {
        let base = "https://hooks.example.org/";
        let at_limit = format!("{base}{}", "a".repeat(URL_MAX - base.len()));
        assert!(input(&at_limit).validate().is_ok());
        let over = format!("{at_limit}a");
        assert!(matches!(
            input(&over).validate(),
            Err(Error::TooLong { field: "url", .. })
        ));
        let mut described = input(base);
        described.description = "d".repeat(DESCRIPTION_MAX);
        assert!(described.validate().is_ok());
        described.description.push('d');
        assert!(matches!(
            described.validate(),
            Err(Error::TooLong {
                field: "description",
                ..
            })
        ));
    }

    #[test]
    fn retries_double_up_to_an_hour_and_stop_after_the_window() {
        let policy = RetryPolicy {
            first: SignedDuration::from_secs(30),
            give_up_after: SignedDuration::from_hours(24),
        };
        assert_eq!(policy.backoff(1), SignedDuration::from_secs(30));
        assert_eq!(policy.backoff(2), SignedDuration::from_secs(60));
        assert_eq!(policy.backoff(4), SignedDuration::from_secs(240));
        assert_eq!(policy.backoff(8), RETRY_MAX);
        assert_eq!(policy.backoff(400), RETRY_MAX);
        let first = Timestamp::UNIX_EPOCH;
        let now = first + SignedDuration::from_hours(2);
        assert_eq!(
            policy.next_attempt(5, first, now),
            Some(now + policy.backoff(5))
        );
        let late = first + SignedDuration::from_hours(23) + SignedDuration::from_mins(30);
        assert_eq!(policy.next_attempt(30, first, late), None);
        let edge = first + SignedDuration::from_hours(23);
        assert_eq!(
            policy.next_attempt(30, first, edge),
            Some(first + SignedDuration::from_hours(24))
        );
    }
}
