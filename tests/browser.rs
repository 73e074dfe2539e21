//! What only a browser or a validator can show: every page type is valid HTML5 (the Nu HTML
//! checker), fits a 320 px phone without sideways scrolling, and starts with a working
//! keyboard skip link (headless Chromium over WebDriver). The tools come from `scripts/test`.

mod common;
#[path = "support/readers.rs"]
mod readers;
#[path = "support/smtp.rs"]
mod smtp;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{TestSite, demo_config_text, tool};
use serde_json::{Value, json};

const PAGES: &[&str] = &[
    "/",
    "/world/port-halden-closes-tidal-barrier-for-first-time",
    "/world/ferry-stranded-off-port-halden",
    "/world",
    "/latest",
    "/latest?page=2",
    "/tag/storms",
    "/author/leyla-memmedova",
    "/ru/",
    "/tr/science/uzay-teleskobu-su-buhari-tespit-etti",
    "/desk/sign-in",
    "/account/sign-in",
    "/account/sign-up",
    "/account/reset",
    "/no-such-page",
    "/world/harbour-wall-repaired",
    "/search",
    "/search?q=harbour+%22tidal+barrier%22&section=world&from=2020-01-01",
    "/search?q=zzzz+qqqq",
    "/api/docs",
];

/// The demo bundles its images; an upload's hero is shown as `<picture>` with WebP and JPEG
/// variants, on its page, in teasers and on the front page. The files need not exist for the
/// markup to be checked.
const UPLOADED_HERO: &str = r#"
[[items]]
kind = "story"
section = "world"
slug = "harbour-wall-repaired"
headline = "Harbour wall repaired before the winter storms"
standfirst = "Crews finished two weeks early."
body = "The wall is whole again."
hero = { path = "uploads/2026/11/0123456789abcdef.jpg", alt = "The repaired wall.", caption = "The wall.", width = 2000, height = 1000 }
status = "published"
"#;

#[tokio::test]
async fn every_page_type_is_valid_html5() {
    let jar = tool("NEWSDESK_TEST_VNU_JAR");
    // The webhook below points at a closed local port, which the outbound guard must allow.
    let site = TestSite::start_with(
        demo_config_text(),
        &["--demo"],
        &[("NEWSDESK_OUTBOUND__ALLOW", r#"["127.0.0.1"]"#)],
    );
    site.import_ok(UPLOADED_HERO);
    for path in ["/", "/world", "/world/harbour-wall-repaired"] {
        site.eventually(path, Duration::from_secs(3), |p| {
            p.text.contains(r#"<source type="image/webp""#)
        })
        .await;
    }
    let mut pages: Vec<(String, String)> = Vec::new();
    for path in PAGES {
        let page = site.page(path).await;
        assert!(
            page.status == 200 || *path == "/no-such-page",
            "{path}: {}",
            page.status
        );
        pages.push(((*path).to_owned(), page.text));
    }

    // The desk, signed in as an admin (who sees every page), with an item that has history,
    // a public note and an autosave of this person's waiting to be restored.
    site.add_user("admin@example.org", "admin", "correct horse battery");
    let cookie = site
        .desk_cookie("admin@example.org", "correct horse battery")
        .await;
    let list = site
        .page_with_cookie("/desk?q=tidal%20barrier", &cookie)
        .await;
    let item = list.attr(".items tbody a", "href");
    let form = site.page_with_cookie(&item, &cookie).await;
    let csrf = form.attr("form.editor input[name=csrf]", "value");
    let version = form.attr("form.editor input[name=version]", "value");
    let post = |path: String, fields: Vec<(&'static str, String)>| {
        site.client
            .post(site.url(&path))
            .header("cookie", &cookie)
            .form(&fields)
            .send()
    };
    // A webhook to a closed port: the note below gives it a delivery with a failed attempt.
    let hooked = post(
        "/desk/webhooks".to_owned(),
        vec![
            ("csrf", csrf.clone()),
            ("url", "http://127.0.0.1:9/hook".into()),
            ("description", "Nobody listens".into()),
            ("event_item.updated", "on".into()),
        ],
    )
    .await
    .expect("webhook");
    assert_eq!(hooked.status(), 303);
    let webhook = hooked.headers()["location"]
        .to_str()
        .expect("location")
        .trim_end_matches("?done=added")
        .to_owned();
    let noted = post(
        format!("{item}/notes"),
        vec![
            ("csrf", csrf.clone()),
            ("version", version),
            ("kind", "correction".into()),
            (
                "text",
                "An earlier version gave the wrong number of gates.".into(),
            ),
        ],
    )
    .await
    .expect("note");
    assert_eq!(noted.status(), 303);
    for path in [format!("{item}/autosave"), "/desk/new/autosave".to_owned()] {
        let saved = post(
            path.clone(),
            vec![
                ("csrf", csrf.clone()),
                ("kind", "story".into()),
                ("headline", "An autosaved headline".into()),
                ("body", "Autosaved words.".into()),
            ],
        )
        .await
        .expect("autosave");
        assert_eq!(saved.status(), 200, "{path}");
    }
    let started = Instant::now();
    while site
        .page_with_cookie(&webhook, &cookie)
        .await
        .select(".attempt")
        .is_empty()
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no delivery attempt"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let desk_pages = [
        "/desk".to_owned(),
        "/desk/webhooks".to_owned(),
        webhook.clone(),
        "/desk?status=published&kind=story&section=world&page=1".to_owned(),
        "/desk/new".to_owned(),
        "/desk/new?kind=brief&restore=autosave".to_owned(),
        item.clone(),
        format!("{item}?restore=autosave"),
        format!("{item}/compare?from=1"),
        "/desk/audit".to_owned(),
        "/desk/password".to_owned(),
        "/desk/sections".to_owned(),
        "/desk/tags".to_owned(),
        "/desk/authors".to_owned(),
        "/desk/accounts".to_owned(),
        "/desk/settings".to_owned(),
        "/desk/tokens".to_owned(),
        "/desk/media?for=%2Fdesk%2Fnew".to_owned(),
        "/desk/comments".to_owned(),
        format!("/comments/{}", item.trim_start_matches("/desk/items/")),
    ];
    for path in desk_pages {
        let page = site.page_with_cookie(&path, &cookie).await;
        assert_eq!(page.status, 200, "{path}");
        pages.push((path, page.text));
    }

    let dir = tempfile::tempdir().expect("dir");
    let mut files = Vec::new();
    for (n, (path, text)) in pages.iter().enumerate() {
        let file = dir.path().join(format!("page-{n}.html"));
        std::fs::write(&file, text).expect("write");
        files.push((file, path));
    }
    let out = Command::new("java")
        .arg("-jar")
        .arg(&jar)
        .args(["--errors-only", "--format", "text"])
        .args(files.iter().map(|(f, _)| f))
        .output()
        .expect("run the Nu HTML checker");
    let mut report = String::from_utf8_lossy(&out.stderr).into_owned();
    report.push_str(&String::from_utf8_lossy(&out.stdout));
    for (file, path) in &files {
        report = report.replace(&file.display().to_string(), path);
    }
    assert!(out.status.success(), "HTML5 errors:\n{report}");
}

/// A minimal WebDriver client: the few commands these tests need, over plain HTTP.
struct Browser {
    driver: Child,
    /// Chromium's profile; also how its processes are found when the test ends.
    profile: tempfile::TempDir,
    http: reqwest::Client,
    session: String,
    base: String,
}

impl Browser {
    async fn start(width: u32) -> Browser {
        let driver_bin = tool("NEWSDESK_TEST_CHROMEDRIVER");
        let chromium = tool("NEWSDESK_TEST_CHROMIUM");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let http = common::http_client();
        let started = Instant::now();
        while http.get(format!("{base}/status")).send().await.is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().expect("profile");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", format!("--user-data-dir={}", profile.path().display()),
                         format!("--window-size={width},900")]
            }
        }}});
        let response: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("session json");
        let session = response["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {response}"))
            .to_owned();
        let browser = Browser {
            driver,
            profile,
            http,
            session,
            base,
        };
        // Headless windows include no browser chrome, so the viewport is the window.
        browser
            .command("window/rect", json!({"width": width, "height": 900}))
            .await;
        browser
    }

    async fn command(&self, path: &str, body: Value) -> Value {
        let response: Value = self
            .http
            .post(format!("{}/session/{}/{path}", self.base, self.session))
            .json(&body)
            .send()
            .await
            .expect("webdriver")
            .json()
            .await
            .expect("webdriver json");
        if response["value"].get("error").is_some() {
            panic!("webdriver {path}: {response}");
        }
        response["value"].clone()
    }

    async fn open(&self, url: &str) {
        self.command("url", json!({ "url": url })).await;
    }

    async fn eval(&self, script: &str) -> Value {
        self.command("execute/sync", json!({"script": script, "args": []}))
            .await
    }

    async fn press_tab(&self) {
        let tab = "\u{E004}";
        self.command(
            "actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
                {"type": "keyDown", "value": tab}, {"type": "keyUp", "value": tab}
            ]}]}),
        )
        .await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        // Killing chromedriver orphans the browser it started: end those processes too,
        // found by the profile directory only they use.
        let marker = format!("user-data-dir={}", self.profile.path().display());
        let _ = Command::new("pkill")
            .args(["-KILL", "-f"])
            .arg(&marker)
            .status();
    }
}

#[tokio::test]
async fn pages_fit_a_320px_phone_and_the_skip_link_is_first_for_keyboards() {
    let site = TestSite::demo();
    let browser = Browser::start(320).await;
    for path in PAGES {
        browser.open(&site.url(path)).await;
        let viewport = browser.eval("return window.innerWidth").await;
        assert_eq!(viewport, json!(320), "the test really runs at 320 px");
        let overflow = browser
            .eval(
                "const w = document.documentElement.clientWidth;
                 const wide = [...document.querySelectorAll('body *')]
                   .filter(e => e.getBoundingClientRect().right > w + 1
                             && !e.closest('nav.sections'))
                   .map(e => e.tagName + '.' + e.className);
                 return { scroll: document.documentElement.scrollWidth, width: w, wide: wide.slice(0, 5) };",
            )
            .await;
        assert_eq!(
            overflow["scroll"], overflow["width"],
            "{path} scrolls sideways: {overflow}"
        );
        assert_eq!(overflow["wide"], json!([]), "{path}: {overflow}");
    }

    browser.open(&site.url(PAGES[1])).await;
    browser.press_tab().await;
    let focused = browser
        .eval("const a = document.activeElement; const r = a.getBoundingClientRect();
               return { cls: a.className, href: a.getAttribute('href'), top: r.top, visible: r.bottom > 0 };")
        .await;
    assert_eq!(
        focused["cls"], "skip",
        "the first Tab reaches the skip link: {focused}"
    );
    assert_eq!(focused["href"], "#main");
    assert_eq!(
        focused["visible"],
        json!(true),
        "a focused skip link is visible: {focused}"
    );
}

impl Browser {
    /// Runs axe-core on the open page and lists its serious and critical findings, one line
    /// each with the elements concerned. WebDriver's script injection is not subject to the
    /// site's CSP, which forbids inline script.
    async fn accessibility_violations(&self, axe_source: &str) -> Vec<String> {
        self.command(
            "execute/sync",
            json!({"script": format!("{axe_source}\n;return typeof axe;"), "args": []}),
        )
        .await;
        let found = self
            .command(
                "execute/async",
                json!({"script": "const done = arguments[arguments.length - 1];
                   axe.run(document, { resultTypes: ['violations'] })
                     .then(r => done(r.violations
                        .filter(v => v.impact === 'serious' || v.impact === 'critical')
                        .map(v => v.impact + ' ' + v.id + ': ' + v.help + ' at '
                             + v.nodes.slice(0, 5).map(n => n.target.join(' ')).join(', '))))
                     .catch(e => done(['axe failed: ' + e]));",
                       "args": []}),
            )
            .await;
        found
            .as_array()
            .unwrap_or_else(|| panic!("axe answered {found}"))
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

/// Opens `path` and lists axe's serious and critical findings there, each naming the page.
async fn axe_at_360px(browser: &Browser, site: &TestSite, axe: &str, path: &str) -> Vec<String> {
    browser.open(&site.url(path)).await;
    let viewport = browser.eval("return window.innerWidth").await;
    assert_eq!(viewport, json!(360), "the test really runs at 360 px");
    browser
        .accessibility_violations(axe)
        .await
        .into_iter()
        .map(|finding| format!("{path}: {finding}"))
        .collect()
}

#[tokio::test]
async fn every_page_kind_has_no_serious_accessibility_violation_on_a_360px_phone() {
    let axe_source = std::fs::read_to_string(tool("NEWSDESK_TEST_AXE")).expect("axe.min.js");
    let site = TestSite::demo();
    site.import_ok(UPLOADED_HERO);
    site.add_user("admin@example.org", "admin", "correct horse battery");
    let browser = Browser::start(360).await;
    let mut report = Vec::new();
    let mut checked = 0;
    let mut public: Vec<String> = PAGES.iter().map(|p| (*p).to_owned()).collect();
    public.push("/account/sign-in?next=%2Fsearch".to_owned());
    for path in &public {
        report.extend(axe_at_360px(&browser, &site, &axe_source, path).await);
        checked += 1;
    }
    // The desk, signed in as an admin, who sees every page of it.
    browser
        .sign_in(&site, "admin@example.org", "correct horse battery")
        .await;
    let item = browser
        .eval("return document.querySelector('.items tbody a').getAttribute('href')")
        .await
        .as_str()
        .expect("an item in the desk's list")
        .to_owned();
    for path in [
        "/desk".to_owned(),
        "/desk?status=published&kind=story&section=world&page=1".to_owned(),
        "/desk/new".to_owned(),
        "/desk/new?kind=brief".to_owned(),
        item.clone(),
        format!("{item}/compare?from=1"),
        "/desk/audit".to_owned(),
        "/desk/password".to_owned(),
        "/desk/sections".to_owned(),
        "/desk/tags".to_owned(),
        "/desk/authors".to_owned(),
        "/desk/accounts".to_owned(),
        "/desk/settings".to_owned(),
        "/desk/tokens".to_owned(),
        "/desk/webhooks".to_owned(),
        "/desk/media?for=%2Fdesk%2Fnew".to_owned(),
        "/desk/comments".to_owned(),
        format!("/comments/{}", item.trim_start_matches("/desk/items/")),
    ] {
        report.extend(axe_at_360px(&browser, &site, &axe_source, &path).await);
        checked += 1;
    }
    assert!(checked >= PAGES.len() + 15, "only {checked} pages checked");
    assert!(
        report.is_empty(),
        "axe finds {} serious or critical violations at 360 px:\n{}",
        report.len(),
        report.join("\n")
    );
}

#[tokio::test]
async fn hostile_text_from_a_writer_stays_text_in_the_readers_browser() {
    let site = TestSite::empty();
    let headline = r#"</title><script>window.__pwned=1</script> & "x" <b>bold</b>"#;
    site.import_ok(
        r#"
[[items]]
kind = "story"
section = "world"
slug = "hostile"
headline = '</title><script>window.__pwned=1</script> & "x" <b>bold</b>'
standfirst = '<img src=x onerror="window.__pwned=2"> " onmouseover="window.__pwned=3'
body = """
Plain words first.

<script>window.__pwned = 4</script>
<img src="x" onerror="window.__pwned = 5">
<a href="javascript:window.__pwned = 6" id="js-link">a link</a>
[another](javascript:window.__pwned=7) and <iframe src="https://example.org"></iframe>
<p style="background:url(javascript:1)" onclick="window.__pwned=8">styled</p>
"""
tags = ['<b onmouseover="window.__pwned=9">tag</b>']
sources = [{ name = '"><script>window.__pwned=10</script>', url = "https://example.org/a?b=\"c\"" }]
status = "published"
"#,
    );
    let browser = Browser::start(1024).await;
    for path in ["/world/hostile", "/", "/latest", "/world"] {
        let page = site
            .eventually(path, Duration::from_secs(3), |p| p.text.contains("__pwned"))
            .await;
        assert_eq!(page.status, 200, "{path}");
        browser.open(&site.url(path)).await;
        let found = browser
            .eval(
                "return {
                   pwned: window.__pwned === undefined ? null : window.__pwned,
                   // JSON-LD blocks are data and our own asset files are ours: only
                   // other scripts count.
                   scripts: [...document.scripts].filter(s => s.type !== 'application/ld+json'
                     && !(s.getAttribute('src') || '').startsWith('/assets/')).length,
                   handlers: [...document.querySelectorAll('*')].filter(e =>
                     [...e.attributes].some(a => a.name.startsWith('on'))).length,
                   js_links: [...document.querySelectorAll('a[href], iframe, object, embed')].filter(e =>
                     e.tagName !== 'A' || e.getAttribute('href').trim().toLowerCase().startsWith('javascript')).length,
                   styles: document.querySelectorAll('main [style]').length,
                 };",
            )
            .await;
        assert_eq!(
            found,
            json!({"pwned": null, "scripts": 0, "handlers": 0, "js_links": 0, "styles": 0}),
            "{path}"
        );
    }
    browser.open(&site.url("/world/hostile")).await;
    let shown = browser
        .eval("return [document.querySelector('h1').textContent, document.title]")
        .await;
    assert_eq!(
        shown[0],
        json!(headline),
        "the headline reads as the writer typed it"
    );
    assert!(
        shown[1].as_str().is_some_and(|t| t.starts_with(headline)),
        "{shown}"
    );
}

impl Browser {
    async fn find(&self, css: &str) -> String {
        let found = self
            .command("element", json!({"using": "css selector", "value": css}))
            .await;
        found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(|v| v.as_str())
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_owned()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.command(&format!("element/{id}/value"), json!({ "text": text }))
            .await;
    }

    /// Polls `condition` (a script returning true or false) until it holds: clicks that
    /// navigate return before the next page is there.
    async fn wait_until(&self, condition: &str, what: &str) {
        let script = format!("return Boolean({condition});");
        let started = Instant::now();
        while self.eval(&script).await != json!(true) {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "timed out waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Signs in through the form and waits for the desk.
    async fn sign_in(&self, site: &TestSite, email: &str, password: &str) {
        self.open(&site.url("/desk/sign-in")).await;
        self.type_into("#email", email).await;
        self.type_into("#password", password).await;
        self.click("form button[type=submit]").await;
        self.wait_until("location.pathname === '/desk'", "the desk after signing in")
            .await;
    }

    async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.command(&format!("element/{id}/click"), json!({}))
            .await;
    }
}

#[tokio::test]
async fn an_editor_writes_and_publishes_in_the_browser_and_a_contributor_cannot_publish() {
    let site = TestSite::demo();
    site.add_user("editor@example.org", "editor", "correct horse battery");
    site.add_user("writer@example.org", "contributor", "correct horse battery");
    let browser = Browser::start(1024).await;

    browser
        .sign_in(&site, "editor@example.org", "correct horse battery")
        .await;
    browser.click("a[href='/desk/new']").await;
    browser
        .type_into(
            "#headline",
            "Night ferry returns to the outer sound after the storm",
        )
        .await;
    browser
        .type_into(
            "#standfirst",
            "The first crossing since Monday left Port Halden at eight.",
        )
        .await;
    browser
        .type_into("#body", "Passengers cheered as the ferry cast off.\n\nThe operator expects a full timetable by Friday.")
        .await;
    browser
        .click("input[name=authors][value=amina-rahimova]")
        .await;
    // A hero image, chosen from disk as a person would: the file input gets the file's path.
    let pictures = tempfile::tempdir().expect("dir");
    let picture = pictures.path().join("ferry.png");
    image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(1200, 800, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    }))
    .save(&picture)
    .expect("write the picture");
    browser
        .type_into("#hero_file", &picture.display().to_string())
        .await;
    browser
        .type_into(
            "#hero_alt",
            "The night ferry leaving Port Halden with its lights on.",
        )
        .await;
    browser
        .type_into("#hero_caption", "The first crossing since Monday.")
        .await;
    browser.click("button[value=publish]").await;
    browser
        .wait_until("document.querySelector('.notice') && document.querySelector('.notice').textContent === 'Saved.'", "the saved item")
        .await;
    browser.click(".meta a").await;
    browser
        .wait_until("document.querySelector('.authors')", "the public story")
        .await;
    let shown = browser
        .eval("return [document.querySelector('h1').textContent, document.querySelector('.authors').textContent]")
        .await;
    assert_eq!(
        shown[0],
        json!("Night ferry returns to the outer sound after the storm")
    );
    assert!(
        shown[1]
            .as_str()
            .is_some_and(|a| a.contains("Amina Rahimova")),
        "{shown}"
    );
    browser
        .wait_until(
            "(() => { const i = document.querySelector('.hero img'); return i && i.complete && i.naturalWidth > 0; })()",
            "the hero image to load in the browser",
        )
        .await;
    let hero = browser
        .eval("const i = document.querySelector('.hero img'); return { src: i.getAttribute('src'), current: i.currentSrc, alt: i.alt, caption: document.querySelector('.hero figcaption').textContent };")
        .await;
    assert_eq!(
        hero["alt"],
        json!("The night ferry leaving Port Halden with its lights on.")
    );
    assert!(
        hero["caption"]
            .as_str()
            .is_some_and(|c| c.contains("The first crossing since Monday.")),
        "{hero}"
    );
    // The fallback is a JPEG; Chromium takes the WebP `<source>` the picture offers.
    for (src, kind) in [
        (&hero["src"], "image/jpeg"),
        (&hero["current"], "image/webp"),
    ] {
        let src = src.as_str().expect("src");
        let path = src.strip_prefix(&site.base).unwrap_or(src);
        let response = site.get(path).await;
        assert_eq!(response.status(), 200, "{src}");
        assert_eq!(response.headers()["content-type"], kind, "{src}");
    }

    browser.open(&site.url("/desk")).await;
    browser.click(".desk-header form button").await;
    browser
        .wait_until("location.pathname === '/desk/sign-in'", "the sign-in page")
        .await;
    browser
        .sign_in(&site, "writer@example.org", "correct horse battery")
        .await;
    browser.open(&site.url("/desk/new")).await;
    let buttons = browser
        .eval("return [...document.querySelectorAll('.buttons button')].map(b => b.value)")
        .await;
    assert_eq!(
        buttons,
        json!(["save", "submit"]),
        "a contributor has no publish button"
    );
}

#[tokio::test]
async fn the_editor_previews_the_body_as_the_site_renders_it_and_keeps_it_inert() {
    let site = TestSite::demo();
    site.add_user("editor@example.org", "editor", "correct horse battery");
    let browser = Browser::start(1024).await;
    browser
        .sign_in(&site, "editor@example.org", "correct horse battery")
        .await;
    browser.open(&site.url("/desk/new")).await;
    browser
        .type_into(
            "#body",
            "Gates *closed* at dawn.\n\n<script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned = 2\">",
        )
        .await;
    let started = Instant::now();
    loop {
        let preview = browser
            .eval("const p = document.getElementById('preview'); return { html: p.innerHTML, hidden: p.hidden };")
            .await;
        if preview["html"]
            .as_str()
            .is_some_and(|h| h.contains("<em>closed</em>"))
        {
            assert_eq!(preview["hidden"], json!(false));
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "no preview: {preview}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let inert = browser
        .eval("return { pwned: window.__pwned === undefined ? null : window.__pwned, scripts: document.querySelectorAll('#preview script').length, handlers: document.querySelectorAll('#preview [onerror]').length };")
        .await;
    assert_eq!(inert, json!({"pwned": null, "scripts": 0, "handlers": 0}));
}

#[tokio::test]
async fn the_editor_autosaves_while_typing_and_offers_the_text_back_after_leaving() {
    let site = TestSite::demo();
    site.add_user("editor@example.org", "editor", "correct horse battery");
    let browser = Browser::start(1024).await;
    browser
        .sign_in(&site, "editor@example.org", "correct horse battery")
        .await;
    browser.open(&site.url("/desk/new")).await;
    let status = browser
        .eval("const s = document.getElementById('autosave-status'); return [s.textContent, s.getAttribute('role')];")
        .await;
    assert_eq!(
        status,
        json!(["", "status"]),
        "a quiet live region, empty until something is saved"
    );
    browser
        .type_into("#headline", "Lighthouse keeper retires after forty winters")
        .await;
    browser
        .type_into("#body", "She climbed the 212 steps every night.")
        .await;
    browser
        .wait_until(
            "document.getElementById('autosave-status').textContent.startsWith('Autosaved at ')",
            "the autosave status",
        )
        .await;

    // Leave without saving, and come back.
    browser.open(&site.url("/desk")).await;
    browser.open(&site.url("/desk/new")).await;
    let shown = browser
        .eval("const o = document.querySelector('.autosave-offer p'); return [o ? o.textContent : null, document.getElementById('headline').value];")
        .await;
    assert!(
        shown[0]
            .as_str()
            .is_some_and(|t| t.starts_with("You have unsaved changes from ")
                && t.ends_with("(your autosave).")),
        "{shown}"
    );
    assert_eq!(shown[1], json!(""), "the form itself starts empty");
    browser.click(".autosave-offer a").await;
    browser
        .wait_until(
            "document.getElementById('headline').value === 'Lighthouse keeper retires after forty winters'",
            "the restored headline",
        )
        .await;
    let body = browser
        .eval("return document.getElementById('body').value")
        .await;
    assert_eq!(body, json!("She climbed the 212 steps every night."));
}

/// Bodies and a display name written to run script; none may.
const HOSTILE_COMMENTS: &[&str] = &[
    "<script>window.__pwned = 1</script>",
    "<img src=x onerror=\"window.__pwned = 2\">",
    "javascript:window.__pwned=3 and https://example.org/\"onmouseover=\"window.__pwned=4\"",
    "<a href=\"javascript:window.__pwned=5\">click</a> [md](javascript:window.__pwned=6)",
    "\"><svg onload=window.__pwned=7>",
    "</textarea><script>window.__pwned=8</script>",
    "<iframe src=\"javascript:window.__pwned=9\"></iframe>",
    "https://example.org/<script>window.__pwned=10</script>",
];
const HOSTILE_NAME: &str = "<img src=x onerror=\"window.__pwned=11\">\"'";

async fn nothing_ran(browser: &Browser, place: &str) {
    let found = browser
        .eval(
            "return {
               pwned: window.__pwned === undefined ? null : window.__pwned,
               foreign_scripts: [...document.scripts].filter(s => s.type !== 'application/ld+json'
                 && !(s.getAttribute('src') || '').startsWith('/assets/')).length,
               handlers: [...document.querySelectorAll('*')].filter(e =>
                 [...e.attributes].some(a => a.name.startsWith('on'))).length,
               js_links: [...document.querySelectorAll('a[href], iframe, object, embed, svg')].filter(e =>
                 e.tagName !== 'A' || e.getAttribute('href').trim().toLowerCase().startsWith('javascript')).length,
             };",
        )
        .await;
    assert_eq!(
        found,
        json!({"pwned": null, "foreign_scripts": 0, "handlers": 0, "js_links": 0}),
        "{place}"
    );
}

#[tokio::test]
async fn hostile_comments_and_names_stay_text_on_the_story_the_queue_and_the_history() {
    let smtp = smtp::SmtpListener::start();
    let site = readers::start(
        &smtp,
        &[
            readers::TRUSTED,
            ("NEWSDESK_COMMENTS__PER_READER_PER_MINUTE", "50"),
        ],
    );
    site.add_user("mod@example.org", "moderator", "correct horse battery");
    let item = readers::lead_id(&site).await;
    let mallory = readers::new_reader(&site, &smtp, "mallory@example.org", HOSTILE_NAME).await;
    let reporter = readers::new_reader(&site, &smtp, "rita@example.org", "Rita").await;
    let mut ids = Vec::new();
    for body in HOSTILE_COMMENTS {
        let posted = readers::comment(&site, &mallory, item, body, None).await;
        assert_eq!(posted.status, 303, "{body}: {}", posted.text);
        ids.push(readers::comment_id(&posted));
    }
    // Reported, so they are listed in the desk's queue too.
    let csrf = readers::page_as(&site, &format!("/comments/{item}"), &reporter)
        .await
        .attr("#comment-form input[name=csrf]", "value");
    for id in &ids {
        let reported = readers::post_as(
            &site,
            &format!("/comments/c/{id}/report"),
            &reporter,
            &[("csrf", &csrf), ("reason", "<b>bad</b>")],
        )
        .await;
        assert_eq!(reported.status, 303);
    }
    let story = readers::LEAD;
    site.eventually(story, Duration::from_secs(3), |p| {
        p.text.contains("__pwned = 1")
    })
    .await;

    let browser = Browser::start(1024).await;
    for path in [
        story.to_owned(),
        format!("/comments/{item}"),
        format!("/comments/{item}?sort=oldest"),
    ] {
        browser.open(&site.url(&path)).await;
        nothing_ran(&browser, &path).await;
    }
    browser.open(&site.url(story)).await;
    let shown = browser
        .eval(
            "return [...document.querySelectorAll('.comment-body')].map(e => e.textContent.trim())",
        )
        .await;
    for body in HOSTILE_COMMENTS {
        assert!(
            shown
                .as_array()
                .is_some_and(|all| all.iter().any(|t| t.as_str() == Some(body.trim()))),
            "{body} reads as typed: {shown}"
        );
    }
    let name = browser
        .eval("return document.querySelector('.comment-author').textContent")
        .await;
    assert_eq!(name, json!(HOSTILE_NAME));

    browser
        .sign_in(&site, "mod@example.org", "correct horse battery")
        .await;
    let reader_link = {
        browser
            .open(&site.url("/desk/comments?queue=reported"))
            .await;
        nothing_ran(&browser, "the reported queue").await;
        browser
            .eval(
                "return document.querySelector(\"a[href^='/desk/readers/']\").getAttribute('href')",
            )
            .await
    };
    let reader_path = reader_link.as_str().expect("a reader's history").to_owned();
    browser.open(&site.url(&reader_path)).await;
    nothing_ran(&browser, "the reader's history").await;
    assert_eq!(
        browser
            .eval("return document.querySelector('h1').textContent")
            .await,
        json!(HOSTILE_NAME)
    );
}

#[tokio::test]
async fn a_reader_posts_a_comment_without_the_page_reloading() {
    let smtp = smtp::SmtpListener::start();
    let site = readers::start(&smtp, &[readers::TRUSTED]);
    let item = readers::lead_id(&site).await;
    readers::new_reader(&site, &smtp, "kim@example.org", "Kim").await;
    let browser = Browser::start(1024).await;
    browser
        .open(&site.url(&format!("/account/sign-in?next=/comments/{item}")))
        .await;
    browser.type_into("#email", "kim@example.org").await;
    browser.type_into("#password", readers::PASSWORD).await;
    browser.click("form.account-form button[type=submit]").await;
    browser
        .wait_until(
            &format!("location.pathname === '/comments/{item}'"),
            "the discussion after signing in",
        )
        .await;
    browser.eval("window.__same_page = true; return true").await;
    browser
        .type_into("#body", "Posted from the browser, no reload.")
        .await;
    browser.click("#comment-form button[type=submit]").await;
    browser
        .wait_until(
            "[...document.querySelectorAll('.comment-body')].some(e => e.textContent.includes('Posted from the browser, no reload.'))",
            "the new comment in the page",
        )
        .await;
    let state = browser
        .eval("return [window.__same_page === true, document.querySelector('#body').value, document.querySelector('.comment-status').textContent]")
        .await;
    assert_eq!(state, json!([true, "", "Your comment is published."]));
    site.eventually(readers::LEAD, Duration::from_secs(1), |p| {
        p.text.contains("Posted from the browser, no reload.")
    })
    .await;
}

/// Evaluates `script` until it returns something other than null or false, for at most
/// five seconds.
async fn until(browser: &Browser, script: &str, what: &str) -> Value {
    let started = Instant::now();
    loop {
        let value = browser.eval(script).await;
        if value != Value::Null && value != json!(false) {
            return value;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{what} did not happen: {value}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn live_item(slug: &str, kind: &str, headline: &str, extra: &str) -> String {
    format!(
        r#"
[[items]]
kind = "{kind}"
section = "world"
slug = "{slug}"
headline = '{headline}'
body = '{headline}: words written for the live page test.'
status = "published"
{extra}
"#
    )
}

#[tokio::test]
async fn the_latest_news_and_the_breaking_banner_arrive_without_a_reload_and_stay_text() {
    let site = TestSite::demo();
    let browser = Browser::start(1024).await;
    let hostile = r#"<img src=x onerror="window.__pwned=1">Storm closes the bay"#;
    for (n, (path, list)) in [("/latest", "ol.listing"), ("/", "ol.stream-list")]
        .into_iter()
        .enumerate()
    {
        browser.open(&site.url(path)).await;
        // A marker on the page object: a reload would lose it.
        browser
            .eval("window.__sameDocument = true; return true")
            .await;
        until(
            &browser,
            "return document.querySelector('[data-live]').getAttribute('data-live-state') === 'open'",
            &format!("{path}: the live stream opening"),
        )
        .await;

        let brief = format!("Harbour ferry {n} sails on time despite the swell");
        site.import_ok(&live_item(
            &format!("ferry-on-time-{n}"),
            "brief",
            &brief,
            "",
        ));
        let first = until(
            &browser,
            &format!(
                "const li = document.querySelector('{list} > li:first-child');
                 return li && li.textContent.includes({brief:?}) && li.outerHTML"
            ),
            &format!("{path}: the brief at the top of the list"),
        )
        .await;
        assert!(
            first.as_str().is_some_and(|h| h.contains("live-new")),
            "{first}"
        );

        site.import_ok(&live_item(
            &format!("storm-closes-the-bay-{n}"),
            "story",
            hostile,
            "breaking = true",
        ));
        let banner = until(
            &browser,
            &format!(
                "const b = document.querySelector('.masthead + .breaking a');
                 return b && b.textContent === {hostile:?} && b.textContent"
            ),
            &format!("{path}: the breaking banner"),
        )
        .await;
        assert_eq!(
            banner,
            json!(hostile),
            "{path}: the headline arrives as text"
        );
        let found = browser
            .eval(&format!(
                "return {{
                   same: window.__sameDocument === true,
                   pwned: window.__pwned === undefined ? null : window.__pwned,
                   images: document.querySelectorAll('.breaking img, {list} img[src=x]').length,
                   flagged: document.querySelector('{list} > li:first-child .flag') !== null,
                   top: document.querySelector('{list} > li:first-child a').textContent,
                 }}"
            ))
            .await;
        assert_eq!(
            found,
            json!({"same": true, "pwned": null, "images": 0, "flagged": true,
                   "top": format!("{} {hostile}", "Breaking")}),
            "{path}"
        );

        // Withdrawn: it leaves the list, and the banner with it.
        site.import_ok(
            &live_item(
                &format!("storm-closes-the-bay-{n}"),
                "story",
                hostile,
                "breaking = true",
            )
            .replace("status = \"published\"", "status = \"unpublished\""),
        );
        until(
            &browser,
            &format!(
                "return !document.querySelector('{list}').textContent.includes('Storm closes the bay')
                   && document.querySelector('.breaking') === null"
            ),
            &format!("{path}: the withdrawn item leaving"),
        )
        .await;
    }

    // Without JavaScript the same pages are whole: the server renders the lists, and the
    // script is a deferred file that only adds to them.
    for (path, list) in [("/latest", "ol.listing > li"), ("/", "ol.stream-list > li")] {
        let page = site.ok(path).await;
        assert!(page.select(list).len() >= 3, "{path}");
        let script = page.attr("script[src*=live]", "src");
        assert!(script.starts_with("/assets/live."), "{script}");
        assert_eq!(page.select("script[src*=live][defer]").len(), 1);
        assert_eq!(
            page.attr("[data-live]", "data-live"),
            "/api/v1/live?lang=en"
        );
        assert_eq!(page.attr("[data-live]", "aria-live"), "polite");
    }
    let russian = site.ok("/ru/").await;
    assert_eq!(
        russian.attr("[data-live]", "data-live"),
        "/api/v1/live?lang=ru"
    );
    let section = site.ok("/world").await;
    assert!(
        section.select("script[src*=live]").is_empty(),
        "only the latest news is live"
    );
    assert!(
        site.ok("/latest?page=2")
            .await
            .select("[data-live]")
            .is_empty()
    );
}
