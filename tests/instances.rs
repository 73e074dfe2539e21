//! Several instances on one PostgreSQL: what one writes, every other serves within a
//! second, from pages it had cached.

#[path = "support/cluster.rs"]
mod cluster;
mod common;
#[path = "support/moto.rs"]
mod moto;

use std::time::{Duration, Instant};

use cluster::Cluster;
use common::{PgDatabase, TestSite, demo_config_text};
use moto::Moto;
use newsdesk_store::media::{MediaStore, S3Media, S3Settings};

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

    // A section added in the desk of one instance is in the other's navigation: it reads
    // the list again when the `site_changed` event arrives, and its cached pages are purged.
    a.add_user("editor@example.org", "editor", "correct horse battery");
    let cookie = a
        .desk_cookie("editor@example.org", "correct horse battery")
        .await;
    let csrf = a
        .page_with_cookie("/desk/sections", &cookie)
        .await
        .attr("form input[name=csrf]", "value");
    let added = a
        .client
        .post(a.url("/desk/sections"))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("slug", "elections"),
            ("name", "Elections"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(added.status(), 303);
    b.eventually("/", Duration::from_secs(1), |p| {
        p.texts("nav.sections a").contains(&"Elections".to_owned())
    })
    .await;
    b.eventually("/elections", Duration::from_secs(1), |p| p.status == 200)
        .await;
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

/// Runs `newsdesk migrate-data` from a SQLite data directory to `to`.
fn migrate_data(from: &std::path::Path, to: &str) -> std::process::Output {
    std::process::Command::new(common::BIN)
        .arg("migrate-data")
        .arg("--from")
        .arg(from)
        .args(["--to", to])
        .env("NEWSDESK_LOG", "warn")
        .output()
        .expect("run migrate-data")
}

#[tokio::test]
async fn migrate_data_moves_a_whole_site_to_postgres_and_refuses_a_second_time() {
    let Some(db) = PgDatabase::create() else {
        return;
    };
    let config = demo_config_text().replace(
        "[site]\n",
        "[site]\nbase_url = \"https://news.example.org\"\n",
    );
    let sqlite = TestSite::start_with(&config, &["--demo"], &[]);
    sqlite.import_ok(
        r#"
[[items]]
kind = "story"
section = "world"
slug = "port-halden-closes-tidal-barrier-for-first-time"
headline = "Halden Barrier holds through the night"
body = "A second version, so there is history to copy."
authors = ["amina-rahimova", "leyla-memmedova"]
tags = ["Port Halden", "storms"]
status = "published"
"#,
    );
    let lead = sqlite
        .eventually(LEAD, Duration::from_secs(2), |p| {
            p.text.contains("holds through the night")
        })
        .await;
    let home = sqlite.ok("/").await;

    let out = migrate_data(&sqlite.data_dir(), &db.url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = String::from_utf8_lossy(&out.stdout);
    for table in [
        "authors",
        "tags",
        "items",
        "item_tags",
        "item_authors",
        "item_sources",
        "revisions",
        "events",
    ] {
        assert!(report.contains(table), "{table} reported: {report}");
    }
    assert!(report.contains("25 rows"), "{report}");

    // The same site, served from PostgreSQL, renders byte for byte the same pages.
    let env = [("NEWSDESK_DATABASE_URL", db.url.as_str())];
    let pg = TestSite::start_with(&config, &[], &env);
    let pg_lead = pg.ok(LEAD).await;
    assert_eq!(pg_lead.text, lead.text);
    assert_eq!(pg.ok("/").await.text, home.text);
    // Ids continue after the copied ones.
    pg.import_ok(
        "[[items]]\nkind = \"brief\"\nsection = \"world\"\nslug = \"after-the-move\"\nbody = \"Written after the move.\"\nstatus = \"published\"\n",
    );
    pg.eventually("/world/after-the-move", Duration::from_secs(2), |p| {
        p.status == 200
    })
    .await;

    let again = migrate_data(&sqlite.data_dir(), &db.url);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already holds data"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

#[tokio::test]
async fn a_migrate_data_that_fails_midway_leaves_the_target_empty() {
    use sqlx::{ConnectOptions, Connection};
    let Some(db) = PgDatabase::create() else {
        return;
    };
    let mut sqlite = TestSite::demo();
    sqlite.stop();
    // A dangling tag reference, as a damaged source might have: PostgreSQL refuses it
    // after authors, tags and items were already copied.
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(sqlite.data_dir().join("newsdesk.sqlite3"))
        .foreign_keys(false)
        .connect()
        .await
        .expect("open source");
    sqlx::query("INSERT INTO item_tags (item_id, tag_id, position) VALUES (1, 999999, 99)")
        .execute(&mut conn)
        .await
        .expect("damage");
    conn.close().await.expect("close");

    let out = migrate_data(&sqlite.data_dir(), &db.url);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("copying item_tags failed"), "{stderr}");
    let mut pg = sqlx::PgConnection::connect(&db.url).await.expect("connect");
    for table in ["authors", "tags", "items", "events"] {
        let rows: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(&mut pg)
                .await
                .expect("count");
        assert_eq!(rows, 0, "{table} is empty after the failed copy");
    }
    pg.close().await.expect("close");
}

#[tokio::test]
async fn media_can_live_in_s3_compatible_object_storage() {
    let Some(moto) = Moto::start() else { return };
    let config = format!(
        "{}\n[media.s3]\nendpoint = \"{}\"\nbucket = \"newsdesk-demo\"\naccess_key_id = \"test\"\nsecret_access_key = \"test\"\n",
        demo_config_text(),
        moto.endpoint
    );
    // The bucket is made by operations, as in production.
    let bucket = format!("{}/newsdesk-demo", moto.endpoint);
    let http = common::http_client();
    let made = http
        .put(&bucket)
        .header("content-length", "0")
        .send()
        .await
        .expect("create bucket");
    assert!(made.status().is_success(), "{}", made.status());

    let site = TestSite::start_with(&config, &["--demo"], &[]);
    let page = site.ok(LEAD).await;
    let src = page.attr(".hero img", "src");
    let image = site.get(&src).await;
    assert_eq!(image.status(), 200);
    assert_eq!(image.headers()["content-type"], "image/jpeg");
    let etag = image.headers()["etag"].to_str().expect("etag").to_owned();
    let served = image.bytes().await.expect("bytes");
    let drawn = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../services/demo/hero-harbour.jpg"
    ))
    .expect("demo image");
    assert!(
        served.as_ref() == drawn.as_slice(),
        "served {} bytes, drew {}",
        served.len(),
        drawn.len()
    );
    assert!(
        !site.data_dir().join("media").exists(),
        "nothing written to the local directory"
    );
    // The bytes are really in the bucket.
    let bucket_store = S3Media::new(&S3Settings {
        endpoint: moto.endpoint.clone(),
        bucket: "newsdesk-demo".into(),
        region: "us-east-1".into(),
        access_key_id: "test".into(),
        secret_access_key: "test".into(),
        path_style: true,
    })
    .expect("settings");
    let stored = bucket_store
        .get("demo/hero-harbour.jpg")
        .await
        .expect("get")
        .expect("in the bucket");
    assert!(
        stored.bytes == drawn,
        "bucket holds {} bytes",
        stored.bytes.len()
    );
    let again = site.get_with(&src, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status(), 304);
    assert_eq!(site.get("/media/demo/nothing-here.jpg").await.status(), 404);
    assert_eq!(site.get("/media/../newsdesk.sqlite3").await.status(), 404);
}

#[tokio::test]
async fn an_instance_rides_out_a_database_restart() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let url = cluster.url();
    let site = TestSite::start_with(
        demo_config_text(),
        &["--demo"],
        &[("NEWSDESK_DATABASE_URL", url.as_str())],
    );
    let before = site.ok(LEAD).await;
    site.ok("/").await;
    assert_eq!(site.get("/healthz").await.status(), 200);

    cluster.stop();
    // Readers keep getting the cached pages; health says what is wrong.
    let during = site.ok(LEAD).await;
    assert_eq!(during.text, before.text);
    site.ok("/").await;
    assert_eq!(site.get("/healthz").await.status(), 503);
    // A write while the database is down fails loudly; nothing is silently lost.
    let refused = site.import(
        "[[items]]\nkind = \"brief\"\nsection = \"world\"\nslug = \"during-the-outage\"\nbody = \"Written during the outage.\"\nstatus = \"published\"\n",
    );
    assert!(
        !refused.status.success(),
        "a write with the database down must fail"
    );
    assert!(!String::from_utf8_lossy(&refused.stderr).is_empty());

    cluster.start_again();
    let started = Instant::now();
    while site.get("/healthz").await.status() != 200 {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "no reconnection:\n{}",
            site.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    site.import_ok(
        "[[items]]\nkind = \"brief\"\nsection = \"world\"\nslug = \"after-the-outage\"\nbody = \"Written after the outage.\"\nstatus = \"published\"\n",
    );
    // The event follower picked up again: the new brief reaches the cached home page.
    site.eventually("/", Duration::from_secs(3), |p| {
        p.text.contains("/world/after-the-outage")
    })
    .await;
    assert_eq!(site.get("/world/during-the-outage").await.status(), 404);
}

#[tokio::test]
async fn migrate_data_copies_the_media_into_the_targets_bucket() {
    let Some(db) = PgDatabase::create() else {
        return;
    };
    let Some(moto) = Moto::start() else { return };
    let made = common::http_client()
        .put(format!("{}/newsdesk-moved", moto.endpoint))
        .header("content-length", "0")
        .send()
        .await
        .expect("create bucket");
    assert!(made.status().is_success(), "{}", made.status());
    let sqlite = TestSite::demo();
    let hero = sqlite.ok(LEAD).await.attr(".hero img", "src");
    let local = sqlite.get(&hero).await.bytes().await.expect("bytes");
    let files = count_files(&sqlite.data_dir().join("media"));
    assert!(files >= 1);

    let s3_config = format!(
        "{}\n[media.s3]\nendpoint = \"{}\"\nbucket = \"newsdesk-moved\"\naccess_key_id = \"test\"\nsecret_access_key = \"test\"\n",
        demo_config_text(),
        moto.endpoint
    );
    let config_path = sqlite.dir.path().join("postgres-site.toml");
    std::fs::write(&config_path, &s3_config).expect("config");
    let out = std::process::Command::new(common::BIN)
        .arg("migrate-data")
        .arg("--from")
        .arg(sqlite.data_dir())
        .args(["--to", &db.url])
        .arg("--config")
        .arg(&config_path)
        .env("NEWSDESK_LOG", "warn")
        .output()
        .expect("run migrate-data");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains(&format!(
            "copied {files} media file(s) to the bucket newsdesk-moved"
        )),
        "{said}"
    );

    // The PostgreSQL site, with no local media at all, serves the same image from the bucket.
    let env = [("NEWSDESK_DATABASE_URL", db.url.as_str())];
    let pg = TestSite::start_with(&s3_config, &[], &env);
    assert_eq!(pg.ok(LEAD).await.attr(".hero img", "src"), hero);
    let served = pg.get(&hero).await;
    assert_eq!(served.status(), 200);
    assert!(served.bytes().await.expect("bytes") == local);
    assert!(!pg.data_dir().join("media").exists());
}

fn count_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        count_files(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn two_instances_run_housekeeping_once_per_period_and_it_removes_only_what_expired() {
    use sqlx::Connection;
    let Some(db) = PgDatabase::create() else {
        return;
    };
    let env = [
        ("NEWSDESK_DATABASE_URL", db.url.as_str()),
        ("NEWSDESK_HOUSEKEEPING__INTERVAL_SECONDS", "2"),
    ];
    let a = TestSite::start_with(demo_config_text(), &["--demo"], &env);
    a.add_user("editor@example.org", "editor", common::STAFF_PASSWORD);
    let cookie = a
        .desk_cookie("editor@example.org", common::STAFF_PASSWORD)
        .await;
    let mut pg = sqlx::PgConnection::connect(&db.url).await.expect("connect");
    sqlx::query(
        "INSERT INTO sessions (token_hash, account_id, csrf_token, created_at, expires_at)
         SELECT 'expired-session', id, 'csrf', 0, 1 FROM accounts WHERE email = 'editor@example.org'",
    )
    .execute(&mut pg)
    .await
    .expect("expired session");
    let b = TestSite::start_with(demo_config_text(), &[], &env);

    let runs = || {
        a.log().matches("housekeeping ran").count() + b.log().matches("housekeeping ran").count()
    };
    let started = Instant::now();
    while runs() < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "housekeeping did not run: {}",
            a.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    // Once per two-second period across both instances (each looks every two seconds):
    // twice as many runs would mean each ran its own.
    let periods = (elapsed / 2.0).floor() as usize + 2;
    assert!(runs() <= periods, "{} runs in {elapsed:.1} s", runs());

    let left: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM sessions")
        .fetch_all(&mut pg)
        .await
        .expect("sessions");
    assert!(!left.contains(&"expired-session".to_owned()), "{left:?}");
    assert_eq!(left.len(), 1, "the live session stays");
    assert_eq!(a.page_with_cookie("/desk", &cookie).await.status, 200);
    pg.close().await.expect("close");
}
