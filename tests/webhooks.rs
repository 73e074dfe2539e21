//! Webhooks end to end against the real binary: a receiver in the test that fails twice and
//! then succeeds sees three signed attempts of one body; signatures verify with the
//! receiver's own HMAC and forged ones are refused; the desk's delivery log shows every
//! attempt and replays; unpublishing and a reader's comment are announced; only admins reach
//! the room and every form needs its token; a receiver that never answers does not hold up
//! publishing; and two instances on one PostgreSQL send every attempt exactly once.

mod common;
#[path = "support/readers.rs"]
mod readers;
#[path = "support/smtp.rs"]
mod smtp;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use common::{Page, PgDatabase, TestSite, demo_config_text};
use hmac::{Hmac, KeyInit, Mac};
use newsdesk_services::webhooks::{SIGNATURE_TOLERANCE, SignatureError, verify_signature};
use sha2::Sha256;
use smtp::SmtpListener;

const ADMIN: &str = "admin@example.org";
const PASSWORD: &str = "correct horse battery";
/// How long the deliveries of a test may take: retries start at one second here.
const PATIENCE: Duration = Duration::from_secs(15);
const FAST_RETRIES: (&str, &str) = ("NEWSDESK_WEBHOOKS__RETRY_FIRST_SECONDS", "1");
/// The receivers here listen on 127.0.0.1, which the outbound guard refuses unless allowed.
const LOCAL_RECEIVERS: (&str, &str) = ("NEWSDESK_OUTBOUND__ALLOW", r#"["127.0.0.1"]"#);

/// One request the receiver got.
#[derive(Clone)]
struct Received {
    headers: HeaderMap,
    body: Vec<u8>,
    at: Instant,
}

impl Received {
    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// What the receiver does with the `n`th request (0-based) for one delivery.
type Script = fn(usize) -> Option<StatusCode>;

#[derive(Clone)]
struct Receiver {
    seen: Arc<Mutex<Vec<Received>>>,
    /// `None`: never answer.
    script: Script,
}

/// A webhook receiver on an ephemeral port, answering as `script` says.
async fn receiver(script: Script) -> (String, Receiver) {
    let state = Receiver {
        seen: Arc::new(Mutex::new(Vec::new())),
        script,
    };
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, state)
}

async fn hook(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let delivery = headers
        .get("newsdesk-delivery")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let nth = {
        let mut seen = receiver.seen.lock().expect("lock");
        let nth = seen
            .iter()
            .filter(|r| r.header("newsdesk-delivery") == delivery)
            .count();
        seen.push(Received {
            headers,
            body: body.to_vec(),
            at: Instant::now(),
        });
        nth
    };
    match (receiver.script)(nth) {
        Some(status) => status,
        None => std::future::pending().await,
    }
}

impl Receiver {
    fn all(&self) -> Vec<Received> {
        self.seen.lock().expect("lock").clone()
    }

    /// Waits until `check` holds on what arrived.
    async fn until(&self, what: &str, check: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let started = Instant::now();
        loop {
            let all = self.all();
            if check(&all) {
                return all;
            }
            assert!(
                started.elapsed() < PATIENCE,
                "the receiver never got {what}; it got {} request(s): {:?}",
                all.len(),
                all.iter()
                    .map(|r| String::from_utf8_lossy(&r.body).into_owned())
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn fails_twice(nth: usize) -> Option<StatusCode> {
    Some(if nth < 2 {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    })
}

fn fails_once(nth: usize) -> Option<StatusCode> {
    Some(if nth < 1 {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::NO_CONTENT
    })
}

fn always_ok(_: usize) -> Option<StatusCode> {
    Some(StatusCode::OK)
}

fn never_answers(_: usize) -> Option<StatusCode> {
    None
}

/// The signature as a receiver computes it, with the hmac crate and nothing of ours.
fn receivers_own_signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn read(response: reqwest::Response) -> Page {
    readers::read(response).await
}

async fn desk_get(site: &TestSite, path: &str, cookie: &str) -> Page {
    site.page_with_cookie(path, cookie).await
}

async fn desk_post(site: &TestSite, path: &str, cookie: &str, fields: &[(&str, &str)]) -> Page {
    read(
        site.client
            .post(site.url(path))
            .header("cookie", cookie)
            .form(fields)
            .send()
            .await
            .expect("post"),
    )
    .await
}

async fn admin(site: &TestSite) -> String {
    site.add_user(ADMIN, "admin", PASSWORD);
    site.desk_cookie(ADMIN, PASSWORD).await
}

async fn csrf(site: &TestSite, cookie: &str) -> String {
    desk_get(site, "/desk/webhooks", cookie)
        .await
        .attr("input[name=csrf]", "value")
}

/// Registers an endpoint through the desk; returns its id.
async fn register(site: &TestSite, cookie: &str, url: &str, events: &[&str]) -> i64 {
    let token = csrf(site, cookie).await;
    let names: Vec<String> = events.iter().map(|e| format!("event_{e}")).collect();
    let mut fields = vec![
        ("csrf", token.as_str()),
        ("url", url),
        ("description", "The partners' app"),
    ];
    fields.extend(names.iter().map(|n| (n.as_str(), "on")));
    let added = desk_post(site, "/desk/webhooks", cookie, &fields).await;
    assert_eq!(added.status, 303, "{}", added.text);
    let location = added.header("location");
    location
        .strip_prefix("/desk/webhooks/")
        .and_then(|rest| rest.strip_suffix("?done=added"))
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no webhook id in {location}"))
}

async fn secret(site: &TestSite, cookie: &str, id: i64) -> String {
    desk_get(site, &format!("/desk/webhooks/{id}"), cookie)
        .await
        .text_of(".webhook-secret")
}

fn story(slug: &str, headline: &str, status: &str) -> String {
    format!(
        r#"
[[items]]
kind = "story"
section = "world"
slug = "{slug}"
headline = "{headline}"
standfirst = "The council voted late on Tuesday."
body = "The new timetable starts in spring."
authors = ["amina-rahimova"]
status = "{status}"
"#
    )
}

#[tokio::test]
async fn a_receiver_that_fails_twice_gets_three_signed_attempts_of_one_body_then_a_replay() {
    let (url, receiver) = receiver(fails_twice).await;
    let site = TestSite::start_with(
        demo_config_text(),
        &["--demo"],
        &[FAST_RETRIES, LOCAL_RECEIVERS],
    );
    let cookie = admin(&site).await;
    let id = register(&site, &cookie, &url, &["item.published"]).await;
    let secret = secret(&site, &cookie, id).await;
    assert!(
        secret.starts_with("whsec_") && secret.len() > 40,
        "{secret}"
    );

    site.import_ok(&story(
        "tram-line-extended-to-the-harbour",
        "Tram line extended to the harbour",
        "published",
    ));
    let attempts = receiver.until("three attempts", |r| r.len() >= 3).await;
    assert_eq!(attempts.len(), 3, "the demo's own stories were not sent");
    let first = &attempts[0];
    for (n, attempt) in attempts.iter().enumerate() {
        assert_eq!(attempt.body, first.body, "attempt {n} sends the same bytes");
        assert_eq!(attempt.header("newsdesk-event"), "item.published");
        assert_eq!(attempt.header("content-type"), "application/json");
        assert_eq!(
            attempt.header("newsdesk-delivery"),
            first.header("newsdesk-delivery")
        );
        assert!(
            attempt
                .header("user-agent")
                .starts_with("newsdesk-webhooks/")
        );
        // The receiver checks the signature with its own HMAC of "<t>.<body>".
        let signature = attempt.header("newsdesk-signature");
        let (t, v1) = signature
            .strip_prefix("t=")
            .and_then(|rest| rest.split_once(",v1="))
            .unwrap_or_else(|| panic!("signature header {signature}"));
        assert_eq!(v1, receivers_own_signature(&secret, t, &attempt.body));
        assert_eq!(
            verify_signature(
                &secret,
                &signature,
                &attempt.body,
                jiff::Timestamp::now(),
                SIGNATURE_TOLERANCE
            ),
            Ok(())
        );
    }
    // Backoff: one second after the first failure, two after the second.
    let gaps = [
        attempts[1].at - attempts[0].at,
        attempts[2].at - attempts[1].at,
    ];
    assert!(
        gaps[0] >= Duration::from_millis(900) && gaps[1] >= Duration::from_millis(1900),
        "{gaps:?}"
    );

    // Forgeries a receiver refuses: another secret, an altered body, an old timestamp.
    let signature = first.header("newsdesk-signature");
    let now = jiff::Timestamp::now();
    assert_eq!(
        verify_signature(
            "whsec_guessed",
            &signature,
            &first.body,
            now,
            SIGNATURE_TOLERANCE
        ),
        Err(SignatureError::Mismatch)
    );
    let mut altered = first.body.clone();
    altered.extend_from_slice(b" ");
    assert_eq!(
        verify_signature(&secret, &signature, &altered, now, SIGNATURE_TOLERANCE),
        Err(SignatureError::Mismatch)
    );
    let later = now
        .checked_add(SIGNATURE_TOLERANCE + Duration::from_secs(60))
        .expect("time");
    assert_eq!(
        verify_signature(&secret, &signature, &first.body, later, SIGNATURE_TOLERANCE),
        Err(SignatureError::Stale)
    );

    // The body says what happened, with absolute links.
    let body = first.json();
    assert_eq!(body["type"], "item.published");
    assert!(body["id"].as_str().is_some_and(|id| id.starts_with("evt_")));
    assert!(body["event_id"].as_i64().is_some());
    assert!(
        body["occurred_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    let data = &body["data"];
    assert_eq!(data["headline"], "Tram line extended to the harbour");
    assert_eq!(data["standfirst"], "The council voted late on Tuesday.");
    assert_eq!(
        (
            data["kind"].as_str(),
            data["language"].as_str(),
            data["section"].as_str()
        ),
        (Some("story"), Some("en"), Some("world"))
    );
    assert_eq!(
        data["url"],
        site.url("/world/tram-line-extended-to-the-harbour")
    );
    assert_eq!(data["breaking"], false);

    // The desk's log shows the three attempts and their answers.
    let path = format!("/desk/webhooks/{id}");
    let started = Instant::now();
    let log = loop {
        let page = desk_get(&site, &path, &cookie).await;
        if page.texts(".delivery-state").first().map(String::as_str) == Some("delivered") {
            break page;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "never delivered:\n{}",
            page.text
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(log.texts(".attempt-status"), ["500", "500", "200"]);
    assert_eq!(log.texts(".attempt td:first-child"), ["1", "2", "3"]);
    let list = desk_get(&site, "/desk/webhooks", &cookie).await;
    assert!(
        list.text_of(".webhook-last")
            .starts_with("delivered (HTTP 200)")
    );

    // Replay: the same body again, under a new delivery id.
    let delivery: i64 = first.header("newsdesk-delivery").parse().expect("id");
    let token = log.attr("input[name=csrf]", "value");
    let replayed = desk_post(
        &site,
        &format!("{path}/deliveries/{delivery}/replay"),
        &cookie,
        &[("csrf", token.as_str())],
    )
    .await;
    assert_eq!(replayed.status, 303);
    assert_eq!(replayed.header("location"), format!("{path}?done=replayed"));
    let all = receiver.until("the replay", |r| r.len() >= 4).await;
    assert_eq!(all[3].body, first.body);
    assert_ne!(
        all[3].header("newsdesk-delivery"),
        first.header("newsdesk-delivery")
    );
    let log = desk_get(&site, &path, &cookie).await;
    assert!(
        log.text.contains(&format!("a replay of {delivery}")),
        "{}",
        log.text
    );
    let audit = desk_get(&site, "/desk/audit", &cookie).await;
    assert!(audit.text.contains("replayed a webhook delivery"));
    assert!(audit.text.contains("registered the webhook"));
}

#[tokio::test]
async fn unpublishing_and_a_readers_comment_are_announced() {
    let smtp = SmtpListener::start();
    let (url, receiver) = receiver(always_ok).await;
    let site = readers::start(&smtp, &[readers::TRUSTED, FAST_RETRIES, LOCAL_RECEIVERS]);
    let cookie = admin(&site).await;
    let id = register(
        &site,
        &cookie,
        &url,
        &["item.unpublished", "comment.published"],
    )
    .await;
    let secret = secret(&site, &cookie, id).await;

    // Published is not subscribed: only the unpublishing arrives.
    site.import_ok(&story("ferry-timetable", "Ferry timetable", "published"));
    site.import_ok(&story("ferry-timetable", "Ferry timetable", "unpublished"));
    let gone = receiver.until("the unpublishing", |r| !r.is_empty()).await;
    let body = gone[0].json();
    assert_eq!(body["type"], "item.unpublished");
    assert_eq!(gone[0].header("newsdesk-event"), "item.unpublished");
    assert_eq!(body["data"]["url"], site.url("/world/ferry-timetable"));
    assert_eq!(body["data"]["language"], "en");
    assert!(body["data"].get("headline").is_none());

    let reader = readers::new_reader(&site, &smtp, "deniz@example.org", "Deniz").await;
    let item = readers::lead_id(&site).await;
    let posted = readers::comment(
        &site,
        &reader,
        item,
        "The barrier held <well> this time.\nTides & all.",
        None,
    )
    .await;
    let comment = readers::comment_id(&posted);
    let all = receiver.until("the comment", |r| r.len() >= 2).await;
    let announced = &all[1];
    assert_eq!(announced.header("newsdesk-event"), "comment.published");
    assert_eq!(
        verify_signature(
            &secret,
            &announced.header("newsdesk-signature"),
            &announced.body,
            jiff::Timestamp::now(),
            SIGNATURE_TOLERANCE
        ),
        Ok(())
    );
    let body = announced.json();
    assert_eq!(body["type"], "comment.published");
    let data = &body["data"];
    assert_eq!(data["id"], comment);
    assert_eq!(data["item_id"], item);
    assert_eq!(data["author"], "Deniz");
    assert!(
        data["body_html"]
            .as_str()
            .is_some_and(|html| html
                == "<p>The barrier held &lt;well&gt; this time.<br>\nTides &amp; all.</p>"),
        "{data}"
    );
    assert_eq!(data["url"], site.url(&format!("/comments/{item}")));
}

#[tokio::test]
async fn only_admins_reach_webhooks_and_every_form_needs_its_token_and_limits() {
    let site = TestSite::start_with(demo_config_text(), &["--demo"], &[]);
    let cookie = admin(&site).await;
    let id = register(
        &site,
        &cookie,
        "https://hooks.example.org/in",
        &["item.updated"],
    )
    .await;
    site.add_user("editor@example.org", "editor", PASSWORD);
    let editor = site.desk_cookie("editor@example.org", PASSWORD).await;
    let token = csrf(&site, &cookie).await;
    let editor_token = desk_get(&site, "/desk", &editor)
        .await
        .attr("input[name=csrf]", "value");
    let gets = ["/desk/webhooks".to_owned(), format!("/desk/webhooks/{id}")];
    let posts = [
        "/desk/webhooks".to_owned(),
        format!("/desk/webhooks/{id}"),
        format!("/desk/webhooks/{id}/enabled"),
        format!("/desk/webhooks/{id}/secret"),
        format!("/desk/webhooks/{id}/delete"),
        format!("/desk/webhooks/{id}/deliveries/1/replay"),
    ];
    for path in &gets {
        assert_eq!(
            desk_get(&site, path, &editor).await.status,
            403,
            "GET {path}"
        );
        assert_eq!(site.page(path).await.status, 303, "GET {path} signed out");
    }
    for path in &posts {
        let refused = desk_post(
            &site,
            path,
            &editor,
            &[
                ("csrf", editor_token.as_str()),
                ("url", "https://evil.example.org/"),
                ("event_item.published", "on"),
            ],
        )
        .await;
        assert_eq!(refused.status, 403, "POST {path} as an editor");
        let unsigned = desk_post(&site, path, &cookie, &[("enabled", "no")]).await;
        assert_eq!(unsigned.status, 403, "POST {path} without the token");
        assert!(unsigned.text.contains("security token"));
    }
    let admin_page = desk_get(&site, "/desk/webhooks", &cookie).await;
    assert!(admin_page.select("nav a[href='/desk/webhooks']").len() == 1);
    let editor_page = desk_get(&site, "/desk", &editor).await;
    assert!(
        editor_page
            .select("nav a[href='/desk/webhooks']")
            .is_empty()
    );
    // Nothing changed.
    let kept = desk_get(&site, &format!("/desk/webhooks/{id}"), &cookie).await;
    assert_eq!(kept.text_of(".webhook-state"), "Enabled");

    // Bad input is refused with the reason, at the limits' edges.
    let add = |url: String, events: Vec<&'static str>| {
        let token = token.clone();
        let cookie = cookie.clone();
        let site = &site;
        async move {
            let mut fields: Vec<(&str, String)> = vec![("csrf", token), ("url", url)];
            for e in events {
                fields.push((e, "on".into()));
            }
            let borrowed: Vec<(&str, &str)> =
                fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            desk_post(site, "/desk/webhooks", &cookie, &borrowed).await
        }
    };
    let base = "https://hooks.example.org/";
    let longest = format!(
        "{base}{}",
        "a".repeat(newsdesk_core::webhook::URL_MAX - base.len())
    );
    let too_long = add(format!("{longest}a"), vec!["event_item.published"]).await;
    assert_eq!(too_long.status, 422);
    assert!(too_long.text_of(".error").contains("at most 2000"));
    let ftp = add(
        "ftp://hooks.example.org/".into(),
        vec!["event_item.published"],
    )
    .await;
    assert_eq!(ftp.status, 422);
    assert!(ftp.text_of(".error").contains("http://"));
    let no_events = add(base.into(), vec![]).await;
    assert_eq!(no_events.status, 422);
    assert!(no_events.text_of(".error").contains("at least one event"));
    assert_eq!(
        add(longest.clone(), vec!["event_item.published"])
            .await
            .status,
        303
    );
    // Two exist; fill up to the limit, then one more is refused.
    for n in 2..newsdesk_core::webhook::WEBHOOKS_MAX {
        let added = add(format!("{base}{n}"), vec!["event_item.updated"]).await;
        assert_eq!(added.status, 303, "webhook {n}");
    }
    let over = add(format!("{base}over"), vec!["event_item.updated"]).await;
    assert_eq!(over.status, 409);
    assert!(over.text_of(".error").contains("most webhooks"));

    // An admin's changes, with their token.
    let rotated = desk_post(
        &site,
        &format!("/desk/webhooks/{id}/secret"),
        &cookie,
        &[("csrf", token.as_str())],
    )
    .await;
    assert_eq!(rotated.status, 303);
    let disabled = desk_post(
        &site,
        &format!("/desk/webhooks/{id}/enabled"),
        &cookie,
        &[("csrf", token.as_str()), ("enabled", "no")],
    )
    .await;
    assert_eq!(disabled.status, 303);
    let page = desk_get(&site, &format!("/desk/webhooks/{id}"), &cookie).await;
    assert!(page.text_of(".webhook-state").starts_with("Disabled"));
    let deleted = desk_post(
        &site,
        &format!("/desk/webhooks/{id}/delete"),
        &cookie,
        &[("csrf", token.as_str())],
    )
    .await;
    assert_eq!(deleted.header("location"), "/desk/webhooks?done=deleted");
    assert_eq!(
        desk_get(&site, &format!("/desk/webhooks/{id}"), &cookie)
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn a_receiver_that_never_answers_does_not_hold_up_publishing() {
    let (url, receiver) = receiver(never_answers).await;
    let site = TestSite::start_with(
        demo_config_text(),
        &["--demo"],
        &[
            ("NEWSDESK_WEBHOOKS__TIMEOUT_SECONDS", "60"),
            LOCAL_RECEIVERS,
        ],
    );
    let cookie = admin(&site).await;
    let id = register(&site, &cookie, &url, &["item.published"]).await;
    let new_story = desk_get(&site, "/desk/new", &cookie).await;
    let token = new_story.attr("form.editor input[name=csrf]", "value");
    let publish = |headline: &'static str| {
        let token = token.clone();
        let cookie = cookie.clone();
        let site = &site;
        async move {
            desk_post(
                site,
                "/desk/new",
                &cookie,
                &[
                    ("csrf", token.as_str()),
                    ("kind", "story"),
                    ("language", "en"),
                    ("section", "world"),
                    ("headline", headline),
                    ("body", "The first one leaves at midnight."),
                    ("authors", "amina-rahimova"),
                    ("action", "publish"),
                ],
            )
            .await
        }
    };
    assert_eq!(
        publish("Night buses return to the old town").await.status,
        303
    );
    // The receiver holds the first delivery's request open and never answers.
    receiver
        .until("the first delivery", |r| !r.is_empty())
        .await;
    // Bounded only so that a regression fails instead of hanging the suite.
    let second = tokio::time::timeout(
        Duration::from_secs(30),
        publish("Night ferries return to the harbour"),
    )
    .await
    .expect("publishing waited for the receiver");
    assert_eq!(second.status, 303, "publishing completes");
    site.eventually(
        "/world/night-ferries-return-to-the-harbour",
        Duration::from_secs(2),
        |p| p.status == 200,
    )
    .await;
    // ... while the first delivery is still waiting for its answer.
    let log = desk_get(&site, &format!("/desk/webhooks/{id}"), &cookie).await;
    let states = log.texts(".delivery-state");
    assert!(
        !states.is_empty() && states.iter().all(|s| s == "pending"),
        "{states:?}"
    );
    assert!(log.select(".attempt").is_empty(), "no attempt has finished");
}

#[tokio::test]
async fn two_instances_send_every_attempt_exactly_once() {
    let Some(db) = PgDatabase::create() else {
        return;
    };
    let (url, receiver) = receiver(fails_once).await;
    let env = [
        ("NEWSDESK_DATABASE_URL", db.url.as_str()),
        FAST_RETRIES,
        LOCAL_RECEIVERS,
    ];
    let a = TestSite::start_with(demo_config_text(), &["--demo"], &env);
    let b = TestSite::start_with(demo_config_text(), &["--demo"], &env);
    let cookie = admin(&a).await;
    let id = register(&a, &cookie, &url, &["item.published"]).await;

    let stories: String = (0..10)
        .map(|n| {
            story(
                &format!("harbour-notice-{n}"),
                &format!("Harbour notice {n}"),
                "published",
            )
        })
        .collect();
    a.import_ok(&stories);

    // Every delivery fails once and then succeeds: two requests each, never more.
    let b_cookie = b.desk_cookie(ADMIN, PASSWORD).await;
    let path = format!("/desk/webhooks/{id}");
    let started = Instant::now();
    loop {
        let page = desk_get(&b, &path, &b_cookie).await;
        let states = page.texts(".delivery-state");
        if states.len() == 10 && states.iter().all(|s| s == "delivered") {
            assert_eq!(page.select(".attempt").len(), 20, "two attempts each");
            break;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "not all delivered:\n{states:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let all = receiver.all();
    let mut per_delivery: HashMap<String, usize> = HashMap::new();
    let mut events: Vec<i64> = Vec::new();
    for r in &all {
        *per_delivery
            .entry(r.header("newsdesk-delivery"))
            .or_default() += 1;
        let event = r.json()["event_id"].as_i64().expect("event id");
        if !events.contains(&event) {
            events.push(event);
        }
    }
    assert_eq!(events.len(), 10, "one delivery per event");
    assert_eq!(per_delivery.len(), 10);
    assert!(
        per_delivery.values().all(|n| *n == 2),
        "each attempt arrived once: {per_delivery:?}"
    );
    assert_eq!(all.len(), 20);
}

/// Registers an endpoint; returns the desk's answer.
async fn try_register(site: &TestSite, cookie: &str, url: &str) -> Page {
    let token = csrf(site, cookie).await;
    desk_post(
        site,
        "/desk/webhooks",
        cookie,
        &[
            ("csrf", token.as_str()),
            ("url", url),
            ("event_item.published", "on"),
        ],
    )
    .await
}

#[tokio::test]
async fn addresses_inside_the_network_are_refused_when_saved() {
    let (url, receiver) = receiver(always_ok).await;
    let port = url
        .rsplit_once(':')
        .and_then(|(_, rest)| rest.split('/').next())
        .expect("port")
        .to_owned();
    let site = TestSite::start_with(demo_config_text(), &[], &[]);
    let cookie = admin(&site).await;
    for (address, named) in [
        (url.clone(), "127.0.0.1"),
        (
            "http://169.254.169.254/latest/meta-data/".to_owned(),
            "169.254.169.254",
        ),
        (format!("http://[::1]:{port}/hook"), "[::1]"),
        (format!("http://localhost:{port}/hook"), "localhost"),
        (
            format!("http://[::ffff:127.0.0.1]:{port}/hook"),
            "[::ffff:7f00:1]",
        ),
        ("http://10.0.0.5:5432/".to_owned(), "10.0.0.5"),
        ("http://2130706433/".to_owned(), "127.0.0.1"),
    ] {
        let refused = try_register(&site, &cookie, &address).await;
        assert_eq!(refused.status, 422, "{address}: {}", refused.text);
        let error = refused.text_of(".error");
        assert!(
            error.contains(named)
                && error.contains("inside the network")
                && error.contains("outbound.allow"),
            "{address}: {error}"
        );
    }
    let list = desk_get(&site, "/desk/webhooks", &cookie).await;
    assert!(list.select(".webhook-last").is_empty(), "nothing was saved");
    assert_eq!(
        try_register(&site, &cookie, "https://hooks.example.org/in")
            .await
            .status,
        303
    );
    assert!(receiver.all().is_empty());
}

#[tokio::test]
async fn a_delivery_to_an_address_no_longer_allowed_is_refused_with_the_reason_and_no_answer() {
    let (url, receiver) = receiver(always_ok).await;
    let allowing = format!(
        "{}\n[outbound]\nallow = [\"127.0.0.1\"]\n",
        demo_config_text()
    );
    let site = TestSite::start_with(&allowing, &["--demo"], &[FAST_RETRIES]);
    let cookie = admin(&site).await;
    let id = register(&site, &cookie, &url, &["item.published"]).await;
    // The allow list is taken out of the settings: the endpoint is now inside the network.
    std::fs::write(&site.config, demo_config_text()).expect("config");
    let site = site.restart(&[]);
    let cookie = site.desk_cookie(ADMIN, PASSWORD).await;
    site.import_ok(&story("harbour-wall", "Harbour wall repaired", "published"));
    let path = format!("/desk/webhooks/{id}");
    let started = Instant::now();
    let log = loop {
        let page = desk_get(&site, &path, &cookie).await;
        if !page.select(".attempt").is_empty() {
            break page;
        }
        assert!(started.elapsed() < PATIENCE, "never tried:\n{}", page.text);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(log.texts(".attempt-status")[0], "no answer");
    let error = &log.texts(".attempt-error")[0];
    assert!(
        error.contains("127.0.0.1 is a loopback address") && error.contains("outbound.allow"),
        "{error}"
    );
    assert_eq!(log.texts(".attempt-answer")[0], "");
    assert!(receiver.all().is_empty(), "nothing reached the receiver");
}

#[tokio::test]
async fn the_desk_shows_a_short_text_excerpt_of_an_answer_and_nothing_of_other_bodies() {
    async fn answer(
        State(body): State<(&'static str, String)>,
    ) -> (StatusCode, [(&'static str, &'static str); 1], String) {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            [("content-type", body.0)],
            body.1,
        )
    }
    let mut urls = Vec::new();
    let long = format!(
        "refused:\r\n\tthe {} end SECRET=hunter2",
        "quite long ".repeat(30)
    );
    for (content_type, body) in [
        ("text/plain; charset=utf-8", long.clone()),
        ("application/octet-stream", "SECRET=hunter2".to_owned()),
    ] {
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(answer))
            .with_state((content_type, body));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        urls.push(format!(
            "http://{}/hook",
            listener.local_addr().expect("addr")
        ));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
    }
    let site = TestSite::start_with(demo_config_text(), &["--demo"], &[LOCAL_RECEIVERS]);
    let cookie = admin(&site).await;
    let text = register(&site, &cookie, &urls[0], &["item.published"]).await;
    let binary = register(&site, &cookie, &urls[1], &["item.published"]).await;
    site.import_ok(&story("sea-wall", "Sea wall repaired", "published"));
    let first_answer = |id: i64| {
        let site = &site;
        let cookie = cookie.clone();
        async move {
            let started = Instant::now();
            loop {
                let page = desk_get(site, &format!("/desk/webhooks/{id}"), &cookie).await;
                if let Some(answer) = page.texts(".attempt-answer").first() {
                    assert_eq!(page.texts(".attempt-status")[0], "500");
                    return answer.clone();
                }
                assert!(started.elapsed() < PATIENCE, "never tried:\n{}", page.text);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    let excerpt = first_answer(text).await;
    assert!(excerpt.starts_with("refused: the quite long"), "{excerpt}");
    assert!(
        excerpt.len() <= newsdesk_core::webhook::RESPONSE_EXCERPT_MAX,
        "{excerpt}"
    );
    assert!(
        !excerpt.contains("SECRET") && !excerpt.contains('\t'),
        "{excerpt}"
    );
    assert_eq!(first_answer(binary).await, "");
}
