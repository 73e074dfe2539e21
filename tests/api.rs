//! The JSON API against the real binary: reads with cursors, filters, ETags and the one error
//! object; readers signing in and commenting by the site's rules; staff tokens made in the
//! desk writing through the desk's workflow; read keys, rate limits and CORS; the OpenAPI
//! document and its readable page; and schemathesis run against the running server.

mod common;
#[path = "support/readers.rs"]
mod readers;
#[path = "support/smtp.rs"]
mod smtp;

use std::collections::HashSet;

use common::{TestSite, demo_config_text};
use readers::{PASSWORD, TRUSTED, new_reader};
use serde_json::{Value, json};
use smtp::SmtpListener;

async fn get_json(site: &TestSite, path: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    let response = site.get_with(path, headers).await;
    let status = response.status().as_u16();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}

async fn send_json(
    site: &TestSite,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> (u16, Value) {
    let mut request = site.client.request(method, site.url(path)).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}

fn assert_error(body: &Value, code: &str, field: Option<&str>) {
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    match field {
        Some(f) => assert_eq!(body["error"]["field"], f, "{body}"),
        None => assert!(body["error"]["field"].is_null(), "{body}"),
    }
}

#[tokio::test]
async fn the_stream_pages_by_cursor_and_filters() {
    let site = TestSite::demo();
    let (status, all) = get_json(&site, "/api/v1/items?limit=100", &[]).await;
    assert_eq!(status, 200);
    let all_ids: Vec<i64> = all["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_i64().expect("id"))
        .collect();
    assert!(all_ids.len() >= 6, "the demo has items: {all}");
    assert!(all["next_cursor"].is_null());
    // Walking two at a time visits every item once, in the same order.
    let mut walked = Vec::new();
    let mut path = "/api/v1/items?limit=2".to_owned();
    loop {
        let (status, page) = get_json(&site, &path, &[]).await;
        assert_eq!(status, 200, "{page}");
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= 2);
        walked.extend(items.iter().map(|i| i["id"].as_i64().expect("id")));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/items?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(walked, all_ids);
    // Filters.
    let (_, briefs) = get_json(&site, "/api/v1/items?kind=brief&limit=100", &[]).await;
    let briefs = briefs["items"].as_array().expect("items").clone();
    assert!(!briefs.is_empty());
    assert!(briefs.iter().all(|i| i["kind"] == "brief"));
    let first = &all["items"][0];
    let section = first["section"]["slug"].as_str().expect("section");
    let (_, in_section) = get_json(
        &site,
        &format!("/api/v1/items?section={section}&limit=100"),
        &[],
    )
    .await;
    let in_section = in_section["items"].as_array().expect("items").clone();
    assert!(!in_section.is_empty());
    assert!(in_section.iter().all(|i| i["section"]["slug"] == section));
    assert!(in_section.len() < all_ids.len());
    let lang = first["language"].as_str().expect("language");
    let (_, in_lang) = get_json(&site, &format!("/api/v1/items?lang={lang}&limit=100"), &[]).await;
    assert!(
        in_lang["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|i| i["language"] == lang)
    );
    // Every link is absolute and reaches the page.
    let url = first["url"].as_str().expect("url");
    assert!(url.starts_with(&site.base), "{url}");
    assert_eq!(site.get(&url[site.base.len()..]).await.status(), 200);
    // Limits at their edges, and bad values name their field.
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("lang=xx", "lang"),
        ("section=Not%20A%20Slug", "section"),
        ("cursor=yesterday", "cursor"),
        ("kind=column", "kind"),
        ("colour=red", "colour"),
    ] {
        let (status, body) = get_json(&site, &format!("/api/v1/items?{query}"), &[]).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_error(&body, "invalid", Some(field));
    }
    let (status, _) = get_json(&site, "/api/v1/items?limit=100", &[]).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn one_item_reads_whole_by_id_and_by_slug_with_etags() {
    let site = TestSite::demo();
    let (_, stream) = get_json(&site, "/api/v1/items?kind=story&limit=1", &[]).await;
    let summary = &stream["items"][0];
    let id = summary["id"].as_i64().expect("id");
    let response = site.get(&format!("/api/v1/items/{id}")).await;
    assert_eq!(response.status(), 200);
    let etag = response.headers()["etag"]
        .to_str()
        .expect("etag")
        .to_owned();
    let cache_control = response.headers()["cache-control"]
        .to_str()
        .expect("cache-control")
        .to_owned();
    assert!(cache_control.starts_with("public"), "{cache_control}");
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "JSON"
    );
    let item: Value = response.json().await.expect("json");
    assert_eq!(item["status"], "published");
    assert!(
        item["body_html"]
            .as_str()
            .is_some_and(|b| b.contains("<p>"))
    );
    let blocks = item["body_blocks"].as_array().expect("blocks");
    assert!(!blocks.is_empty());
    assert!(blocks.iter().all(|b| b["type"].is_string()));
    assert_eq!(blocks[0]["type"], "paragraph", "{item}");
    assert!(item["version"].as_i64().is_some_and(|v| v >= 1));
    // Conditional requests.
    let again = site
        .get_with(&format!("/api/v1/items/{id}"), &[("if-none-match", &etag)])
        .await;
    assert_eq!(again.status(), 304);
    // By slug, the same item.
    let lang = item["language"].as_str().expect("lang");
    let slug = item["slug"].as_str().expect("slug");
    let (status, by_slug) =
        get_json(&site, &format!("/api/v1/items/by-slug/{lang}/{slug}"), &[]).await;
    assert_eq!(status, 200);
    assert_eq!(by_slug["id"], id);
    // Related items, comments, and errors.
    let (status, related) = get_json(&site, &format!("/api/v1/items/{id}/related"), &[]).await;
    assert_eq!(status, 200);
    assert!(
        related["items"]
            .as_array()
            .is_some_and(|r| r.iter().all(|i| i["id"] != id))
    );
    let (status, thread) = get_json(&site, &format!("/api/v1/items/{id}/comments"), &[]).await;
    assert_eq!(status, 200, "{thread}");
    assert!(thread["total"].is_u64() && thread["comments"].is_array());
    let (status, body) = get_json(&site, "/api/v1/items/999999", &[]).await;
    assert_eq!(status, 404);
    assert_error(&body, "not_found", None);
    for bad in ["0", "abc", "-3", "9223372036854775808"] {
        let (status, body) = get_json(&site, &format!("/api/v1/items/{bad}"), &[]).await;
        assert_eq!(status, 400, "{bad}");
        assert_error(&body, "invalid", Some("id"));
    }
    let (status, body) = get_json(&site, "/api/v1/nothing-here", &[]).await;
    assert_eq!(status, 404);
    assert_error(&body, "not_found", None);
    let response = site
        .client
        .delete(site.url("/api/v1/sections"))
        .send()
        .await
        .expect("delete");
    assert_eq!(response.status(), 405);
    let body: Value = response.json().await.expect("json");
    assert_error(&body, "method_not_allowed", None);
}

#[tokio::test]
async fn labels_breaking_and_search_answer() {
    let site = TestSite::demo();
    let (status, sections) = get_json(&site, "/api/v1/sections", &[]).await;
    assert_eq!(status, 200);
    let sections = sections["sections"].as_array().expect("sections");
    assert!(sections.iter().any(|s| s["slug"] == "world"));
    let (_, tags) = get_json(&site, "/api/v1/tags", &[]).await;
    assert!(tags["tags"].as_array().is_some_and(|t| !t.is_empty()));
    let (_, authors) = get_json(&site, "/api/v1/authors", &[]).await;
    assert!(authors["authors"].as_array().is_some_and(|a| !a.is_empty()));
    let (status, breaking) = get_json(&site, "/api/v1/breaking", &[]).await;
    assert_eq!(status, 200);
    assert!(breaking.get("item").is_some(), "{breaking}");
    // Search finds what the stream holds.
    let (_, stream) = get_json(&site, "/api/v1/items?kind=story&limit=1", &[]).await;
    let headline = stream["items"][0]["headline"].as_str().expect("headline");
    let word = headline
        .split_whitespace()
        .max_by_key(|w| w.len())
        .expect("a word")
        .trim_matches(|c: char| !c.is_alphanumeric());
    let (status, found) = get_json(&site, &format!("/api/v1/search?q={word}"), &[]).await;
    assert_eq!(status, 200, "{found}");
    assert!(
        found["results"].as_array().is_some_and(|r| r
            .iter()
            .any(|h| h["item"]["id"] == stream["items"][0]["id"])),
        "{word}: {found}"
    );
    let long = "a".repeat(201);
    let (status, body) = get_json(&site, &format!("/api/v1/search?q={long}"), &[]).await;
    assert_eq!(status, 400);
    assert_error(&body, "invalid", Some("q"));
    let (status, _) = get_json(&site, &format!("/api/v1/search?q={}", "a".repeat(200)), &[]).await;
    assert_eq!(status, 200);
    let (status, body) = get_json(&site, "/api/v1/search?q=harbour&page=51", &[]).await;
    assert_eq!(status, 400);
    assert_error(&body, "invalid", Some("page"));
}

#[tokio::test]
async fn readers_sign_in_and_comment_by_the_sites_rules() {
    let smtp = SmtpListener::start();
    let site = readers::start(&smtp, &[TRUSTED]);
    new_reader(&site, &smtp, "mira@example.org", "Mira").await;
    let story = readers::lead_id(&site).await;
    // Wrong password: 401 with the error object; the right one: a token.
    let (status, body) = send_json(
        &site,
        reqwest::Method::POST,
        "/api/v1/auth/sign-in",
        None,
        &json!({"email": "mira@example.org", "password": "not the password"}),
    )
    .await;
    assert_eq!(status, 401);
    assert_error(&body, "unauthorized", None);
    let (status, signed) = send_json(
        &site,
        reqwest::Method::POST,
        "/api/v1/auth/sign-in",
        None,
        &json!({"email": "mira@example.org", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 200, "{signed}");
    let token = signed["token"].as_str().expect("token").to_owned();
    assert!(token.starts_with("ndr_"));
    let (status, me) = get_json(
        &site,
        "/api/v1/me",
        &[("authorization", &format!("Bearer {token}"))],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(me["kind"], "reader");
    assert_eq!(me["name"], "Mira");
    // Posting without a token, or with a bad body, is refused with the field named.
    let path = format!("/api/v1/items/{story}/comments");
    let (status, body) = send_json(
        &site,
        reqwest::Method::POST,
        &path,
        None,
        &json!({"body": "Hello"}),
    )
    .await;
    assert_eq!(status, 401);
    assert_error(&body, "unauthorized", None);
    let (status, body) = send_json(
        &site,
        reqwest::Method::POST,
        &path,
        Some(&token),
        &json!({"text": "Hello"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], "text");
    let (status, posted) = send_json(
        &site,
        reqwest::Method::POST,
        &path,
        Some(&token),
        &json!({"body": "The barrier held last winter too.", "client_key": "k1"}),
    )
    .await;
    assert_eq!(status, 201, "{posted}");
    let id = posted["comment"]["id"].as_i64().expect("id");
    assert_eq!(posted["comment"]["status"], "published");
    assert_eq!(posted["comment"]["mine"], true);
    // The same client key posts once.
    let (_, again) = send_json(
        &site,
        reqwest::Method::POST,
        &path,
        Some(&token),
        &json!({"body": "The barrier held last winter too.", "client_key": "k1"}),
    )
    .await;
    assert_eq!(again["comment"]["id"], id, "{again}");
    // A reply, a like, a report, an edit, a delete.
    let (status, reply) = send_json(
        &site,
        reqwest::Method::POST,
        &path,
        Some(&token),
        &json!({"body": "And the winter before.", "parent_id": id}),
    )
    .await;
    assert_eq!(status, 201, "{reply}");
    assert_eq!(reply["comment"]["parent_id"], id);
    let (status, liked) = send_json(
        &site,
        reqwest::Method::POST,
        &format!("/api/v1/comments/{id}/like"),
        Some(&token),
        &json!({}),
    )
    .await;
    assert_eq!(status, 200, "{liked}");
    assert_eq!(liked["liked"], true);
    let (status, reported) = send_json(
        &site,
        reqwest::Method::POST,
        &format!("/api/v1/comments/{id}/report"),
        Some(&token),
        &json!({"reason": "testing the report path"}),
    )
    .await;
    assert_eq!(status, 200, "{reported}");
    let (status, body) = send_json(
        &site,
        reqwest::Method::POST,
        &format!("/api/v1/comments/{id}/report"),
        Some(&token),
        &json!({"reason": "x".repeat(301)}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "reason");
    let (status, edited) = send_json(
        &site,
        reqwest::Method::PATCH,
        &format!("/api/v1/comments/{id}"),
        Some(&token),
        &json!({"body": "The barrier held last winter, and the one before."}),
    )
    .await;
    assert_eq!(status, 200, "{edited}");
    let (status, thread) = get_json(
        &site,
        &format!("/api/v1/items/{story}/comments"),
        &[("authorization", &format!("Bearer {token}"))],
    )
    .await;
    assert_eq!(status, 200);
    let mine = thread["comments"]
        .as_array()
        .expect("comments")
        .iter()
        .find(|c| c["id"] == id)
        .expect("the comment in its thread")
        .clone();
    assert!(
        mine["body_html"]
            .as_str()
            .is_some_and(|b| b.contains("the one before"))
    );
    assert_eq!(mine["likes"], 1);
    assert_eq!(
        mine["replies"][0]["body_html"],
        "<p>And the winter before.</p>"
    );
    let response = site
        .client
        .delete(site.url(&format!("/api/v1/comments/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("delete");
    assert_eq!(response.status(), 204);
    let (_, one) = get_json(&site, &format!("/api/v1/comments/{id}"), &[]).await;
    assert_eq!(one["status"], "deleted", "{one}");
    assert_eq!(one["body_html"], "");
    // Signing out ends the token.
    let response = site
        .client
        .post(site.url("/api/v1/auth/sign-out"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("sign out");
    assert_eq!(response.status(), 204);
    let (status, body) = get_json(
        &site,
        "/api/v1/me",
        &[("authorization", &format!("Bearer {token}"))],
    )
    .await;
    assert_eq!(status, 401);
    assert_error(&body, "unauthorized", None);
}

/// Reader sign-ins through the API, all at once: the wrong password `n` times from one
/// address, and the statuses counted by kind.
async fn api_sign_ins_at_once(site: &TestSite, email: &str, n: usize) -> (usize, usize) {
    let attempts = (0..n).map(|i| {
        site.client
            .post(site.url("/api/v1/auth/sign-in"))
            .json(&json!({"email": email, "password": format!("guess number {i}")}))
            .send()
    });
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.expect("request").status().as_u16())
        .collect();
    let count = |status| statuses.iter().filter(|s| **s == status).count();
    (count(401), count(429))
}

/// 40 wrong passwords at once: 5 reach the check, 35 are refused; the reader, from another
/// address, still signs in.
async fn parallel_api_sign_ins_are_held_to_the_budget(env: &[(&str, &str)]) {
    let smtp = SmtpListener::start();
    let site = readers::start(&smtp, env);
    new_reader(&site, &smtp, "mira@example.org", "Mira").await;
    assert_eq!(
        api_sign_ins_at_once(&site, "mira@example.org", 40).await,
        (5, 35)
    );
    let elsewhere = common::http_client_from("127.0.0.2");
    let response = elsewhere
        .post(site.url("/api/v1/auth/sign-in"))
        .json(&json!({"email": "mira@example.org", "password": PASSWORD}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200, "the reader is not locked out");
}

#[tokio::test]
async fn parallel_api_sign_ins_are_held_to_the_budget_on_sqlite() {
    parallel_api_sign_ins_are_held_to_the_budget(&[]).await;
}

#[tokio::test]
async fn parallel_api_sign_ins_are_held_to_the_budget_on_postgresql() {
    let Some(db) = common::PgDatabase::create() else {
        return;
    };
    parallel_api_sign_ins_are_held_to_the_budget(&[("NEWSDESK_DATABASE_URL", db.url.as_str())])
        .await;
}

#[tokio::test]
async fn a_desk_password_change_revokes_that_persons_staff_tokens() {
    let site = TestSite::demo();
    site.add_user("editor@example.org", "editor", common::STAFF_PASSWORD);
    site.add_user("other@example.org", "editor", common::STAFF_PASSWORD);
    let fields = [("kind", "staff"), ("name", "laptop"), ("role", "editor")];
    let (_, mine) = site.desk_token("editor@example.org", &fields).await;
    let (_, theirs) = site.desk_token("other@example.org", &fields).await;
    assert!(mine.starts_with("nds_") && theirs.starts_with("nds_"));
    async fn me(site: &TestSite, token: &str) -> u16 {
        let bearer = format!("Bearer {token}");
        get_json(site, "/api/v1/me", &[("authorization", bearer.as_str())])
            .await
            .0
    }
    assert_eq!(me(&site, &mine).await, 200);
    let cookie = site
        .desk_cookie("editor@example.org", common::STAFF_PASSWORD)
        .await;
    let page = site.page_with_cookie("/desk/password", &cookie).await;
    assert!(page.text.contains("revokes your API tokens"));
    let csrf = page.attr("form[action='/desk/password'] input[name=csrf]", "value");
    let changed = site
        .client
        .post(site.url("/desk/password"))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("current", common::STAFF_PASSWORD),
            ("new", "a brand new passphrase"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(changed.status(), 200);
    assert!(
        changed
            .text()
            .await
            .expect("body")
            .contains("API tokens revoked")
    );
    assert_eq!(
        me(&site, &mine).await,
        401,
        "the old password's tokens stop"
    );
    assert_eq!(
        me(&site, &theirs).await,
        200,
        "a colleague's token works on"
    );
}

#[tokio::test]
async fn read_keys_stop_when_their_maker_is_disabled_or_no_longer_an_admin() {
    let site = TestSite::demo();
    site.add_user("admin@example.org", "admin", common::STAFF_PASSWORD);
    site.add_user("maker@example.org", "admin", common::STAFF_PASSWORD);
    let (_, key) = site
        .desk_token("maker@example.org", &[("kind", "read"), ("name", "Radio")])
        .await;
    assert!(key.starts_with("ndk_"), "{key}");
    async fn with(site: &TestSite, key: &str) -> u16 {
        get_json(site, "/api/v1/sections", &[("x-api-key", key)])
            .await
            .0
    }
    assert_eq!(with(&site, &key).await, 200);
    let out = site.command(&["user", "disable", "--email", "maker@example.org"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(with(&site, &key).await, 401, "the maker is disabled");
    let out = site.command(&["user", "enable", "--email", "maker@example.org"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(with(&site, &key).await, 200, "and enabled again");
    // Demoted to editor by the other admin: the key no longer stands on an admin.
    let admin = site
        .desk_cookie("admin@example.org", common::STAFF_PASSWORD)
        .await;
    let accounts = site.page_with_cookie("/desk/accounts", &admin).await;
    let action = accounts
        .select("form[action$='/role']")
        .into_iter()
        .find(|f| f.html().contains("maker@example.org"))
        .and_then(|f| f.value().attr("action").map(str::to_owned))
        .expect("the maker's role form");
    let csrf = accounts.attr("form[action$='/role'] input[name=csrf]", "value");
    let demoted = site
        .client
        .post(site.url(&action))
        .header("cookie", &admin)
        .form(&[("csrf", csrf.as_str()), ("role", "editor")])
        .send()
        .await
        .expect("post");
    assert!(demoted.status().is_redirection(), "{}", demoted.status());
    assert_eq!(
        with(&site, &key).await,
        401,
        "the maker is no longer an admin"
    );
}

#[tokio::test]
async fn a_flood_of_forged_tokens_is_refused_before_any_lookup() {
    let site = TestSite::start_with(
        demo_config_text(),
        &["--demo"],
        &[("NEWSDESK_API__PER_ADDRESS_PER_MINUTE", "10")],
    );
    let forged = |n: usize| format!("Bearer nds_{n:064x}");
    let attempts = (0..40).map(|n| {
        site.client
            .get(site.url("/api/v1/sections"))
            .header("authorization", forged(n))
            .send()
    });
    let responses = futures_util::future::join_all(attempts).await;
    let mut counts = (0, 0);
    for response in responses {
        let response = response.expect("request");
        match response.status().as_u16() {
            401 => counts.0 += 1,
            429 => {
                counts.1 += 1;
                assert!(response.headers().contains_key("retry-after"));
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(counts, (10, 30), "ten lookups, then refusals");
    // Another address has a budget of its own.
    let elsewhere = common::http_client_from("127.0.0.2");
    let response = elsewhere
        .get(site.url("/api/v1/sections"))
        .header("authorization", forged(99))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 401);
}

fn brief(action: &str, version: Option<i64>) -> Value {
    json!({
        "kind": "brief",
        "language": "en",
        "section": "world",
        "body": "Ferries to the outer islands run again after the storm.",
        "action": action,
        "version": version,
    })
}

#[tokio::test]
async fn staff_tokens_write_through_the_desks_workflow() {
    let site = TestSite::demo();
    let password = "a staff member's long password";
    site.add_user("admin@example.org", "admin", password);
    site.add_user("writer@example.org", "contributor", password);
    site.add_user("editor@example.org", "editor", password);
    // A contributor cannot hand a token an editor's powers.
    let (status, secret) = site
        .desk_token(
            "writer@example.org",
            &[
                ("kind", "staff"),
                ("name", "build server"),
                ("role", "editor"),
            ],
        )
        .await;
    assert_eq!(status, 403);
    assert!(secret.is_empty());
    let (status, writer) = site
        .desk_token(
            "writer@example.org",
            &[
                ("kind", "staff"),
                ("name", "laptop script"),
                ("role", "contributor"),
            ],
        )
        .await;
    assert_eq!(status, 201);
    assert!(writer.starts_with("nds_"), "{writer}");
    // Nor make read keys, which are admins' to make.
    let (status, _) = site
        .desk_token(
            "writer@example.org",
            &[("kind", "read"), ("name", "partner")],
        )
        .await;
    assert_eq!(status, 403);
    // The contributor's token writes a draft and may not publish it.
    let (status, draft) = send_json(
        &site,
        reqwest::Method::POST,
        "/api/v1/items",
        Some(&writer),
        &brief("save", None),
    )
    .await;
    assert_eq!(status, 201, "{draft}");
    assert_eq!(draft["status"], "draft");
    let id = draft["id"].as_i64().expect("id");
    let (status, body) = send_json(
        &site,
        reqwest::Method::PUT,
        &format!("/api/v1/items/{id}"),
        Some(&writer),
        &brief("publish", Some(1)),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_error(&body, "forbidden", None);
    // Drafts are not public.
    let (status, _) = get_json(&site, &format!("/api/v1/items/{id}"), &[]).await;
    assert_eq!(status, 404);
    // The editor's token publishes; a stale version is a conflict.
    let (_, editor) = site
        .desk_token(
            "editor@example.org",
            &[("kind", "staff"), ("name", "wire desk"), ("role", "editor")],
        )
        .await;
    let (status, read) = get_json(
        &site,
        &format!("/api/v1/items/{id}"),
        &[("authorization", &format!("Bearer {editor}"))],
    )
    .await;
    assert_eq!(status, 200, "staff read drafts: {read}");
    let (status, published) = send_json(
        &site,
        reqwest::Method::PUT,
        &format!("/api/v1/items/{id}"),
        Some(&editor),
        &brief("publish", Some(1)),
    )
    .await;
    assert_eq!(status, 200, "{published}");
    assert_eq!(published["status"], "published");
    let (status, body) = send_json(
        &site,
        reqwest::Method::PUT,
        &format!("/api/v1/items/{id}"),
        Some(&editor),
        &brief("save", Some(1)),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_error(&body, "conflict", Some("version"));
    let (status, public) = get_json(&site, &format!("/api/v1/items/{id}"), &[]).await;
    assert_eq!(status, 200);
    assert_eq!(public["status"], "published");
    // Scheduling needs a time in the future, and then waits for it.
    let (status, body) = send_json(
        &site,
        reqwest::Method::POST,
        "/api/v1/items",
        Some(&editor),
        &json!({"kind": "brief", "language": "en", "section": "world", "slug": "ferries-soon",
                "body": "Ferries will run again.", "action": "schedule"}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "published_at");
    let mut later = brief("schedule", None);
    later["slug"] = json!("ferries-return-tomorrow");
    later["published_at"] =
        json!((jiff::Timestamp::now() + jiff::SignedDuration::from_hours(3)).to_string());
    let (status, scheduled) = send_json(
        &site,
        reqwest::Method::POST,
        "/api/v1/items",
        Some(&editor),
        &later,
    )
    .await;
    assert_eq!(status, 201, "{scheduled}");
    assert_eq!(scheduled["status"], "scheduled");
    let (status, _) = get_json(&site, &format!("/api/v1/items/{}", scheduled["id"]), &[]).await;
    assert_eq!(status, 404, "not public before its time");
    // A field that breaks a rule is named.
    let mut bad = brief("save", None);
    bad["section"] = json!("no-such-section");
    let (status, body) = send_json(
        &site,
        reqwest::Method::POST,
        "/api/v1/items",
        Some(&editor),
        &bad,
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "section");
    // A reader's route refuses a staff token; no token at all is 401.
    let (status, _) = send_json(
        &site,
        reqwest::Method::POST,
        "/api/v1/items",
        None,
        &brief("save", None),
    )
    .await;
    assert_eq!(status, 401);
    // The desk's audit log names the token's account.
    let admin = site.desk_cookie("admin@example.org", password).await;
    let audit = site.page_with_cookie("/desk/audit", &admin).await;
    assert!(
        audit.text.contains("editor@example.org"),
        "audit names the editor"
    );
    assert!(audit.text.contains("created API token"));
    // Revoking ends the token at once; a disabled account's tokens stop too.
    let tokens = site.page_with_cookie("/desk/tokens", &admin).await;
    let rows = tokens.select("form[action$='/revoke']");
    assert_eq!(rows.len(), 2, "the admin sees both live tokens");
    let revoke_path = rows
        .iter()
        .find(|f| f.html().contains("laptop script"))
        .and_then(|f| f.value().attr("action"))
        .expect("the writer's token")
        .to_owned();
    let csrf = tokens.attr("form[action$='/revoke'] input[name=csrf]", "value");
    let response = site
        .client
        .post(site.url(&revoke_path))
        .header("cookie", &admin)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("revoke");
    assert_eq!(response.status(), 303);
    let (status, _) = get_json(
        &site,
        "/api/v1/me",
        &[("authorization", &format!("Bearer {writer}"))],
    )
    .await;
    assert_eq!(status, 401);
    let (status, me) = get_json(
        &site,
        "/api/v1/me",
        &[("authorization", &format!("Bearer {editor}"))],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(me["role"], "editor");
    // Without the CSRF token the desk refuses to make a token.
    let response = site
        .client
        .post(site.url("/desk/tokens"))
        .header("cookie", &admin)
        .form(&[("kind", "read"), ("name", "sneaky")])
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn read_keys_rate_limits_and_cors() {
    let password = "a staff member's long password";
    let site = TestSite::start_with(
        demo_config_text(),
        &["--demo"],
        &[
            ("NEWSDESK_API__REQUIRE_KEY", "true"),
            ("NEWSDESK_API__PER_ADDRESS_PER_MINUTE", "5"),
            ("NEWSDESK_API__PER_TOKEN_PER_MINUTE", "8"),
            (
                "NEWSDESK_API__CORS_ORIGINS",
                r#"["https://apps.example.org"]"#,
            ),
        ],
    );
    site.add_user("admin@example.org", "admin", password);
    // Without a key: 401 (and it counts against the address's budget).
    let (status, body) = get_json(&site, "/api/v1/sections", &[]).await;
    assert_eq!(status, 401);
    assert_error(&body, "unauthorized", None);
    let (_, key) = site
        .desk_token(
            "admin@example.org",
            &[("kind", "read"), ("name", "Partner radio")],
        )
        .await;
    assert!(key.starts_with("ndk_"), "{key}");
    // The key's budget: 8 a minute, the 9th answered 429 with Retry-After.
    for i in 0..8 {
        let response = site
            .get_with("/api/v1/sections", &[("x-api-key", &key)])
            .await;
        assert_eq!(response.status(), 200, "request {i}");
        assert!(
            response.headers()["cache-control"]
                .to_str()
                .is_ok_and(|c| c.starts_with("private")),
            "keyed answers are private"
        );
    }
    let response = site
        .get_with("/api/v1/sections", &[("x-api-key", &key)])
        .await;
    assert_eq!(response.status(), 429);
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("retry-after")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&wait), "{wait}");
    let body: Value = response.json().await.expect("json");
    assert_error(&body, "rate_limited", None);
    // The address's budget is its own: 5 a minute (one spent above).
    for _ in 0..4 {
        assert_eq!(site.get("/api/v1/sections").await.status(), 401);
    }
    let response = site.get("/api/v1/sections").await;
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    // The documentation answers without a key (but still within the address's budget, so
    // read it from another budget: the key's is spent, the address's too — CORS below is a
    // preflight, which the limiter does not see).
    let preflight = site
        .client
        .request(reqwest::Method::OPTIONS, site.url("/api/v1/items"))
        .header("origin", "https://apps.example.org")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .expect("preflight");
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://apps.example.org"
    );
    let other = site
        .client
        .request(reqwest::Method::OPTIONS, site.url("/api/v1/items"))
        .header("origin", "https://elsewhere.example.net")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .expect("preflight");
    assert!(!other.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn the_openapi_document_and_its_page_list_every_endpoint() {
    let site = TestSite::demo();
    let (status, doc) = get_json(&site, "/api/openapi.json", &[]).await;
    assert_eq!(status, 200);
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        doc["openapi"]
    );
    let paths: HashSet<&str> = doc["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .map(String::as_str)
        .collect();
    for path in [
        "/api/v1/items",
        "/api/v1/items/{id}",
        "/api/v1/items/by-slug/{lang}/{slug}",
        "/api/v1/items/{id}/related",
        "/api/v1/items/{id}/comments",
        "/api/v1/comments/{id}",
        "/api/v1/comments/{id}/like",
        "/api/v1/comments/{id}/report",
        "/api/v1/breaking",
        "/api/v1/search",
        "/api/v1/sections",
        "/api/v1/tags",
        "/api/v1/authors",
        "/api/v1/auth/sign-in",
        "/api/v1/auth/sign-out",
        "/api/v1/me",
        "/api/v1/live",
    ] {
        assert!(paths.contains(path), "{path} documented");
    }
    // The site's languages are the `lang` parameter's choices.
    let lang = doc["paths"]["/api/v1/items"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == "lang")
        .expect("lang")
        .clone();
    assert_eq!(lang["schema"]["enum"], json!(["en", "ru", "tr"]), "{lang}");
    let page = site.ok("/api/docs").await;
    for path in &paths {
        assert!(page.text.contains(*path), "{path} on the page");
    }
    assert!(page.select("#schema-ItemDetail").len() == 1);
}

#[tokio::test]
async fn a_hero_path_is_a_bounded_relative_path_to_a_file_the_media_store_holds() {
    let site = TestSite::demo();
    site.add_user("editor@example.org", "editor", common::STAFF_PASSWORD);
    let (status, editor) = site
        .desk_token(
            "editor@example.org",
            &[("kind", "staff"), ("name", "heroes"), ("role", "editor")],
        )
        .await;
    assert_eq!(status, 201);
    let with_hero = |slug: &str, path: &str| {
        json!({"kind": "brief", "language": "en", "section": "world", "slug": slug,
               "body": "Ferries run again.", "action": "save",
               "hero": {"path": path, "alt": "The harbour"}})
    };
    let at_limit = format!("pictures/{}.jpg", "a".repeat(300 - 13));
    assert_eq!(at_limit.chars().count(), 300);
    for (path, says) in [
        ("demo/hero\u{0}.jpg", "control characters"),
        ("demo/hero-harbour.jpg\u{7}", "control characters"),
        ("demo/hero\nharbour.jpg", "single line"),
        (&"a".repeat(5000), "300"),
        (&format!("a{at_limit}"), "300"),
        (&at_limit, "media library"),
        ("uploads/2026/11/not-there.jpg", "media library"),
        ("../newsdesk.sqlite3", "relative media path"),
        ("/etc/passwd", "relative media path"),
    ] {
        let (status, body) = send_json(
            &site,
            reqwest::Method::POST,
            "/api/v1/items",
            Some(&editor),
            &with_hero("heroic", path),
        )
        .await;
        assert_eq!(status, 422, "{path:?}: {body}");
        assert_error(&body, "invalid", Some("hero.path"));
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{path:?}: {message}");
    }
    let (status, body) = send_json(
        &site,
        reqwest::Method::POST,
        "/api/v1/items",
        Some(&editor),
        &with_hero("heroic", "demo/hero-harbour.jpg"),
    )
    .await;
    assert_eq!(status, 201, "a file the media store holds: {body}");
    assert!(
        body["hero"]["url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/demo/hero-harbour.jpg")),
        "{body}"
    );
}

// ---------------------------------------------------------------------------------------------
// Reads from the page cache: what strangers read is kept and purged by the event log like the
// site's pages; what a token holder reads is made fresh and never kept.

/// One value from `/metrics` (the test client is on this machine, which may read them).
async fn metric(site: &TestSite, name: &str) -> f64 {
    let text = site.get("/metrics").await.text().await.expect("metrics");
    text.lines()
        .find_map(|line| {
            line.strip_prefix(name)?
                .strip_prefix(' ')?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("{name} is not in the metrics:\n{text}"))
}

/// The editor's staff token on a demo site.
async fn editor_token(site: &TestSite) -> String {
    site.add_user("editor@example.org", "editor", common::STAFF_PASSWORD);
    let (status, token) = site
        .desk_token(
            "editor@example.org",
            &[("kind", "staff"), ("name", "wire desk"), ("role", "editor")],
        )
        .await;
    assert_eq!(status, 201);
    token
}

fn story(headline: &str, tags: &[&str], author: &str, action: &str, version: Option<i64>) -> Value {
    json!({
        "kind": "story",
        "language": "en",
        "section": "world",
        "slug": "tide-tables-reprinted",
        "headline": headline,
        "body": "The harbour office reprinted its tide tables after the storm moved the bar.",
        "tags": tags,
        "authors": [author],
        "breaking": true,
        "action": action,
        "version": version,
    })
}

fn ids(answer: &Value) -> Vec<i64> {
    answer["items"]
        .as_array()
        .map(|items| items.iter().filter_map(|i| i["id"].as_i64()).collect())
        .unwrap_or_default()
}

fn title_of(answer: &Value, id: i64) -> Option<String> {
    answer["items"]
        .as_array()?
        .iter()
        .find(|i| i["id"] == id)
        .and_then(|i| i["title"].as_str())
        .map(str::to_owned)
}

/// Polls until every read in `check` holds, failing if that takes longer than a second from
/// `since` (the moment the write was answered). Returns how many rounds it took.
async fn within_a_second<F, Fut>(since: std::time::Instant, what: &str, check: F) -> usize
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let mut rounds = 0;
    loop {
        rounds += 1;
        match check().await {
            Ok(()) => return rounds,
            Err(not_yet) => assert!(
                since.elapsed() < std::time::Duration::from_secs(1),
                "{what} not visible through the API within a second: {not_yet}"
            ),
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A publication, an edit and a withdrawal through the staff API each show in every cached read
/// within a second, although each read was cached (warmed twice) before the change.
async fn cached_reads_follow_publication_edit_and_withdrawal(env: &[(&str, &str)]) {
    let site = TestSite::start_with(demo_config_text(), &["--demo"], env);
    let editor = editor_token(&site).await;
    let (_, authors) = get_json(&site, "/api/v1/authors", &[]).await;
    let author = authors["authors"][0]["slug"]
        .as_str()
        .expect("an author")
        .to_owned();
    let author_count = |answer: &Value| {
        answer["authors"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["slug"] == author.as_str()))
            .and_then(|a| a["items"].as_u64())
            .unwrap_or(0)
    };
    let by_author = format!("/api/v1/items?author={author}&lang=en");
    let listings = [
        "/api/v1/items",
        "/api/v1/items?lang=en&section=world",
        "/api/v1/items?tag=harbour-lights",
        by_author.as_str(),
    ];
    let labels = [
        "/api/v1/breaking?lang=en",
        "/api/v1/tags",
        "/api/v1/authors",
    ];
    // Warmed, before the item exists at all (a draft's save is not public and purges nothing).
    let hits_before = metric(&site, "newsdesk_api_cache_hits_total").await;
    for path in listings.iter().chain(labels.iter()) {
        for _ in 0..2 {
            assert_eq!(get_json(&site, path, &[]).await.0, 200, "{path}");
        }
    }
    assert!(
        metric(&site, "newsdesk_api_cache_hits_total").await >= hits_before + 5.0,
        "warmed reads come from the cache"
    );
    let (_, authors_before) = get_json(&site, "/api/v1/authors", &[]).await;
    let (status, draft) = send_json(
        &site,
        reqwest::Method::POST,
        "/api/v1/items",
        Some(&editor),
        &story(
            "Tide tables reprinted",
            &["Harbour lights"],
            &author,
            "save",
            None,
        ),
    )
    .await;
    assert_eq!(status, 201, "{draft}");
    let id = draft["id"].as_i64().expect("id");
    let item_path = format!("/api/v1/items/{id}");
    let slug_path = "/api/v1/items/by-slug/en/tide-tables-reprinted";
    let related_path = format!("{item_path}/related");
    for path in [item_path.as_str(), slug_path, related_path.as_str()] {
        assert_eq!(get_json(&site, path, &[]).await.0, 404, "{path}: a draft");
    }

    // Publication.
    let (status, published) = send_json(
        &site,
        reqwest::Method::PUT,
        &item_path,
        Some(&editor),
        &story(
            "Tide tables reprinted",
            &["Harbour lights"],
            &author,
            "publish",
            Some(1),
        ),
    )
    .await;
    assert_eq!(status, 200, "{published}");
    let answered = std::time::Instant::now();
    let version = published["version"].as_i64().expect("version");
    within_a_second(answered, "the publication", || async {
        for path in listings {
            let (_, answer) = get_json(&site, path, &[]).await;
            if !ids(&answer).contains(&id) {
                return Err(format!("{path} lacks {id}"));
            }
        }
        let (_, breaking) = get_json(&site, labels[0], &[]).await;
        if breaking["item"]["id"] != id {
            return Err(format!("breaking: {breaking}"));
        }
        let (_, tags) = get_json(&site, labels[1], &[]).await;
        if !tags["tags"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["slug"] == "harbour-lights"))
        {
            return Err(format!("tags: {tags}"));
        }
        let (_, authors) = get_json(&site, labels[2], &[]).await;
        if author_count(&authors) != author_count(&authors_before) + 1 {
            return Err(format!("authors: {authors}"));
        }
        for path in [item_path.as_str(), slug_path, related_path.as_str()] {
            let (status, _) = get_json(&site, path, &[]).await;
            if status != 200 {
                return Err(format!("{path}: {status}"));
            }
        }
        Ok(())
    })
    .await;

    // The published answers are cached now (read twice); an edit changes the headline and
    // drops the tag, so the tag's listing must lose the item (the keys of what it was).
    for path in listings
        .iter()
        .chain([item_path.as_str(), slug_path].iter())
    {
        get_json(&site, path, &[]).await;
        get_json(&site, path, &[]).await;
    }
    let (status, edited) = send_json(
        &site,
        reqwest::Method::PUT,
        &item_path,
        Some(&editor),
        &story(
            "Tide tables reprinted twice",
            &[],
            &author,
            "save",
            Some(version),
        ),
    )
    .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["status"], "published");
    let answered = std::time::Instant::now();
    let version = edited["version"].as_i64().expect("version");
    within_a_second(answered, "the edit", || async {
        for path in ["/api/v1/items", "/api/v1/items?lang=en&section=world"] {
            let (_, answer) = get_json(&site, path, &[]).await;
            if title_of(&answer, id).as_deref() != Some("Tide tables reprinted twice") {
                return Err(format!("{path}: {answer}"));
            }
        }
        let (_, tagged) = get_json(&site, listings[2], &[]).await;
        if ids(&tagged).contains(&id) {
            return Err(format!("still tagged: {tagged}"));
        }
        for path in [item_path.as_str(), slug_path] {
            let (_, item) = get_json(&site, path, &[]).await;
            if item["headline"] != "Tide tables reprinted twice" {
                return Err(format!("{path}: {}", item["headline"]));
            }
        }
        let (_, breaking) = get_json(&site, labels[0], &[]).await;
        if breaking["item"]["title"] != "Tide tables reprinted twice" {
            return Err(format!("breaking: {breaking}"));
        }
        Ok(())
    })
    .await;

    // Withdrawal.
    for path in [listings[0], listings[1], item_path.as_str(), slug_path] {
        get_json(&site, path, &[]).await;
        get_json(&site, path, &[]).await;
    }
    get_json(&site, &related_path, &[]).await;
    let (status, withdrawn) = send_json(
        &site,
        reqwest::Method::PUT,
        &item_path,
        Some(&editor),
        &story(
            "Tide tables reprinted twice",
            &[],
            &author,
            "unpublish",
            Some(version),
        ),
    )
    .await;
    assert_eq!(status, 200, "{withdrawn}");
    let answered = std::time::Instant::now();
    within_a_second(answered, "the withdrawal", || async {
        for path in [listings[0], listings[1], by_author.as_str()] {
            let (_, answer) = get_json(&site, path, &[]).await;
            if ids(&answer).contains(&id) {
                return Err(format!("{path} still lists {id}"));
            }
        }
        for path in [item_path.as_str(), slug_path, related_path.as_str()] {
            let (status, _) = get_json(&site, path, &[]).await;
            if status != 404 {
                return Err(format!("{path}: {status}"));
            }
        }
        let (_, breaking) = get_json(&site, labels[0], &[]).await;
        if breaking["item"]["id"] == id {
            return Err(format!("breaking: {breaking}"));
        }
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn cached_reads_follow_publication_edit_and_withdrawal_on_sqlite() {
    cached_reads_follow_publication_edit_and_withdrawal(&[]).await;
}

#[tokio::test]
async fn cached_reads_follow_publication_edit_and_withdrawal_on_postgresql() {
    let Some(db) = common::PgDatabase::create() else {
        return;
    };
    cached_reads_follow_publication_edit_and_withdrawal(&[(
        "NEWSDESK_DATABASE_URL",
        db.url.as_str(),
    )])
    .await;
}

/// A draft a staff token reads never reaches a stranger, and what strangers have cached never
/// answers a staff token (nor a reader's): theirs are made fresh, private and uncounted.
#[tokio::test]
async fn token_holders_neither_fill_nor_read_the_shared_cache() {
    let smtp = SmtpListener::start();
    let site = readers::start(&smtp, &[TRUSTED]);
    new_reader(&site, &smtp, "mira@example.org", "Mira").await;
    let (status, signed_in) = send_json(
        &site,
        reqwest::Method::POST,
        "/api/v1/auth/sign-in",
        None,
        &json!({"email": "mira@example.org", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 200, "{signed_in}");
    let reader = signed_in["token"].as_str().expect("token").to_owned();
    let editor = editor_token(&site).await;
    let (_, authors) = get_json(&site, "/api/v1/authors", &[]).await;
    let author = authors["authors"][0]["slug"].as_str().expect("an author");
    let (status, draft) = send_json(
        &site,
        reqwest::Method::POST,
        "/api/v1/items",
        Some(&editor),
        &story("Tide tables reprinted", &[], author, "save", None),
    )
    .await;
    assert_eq!(status, 201, "{draft}");
    let id = draft["id"].as_i64().expect("id");
    let path = format!("/api/v1/items/{id}");
    let staff = format!("Bearer {editor}");
    let as_staff = [("authorization", staff.as_str())];
    let as_reader_bearer = format!("Bearer {reader}");
    let as_reader = [("authorization", as_reader_bearer.as_str())];
    let counters = || async {
        (
            metric(&site, "newsdesk_api_cache_hits_total").await,
            metric(&site, "newsdesk_api_cache_misses_total").await,
            metric(&site, "newsdesk_api_cache_entries").await,
        )
    };
    // Staff read the draft, twice; strangers still get 404, every time.
    let before = counters().await;
    for _ in 0..2 {
        let response = site.get_with(&path, &as_staff).await;
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["cache-control"]
                .to_str()
                .is_ok_and(|c| c.starts_with("private")),
            "staff answers are private"
        );
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["status"], "draft");
    }
    assert_eq!(
        counters().await,
        before,
        "staff reads are not cache traffic"
    );
    for _ in 0..2 {
        let (status, body) = get_json(&site, &path, &[]).await;
        assert_eq!(status, 404, "a draft leaked to a stranger: {body}");
    }
    // Published, and cached by strangers' reads.
    let (status, published) = send_json(
        &site,
        reqwest::Method::PUT,
        &path,
        Some(&editor),
        &story("Tide tables reprinted", &[], author, "publish", Some(1)),
    )
    .await;
    assert_eq!(status, 200, "{published}");
    let version = published["version"].as_i64().expect("version");
    let answered = std::time::Instant::now();
    within_a_second(answered, "the publication", || async {
        let (status, _) = get_json(&site, &path, &[]).await;
        (status == 200).then_some(()).ok_or(format!("{status}"))
    })
    .await;
    let (status, _) = get_json(&site, &path, &[]).await;
    assert_eq!(status, 200);
    // Withdrawn: the staff token's very next read shows it (no cached answer stands in),
    // and neither it nor a reader's token moved a counter.
    let (status, back) = send_json(
        &site,
        reqwest::Method::PUT,
        &path,
        Some(&editor),
        &story(
            "Tide tables, withdrawn",
            &[],
            author,
            "unpublish",
            Some(version),
        ),
    )
    .await;
    assert_eq!(status, 200, "{back}");
    let back_answered = std::time::Instant::now();
    let before = counters().await;
    let (status, seen) = get_json(&site, &path, &as_staff).await;
    assert_eq!(status, 200);
    assert_eq!(seen["status"], "unpublished", "{seen}");
    assert_eq!(seen["headline"], "Tide tables, withdrawn");
    let response = site.get_with("/api/v1/items", &as_reader).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["cache-control"]
            .to_str()
            .is_ok_and(|c| c.starts_with("private"))
    );
    // (Entries may drop meanwhile: the withdrawal's purge runs beside these reads.)
    let after = counters().await;
    assert_eq!(
        (after.0, after.1),
        (before.0, before.1),
        "token holders' reads are not cache traffic"
    );
    // And the stranger's answer goes with the event.
    within_a_second(back_answered, "the withdrawal", || async {
        let (status, _) = get_json(&site, &path, &[]).await;
        (status == 404).then_some(()).ok_or(format!("{status}"))
    })
    .await;
}

/// Only the first page of the stream, under documented parameters with valid values, takes a
/// place in the cache, one per question however it is spelt; cursors, refusals, unknown labels,
/// searches and missing items never do.
#[tokio::test]
async fn the_cached_key_space_is_bounded_and_hits_are_counted() {
    let site = TestSite::demo();
    let entries = || metric(&site, "newsdesk_api_cache_entries");
    let hits = || metric(&site, "newsdesk_api_cache_hits_total");
    assert_eq!(entries().await, 0.0);
    // One question, three spellings: one entry, two hits.
    let (status, first) = get_json(&site, "/api/v1/items?lang=en&section=world", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(entries().await, 1.0);
    let hits_before = hits().await;
    for spelling in [
        "/api/v1/items?section=world&lang=en",
        "/api/v1/items?section=world&limit=20&lang=EN",
    ] {
        let (status, again) = get_json(&site, spelling, &[]).await;
        assert_eq!(status, 200);
        assert_eq!(again, first, "{spelling}");
    }
    assert_eq!(hits().await, hits_before + 2.0);
    assert_eq!(entries().await, 1.0);
    // A cached answer is one implementation with the pages': an ETag per encoding, the body
    // compressed as asked, and a conditional request answered 304 from the cache.
    let response = site
        .get_with(
            "/api/v1/items?lang=en&section=world",
            &[("accept-encoding", "br")],
        )
        .await;
    assert_eq!(response.headers()["content-encoding"], "br");
    let etag = response.headers()["etag"]
        .to_str()
        .expect("etag")
        .to_owned();
    assert!(etag.ends_with("-br\""), "{etag}");
    let vary = response.headers()["vary"]
        .to_str()
        .expect("vary")
        .to_owned();
    for name in ["Accept-Encoding", "Authorization", "X-API-Key"] {
        assert!(vary.contains(name), "{vary}");
    }
    assert!(
        response.headers()["surrogate-key"]
            .to_str()
            .is_ok_and(|k| k.split(' ').any(|k| k == "stream:en"))
    );
    assert!(
        response.headers()["cache-control"]
            .to_str()
            .is_ok_and(|c| c.starts_with("public"))
    );
    let unchanged = site
        .get_with(
            "/api/v1/items?lang=en&section=world",
            &[("accept-encoding", "br"), ("if-none-match", &etag)],
        )
        .await;
    assert_eq!(unchanged.status(), 304);
    // None of these takes a place.
    let (_, page) = get_json(&site, "/api/v1/items?limit=2", &[]).await;
    let cursor = page["next_cursor"]
        .as_str()
        .expect("a second page")
        .to_owned();
    let entries_before = entries().await;
    let misses_before = metric(&site, "newsdesk_api_cache_misses_total").await;
    let uncached = [
        format!("/api/v1/items?limit=2&cursor={cursor}"),
        format!("/api/v1/items?cursor={cursor}"),
        "/api/v1/items?cursor=1.1".to_owned(),
        "/api/v1/search?q=harbour".to_owned(),
    ];
    for path in &uncached {
        for _ in 0..2 {
            assert_eq!(get_json(&site, path, &[]).await.0, 200, "{path}");
        }
    }
    assert_eq!(
        metric(&site, "newsdesk_api_cache_misses_total").await,
        misses_before,
        "later pages and searches are not cache traffic"
    );
    for (path, status) in [
        ("/api/v1/items?tag=no-such-tag", 200),
        ("/api/v1/items?author=nobody-at-all&lang=en", 200),
        ("/api/v1/items?section=no-such-section", 200),
        ("/api/v1/items?colour=red", 400),
        ("/api/v1/items?limit=101", 400),
        ("/api/v1/items?lang=xx", 400),
        ("/api/v1/items/999999", 404),
        ("/api/v1/items/999999/related", 404),
        ("/api/v1/items/by-slug/en/no-such-story", 404),
        ("/api/v1/breaking?lang=xx", 400),
        ("/api/v1/sections?colour=red", 400),
    ] {
        for _ in 0..2 {
            assert_eq!(get_json(&site, path, &[]).await.0, status, "{path}");
        }
    }
    assert_eq!(entries().await, entries_before, "the key space grew");
}

/// Where reading needs a key, the gate checks it before any cached answer is given, and key
/// holders share the cache (they see the public edition) with private answers.
#[tokio::test]
async fn a_required_key_is_checked_before_a_cached_answer() {
    let site = TestSite::start_with(
        demo_config_text(),
        &["--demo"],
        &[("NEWSDESK_API__REQUIRE_KEY", "true")],
    );
    site.add_user("admin@example.org", "admin", common::STAFF_PASSWORD);
    let (_, key) = site
        .desk_token(
            "admin@example.org",
            &[("kind", "read"), ("name", "Partner radio")],
        )
        .await;
    let hits_before = metric(&site, "newsdesk_api_cache_hits_total").await;
    for _ in 0..2 {
        let response = site
            .get_with("/api/v1/sections", &[("x-api-key", &key)])
            .await;
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["cache-control"]
                .to_str()
                .is_ok_and(|c| c.starts_with("private")),
            "keyed answers are private"
        );
    }
    assert_eq!(
        metric(&site, "newsdesk_api_cache_hits_total").await,
        hits_before + 1.0
    );
    for headers in [
        vec![],
        vec![("x-api-key", "ndk_not-a-key-of-ours")],
        vec![("authorization", "Bearer ndk_not-a-key-of-ours")],
    ] {
        let (status, body) = get_json(&site, "/api/v1/sections", &headers).await;
        assert_eq!(status, 401, "{headers:?}");
        assert_error(&body, "unauthorized", None);
    }
    assert_eq!(
        metric(&site, "newsdesk_api_cache_hits_total").await,
        hits_before + 1.0
    );
}
