//! What a stranger can make the account pages do: sign-ups and password resets are limited
//! per asking address and per mailbox, hashing is bounded, mail leaves after the answer,
//! a reset answers alike for known and unknown addresses, and addresses the mailer would
//! refuse are refused up front with nothing written.

mod common;
#[path = "support/readers.rs"]
mod readers;
#[path = "support/smtp.rs"]
mod smtp;

use common::{TestSite, cookie_from, http_client_from};
use readers::{PASSWORD, new_reader, read};
use smtp::SmtpListener;

/// Fetches a pre-sign-in form with `client` and posts it with its token and cookie.
async fn post_form_with(
    client: &reqwest::Client,
    site: &TestSite,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let form = client.get(site.url(path)).send().await.expect("get form");
    let cookie = cookie_from(&form, "nd_rform").expect("form cookie");
    let page = read(form).await;
    let csrf = page.attr("form input[name=csrf]", "value");
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    client
        .post(site.url(path))
        .header("cookie", cookie)
        .form(&all)
        .send()
        .await
        .expect("post")
}

async fn sign_up_with(client: &reqwest::Client, site: &TestSite, email: &str) -> common::Page {
    read(
        post_form_with(
            client,
            site,
            "/account/sign-up",
            &[
                ("email", email),
                ("display_name", "Someone"),
                ("password", PASSWORD),
            ],
        )
        .await,
    )
    .await
}

async fn reset_with(client: &reqwest::Client, site: &TestSite, email: &str) -> common::Page {
    read(post_form_with(client, site, "/account/reset", &[("email", email)]).await).await
}

fn statuses(pages: &[common::Page], status: u16) -> usize {
    pages.iter().filter(|p| p.status == status).count()
}

#[tokio::test]
async fn addresses_the_mailer_refuses_get_422_and_nothing_is_written() {
    let smtp = SmtpListener::start();
    let site = readers::start(&smtp, &[]);
    let client = &site.client;
    for bad in [
        "a..b@example.org",
        "a(b)@example.org",
        "a@[127.0.0.1]",
        "\"a b\"@example.org",
        "a@127.0.0.1",
        ".a@example.org",
        "a@example..org",
        "a<b>@example.org",
    ] {
        let signed_up = sign_up_with(client, &site, bad).await;
        assert_eq!(signed_up.status, 422, "sign-up with {bad}");
        assert!(
            signed_up
                .text_of(".form-error")
                .contains("email is invalid"),
            "{bad}: {}",
            signed_up.text_of(".form-error")
        );
        let reset = reset_with(client, &site, bad).await;
        assert_eq!(reset.status, 422, "reset for {bad}");
        assert!(
            reset.text_of(".form-error").contains("email is invalid"),
            "{bad}: {}",
            reset.text_of(".form-error")
        );
    }
    assert_eq!(site.count_rows("readers").await, 0, "no reader was written");
    // A good address still works, and its mail is the only one sent.
    new_reader(&site, &smtp, "ab@example.org", "Ab").await;
    assert_eq!(site.count_rows("readers").await, 1);
    assert_eq!(smtp.count_to("@[127.0.0.1]"), 0);
    assert_eq!(smtp.count_to("a..b@"), 0);
}

#[tokio::test]
async fn sign_ups_and_resets_over_the_address_limit_get_429() {
    let smtp = SmtpListener::start();
    let site = readers::start(
        &smtp,
        &[("NEWSDESK_ACCOUNTS__REQUESTS_PER_ADDRESS_PER_HOUR", "5")],
    );
    // Twenty sign-ups at once from one address: five go through.
    let attempts = (0..20).map(|n| {
        let site = &site;
        async move { sign_up_with(&site.client, site, &format!("r{n}@example.org")).await }
    });
    let pages = futures_util::future::join_all(attempts).await;
    assert_eq!(
        (statuses(&pages, 200), statuses(&pages, 429)),
        (5, 15),
        "{:?}",
        pages.iter().map(|p| p.status).collect::<Vec<_>>()
    );
    for page in pages.iter().filter(|p| p.status == 429) {
        assert_eq!(page.header("retry-after"), "3600");
        assert!(
            page.text_of(".form-error")
                .contains("Too many sign-ups and password resets from your address"),
            "{}",
            page.text_of(".form-error")
        );
    }
    assert_eq!(site.count_rows("readers").await, 5);
    // A reset from the same address is over the same limit; another address has its own.
    let reset = reset_with(&site.client, &site, "r0@example.org").await;
    assert_eq!(reset.status, 429);
    let elsewhere = http_client_from("127.0.0.2");
    let reset = reset_with(&elsewhere, &site, "r0@example.org").await;
    assert_eq!(reset.status, 200);
    let signed_up = sign_up_with(&elsewhere, &site, "late@example.org").await;
    assert_eq!(signed_up.status, 200);
}

#[tokio::test]
async fn the_mailbox_limit_holds_across_addresses() {
    let smtp = SmtpListener::start();
    let site = readers::start(
        &smtp,
        &[("NEWSDESK_ACCOUNTS__MAIL_PER_MAILBOX_PER_HOUR", "3")],
    );
    new_reader(&site, &smtp, "mira@example.org", "Mira").await;
    // The sign-up spent one of Mira's three; eight resets at once from eight addresses get
    // two more.
    let clients: Vec<reqwest::Client> = (2..10)
        .map(|n| http_client_from(&format!("127.0.0.{n}")))
        .collect();
    let asked = clients
        .iter()
        .map(|client| reset_with(client, &site, "mira@example.org"));
    let pages = futures_util::future::join_all(asked).await;
    assert_eq!(
        (statuses(&pages, 200), statuses(&pages, 429)),
        (2, 6),
        "{:?}",
        pages.iter().map(|p| p.status).collect::<Vec<_>>()
    );
    let refused = pages.iter().find(|p| p.status == 429).expect("a refusal");
    assert!(
        refused.text_of(".form-error").contains("Too many mails"),
        "{}",
        refused.text_of(".form-error")
    );
    // An unknown mailbox is limited alike (the limit tells nothing about accounts).
    let nobody: Vec<u16> = {
        let mut seen = Vec::new();
        for client in &clients[..4] {
            seen.push(reset_with(client, &site, "nobody@example.org").await.status);
        }
        seen
    };
    assert_eq!(nobody, [200, 200, 200, 429]);
}

#[tokio::test]
async fn a_reset_answers_alike_for_known_and_unknown_addresses() {
    let smtp = SmtpListener::start();
    let site = readers::start(&smtp, &[]);
    new_reader(&site, &smtp, "mira@example.org", "Mira").await;
    let known = reset_with(&site.client, &site, "mira@example.org").await;
    let unknown = reset_with(&site.client, &site, "nobody@example.org").await;
    assert_eq!((known.status, unknown.status), (200, 200));
    assert_eq!(known.text, unknown.text, "the same page, byte for byte");
    assert_eq!(
        known.headers.get("set-cookie").is_some(),
        unknown.headers.get("set-cookie").is_some()
    );
    // The known address gets its link (after the answer); the unknown one gets nothing.
    smtp.wait_for_text("mira@example.org", "choose a new password");
    assert_eq!(smtp.count_to("nobody@example.org"), 0);
}

#[tokio::test]
async fn mail_leaves_after_the_answer_and_a_failure_is_logged() {
    // Nothing listens at this port: sending fails, which the reader must not see as a 500.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = dead.local_addr().expect("addr").port();
    drop(dead);
    let url = format!("smtp://127.0.0.1:{port}");
    let site = TestSite::start_with(
        common::demo_config_text(),
        &["--demo"],
        &[("NEWSDESK_MAIL__SMTP_URL", url.as_str())],
    );
    let signed_up = sign_up_with(&site.client, &site, "olga@example.org").await;
    assert_eq!(signed_up.status, 200, "{}", signed_up.text);
    assert!(signed_up.text.contains("Check your mail"));
    let started = std::time::Instant::now();
    while !site.log().contains("mail not sent") {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the failure is logged: {}",
            site.log()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn hashing_beyond_its_turns_waits_then_gets_503() {
    let smtp = SmtpListener::start();
    let site = readers::start(
        &smtp,
        &[
            ("NEWSDESK_ACCOUNTS__HASHING_AT_ONCE", "1"),
            ("NEWSDESK_ACCOUNTS__HASHING_WAIT_SECONDS", "1"),
        ],
    );
    let attempts = (0..60).map(|n| {
        let site = &site;
        async move { sign_up_with(&site.client, site, &format!("h{n}@example.org")).await }
    });
    let pages = futures_util::future::join_all(attempts).await;
    let busy = statuses(&pages, 503);
    assert!(
        busy > 0,
        "one turn cannot hash 60 passwords within a second"
    );
    assert_eq!(statuses(&pages, 200) + busy, 60);
    for page in pages.iter().filter(|p| p.status == 503) {
        assert_eq!(page.header("retry-after"), "1");
        assert!(
            page.text_of(".form-error")
                .contains("busy checking passwords")
        );
    }
    assert_eq!(
        site.count_rows("readers").await,
        i64::try_from(statuses(&pages, 200)).expect("small")
    );
}
