//! The live stream, `/api/v1/live`: Server-Sent Events for published, updated and unpublished
//! items and breaking alerts, driven by the event log. One hub task per process reads each
//! event's item once and broadcasts the finished message; a subscriber is one small stream
//! over a broadcast receiver and reads the database only to replay what a reconnecting client
//! missed. It never sends what the public cannot see: an item travels only while published.
//!
//! Wire rules. Every event of the log has one id and its messages end with that `id:` line,
//! so `Last-Event-ID` always names a whole event. A breaking item's publication or update is
//! two messages written together: `item.published` (or `item.updated`) without an id, then
//! `breaking` with it; a client cut off between them is sent both again, never neither.
//! Events a subscriber is not shown (other editions, comments, an item taken down since)
//! still move its cursor: the next keep-alive carries their id alone (`id: N`, no data), which
//! advances `Last-Event-ID` without dispatching anything.

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use newsdesk_core::{Config, Event, EventKind, Item, ItemStatus, Sections};
use newsdesk_services::ServiceError;
use newsdesk_services::follow::EventFeed;
use newsdesk_services::newsroom::BREAKING_WINDOW;
use serde::Serialize;
use tokio::sync::{Semaphore, broadcast, watch};
use tokio::time::Instant;
use utoipa::ToSchema;

use crate::AppState;
use crate::api::ApiError;
use crate::client::ClientAddress;
use crate::http::NO_STORE;
use crate::metrics::RouteName;
use crate::paths;

/// Where the stream is served.
pub const PATH: &str = "/api/v1/live";
/// A comment line goes out this often on an idle stream, so proxies and load balancers do
/// not close it for silence (most give up after 30 to 60 seconds).
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// The `retry:` hint: how long a client waits before reconnecting after a drop.
pub const RECONNECT_AFTER: Duration = Duration::from_secs(5);
/// `Retry-After` of a refusal when every subscriber slot is taken.
pub const BUSY_RETRY_AFTER_SECS: u64 = 30;
/// Highest event id a client may send back: the largest integer JSON readers and JavaScript
/// carry exactly (2^53 - 1), as the API document declares.
pub const EVENT_ID_MAX: i64 = 9_007_199_254_740_991;
/// Longest `max_seconds` a client may ask for: an hour, then it reconnects.
pub const MAX_SECONDS_MAX: u64 = 3600;
/// Events read per query while replaying for a reconnecting client.
const REPLAY_BATCH: u32 = 200;
/// Finished messages buffered per subscriber; one that falls further behind (a stalled
/// socket) replays from the log instead.
const CHANNEL_CAPACITY: usize = 1024;
/// Wait before reading an item again when the database failed the hub.
const HUB_RETRY: Duration = Duration::from_secs(1);

/// An item as the live stream carries it: enough to show it in a list of latest news.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LiveItem {
    pub id: i64,
    /// `story` or `brief`.
    #[schema(value_type = String, pattern = "^(story|brief)$")]
    pub kind: &'static str,
    pub language: String,
    /// The section's slug.
    pub section: String,
    /// The section's name in the item's language.
    pub section_name: String,
    pub section_url: String,
    pub slug: String,
    /// What goes where a headline goes (a brief without one: its opening words).
    pub headline: String,
    pub standfirst: Option<String>,
    /// The standfirst, or a brief's text, cut at a word as teasers show it.
    pub teaser: String,
    /// Path on the site.
    pub url: String,
    pub breaking: bool,
    /// RFC 3339, UTC.
    pub published_at: Option<String>,
    /// The update shown to readers, RFC 3339, UTC.
    pub updated_at: Option<String>,
}

/// An item taken down: where it was, so a client can remove it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LiveRemoval {
    pub id: i64,
    pub language: String,
    pub url: String,
}

impl LiveItem {
    pub fn new(config: &Config, sections: &Sections, item: &Item) -> Self {
        let view = crate::views::ItemView::new(config, sections, &config.time_zone(), item);
        LiveItem {
            id: item.id,
            kind: item.kind.as_str(),
            language: item.language.clone(),
            section: item.section.clone(),
            section_name: view.section.name,
            section_url: view.section.url,
            slug: item.slug.clone(),
            headline: view.headline,
            standfirst: item.standfirst.clone(),
            teaser: view.teaser,
            url: view.url,
            breaking: item.breaking,
            published_at: item.published_at.map(rfc3339),
            updated_at: item.shown_update().map(rfc3339),
        }
    }
}

/// Why a client was told to reload instead of resuming.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResetReason {
    /// More than `live.max_resume_events` events were missed.
    TooFarBehind,
    /// The id is newer than the log (another site's, or a database restored from backup).
    UnknownEvent,
}

/// `event: reset`'s data.
#[derive(Debug, Clone, Serialize)]
pub struct LiveReset {
    pub reason: ResetReason,
}

/// The schema of one message of the stream as a Server-Sent Events client dispatches it
/// (`event`, `id` and `data` as text), for the API document: Open API before 3.2 has a
/// `text/event-stream` response's `schema` describe each event. `data` is one line of JSON
/// whose schema depends on `event` (JSON Schema `contentMediaType`/`contentSchema`).
pub fn message_schema() -> serde_json::Value {
    let schema_of = |schema: utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>| {
        serde_json::to_value(schema).unwrap_or(serde_json::Value::Bool(true))
    };
    let item = schema_of(<LiveItem as utoipa::PartialSchema>::schema());
    let removal = schema_of(<LiveRemoval as utoipa::PartialSchema>::schema());
    let reset = serde_json::json!({
        "type": "object",
        "required": ["reason"],
        "properties": {
            "reason": {
                "type": "string",
                "enum": ["too_far_behind", "unknown_event"],
                "description": "`too_far_behind`: more than `live.max_resume_events` events were missed; `unknown_event`: the id is newer than the log."
            }
        }
    });
    let message = |events: &[&str], description: &str, data: serde_json::Value| {
        serde_json::json!({
            "type": "object",
            "description": description,
            "required": ["event", "data"],
            "properties": {
                "event": { "type": "string", "enum": events },
                "id": {
                    "type": "string",
                    "pattern": "^[0-9]+$",
                    "description": "The last `id:` line so far: an event's id in the log, the `Last-Event-ID` to reconnect with."
                },
                "data": {
                    "type": "string",
                    "description": "One line of JSON.",
                    "contentMediaType": "application/json",
                    "contentSchema": data
                }
            }
        })
    };
    serde_json::json!({
        "oneOf": [
            message(
                &["item.published", "item.updated", "breaking"],
                "An item published or updated; `breaking` follows the `item.published` or `item.updated` of an item published as breaking news within the last hours, with the same data.",
                item,
            ),
            message(&["item.unpublished"], "An item taken down: remove it.", removal),
            message(
                &["reset"],
                "The client missed too much to resume: reload what it shows. Its id is the newest event, so reconnecting from it carries on from now.",
                reset,
            ),
        ]
    })
}

/// Writes into the API document what utoipa cannot: each message's `data` described by its
/// schema, and parameters that may be left out but are never `null` (a header or query value
/// is text; "null" is not an event id).
pub fn describe_in(doc: &mut serde_json::Value) {
    let Some(operation) = doc.pointer_mut("/paths/~1api~1v1~1live/get") else {
        return;
    };
    if let Some(schema) = operation.pointer_mut("/responses/200/content/text~1event-stream/schema")
    {
        *schema = message_schema();
    }
    let Some(parameters) = operation
        .get_mut("parameters")
        .and_then(serde_json::Value::as_array_mut)
    else {
        return;
    };
    for parameter in parameters {
        if let Some(types) = parameter
            .pointer_mut("/schema/type")
            .filter(|t| t.is_array())
        {
            let named: Vec<serde_json::Value> = types
                .as_array()
                .into_iter()
                .flatten()
                .filter(|t| t.as_str() != Some("null"))
                .cloned()
                .collect();
            *types = match <[serde_json::Value; 1]>::try_from(named) {
                Ok([one]) => one,
                Err(many) => serde_json::Value::Array(many),
            };
        }
    }
}

fn rfc3339(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// One event of the log, ready for the wire.
#[derive(Debug)]
struct LiveEvent {
    id: i64,
    /// The edition it concerns; None for events about no item.
    language: Option<String>,
    /// Its messages, the last one carrying `id:`; empty when the event shows nothing.
    frame: Bytes,
}

impl LiveEvent {
    /// What a subscriber to `edition` (None: every edition) is sent, if anything.
    fn frame_for(&self, edition: Option<&str>) -> Option<&Bytes> {
        if self.frame.is_empty() {
            return None;
        }
        match (edition, &self.language) {
            (None, _) => Some(&self.frame),
            (Some(wanted), Some(language)) if wanted == language => Some(&self.frame),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
enum Signal {
    Event(Arc<LiveEvent>),
    KeepAlive,
}

/// The process's live stream: the hub's channel, its position in the log and the open
/// streams. Shared by the hub task and every subscriber.
pub struct Live {
    signals: broadcast::Sender<Signal>,
    /// The last event the hub has broadcast: "now" for a client that starts fresh.
    cursor: AtomicI64,
    subscribers: AtomicUsize,
    max_subscribers: usize,
    max_resume_events: u32,
    /// Open streams per client address; an address leaves the map with its last stream.
    per_address: Mutex<HashMap<IpAddr, usize>>,
    max_per_address: usize,
    /// Replays of the log running now: each batch of a replay holds one permit.
    replays: Semaphore,
    /// Turns true when the server shuts down: every stream ends, so shutdown does not wait
    /// for clients that would never hang up.
    closing: watch::Sender<bool>,
}

impl Live {
    pub fn new(settings: &newsdesk_core::config::Live) -> Self {
        Live {
            signals: broadcast::channel(CHANNEL_CAPACITY).0,
            cursor: AtomicI64::new(0),
            subscribers: AtomicUsize::new(0),
            max_subscribers: settings.max_subscribers,
            max_resume_events: settings.max_resume_events,
            per_address: Mutex::new(HashMap::new()),
            max_per_address: settings.max_per_address,
            replays: Semaphore::new(settings.max_concurrent_replays),
            closing: watch::channel(false).0,
        }
    }

    /// Streams open now.
    pub fn subscribers(&self) -> usize {
        self.subscribers.load(Ordering::Relaxed)
    }

    /// Ends every open stream and refuses new ones; call when shutdown begins.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Takes one of `address`'s slots and one of the process's, or says which was full.
    fn take_slot(self: &Arc<Self>, address: IpAddr) -> Result<Slot, Full> {
        {
            let mut per_address = self
                .per_address
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let open = per_address.entry(address).or_insert(0);
            if *open >= self.max_per_address {
                return Err(Full::Address);
            }
            *open += 1;
        }
        // From here the address's count is given back by the slot's drop, on every path.
        let mut slot = Slot {
            live: self.clone(),
            address,
            counted: false,
        };
        self.subscribers
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < self.max_subscribers).then_some(open + 1)
            })
            .map_err(|_| Full::Process)?;
        slot.counted = true;
        Ok(slot)
    }
}

/// Which limit refused a new stream.
#[derive(Debug, PartialEq, Eq)]
enum Full {
    Address,
    Process,
}

/// One taken subscriber slot, given back when the stream ends.
struct Slot {
    live: Arc<Live>,
    address: IpAddr,
    /// Whether the process-wide count holds this slot too.
    counted: bool,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if self.counted {
            self.live.subscribers.fetch_sub(1, Ordering::AcqRel);
        }
        let mut per_address = self
            .live
            .per_address
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(open) = per_address.get_mut(&self.address) {
            *open = open.saturating_sub(1);
            if *open == 0 {
                per_address.remove(&self.address);
            }
        }
    }
}

/// Starts the hub: turns each event after `cursor` into its messages once, and sends a
/// keep-alive to every stream every `KEEP_ALIVE`. Ends when the live stream closes.
pub fn follow_live(state: Arc<AppState>, feed: &EventFeed, cursor: i64) {
    let live = state.live.clone();
    live.cursor.store(cursor, Ordering::Release);
    let mut events = feed.subscribe();
    let mut closing = live.closing.subscribe();
    tokio::spawn(async move {
        let mut keep_alive = tokio::time::interval(KEEP_ALIVE);
        keep_alive.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        keep_alive.tick().await;
        loop {
            tokio::select! {
                received = events.recv() => match received {
                    Ok(event) => {
                        if event.id > live.cursor.load(Ordering::Acquire) {
                            let Some(ready) = render_patiently(&state, &closing, &event).await else {
                                break;
                            };
                            hub_send(&live, ready);
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "live stream hub lagged; reading the log");
                        if !hub_catch_up(&state, &closing).await {
                            break;
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                _ = keep_alive.tick() => {
                    let _ = live.signals.send(Signal::KeepAlive);
                }
                _ = closing.changed() => break,
            }
        }
    });
}

/// The cursor moves before the send: a subscriber that reads the cursor after subscribing
/// receives every event above it.
fn hub_send(live: &Live, ready: LiveEvent) {
    live.cursor.store(ready.id, Ordering::Release);
    // No subscribers is fine: nobody is watching.
    let _ = live.signals.send(Signal::Event(Arc::new(ready)));
}

/// Renders one event, retrying while the database fails (events go out in order, so the
/// hub waits rather than skip); None when the server shuts down meanwhile.
async fn render_patiently(
    state: &AppState,
    closing: &watch::Receiver<bool>,
    event: &Event,
) -> Option<LiveEvent> {
    loop {
        let mut items = ItemReads::default();
        match render(state, &mut items, event, Timestamp::now()).await {
            Ok(ready) => return Some(ready),
            Err(e) => {
                tracing::warn!(error = %e, event = event.id, "live stream could not read an item; retrying");
                if *closing.borrow() {
                    return None;
                }
                tokio::time::sleep(HUB_RETRY).await;
            }
        }
    }
}

/// Reads the log after the hub's cursor until it is current; false on shutdown.
async fn hub_catch_up(state: &AppState, closing: &watch::Receiver<bool>) -> bool {
    let live = &state.live;
    loop {
        if *closing.borrow() {
            return false;
        }
        let after = live.cursor.load(Ordering::Acquire);
        match state.newsroom.events_after(after, REPLAY_BATCH).await {
            Ok(events) => {
                let full = events.len() == REPLAY_BATCH as usize;
                for event in &events {
                    let Some(ready) = render_patiently(state, closing, event).await else {
                        return false;
                    };
                    hub_send(live, ready);
                }
                if !full {
                    return true;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "live stream could not read the log; retrying");
                tokio::time::sleep(HUB_RETRY).await;
            }
        }
    }
}

/// Items read while rendering one batch of events, so an item changed many times is read once.
#[derive(Default)]
struct ItemReads(HashMap<i64, Option<Item>>);

impl ItemReads {
    async fn get(&mut self, state: &AppState, id: i64) -> Result<Option<&Item>, ServiceError> {
        if let std::collections::hash_map::Entry::Vacant(slot) = self.0.entry(id) {
            // Whatever its status: an unpublished item's event says so.
            slot.insert(state.newsroom.item_by_id(id, true).await?);
        }
        Ok(self.0.get(&id).and_then(Option::as_ref))
    }
}

/// An event's messages, from its item as it is now: a published or updated item that is no
/// longer public is not shown (its `item_unpublished` event follows in the log).
async fn render(
    state: &AppState,
    items: &mut ItemReads,
    event: &Event,
    now: Timestamp,
) -> Result<LiveEvent, ServiceError> {
    let nothing = |language: Option<String>| LiveEvent {
        id: event.id,
        language,
        frame: Bytes::new(),
    };
    let name = match event.kind {
        EventKind::ItemPublished => "item.published",
        EventKind::ItemUpdated => "item.updated",
        EventKind::ItemUnpublished => "item.unpublished",
        // Sections, comments and whatever kinds come later are not the stream's business.
        _ => return Ok(nothing(None)),
    };
    let Some(item_id) = event.item_id else {
        return Ok(nothing(None));
    };
    let Some(item) = items.get(state, item_id).await? else {
        return Ok(nothing(None));
    };
    let config = state.config();
    let mut frame = String::new();
    if event.kind == EventKind::ItemUnpublished {
        let removal = LiveRemoval {
            id: item.id,
            language: item.language.clone(),
            url: paths::item_url(&config, item),
        };
        push_message(&mut frame, Some(event.id), name, &json(&removal));
    } else if item.status == ItemStatus::Published {
        let data = json(&LiveItem::new(&config, &state.sections(), item));
        let breaking = item.breaking
            && item
                .published_at
                .is_some_and(|at| at >= now - BREAKING_WINDOW);
        if breaking {
            push_message(&mut frame, None, name, &data);
            push_message(&mut frame, Some(event.id), "breaking", &data);
        } else {
            push_message(&mut frame, Some(event.id), name, &data);
        }
    } else {
        return Ok(nothing(Some(item.language.clone())));
    }
    Ok(LiveEvent {
        id: event.id,
        language: Some(item.language.clone()),
        frame: Bytes::from(frame),
    })
}

fn json<T: Serialize>(value: &T) -> String {
    // Serializing our own plain structs cannot fail; an empty object keeps the stream whole.
    serde_json::to_string(value).unwrap_or_else(|_| "{}".into())
}

/// One SSE message. `data` is one line of JSON (serde_json escapes every newline).
fn push_message(out: &mut String, id: Option<i64>, event: &str, data: &str) {
    if let Some(id) = id {
        let _ = writeln!(out, "id: {id}");
    }
    let _ = write!(out, "event: {event}\ndata: {data}\n\n");
}

/// An event id as a client sends it back. Browsers send no `Last-Event-ID` at all while
/// they have none (HTML, "server-sent events": an empty id is not sent), so an empty value is
/// refused like any other that is not an id, as the document declares.
fn event_id(raw: Option<String>) -> Result<Option<i64>, ApiError> {
    match raw.as_deref().map(str::trim) {
        None => Ok(None),
        Some(raw) => match raw.parse::<i64>() {
            Ok(id) if (0..=EVENT_ID_MAX).contains(&id) => Ok(Some(id)),
            _ => Err(ApiError::invalid(
                "last_event_id",
                "the last event id must be a whole number of zero or more, as the stream sent it",
            )),
        },
    }
}

/// What the client asked for.
struct Request {
    /// One edition, as the site spells it; None for all.
    edition: Option<String>,
    /// The last event it saw, when it reconnects.
    resume_after: Option<i64>,
    /// End the stream after this long (the client reconnects with its last id).
    max_duration: Option<Duration>,
}

fn parse_request(
    config: &Config,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<Request, ApiError> {
    let mut lang = None;
    let mut last_event_id = None;
    let mut max_seconds = None;
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "lang" => lang = Some(value.into_owned()),
            "last_event_id" => last_event_id = Some(value.into_owned()),
            "max_seconds" => max_seconds = Some(value.into_owned()),
            _ => {}
        }
    }
    let max_duration = match max_seconds {
        None => None,
        Some(raw) => match raw.trim().parse::<u64>() {
            Ok(seconds) if (1..=MAX_SECONDS_MAX).contains(&seconds) => {
                Some(Duration::from_secs(seconds))
            }
            _ => {
                return Err(ApiError::invalid(
                    "max_seconds",
                    format!("max_seconds must be a whole number from 1 to {MAX_SECONDS_MAX}"),
                ));
            }
        },
    };
    let edition = lang
        .map(|raw| crate::api::check_language(config, &raw))
        .transpose()?;
    // The header is what EventSource sends on reconnecting, so it wins over a query string
    // that still holds the first connection's value.
    let from_header = match headers.get("last-event-id") {
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| {
                    ApiError::invalid("last_event_id", "Last-Event-ID must be an event id")
                })?
                .to_owned(),
        ),
        None => None,
    };
    // Both are checked, though the header wins: a parameter the server ignores when it is
    // wrong would be one it accepts wrong.
    let from_header = event_id(from_header)?;
    let from_query = event_id(last_event_id)?;
    let resume_after = from_header.or(from_query);
    Ok(Request {
        edition,
        resume_after,
        max_duration,
    })
}

/// The live stream: Server-Sent Events of items published, updated and unpublished, and
/// breaking alerts, from the event log. Reconnect with `Last-Event-ID` (or `last_event_id`)
/// to receive exactly what was missed; `event: reset` asks a client too far behind to reload.
/// Open to every caller without a token, like the pages it keeps live.
#[utoipa::path(
    get,
    path = "/api/v1/live",
    tag = "items",
    params(
        ("lang" = Option<String>, Query, description = "One edition; all when left out"),
        ("last_event_id" = Option<i64>, Query, minimum = 0, maximum = 9_007_199_254_740_991_i64, description = "Resume after this event (the `Last-Event-ID` header wins)"),
        ("max_seconds" = Option<u64>, Query, minimum = 1, maximum = 3600, description = "End the stream after this many seconds (for clients and proxies that cannot hold a connection open); the client reconnects with `Last-Event-ID` and misses nothing. Endless when left out"),
        ("Last-Event-ID" = Option<i64>, Header, minimum = 0, maximum = 9_007_199_254_740_991_i64, description = "Resume after this event: the last `id:` the stream sent, as `EventSource` sends it on reconnecting"),
    ),
    responses(
        (status = 200, description = "Server-Sent Events (HTML Living Standard §9.2), UTF-8, one message per event and never ending unless `max_seconds` asks: each message is lines `id: <event id>` (the last message of each event), `event: <name>` and `data: <one line of JSON>`, then a blank line; the schema describes one message as a client dispatches it. The stream opens with `retry: 5000` and, for a fresh client, `id: <newest event>`; an `id:` line alone moves the client past events it is not shown, and a `: keep-alive` comment comes every 15 seconds on an idle stream", content_type = "text/event-stream", body = String),
        (status = 400, body = crate::api::ErrorBody),
        (status = 429, description = "This address holds `live.max_per_address` streams already; retry after `Retry-After` seconds", body = crate::api::ErrorBody),
        (status = 503, description = "Too many open streams; retry after `Retry-After` seconds", body = crate::api::ErrorBody),
    ),
    security(())
)]
pub async fn stream(
    State(state): State<Arc<AppState>>,
    client: ClientAddress,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let address = client.ip;
    let mut response = match open(state, address, &headers, query.as_deref()).await {
        Ok(response) => response,
        Err(refusal) => refusal.into_response(),
    };
    response.extensions_mut().insert(RouteName("live"));
    response
}

async fn open(
    state: Arc<AppState>,
    address: IpAddr,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<Response, ApiError> {
    let config = state.config();
    let request = parse_request(&config, headers, query)?;
    let live = state.live.clone();
    let busy = || ApiError {
        retry_after: Some(BUSY_RETRY_AFTER_SECS),
        ..ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too_many_subscribers",
            "The live stream is full; try again shortly.",
        )
    };
    if *live.closing.borrow() {
        return Err(busy());
    }
    let slot = live.take_slot(address).map_err(|full| match full {
        Full::Process => busy(),
        Full::Address => ApiError {
            retry_after: Some(BUSY_RETRY_AFTER_SECS),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_streams",
                format!(
                    "This address has {} live streams open already, the most one address may; close one (one stream carries every edition) and try again.",
                    live.max_per_address
                ),
            )
        },
    })?;
    // Subscribe before deciding where the stream starts: whatever the hub sends from here
    // on reaches us, and the replay or the cursor covers everything before.
    let signals = live.signals.subscribe();
    let mut preamble = format!("retry: {}\n", RECONNECT_AFTER.as_millis());
    let (cursor, replaying) = match request.resume_after {
        None => {
            let now = live.cursor.load(Ordering::Acquire);
            let _ = write!(preamble, "id: {now}\n\n");
            (now, false)
        }
        Some(after) => {
            let latest = state.newsroom.last_event_id().await.map_err(|e| {
                tracing::error!(error = %e, "live stream could not read the log");
                ApiError {
                    retry_after: Some(BUSY_RETRY_AFTER_SECS),
                    ..ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "unavailable",
                        "The live stream cannot read the news right now; try again shortly.",
                    )
                }
            })?;
            let reason = if after > latest {
                Some(ResetReason::UnknownEvent)
            } else if latest - after > i64::from(live.max_resume_events) {
                Some(ResetReason::TooFarBehind)
            } else {
                None
            };
            match reason {
                Some(reason) => {
                    preamble.push('\n');
                    push_message(
                        &mut preamble,
                        Some(latest),
                        "reset",
                        &json(&LiveReset { reason }),
                    );
                    (latest, false)
                }
                None => {
                    preamble.push('\n');
                    (after, true)
                }
            }
        }
    };
    let subscriber = Subscriber {
        state: state.clone(),
        signals,
        closing: live.closing.subscribe(),
        edition: request.edition,
        cursor,
        told: cursor,
        replaying,
        preamble: Some(Bytes::from(preamble)),
        ends_at: request.max_duration.map(|d| Instant::now() + d),
        _slot: slot,
    };
    let body = Body::from_stream(futures_util::stream::unfold(subscriber, next_chunk));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, NO_STORE),
            (
                header::HeaderName::from_static("x-accel-buffering"),
                HeaderValue::from_static("no"),
            ),
        ],
        body,
    )
        .into_response())
}

/// One open stream.
struct Subscriber {
    state: Arc<AppState>,
    signals: broadcast::Receiver<Signal>,
    closing: watch::Receiver<bool>,
    edition: Option<String>,
    /// The last event accounted for: sent, or passed over as not for this client.
    cursor: i64,
    /// The last id the client was told, its `Last-Event-ID` if it reconnected now.
    told: i64,
    /// Replaying the log after a reconnect (or after falling behind the hub).
    replaying: bool,
    preamble: Option<Bytes>,
    /// When the stream ends because the client asked (`max_seconds`).
    ends_at: Option<Instant>,
    _slot: Slot,
}

/// The next bytes of a stream; None ends it.
async fn next_chunk(mut sub: Subscriber) -> Option<(Result<Bytes, Infallible>, Subscriber)> {
    if let Some(preamble) = sub.preamble.take() {
        return Some((Ok(preamble), sub));
    }
    loop {
        if *sub.closing.borrow() {
            return None;
        }
        if sub.replaying {
            // A crowd reconnecting at once reads the log a few at a time.
            let state = sub.state.clone();
            let permit = tokio::select! {
                _ = sub.closing.changed() => return None,
                _ = until(sub.ends_at) => return None,
                permit = state.live.replays.acquire() => permit,
            };
            let Ok(_permit) = permit else {
                return None;
            };
            match sub.replay_batch().await {
                Ok(out) if out.is_empty() => continue,
                Ok(out) => return Some((Ok(Bytes::from(out)), sub)),
                Err(e) => {
                    // The client reconnects with its last id and the replay starts again.
                    tracing::warn!(error = %e, "live stream replay failed; ending the stream");
                    return None;
                }
            }
        }
        tokio::select! {
            _ = sub.closing.changed() => return None,
            _ = until(sub.ends_at) => return None,
            signal = sub.signals.recv() => match signal {
                Ok(Signal::Event(event)) => {
                    if event.id <= sub.cursor {
                        continue;
                    }
                    sub.cursor = event.id;
                    if let Some(frame) = event.frame_for(sub.edition.as_deref()) {
                        sub.told = event.id;
                        let frame = frame.clone();
                        return Some((Ok(frame), sub));
                    }
                }
                Ok(Signal::KeepAlive) => {
                    let beat = if sub.cursor > sub.told {
                        sub.told = sub.cursor;
                        format!("id: {}\n\n", sub.cursor)
                    } else {
                        ": keep-alive\n\n".to_owned()
                    };
                    return Some((Ok(Bytes::from(beat)), sub));
                }
                Err(broadcast::error::RecvError::Lagged(_)) => sub.replaying = true,
                Err(broadcast::error::RecvError::Closed) => return None,
            },
        }
    }
}

/// Waits until `deadline`, or forever without one.
async fn until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

impl Subscriber {
    /// Sends the next events after the cursor from the log; stops replaying once a read
    /// comes back short (the hub's messages carry on from there).
    async fn replay_batch(&mut self) -> Result<Vec<u8>, ServiceError> {
        let events = self
            .state
            .newsroom
            .events_after(self.cursor, REPLAY_BATCH)
            .await?;
        self.replaying = events.len() == REPLAY_BATCH as usize;
        let mut items = ItemReads::default();
        let now = Timestamp::now();
        let mut out = Vec::new();
        for event in &events {
            let ready = render(&self.state, &mut items, event, now).await?;
            self.cursor = ready.id;
            if let Some(frame) = ready.frame_for(self.edition.as_deref()) {
                self.told = ready.id;
                out.extend_from_slice(frame);
            }
        }
        Ok(out)
    }
}
