//! The uncached write path, publishing, on SQLite against PostgreSQL in one run: each item
//! goes through the real service (validation, one transaction with labels, revision and
//! event, commit). Run: `cargo bench -p newsdesk-services --bench publish` (PostgreSQL at
//! NEWSDESK_BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres; a
//! database of its own is created and dropped).

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use newsdesk_core::{Author, Config, ItemInput, ItemKind, ItemStatus, Source};
use newsdesk_services::Newsroom;
use newsdesk_services::media::LocalMedia;
use newsdesk_store::Store;
use newsdesk_store::postgres::PgStore;
use newsdesk_store::sqlite::SqliteStore;
use sqlx::Connection;

const ITEMS: usize = 500;

fn input(n: usize) -> ItemInput {
    ItemInput {
        kind: Some(if n.is_multiple_of(4) {
            ItemKind::Story
        } else {
            ItemKind::Brief
        }),
        section: Some(["world", "politics", "business", "science", "sport"][n % 5].into()),
        slug: Some(format!("bench-item-{n}")),
        headline: Some(format!(
            "Harbour authority reports progress on gate number {n}"
        )),
        standfirst: Some("Engineers said the work was ahead of schedule and within budget.".into()),
        body: "The harbour authority said on Tuesday that work on the outer gates was ahead of \
               schedule.\n\nEngineers expect the first trials next month, the authority added."
            .repeat(3),
        tags: vec!["Port Halden".into(), "infrastructure".into()],
        authors: vec!["bench-reporter".into()],
        sources: vec![Source {
            name: "Meridian Wire".into(),
            url: Some("https://example.org/wire".into()),
        }],
        status: Some(ItemStatus::Published),
        ..ItemInput::default()
    }
}

async fn run(
    label: &str,
    store: Arc<dyn Store>,
    media_dir: &std::path::Path,
) -> (f64, Duration, Duration) {
    store.migrate().await.expect("migrate");
    store
        .upsert_author(&Author {
            slug: "bench-reporter".into(),
            name: "Bench Reporter".into(),
            bio: String::new(),
        })
        .await
        .expect("author");
    let newsroom = Newsroom::new(
        store,
        Arc::new(LocalMedia::new(media_dir.to_path_buf())),
        Arc::new(Config::default()),
    );
    let mut latencies = Vec::with_capacity(ITEMS);
    let started = Instant::now();
    for n in 0..ITEMS {
        let t = Instant::now();
        newsroom
            .save_by_slug(&input(n), None, "bench", Timestamp::now())
            .await
            .expect("publish");
        latencies.push(t.elapsed());
    }
    let total = started.elapsed();
    latencies.sort();
    let p50 = latencies[ITEMS / 2];
    let p99 = latencies[ITEMS * 99 / 100];
    let rate = ITEMS as f64 / total.as_secs_f64();
    println!(
        "| {label} | {rate:.0} | {:.2} | {:.2} |",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    );
    (rate, p50, p99)
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let admin = std::env::var("NEWSDESK_BENCH_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let name = format!("newsdesk_bench_{}", std::process::id());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .expect("PostgreSQL");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create database");
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        let url = format!("{base}/{name}");
        let dir = tempfile::tempdir().expect("dir");

        println!("Publishing {ITEMS} items one after another through the newsroom service:\n");
        println!("| backend | items/s | p50 ms | p99 ms |\n|---|---:|---:|---:|");
        let sqlite = Arc::new(SqliteStore::open(dir.path()).await.expect("sqlite"));
        let (sqlite_rate, ..) = run("SQLite (WAL, synchronous=FULL)", sqlite, dir.path()).await;
        let pg = Arc::new(PgStore::connect(&url).await.expect("postgres"));
        let (pg_rate, ..) = run("PostgreSQL 15 (local, default settings)", pg, dir.path()).await;
        println!(
            "\nRatio PostgreSQL/SQLite (items/s): **{:.2}**",
            pg_rate / sqlite_rate
        );

        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {name} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await
        .expect("drop database");
    });
}
