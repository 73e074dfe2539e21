//! Readers for the tests: signing up through the real forms with the mail read from the
//! test's SMTP listener, signing in, and posting comments with the session's token.

// Each test file uses a part of these.
#![allow(dead_code)]

use std::time::Duration;

use crate::common::{Page, TestSite, cookie_from, demo_config_text};
use crate::smtp::{SmtpListener, link_in};

pub const PASSWORD: &str = "a reader's long password";
pub const LEAD: &str = "/world/port-halden-closes-tidal-barrier-for-first-time";
/// How long a published comment may take to reach the cached story page.
pub const SOON: Duration = Duration::from_secs(1);

pub fn start(smtp: &SmtpListener, env: &[(&str, &str)]) -> TestSite {
    let url = smtp.url();
    // Tests sign many readers up and in from one address; the limits on that are tested on
    // their own (tests/accounts.rs) and may be set again in `env`.
    let mut all = vec![
        ("NEWSDESK_MAIL__SMTP_URL", url.as_str()),
        ("NEWSDESK_ACCOUNTS__REQUESTS_PER_ADDRESS_PER_HOUR", "10000"),
        ("NEWSDESK_ACCOUNTS__SIGN_IN_FAILURES_PER_ADDRESS", "10000"),
        ("NEWSDESK_ACCOUNTS__HASHING_WAIT_SECONDS", "60"),
    ];
    all.extend_from_slice(env);
    TestSite::start_with(demo_config_text(), &["--demo"], &all)
}

/// Trusted readers: their first comment is not held, so posting can be tested alone.
pub const TRUSTED: (&str, &str) = ("NEWSDESK_COMMENTS__NEW_READER_HELD", "0");

pub async fn read(response: reqwest::Response) -> Page {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    Page {
        status,
        html: scraper::Html::parse_document(&text),
        text,
        headers,
    }
}

/// Fetches a pre-sign-in form and posts it with its token and cookie.
pub async fn post_account_form(
    site: &TestSite,
    form_path: &str,
    post_path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let form = site.get(form_path).await;
    let cookie = cookie_from(&form, "nd_rform").expect("form cookie");
    let page = read(form).await;
    let csrf = page.attr("form input[name=csrf]", "value");
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    site.client
        .post(site.url(post_path))
        .header("cookie", cookie)
        .form(&all)
        .send()
        .await
        .expect("post")
}

pub fn path_of(site: &TestSite, link: &str) -> String {
    link.strip_prefix(&site.base)
        .expect("a link to this site")
        .to_owned()
}

/// Signs up, follows the mailed link and signs in; returns the reader's cookie.
pub async fn new_reader(site: &TestSite, smtp: &SmtpListener, email: &str, name: &str) -> String {
    let signed_up = post_account_form(
        site,
        "/account/sign-up",
        "/account/sign-up",
        &[
            ("email", email),
            ("display_name", name),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(signed_up.status(), 200);
    let link = link_in(&smtp.wait_for(email), "/account/verify/");
    assert_eq!(site.get(&path_of(site, &link)).await.status(), 200);
    sign_in(site, email, PASSWORD).await
}

pub async fn sign_in(site: &TestSite, email: &str, password: &str) -> String {
    let response = post_account_form(
        site,
        "/account/sign-in",
        "/account/sign-in",
        &[("email", email), ("password", password), ("next", LEAD)],
    )
    .await;
    assert_eq!(response.status(), 303, "sign-in of {email}");
    assert_eq!(response.headers()["location"], LEAD);
    let cookie = cookie_from(&response, "nd_reader").expect("reader cookie");
    let full = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("nd_reader="))
        .expect("cookie")
        .to_owned();
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/;"] {
        assert!(full.contains(flag), "{flag} in {full}");
    }
    cookie
}

pub async fn page_as(site: &TestSite, path: &str, cookie: &str) -> Page {
    read(
        site.client
            .get(site.url(path))
            .header("cookie", cookie)
            .send()
            .await
            .expect("get"),
    )
    .await
}

pub async fn post_as(site: &TestSite, path: &str, cookie: &str, fields: &[(&str, &str)]) -> Page {
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

/// The lead story's id, from its discussion link.
pub async fn lead_id(site: &TestSite) -> i64 {
    site.ok(LEAD)
        .await
        .attr("a.join", "href")
        .trim_start_matches("/comments/")
        .parse()
        .expect("id")
}

/// Posts a comment (or a reply) with the reader's session token.
pub async fn comment(
    site: &TestSite,
    cookie: &str,
    item: i64,
    body: &str,
    parent: Option<i64>,
) -> Page {
    let discussion = page_as(site, &format!("/comments/{item}"), cookie).await;
    let csrf = discussion.attr("#comment-form input[name=csrf]", "value");
    let key = discussion.attr("#comment-form input[name=key]", "value");
    let parent = parent.map(|p| p.to_string()).unwrap_or_default();
    post_as(
        site,
        &format!("/comments/{item}"),
        cookie,
        &[
            ("csrf", &csrf),
            ("key", &key),
            ("body", body),
            ("parent", &parent),
        ],
    )
    .await
}

pub fn comment_id(page: &Page) -> i64 {
    page.header("location")
        .rsplit("#c")
        .next()
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "no comment id in {}: {}",
                page.header("location"),
                page.text
            )
        })
}
