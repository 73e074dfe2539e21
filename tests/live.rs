//! The live stream, `/api/v1/live`, over real HTTP: what it sends when items are published,
//! updated, withdrawn or breaking; that a client reconnecting with `Last-Event-ID` gets
//! exactly what it missed; its limits; and that it follows writes made on another instance.

mod common;

use std::time::{Duration, Instant};

use common::{PgDatabase, TestSite, demo_config_text};
use serde_json::Value;

/// How long a test waits for a message that must come.
const WAIT: Duration = Duration::from_secs(5);

/// One dispatched message, as an `EventSource` would see it.
#[derive(Debug, Clone)]
struct Message {
    event: String,
    data: Value,
    /// The stream's last event id when this message was dispatched.
    last_event_id: String,
}

/// A minimal EventSource: reads the body as it arrives and parses it by the HTML standard's
/// rules (9.2.6): fields, comments, and dispatch on a blank line.
struct Stream {
    response: reqwest::Response,
    buffer: String,
    /// Everything received, for checks on the raw bytes.
    raw: String,
    last_event_id: String,
    /// Value of the last `retry:` field.
    retry: Option<String>,
    event: String,
    data: Option<String>,
    /// Messages parsed and not yet taken.
    pending: std::collections::VecDeque<Message>,
}

impl Stream {
    async fn open(site: &TestSite, path: &str, headers: &[(&str, &str)]) -> Stream {
        let response = site.get_with(path, headers).await;
        assert_eq!(response.status(), 200, "GET {path}");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert!(header("content-type").starts_with("text/event-stream"));
        assert_eq!(header("cache-control"), "no-store");
        assert_eq!(header("x-accel-buffering"), "no");
        Stream {
            response,
            buffer: String::new(),
            raw: String::new(),
            last_event_id: String::new(),
            retry: None,
            event: String::new(),
            data: None,
            pending: Default::default(),
        }
    }

    /// Parses whole lines in the buffer; returns a message when one is dispatched.
    fn parse(&mut self) -> Option<Message> {
        while let Some(end) = self.buffer.find('\n') {
            let line: String = self.buffer.drain(..=end).collect();
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                let event = std::mem::take(&mut self.event);
                if let Some(data) = self.data.take() {
                    return Some(Message {
                        event: if event.is_empty() {
                            "message".into()
                        } else {
                            event
                        },
                        data: serde_json::from_str(&data)
                            .unwrap_or_else(|e| panic!("data is not JSON ({e}): {data}")),
                        last_event_id: self.last_event_id.clone(),
                    });
                }
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "id" => self.last_event_id = value.to_owned(),
                "event" => self.event = value.to_owned(),
                "data" => {
                    let data = self.data.get_or_insert_with(String::new);
                    if !data.is_empty() {
                        data.push('\n');
                    }
                    data.push_str(value);
                }
                "retry" => self.retry = Some(value.to_owned()),
                _ => {}
            }
        }
        None
    }

    /// Takes in received text and queues every message it completes.
    fn absorb(&mut self, text: &str) {
        self.raw.push_str(text);
        self.buffer.push_str(text);
        while let Some(message) = self.parse() {
            self.pending.push_back(message);
        }
    }

    async fn read_chunk(&mut self, within: Duration) {
        let chunk = tokio::time::timeout(within, self.response.chunk())
            .await
            .unwrap_or_else(|_| panic!("nothing within {within:?}; so far:\n{}", self.raw))
            .expect("read")
            .unwrap_or_else(|| panic!("the stream ended; so far:\n{}", self.raw));
        let text = String::from_utf8(chunk.to_vec()).expect("utf-8");
        self.absorb(&text);
    }

    /// Waits for the server's first chunk: the retry hint and, for a fresh client, the id it
    /// starts after.
    async fn started(&mut self) {
        self.read_chunk(WAIT).await;
    }

    /// The next message with data, within `WAIT`.
    async fn next(&mut self) -> Message {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(message) = self.pending.pop_front() {
                return message;
            }
            self.read_chunk(deadline.saturating_duration_since(Instant::now()))
                .await;
        }
    }
}

fn published(slug: &str, headline: &str, extra: &str) -> String {
    format!(
        r#"
[[items]]
kind = "story"
section = "world"
slug = "{slug}"
headline = "{headline}"
standfirst = "Written for the live stream tests."
body = "A few words of body."
status = "published"
{extra}
"#
    )
}

fn withdrawn(slug: &str, headline: &str) -> String {
    published(slug, headline, "").replace("status = \"published\"", "status = \"unpublished\"")
}

fn id_of(message: &Message) -> i64 {
    message.last_event_id.parse().expect("numeric id")
}

#[tokio::test]
async fn a_client_that_reconnects_receives_exactly_what_it_missed() {
    let site = TestSite::demo();
    let mut live = Stream::open(&site, "/api/v1/live", &[]).await;
    live.started().await;
    assert_eq!(live.retry.as_deref(), Some("5000"), "{}", live.raw);
    let start: i64 = live
        .last_event_id
        .parse()
        .expect("a fresh client starts at an id");
    assert!(start > 0, "the demo's events come before: {}", live.raw);

    site.import_ok(&published(
        "ferry-timetable-returns",
        "Ferry timetable returns to summer hours",
        "",
    ));
    let first = live.next().await;
    assert_eq!(first.event, "item.published");
    assert_eq!(
        first.data["headline"],
        "Ferry timetable returns to summer hours"
    );
    assert_eq!(first.data["url"], "/world/ferry-timetable-returns");
    assert_eq!(first.data["kind"], "story");
    assert_eq!(first.data["language"], "en");
    assert_eq!(first.data["section"], "world");
    assert_eq!(first.data["slug"], "ferry-timetable-returns");
    assert_eq!(first.data["breaking"], false);
    assert_eq!(
        first.data["standfirst"],
        "Written for the live stream tests."
    );
    assert!(
        first.data["published_at"]
            .as_str()
            .is_some_and(|t| t.parse::<jiff::Timestamp>().is_ok()),
        "{:?}",
        first.data
    );
    let first_id = id_of(&first);
    assert!(first_id > start);
    assert!(first.data["id"].as_i64().is_some());
    drop(live);

    // While the client is away: two more published, the first taken down.
    site.import_ok(&published(
        "lighthouse-keeper-retires",
        "Lighthouse keeper retires after forty winters",
        "",
    ));
    site.import_ok(&published(
        "market-square-reopens",
        "Market square reopens after repaving",
        "",
    ));
    site.import_ok(&withdrawn(
        "ferry-timetable-returns",
        "Ferry timetable returns to summer hours",
    ));

    let id = first_id.to_string();
    let by_query = format!("/api/v1/live?last_event_id={id}");
    let mut resumed = Vec::new();
    for (path, headers) in [
        ("/api/v1/live", vec![("last-event-id", id.as_str())]),
        (by_query.as_str(), vec![]),
        // The header (what EventSource sends on reconnecting) wins over a stale query.
        (
            "/api/v1/live?last_event_id=1",
            vec![("last-event-id", id.as_str())],
        ),
    ] {
        let mut again = Stream::open(&site, path, &headers).await;
        let got = [again.next().await, again.next().await, again.next().await];
        let seen: Vec<(&str, &str)> = got
            .iter()
            .map(|m| (m.event.as_str(), m.data["url"].as_str().unwrap_or_default()))
            .collect();
        assert_eq!(
            seen,
            [
                ("item.published", "/world/lighthouse-keeper-retires"),
                ("item.published", "/world/market-square-reopens"),
                ("item.unpublished", "/world/ferry-timetable-returns"),
            ],
            "{path}: {}",
            again.raw
        );
        let ids: Vec<i64> = got.iter().map(id_of).collect();
        assert!(
            ids[0] > first_id && ids[0] < ids[1] && ids[1] < ids[2],
            "{ids:?}"
        );
        assert_eq!(
            got[2].data,
            serde_json::json!({"id": first.data["id"], "language": "en", "url": "/world/ferry-timetable-returns"}),
            "a withdrawn item travels as its address only"
        );
        resumed.push(again);
    }
    // Nothing more was owed: the next message each resumed client gets is the next event.
    site.import_ok(&published(
        "tide-tables-printed",
        "Tide tables printed for the new year",
        "",
    ));
    for mut again in resumed {
        let next = again.next().await;
        assert_eq!(
            next.data["headline"], "Tide tables printed for the new year",
            "{}",
            again.raw
        );
    }
}

#[tokio::test]
async fn drafts_never_travel_and_a_replay_does_not_bring_back_a_withdrawn_item() {
    let site = TestSite::demo();
    site.add_user("editor@example.org", "editor", "correct horse battery");
    let cookie = site
        .desk_cookie("editor@example.org", "correct horse battery")
        .await;
    let mut live = Stream::open(&site, "/api/v1/live", &[]).await;
    live.started().await;
    let before: i64 = live.last_event_id.parse().expect("id");

    let csrf = site
        .page_with_cookie("/desk/new", &cookie)
        .await
        .attr("form.editor input[name=csrf]", "value");
    let saved = site
        .client
        .post(site.url("/desk/new"))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("kind", "story"),
            ("language", "en"),
            ("section", "world"),
            ("headline", "Unfinished draft about the harbour budget"),
            ("body", "Not ready for readers."),
            ("action", "save"),
        ])
        .send()
        .await
        .expect("save");
    assert_eq!(saved.status(), 303, "the draft is saved");
    site.import_ok(&published("pier-lights-mended", "Pier lights mended", ""));
    let next = live.next().await;
    assert_eq!(next.data["headline"], "Pier lights mended", "{}", live.raw);
    assert!(!live.raw.contains("Unfinished draft"), "{}", live.raw);

    // Published and withdrawn while nobody watched: the replay reads the item as it is now,
    // so its publication carries nothing and only its removal is sent.
    site.import_ok(&published(
        "rumour-about-the-mayor",
        "Rumour about the mayor",
        "",
    ));
    site.import_ok(&withdrawn(
        "rumour-about-the-mayor",
        "Rumour about the mayor",
    ));
    let from = before.to_string();
    let mut replay = Stream::open(&site, "/api/v1/live", &[("last-event-id", &from)]).await;
    let first = replay.next().await;
    assert_eq!(first.data["headline"], "Pier lights mended");
    let second = replay.next().await;
    assert_eq!(second.event, "item.unpublished", "{}", replay.raw);
    assert_eq!(second.data["url"], "/world/rumour-about-the-mayor");
    assert!(
        !replay.raw.contains("Rumour about the mayor"),
        "{}",
        replay.raw
    );
    assert!(!replay.raw.contains("Unfinished draft"), "{}", replay.raw);
}

#[tokio::test]
async fn an_edition_filter_a_breaking_item_and_an_update() {
    let site = TestSite::demo();
    let mut russian = Stream::open(&site, "/api/v1/live?lang=ru", &[]).await;
    russian.started().await;
    let mut every = Stream::open(&site, "/api/v1/live", &[]).await;
    every.started().await;

    site.import_ok(&published("english-only", "Only in English", ""));
    site.import_ok(&published(
        "tolko-po-russki",
        "Только по-русски",
        "language = \"ru\"",
    ));
    let ru = russian.next().await;
    assert_eq!(ru.data["headline"], "Только по-русски", "{}", russian.raw);
    assert_eq!(ru.data["url"], "/ru/world/tolko-po-russki");
    assert_eq!(ru.data["section_name"], "Мир");
    assert_eq!(every.next().await.data["headline"], "Only in English");
    let both = every.next().await;
    assert_eq!(both.data["headline"], "Только по-русски");
    assert_eq!(
        id_of(&both),
        id_of(&ru),
        "ids are the log's, whatever the filter"
    );

    // A breaking item: its publication, then the alert carrying the id, written together.
    let before = id_of(&both);
    site.import_ok(&published(
        "storm-warning-for-the-coast",
        "Storm warning for the whole coast",
        "breaking = true",
    ));
    let item = every.next().await;
    assert_eq!(item.event, "item.published", "{}", every.raw);
    assert_eq!(item.data["breaking"], true);
    assert_eq!(
        id_of(&item),
        before,
        "the id only moves with the last message of an event"
    );
    let alert = every.next().await;
    assert_eq!(alert.event, "breaking");
    assert_eq!(alert.data, item.data);
    assert!(id_of(&alert) > before);

    // An update of a published item.
    site.import_ok(&published(
        "english-only",
        "Only in English, now with a better headline",
        "",
    ));
    let updated = every.next().await;
    assert_eq!(updated.event, "item.updated", "{}", every.raw);
    assert_eq!(
        updated.data["headline"],
        "Only in English, now with a better headline"
    );
    assert!(id_of(&updated) > id_of(&alert));
}

async fn refusal(
    site: &TestSite,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    let response = site.get_with(path, headers).await;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body: Value = response.json().await.expect("a JSON error");
    (status, headers, body)
}

#[tokio::test]
async fn bad_parameters_are_refused_with_the_api_error() {
    let site = TestSite::empty();
    let (status, _, body) = refusal(&site, "/api/v1/live?lang=xx", &[]).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["field"], "lang");
    assert_eq!(body["error"]["code"], "invalid");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("en, ru, tr")),
        "{body}"
    );
    for (path, header) in [
        ("/api/v1/live?last_event_id=soon", None),
        ("/api/v1/live?last_event_id=-1", None),
        ("/api/v1/live", Some("12abc")),
        ("/api/v1/live", Some("null")),
        ("/api/v1/live", Some("9007199254740992")),
        // Browsers send no header while they have no id, so an empty one is not an id either
        // (the document declares an integer).
        ("/api/v1/live", Some("")),
        ("/api/v1/live?last_event_id=", None),
        // The header wins, but a wrong query value is refused all the same.
        ("/api/v1/live?last_event_id=null", Some("0")),
    ] {
        let headers: Vec<(&str, &str)> = header.iter().map(|h| ("last-event-id", *h)).collect();
        let (status, _, body) = refusal(&site, path, &headers).await;
        assert_eq!(status, 400, "{path} {header:?}");
        assert_eq!(body["error"]["field"], "last_event_id");
    }
    // A language tag in another case is the same edition.
    let mut ok = Stream::open(&site, "/api/v1/live?lang=RU", &[]).await;
    ok.started().await;
}

#[tokio::test]
async fn the_subscriber_cap_refuses_one_more_and_frees_a_slot_when_a_client_leaves() {
    let site = TestSite::start_with(
        demo_config_text(),
        &[],
        &[("NEWSDESK_LIVE__MAX_SUBSCRIBERS", "2")],
    );
    let mut one = Stream::open(&site, "/api/v1/live", &[]).await;
    one.started().await;
    let mut two = Stream::open(&site, "/api/v1/live?lang=en", &[]).await;
    two.started().await;
    let metrics = site.ok("/metrics").await.text;
    assert!(
        metrics.contains("newsdesk_live_subscribers 2\n"),
        "{metrics}"
    );

    let (status, headers, body) = refusal(&site, "/api/v1/live", &[]).await;
    assert_eq!(status, 503);
    assert_eq!(
        headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("30")
    );
    assert_eq!(body["error"]["code"], "too_many_subscribers");

    drop(two);
    let started = Instant::now();
    loop {
        let response = site.get("/api/v1/live").await;
        if response.status() == 200 {
            break;
        }
        assert!(started.elapsed() < WAIT, "the slot was not given back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(one);
}

#[tokio::test]
async fn a_resume_further_back_than_the_limit_is_told_to_reload() {
    let site = TestSite::start_with(
        demo_config_text(),
        &["--demo"],
        &[("NEWSDESK_LIVE__MAX_RESUME_EVENTS", "3")],
    );
    let mut fresh = Stream::open(&site, "/api/v1/live", &[]).await;
    fresh.started().await;
    let latest: i64 = fresh.last_event_id.parse().expect("id");
    assert!(latest > 4, "the demo wrote events");

    // Exactly the limit behind: replayed (the last demo events are items being published).
    let edge = (latest - 3).to_string();
    let mut within = Stream::open(&site, "/api/v1/live", &[("last-event-id", &edge)]).await;
    within.started().await;
    assert!(!within.raw.contains("event: reset"), "{}", within.raw);

    for (from, reason) in [
        ((latest - 4).to_string(), "too_far_behind"),
        ((latest + 1).to_string(), "unknown_event"),
    ] {
        let mut behind = Stream::open(&site, "/api/v1/live", &[("last-event-id", &from)]).await;
        let reset = behind.next().await;
        assert_eq!(reset.event, "reset", "{}", behind.raw);
        assert_eq!(reset.data["reason"], reason);
        assert_eq!(id_of(&reset), latest, "after a reset the client is current");
    }
}

#[tokio::test]
async fn one_address_holds_at_most_its_share_of_streams_however_fast_it_asks() {
    let site = TestSite::start_with(
        demo_config_text(),
        &[],
        &[("NEWSDESK_LIVE__MAX_PER_ADDRESS", "3")],
    );
    // Thirty connections from 127.0.0.1 at once: three are served, the rest refused.
    let asks = (0..30).map(|_| site.get("/api/v1/live"));
    let answers = futures_util::future::join_all(asks).await;
    let mut open = Vec::new();
    for answer in answers {
        match answer.status().as_u16() {
            200 => open.push(answer),
            429 => {
                assert_eq!(
                    answer
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok()),
                    Some("30")
                );
                let body: Value = answer.json().await.expect("a JSON error");
                assert_eq!(body["error"]["code"], "too_many_streams", "{body}");
                assert!(
                    body["error"]["message"]
                        .as_str()
                        .is_some_and(|m| m.contains("3 live streams")),
                    "{body}"
                );
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(open.len(), 3, "exactly the cap is served");
    let (status, _, _) = refusal(&site, "/api/v1/live", &[]).await;
    assert_eq!(status, 429);

    // A stream that ends gives its place back.
    drop(open.pop());
    let started = Instant::now();
    loop {
        let response = site.get("/api/v1/live").await;
        if response.status() == 200 {
            open.push(response);
            break;
        }
        assert!(started.elapsed() < WAIT, "the slot was not given back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let metrics = site.ok("/metrics").await.text;
    assert!(
        metrics.contains("newsdesk_live_subscribers 3\n"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_stale_last_event_id_is_reset_at_once_on_the_default_settings() {
    use sqlx::{ConnectOptions, Connection};
    let site = TestSite::demo();
    let mut fresh = Stream::open(&site, "/api/v1/live", &[]).await;
    fresh.started().await;
    let stale: i64 = fresh.last_event_id.parse().expect("id");
    // Two thousand events later (the log's ids jump; what matters is how far behind).
    let mut db = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(site.data_dir().join("newsdesk.sqlite3"))
        .connect()
        .await
        .expect("open the database");
    let latest = stale + 2000;
    sqlx::query(
        "INSERT INTO events (id, kind, item_id, keys, created_at) VALUES ($1, 'comments_changed', NULL, '[]', 0)",
    )
    .bind(latest)
    .execute(&mut db)
    .await
    .expect("an event");
    db.close().await.expect("close");

    let asked = Instant::now();
    let mut behind = Stream::open(
        &site,
        "/api/v1/live",
        &[("last-event-id", &stale.to_string())],
    )
    .await;
    let reset = behind.next().await;
    assert_eq!(reset.event, "reset", "{}", behind.raw);
    assert_eq!(reset.data["reason"], "too_far_behind");
    assert_eq!(id_of(&reset), latest);
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "{:?}",
        asked.elapsed()
    );
}

#[tokio::test]
async fn max_seconds_ends_the_stream_and_a_reconnect_misses_nothing() {
    let site = TestSite::demo();
    let asked = Instant::now();
    let mut short = Stream::open(&site, "/api/v1/live?max_seconds=1", &[]).await;
    short.started().await;
    let last = short.last_event_id.clone();
    let ended = tokio::time::timeout(WAIT, short.response.chunk())
        .await
        .expect("ended in time");
    assert!(
        matches!(ended, Ok(None)),
        "the stream ended cleanly: {ended:?}"
    );
    let took = asked.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(3),
        "{took:?}"
    );
    site.import_ok(&published("after-the-stream", "After the stream", ""));
    let mut again = Stream::open(&site, "/api/v1/live", &[("last-event-id", &last)]).await;
    let missed = again.next().await;
    assert_eq!(missed.event, "item.published", "{}", again.raw);
    assert_eq!(missed.data["slug"], "after-the-stream");
    for bad in ["0", "3601", "-1", "soon"] {
        let (status, _, body) =
            refusal(&site, &format!("/api/v1/live?max_seconds={bad}"), &[]).await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(body["error"]["field"], "max_seconds");
    }
}

#[tokio::test]
async fn a_server_with_open_streams_stops_promptly() {
    let mut site = TestSite::empty();
    let mut live = Stream::open(&site, "/api/v1/live", &[]).await;
    live.started().await;
    let asked = Instant::now();
    let status = site.stop().expect("was running");
    assert!(status.success(), "{status:?}\n{}", site.log());
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "shutdown waited {:?} for the open stream",
        asked.elapsed()
    );
    let ended = tokio::time::timeout(WAIT, live.response.chunk())
        .await
        .expect("ended");
    assert!(
        !matches!(ended, Ok(Some(_))),
        "the stream ended with the server"
    );
}

#[tokio::test]
async fn a_subscriber_on_one_instance_hears_what_another_published() {
    let Some(db) = PgDatabase::create() else {
        return;
    };
    let env = [("NEWSDESK_DATABASE_URL", db.url.as_str())];
    let a = TestSite::start_with(demo_config_text(), &["--demo"], &env);
    let b = TestSite::start_with(demo_config_text(), &["--demo"], &env);
    let mut on_b = Stream::open(&b, "/api/v1/live?lang=en", &[]).await;
    on_b.started().await;
    a.import_ok(&published(
        "written-on-a",
        "Written on one instance, heard on the other",
        "",
    ));
    let heard = on_b.next().await;
    assert_eq!(heard.event, "item.published");
    assert_eq!(
        heard.data["headline"],
        "Written on one instance, heard on the other"
    );

    // Resuming on A from an id B sent: the ids are the shared log's.
    a.import_ok(&published(
        "second-on-a",
        "A second story from the first instance",
        "",
    ));
    let id = heard.last_event_id.clone();
    let mut on_a = Stream::open(&a, "/api/v1/live", &[("last-event-id", &id)]).await;
    assert_eq!(
        on_a.next().await.data["headline"],
        "A second story from the first instance"
    );
}
