//! Search end to end: the real binary, items imported by the command line (another process,
//! as an editor's save on another instance would be), and the site's `/search` page read
//! over HTTP.

mod common;

use std::time::Duration;

use common::TestSite;

/// The index must follow a publish within a second (architecture §3); the import's own
/// process start is outside that second, so allow for it.
const VISIBLE: Duration = Duration::from_secs(3);

fn story(slug: &str, language: &str, section: &str, headline: &str, body: &str) -> String {
    format!(
        r#"
[[items]]
kind = "story"
language = "{language}"
section = "{section}"
slug = "{slug}"
headline = "{headline}"
body = "{body}"
status = "published"
"#
    )
}

fn result_links(page: &common::Page) -> Vec<String> {
    page.select(".search-result h2 a")
        .iter()
        .filter_map(|a| a.value().attr("href").map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn a_published_story_is_found_within_a_second_and_an_unpublished_one_disappears() {
    let site = TestSite::empty();
    site.import_ok(&story(
        "gate-test",
        "en",
        "world",
        "Floodgate trial at Lindqvist quay",
        "Engineers tested the gates.",
    ));
    let page = site
        .eventually("/search?q=lindqvist", VISIBLE, |p| {
            !result_links(p).is_empty()
        })
        .await;
    assert_eq!(result_links(&page), ["/world/gate-test"]);
    assert_eq!(page.header("cache-control"), "no-store");
    site.import_ok(
        &story(
            "gate-test",
            "en",
            "world",
            "Floodgate trial at Lindqvist quay",
            "Engineers tested the gates.",
        )
        .replace("\"published\"", "\"unpublished\""),
    );
    site.eventually("/search?q=lindqvist", VISIBLE, |p| {
        result_links(p).is_empty()
    })
    .await;
}

#[tokio::test]
async fn turkish_and_accented_spellings_find_each_other() {
    let site = TestSite::empty();
    site.import_ok(&format!(
        "{}{}",
        story(
            "secim",
            "tr",
            "politics",
            "Türkiye seçime hazırlanıyor",
            "İstanbul'da sandıklar kuruldu."
        ),
        story(
            "cafe",
            "en",
            "world",
            "Cafe owners in Turkiye",
            "Visitors to istanbul returned."
        )
    ));
    site.eventually("/search?q=istanbul", VISIBLE, |p| {
        result_links(p).len() == 2
    })
    .await;
    for q in [
        "Türkiye",
        "turkiye",
        "TURKIYE",
        "İstanbul",
        "istanbul",
        "ISTANBUL",
        "ıstanbul",
    ] {
        let page = site.ok(&format!("/search?q={}", urlencode(q))).await;
        let mut links = result_links(&page);
        links.sort();
        assert_eq!(links, ["/tr/politics/secim", "/world/cafe"], "{q}");
    }
}

#[tokio::test]
async fn snippets_mark_the_matched_words_and_keep_hostile_text_as_text() {
    let site = TestSite::empty();
    site.import_ok(&story(
        "hostile",
        "en",
        "world",
        "Quarry <b>vote</b> & the council",
        "Before the vote <script>alert(1)</script> the quarry owners met.",
    ));
    let page = site
        .eventually("/search?q=quarry", VISIBLE, |p| !result_links(p).is_empty())
        .await;
    let html = page
        .select(".search-result")
        .first()
        .map(|e| e.html())
        .unwrap_or_default();
    assert!(
        html.contains("<mark>Quarry</mark> &lt;b&gt;vote&lt;/b&gt; &amp; the council"),
        "{html}"
    );
    assert!(html.contains("<mark>quarry</mark> owners"), "{html}");
    assert!(page.select(".search-result script").is_empty());
    assert!(!html.contains("<script>"), "{html}");
}

#[tokio::test]
async fn quoted_phrases_match_words_in_order_only() {
    let site = TestSite::empty();
    site.import_ok(&format!(
        "{}{}",
        story(
            "in-order",
            "en",
            "world",
            "Tidal barrier closes",
            "The tidal barrier closed."
        ),
        story(
            "apart",
            "en",
            "world",
            "Barrier repairs",
            "A barrier, and a tidal pool."
        )
    ));
    site.eventually("/search?q=barrier", VISIBLE, |p| result_links(p).len() == 2)
        .await;
    let page = site.ok("/search?q=%22tidal+barrier%22").await;
    assert_eq!(result_links(&page), ["/world/in-order"]);
}

#[tokio::test]
async fn what_a_query_parser_cannot_read_is_searched_as_plain_words() {
    let site = TestSite::demo();
    for q in [
        "%22unclosed",
        "title%3A(x+OR+%5Ba+TO+z%5D",
        "%5E%7E*%3F%5C",
        "-",
        "%22%22",
        "AND+OR+NOT",
        "%00%01",
        "%E2%80%8B",
    ] {
        let page = site.page(&format!("/search?q={q}")).await;
        assert_eq!(page.status, 200, "q={q}: {}", page.text);
    }
}

#[tokio::test]
async fn a_query_of_max_length_is_read_and_a_longer_one_refused_with_a_sentence() {
    let site = TestSite::demo();
    let at_limit = "a".repeat(200);
    assert_eq!(
        site.page(&format!("/search?q={at_limit}")).await.status,
        200
    );
    let over = site.page(&format!("/search?q={at_limit}b")).await;
    assert_eq!(over.status, 400);
    assert!(
        over.text.contains("at most 200 characters"),
        "{}",
        over.text
    );
    // Characters, not bytes: 200 Cyrillic letters are 400 bytes and still fine.
    let cyrillic = "%D0%B6".repeat(200);
    assert_eq!(
        site.page(&format!("/search?q={cyrillic}")).await.status,
        200
    );
}

#[tokio::test]
async fn result_pages_go_to_page_fifty_and_no_further() {
    let site = TestSite::empty();
    let mut file = String::new();
    for n in 0..491 {
        file.push_str(&format!(
            "\n[[items]]\nkind = \"brief\"\nsection = \"world\"\nslug = \"ferry-{n}\"\nbody = \"Ferry timetable notice {n}.\"\nstatus = \"published\"\n"
        ));
    }
    site.import_ok(&file);
    let last = site
        .eventually("/search?q=ferry&page=50", Duration::from_secs(10), |p| {
            p.status == 200
        })
        .await;
    assert_eq!(last.select(".search-result").len(), 1);
    assert!(last.text.contains("491 found"), "{}", last.text);
    assert_eq!(site.page("/search?q=ferry&page=51").await.status, 404);
    assert_eq!(site.page("/search?q=ferry&page=0").await.status, 400);
    let first = site.ok("/search?q=ferry").await;
    assert_eq!(first.select(".search-result").len(), 10);
    assert!(
        first
            .attr(".pager a[rel=next]", "href")
            .ends_with("&page=2")
    );
}

#[tokio::test]
async fn filters_narrow_and_newest_sorts_by_time() {
    let site = TestSite::empty();
    site.import_ok(
        r#"
[[items]]
kind = "story"
section = "world"
slug = "old-ferry"
headline = "Ferry strike ends"
body = "Ferry crews return."
tags = ["Strikes"]
status = "published"
published_at = "2026-01-10T10:00:00Z"

[[items]]
kind = "brief"
section = "business"
slug = "new-ferry"
body = "Ferry operator posts a profit."
status = "published"
published_at = "2026-06-10T10:00:00Z"

[[items]]
kind = "story"
language = "ru"
section = "world"
slug = "parom"
headline = "Ferry паром"
body = "Паром."
status = "published"
published_at = "2026-03-10T10:00:00Z"
"#,
    );
    site.eventually("/search?q=ferry", VISIBLE, |p| result_links(p).len() == 3)
        .await;
    let site = &site;
    let links = |path: &'static str| async move { result_links(&site.ok(path).await) };
    assert_eq!(
        links("/search?q=ferry&section=business").await,
        ["/business/new-ferry"]
    );
    assert_eq!(
        links("/search?q=ferry&kind=brief").await,
        ["/business/new-ferry"]
    );
    assert_eq!(links("/search?q=ferry&lang=ru").await, ["/ru/world/parom"]);
    assert_eq!(
        links("/search?q=ferry&tag=strikes").await,
        ["/world/old-ferry"]
    );
    assert_eq!(
        links("/search?q=ferry&from=2026-03-01&to=2026-03-31").await,
        ["/ru/world/parom"]
    );
    assert_eq!(
        links("/search?q=ferry&sort=newest").await,
        ["/business/new-ferry", "/ru/world/parom", "/world/old-ferry"]
    );
    assert_eq!(site.page("/search?q=ferry&from=March").await.status, 400);
    assert_eq!(site.page("/search?q=ferry&sort=loudest").await.status, 400);
}

#[tokio::test]
async fn every_page_has_a_search_box_and_names_the_opensearch_description() {
    let site = TestSite::demo();
    let home = site.ok("/").await;
    assert_eq!(home.attr("header form[role=search]", "action"), "/search");
    assert_eq!(
        home.attr("header form[role=search] input[type=search]", "name"),
        "q"
    );
    assert_eq!(
        home.attr("link[rel=search]", "type"),
        "application/opensearchdescription+xml"
    );
    let description = site.get(&home.attr("link[rel=search]", "href")).await;
    assert_eq!(description.status(), 200);
    let xml = description.text().await.expect("body");
    assert!(
        xml.contains(&format!(
            "template=\"{}/search?q={{searchTerms}}\"",
            site.base
        )),
        "{xml}"
    );
}

#[tokio::test]
async fn a_restart_catches_up_with_what_was_published_while_stopped() {
    let mut site = TestSite::empty();
    site.import_ok(&story(
        "first",
        "en",
        "world",
        "Lighthouse keeper retires",
        "After forty years.",
    ));
    site.eventually("/search?q=lighthouse", VISIBLE, |p| {
        result_links(p).len() == 1
    })
    .await;
    site.stop();
    site.import_ok(&story(
        "second",
        "en",
        "world",
        "Lighthouse to become a museum",
        "The council agreed.",
    ));
    let site = site.restart(&[]);
    // No waiting: the start check has run before the server answers.
    let page = site.ok("/search?q=lighthouse").await;
    assert_eq!(result_links(&page).len(), 2);
    assert!(
        site.log().contains("search index caught up"),
        "{}",
        site.log()
    );
}

#[tokio::test]
async fn a_corrupt_or_missing_index_is_rebuilt_at_start() {
    let mut site = TestSite::empty();
    site.import_ok(&story(
        "only",
        "en",
        "world",
        "Glacier retreat measured",
        "Survey results.",
    ));
    site.eventually("/search?q=glacier", VISIBLE, |p| result_links(p).len() == 1)
        .await;
    site.stop();
    std::fs::write(site.data_dir().join("search/meta.json"), "{ torn").expect("corrupt");
    let mut site = site.restart(&[]);
    assert_eq!(result_links(&site.ok("/search?q=glacier").await).len(), 1);
    assert!(
        site.log().contains("search index rebuilt"),
        "{}",
        site.log()
    );
    site.stop();
    std::fs::remove_dir_all(site.data_dir().join("search")).expect("remove");
    let site = site.restart(&[]);
    assert_eq!(result_links(&site.ok("/search?q=glacier").await).len(), 1);
}

#[tokio::test]
async fn reindex_rebuilds_the_index_and_refuses_while_a_server_holds_it() {
    let mut site = TestSite::demo();
    let busy = site.command(&["reindex"]);
    assert!(!busy.status.success());
    assert!(String::from_utf8_lossy(&busy.stderr).contains("in use by another newsdesk process"));
    site.stop();
    let done = site.command(&["reindex"]);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let out = String::from_utf8_lossy(&done.stdout);
    assert!(out.starts_with("indexed 25 published item(s)"), "{out}");
    let site = site.restart(&["--demo"]);
    assert!(
        site.log().contains("search index is current"),
        "{}",
        site.log()
    );
    assert!(!result_links(&site.ok("/search?q=harbour").await).is_empty());
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn related_links(page: &common::Page) -> Vec<String> {
    page.select(".related a")
        .iter()
        .filter_map(|a| a.value().attr("href").map(str::to_owned))
        .filter(|href| !href.starts_with("/tag/") && !href.starts_with("/author/"))
        .fold(Vec::new(), |mut out, href| {
            if !out.contains(&href) {
                out.push(href);
            }
            out
        })
}

#[tokio::test]
async fn story_pages_show_related_stories_that_editors_can_pin_and_exclude() {
    let site = TestSite::empty();
    // Ids follow the import order: 1 the subject, 2 and 3 about the same barrier, 4 not.
    let mut file = String::new();
    file.push_str(&story(
        "barrier-shut",
        "en",
        "world",
        "Tidal barrier shut at Port Halden",
        "The tidal barrier at Port Halden shut as the surge came.",
    ));
    file.push_str(&story(
        "barrier-test",
        "en",
        "world",
        "Tidal barrier tested at Port Halden",
        "Engineers tested the tidal barrier gates.",
    ));
    file.push_str(&story(
        "barrier-bill",
        "en",
        "world",
        "Who pays for the tidal barrier",
        "The barrier at Port Halden cost more than planned.",
    ));
    file.push_str(&story(
        "chess",
        "en",
        "sport",
        "Chess final drawn",
        "Twelve games and no winner.",
    ));
    site.import_ok(&file);
    let page = site
        .eventually("/world/barrier-shut", VISIBLE, |p| {
            related_links(p).len() >= 2
        })
        .await;
    let shown = related_links(&page);
    assert!(
        shown.contains(&"/world/barrier-test".to_string()),
        "{shown:?}"
    );
    assert!(
        shown.contains(&"/world/barrier-bill".to_string()),
        "{shown:?}"
    );
    assert!(!shown.contains(&"/sport/chess".to_string()), "{shown:?}");

    site.add_user("ed@example.org", "editor", "correct horse battery");
    let cookie = site
        .desk_cookie("ed@example.org", "correct horse battery")
        .await;
    let editor = site.page_with_cookie("/desk/items/1", &cookie).await;
    assert!(editor.text.contains("Readers see now"), "{}", editor.text);
    let csrf = editor.attr(".related-form input[name=csrf]", "value");
    let post = |pinned: &'static str, excluded: &'static str| {
        let csrf = csrf.clone();
        let cookie = cookie.clone();
        let site = &site;
        async move {
            site.client
                .post(site.url("/desk/items/1/related"))
                .header("cookie", cookie)
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("pinned", pinned),
                    ("excluded", excluded),
                ])
                .send()
                .await
                .expect("post")
                .status()
                .as_u16()
        }
    };
    assert_eq!(post("4", "2").await, 303);
    let page = site
        .eventually("/world/barrier-shut", VISIBLE, |p| {
            related_links(p).first().map(String::as_str) == Some("/sport/chess")
        })
        .await;
    let shown = related_links(&page);
    assert!(
        !shown.contains(&"/world/barrier-test".to_string()),
        "{shown:?}"
    );
    assert!(
        shown.contains(&"/world/barrier-bill".to_string()),
        "{shown:?}"
    );
    // The edge of the form's limit: 20 items are taken, 21 refused with a sentence.
    let twenty: &'static str = "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20";
    assert_eq!(post("", twenty).await, 404);
    let twenty_one: &'static str = "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21";
    assert_eq!(post("", twenty_one).await, 409);
    assert_eq!(post("four", "").await, 409);
}

#[tokio::test]
async fn each_instance_on_one_postgresql_keeps_its_own_index_current_from_the_log() {
    let Some(db) = common::PgDatabase::create() else {
        return;
    };
    let env = [("NEWSDESK_DATABASE_URL", db.url.as_str())];
    let a = TestSite::start_with(common::demo_config_text(), &["--demo"], &env);
    let b = TestSite::start_with(common::demo_config_text(), &[], &env);
    // The second instance's first start builds its own index from the shared database.
    assert!(b.log().contains("search index rebuilt"), "{}", b.log());
    assert!(!result_links(&b.ok("/search?q=harbour").await).is_empty());
    a.import_ok(&story(
        "ferry-gift",
        "en",
        "world",
        "Island ferry given to a museum",
        "The Solvik ferry retires.",
    ));
    for site in [&a, &b] {
        site.eventually("/search?q=solvik", VISIBLE, |p| {
            result_links(p) == ["/world/ferry-gift"]
        })
        .await;
    }
}

#[tokio::test]
async fn a_deleted_tag_no_longer_filters_the_items_it_was_taken_off() {
    let site = TestSite::empty();
    site.import_ok(
        &story(
            "tagged",
            "en",
            "world",
            "Bridge tolls rise",
            "Drivers pay more.",
        )
        .replace(
            "status = \"published\"",
            "tags = [\"Tolls\"]\nstatus = \"published\"",
        ),
    );
    site.eventually("/search?q=bridge&tag=tolls", VISIBLE, |p| {
        result_links(p).len() == 1
    })
    .await;
    site.add_user("ed@example.org", "editor", "correct horse battery");
    let cookie = site
        .desk_cookie("ed@example.org", "correct horse battery")
        .await;
    let csrf = site
        .page_with_cookie("/desk/new", &cookie)
        .await
        .attr("form.editor input[name=csrf]", "value");
    let deleted = site
        .client
        .post(site.url("/desk/tags/tolls/delete"))
        .header("cookie", cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(deleted.status(), 303);
    site.eventually("/search?q=bridge&tag=tolls", VISIBLE, |p| {
        result_links(p).is_empty()
    })
    .await;
    assert_eq!(
        result_links(&site.ok("/search?q=bridge").await),
        ["/world/tagged"]
    );
}
