//! Several instances on one PostgreSQL: what one writes, every other serves within a
//! second, from pages it had cached.

mod common;

use std::time::{Duration, Instant};

use common::{PgDatabase, TestSite, demo_config_text};

const LEAD: &str = "/world/port-halden-closes-tidal-barrier-for-first-time";

#[tokio::test]
async fn a_story_written_once_shows_on_every_instance_within_a_second() {
    let Some(db) = PgDatabase::create() else {
        return;
    };
    let env = [("NEWSDESK_DATABASE_URL", db.url.as_str())];
    let a = TestSite::start_with(demo_config_text(), &["--demo"], &env);
    let b = TestSite::start_with(demo_config_text(), &["--demo"], &env);
    assert!(
        b.log().contains("demo edition was not loaded"),
        "one edition, loaded once: {}",
        b.log()
    );

    // Both instances render and cache the pages the change will touch.
    for site in [&a, &b] {
        for path in [LEAD, "/", "/world", "/latest"] {
            let first = site.ok(path).await;
            let again = site.ok(path).await;
            assert_eq!(first.header("etag"), again.header("etag"));
        }
    }

    a.import_ok(
        r#"
[[items]]
kind = "story"
section = "world"
slug = "port-halden-closes-tidal-barrier-for-first-time"
headline = "Halden Barrier holds as the surge peaks overnight"
body = "All fourteen gates held."
authors = ["amina-rahimova"]
status = "published"

[[items]]
kind = "brief"
section = "world"
slug = "harbour-reopens-at-dawn"
body = "The harbour reopens at dawn, the authority says."
status = "published"
"#,
    );
    let written = Instant::now();
    for site in [&b, &a] {
        site.eventually(LEAD, Duration::from_secs(1), |p| {
            p.text
                .contains("Halden Barrier holds as the surge peaks overnight")
        })
        .await;
        site.eventually("/", Duration::from_secs(1), |p| {
            p.texts(".stream-item")
                .iter()
                .any(|t| t.contains("The harbour reopens at dawn"))
        })
        .await;
        site.eventually("/world", Duration::from_secs(1), |p| {
            p.text.contains("/world/harbour-reopens-at-dawn")
        })
        .await;
    }
    let elapsed = written.elapsed();
    assert!(
        elapsed < Duration::from_secs(1),
        "visible everywhere after {elapsed:?}"
    );
}

#[tokio::test]
async fn migrate_on_postgres_applies_the_schema_once() {
    let Some(db) = PgDatabase::create() else {
        return;
    };
    common::migrate_twice_applies_once(&["--database-url", &db.url]);
}
