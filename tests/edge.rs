//! The HTTP edge against the real binary: where sign-in sends people back to, what the access
//! log keeps, which client address and scheme the server believes behind a proxy, cookies
//! and HSTS over https, and who may read `/metrics`.

mod common;
#[path = "support/readers.rs"]
mod readers;
#[path = "support/smtp.rs"]
mod smtp;

use std::time::{Duration, Instant};

use common::{TestSite, cookie_from, demo_config_text};
use readers::*;
use smtp::SmtpListener;

fn location(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[tokio::test]
async fn reader_sign_in_never_sends_anyone_to_another_site() {
    let smtp = SmtpListener::start();
    let site = start(&smtp, &[]);
    new_reader(&site, &smtp, "nina@example.org", "Nina").await;
    for (next, expected) in [
        ("/\t/evil.example/phish", "/"),
        ("/%09/evil.example/phish", "/"),
        ("/\n/evil", "/"),
        ("/%0A/evil", "/"),
        ("/\\evil.example", "/"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        (LEAD, LEAD),
    ] {
        let signed_in = post_account_form(
            &site,
            "/account/sign-in",
            "/account/sign-in",
            &[
                ("email", "nina@example.org"),
                ("password", PASSWORD),
                ("next", next),
            ],
        )
        .await;
        assert_eq!(signed_in.status(), 303, "{next:?}");
        assert_eq!(
            location(&signed_in).as_deref(),
            Some(expected),
            "every sign-in answer carries a Location on this site: {next:?}"
        );
    }
    // The form itself never carries the way out in its hidden field either.
    let form = read(
        site.get("/account/sign-in?next=/%09/evil.example/phish")
            .await,
    )
    .await;
    assert_eq!(form.attr("form input[name=next]", "value"), "/");
}

#[tokio::test]
async fn desk_sign_in_answers_a_valid_location_for_any_next() {
    let site = TestSite::empty();
    site.add_user("ed@example.org", "editor", common::STAFF_PASSWORD);
    for (next, expected) in [
        ("/desk\n/evil", "/desk"),
        ("/desk/%0A/evil", "/desk"),
        ("/desk/\t/evil", "/desk"),
        ("//evil.example/desk", "/desk"),
        ("/desktop", "/desk"),
        ("/desk/items/1", "/desk/items/1"),
    ] {
        let form = site.get("/desk/sign-in").await;
        let cookie = cookie_from(&form, "nd_form").expect("form cookie");
        let page = read(form).await;
        let csrf = page.attr("form input[name=csrf]", "value");
        let signed_in = site
            .client
            .post(site.url("/desk/sign-in"))
            .header("cookie", cookie)
            .form(&[
                ("csrf", csrf.as_str()),
                ("email", "ed@example.org"),
                ("password", common::STAFF_PASSWORD),
                ("next", next),
            ])
            .send()
            .await
            .expect("post");
        assert_eq!(signed_in.status(), 303, "{next:?}");
        assert_eq!(location(&signed_in).as_deref(), Some(expected), "{next:?}");
    }
}

#[tokio::test]
async fn one_time_links_are_redacted_in_the_access_log() {
    let site = TestSite::empty();
    let setup = site
        .stdout()
        .lines()
        .find_map(|l| {
            l.split_whitespace()
                .find(|w| w.contains("/desk/setup/"))
                .map(str::to_owned)
        })
        .expect("a setup link");
    let setup_path = setup
        .strip_prefix(&site.base)
        .expect("a link to this site")
        .to_owned();
    let setup_token = setup_path.rsplit('/').next().expect("token").to_owned();
    assert_eq!(site.get(&setup_path).await.status(), 200);
    let reset_token = "reset-token-that-must-not-be-logged";
    let verify_token = "verify-token-that-must-not-be-logged";
    site.get(&format!("/account/reset/{reset_token}")).await;
    site.get(&format!("/account/verify/{verify_token}")).await;
    site.get(&format!("/Account/Reset/{reset_token}")).await;
    site.get("/healthz").await;
    let log = site.log_containing("/healthz").await;
    for secret in [setup_token.as_str(), reset_token, verify_token] {
        assert!(!log.contains(secret), "{secret} is in the log:\n{log}");
    }
    for redacted in ["/desk/setup/…", "/account/reset/…", "/account/verify/…"] {
        assert!(log.contains(redacted), "{redacted} missing:\n{log}");
    }
}

const FORWARDED_FOR: &str = "x-forwarded-for";

/// Sends `count` API reads at once, each claiming to come from the address `claimed(i)`.
async fn api_reads(site: &TestSite, count: usize, claimed: impl Fn(usize) -> String) -> Vec<u16> {
    let requests = (0..count).map(|i| {
        site.client
            .get(site.url("/api/v1/sections"))
            .header(FORWARDED_FOR, claimed(i))
            .send()
    });
    futures_util::future::join_all(requests)
        .await
        .into_iter()
        .map(|r| r.expect("response").status().as_u16())
        .collect()
}

#[tokio::test]
async fn forwarded_addresses_from_a_stranger_are_ignored() {
    let site = TestSite::start_with(
        demo_config_text(),
        &[],
        &[("NEWSDESK_API__PER_ADDRESS_PER_MINUTE", "5")],
    );
    // Thirty requests each claiming another address: all are one address to us, so the
    // budget of five holds exactly.
    let statuses = api_reads(&site, 30, |i| format!("198.51.100.{i}")).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        25,
        "{statuses:?}"
    );
    let log = site.log_containing("/api/v1/sections").await;
    assert!(!log.contains("198.51.100."), "{log}");
}

#[tokio::test]
async fn forwarded_addresses_from_a_trusted_proxy_are_the_clients() {
    let site = TestSite::start_with(
        demo_config_text(),
        &[],
        &[
            ("NEWSDESK_API__PER_ADDRESS_PER_MINUTE", "5"),
            ("NEWSDESK_SERVER__TRUSTED_PROXIES", r#"["127.0.0.1"]"#),
        ],
    );
    // Thirty clients behind the proxy, two requests each: each has its own budget.
    let statuses = api_reads(&site, 60, |i| format!("198.51.100.{}", i / 2)).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    // One client behind the proxy, typing a forged hop on the left: still one client.
    let statuses = api_reads(&site, 30, |i| format!("10.9.9.{i}, 203.0.113.77")).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        5,
        "{statuses:?}"
    );
    let log = site.log_containing("203.0.113.77").await;
    assert!(log.contains("198.51.100.29"), "{log}");
}

#[tokio::test]
async fn cookies_are_secure_and_hsts_is_sent_when_a_trusted_proxy_says_https() {
    let site = TestSite::start_with(
        demo_config_text(),
        &[],
        &[("NEWSDESK_SERVER__TRUSTED_PROXIES", r#"["127.0.0.1"]"#)],
    );
    for path in ["/desk/sign-in", "/account/sign-in"] {
        let over_https = site.get_with(path, &[("x-forwarded-proto", "https")]).await;
        let cookies: Vec<String> = over_https
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        assert!(!cookies.is_empty(), "{path}");
        assert!(
            cookies.iter().all(|c| c.ends_with("; Secure")),
            "{cookies:?}"
        );
        assert_eq!(
            over_https.headers()["strict-transport-security"],
            "max-age=31536000"
        );
        let over_http = site.get(path).await;
        assert!(
            over_http
                .headers()
                .get_all("set-cookie")
                .iter()
                .all(|c| !c.to_str().unwrap_or_default().contains("Secure")),
            "{path}"
        );
        assert!(
            over_http
                .headers()
                .get("strict-transport-security")
                .is_none()
        );
    }
}

#[tokio::test]
async fn a_strangers_claim_of_https_changes_nothing() {
    let site = TestSite::empty();
    let response = site
        .get_with("/account/sign-in", &[("x-forwarded-proto", "https")])
        .await;
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        cookie.starts_with("nd_rform=") && !cookie.contains("Secure"),
        "{cookie}"
    );
    assert!(
        response
            .headers()
            .get("strict-transport-security")
            .is_none()
    );
}

#[tokio::test]
async fn an_https_site_sends_hsts_for_as_long_as_configured() {
    let site = TestSite::start_with(
        demo_config_text(),
        &[],
        &[
            ("NEWSDESK_SITE__BASE_URL", "https://news.example.org"),
            ("NEWSDESK_SERVER__HSTS_MAX_AGE_SECONDS", "600"),
        ],
    );
    let response = site.get("/desk/sign-in").await;
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=600"
    );
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(cookie.ends_with("; Secure"), "{cookie}");
    drop(site);
    let off = TestSite::start_with(
        demo_config_text(),
        &[],
        &[
            ("NEWSDESK_SITE__BASE_URL", "https://news.example.org"),
            ("NEWSDESK_SERVER__HSTS_MAX_AGE_SECONDS", "0"),
        ],
    );
    let response = off.get("/desk/sign-in").await;
    assert!(
        response
            .headers()
            .get("strict-transport-security")
            .is_none()
    );
}

#[tokio::test]
async fn metrics_are_for_this_machine_or_the_token_holder() {
    let site = TestSite::empty();
    assert_eq!(
        site.get("/metrics").await.status(),
        200,
        "from this machine"
    );
    let proxied = site
        .get_with("/metrics", &[(FORWARDED_FOR, "198.51.100.1")])
        .await;
    assert_eq!(proxied.status(), 403, "through a proxy on this machine");
    drop(site);

    let token = "a-metrics-token-of-some-length";
    let site = TestSite::start_with(
        demo_config_text(),
        &[],
        &[("NEWSDESK_METRICS__TOKEN", token)],
    );
    assert_eq!(site.get("/metrics").await.status(), 403, "no token");
    let wrong = site
        .get_with(
            "/metrics",
            &[("authorization", "Bearer a-metrics-token-of-some-lengtH")],
        )
        .await;
    assert_eq!(wrong.status(), 403);
    let bearer = format!("Bearer {token}");
    let right = site
        .get_with(
            "/metrics",
            &[
                ("authorization", bearer.as_str()),
                (FORWARDED_FOR, "198.51.100.1"),
            ],
        )
        .await;
    assert_eq!(right.status(), 200);
    assert!(
        right
            .text()
            .await
            .expect("body")
            .contains("newsdesk_uptime_seconds")
    );
}

/// Sends `head` on a raw connection and returns what the server answers within `patience`.
async fn raw_exchange(site: &TestSite, head: &str, patience: Duration) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = site.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    stream.write_all(head.as_bytes()).await.expect("send");
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + patience;
    while let Ok(Ok(n)) = tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buffer[..n]);
        if answer.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_declared_body_over_the_limit_is_refused_at_once() {
    let site = TestSite::empty();
    let patience = Duration::from_secs(3);
    for (path, declared) in [
        ("/account/sign-in", "99999999999"),
        ("/desk/sign-in", "99999999999"),
        ("/api/v1/auth/sign-in", "99999999999"),
        ("/api/v1/auth/sign-in", "524289"),
        ("/account/sign-in", "2097153"),
    ] {
        let started = Instant::now();
        let answer = raw_exchange(
            &site,
            &format!(
                "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {declared}\r\n\r\n"
            ),
            patience,
        )
        .await;
        assert!(
            answer.starts_with("HTTP/1.1 413"),
            "{path} with {declared}: {answer:?}"
        );
        assert!(started.elapsed() < patience);
    }
    // At the limit the body is awaited as usual (here: the API's 512 KiB).
    let at_limit = raw_exchange(
        &site,
        "POST /api/v1/auth/sign-in HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 524288\r\n\r\n",
        Duration::from_millis(500),
    )
    .await;
    assert_eq!(at_limit, "", "nothing is answered before the body arrives");
}

#[tokio::test]
async fn text_after_the_json_body_is_refused_with_the_apis_error() {
    let site = TestSite::empty();
    for body in [
        r#"{"email": "a@example.org", "password": "x"}garbage"#,
        r#"{"email": "a@example.org", "password": "x"} {}"#,
    ] {
        let response = site
            .client
            .post(site.url("/api/v1/auth/sign-in"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("post");
        assert_eq!(response.status(), 400, "{body}");
        let error: serde_json::Value = response.json().await.expect("json");
        assert_eq!(error["error"]["code"], "invalid", "{error}");
        assert_eq!(error["error"]["field"], "body", "{error}");
        let message = error["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("text after the JSON"), "{message}");
    }
    let trailing_space = site
        .client
        .post(site.url("/api/v1/auth/sign-in"))
        .header("content-type", "application/json")
        .body("{\"email\": \"a@example.org\", \"password\": \"x\"}\n  ")
        .send()
        .await
        .expect("post");
    assert_eq!(
        trailing_space.status(),
        401,
        "whitespace after JSON is fine"
    );
}

/// A connection that has sent half of a request's headers, as a slow client would.
async fn half_request(site: &TestSite) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let address = site.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: slow")
        .await
        .expect("send");
    stream
}

/// What the server does with a connection within `patience`: `Some(text)` when it answered
/// or closed it (text empty on a close without an answer), `None` when it still waits.
async fn outcome(stream: &mut tokio::net::TcpStream, patience: Duration) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut answer = Vec::new();
    let mut buffer = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Err(_) if answer.is_empty() => return None,
            Err(_) | Ok(Ok(0)) | Ok(Err(_)) => {
                return Some(String::from_utf8_lossy(&answer).into_owned());
            }
            Ok(Ok(n)) => answer.extend_from_slice(&buffer[..n]),
        }
    }
}

#[tokio::test]
async fn half_sent_requests_are_closed_at_the_header_timeout_while_readers_are_served() {
    let site = TestSite::start_with(
        demo_config_text(),
        &[],
        &[("NEWSDESK_SERVER__HEADER_READ_TIMEOUT_SECONDS", "1")],
    );
    let started = Instant::now();
    let mut slow = futures_util::future::join_all((0..30).map(|_| half_request(&site))).await;
    let readers = futures_util::future::join_all((0..20).map(|_| site.get("/healthz"))).await;
    assert!(readers.iter().all(|r| r.status() == 200));
    let closed =
        futures_util::future::join_all(slow.iter_mut().map(|s| outcome(s, Duration::from_secs(5))))
            .await;
    let elapsed = started.elapsed();
    assert!(closed.iter().all(Option::is_some), "{closed:?}");
    assert!(
        elapsed >= Duration::from_millis(900),
        "closed too soon: {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

#[tokio::test]
async fn connections_beyond_the_per_address_cap_are_refused_while_others_are_served() {
    let site = TestSite::start_with(
        demo_config_text(),
        &[],
        &[("NEWSDESK_SERVER__MAX_CONNECTIONS_PER_ADDRESS", "5")],
    );
    let mut held = futures_util::future::join_all((0..20).map(|_| half_request(&site))).await;
    let outcomes = futures_util::future::join_all(
        held.iter_mut()
            .map(|s| outcome(s, Duration::from_millis(1500))),
    )
    .await;
    let refused = outcomes
        .iter()
        .filter(|o| {
            o.as_deref().is_some_and(|a| {
                a.starts_with("HTTP/1.1 503") && a.contains("Too many connections")
            })
        })
        .count();
    let waiting = outcomes.iter().filter(|o| o.is_none()).count();
    assert_eq!((waiting, refused), (5, 15), "{outcomes:?}");

    // Another address is served meanwhile.
    let elsewhere = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .expect("client");
    let served = elsewhere
        .get(site.url("/healthz"))
        .send()
        .await
        .expect("from 127.0.0.2");
    assert_eq!(served.status(), 200);

    // Hanging up gives the slots back.
    drop(held);
    let started = Instant::now();
    loop {
        let fresh = reqwest::Client::new()
            .get(site.url("/healthz"))
            .send()
            .await;
        if fresh.is_ok_and(|r| r.status() == 200) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "slots never came back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn sigterm_ends_the_server_promptly_while_a_client_holds_half_a_request() {
    let mut site = TestSite::start_with(
        demo_config_text(),
        &[],
        &[
            ("NEWSDESK_SERVER__HEADER_READ_TIMEOUT_SECONDS", "600"),
            ("NEWSDESK_SERVER__SHUTDOWN_GRACE_SECONDS", "2"),
        ],
    );
    let mut slow = half_request(&site).await;
    assert_eq!(outcome(&mut slow, Duration::from_millis(300)).await, None);
    let started = Instant::now();
    let status = site.stop().expect("the server was running");
    let elapsed = started.elapsed();
    assert!(status.success(), "{status:?}");
    assert!(elapsed < Duration::from_secs(6), "{elapsed:?}");
}
