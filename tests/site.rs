//! The site, end to end: the real binary on an ephemeral port, a fresh data directory, the
//! demo edition or content imported through `newsdesk import`, checked over HTTP.

mod common;

use std::time::Duration;

use common::{Page, TestSite, collapse};

const LEAD: &str = "/world/port-halden-closes-tidal-barrier-for-first-time";
const BREAKING_BRIEF: &str = "/world/ferry-stranded-off-port-halden";

fn links(page: &Page, css: &str) -> Vec<String> {
    page.select(css)
        .iter()
        .filter_map(|e| e.value().attr("href").map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn home_shows_top_story_breaking_banner_stream_and_section_rails() {
    let site = TestSite::demo();
    let home = site.ok("/").await;
    assert_eq!(
        home.text_of(".top-story .top-headline"),
        "Port Halden shuts its new tidal barrier for the first time as storm surge nears"
    );
    assert_eq!(links(&home, ".top-story .top-headline a"), vec![LEAD]);
    assert!(
        home.text_of(".breaking")
            .contains("Ferry with 63 people aboard stranded")
    );
    assert_eq!(links(&home, ".breaking a"), vec![BREAKING_BRIEF]);

    let stream = home.select(".stream-item");
    assert_eq!(stream.len(), 12, "the stream shows pages.stream_size items");
    // Newest first, each with its time and source.
    let first = home.texts(".stream-item").remove(0);
    assert!(first.contains("Northline Rail"), "{first}");
    assert!(home.select(".stream-item time[datetime]").len() == 12);

    let rails = home.texts(".rail > h2");
    assert_eq!(rails, ["World", "Politics", "Business", "Science", "Sport"]);
    assert!(
        home.text.contains("Newsdesk in your pocket"),
        "the apps block is on every page"
    );
}

#[tokio::test]
async fn story_page_has_every_part_of_the_seed_page() {
    let site = TestSite::demo();
    let page = site.ok(LEAD).await;
    assert_eq!(
        page.text_of("h1.headline"),
        "Port Halden shuts its new tidal barrier for the first time as storm surge nears"
    );
    assert!(
        page.text_of(".standfirst")
            .starts_with("The city's harbour authority raised")
    );
    assert_eq!(
        links(&page, ".authors a[rel=author]"),
        ["/author/amina-rahimova", "/author/leyla-memmedova"]
    );
    assert_eq!(
        page.text_of(".authors"),
        "By Amina Rahimova and Leyla Məmmədova"
    );
    let times = page.texts(".times time");
    assert_eq!(times.len(), 2, "published and updated: {times:?}");
    assert!(
        times.iter().all(|t| t.ends_with("+04")),
        "shown in Asia/Baku: {times:?}"
    );

    assert_eq!(
        page.attr(".hero img", "src"),
        "/media/demo/hero-harbour.jpg"
    );
    assert!(
        page.attr(".hero img", "alt")
            .starts_with("A harbour city at dawn")
    );
    assert!(
        page.select(".hero picture, .hero img[srcset]").is_empty(),
        "a bundled image has no variants to offer"
    );
    assert!(
        page.text_of(".hero figcaption")
            .contains("Illustration: Newsdesk demo")
    );
    assert!(
        page.select(".body p").len() >= 8,
        "the lead story has eight or more paragraphs"
    );
    assert_eq!(page.texts(".body h2"), ["A first closure brought forward"]);
    assert!(page.texts(".tags a").contains(&"Storms".to_owned()));
    assert_eq!(
        page.texts(".sources li"),
        ["Port Halden Harbour Authority", "Meridian Wire"]
    );

    let related = page.select(".related .teaser");
    assert_eq!(related.len(), 4, "pages.related teasers");
    for teaser in page.texts(".related .teaser-text") {
        assert!(teaser.ends_with('…'), "cut with an ellipsis: {teaser}");
        assert!(teaser.chars().count() <= 161, "{teaser}");
    }
    assert!(
        !links(&page, ".stream-item a").contains(&LEAD.to_owned()),
        "the stream leaves out the page's own item"
    );
    assert!(page.select(".stream-item").len() >= 10);
    assert!(page.text.contains("Newsdesk in your pocket"));
    assert!(
        page.select("#comments h2").len() == 1,
        "a place for comments"
    );

    // The hero image itself is served.
    let image = site.get("/media/demo/hero-harbour.jpg").await;
    assert_eq!(image.status(), 200);
    assert_eq!(image.headers()["content-type"], "image/jpeg");
}

#[tokio::test]
async fn a_brief_has_its_own_permalink_and_names_its_source() {
    let site = TestSite::demo();
    let page = site
        .ok("/world/northern-coast-rail-services-suspended")
        .await;
    assert!(
        page.text_of("h1")
            .contains("Rail services along the northern coast")
    );
    assert_eq!(page.texts(".sources li"), ["Northline Rail"]);
    assert!(page.text_of(".kicker").contains("Brief"));
    let latest = site.ok("/latest").await;
    let entry = latest
        .texts(".listing li")
        .into_iter()
        .find(|t| t.contains("Rail services along the northern coast"))
        .expect("the brief is in the stream");
    assert!(entry.contains("World"), "{entry}");
}

#[tokio::test]
async fn section_tag_author_and_latest_pages_list_and_paginate() {
    let site = TestSite::demo();
    let world = site.ok("/world").await;
    assert_eq!(world.text_of("h1"), "World");
    assert!(
        world
            .texts(".listing .teaser-headline")
            .iter()
            .any(|h| h.contains("Port Halden shuts"))
    );
    assert_eq!(
        world.select("nav.sections a[aria-current=page]").len(),
        1,
        "the current section is marked"
    );

    let tag = site.ok("/tag/storms").await;
    assert_eq!(tag.text_of("h1"), "Storms");
    assert!(!tag.select(".listing li").is_empty());

    let author = site.ok("/author/leyla-memmedova").await;
    assert_eq!(author.text_of("h1"), "Leyla Məmmədova");
    assert!(
        author
            .text_of(".bio")
            .contains("politics and economics correspondent")
    );
    assert!(
        author
            .texts(".listing .teaser-headline")
            .iter()
            .any(|h| h.contains("Coastal districts"))
    );

    // 21 English items at 20 a page: two pages, linked both ways.
    let first = site.ok("/latest").await;
    assert_eq!(first.select(".listing > li").len(), 20);
    assert_eq!(links(&first, ".pager a[rel=next]"), ["/latest?page=2"]);
    let second = site.ok("/latest?page=2").await;
    assert_eq!(second.select(".listing > li").len(), 1);
    assert_eq!(links(&second, ".pager a[rel=prev]"), ["/latest"]);
    assert_eq!(
        second.attr("link[rel=canonical]", "href"),
        site.url("/latest?page=2")
    );
    assert_eq!(site.get("/latest?page=3").await.status(), 404);
    let bad = site.page("/latest?page=zero").await;
    assert_eq!(bad.status, 400);
    assert!(bad.text_of("h1").contains("page number"));
}

#[tokio::test]
async fn language_editions_live_under_their_prefix() {
    let site = TestSite::demo();
    let ru = site.ok("/ru/").await;
    assert_eq!(ru.attr("html", "lang"), "ru");
    assert!(ru.text_of("#stream-title").contains("Последние новости"));
    let hrefs = links(&ru, ".stream-item a");
    assert!(
        hrefs.contains(&"/ru/science/kosmicheskij-teleskop-obnaruzhil-vodyanoj-par".to_owned()),
        "{hrefs:?}"
    );
    assert!(
        hrefs.iter().all(|h| h.starts_with("/ru/")),
        "only Russian items: {hrefs:?}"
    );
    site.ok("/ru/science/kosmicheskij-teleskop-obnaruzhil-vodyanoj-par")
        .await;
    site.ok("/tr/business").await;
    assert_eq!(
        site.get("/science/kosmicheskij-teleskop-obnaruzhil-vodyanoj-par")
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn teasers_are_cut_at_word_boundaries_in_every_script() {
    let site = TestSite::empty();
    let ru = "Городской совет Новоречинска единогласно утвердил план реконструкции набережной, \
включающий новые пешеходные дорожки, освещение и защиту от наводнений вдоль всей реки до самого порта";
    let tr = "Güneyliman'daki fındık kooperatifi, İstanbul ve İzmir'deki alıcılarla yaptığı yeni \
anlaşmalarla bu yıl ihracatını rekor düzeye çıkardığını ve üretici ödemelerini artıracağını açıkladı bugün";
    site.import_ok(&format!(
        r#"
[[items]]
kind = "story"
language = "ru"
section = "world"
slug = "naberezhnaya"
headline = "Набережная будет перестроена"
standfirst = "{ru}"
body = "Текст."
status = "published"

[[items]]
kind = "story"
language = "tr"
section = "business"
slug = "findik-ihracati"
headline = "Fındık ihracatında rekor"
standfirst = "{tr}"
body = "Metin."
status = "published"
"#
    ));
    for (path, full) in [("/ru/world", ru), ("/tr/business", tr)] {
        let page = site
            .eventually(path, Duration::from_secs(3), |p| {
                !p.select(".teaser-text").is_empty()
            })
            .await;
        let teaser = page.text_of(".teaser-text");
        let cut = teaser
            .strip_suffix('…')
            .unwrap_or_else(|| panic!("no ellipsis: {teaser}"));
        assert!(cut.chars().count() <= 160, "{teaser}");
        assert!(full.starts_with(cut), "a prefix of the standfirst: {cut}");
        let next = full[cut.len()..].chars().next();
        assert_eq!(
            next,
            Some(' '),
            "cut where a word ends, not inside one: {cut}"
        );
        assert!(!cut.ends_with([' ', ',']), "{cut}");
    }
}

#[tokio::test]
async fn times_show_in_the_site_zone() {
    let site = TestSite::empty();
    site.import_ok(
        r#"
[[items]]
kind = "brief"
section = "sport"
slug = "late-goal"
body = "A late goal settles the derby."
status = "published"
published_at = "2026-03-01T21:30:00Z"
"#,
    );
    let page = site.ok("/sport/late-goal").await;
    // 21:30 UTC is 01:30 the next day in Baku (UTC+4).
    assert_eq!(page.attr(".times time", "datetime"), "2026-03-01T21:30:00Z");
    assert_eq!(page.text_of(".times time"), "2 March 2026, 01:30 +04");
    assert!(page.text_of("footer .zone").contains("Asia/Baku"));
}

#[tokio::test]
async fn unknown_gone_and_misspelt_addresses_answer_404_410_and_301() {
    let site = TestSite::demo();
    for path in [
        "/no-such-section",
        "/world/no-such-story",
        "/tag/no-such-tag",
        "/author/nobody",
        "/a/b/c",
    ] {
        let page = site.page(path).await;
        assert_eq!(page.status, 404, "{path}");
        assert!(page.text_of("h1").contains("could not find"), "{path}");
        assert_eq!(
            page.header("cache-control"),
            "no-store",
            "errors are never cached"
        );
    }
    let moved = site
        .get("/politics/port-halden-closes-tidal-barrier-for-first-time")
        .await;
    assert_eq!(moved.status(), 301, "wrong section");
    assert_eq!(moved.headers()["location"], LEAD);
    let cased = site
        .get("/World/Port-Halden-Closes-Tidal-Barrier-For-First-Time")
        .await;
    assert_eq!(cased.status(), 301);
    let cased = site
        .get(cased.headers()["location"].to_str().expect("location"))
        .await;
    assert_eq!(cased.status(), 301);
    assert_eq!(cased.headers()["location"], LEAD);
    assert_eq!(site.get("/latest/").await.headers()["location"], "/latest");

    site.import_ok(
        r#"
[[items]]
kind = "brief"
section = "world"
slug = "ferry-stranded-off-port-halden"
body = "Withdrawn."
status = "unpublished"
"#,
    );
    let gone = site
        .eventually(BREAKING_BRIEF, Duration::from_secs(3), |p| p.status == 410)
        .await;
    assert!(gone.text_of("h1").contains("removed"));
    let post = site.client.post(site.url("/")).send().await.expect("post");
    assert_eq!(post.status(), 405);
}

#[tokio::test]
async fn pages_carry_etags_compression_and_cache_headers() {
    let site = TestSite::demo();
    let plain = site.get(LEAD).await;
    assert_eq!(plain.status(), 200);
    let etag = plain.headers()["etag"].to_str().expect("etag").to_owned();
    assert!(
        etag.starts_with('"') && !etag.starts_with("W/"),
        "strong: {etag}"
    );
    let cache = plain.headers()["cache-control"]
        .to_str()
        .expect("cc")
        .to_owned();
    assert!(
        cache.contains("public")
            && cache.contains("s-maxage=60")
            && cache.contains("stale-while-revalidate"),
        "{cache}"
    );
    let keys = plain.headers()["surrogate-key"]
        .to_str()
        .expect("keys")
        .to_owned();
    assert!(keys.split(' ').any(|k| k.starts_with("item:")), "{keys}");
    assert!(keys.contains("stream:en"), "{keys}");
    assert_eq!(plain.headers()["vary"], "Accept-Encoding");
    let identity = plain.bytes().await.expect("body");

    let again = site.get_with(LEAD, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.expect("body").is_empty());

    let gz = site.get_with(LEAD, &[("accept-encoding", "gzip")]).await;
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    let gz_etag = gz.headers()["etag"].to_str().expect("etag").to_owned();
    assert_ne!(gz_etag, etag, "each encoding has its own strong ETag");
    let mut decoded = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&gz.bytes().await.expect("gzip")[..]),
        &mut decoded,
    )
    .expect("valid gzip");
    assert_eq!(decoded, identity);

    let br = site
        .get_with(LEAD, &[("accept-encoding", "gzip, br")])
        .await;
    assert_eq!(br.headers()["content-encoding"], "br");
    let mut decoded = Vec::new();
    brotli::BrotliDecompress(&mut &br.bytes().await.expect("br")[..], &mut decoded)
        .expect("valid brotli");
    assert_eq!(decoded, identity);
    let not_modified = site
        .get_with(
            LEAD,
            &[("accept-encoding", "gzip"), ("if-none-match", &gz_etag)],
        )
        .await;
    assert_eq!(not_modified.status(), 304);

    let head = site.client.head(site.url(LEAD)).send().await.expect("head");
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["etag"].to_str().expect("etag"), etag);
    assert_eq!(
        head.headers()["content-length"].to_str().expect("len"),
        identity.len().to_string()
    );
    assert!(head.bytes().await.expect("body").is_empty());
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let site = TestSite::demo();
    for path in ["/", LEAD, "/nope", "/healthz"] {
        let response = site.get(path).await;
        let h = response.headers();
        let csp = h["content-security-policy"].to_str().expect("csp");
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
            "{path}: {csp}"
        );
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(
            h["referrer-policy"], "strict-origin-when-cross-origin",
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_cached_page_changes_after_its_story_is_updated() {
    let site = TestSite::demo();
    let before = site.ok(LEAD).await;
    let again = site.ok(LEAD).await;
    assert_eq!(before.header("etag"), again.header("etag"));
    let home = site.ok("/").await;
    assert!(
        home.text
            .contains("Port Halden shuts its new tidal barrier")
    );

    site.import_ok(
        r#"
[[items]]
kind = "story"
section = "world"
slug = "port-halden-closes-tidal-barrier-for-first-time"
headline = "Halden Barrier holds as the storm surge peaks"
standfirst = "All fourteen gates stayed shut through the evening high tide."
body = "The barrier held."
authors = ["amina-rahimova"]
status = "published"
"#,
    );
    // The import ran in another process: the server learns of it from the event log.
    let after = site
        .eventually(LEAD, Duration::from_secs(2), |p| {
            p.text.contains("Halden Barrier holds")
        })
        .await;
    assert_ne!(after.header("etag"), before.header("etag"));
    assert!(after.text_of(".times").contains("Updated"));
    site.eventually("/", Duration::from_secs(2), |p| {
        p.text_of(".top-story .top-headline") == "Halden Barrier holds as the storm surge peaks"
    })
    .await;
    let metrics = site.get("/metrics").await.text().await.expect("metrics");
    let hits: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("newsdesk_page_cache_hits_total "))
        .and_then(|v| v.parse().ok())
        .expect("cache hits metric");
    assert!(hits >= 1.0, "{metrics}");
}

/// The latest-news rail is kept in memory between events (issue 16): a story published by
/// another process shows in the rail of a story page already rendered before it, and the
/// rail still leaves out the page's own story.
#[tokio::test]
async fn a_new_story_reaches_the_rail_of_pages_rendered_before_it() {
    let site = TestSite::demo();
    let before = site.ok(LEAD).await;
    const BRIEF: &str = "/business/velmira-ferry-timetable";
    assert!(!links(&before, ".stream-item a").contains(&BRIEF.to_owned()));
    // The home page reads the rail too; both are now kept.
    site.ok("/").await;
    site.import_ok(
        r#"
[[items]]
kind = "brief"
section = "business"
slug = "velmira-ferry-timetable"
headline = "Velmira ferry keeps its winter timetable"
body = "The ferry keeps its winter timetable."
status = "published"
"#,
    );
    let after = site
        .eventually(LEAD, Duration::from_secs(2), |p| {
            links(p, ".stream-item a").first().map(String::as_str) == Some(BRIEF)
        })
        .await;
    assert_eq!(after.select(".stream-item").len(), 12);
    assert!(
        !links(&after, ".stream-item a").contains(&LEAD.to_owned()),
        "the stream leaves out the page's own item"
    );
    site.eventually("/", Duration::from_secs(2), |p| {
        links(p, ".stream-item a").first().map(String::as_str) == Some(BRIEF)
    })
    .await;
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
}

async fn cache_hits(site: &TestSite) -> f64 {
    metric(
        &site.ok("/metrics").await.text,
        "newsdesk_page_cache_hits_total",
    )
}

#[tokio::test]
async fn a_crawl_of_many_addresses_does_not_push_the_front_page_out_of_the_cache() {
    const MAX_ENTRIES: usize = 8;
    let site = TestSite::start_with(
        common::demo_config_text(),
        &["--demo"],
        &[("NEWSDESK_CACHE__MAX_ENTRIES", "8")],
    );
    // Readers keep reading the front page: read it until a read is a hit, so the demo's own
    // events have been applied and it is settled in the cache.
    let started = std::time::Instant::now();
    loop {
        let before = cache_hits(&site).await;
        site.ok("/").await;
        if cache_hits(&site).await > before {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the front page never came from the cache"
        );
    }
    site.ok("/").await;

    // A crawler reads every feed of every edition once, dozens at a time: far more
    // addresses than the cache holds, each read once.
    let mut crawl = Vec::new();
    for lang in ["", "/ru", "/tr"] {
        for subject in [
            "all",
            "briefs",
            "section/world",
            "section/science",
            "section/sport",
        ] {
            for format in ["rss", "atom", "json"] {
                crawl.push(format!("{lang}/feeds/{subject}.{format}"));
            }
        }
    }
    assert!(crawl.len() > MAX_ENTRIES * 4);
    let site = &site;
    let answers = futures_util::future::join_all(
        crawl
            .iter()
            .map(|path| async move { (site.get(path).await.status().as_u16(), path) }),
    )
    .await;
    for (status, path) in answers {
        assert_eq!(status, 200, "{path}");
    }
    let metrics = site.ok("/metrics").await.text;
    assert!(
        metric(&metrics, "newsdesk_page_cache_entries") <= MAX_ENTRIES as f64,
        "{metrics}"
    );

    let before = cache_hits(site).await;
    site.ok("/").await;
    assert_eq!(
        cache_hits(site).await,
        before + 1.0,
        "the front page was pushed out by the crawl"
    );
}

#[tokio::test]
async fn absolute_links_use_the_address_the_server_listens_on() {
    let site = TestSite::demo();
    let page = site.ok(LEAD).await;
    assert_eq!(page.attr("link[rel=canonical]", "href"), site.url(LEAD));
    assert_eq!(
        page.attr("meta[property='og:image']", "content"),
        site.url("/media/demo/hero-harbour.jpg")
    );

    let configured = format!(
        "{}\n",
        common::demo_config_text().replace(
            "[site]\n",
            "[site]\nbase_url = \"https://news.example.org\"\n",
        )
    );
    let other = TestSite::start_with(&configured, &["--demo"], &[]);
    let page = other.ok(LEAD).await;
    assert_eq!(
        page.attr("link[rel=canonical]", "href"),
        format!("https://news.example.org{LEAD}")
    );
}

#[tokio::test]
async fn the_demo_edition_never_overwrites_a_site() {
    let site = TestSite::demo();
    site.import_ok(
        r#"
[[items]]
kind = "brief"
section = "world"
slug = "ferry-stranded-off-port-halden"
body = "Our own words, kept."
breaking = false
status = "published"
"#,
    );
    let site = site.restart(&["--demo"]);
    let page = site.ok(BREAKING_BRIEF).await;
    assert!(page.text_of(".body").contains("Our own words, kept."));
    assert!(
        site.log().contains("demo edition was not loaded"),
        "{}",
        site.log()
    );
}

#[tokio::test]
async fn health_metrics_and_graceful_shutdown() {
    let mut site = TestSite::demo();
    let health = site.get("/healthz").await;
    assert_eq!(health.status(), 200);
    site.ok("/").await;
    site.ok("/").await;
    let metrics = site.get("/metrics").await.text().await.expect("metrics");
    assert!(
        metrics.contains("newsdesk_http_requests_total{route=\"home\",status=\"200\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "newsdesk_http_request_duration_seconds_bucket{route=\"home\",le=\"+Inf\"} 2"
        ),
        "{metrics}"
    );
    assert!(metrics.contains("# TYPE newsdesk_page_cache_hits_total counter"));
    let status = site.stop().expect("stopped");
    assert!(
        status.success(),
        "SIGTERM ends the server cleanly: {status:?}"
    );
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_old_names_are_not_found() {
    let site = TestSite::demo();
    let home = site.ok("/").await;
    let css = home.attr("link[rel=stylesheet]", "href");
    assert!(
        css.starts_with("/assets/site.") && css.ends_with(".css"),
        "{css}"
    );
    let response = site.get(&css).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(
        response.headers()["content-type"],
        "text/css; charset=utf-8"
    );
    assert_eq!(site.get("/assets/site.0000000000.css").await.status(), 404);
}

#[tokio::test]
async fn a_theme_directory_overrides_one_template_and_one_asset() {
    let dir = tempfile::tempdir().expect("dir");
    let theme = dir.path().join("theme");
    std::fs::create_dir_all(theme.join("templates")).expect("mkdir");
    std::fs::create_dir_all(theme.join("assets")).expect("mkdir");
    std::fs::write(
        theme.join("templates/error.html"),
        "{% extends \"base.html\" %}{% block main %}<h1 class=\"branded\">Lost at sea: {{ status }}</h1>{% endblock %}",
    )
    .expect("write");
    std::fs::write(
        theme.join("assets/site.css"),
        "body { background: #fdf6e3; }\n",
    )
    .expect("write");
    std::fs::write(
        theme.join("assets/brand.svg"),
        "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
    )
    .expect("write");
    let config = format!(
        "{}\n[theme]\ndir = \"{}\"\n",
        common::demo_config_text().replace("[site]\n", "[site]\nlogo = \"brand.svg\"\n"),
        theme.display()
    );
    let config_path = dir.path().join("site.toml");
    std::fs::write(&config_path, config).expect("write");
    let site = TestSite::start_in(dir, config_path, &["--demo"], &[]);

    let missing = site.page("/no-such-page").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.text_of("h1.branded"), "Lost at sea: 404");
    let home = site.ok("/").await;
    assert!(
        home.select(".top-story").len() == 1,
        "other templates stay the default"
    );
    let css = site
        .get(&home.attr("link[rel=stylesheet]", "href"))
        .await
        .text()
        .await
        .expect("css");
    assert_eq!(css, "body { background: #fdf6e3; }\n");
    let logo = home.attr(".brand img", "src");
    assert!(
        logo.starts_with("/assets/brand.") && logo.ends_with(".svg"),
        "{logo}"
    );
    assert_eq!(site.get(&logo).await.status(), 200);
}

#[tokio::test]
async fn a_malformed_config_stops_the_server_with_the_key_named() {
    let dir = tempfile::tempdir().expect("dir");
    let base = newsdesk_core::Config::default_toml();
    let cases = [
        (
            base.replace("time_zone = \"UTC\"", "time_zone = \"Mars/Olympus\""),
            "site.time_zone",
        ),
        (
            format!("{base}\n[cache]\nmax_age = \"soon\"\n"),
            "cache.max_age",
        ),
        (base.replace("[site]", "[site"), "line 4"),
        (
            base.replace("name = \"World\"", "title = \"World\""),
            "sections[0]",
        ),
        (
            base.replace("[site]\n", "[site]\nlogo = \"nope.png\"\n"),
            "site.logo",
        ),
        (
            format!("{base}\n[database]\nurl = \"mysql://db/news\"\n"),
            "database.url",
        ),
    ];
    for (text, key) in cases {
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, text).expect("write");
        let out = std::process::Command::new(common::BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path().join("data"))
            .arg("--config")
            .arg(&path)
            .output()
            .expect("run");
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(key), "names {key}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let out = std::process::Command::new(common::BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .env("NEWSDESK_SITE__TIME_ZONE", "Nowhere/Special")
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("site.time_zone"));
}

#[tokio::test]
async fn a_bad_import_names_the_item_and_field_and_saves_nothing_of_it() {
    let site = TestSite::empty();
    let long = "x".repeat(201);
    let out = site.import(&format!(
        "[[items]]\nkind = \"story\"\nsection = \"world\"\nheadline = \"{long}\"\nbody = \"b\"\nstatus = \"published\"\n"
    ));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("items[0].headline") && stderr.contains("at most 200"),
        "{stderr}"
    );
    let out = site.import("[[items]]\nkind = \"story\"\nsection = \"world\"\nheadlin = \"typo\"\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("headlin"),
        "{stderr}"
    );
    let latest = site.ok("/latest").await;
    assert!(latest.select(".listing li").is_empty());
    assert!(collapse(&latest.text_of("main")).contains("Nothing has been published"));
}

#[tokio::test]
async fn migrate_applies_the_schema_once() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().to_str().expect("utf-8 path");
    common::migrate_twice_applies_once(&["--data-dir", data]);
    assert!(dir.path().join("newsdesk.sqlite3").exists());
}

#[tokio::test]
async fn an_item_that_fell_due_while_the_server_was_down_is_published_at_start() {
    let mut site = TestSite::demo();
    site.stop();
    let due = jiff::Timestamp::now() + jiff::SignedDuration::from_millis(500);
    site.import_ok(&format!(
        "[[items]]\nkind = \"brief\"\nsection = \"business\"\nslug = \"embargoed-results\"\n\
         body = \"Quarterly results, published at the end of the embargo.\"\nstatus = \"scheduled\"\n\
         published_at = \"{due}\"\n"
    ));
    std::thread::sleep(Duration::from_millis(800));
    let site = site.restart(&[]);
    let page = site
        .eventually("/business/embargoed-results", Duration::from_secs(2), |p| {
            p.status == 200
        })
        .await;
    assert_eq!(
        page.attr(".times time", "datetime"),
        due.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "published at its slot"
    );
}
