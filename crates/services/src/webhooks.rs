//! Webhooks: admins' endpoints (registered through the newsroom, admins only), the durable
//! turning of the event log into deliveries, and the worker that sends them signed and
//! retries them. Both halves run on every instance and share their state through the
//! database only: the enqueuer moves a cursor stored beside the deliveries in the same
//! transaction, and the worker claims each attempt under a lease, so an event is enqueued
//! once and each attempt is sent once however many instances run. Neither runs on the
//! request path: publishing only appends an event.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use jiff::Timestamp;
use newsdesk_core::webhook::{RetryPolicy, WEBHOOKS_MAX, WebhookEvent, WebhookInput};
use newsdesk_core::{Account, Action, Event, EventKind, Item};
use newsdesk_store::{
    AttemptRecord, ClaimedDelivery, Delivery, DeliveryOutcome, NewDelivery, Webhook, WebhookChange,
};
use serde::Serialize;
use sha2::Sha256;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{Notify, Semaphore};

use crate::error::{Missing, Result, ServiceError};
use crate::follow::EventFeed;
use crate::newsroom::Newsroom;
use crate::outbound::{OutboundGuard, refusal_of};

/// `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
pub const SIGNATURE_HEADER: &str = "Newsdesk-Signature";
/// The event's name (`item.published`).
pub const EVENT_HEADER: &str = "Newsdesk-Event";
/// The delivery's id: a replay has its own, its body is the original's.
pub const DELIVERY_HEADER: &str = "Newsdesk-Delivery";
/// How far a signature's time may be from the receiver's clock: older ones are replays.
pub const SIGNATURE_TOLERANCE: Duration = Duration::from_secs(300);
const USER_AGENT: &str = concat!("newsdesk-webhooks/", env!("CARGO_PKG_VERSION"));
/// Deliveries listed per page of the desk's delivery log.
pub const LOG_PAGE_SIZE: u32 = 20;
/// Events turned into deliveries per transaction.
const ENQUEUE_BATCH: u32 = 200;
/// How often the worker looks for due deliveries when nothing woke it: retries fall due
/// on their own, and other instances enqueue.
const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// How often the enqueuer reads the log when the event feed was quiet.
const ENQUEUE_POLL: Duration = Duration::from_secs(5);
/// A claim outlives the attempt's timeout by this much; only a crashed worker's claim ever
/// expires, and its attempt is then tried again under the next number.
const LEASE_MARGIN: Duration = Duration::from_secs(30);

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length; the error case cannot happen.
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The `Newsdesk-Signature` header for `body` sent at `timestamp` (unix seconds).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = mac(secret, timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", hex(tag.as_slice()))
}

/// Why a receiver must refuse a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature header is not `t=…,v1=…`")]
    Malformed,
    #[error("the signature's time is too far from now (a replayed or delayed request)")]
    Stale,
    #[error("the signature does not match the body and secret")]
    Mismatch,
}

/// Checks a `Newsdesk-Signature` header as a receiver must: the time is within `tolerance`
/// of `now`, and one `v1` is the HMAC of exactly this body with the secret, compared in
/// constant time.
pub fn verify_signature(
    secret: &str,
    header: &str,
    body: &[u8],
    now: Timestamp,
    tolerance: Duration,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut tags = Vec::new();
    for part in header.split(',') {
        let (key, value) = part
            .trim()
            .split_once('=')
            .ok_or(SignatureError::Malformed)?;
        match key {
            "t" => {
                timestamp = Some(
                    value
                        .parse::<i64>()
                        .map_err(|_| SignatureError::Malformed)?,
                )
            }
            "v1" => tags.push(unhex(value).ok_or(SignatureError::Malformed)?),
            // Later schemes may add their own parts; they are not ours to judge.
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if tags.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if now.as_second().abs_diff(timestamp) > tolerance.as_secs() {
        return Err(SignatureError::Stale);
    }
    if tags
        .iter()
        .any(|tag| mac(secret, timestamp, body).verify_slice(tag).is_ok())
    {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// Absolute addresses of the site's pages, which only the web face knows how to build.
pub trait SiteLinks: Send + Sync {
    fn item_url(&self, item: &Item) -> String;
    /// The page of an item's comments.
    fn discussion_url(&self, item_id: i64) -> String;
}

/// A new secret: 32 random bytes, hex, with a prefix that says what it is.
fn new_secret() -> Result<String> {
    Ok(format!("whsec_{}", crate::accounts::random_token()?))
}

fn may_manage(account: &Account) -> Result<()> {
    if account.role.may(Action::ManageWebhooks) {
        Ok(())
    } else {
        Err(newsdesk_core::Error::Forbidden {
            role: account.role.as_str(),
            what: "manage webhooks",
        }
        .into())
    }
}

fn change(account: &Account) -> WebhookChange<'_> {
    WebhookChange {
        actor: &account.email,
        now: Timestamp::now(),
    }
}

impl Newsroom {
    pub async fn webhooks(&self, account: &Account) -> Result<Vec<Webhook>> {
        may_manage(account)?;
        Ok(self.store().webhooks().await?)
    }

    pub async fn webhook(&self, account: &Account, id: i64) -> Result<Webhook> {
        may_manage(account)?;
        self.store()
            .webhook(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(Missing::Webhook(id)))
    }

    /// Registers an endpoint with a fresh secret; it hears of events from now on.
    pub async fn add_webhook(&self, account: &Account, input: &WebhookInput) -> Result<Webhook> {
        may_manage(account)?;
        let valid = input.validate()?;
        self.check_webhook_url(&valid.url)?;
        let secret = new_secret()?;
        Ok(self
            .store()
            .create_webhook(&valid, &secret, WEBHOOKS_MAX, change(account))
            .await?)
    }

    pub async fn update_webhook(
        &self,
        account: &Account,
        id: i64,
        input: &WebhookInput,
    ) -> Result<()> {
        may_manage(account)?;
        let valid = input.validate()?;
        self.check_webhook_url(&valid.url)?;
        Ok(self
            .store()
            .update_webhook(id, &valid, change(account))
            .await?)
    }

    /// Refuses on saving what the address alone shows to be inside the network (an address
    /// or `localhost`); names are judged again, resolved, on every delivery.
    fn check_webhook_url(&self, url: &str) -> Result<()> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| newsdesk_core::Error::invalid("url", format!("is not an address: {e}")))?;
        OutboundGuard::new(&self.config().outbound)
            .check_url(&parsed)
            .map_err(|refusal| newsdesk_core::Error::invalid("url", refusal.to_string()).into())
    }

    pub async fn set_webhook_enabled(
        &self,
        account: &Account,
        id: i64,
        enabled: bool,
    ) -> Result<()> {
        may_manage(account)?;
        Ok(self
            .store()
            .set_webhook_enabled(id, enabled, change(account))
            .await?)
    }

    /// Gives the endpoint a new secret; deliveries from now on are signed with it.
    pub async fn rotate_webhook_secret(&self, account: &Account, id: i64) -> Result<()> {
        may_manage(account)?;
        let secret = new_secret()?;
        Ok(self
            .store()
            .rotate_webhook_secret(id, &secret, change(account))
            .await?)
    }

    pub async fn delete_webhook(&self, account: &Account, id: i64) -> Result<()> {
        may_manage(account)?;
        Ok(self.store().delete_webhook(id, change(account)).await?)
    }

    /// One page (1-based) of an endpoint's delivery log, newest first, and the total.
    pub async fn webhook_deliveries(
        &self,
        account: &Account,
        id: i64,
        page: u32,
    ) -> Result<(Vec<Delivery>, u64)> {
        may_manage(account)?;
        let offset = page.saturating_sub(1).saturating_mul(LOG_PAGE_SIZE);
        Ok(self
            .store()
            .webhook_deliveries(id, LOG_PAGE_SIZE, offset)
            .await?)
    }

    /// Sends a delivery again, with the same body; returns the new delivery's id.
    pub async fn replay_webhook_delivery(
        &self,
        account: &Account,
        webhook_id: i64,
        delivery_id: i64,
    ) -> Result<i64> {
        may_manage(account)?;
        self.store()
            .replay_webhook_delivery(webhook_id, delivery_id, change(account))
            .await
            .map_err(|e| match e {
                newsdesk_store::StoreError::NotFound => {
                    ServiceError::NotFound(Missing::Delivery(delivery_id))
                }
                e => e.into(),
            })
    }
}

/// What every delivery's body is: the same envelope for every event.
#[derive(Serialize)]
struct Envelope<T: Serialize> {
    /// Stable for this event's notification: the same in every attempt and replay, so a
    /// receiver can tell a repeat from news.
    id: String,
    #[serde(rename = "type")]
    event: &'static str,
    event_id: i64,
    occurred_at: String,
    data: T,
}

#[derive(Serialize)]
struct ItemSummary {
    id: i64,
    kind: &'static str,
    language: String,
    section: String,
    slug: String,
    headline: Option<String>,
    standfirst: Option<String>,
    url: String,
    breaking: bool,
    published_at: Option<String>,
    updated_at: Option<String>,
}

#[derive(Serialize)]
struct ItemGone {
    id: i64,
    language: String,
    url: String,
}

#[derive(Serialize)]
struct CommentSummary {
    id: i64,
    item_id: i64,
    author: Option<String>,
    body_html: String,
    created_at: String,
    url: String,
}

fn envelope<T: Serialize>(event: &Event, kind: WebhookEvent, data: T) -> Result<String> {
    let body = Envelope {
        id: format!(
            "evt_{}",
            crate::accounts::random_token()?.get(..24).unwrap_or("")
        ),
        event: kind.as_str(),
        event_id: event.id,
        occurred_at: event.at.to_string(),
        data,
    };
    serde_json::to_string(&body).map_err(|e| ServiceError::Io(std::io::Error::other(e)))
}

/// Turns the event log into deliveries, and sends them.
struct Runner {
    newsroom: Arc<Newsroom>,
    links: Arc<dyn SiteLinks>,
    client: reqwest::Client,
    guard: OutboundGuard,
    policy: RetryPolicy,
    timeout: Duration,
    concurrency: usize,
    /// Woken when deliveries may be due: new ones enqueued, a slot freed.
    due: Notify,
    stopping: AtomicBool,
    stopped: Notify,
}

/// Starts the enqueuer and the delivery worker of this instance; both end when `stop` is
/// notified (deliveries in flight finish or, if the process ends first, are tried again
/// after their lease).
pub fn start(
    newsroom: Arc<Newsroom>,
    links: Arc<dyn SiteLinks>,
    feed: &EventFeed,
    stop: Arc<Notify>,
) -> Result<()> {
    let settings = newsroom.config().webhooks.clone();
    let timeout = Duration::from_secs(u64::from(settings.timeout_seconds));
    // The workspace builds reqwest without a default TLS provider; name the one we use.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let guard = OutboundGuard::new(&newsroom.config().outbound);
    // No redirects: a redirected POST would arrive as a GET, or somewhere the admin did not
    // choose.
    let client = guard
        .client(
            reqwest::Client::builder()
                .timeout(timeout)
                .user_agent(USER_AGENT),
            0,
        )
        .map_err(|e| ServiceError::Io(std::io::Error::other(e)))?;
    let runner = Arc::new(Runner {
        newsroom,
        links,
        client,
        guard,
        policy: settings.retry_policy(),
        timeout,
        concurrency: usize::try_from(settings.concurrency).unwrap_or(1).max(1),
        due: Notify::new(),
        stopping: AtomicBool::new(false),
        stopped: Notify::new(),
    });
    let watcher = runner.clone();
    tokio::spawn(async move {
        stop.notified().await;
        watcher.stopping.store(true, Ordering::SeqCst);
        // Two waiters, each told once (a stored permit if it is busy right now).
        watcher.stopped.notify_waiters();
        watcher.due.notify_one();
    });
    let mut events = feed.subscribe();
    let enqueuer = runner.clone();
    tokio::spawn(async move {
        while !enqueuer.stopping.load(Ordering::SeqCst) {
            if let Err(e) = enqueuer.enqueue().await {
                tracing::warn!(error = %e, "webhooks: turning events into deliveries failed; retrying");
            }
            tokio::select! {
                received = events.recv() => match received {
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => break,
                },
                _ = tokio::time::sleep(ENQUEUE_POLL) => {}
                _ = enqueuer.stopped.notified() => break,
            }
        }
    });
    tokio::spawn(runner.deliver());
    Ok(())
}

impl Runner {
    /// Reads the log after the stored cursor and stores the deliveries it calls for, until
    /// the cursor reaches the end of the log.
    async fn enqueue(&self) -> Result<()> {
        let store = self.newsroom.store();
        loop {
            let from = store.webhook_cursor().await?;
            let events = store.events_after(from, ENQUEUE_BATCH).await?;
            let Some(to) = events.last().map(|e| e.id) else {
                return Ok(());
            };
            // Bodies are built only for events some endpoint wants; the rest just move the
            // cursor on.
            let wanted: HashSet<WebhookEvent> = store
                .webhooks()
                .await?
                .into_iter()
                .filter(|w| w.enabled)
                .flat_map(|w| w.events)
                .collect();
            let mut deliveries = Vec::new();
            for event in &events {
                let Some(kind) = WebhookEvent::for_event(event.kind) else {
                    continue;
                };
                if !wanted.contains(&kind) {
                    continue;
                }
                if let Some(payload) = self.payload(event, kind).await? {
                    deliveries.push(NewDelivery {
                        event_id: event.id,
                        event: kind,
                        payload,
                    });
                }
            }
            match store
                .enqueue_webhook_deliveries(from, to, &deliveries, Timestamp::now())
                .await?
            {
                Some(stored) if stored > 0 => self.due.notify_one(),
                // Stored nothing, or another instance moved the cursor first: read on.
                _ => {}
            }
            if events.len() < ENQUEUE_BATCH as usize {
                return Ok(());
            }
        }
    }

    /// The body of an event's deliveries; `None` when what it was about is gone (a comment
    /// removed before it could be announced).
    async fn payload(&self, event: &Event, kind: WebhookEvent) -> Result<Option<String>> {
        let store = self.newsroom.store();
        match event.kind {
            EventKind::ItemPublished | EventKind::ItemUpdated | EventKind::ItemUnpublished => {
                let Some(item_id) = event.item_id else {
                    return Ok(None);
                };
                let Some(item) = store.item_by_id(item_id).await? else {
                    return Ok(None);
                };
                let url = self.links.item_url(&item);
                if event.kind == EventKind::ItemUnpublished {
                    let data = ItemGone {
                        id: item.id,
                        language: item.language.clone(),
                        url,
                    };
                    return envelope(event, kind, data).map(Some);
                }
                let data = ItemSummary {
                    id: item.id,
                    kind: item.kind.as_str(),
                    language: item.language.clone(),
                    section: item.section.clone(),
                    slug: item.slug.clone(),
                    headline: item.headline.clone(),
                    standfirst: item.standfirst.clone(),
                    url,
                    breaking: item.breaking,
                    published_at: item.published_at.map(|t| t.to_string()),
                    updated_at: item.updated_at.map(|t| t.to_string()),
                };
                envelope(event, kind, data).map(Some)
            }
            EventKind::CommentPublished => {
                let Some(comment_id) = event.comment_id else {
                    return Ok(None);
                };
                let Some(comment) = store.comment(comment_id).await? else {
                    return Ok(None);
                };
                if comment.status != newsdesk_core::comment::CommentStatus::Published {
                    return Ok(None);
                }
                let data = CommentSummary {
                    id: comment.id,
                    item_id: comment.item_id,
                    author: comment.author.clone(),
                    body_html: newsdesk_core::moderation::render_comment(&comment.body),
                    created_at: comment.created_at.to_string(),
                    url: self.links.discussion_url(comment.item_id),
                };
                envelope(event, kind, data).map(Some)
            }
            EventKind::SiteChanged | EventKind::CommentsChanged => Ok(None),
        }
    }

    /// Claims due deliveries while it has free slots and sends each on its own task.
    async fn deliver(self: Arc<Self>) {
        let slots = Arc::new(Semaphore::new(self.concurrency));
        while !self.stopping.load(Ordering::SeqCst) {
            let free = slots.available_permits();
            if free > 0 {
                let now = Timestamp::now();
                let lease = self.timeout + LEASE_MARGIN;
                let claimed = match now.checked_add(lease) {
                    Ok(lease_until) => {
                        self.newsroom
                            .store()
                            .claim_webhook_deliveries(
                                now,
                                lease_until,
                                u32::try_from(free).unwrap_or(1),
                            )
                            .await
                    }
                    Err(e) => Err(newsdesk_store::StoreError::Corrupt(e.to_string())),
                };
                match claimed {
                    Ok(claims) => {
                        for claim in claims {
                            let Ok(slot) = slots.clone().acquire_owned().await else {
                                return;
                            };
                            let runner = self.clone();
                            tokio::spawn(async move {
                                runner.attempt(claim).await;
                                drop(slot);
                                runner.due.notify_one();
                            });
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "webhooks: claiming deliveries failed; retrying")
                    }
                }
            }
            tokio::select! {
                _ = self.due.notified() => {}
                _ = tokio::time::sleep(POLL_INTERVAL) => {}
                _ = self.stopped.notified() => break,
            }
        }
    }

    /// Sends one claimed attempt and records what came back.
    async fn attempt(&self, claim: ClaimedDelivery) {
        let started_at = Timestamp::now();
        let clock = Instant::now();
        let signature = sign(
            &claim.secret,
            started_at.as_second(),
            claim.payload.as_bytes(),
        );
        let sent = match reqwest::Url::parse(&claim.url) {
            Ok(url) => match self.guard.check_url(&url) {
                Ok(()) => Ok(url),
                Err(refusal) => Err(refusal.to_string()),
            },
            Err(e) => Err(format!("the address is not a URL: {e}")),
        };
        let sent = match sent {
            Ok(url) => self.send(url, &claim, signature).await,
            Err(refused) => Err(refused),
        };
        let (status_code, response_excerpt, error) = match sent {
            Ok(answer) => answer,
            Err(error) => (None, String::new(), error),
        };
        let delivered = status_code.is_some_and(|s| (200..300).contains(&s));
        let now = Timestamp::now();
        let outcome = if delivered {
            DeliveryOutcome::Delivered
        } else {
            match self
                .policy
                .next_attempt(claim.attempt, claim.first_attempt_at, now)
            {
                Some(at) => DeliveryOutcome::RetryAt(at),
                None => DeliveryOutcome::Failed,
            }
        };
        let record = AttemptRecord {
            started_at,
            duration_ms: u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX),
            status_code,
            response_excerpt,
            error: if !delivered && error.is_empty() && status_code.is_some() {
                "the receiver did not answer 2xx".to_owned()
            } else {
                error
            },
        };
        self.record(&claim, &record, outcome).await;
    }

    /// Sends one attempt: the status, an excerpt of the answer and what went wrong reading
    /// it; or why nothing was answered.
    async fn send(
        &self,
        url: reqwest::Url,
        claim: &ClaimedDelivery,
        signature: String,
    ) -> std::result::Result<(Option<u16>, String, String), String> {
        let sent = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature)
            .header(EVENT_HEADER, claim.event.as_str())
            .header(DELIVERY_HEADER, claim.id.to_string())
            .body(claim.payload.clone())
            .send()
            .await;
        match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                let (excerpt, error) = excerpt(response).await;
                Ok((Some(status), excerpt, error))
            }
            // The guard's refusal says it all; the transport's wrapping would only blur it.
            Err(e) => Err(refusal_of(&e)
                .map(|refusal| refusal.to_string())
                .unwrap_or_else(|| error_chain(&e))),
        }
    }

    async fn record(
        &self,
        claim: &ClaimedDelivery,
        record: &AttemptRecord,
        outcome: DeliveryOutcome,
    ) {
        match self
            .newsroom
            .store()
            .record_webhook_attempt(claim, record, outcome)
            .await
        {
            Ok(true) => {
                if outcome == DeliveryOutcome::Failed {
                    tracing::warn!(
                        delivery = claim.id,
                        url = %claim.url,
                        "webhook delivery failed for good"
                    );
                }
            }
            Ok(false) => tracing::warn!(
                delivery = claim.id,
                attempt = claim.attempt,
                "webhook attempt outlived its lease; another worker owns the delivery now"
            ),
            Err(e) => tracing::warn!(
                delivery = claim.id,
                error = %e,
                "recording a webhook attempt failed; it is tried again when its lease ends"
            ),
        }
    }
}

/// What an admin needs of an answer beside its status: the first `RESPONSE_EXCERPT_MAX`
/// bytes of a text body, read no further, as one line of printable text (nothing of other
/// bodies); and what went wrong reading it, if anything did.
async fn excerpt(mut response: reqwest::Response) -> (String, String) {
    let textual = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|v| {
            v.starts_with("text/")
                || v.starts_with("application/json")
                || v.starts_with("application/problem+json")
                || v.starts_with("application/xml")
        });
    if !textual {
        return (String::new(), String::new());
    }
    let max = newsdesk_core::webhook::RESPONSE_EXCERPT_MAX;
    let mut bytes: Vec<u8> = Vec::new();
    let mut error = String::new();
    while bytes.len() < max {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(e) => {
                error = error_chain(&e);
                break;
            }
        }
    }
    bytes.truncate(max);
    (printable(&String::from_utf8_lossy(&bytes)), error)
}

/// One line of text: control characters and runs of white space become one space, and a
/// character cut in half at the end is dropped.
fn printable(text: &str) -> String {
    let text = text.trim_end_matches(char::REPLACEMENT_CHARACTER);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = if c.is_control() || c.is_whitespace() {
            ' '
        } else {
            c
        };
        if !(c == ' ' && (out.is_empty() || out.ends_with(' '))) {
            out.push(c);
        }
    }
    out.trim_end().to_owned()
}

/// An error with its causes, which say what actually failed (refused, timed out, TLS).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test";
    const BODY: &[u8] = br#"{"type":"item.published"}"#;

    #[test]
    fn a_signature_verifies_only_for_its_body_secret_and_time() {
        let now = Timestamp::now();
        let header = sign(SECRET, now.as_second(), BODY);
        assert!(header.starts_with(&format!("t={},v1=", now.as_second())));
        assert_eq!(
            verify_signature(SECRET, &header, BODY, now, SIGNATURE_TOLERANCE),
            Ok(())
        );
        assert_eq!(
            verify_signature("whsec_other", &header, BODY, now, SIGNATURE_TOLERANCE),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(SECRET, &header, b"{}", now, SIGNATURE_TOLERANCE),
            Err(SignatureError::Mismatch)
        );
        let edge = now.checked_add(SIGNATURE_TOLERANCE).expect("time");
        assert_eq!(
            verify_signature(SECRET, &header, BODY, edge, SIGNATURE_TOLERANCE),
            Ok(())
        );
        let late = edge.checked_add(Duration::from_secs(1)).expect("time");
        assert_eq!(
            verify_signature(SECRET, &header, BODY, late, SIGNATURE_TOLERANCE),
            Err(SignatureError::Stale)
        );
        for bad in ["", "t=1", "v1=00", "t=x,v1=00", "t=1,v1=zz", "garbage"] {
            assert_eq!(
                verify_signature(SECRET, bad, BODY, now, SIGNATURE_TOLERANCE),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn an_answer_excerpt_is_one_line_of_printable_text() {
        assert_eq!(
            printable("ok\r\n\tfine\u{1b}[31m  done\n"),
            "ok fine [31m done"
        );
        assert_eq!(printable("caf\u{fffd}"), "caf");
        assert_eq!(printable(""), "");
    }

    #[test]
    fn a_rotated_secret_can_be_checked_beside_the_old_one() {
        let now = Timestamp::now();
        let t = now.as_second();
        let old = sign("whsec_old", t, BODY);
        let new = sign(SECRET, t, BODY);
        let both = format!("{old},{}", new.split_once(',').expect("two parts").1);
        assert_eq!(
            verify_signature(SECRET, &both, BODY, now, SIGNATURE_TOLERANCE),
            Ok(())
        );
    }
}
