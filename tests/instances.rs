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

#[tokio::test]
async fn a_scheduled_story_is_published_exactly_once_by_two_instances() {
    use sqlx::Connection;
    let Some(db) = PgDatabase::create() else {
        return;
    };
    let env = [("NEWSDESK_DATABASE_URL", db.url.as_str())];
    let a = TestSite::start_with(demo_config_text(), &["--demo"], &env);
    let b = TestSite::start_with(demo_config_text(), &[], &env);

    let at = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(2);
    a.import_ok(&format!(
        r#"
[[items]]
kind = "brief"
section = "politics"
slug = "embargoed-budget-brief"
body = "The budget is published at the stroke of the embargo."
status = "scheduled"
published_at = "{at}"
"#
    ));
    assert_eq!(
        b.get("/politics/embargoed-budget-brief").await.status(),
        404,
        "not before its time"
    );
    for site in [&a, &b] {
        site.eventually(
            "/politics/embargoed-budget-brief",
            Duration::from_secs(5),
            |p| p.status == 200,
        )
        .await;
    }

    let mut conn = sqlx::PgConnection::connect(&db.url).await.expect("connect");
    let id: i64 = sqlx::query_scalar("SELECT id FROM items WHERE slug = 'embargoed-budget-brief'")
        .fetch_one(&mut conn)
        .await
        .expect("item");
    let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE item_id = $1")
        .bind(id)
        .fetch_one(&mut conn)
        .await
        .expect("events");
    assert_eq!(events, 1, "one publication, one event");
    let actors: Vec<String> =
        sqlx::query_scalar("SELECT actor FROM revisions WHERE item_id = $1 ORDER BY version")
            .bind(id)
            .fetch_all(&mut conn)
            .await
            .expect("revisions");
    assert_eq!(actors, ["import", "scheduler"]);
    conn.close().await.expect("close");
}
