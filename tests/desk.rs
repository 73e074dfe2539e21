//! The desk's door: the first-admin set-up link, sign-in with CSRF and throttling, sessions
//! that end on sign-out, disabling and password change, and the content list.

mod common;

use common::{Page, TestSite};

/// `name=value` of a Set-Cookie header with that name, if the response sets it.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<(String, String)> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| {
            let pair = v.split(';').next().unwrap_or_default().to_owned();
            (pair, v.to_owned())
        })
}

struct Form {
    cookie: String,
    csrf: String,
}

async fn sign_in_form(site: &TestSite) -> Form {
    let response = site.get("/desk/sign-in").await;
    assert_eq!(response.status(), 200);
    let (cookie, _) = set_cookie(&response, "nd_form").expect("form cookie");
    let html = scraper::Html::parse_document(&response.text().await.expect("body"));
    let selector = scraper::Selector::parse("input[name=csrf]").expect("selector");
    let csrf = html
        .select(&selector)
        .next()
        .and_then(|e| e.value().attr("value"))
        .expect("csrf field")
        .to_owned();
    Form { cookie, csrf }
}

async fn post_sign_in(
    site: &TestSite,
    form: &Form,
    email: &str,
    password: &str,
) -> reqwest::Response {
    post_sign_in_with(&site.client, site, form, email, password).await
}

/// Posts the sign-in form with `client` (which may come from another address).
async fn post_sign_in_with(
    client: &reqwest::Client,
    site: &TestSite,
    form: &Form,
    email: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(site.url("/desk/sign-in"))
        .header("cookie", &form.cookie)
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf", &form.csrf),
            ("next", "/desk"),
        ])
        .send()
        .await
        .expect("post")
}

/// Signs in and returns the session cookie (`nd_session=…`).
async fn sign_in(site: &TestSite, email: &str, password: &str) -> String {
    let form = sign_in_form(site).await;
    let response = post_sign_in(site, &form, email, password).await;
    assert_eq!(
        response.status(),
        303,
        "{}",
        response.text().await.unwrap_or_default()
    );
    assert_eq!(response.headers()["location"], "/desk");
    let (cookie, full) = set_cookie(&response, "nd_session").expect("session cookie");
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/desk"] {
        assert!(full.contains(flag), "{flag} in {full}");
    }
    cookie
}

/// Status, redirect target and parsed page of a response.
async fn read(response: reqwest::Response) -> (u16, Option<String>, Page) {
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let html = scraper::Html::parse_document(&text);
    (
        status,
        location,
        Page {
            status,
            html,
            text,
            headers,
        },
    )
}

async fn desk_page(site: &TestSite, path: &str, cookie: &str) -> (u16, Option<String>, Page) {
    let response = site
        .client
        .get(site.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .expect("get");
    read(response).await
}

#[tokio::test]
async fn a_new_site_prints_a_one_time_setup_link_for_the_first_admin() {
    let site = TestSite::demo();
    let stdout = site.stdout();
    let link = stdout
        .lines()
        .find_map(|l| l.split_whitespace().find(|w| w.contains("/desk/setup/")))
        .unwrap_or_else(|| panic!("no set-up link in:\n{stdout}"))
        .to_owned();
    let path = link
        .strip_prefix(&site.base)
        .expect("link on this site")
        .to_owned();
    assert_eq!(site.get(&path).await.status(), 200);
    let create = |password: &'static str| {
        site.client
            .post(site.url(&path))
            .form(&[
                ("name", "Amina Rahimova"),
                ("email", "amina@example.org"),
                ("password", password),
            ])
            .send()
    };
    let short = create("short").await.expect("post");
    assert_eq!(short.status(), 422);
    assert!(
        short
            .text()
            .await
            .expect("body")
            .contains("at least 10 characters")
    );
    let made = create("a long enough passphrase").await.expect("post");
    assert_eq!(made.status(), 303);
    let (cookie, _) = set_cookie(&made, "nd_session").expect("signed in at once");
    let (status, _, page) = desk_page(&site, "/desk", &cookie).await;
    assert_eq!(status, 200);
    assert!(page.text.contains("admin"), "{}", page.text);
    assert_eq!(
        create("a long enough passphrase")
            .await
            .expect("post")
            .status(),
        410,
        "the link works once"
    );

    // With an admin, a restart prints no link.
    let site = site.restart(&[]);
    assert!(!site.stdout().contains("/desk/setup/"), "{}", site.stdout());
}

#[tokio::test]
async fn sign_in_needs_its_csrf_token_and_the_right_password() {
    let site = TestSite::demo();
    site.add_user("editor@example.org", "editor", "correct horse battery");
    assert_eq!(
        site.get("/desk").await.status(),
        303,
        "signed out: sent to sign in"
    );
    assert_eq!(
        site.get("/desk").await.headers()["location"],
        "/desk/sign-in?next=/desk"
    );

    let form = sign_in_form(&site).await;
    let missing = site
        .client
        .post(site.url("/desk/sign-in"))
        .form(&[
            ("email", "editor@example.org"),
            ("password", "correct horse battery"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(missing.status(), 403, "no token, no sign-in");
    let forged = Form {
        cookie: form.cookie.clone(),
        csrf: "0".repeat(64),
    };
    assert_eq!(
        post_sign_in(
            &site,
            &forged,
            "editor@example.org",
            "correct horse battery"
        )
        .await
        .status(),
        403
    );

    let wrong = post_sign_in(&site, &form, "editor@example.org", "wrong password!").await;
    assert_eq!(wrong.status(), 401);
    assert!(
        wrong
            .text()
            .await
            .expect("body")
            .contains("email address or password is not right")
    );
    let unknown = post_sign_in(&site, &form, "nobody@example.org", "wrong password!").await;
    assert_eq!(
        unknown.status(),
        401,
        "an unknown address gets the same answer"
    );

    let cookie = sign_in(&site, "Editor@Example.org", "correct horse battery").await;
    let (status, _, page) = desk_page(&site, "/desk", &cookie).await;
    assert_eq!(status, 200);
    assert_eq!(page.header("cache-control"), "no-store");
    assert!(
        page.text_of(".count").starts_with("25 items"),
        "{}",
        page.text_of(".count")
    );
}

#[tokio::test]
async fn a_strangers_guesses_stop_the_stranger_not_the_owner() {
    let site = TestSite::demo();
    site.add_user("editor@example.org", "editor", "correct horse battery");
    let form = sign_in_form(&site).await;
    for _ in 0..5 {
        assert_eq!(
            post_sign_in(&site, &form, "editor@example.org", "guess guess guess")
                .await
                .status(),
            401
        );
    }
    let refused = post_sign_in(&site, &form, "editor@example.org", "correct horse battery").await;
    assert_eq!(
        refused.status(),
        429,
        "from the guesser's address even the right password waits now"
    );
    assert_eq!(refused.headers()["retry-after"], "900");
    // Another account from the same address is not locked out by this one.
    site.add_user(
        "other@example.org",
        "contributor",
        "another good passphrase",
    );
    sign_in(&site, "other@example.org", "another good passphrase").await;
    // The owner, from elsewhere, signs in as if nothing happened.
    let owner = common::http_client_from("127.0.0.2");
    let signed_in = post_sign_in_with(
        &owner,
        &site,
        &form,
        "editor@example.org",
        "correct horse battery",
    )
    .await;
    assert_eq!(signed_in.status(), 303, "the owner is not locked out");
    assert!(set_cookie(&signed_in, "nd_session").is_some());
}

/// Statuses of wrong passwords for one account, all sent at once, one from each client.
async fn guesses_at_once(site: &TestSite, clients: &[reqwest::Client], email: &str) -> Vec<u16> {
    let form = sign_in_form(site).await;
    let guesses = clients.iter().enumerate().map(|(i, client)| {
        let form = &form;
        async move {
            post_sign_in_with(client, site, form, email, &format!("guess number {i}"))
                .await
                .status()
                .as_u16()
        }
    });
    futures_util::future::join_all(guesses).await
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

/// 40 wrong passwords at once from one address: 5 reach the password check, 35 are refused.
async fn parallel_guesses_are_held_to_the_budget(site: TestSite) {
    site.add_user("admin@example.org", "admin", "correct horse battery");
    let clients = vec![site.client.clone(); 40];
    let statuses = guesses_at_once(&site, &clients, "admin@example.org").await;
    assert_eq!(
        (count(&statuses, 401), count(&statuses, 429)),
        (5, 35),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn parallel_wrong_passwords_are_held_to_the_budget_on_sqlite() {
    parallel_guesses_are_held_to_the_budget(TestSite::demo()).await;
}

#[tokio::test]
async fn parallel_wrong_passwords_are_held_to_the_budget_on_postgresql() {
    let Some(db) = common::PgDatabase::create() else {
        return;
    };
    let env = [("NEWSDESK_DATABASE_URL", db.url.as_str())];
    let site = TestSite::start_with(common::demo_config_text(), &["--demo"], &env);
    parallel_guesses_are_held_to_the_budget(site).await;
}

#[tokio::test]
async fn guesses_spread_over_many_addresses_meet_the_account_wide_budget() {
    let site = TestSite::demo();
    site.add_user("admin@example.org", "admin", "correct horse battery");
    // Eleven addresses, five guesses each: each within its own budget, 55 together.
    let clients: Vec<reqwest::Client> = (2..13)
        .flat_map(|n| {
            let client = common::http_client_from(&format!("127.0.0.{n}"));
            std::iter::repeat_n(client, 5)
        })
        .collect();
    let statuses = guesses_at_once(&site, &clients, "admin@example.org").await;
    assert_eq!(
        (count(&statuses, 401), count(&statuses, 429)),
        (50, 5),
        "{statuses:?}"
    );
    let form = sign_in_form(&site).await;
    let fresh = common::http_client_from("127.0.0.99");
    let refused = post_sign_in_with(
        &fresh,
        &site,
        &form,
        "admin@example.org",
        "guess from a fresh address",
    )
    .await;
    assert_eq!(refused.status(), 429, "the account-wide budget is spent");
}

#[tokio::test]
async fn sessions_end_on_sign_out_disabling_and_password_change() {
    let site = TestSite::demo();
    site.add_user("editor@example.org", "editor", "correct horse battery");
    let first = sign_in(&site, "editor@example.org", "correct horse battery").await;
    let second = sign_in(&site, "editor@example.org", "correct horse battery").await;

    // Password change: needs the CSRF token and the current password; other sessions end.
    let (_, _, page) = desk_page(&site, "/desk/password", &first).await;
    let csrf = page.attr("form[action='/desk/password'] input[name=csrf]", "value");
    let change = |csrf: String, current: &'static str| {
        site.client
            .post(site.url("/desk/password"))
            .header("cookie", &first)
            .form(&[
                ("csrf", csrf.as_str()),
                ("current", current),
                ("new", "a brand new passphrase"),
            ])
            .send()
    };
    assert_eq!(
        change("nope".into(), "correct horse battery")
            .await
            .expect("post")
            .status(),
        403
    );
    assert_eq!(
        change(csrf.clone(), "not the password")
            .await
            .expect("post")
            .status(),
        422
    );
    assert_eq!(
        change(csrf.clone(), "correct horse battery")
            .await
            .expect("post")
            .status(),
        200
    );
    assert_eq!(
        desk_page(&site, "/desk", &second).await.0,
        303,
        "the other session ended"
    );
    assert_eq!(
        desk_page(&site, "/desk", &first).await.0,
        200,
        "this one goes on"
    );
    let form = sign_in_form(&site).await;
    assert_eq!(
        post_sign_in(&site, &form, "editor@example.org", "correct horse battery")
            .await
            .status(),
        401
    );

    // Sign-out needs the token too.
    let out = |csrf: &str| {
        site.client
            .post(site.url("/desk/sign-out"))
            .header("cookie", &first)
            .form(&[("csrf", csrf)])
            .send()
    };
    assert_eq!(out("forged").await.expect("post").status(), 403);
    assert_eq!(out(&csrf).await.expect("post").status(), 303);
    assert_eq!(desk_page(&site, "/desk", &first).await.0, 303);

    // Disabling an account ends its sessions at once.
    let third = sign_in(&site, "editor@example.org", "a brand new passphrase").await;
    assert_eq!(desk_page(&site, "/desk", &third).await.0, 200);
    let disable = site.command(&["user", "disable", "--email", "editor@example.org"]);
    assert!(
        disable.status.success(),
        "{}",
        String::from_utf8_lossy(&disable.stderr)
    );
    assert_eq!(desk_page(&site, "/desk", &third).await.0, 303);
}

#[tokio::test]
async fn the_content_list_filters_searches_and_pages() {
    let site = TestSite::demo();
    site.add_user("editor@example.org", "editor", "correct horse battery");
    site.import_ok(
        "[[items]]\nkind = \"story\"\nsection = \"sport\"\nslug = \"draft-derby\"\nheadline = \"Derby draft: 100% not ready\"\nbody = \"Draft.\"\n",
    );
    let cookie = sign_in(&site, "editor@example.org", "correct horse battery").await;
    let (_, _, page) = desk_page(&site, "/desk", &cookie).await;
    assert!(page.text_of(".count").starts_with("26 items"));
    assert_eq!(page.texts(".items tbody tr").len(), 26);
    assert!(
        page.texts(".items tbody tr")
            .first()
            .is_some_and(|r| r.contains("Derby draft")),
        "last change first"
    );

    let (_, _, drafts) = desk_page(&site, "/desk?status=draft", &cookie).await;
    assert_eq!(drafts.text_of(".count"), "1 item");
    let (_, _, search) = desk_page(&site, "/desk?q=100%25", &cookie).await;
    assert_eq!(search.text_of(".count"), "1 item");
    let (_, _, breaking) = desk_page(&site, "/desk?breaking=yes&language=en", &cookie).await;
    assert_eq!(breaking.text_of(".count"), "1 item");
    let (_, _, ru) = desk_page(&site, "/desk?language=ru&kind=brief", &cookie).await;
    assert_eq!(ru.text_of(".count"), "2 items");
    let (status, _, _) = desk_page(&site, "/desk?page=0", &cookie).await;
    assert_eq!(status, 400);
}

fn borrowed<'a>(fields: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The session's CSRF token, read from any desk form.
async fn session_csrf(site: &TestSite, cookie: &str) -> String {
    let (_, _, page) = desk_page(site, "/desk/new", cookie).await;
    page.attr("form.editor input[name=csrf]", "value")
}

async fn post_editor(
    site: &TestSite,
    cookie: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, Option<String>, Page) {
    let response = site
        .client
        .post(site.url(path))
        .header("cookie", cookie)
        .form(fields)
        .send()
        .await
        .expect("post");
    read(response).await
}

#[tokio::test]
async fn an_editor_writes_and_publishes_and_readers_see_it() {
    let site = TestSite::demo();
    site.add_user("editor@example.org", "editor", "correct horse battery");
    let cookie = sign_in(&site, "editor@example.org", "correct horse battery").await;
    let csrf = session_csrf(&site, &cookie).await;
    let story = [
        ("csrf", csrf.as_str()),
        ("kind", "story"),
        ("language", "en"),
        ("section", "science"),
        (
            "headline",
            "Glacier survey finds ice thinning faster on northern slopes",
        ),
        (
            "standfirst",
            "A summer of measurements on the Varn icefield shows the loss is uneven.",
        ),
        (
            "body",
            "Researchers spent ten weeks on the icefield.\n\nThey will publish the data in spring.",
        ),
        ("tags", "glaciers, climate"),
        ("authors", "amina-rahimova"),
        (
            "sources",
            "Varnholt Glacier Survey | https://example.org/survey",
        ),
        ("action", "publish"),
    ];
    let (status, location, _) = post_editor(&site, &cookie, "/desk/new", &story).await;
    assert_eq!(status, 303);
    assert!(
        location
            .as_deref()
            .is_some_and(|l| l.starts_with("/desk/items/") && l.ends_with("?saved=1")),
        "{location:?}"
    );
    let page = site
        .eventually(
            "/science/glacier-survey-finds-ice-thinning-faster-on-northern-slopes",
            std::time::Duration::from_secs(2),
            |p| p.status == 200,
        )
        .await;
    assert_eq!(page.text_of(".authors"), "By Amina Rahimova");
    assert_eq!(page.texts(".sources li"), ["Varnholt Glacier Survey"]);
    let (_, _, editor) = desk_page(&site, location.as_deref().unwrap_or_default(), &cookie).await;
    assert!(editor.text_of(".notice").contains("Saved"));
    assert!(editor.text_of(".revisions").contains("editor@example.org"));
}

#[tokio::test]
async fn a_contributor_drafts_and_submits_but_cannot_publish() {
    let site = TestSite::demo();
    site.add_user("writer@example.org", "contributor", "correct horse battery");
    let cookie = sign_in(&site, "writer@example.org", "correct horse battery").await;
    let (_, _, form) = desk_page(&site, "/desk/new?kind=brief", &cookie).await;
    let buttons = form.texts(".buttons button");
    assert_eq!(
        buttons,
        ["Save", "Submit for review"],
        "only the buttons the role may press"
    );
    let csrf = form.attr("form.editor input[name=csrf]", "value");
    let brief = |action: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("kind", "brief".into()),
            ("section", "sport".into()),
            (
                "body",
                "Halden Athletic name an interim coach for the weekend derby.".into(),
            ),
            ("action", action.into()),
        ]
    };
    let as_refs = |v: &Vec<(&'static str, String)>| {
        v.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>()
    };
    let publish = as_refs(&brief("publish"));
    let publish: Vec<(&str, &str)> = publish.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, _, refused) = post_editor(&site, &cookie, "/desk/new", &publish).await;
    assert_eq!(
        status, 403,
        "the server refuses what the form did not offer"
    );
    assert!(
        refused
            .text_of(".error")
            .contains("contributor may not publish")
    );
    assert!(
        refused.text_of("#body").contains("interim coach"),
        "nothing typed is lost"
    );

    let (status, location, _) =
        post_editor(&site, &cookie, "/desk/new", &borrowed(&brief("submit"))).await;
    assert_eq!(status, 303);
    let (_, _, editor) = desk_page(&site, location.as_deref().unwrap_or_default(), &cookie).await;
    assert!(editor.text_of(".meta").contains("in review"));
    assert!(
        editor
            .texts(".buttons button")
            .iter()
            .all(|b| b != "Publish now")
    );
    // Someone else's published story is not theirs to change.
    let (_, _, list) = desk_page(&site, "/desk?q=tidal%20barrier", &cookie).await;
    let href = list.attr(".items tbody a", "href");
    let (_, _, theirs) = desk_page(&site, &href, &cookie).await;
    assert!(
        theirs.select(".buttons button").is_empty(),
        "{}",
        theirs.text
    );
}

#[tokio::test]
async fn a_stale_save_is_refused_with_a_conflict_and_bad_input_is_kept() {
    let site = TestSite::demo();
    site.add_user("one@example.org", "editor", "correct horse battery");
    site.add_user("two@example.org", "editor", "correct horse battery");
    let one = sign_in(&site, "one@example.org", "correct horse battery").await;
    let two = sign_in(&site, "two@example.org", "correct horse battery").await;
    let (_, _, list) = desk_page(&site, "/desk?q=tidal%20barrier", &one).await;
    let path = list.attr(".items tbody a", "href");
    let (_, _, form) = desk_page(&site, &path, &one).await;
    let version = form.attr("input[name=version]", "value");
    let body = form.text_of("#body");
    let edit = |csrf: String, headline: String| {
        vec![
            ("csrf", csrf),
            ("version", version.clone()),
            ("kind", "story".to_owned()),
            ("language", "en".to_owned()),
            ("section", "world".to_owned()),
            (
                "slug",
                "port-halden-closes-tidal-barrier-for-first-time".to_owned(),
            ),
            ("headline", headline),
            ("body", body.clone()),
            ("authors", "amina-rahimova".to_owned()),
            ("action", "save".to_owned()),
        ]
    };
    let csrf_one = session_csrf(&site, &one).await;
    let csrf_two = session_csrf(&site, &two).await;
    let first: Vec<(String, String)> = edit(csrf_one, "Barrier holds, says authority".into())
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let first: Vec<(&str, &str)> = first
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(post_editor(&site, &one, &path, &first).await.0, 303);
    let second: Vec<(String, String)> =
        edit(csrf_two.clone(), "Barrier holds as surge peaks".into())
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
    let second: Vec<(&str, &str)> = second
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (status, _, conflict) = post_editor(&site, &two, &path, &second).await;
    assert_eq!(status, 409);
    assert!(
        conflict
            .text_of(".error")
            .contains("Someone saved this item")
    );
    assert_eq!(
        conflict.attr("#headline", "value"),
        "Barrier holds as surge peaks",
        "the loser's text is kept"
    );
    // The refusal shows what the colleague changed since the form was opened.
    let headline_change = conflict
        .select(".conflict tbody tr")
        .into_iter()
        .map(|row| row.text().collect::<String>())
        .find(|row| row.starts_with("Headline"))
        .expect("the headline's change is listed");
    assert!(
        headline_change.ends_with("Barrier holds, says authority"),
        "{headline_change}"
    );
    assert!(
        conflict.attr(".conflict a", "href").ends_with(&format!(
            "/compare?from={version}&to={}",
            version.parse::<i64>().expect("version") + 1
        )),
        "a link to the full comparison"
    );
    let page = site
        .eventually(
            "/world/port-halden-closes-tidal-barrier-for-first-time",
            std::time::Duration::from_secs(2),
            |p| p.text.contains("Barrier holds, says authority"),
        )
        .await;
    assert!(
        !page.text.contains("as surge peaks"),
        "nothing overwritten silently"
    );

    let long = "x".repeat(201);
    let bad: Vec<(String, String)> = edit(csrf_two, long)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let mut bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    bad.retain(|(k, _)| *k != "version");
    let (status, _, refused) = post_editor(&site, &two, "/desk/new", &bad).await;
    assert_eq!(status, 422);
    assert!(
        refused.text_of(".error").contains("headline is too long"),
        "{}",
        refused.text_of(".error")
    );
    assert!(
        refused
            .text_of("#body")
            .contains("Port Halden closed its tidal flood barrier")
    );

    let no_token: Vec<(&str, &str)> = bad.iter().copied().filter(|(k, _)| *k != "csrf").collect();
    assert_eq!(
        post_editor(&site, &two, "/desk/new", &no_token).await.0,
        403
    );
}

#[tokio::test]
async fn changing_a_slug_or_section_keeps_old_links_working() {
    let site = TestSite::demo();
    site.add_user("editor@example.org", "editor", "correct horse battery");
    let cookie = sign_in(&site, "editor@example.org", "correct horse battery").await;
    let old = "/world/port-halden-closes-tidal-barrier-for-first-time";
    let (_, _, list) = desk_page(&site, "/desk?q=tidal%20barrier", &cookie).await;
    let path = list.attr(".items tbody a", "href");
    let (_, _, form) = desk_page(&site, &path, &cookie).await;
    let fields = vec![
        ("csrf", form.attr("form.editor input[name=csrf]", "value")),
        ("version", form.attr("input[name=version]", "value")),
        ("kind", "story".to_owned()),
        ("language", "en".to_owned()),
        ("section", "politics".to_owned()),
        ("slug", "halden-barrier-first-closure".to_owned()),
        ("headline", form.attr("#headline", "value")),
        ("body", form.text_of("#body")),
        ("authors", "amina-rahimova".to_owned()),
        ("action", "save".to_owned()),
    ];
    assert_eq!(
        post_editor(&site, &cookie, &path, &borrowed(&fields))
            .await
            .0,
        303
    );
    let new = "/politics/halden-barrier-first-closure";
    site.eventually(new, std::time::Duration::from_secs(2), |p| p.status == 200)
        .await;
    let moved = site.get(old).await;
    assert_eq!(moved.status(), 301);
    assert_eq!(moved.headers()["location"], new);
}

#[tokio::test]
async fn admins_read_who_did_what_in_the_audit_log() {
    let site = TestSite::demo();
    site.add_user("admin@example.org", "admin", "correct horse battery");
    site.add_user("editor@example.org", "editor", "correct horse battery");
    let editor = sign_in(&site, "editor@example.org", "correct horse battery").await;
    let csrf = session_csrf(&site, &editor).await;
    let brief = [
        ("csrf", csrf.as_str()),
        ("kind", "brief"),
        ("section", "world"),
        (
            "body",
            "Ferry services to the outer islands resume on Thursday.",
        ),
        ("action", "publish"),
    ];
    assert_eq!(
        post_editor(&site, &editor, "/desk/new", &brief).await.0,
        303
    );
    assert_eq!(
        desk_page(&site, "/desk/audit", &editor).await.0,
        403,
        "not for editors"
    );
    let disable = site.command(&["user", "disable", "--email", "editor@example.org"]);
    assert!(disable.status.success());

    let admin = sign_in(&site, "admin@example.org", "correct horse battery").await;
    let (status, _, page) = desk_page(&site, "/desk/audit", &admin).await;
    assert_eq!(status, 200);
    let rows = page.texts(".audit tbody tr");
    assert!(
        rows[0].contains("command line") && rows[0].contains("disabled the account"),
        "{rows:?}"
    );
    assert!(
        rows.iter().any(|r| r.contains("editor@example.org")
            && r.contains("published")
            && r.contains("Ferry services")),
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .any(|r| r.contains("added the account as editor")),
        "{rows:?}"
    );
}

#[tokio::test]
async fn history_shows_what_changed_and_restores_an_old_version_as_a_new_one() {
    let site = TestSite::demo();
    site.add_user("editor@example.org", "editor", "correct horse battery");
    let cookie = sign_in(&site, "editor@example.org", "correct horse battery").await;
    let (_, _, list) = desk_page(&site, "/desk?q=tidal%20barrier", &cookie).await;
    let path = list.attr(".items tbody a", "href");
    let (_, _, form) = desk_page(&site, &path, &cookie).await;
    let body = form.text_of("#body");
    let fields = vec![
        ("csrf", form.attr("form.editor input[name=csrf]", "value")),
        ("version", form.attr("input[name=version]", "value")),
        ("kind", "story".to_owned()),
        ("section", "world".to_owned()),
        (
            "slug",
            "port-halden-closes-tidal-barrier-for-first-time".to_owned(),
        ),
        ("headline", "Halden Barrier: a wrong headline".to_owned()),
        (
            "body",
            body.replace("all fourteen gates were holding", "some gates were failing"),
        ),
        ("authors", "amina-rahimova".to_owned()),
        ("action", "save".to_owned()),
    ];
    assert_eq!(
        post_editor(&site, &cookie, &path, &borrowed(&fields))
            .await
            .0,
        303
    );

    let (status, _, compare) = desk_page(&site, &format!("{path}/compare?from=1"), &cookie).await;
    assert_eq!(status, 200);
    assert!(
        compare
            .text_of("tbody")
            .contains("Halden Barrier: a wrong headline")
    );
    assert!(
        compare
            .texts(".diff del")
            .iter()
            .any(|l| l.contains("all fourteen gates were holding"))
    );
    assert!(
        compare
            .texts(".diff ins")
            .iter()
            .any(|l| l.contains("some gates were failing"))
    );

    let restore = [
        ("csrf", fields[0].1.as_str()),
        ("version", "2"),
        ("restore", "1"),
    ];
    let (status, _, _) = post_editor(&site, &cookie, &format!("{path}/restore"), &restore).await;
    assert_eq!(status, 303);
    let page = site
        .eventually(
            "/world/port-halden-closes-tidal-barrier-for-first-time",
            std::time::Duration::from_secs(2),
            |p| p.text.contains("all fourteen gates were holding"),
        )
        .await;
    assert!(!page.text.contains("a wrong headline"));
    let (_, _, editor) = desk_page(&site, &path, &cookie).await;
    assert_eq!(
        editor.attr("input[name=version]", "value"),
        "3",
        "restoring adds a version; history stays"
    );
    assert_eq!(editor.select(".revisions li").len(), 3);
    // A restore from a stale page is a conflict, not an overwrite.
    let (status, _, _) = post_editor(&site, &cookie, &format!("{path}/restore"), &restore).await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn an_editor_attaches_a_correction_that_readers_see_with_its_time() {
    let site = TestSite::demo();
    site.add_user("editor@example.org", "editor", "correct horse battery");
    site.add_user("writer@example.org", "contributor", "correct horse battery");
    let lead = "/world/port-halden-closes-tidal-barrier-for-first-time";
    let before = site.ok(lead).await;
    let updated_before = before
        .texts(".times time")
        .last()
        .cloned()
        .unwrap_or_default();
    let cookie = sign_in(&site, "editor@example.org", "correct horse battery").await;
    let (_, _, list) = desk_page(&site, "/desk?q=tidal%20barrier", &cookie).await;
    let path = list.attr(".items tbody a", "href");
    let (_, _, form) = desk_page(&site, &path, &cookie).await;
    let csrf = form.attr("form.editor input[name=csrf]", "value");
    let version = form.attr("input[name=version]", "value");
    let note = [
        ("csrf", csrf.as_str()),
        ("version", version.as_str()),
        ("kind", "correction"),
        (
            "text",
            "An earlier version said the barrier cost 480 million euros; it cost about 840 million.",
        ),
    ];
    let empty = [
        ("csrf", csrf.as_str()),
        ("version", version.as_str()),
        ("kind", "update"),
        ("text", "  "),
    ];
    assert_eq!(
        post_editor(&site, &cookie, &format!("{path}/notes"), &empty)
            .await
            .0,
        422
    );
    assert_eq!(
        post_editor(&site, &cookie, &format!("{path}/notes"), &note)
            .await
            .0,
        303
    );

    let page = site
        .eventually(lead, std::time::Duration::from_secs(2), |p| {
            p.text.contains("480 million")
        })
        .await;
    let shown = page.text_of(".notes .note-correction");
    assert!(
        shown.starts_with("Correction · ") && shown.contains("+04"),
        "{shown}"
    );
    let updated_after = page
        .texts(".times time")
        .last()
        .cloned()
        .unwrap_or_default();
    assert_ne!(updated_after, updated_before, "the updated time moves");
    let (_, _, editor) = desk_page(&site, &path, &cookie).await;
    assert!(
        editor
            .text_of(".revisions")
            .contains("Version 2 by editor@example.org")
    );

    let writer = sign_in(&site, "writer@example.org", "correct horse battery").await;
    let writer_csrf = session_csrf(&site, &writer).await;
    let attempt = [
        ("csrf", writer_csrf.as_str()),
        ("version", "2"),
        ("kind", "update"),
        ("text", "Not allowed."),
    ];
    assert_eq!(
        post_editor(&site, &writer, &format!("{path}/notes"), &attempt)
            .await
            .0,
        403
    );
}

/// Every desk route, asked by every role: what each may open or do, decided on the server.
#[tokio::test]
async fn every_desk_route_answers_each_role_as_the_rules_say() {
    let site = TestSite::demo();
    for role in ["contributor", "editor", "moderator", "admin"] {
        site.add_user(
            &format!("{role}@example.org"),
            role,
            "correct horse battery",
        );
    }
    let lead = {
        let admin = sign_in(&site, "admin@example.org", "correct horse battery").await;
        let (_, _, list) = desk_page(&site, "/desk?q=tidal%20barrier", &admin).await;
        list.attr(".items tbody a", "href")
    };
    // (route, contributor, editor, moderator, admin)
    let pages = [
        ("/desk", [200, 200, 200, 200]),
        ("/desk/new", [200, 200, 403, 200]),
        (lead.as_str(), [200, 200, 200, 200]),
        (&format!("{lead}/compare?from=1"), [200, 200, 200, 200]),
        ("/desk/audit", [403, 403, 403, 200]),
        ("/desk/password", [200, 200, 200, 200]),
        ("/desk/sections", [403, 200, 403, 200]),
        ("/desk/tags", [403, 200, 403, 200]),
        ("/desk/authors", [403, 200, 403, 200]),
        ("/desk/accounts", [403, 403, 403, 200]),
        ("/desk/settings", [403, 403, 403, 200]),
        ("/desk/media", [200, 200, 403, 200]),
    ];
    let roles = ["contributor", "editor", "moderator", "admin"];
    for (n, role) in roles.iter().enumerate() {
        let cookie = sign_in(
            &site,
            &format!("{role}@example.org"),
            "correct horse battery",
        )
        .await;
        for (route, expected) in &pages {
            assert_eq!(
                desk_page(&site, route, &cookie).await.0,
                expected[n],
                "{role} GET {route}"
            );
        }
        let csrf = desk_page(&site, "/desk/password", &cookie)
            .await
            .2
            .attr("form input[name=csrf]", "value");
        let publish_brief = [
            ("csrf", csrf.as_str()),
            ("kind", "brief"),
            ("section", "world"),
            ("body", "A brief from the role table."),
            ("slug", &format!("role-table-{role}")),
            ("action", "publish"),
        ];
        let expected = if matches!(*role, "editor" | "admin") {
            303
        } else {
            403
        };
        assert_eq!(
            post_editor(&site, &cookie, "/desk/new", &publish_brief)
                .await
                .0,
            expected,
            "{role} publishes"
        );
        let note = [
            ("csrf", csrf.as_str()),
            ("version", "1"),
            ("kind", "update"),
            ("text", "Role table."),
        ];
        let status = post_editor(&site, &cookie, &format!("{lead}/notes"), &note)
            .await
            .0;
        // The editor's note, sent at version 1, is accepted; the admin's, sent at the same
        // now stale version, passes the role check and stops at the version check.
        let expected = match *role {
            "editor" => 303,
            "admin" => 409,
            _ => 403,
        };
        assert_eq!(status, expected, "{role} adds a note");

        let manages_labels = matches!(*role, "editor" | "admin");
        let section = [
            ("csrf", csrf.as_str()),
            ("slug", &format!("desk-role-{role}")),
            ("name", "Role table"),
        ];
        assert_eq!(
            post_editor(&site, &cookie, "/desk/sections", &section)
                .await
                .0,
            if manages_labels { 303 } else { 403 },
            "{role} adds a section"
        );
        let author = [("csrf", csrf.as_str()), ("name", &format!("Role {role}"))];
        assert_eq!(
            post_editor(&site, &cookie, "/desk/authors", &author)
                .await
                .0,
            if manages_labels { 303 } else { 403 },
            "{role} adds an author"
        );
        let account = [
            ("csrf", csrf.as_str()),
            ("name", "New person"),
            ("email", &format!("new-by-{role}@example.org")),
            ("role", "admin"),
            ("password", "correct horse battery"),
        ];
        assert_eq!(
            post_editor(&site, &cookie, "/desk/accounts", &account)
                .await
                .0,
            if *role == "admin" { 303 } else { 403 },
            "{role} adds an account"
        );
    }
    // Signed out, every desk page sends to sign-in.
    for (route, _) in &pages {
        let response = site.get(route).await;
        assert_eq!(response.status(), 303, "anonymous GET {route}");
        assert!(
            response.headers()["location"]
                .to_str()
                .unwrap_or_default()
                .starts_with("/desk/sign-in")
        );
    }
}

#[tokio::test]
async fn the_preview_renders_like_the_site_and_needs_the_session_token() {
    let site = TestSite::demo();
    site.add_user("editor@example.org", "editor", "correct horse battery");
    let cookie = sign_in(&site, "editor@example.org", "correct horse battery").await;
    let csrf = session_csrf(&site, &cookie).await;
    let body = "A *calm* night.<script>alert(1)</script>";
    let (status, _, page) = post_editor(
        &site,
        &cookie,
        "/desk/preview",
        &[("csrf", csrf.as_str()), ("body", body)],
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        page.text.contains("<em>calm</em>") && !page.text.contains("<script"),
        "{}",
        page.text
    );
    assert_eq!(
        post_editor(&site, &cookie, "/desk/preview", &[("body", body)])
            .await
            .0,
        403
    );
    assert_eq!(
        site.client
            .post(site.url("/desk/preview"))
            .form(&[("body", body)])
            .send()
            .await
            .expect("post")
            .status(),
        303
    );
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::DynamicImage::new_rgb8(width, height);
    let mut out = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .expect("png");
    out
}

/// A JPEG carrying an EXIF block with a location in it, as phones write them.
fn jpeg_with_location(marker: &str) -> Vec<u8> {
    let image = image::DynamicImage::new_rgb8(800, 600);
    let mut plain = Vec::new();
    image
        .write_to(
            &mut std::io::Cursor::new(&mut plain),
            image::ImageFormat::Jpeg,
        )
        .expect("jpeg");
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend_from_slice(marker.as_bytes());
    let length = u16::try_from(payload.len() + 2).expect("small");
    let mut out = plain[..2].to_vec(); // SOI
    out.extend_from_slice(&[0xff, 0xe1]);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&plain[2..]);
    out
}

/// A valid PNG that declares 30000×30000 pixels and carries almost nothing: a decoder that
/// trusted it would try to allocate 2.7 GB.
fn pixel_bomb() -> Vec<u8> {
    fn chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        let mut out = u32::try_from(data.len())
            .expect("small")
            .to_be_bytes()
            .to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
        out
    }
    let mut ihdr = 30_000u32.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&30_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(chunk(b"IHDR", &ihdr));
    out.extend(chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    ));
    out.extend(chunk(b"IEND", &[]));
    out
}

async fn post_with_image(
    site: &TestSite,
    cookie: &str,
    fields: &[(&str, &str)],
    name: &str,
    bytes: Vec<u8>,
) -> (u16, Option<String>, String) {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        form = form.text((*k).to_owned(), (*v).to_owned());
    }
    form = form.part(
        "hero_file",
        reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
    );
    let response = site
        .client
        .post(site.url("/desk/new"))
        .header("cookie", cookie)
        .multipart(form)
        .send()
        .await
        .expect("post");
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, location, response.text().await.unwrap_or_default())
}

#[tokio::test]
async fn uploaded_images_are_checked_cleaned_resized_and_served_with_srcset() {
    let site = TestSite::demo();
    site.add_user("editor@example.org", "editor", "correct horse battery");
    let cookie = sign_in(&site, "editor@example.org", "correct horse battery").await;
    let csrf = session_csrf(&site, &cookie).await;
    let story = |slug: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("kind", "story".to_owned()),
            ("section", "science".to_owned()),
            ("slug", slug.to_owned()),
            ("headline", format!("Images test {slug}")),
            ("body", "Text.".to_owned()),
            ("hero_alt", "A grey test card.".to_owned()),
            ("hero_caption", "The test card.".to_owned()),
            ("hero_credit", "Newsdesk tests".to_owned()),
            ("action", "publish".to_owned()),
        ]
    };

    let fields = story("wide-image");
    let (status, _, body) = post_with_image(
        &site,
        &cookie,
        &borrowed(&fields),
        "card.png",
        png(2000, 1000),
    )
    .await;
    assert_eq!(status, 303, "{body}");
    let page = site
        .eventually(
            "/science/wide-image",
            std::time::Duration::from_secs(2),
            |p| p.status == 200,
        )
        .await;
    let src = page.attr(".hero img", "src");
    assert!(
        src.starts_with("/media/uploads/") && src.ends_with(".jpg"),
        "{src}"
    );
    // Search engines get centre crops at 16:9, 4:3 and 1:1 in the article's JSON-LD.
    let article: serde_json::Value = page
        .select(r#"script[type="application/ld+json"]"#)
        .iter()
        .filter_map(|e| serde_json::from_str::<serde_json::Value>(&e.inner_html()).ok())
        .find(|v| v["@type"] == "NewsArticle")
        .expect("a NewsArticle");
    let images = article["image"].as_array().expect("images");
    for (suffix, (w, h)) in [
        ("-16x9.jpg", (16, 9)),
        ("-4x3.jpg", (4, 3)),
        ("-1x1.jpg", (1, 1)),
    ] {
        let image = images
            .iter()
            .find(|i| i["url"].as_str().is_some_and(|u| u.ends_with(suffix)))
            .unwrap_or_else(|| panic!("a {suffix} crop in {images:?}"));
        let url = image["url"].as_str().expect("url");
        let path = url.strip_prefix(&site.base).expect("this site");
        let bytes = site.get(path).await.bytes().await.expect("bytes");
        let crop = image::load_from_memory(&bytes).expect("a real image");
        assert_eq!(
            (u64::from(crop.width()), u64::from(crop.height())),
            (
                image["width"].as_u64().expect("w"),
                image["height"].as_u64().expect("h")
            ),
            "{suffix}: the stated size is the real one"
        );
        let ratio = f64::from(crop.width()) / f64::from(crop.height());
        assert!(
            (ratio - f64::from(w) / f64::from(h)).abs() < 0.01,
            "{suffix}: {ratio}"
        );
    }
    let srcset = page.attr(".hero img", "srcset");
    for width in [320, 640, 1024, 1600, 2000] {
        assert!(srcset.contains(&format!(" {width}w")), "{srcset}");
    }
    assert_eq!(page.attr(".hero img", "width"), "2000");
    let variant = srcset
        .split(", ")
        .next()
        .and_then(|e| e.split(' ').next())
        .expect("variant")
        .to_owned();
    let response = site.get(&variant).await;
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    let jpeg_caching = response.headers()["cache-control"].clone();
    assert_eq!(jpeg_caching, "public, max-age=31536000, immutable");
    let decoded =
        image::load_from_memory(&response.bytes().await.expect("bytes")).expect("a real image");
    assert_eq!(decoded.width(), 320);

    // Browsers that take WebP are offered the same widths as lossy WebP.
    let webp_source = r#".hero picture source[type="image/webp"]"#;
    assert_eq!(
        page.attr(webp_source, "sizes"),
        page.attr(".hero img", "sizes")
    );
    let webp_srcset = page.attr(webp_source, "srcset");
    assert_eq!(webp_srcset, srcset.replace(".jpg ", ".webp "));
    let webp_variant = webp_srcset
        .split(", ")
        .next()
        .and_then(|e| e.split(' ').next())
        .expect("variant")
        .to_owned();
    assert!(webp_variant.ends_with("-320.webp"), "{webp_variant}");
    let response = site.get(&webp_variant).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/webp");
    assert_eq!(
        response.headers()["cache-control"],
        jpeg_caching,
        "cached like the JPEG it stands in for"
    );
    let webp = response.bytes().await.expect("bytes");
    assert_eq!(webp.get(12..16), Some(b"VP8 ".as_slice()), "lossy WebP");
    let decoded =
        image::load_from_memory_with_format(&webp, image::ImageFormat::WebP).expect("a real image");
    assert_eq!(decoded.width(), 320);

    let fields = story("located");
    let (status, _, body) = post_with_image(
        &site,
        &cookie,
        &borrowed(&fields),
        "phone.jpg",
        jpeg_with_location("GPS 40.4093N 49.8671E"),
    )
    .await;
    assert_eq!(status, 303, "{body}");
    let page = site
        .eventually("/science/located", std::time::Duration::from_secs(2), |p| {
            p.status == 200
        })
        .await;
    let stored = site
        .get(&page.attr(".hero img", "src"))
        .await
        .bytes()
        .await
        .expect("bytes");
    let webp_srcset = page.attr(r#".hero picture source[type="image/webp"]"#, "srcset");
    let stored_webp = site
        .get(
            webp_srcset
                .rsplit(", ")
                .next()
                .and_then(|e| e.split(' ').next())
                .expect("the original"),
        )
        .await
        .bytes()
        .await
        .expect("bytes");
    for bytes in [&stored, &stored_webp] {
        assert!(
            !bytes.windows(3).any(|w| w == b"GPS") && !bytes.windows(4).any(|w| w == b"Exif"),
            "metadata stripped"
        );
    }

    let fields = story("refused");
    let (status, _, body) = post_with_image(
        &site,
        &cookie,
        &borrowed(&fields),
        "holiday.jpg",
        b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec(),
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        body.contains("not a JPEG, PNG or WebP image"),
        "a renamed executable is known by its content"
    );
    assert!(
        body.contains("Images test refused"),
        "the form keeps the text"
    );

    let (status, _, body) =
        post_with_image(&site, &cookie, &borrowed(&fields), "bomb.png", pixel_bomb()).await;
    assert_eq!(status, 422);
    assert!(body.contains("30000×30000 pixels"), "{body}");

    let oversized = vec![0u8; newsdesk_services::uploads::UPLOAD_MAX_BYTES + 1];
    let (status, _, body) =
        post_with_image(&site, &cookie, &borrowed(&fields), "huge.jpg", oversized).await;
    assert_eq!(status, 422);
    assert!(body.contains("the limit is 15728640 bytes"), "{body}");
    assert_eq!(
        site.get("/science/refused").await.status(),
        404,
        "nothing half-saved"
    );
}

/// Posts a desk form with the session's CSRF token added.
async fn post_desk(
    site: &TestSite,
    cookie: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, Option<String>, Page) {
    let csrf = session_csrf(site, cookie).await;
    let mut with_token = vec![("csrf", csrf.as_str())];
    with_token.extend_from_slice(fields);
    post_editor(site, cookie, path, &with_token).await
}

/// How long a change may take to reach the public pages (the event follower's wake-up).
const SOON: std::time::Duration = std::time::Duration::from_secs(3);

fn nav(page: &Page) -> Vec<String> {
    page.texts("nav.sections a")
}

#[tokio::test]
async fn editors_manage_sections_and_every_page_follows_at_once() {
    let site = TestSite::demo();
    site.add_user("editor@example.org", "editor", "correct horse battery");
    let editor = sign_in(&site, "editor@example.org", "correct horse battery").await;
    // Warm the cache, so the changes below must purge it.
    assert!(!nav(&site.ok("/").await).contains(&"Elections".to_owned()));

    let (status, location, _) = post_desk(
        &site,
        &editor,
        "/desk/sections",
        &[
            ("slug", "elections"),
            ("name", "Elections"),
            ("name_ru", "Выборы"),
        ],
    )
    .await;
    assert_eq!(
        (status, location.as_deref()),
        (303, Some("/desk/sections?done=added"))
    );
    let (_, _, room) = desk_page(&site, "/desk/sections?done=added", &editor).await;
    assert_eq!(room.text_of("p.notice"), "Added.");
    site.eventually("/", SOON, |p| {
        nav(p).last().map(String::as_str) == Some("Elections")
    })
    .await;
    site.eventually("/ru/", SOON, |p| nav(p).contains(&"Выборы".to_owned()))
        .await;
    assert_eq!(site.get("/elections").await.status(), 200);

    // Refusals say why, with the right status, and change nothing.
    for (fields, status, words) in [
        (
            vec![("slug", "desk"), ("name", "Desk")],
            422,
            "path the site uses itself",
        ),
        (
            vec![("slug", "elections"), ("name", "Twice")],
            409,
            "already in use",
        ),
        (
            vec![("slug", "polls"), ("name", "")],
            422,
            "name is required",
        ),
    ] {
        let (got, _, page) = post_desk(&site, &editor, "/desk/sections", &fields).await;
        assert_eq!(got, status, "{fields:?}");
        assert!(
            page.text_of("p.error").contains(words),
            "{}",
            page.text_of("p.error")
        );
    }
    let (status, _, _) = post_editor(
        &site,
        &editor,
        "/desk/sections",
        &[("slug", "weather-desk"), ("name", "Weather")],
    )
    .await;
    assert_eq!(status, 403, "no CSRF token");
    assert_eq!(site.get("/weather-desk").await.status(), 404);

    let (status, _, _) = post_desk(
        &site,
        &editor,
        "/desk/sections/world",
        &[("name", "World news")],
    )
    .await;
    assert_eq!(status, 303);
    let (status, _, _) = post_desk(
        &site,
        &editor,
        "/desk/sections/elections/move",
        &[("direction", "up")],
    )
    .await;
    assert_eq!(status, 303);
    // Two changes, two events: wait for the page that has seen both (one rendered between
    // them is correct for its moment, and purged by the second).
    let moved_up = |names: &[String]| {
        let at = |name: &str| names.iter().position(|n| n == name);
        at("Elections").is_some_and(|e| e + 2 == names.len())
    };
    let names = nav(&site
        .eventually("/", SOON, |p| {
            let names = nav(p);
            names.contains(&"World news".to_owned()) && moved_up(&names)
        })
        .await);
    assert!(names.contains(&"World news".to_owned()), "{names:?}");
    let at = |name: &str| names.iter().position(|n| n == name).expect(name);
    assert_eq!(
        at("Elections") + 1,
        at(names.last().expect("last")),
        "{names:?}"
    );
    let story = site
        .ok("/world/port-halden-closes-tidal-barrier-for-first-time")
        .await;
    assert!(nav(&story).contains(&"World news".to_owned()));

    let (status, _, page) = post_desk(&site, &editor, "/desk/sections/world/delete", &[]).await;
    assert_eq!(status, 409);
    assert!(
        page.text_of("p.error").contains("still used by"),
        "{}",
        page.text
    );
    let (status, _, _) = post_desk(&site, &editor, "/desk/sections/elections/delete", &[]).await;
    assert_eq!(status, 303);
    site.eventually("/elections", SOON, |p| p.status == 404)
        .await;

    // The list lives in the database: a restart keeps it, whatever the configuration says.
    let site = site.restart(&[]);
    assert!(nav(&site.ok("/").await).contains(&"World news".to_owned()));
}

#[tokio::test]
async fn editors_rename_and_delete_tags_and_keep_authors() {
    let site = TestSite::demo();
    site.add_user("editor@example.org", "editor", "correct horse battery");
    let editor = sign_in(&site, "editor@example.org", "correct horse battery").await;
    let story_path = "/world/port-halden-closes-tidal-barrier-for-first-time";
    let story = site.ok(story_path).await;
    let tag_path = story.attr("a[rel=tag]", "href");
    let tag_slug = tag_path.rsplit('/').next().expect("slug").to_owned();
    let (_, _, room) = desk_page(&site, "/desk/tags", &editor).await;
    assert!(room.text.contains(&format!("/tag/{tag_slug}")));

    let (status, _, _) = post_desk(
        &site,
        &editor,
        &format!("/desk/tags/{tag_slug}"),
        &[("name", "Renamed by the desk")],
    )
    .await;
    assert_eq!(status, 303);
    site.eventually(story_path, SOON, |p| {
        p.texts("a[rel=tag]")
            .contains(&"Renamed by the desk".to_owned())
    })
    .await;
    assert_eq!(
        site.ok(&tag_path).await.text_of("h1"),
        "Renamed by the desk"
    );
    let (status, _, page) = post_desk(
        &site,
        &editor,
        &format!("/desk/tags/{tag_slug}"),
        &[("name", &"x".repeat(newsdesk_core::item::LABEL_MAX + 1))],
    )
    .await;
    assert_eq!(status, 422, "{}", page.text_of("p.error"));

    let (status, _, _) = post_desk(
        &site,
        &editor,
        &format!("/desk/tags/{tag_slug}/delete"),
        &[],
    )
    .await;
    assert_eq!(status, 303);
    site.eventually(&tag_path, SOON, |p| p.status == 404).await;
    site.eventually(story_path, SOON, |p| {
        !p.texts("a[rel=tag]")
            .iter()
            .any(|t| t == "Renamed by the desk")
    })
    .await;

    // Authors: added, edited (readers see the new biography), kept while they have bylines.
    let (status, _, _) = post_desk(
        &site,
        &editor,
        "/desk/authors",
        &[("name", "Nadia Okafor"), ("bio", "Covers courts.")],
    )
    .await;
    assert_eq!(status, 303);
    let (_, _, new_story) = desk_page(&site, "/desk/new", &editor).await;
    assert!(
        new_story.text.contains("nadia-okafor"),
        "the editor offers the new byline"
    );
    let author_path = story.attr("a[rel=author]", "href");
    let author_slug = author_path.rsplit('/').next().expect("slug").to_owned();
    let author_name = story.text_of("a[rel=author]");
    let (status, _, _) = post_desk(
        &site,
        &editor,
        &format!("/desk/authors/{author_slug}"),
        &[
            ("name", &author_name),
            ("bio", "Now also covers the harbour."),
        ],
    )
    .await;
    assert_eq!(status, 303);
    site.eventually(&author_path, SOON, |p| {
        p.text_of("p.bio") == "Now also covers the harbour."
    })
    .await;
    let (status, _, page) = post_desk(
        &site,
        &editor,
        &format!("/desk/authors/{author_slug}/delete"),
        &[],
    )
    .await;
    assert_eq!(status, 409, "{}", page.text);
    let (status, _, _) = post_desk(&site, &editor, "/desk/authors/nadia-okafor/delete", &[]).await;
    assert_eq!(status, 303);

    let admin_cookie = {
        site.add_user("admin@example.org", "admin", "correct horse battery");
        sign_in(&site, "admin@example.org", "correct horse battery").await
    };
    let (_, _, audit) = desk_page(&site, "/desk/audit", &admin_cookie).await;
    for action in [
        "renamed the tag",
        "deleted the tag",
        "added the author",
        "updated the author",
        "deleted the author",
    ] {
        assert!(audit.text.contains(action), "{action} in the audit log");
    }
}

#[tokio::test]
async fn admins_manage_accounts_and_roles_and_the_last_admin_stays() {
    let site = TestSite::demo();
    site.add_user("admin@example.org", "admin", "correct horse battery");
    let admin = sign_in(&site, "admin@example.org", "correct horse battery").await;
    let (status, _, _) = post_desk(
        &site,
        &admin,
        "/desk/accounts",
        &[
            ("name", "Jonas Berg"),
            ("email", "jonas@example.org"),
            ("role", "editor"),
            ("password", "a first password"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let (status, _, page) = post_desk(
        &site,
        &admin,
        "/desk/accounts",
        &[
            ("name", "Short"),
            ("email", "short@example.org"),
            ("role", "editor"),
            ("password", "123456789"),
        ],
    )
    .await;
    assert_eq!(status, 422, "a password one short of the minimum");
    assert!(
        page.text_of("p.error").contains("password"),
        "{}",
        page.text_of("p.error")
    );
    let (status, _, _) = post_desk(
        &site,
        &admin,
        "/desk/accounts",
        &[
            ("name", "X"),
            ("email", "x@example.org"),
            ("role", "owner"),
            ("password", "long enough pass"),
        ],
    )
    .await;
    assert_eq!(status, 422, "an unknown role");

    let jonas = sign_in(&site, "jonas@example.org", "a first password").await;
    assert_eq!(desk_page(&site, "/desk/sections", &jonas).await.0, 200);
    let (_, _, room) = desk_page(&site, "/desk/accounts", &admin).await;
    let jonas_id = room
        .select("select[name=role]")
        .iter()
        .filter_map(|e| e.value().attr("id"))
        .map(|id| id.trim_start_matches("role-").to_owned())
        .find(|id| {
            room.text
                .contains(&format!("role-{id}\">Role of jonas@example.org"))
        })
        .expect("jonas's row");
    let (status, _, _) = post_desk(
        &site,
        &admin,
        &format!("/desk/accounts/{jonas_id}/role"),
        &[("role", "contributor")],
    )
    .await;
    assert_eq!(status, 303);
    // The role is read on every request: Jonas's open session lost the room at once.
    assert_eq!(desk_page(&site, "/desk/sections", &jonas).await.0, 403);

    let my_id = room
        .select("select[name=role]")
        .iter()
        .filter_map(|e| e.value().attr("id"))
        .map(|id| id.trim_start_matches("role-").to_owned())
        .find(|id| {
            room.text
                .contains(&format!("role-{id}\">Role of admin@example.org"))
        })
        .expect("admin's row");
    let (status, _, page) = post_desk(
        &site,
        &admin,
        &format!("/desk/accounts/{my_id}/role"),
        &[("role", "editor")],
    )
    .await;
    assert_eq!(status, 409);
    assert!(
        page.text_of("p.error")
            .contains("at least one enabled admin")
    );
    let (status, _, _) = post_desk(
        &site,
        &admin,
        &format!("/desk/accounts/{my_id}/disable"),
        &[("disabled", "yes")],
    )
    .await;
    assert_eq!(status, 409, "nobody disables their own account");

    let (status, _, _) = post_desk(
        &site,
        &admin,
        &format!("/desk/accounts/{jonas_id}/disable"),
        &[("disabled", "yes")],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(
        desk_page(&site, "/desk", &jonas).await.0,
        303,
        "session ended"
    );

    let (_, _, audit) = desk_page(&site, "/desk/audit", &admin).await;
    assert!(audit.text.contains("changed the role"));
    assert!(audit.text.contains("editor → contributor"));
    assert!(audit.text.contains("disabled the account"));
    let (status, _, settings) = desk_page(&site, "/desk/settings", &admin).await;
    assert_eq!(status, 200);
    assert!(settings.text.contains("site.time_zone"));
    // The trust settings are shown too; a metrics token would be named, never shown.
    for key in [
        "server.trusted_proxies",
        "outbound.allow",
        "accounts.sign_in_failures_per_account_and_address",
        "housekeeping.interval_seconds",
    ] {
        assert!(settings.text.contains(key), "{key}");
    }
    assert!(
        settings
            .text
            .contains("not set: /metrics answers this machine only")
    );
}

// ---- Autosave

const PASSWORD: &str = "correct horse battery";

/// Every field the editor form would post as it stands (no files, no button).
fn editor_fields(page: &Page) -> Vec<(String, String)> {
    let selector = scraper::Selector::parse(
        "form.editor input[name], form.editor textarea[name], form.editor select[name]",
    )
    .expect("selector");
    let option = scraper::Selector::parse("option").expect("selector");
    let mut fields = Vec::new();
    for element in page.html.select(&selector) {
        let e = element.value();
        let name = e.attr("name").unwrap_or_default().to_owned();
        let value = match (e.name(), e.attr("type").unwrap_or("text")) {
            ("input", "file") => continue,
            ("input", "checkbox") if e.attr("checked").is_none() => continue,
            ("input", _) => e.attr("value").unwrap_or_default().to_owned(),
            ("textarea", _) => element.text().collect::<String>(),
            (_, _) => element
                .select(&option)
                .find(|o| o.value().attr("selected").is_some())
                .or_else(|| element.select(&option).next())
                .and_then(|o| o.value().attr("value"))
                .unwrap_or_default()
                .to_owned(),
        };
        fields.push((name, value));
    }
    fields
}

/// `fields` with `name` set to `value` (added when absent).
fn with(mut fields: Vec<(String, String)>, name: &str, value: &str) -> Vec<(String, String)> {
    match fields.iter_mut().find(|(k, _)| k == name) {
        Some(field) => field.1 = value.to_owned(),
        None => fields.push((name.to_owned(), value.to_owned())),
    }
    fields
}

fn pairs(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// The desk address of the demo's lead story, and its public address.
async fn lead_story(site: &TestSite, cookie: &str) -> (String, &'static str) {
    let (_, _, list) = desk_page(site, "/desk?q=tidal%20barrier", cookie).await;
    (
        list.attr(".items tbody a", "href"),
        "/world/port-halden-closes-tidal-barrier-for-first-time",
    )
}

#[tokio::test]
async fn an_autosave_changes_nothing_public_and_is_offered_back_to_restore() {
    let site = TestSite::demo();
    site.add_user("editor@example.org", "editor", PASSWORD);
    site.add_user("other@example.org", "editor", PASSWORD);
    let cookie = sign_in(&site, "editor@example.org", PASSWORD).await;
    let (path, public_path) = lead_story(&site, &cookie).await;
    let (_, _, before) = desk_page(&site, &path, &cookie).await;
    assert!(before.select(".autosave-offer").is_empty());
    let revisions = before.select(".revisions li").len();
    let meta = before.text_of(".meta");
    let headline = before.attr("#headline", "value");
    let public_before = site.ok(public_path).await;
    let version = before.attr("input[name=version]", "value");

    // The form as it stands: nothing unsaved, nothing to offer.
    let unchanged = editor_fields(&before);
    let autosave = format!("{path}/autosave");
    let (status, _, answer) = post_editor(&site, &cookie, &autosave, &pairs(&unchanged)).await;
    assert_eq!(status, 200, "{}", answer.text);
    let (_, _, page) = desk_page(&site, &path, &cookie).await;
    assert!(page.select(".autosave-offer").is_empty(), "{}", page.text);

    let edited = with(
        with(
            unchanged.clone(),
            "headline",
            "Barrier holds through the night, engineers say",
        ),
        "body",
        "Words typed and not yet saved.",
    );
    let (status, _, answer) = post_editor(&site, &cookie, &autosave, &pairs(&edited)).await;
    assert_eq!(status, 200, "{}", answer.text);
    assert_eq!(answer.header("content-type"), "application/json");
    let saved: serde_json::Value = serde_json::from_str(&answer.text).expect("json");
    let time = saved["time"].as_str().expect("time").to_owned();
    assert!(
        time.len() == 5 && time.as_bytes()[2] == b':',
        "HH:MM: {saved}"
    );

    let (_, _, after) = desk_page(&site, &path, &cookie).await;
    assert_eq!(
        after.text_of(".autosave-offer p"),
        format!("You have unsaved changes from {time} (your autosave).")
    );
    assert_eq!(
        after.attr(".autosave-offer a", "href"),
        format!("{path}?restore=autosave")
    );
    assert_eq!(
        after.attr("#headline", "value"),
        headline,
        "the form shows the item"
    );
    assert_eq!(
        after.select(".revisions li").len(),
        revisions,
        "no revision"
    );
    assert_eq!(after.text_of(".meta"), meta, "same version and status");
    // Give the event follower time to purge anything an event would have touched.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let public = site.ok(public_path).await;
    assert_eq!(public.text_of("h1"), public_before.text_of("h1"));
    assert!(
        !public.text.contains("not yet saved"),
        "the public never sees it"
    );
    let other = sign_in(&site, "other@example.org", PASSWORD).await;
    let (_, _, theirs) = desk_page(&site, &path, &other).await;
    assert!(
        theirs.select(".autosave-offer").is_empty(),
        "a slot is its writer's only"
    );

    let (status, _, restored) =
        desk_page(&site, &format!("{path}?restore=autosave"), &cookie).await;
    assert_eq!(status, 200);
    assert_eq!(
        restored.attr("#headline", "value"),
        "Barrier holds through the night, engineers say"
    );
    assert_eq!(restored.text_of("#body"), "Words typed and not yet saved.");
    assert_eq!(restored.attr("input[name=version]", "value"), version);
    assert!(
        restored
            .text_of(".notice")
            .contains(&format!("Restored your autosave from {time}"))
    );

    // Saving the restored form is a real save, and spends the slot.
    let save = with(editor_fields(&restored), "action", "save");
    let (status, _, _) = post_editor(&site, &cookie, &path, &pairs(&save)).await;
    assert_eq!(status, 303);
    let (_, _, saved) = desk_page(&site, &path, &cookie).await;
    assert!(saved.select(".autosave-offer").is_empty(), "{}", saved.text);
    assert_eq!(saved.select(".revisions li").len(), revisions + 1);
    site.eventually(public_path, std::time::Duration::from_secs(2), |p| {
        p.text.contains("Barrier holds through the night")
    })
    .await;
}

#[tokio::test]
async fn an_autosave_overtaken_by_a_colleagues_save_is_offered_and_meets_the_conflict_check() {
    let site = TestSite::demo();
    site.add_user("one@example.org", "editor", PASSWORD);
    site.add_user("two@example.org", "editor", PASSWORD);
    let one = sign_in(&site, "one@example.org", PASSWORD).await;
    let two = sign_in(&site, "two@example.org", PASSWORD).await;
    let (path, public_path) = lead_story(&site, &one).await;
    let (_, _, form) = desk_page(&site, &path, &one).await;
    let version: i64 = form
        .attr("input[name=version]", "value")
        .parse()
        .expect("version");
    let mine = with(editor_fields(&form), "headline", "Headline one never saved");
    let (status, _, _) = post_editor(&site, &one, &format!("{path}/autosave"), &pairs(&mine)).await;
    assert_eq!(status, 200);

    let (_, _, form_two) = desk_page(&site, &path, &two).await;
    let theirs = with(
        with(editor_fields(&form_two), "headline", "Headline two saved"),
        "action",
        "save",
    );
    assert_eq!(
        post_editor(&site, &two, &path, &pairs(&theirs)).await.0,
        303
    );

    let (_, _, offered) = desk_page(&site, &path, &one).await;
    let offer = offered.text_of(".autosave-offer p");
    assert!(
        offer.contains(&format!("now at version {}", version + 1)),
        "{offer}"
    );
    let (_, _, restored) = desk_page(&site, &format!("{path}?restore=autosave"), &one).await;
    assert_eq!(
        restored.attr("input[name=version]", "value"),
        version.to_string(),
        "the restored form is based on the version it was written against"
    );
    let save = with(editor_fields(&restored), "action", "save");
    let (status, _, conflict) = post_editor(&site, &one, &path, &pairs(&save)).await;
    assert_eq!(status, 409, "never over a colleague's save unseen");
    assert_eq!(
        conflict.attr("#headline", "value"),
        "Headline one never saved"
    );
    let public = site
        .eventually(public_path, std::time::Duration::from_secs(2), |p| {
            p.text.contains("Headline two saved")
        })
        .await;
    assert!(!public.text.contains("one never saved"));
}

#[tokio::test]
async fn a_new_items_autosave_is_offered_on_the_new_form_until_discarded_or_created() {
    let site = TestSite::demo();
    site.add_user("writer@example.org", "contributor", PASSWORD);
    let cookie = sign_in(&site, "writer@example.org", PASSWORD).await;
    let (_, _, blank) = desk_page(&site, "/desk/new?kind=brief", &cookie).await;
    assert!(blank.select(".autosave-offer").is_empty());
    let draft = with(
        editor_fields(&blank),
        "body",
        "Harbour cranes stand idle as the wind rises.",
    );
    let autosave = |fields: Vec<(String, String)>| {
        let cookie = cookie.clone();
        let site = &site;
        async move {
            post_editor(site, &cookie, "/desk/new/autosave", &pairs(&fields))
                .await
                .0
        }
    };
    assert_eq!(autosave(draft.clone()).await, 200);
    let (_, _, offered) = desk_page(&site, "/desk/new", &cookie).await;
    assert!(
        offered
            .text_of(".autosave-offer p")
            .starts_with("You have unsaved changes from")
    );
    let (_, _, restored) = desk_page(&site, "/desk/new?restore=autosave", &cookie).await;
    assert_eq!(
        restored.attr("select[name=kind] option[selected]", "value"),
        "brief"
    );
    assert_eq!(
        restored.text_of("#body"),
        "Harbour cranes stand idle as the wind rises."
    );

    let csrf = blank.attr("form.editor input[name=csrf]", "value");
    assert_eq!(
        post_editor(&site, &cookie, "/desk/new/autosave/discard", &[])
            .await
            .0,
        403,
        "discarding needs the token too"
    );
    let (status, location, _) = post_editor(
        &site,
        &cookie,
        "/desk/new/autosave/discard",
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!((status, location.as_deref()), (303, Some("/desk/new")));
    let (_, _, gone) = desk_page(&site, "/desk/new", &cookie).await;
    assert!(gone.select(".autosave-offer").is_empty(), "discarded");

    assert_eq!(autosave(draft.clone()).await, 200);
    let create = with(with(draft, "section", "world"), "action", "save");
    assert_eq!(
        post_editor(&site, &cookie, "/desk/new", &pairs(&create))
            .await
            .0,
        303
    );
    let (_, _, after) = desk_page(&site, "/desk/new", &cookie).await;
    assert!(
        after.select(".autosave-offer").is_empty(),
        "creating the item spent the slot"
    );
}

#[tokio::test]
async fn autosave_needs_the_session_token_and_the_right_to_edit_that_item() {
    let site = TestSite::demo();
    site.add_user("writer@example.org", "contributor", PASSWORD);
    site.add_user("moderator@example.org", "moderator", PASSWORD);
    let writer = sign_in(&site, "writer@example.org", PASSWORD).await;
    let (lead, _) = lead_story(&site, &writer).await;
    let (_, _, form) = desk_page(&site, "/desk/new", &writer).await;
    let fields = with(editor_fields(&form), "body", "Mine.");
    let csrf = form.attr("form.editor input[name=csrf]", "value");

    let no_token: Vec<(String, String)> = fields
        .iter()
        .filter(|(k, _)| k != "csrf")
        .cloned()
        .collect();
    let (status, _, refused) =
        post_editor(&site, &writer, "/desk/new/autosave", &pairs(&no_token)).await;
    assert_eq!(status, 403);
    assert!(refused.text.contains("security token"), "{}", refused.text);
    let forged = with(fields.clone(), "csrf", &"0".repeat(csrf.len()));
    assert_eq!(
        post_editor(&site, &writer, "/desk/new/autosave", &pairs(&forged))
            .await
            .0,
        403
    );
    assert_eq!(
        post_editor(&site, &writer, "/desk/new/autosave", &pairs(&fields))
            .await
            .0,
        200,
        "their own new item"
    );

    // Someone else's published story is not a contributor's to edit, nor to autosave.
    let (status, _, refused) =
        post_editor(&site, &writer, &format!("{lead}/autosave"), &pairs(&fields)).await;
    assert_eq!(status, 403);
    assert!(
        refused.text.starts_with("Not autosaved:"),
        "{}",
        refused.text
    );
    let (_, _, theirs) = desk_page(&site, &lead, &writer).await;
    assert!(theirs.select(".autosave-offer").is_empty());

    let (status, _, missing) = post_editor(
        &site,
        &writer,
        "/desk/items/999999/autosave",
        &pairs(&fields),
    )
    .await;
    assert_eq!(status, 404, "{}", missing.text);
    let moderator = sign_in(&site, "moderator@example.org", PASSWORD).await;
    let moderator_csrf = desk_page(&site, "/desk/password", &moderator)
        .await
        .2
        .attr("form input[name=csrf]", "value");
    let theirs = with(fields.clone(), "csrf", &moderator_csrf);
    assert_eq!(
        post_editor(&site, &moderator, "/desk/new/autosave", &pairs(&theirs))
            .await
            .0,
        403,
        "a role that may not write may not autosave"
    );
    let anonymous = site
        .client
        .post(site.url("/desk/new/autosave"))
        .form(&pairs(&fields))
        .send()
        .await
        .expect("post");
    assert_eq!(anonymous.status(), 303, "signed out: sent to sign in");
}

#[tokio::test]
async fn autosave_refuses_text_over_the_editors_limits_with_a_message() {
    use newsdesk_core::item::{BODY_MAX_BYTES, HEADLINE_MAX};
    let site = TestSite::demo();
    site.add_user("editor@example.org", "editor", PASSWORD);
    let cookie = sign_in(&site, "editor@example.org", PASSWORD).await;
    let (_, _, form) = desk_page(&site, "/desk/new", &cookie).await;
    let fields = editor_fields(&form);
    let send = |fields: Vec<(String, String)>| {
        let cookie = cookie.clone();
        let site = &site;
        async move { post_editor(site, &cookie, "/desk/new/autosave", &pairs(&fields)).await }
    };

    let at_limit = with(fields.clone(), "body", &"a".repeat(BODY_MAX_BYTES));
    assert_eq!(send(at_limit).await.0, 200);
    let over = with(fields.clone(), "body", &"a".repeat(BODY_MAX_BYTES + 1));
    let (status, _, refused) = send(over).await;
    assert_eq!(status, 413);
    assert_eq!(
        refused.text,
        format!(
            "The body is longer than a story may be ({BODY_MAX_BYTES} bytes), so it was not autosaved."
        )
    );

    // Characters, not bytes: "ə" is two bytes.
    let at_limit = with(fields.clone(), "headline", &"ə".repeat(HEADLINE_MAX));
    assert_eq!(send(at_limit).await.0, 200);
    let (status, _, refused) = send(with(
        fields.clone(),
        "headline",
        &"ə".repeat(HEADLINE_MAX + 1),
    ))
    .await;
    assert_eq!(status, 413);
    assert!(
        refused
            .text
            .contains("headline is longer than 200 characters"),
        "{}",
        refused.text
    );

    // The request as a whole, as sent: exactly at the limit passes, a byte more does not.
    let csrf = form.attr("form.editor input[name=csrf]", "value");
    let raw = |size: usize| {
        let mut body = format!("csrf={csrf}&kind=story&tags=");
        body.push_str(&"a".repeat(size - body.len()));
        site.client
            .post(site.url("/desk/new/autosave"))
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let limit = newsdesk_web::AUTOSAVE_MAX_BYTES;
    assert_eq!(raw(limit).await.expect("post").status(), 200);
    let over = raw(limit + 1).await.expect("post");
    assert_eq!(over.status(), 413);
    assert_eq!(
        over.text().await.expect("body"),
        format!(
            "The form is larger than an autosave may be ({limit} bytes), so it was not autosaved."
        )
    );
}

/// Uploads to the media library's own form.
async fn post_to_library(
    site: &TestSite,
    cookie: &str,
    fields: &[(&str, &str)],
    bytes: Option<Vec<u8>>,
) -> (u16, Option<String>, Page) {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        form = form.text((*k).to_owned(), (*v).to_owned());
    }
    if let Some(bytes) = bytes {
        form = form.part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name("photo.png"),
        );
    }
    let response = site
        .client
        .post(site.url("/desk/media"))
        .header("cookie", cookie)
        .multipart(form)
        .send()
        .await
        .expect("post");
    read(response).await
}

#[tokio::test]
async fn writers_upload_to_the_media_library_and_reuse_an_image_in_a_story() {
    let site = TestSite::demo();
    for role in ["contributor", "editor", "moderator"] {
        site.add_user(
            &format!("{role}@example.org"),
            role,
            "correct horse battery",
        );
    }
    let writer = sign_in(&site, "contributor@example.org", "correct horse battery").await;
    let csrf = session_csrf(&site, &writer).await;

    // The demo's picture is already there, ready to reuse.
    let (status, _, room) = desk_page(&site, "/desk/media", &writer).await;
    assert_eq!(status, 200);
    assert!(room.text.contains("demo/hero-harbour.jpg"), "{}", room.text);

    let words = |alt: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("alt", alt.to_owned()),
            (
                "caption",
                "Volunteers stack sandbags on the quay".to_owned(),
            ),
            ("credit", "Newsroom photo".to_owned()),
        ]
    };
    let send = |fields: Vec<(&'static str, String)>, bytes: Option<Vec<u8>>| {
        let site = &site;
        let writer = writer.clone();
        async move {
            let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post_to_library(site, &writer, &refs, bytes).await
        }
    };
    let (status, _, page) = send(words(""), Some(png(900, 600))).await;
    assert_eq!(status, 422, "alt text is required in the library");
    assert!(
        page.text_of("p.error").contains("alt is required"),
        "{}",
        page.text_of("p.error")
    );
    let (status, _, page) = send(words("Sandbags on the quay"), None).await;
    assert_eq!(status, 422);
    assert!(page.text_of("p.error").contains("Choose an image"));
    let (status, _, page) = send(
        words("Sandbags on the quay"),
        Some(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec()),
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.text_of("p.error").contains("not a JPEG, PNG or WebP"));
    let (status, _, _) = send(vec![("alt", "No token".to_owned())], Some(png(900, 600))).await;
    assert_eq!(status, 403, "no CSRF token");

    let (status, location, _) = send(words("Sandbags on the quay"), Some(png(900, 600))).await;
    assert_eq!(
        (status, location.as_deref()),
        (303, Some("/desk/media?done=added"))
    );
    let (_, _, found) = desk_page(&site, "/desk/media?q=SANDBAGS", &writer).await;
    assert_eq!(found.text_of("p.count"), "1 image");
    let picked = found.attr("a.use", "href");
    let path = picked
        .split("hero=")
        .nth(1)
        .expect("hero parameter")
        .replace("%2F", "/");
    assert!(
        path.starts_with("uploads/") && path.ends_with(".jpg"),
        "{path}"
    );
    let (_, _, nothing) = desk_page(&site, "/desk/media?q=tractor", &writer).await;
    assert_eq!(nothing.text_of("p.count"), "0 images");

    // "Use this image" goes back only to a desk editor.
    let (_, _, back) = desk_page(&site, "/desk/media?for=/desk/items/1", &writer).await;
    assert!(
        back.attr("a.use", "href")
            .starts_with("/desk/items/1?hero=")
    );
    let (_, _, elsewhere) =
        desk_page(&site, "/desk/media?for=https://elsewhere.example/", &writer).await;
    assert!(
        elsewhere
            .attr("a.use", "href")
            .starts_with("/desk/new?hero=")
    );

    // The editor takes the image with its words; the writer's own words win.
    let (_, _, form) = desk_page(&site, &picked, &writer).await;
    assert_eq!(form.attr("input[name=hero_path]", "value"), path);
    assert_eq!(
        form.attr("input[name=hero_alt]", "value"),
        "Sandbags on the quay"
    );
    assert_eq!(form.attr("input[name=hero_width]", "value"), "900");

    // An editor picks it in the editor's own picker and publishes: readers see it.
    let editor = sign_in(&site, "editor@example.org", "correct horse battery").await;
    let (_, _, new_form) = desk_page(&site, "/desk/new", &editor).await;
    assert!(
        new_form
            .select("input[name=hero_pick]")
            .iter()
            .any(|e| e.value().attr("value") == Some(path.as_str())),
        "the picker offers the new upload"
    );
    let editor_csrf = session_csrf(&site, &editor).await;
    let story = [
        ("csrf", editor_csrf.as_str()),
        ("kind", "story"),
        ("section", "world"),
        ("headline", "Sandbags go up along the quay"),
        ("body", "Volunteers worked through the night."),
        ("slug", "sandbags-along-the-quay"),
        ("hero_pick", path.as_str()),
        ("hero_alt", ""),
        ("action", "publish"),
    ];
    let (status, _, page) = post_editor(&site, &editor, "/desk/new", &story).await;
    assert_eq!(status, 303, "{}", page.text_of("p.error"));
    let public = site
        .eventually("/world/sandbags-along-the-quay", SOON, |p| p.status == 200)
        .await;
    assert_eq!(public.attr(".hero img", "alt"), "Sandbags on the quay");
    assert!(public.attr(".hero img", "src").ends_with(&path));

    let mut unknown = story.to_vec();
    unknown.retain(|(k, _)| *k != "hero_pick" && *k != "slug");
    unknown.push(("hero_pick", "uploads/2026/11/not-there.jpg"));
    unknown.push(("slug", "another-quay-story"));
    let (status, _, page) = post_editor(&site, &editor, "/desk/new", &unknown).await;
    assert_eq!(status, 422);
    assert!(page.text_of("p.error").contains("not in the media library"));

    let moderator = sign_in(&site, "moderator@example.org", "correct horse battery").await;
    assert_eq!(desk_page(&site, "/desk/media", &moderator).await.0, 403);
}

#[tokio::test]
async fn drafts_are_deleted_with_their_history_and_what_readers_saw_is_not() {
    let site = TestSite::demo();
    for role in ["contributor", "editor", "admin"] {
        site.add_user(
            &format!("{role}@example.org"),
            role,
            "correct horse battery",
        );
    }
    let writer = sign_in(&site, "contributor@example.org", "correct horse battery").await;
    let editor = sign_in(&site, "editor@example.org", "correct horse battery").await;
    let csrf = session_csrf(&site, &writer).await;
    let draft = [
        ("csrf", csrf.as_str()),
        ("kind", "brief"),
        ("section", "world"),
        ("body", "A brief written by mistake."),
        ("slug", "written-by-mistake"),
        ("action", "save"),
    ];
    let (status, location, _) = post_editor(&site, &writer, "/desk/new", &draft).await;
    assert_eq!(status, 303);
    let item = location
        .expect("location")
        .split('?')
        .next()
        .expect("path")
        .to_owned();
    let (_, _, form) = desk_page(&site, &item, &writer).await;
    assert_eq!(
        form.select("form.delete-item").len(),
        1,
        "the writer may delete it"
    );
    let version = form.attr("form.editor input[name=version]", "value");

    // Another writer may not (to them the draft does not exist, as in the API); a stale
    // version is a conflict; the right one deletes.
    site.add_user("other@example.org", "contributor", "correct horse battery");
    let other = sign_in(&site, "other@example.org", "correct horse battery").await;
    let other_csrf = session_csrf(&site, &other).await;
    let delete = |csrf: &str, version: &str| {
        vec![("csrf", csrf.to_owned()), ("version", version.to_owned())]
    };
    let send = |cookie: String, fields: Vec<(&'static str, String)>| {
        let site = &site;
        let path = format!("{item}/delete");
        async move {
            let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post_editor(site, &cookie, &path, &refs).await
        }
    };
    assert_eq!(
        send(other.clone(), delete(&other_csrf, &version)).await.0,
        404
    );
    assert_eq!(
        send(writer.clone(), delete("", &version)).await.0,
        403,
        "no CSRF token"
    );
    assert_eq!(
        send(writer.clone(), delete(&csrf, "0")).await.0,
        409,
        "stale version"
    );
    let (status, location, _) = send(writer.clone(), delete(&csrf, &version)).await;
    assert_eq!(
        (status, location.as_deref()),
        (303, Some("/desk?deleted=1"))
    );
    assert_eq!(desk_page(&site, &item, &writer).await.0, 404);
    let (_, _, list) = desk_page(&site, "/desk?deleted=1", &writer).await;
    assert_eq!(list.text_of("p.notice"), "The item was deleted.");

    // A published story is unpublished, never deleted, even by an editor.
    let (_, _, found) = desk_page(&site, "/desk?q=tidal%20barrier", &editor).await;
    let lead = found.attr(".items tbody a", "href");
    let (_, _, lead_form) = desk_page(&site, &lead, &editor).await;
    assert!(lead_form.select("form.delete-item").is_empty());
    let editor_csrf = session_csrf(&site, &editor).await;
    let lead_version = lead_form.attr("form.editor input[name=version]", "value");
    let refused = post_editor(
        &site,
        &editor,
        &format!("{lead}/delete"),
        &[("csrf", &editor_csrf), ("version", &lead_version)],
    )
    .await;
    assert_eq!(refused.0, 409);
    assert!(
        refused.2.text.contains("unpublish it instead"),
        "{}",
        refused.2.text
    );

    let admin = sign_in(&site, "admin@example.org", "correct horse battery").await;
    let (_, _, audit) = desk_page(&site, "/desk/audit", &admin).await;
    assert!(audit.text.contains("deleted the item"));
    assert!(audit.text.contains("contributor@example.org"));
}

/// Sends a JSON request with a staff token: the status and the answer.
async fn api_send(
    site: &TestSite,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut request = site
        .client
        .request(method, site.url(path))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

#[tokio::test]
async fn a_contributor_reads_no_one_elses_unpublished_item_in_the_desk_as_in_the_api() {
    use common::STAFF_PASSWORD;
    let site = TestSite::demo();
    for (email, role) in [
        ("owner@example.org", "contributor"),
        ("writer@example.org", "contributor"),
        ("editor@example.org", "editor"),
    ] {
        site.add_user(email, role, STAFF_PASSWORD);
    }
    let owner = sign_in(&site, "owner@example.org", STAFF_PASSWORD).await;
    let owner_csrf = session_csrf(&site, &owner).await;
    let draft = |version: Option<&str>, body: &str| {
        let mut fields = vec![
            ("csrf", owner_csrf.clone()),
            ("kind", "brief".to_owned()),
            ("section", "world".to_owned()),
            ("slug", "a-private-draft".to_owned()),
            ("body", body.to_owned()),
            ("action", "save".to_owned()),
        ];
        if let Some(v) = version {
            fields.push(("version", v.to_owned()));
        }
        fields
    };
    let (status, location, _) = post_editor(
        &site,
        &owner,
        "/desk/new",
        &borrowed(&draft(None, "The first words of a private draft.")),
    )
    .await;
    assert_eq!(status, 303);
    let path = location
        .unwrap_or_default()
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    let id: i64 = path
        .trim_start_matches("/desk/items/")
        .parse()
        .expect("item id");
    let (status, _, _) = post_editor(
        &site,
        &owner,
        &path,
        &borrowed(&draft(Some("1"), "The second words of a private draft.")),
    )
    .await;
    assert_eq!(status, 303, "a second version");

    // Another contributor: every desk page and form about the draft answers 404, and the
    // content list does not show it either (but shows what is published).
    let writer = sign_in(&site, "writer@example.org", STAFF_PASSWORD).await;
    let csrf = session_csrf(&site, &writer).await;
    let (status, _, list) = desk_page(&site, "/desk", &writer).await;
    assert_eq!(status, 200);
    assert!(!list.text.contains(&path), "{}", list.text);
    assert!(
        list.text.contains("Port Halden"),
        "published items are listed"
    );
    let (_, _, list) = desk_page(&site, "/desk", &owner).await;
    assert!(list.text.contains(&path), "its writer lists it");
    for page in [
        path.clone(),
        format!("{path}/compare?from=1&to=2"),
        format!("{path}/compare"),
    ] {
        let (status, _, shown) = desk_page(&site, &page, &writer).await;
        assert_eq!(status, 404, "GET {page}");
        assert!(!shown.text.contains("private draft"), "{page}");
    }
    let forms: [(String, Vec<(&str, &str)>); 6] = [
        (
            path.clone(),
            vec![
                ("csrf", &csrf),
                ("version", "2"),
                ("kind", "brief"),
                ("section", "world"),
                ("body", "Overwritten."),
                ("action", "save"),
            ],
        ),
        (
            format!("{path}/restore"),
            vec![("csrf", &csrf), ("version", "2"), ("restore", "1")],
        ),
        (
            format!("{path}/autosave"),
            vec![("csrf", &csrf), ("version", "2"), ("body", "Mine now.")],
        ),
        (
            format!("{path}/notes"),
            vec![
                ("csrf", &csrf),
                ("version", "2"),
                ("kind", "update"),
                ("text", "A note."),
            ],
        ),
        (
            format!("{path}/related"),
            vec![("csrf", &csrf), ("pinned", "1"), ("excluded", "")],
        ),
        (
            format!("{path}/delete"),
            vec![("csrf", &csrf), ("version", "2")],
        ),
    ];
    for (action, fields) in &forms {
        let (status, _, answer) = post_editor(&site, &writer, action, fields).await;
        assert_eq!(status, 404, "POST {action}: {}", answer.text);
    }
    // Its writer and an editor still read and compare it.
    let editor = sign_in(&site, "editor@example.org", STAFF_PASSWORD).await;
    for cookie in [&owner, &editor] {
        let (status, _, shown) = desk_page(&site, &path, cookie).await;
        assert_eq!(status, 200);
        assert!(shown.text.contains("second words"), "{}", shown.text);
        assert_eq!(
            desk_page(&site, &format!("{path}/compare?from=1&to=2"), cookie)
                .await
                .0,
            200
        );
    }

    // The API answers the same, with staff tokens of the same people.
    let mut tokens = Vec::new();
    for (email, role) in [
        ("writer@example.org", "contributor"),
        ("owner@example.org", "contributor"),
        ("editor@example.org", "editor"),
    ] {
        let (status, secret) = site
            .desk_token(
                email,
                &[("kind", "staff"), ("name", "rule test"), ("role", role)],
            )
            .await;
        assert_eq!(status, 201, "token for {email}");
        tokens.push(secret);
    }
    let item = format!("/api/v1/items/{id}");
    for (secret, expected) in tokens.iter().zip([404, 200, 200]) {
        let (status, body) = api_send(&site, reqwest::Method::GET, &item, secret, None).await;
        assert_eq!(status, expected, "{body}");
    }
    let (status, body) = api_send(
        &site,
        reqwest::Method::PUT,
        &item,
        &tokens[0],
        Some(
            serde_json::json!({"kind": "brief", "language": "en", "section": "world",
            "body": "Overwritten.", "version": 2, "action": "save"}),
        ),
    )
    .await;
    assert_eq!(status, 404, "{body}");

    // What a contributor sees of published items stays: the lead story, in both.
    let (lead, _) = lead_story(&site, &writer).await;
    assert_eq!(desk_page(&site, &lead, &writer).await.0, 200);
    assert_eq!(
        desk_page(&site, &format!("{lead}/compare?from=1"), &writer)
            .await
            .0,
        200
    );
    let lead_id = lead.trim_start_matches("/desk/items/");
    let (status, _) = api_send(
        &site,
        reqwest::Method::GET,
        &format!("/api/v1/items/{lead_id}"),
        &tokens[0],
        None,
    )
    .await;
    assert_eq!(status, 200);
}
