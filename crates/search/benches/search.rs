//! Search against the databases' own full-text search, in one run on one generated corpus:
//! index build time and size, query latency (p50, p99) for one-, two- and three-word queries
//! and phrases, and precision at 5 on the labelled set. Run by `bench/search.sh` (never by
//! `cargo test`): `cargo bench -p newsdesk-search --bench search`. ITEMS (default 100000)
//! sets the corpus size; PostgreSQL at NEWSDESK_BENCH_POSTGRES_URL (default
//! postgres://postgres@127.0.0.1:5432/postgres) gets a database of its own, dropped after;
//! without a server the PostgreSQL rows say so.

use std::path::Path;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use newsdesk_core::Item;
use newsdesk_search::labelled::{CORPUS, QUERIES, item as labelled_item, precision_at_5};
use newsdesk_search::{Filters, SearchIndex, SearchRequest, Sort};
use sqlx::{Connection, Row};

const QUERIES_PER_KIND: usize = 300;

/// A deterministic generator (xorshift), so every run sees the same corpus and queries.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// Word ranks skewed to the frequent end, as in real text.
    fn zipf(&mut self, n: usize) -> usize {
        let u = (self.next() % 1_000_000) as f64 / 1_000_000.0;
        ((n as f64) * u.powi(3)) as usize
    }
}

fn vocabulary() -> Vec<String> {
    const ONSETS: [&str; 16] = [
        "b", "k", "d", "f", "g", "h", "l", "m", "n", "p", "r", "s", "t", "v", "z", "sh",
    ];
    const VOWELS: [&str; 8] = ["a", "e", "i", "o", "u", "ar", "en", "ol"];
    let mut words = Vec::new();
    for a in ONSETS {
        for v in VOWELS {
            for b in ONSETS {
                for w in ["a", "o", "in", "er"] {
                    words.push(format!("{a}{v}{b}{w}"));
                }
            }
        }
    }
    words
}

fn sentence(rng: &mut Rng, words: &[String], len: usize) -> String {
    (0..len)
        .map(|_| words[rng.zipf(words.len())].as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn corpus(n: usize, now: Timestamp) -> Vec<Item> {
    let words = vocabulary();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let languages = ["en", "en", "en", "ru", "tr", "az"];
    (0..n)
        .map(|i| {
            let mut it = labelled_item(0, &CORPUS[0], now);
            it.id = i as i64 + 1;
            it.slug = format!("gen-{i}");
            it.language = languages[i % languages.len()].into();
            it.headline = Some(sentence(&mut rng, &words, 8));
            it.standfirst = Some(sentence(&mut rng, &words, 20));
            it.body_html = format!("<p>{}</p>", sentence(&mut rng, &words, 120));
            it.tags = Vec::new();
            let at = now - jiff::SignedDuration::from_mins(rng.below(5 * 365 * 24 * 60) as i64);
            it.published_at = Some(at);
            it
        })
        .collect()
}

fn queries(kind: usize, phrase: bool) -> Vec<String> {
    let words = vocabulary();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d + kind as u64);
    let corpus_words = corpus_sentences();
    (0..QUERIES_PER_KIND)
        .map(|_| {
            if phrase {
                // Two adjacent words from a real headline, so phrases do match.
                let s = &corpus_words[rng.below(corpus_words.len())];
                let ws: Vec<&str> = s.split(' ').collect();
                let at = rng.below(ws.len() - 1);
                format!("\"{} {}\"", ws[at], ws[at + 1])
            } else {
                // Mid-frequency words: frequent enough to match, rare enough to discriminate.
                (0..kind)
                    .map(|_| words[rng.zipf(words.len() / 4) + 20].clone())
                    .collect::<Vec<_>>()
                    .join(" ")
            }
        })
        .collect()
}

fn corpus_sentences() -> Vec<String> {
    let words = vocabulary();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    (0..2000).map(|_| sentence(&mut rng, &words, 8)).collect()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn dir_size(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| {
                    let meta = e.metadata().ok();
                    match meta {
                        Some(m) if m.is_dir() => dir_size(&e.path()),
                        Some(m) => m.len(),
                        None => 0,
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

/// FTS5 query syntax from what a reader typed: each word quoted (so no word is an
/// operator), phrases kept, implicit AND, as our index reads it.
fn fts5_query(text: &str) -> String {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('"') {
        out.extend(
            rest[..open]
                .split_whitespace()
                .map(|w| format!("\"{}\"", w.replace('"', ""))),
        );
        let after = &rest[open + 1..];
        match after.find('"') {
            Some(close) => {
                out.push(format!("\"{}\"", &after[..close]));
                rest = &after[close + 1..];
            }
            None => {
                rest = after;
                break;
            }
        }
    }
    out.extend(
        rest.split_whitespace()
            .map(|w| format!("\"{}\"", w.replace('"', ""))),
    );
    out.join(" ")
}

struct Engine {
    name: &'static str,
    build_secs: f64,
    bytes: u64,
    latencies: Vec<(String, f64, f64)>,
    precision: f64,
}

fn tantivy_search(index: &SearchIndex, text: &str, limit: usize, now: Timestamp) -> Vec<i64> {
    index
        .search(&SearchRequest {
            text: text.into(),
            filters: Filters::default(),
            sort: Sort::Relevance,
            offset: 0,
            limit,
            now,
        })
        .expect("search")
        .hits
        .iter()
        .map(|h| h.id)
        .collect()
}

fn labelled_ids_to_slugs(ids: &[i64]) -> Vec<String> {
    ids.iter()
        .map(|id| CORPUS[(*id - 1) as usize].0.to_owned())
        .collect()
}

fn mean_precision(mut run: impl FnMut(&str) -> Vec<i64>) -> f64 {
    let sum: f64 = QUERIES
        .iter()
        .map(|(q, expected)| precision_at_5(expected, &labelled_ids_to_slugs(&run(q))))
        .sum();
    sum / QUERIES.len() as f64
}

const KINDS: [(&str, usize, bool); 4] = [
    ("1 word", 1, false),
    ("2 words", 2, false),
    ("3 words", 3, false),
    ("phrase", 2, true),
];

fn run_tantivy(items: &[Item], tmp: &Path, now: Timestamp) -> Engine {
    let dir = tmp.join("tantivy");
    let started = Instant::now();
    let index = SearchIndex::create(&dir).expect("create");
    for item in items {
        index.put(item).expect("put");
    }
    index.commit(1).expect("commit");
    let build_secs = started.elapsed().as_secs_f64();
    let bytes = dir_size(&dir);
    let mut latencies = Vec::new();
    for (name, words, phrase) in KINDS {
        let mut times: Vec<Duration> = queries(words, phrase)
            .iter()
            .map(|q| {
                let t = Instant::now();
                tantivy_search(&index, q, 10, now);
                t.elapsed()
            })
            .collect();
        times.sort();
        latencies.push((
            name.to_owned(),
            percentile(&times, 0.5),
            percentile(&times, 0.99),
        ));
    }
    let labelled = SearchIndex::create(&tmp.join("tantivy-labelled")).expect("create");
    for (i, doc) in CORPUS.iter().enumerate() {
        labelled.put(&labelled_item(i, doc, now)).expect("put");
    }
    labelled.commit(1).expect("commit");
    let precision = mean_precision(|q| tantivy_search(&labelled, q, 5, now));
    Engine {
        name: "tantivy (newsdesk-search)",
        build_secs,
        bytes,
        latencies,
        precision,
    }
}

async fn fill_fts5(conn: &mut sqlx::SqliteConnection, items: &[Item]) {
    sqlx::query("CREATE VIRTUAL TABLE items_fts USING fts5(headline, standfirst, body, tokenize = 'unicode61 remove_diacritics 2')")
        .execute(&mut *conn)
        .await
        .expect("fts5");
    let mut tx = conn.begin().await.expect("begin");
    for item in items {
        sqlx::query(
            "INSERT INTO items_fts (rowid, headline, standfirst, body) VALUES ($1, $2, $3, $4)",
        )
        .bind(item.id)
        .bind(item.headline.as_deref().unwrap_or(""))
        .bind(item.standfirst.as_deref().unwrap_or(""))
        .bind(newsdesk_core::text::plain_text(&item.body_html))
        .execute(&mut *tx)
        .await
        .expect("insert");
    }
    tx.commit().await.expect("commit");
}

async fn fts5_search(conn: &mut sqlx::SqliteConnection, text: &str, limit: i64) -> Vec<i64> {
    sqlx::query("SELECT rowid FROM items_fts WHERE items_fts MATCH $1 ORDER BY bm25(items_fts, 3.0, 2.0, 1.0) LIMIT $2")
        .bind(fts5_query(text))
        .bind(limit)
        .fetch_all(&mut *conn)
        .await
        .map(|rows| rows.iter().map(|r| r.get::<i64, _>(0)).collect())
        .unwrap_or_default()
}

async fn run_fts5(items: &[Item], tmp: &Path) -> Engine {
    let path = tmp.join("fts5.sqlite3");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.expect("sqlite");
    let started = Instant::now();
    fill_fts5(&mut conn, items).await;
    let build_secs = started.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let mut latencies = Vec::new();
    for (name, words, phrase) in KINDS {
        let mut times = Vec::new();
        for q in queries(words, phrase) {
            let t = Instant::now();
            fts5_search(&mut conn, &q, 10).await;
            times.push(t.elapsed());
        }
        times.sort();
        latencies.push((
            name.to_owned(),
            percentile(&times, 0.5),
            percentile(&times, 0.99),
        ));
    }
    let mut small = sqlx::SqliteConnection::connect("sqlite::memory:")
        .await
        .expect("sqlite");
    let now = Timestamp::now();
    let labelled: Vec<Item> = CORPUS
        .iter()
        .enumerate()
        .map(|(i, d)| labelled_item(i, d, now))
        .collect();
    fill_fts5(&mut small, &labelled).await;
    let mut sum = 0.0;
    for (q, expected) in QUERIES {
        let ids = fts5_search(&mut small, q, 5).await;
        sum += precision_at_5(expected, &labelled_ids_to_slugs(&ids));
    }
    Engine {
        name: "SQLite FTS5 (unicode61, remove_diacritics 2, bm25)",
        build_secs,
        bytes,
        latencies,
        precision: sum / QUERIES.len() as f64,
    }
}

async fn fill_pg(conn: &mut sqlx::PgConnection, items: &[Item]) {
    sqlx::query(
        "CREATE TABLE items_fts (id BIGINT PRIMARY KEY, headline TEXT, standfirst TEXT, body TEXT,
           tsv tsvector GENERATED ALWAYS AS (
             setweight(to_tsvector('simple', coalesce(headline, '')), 'A') ||
             setweight(to_tsvector('simple', coalesce(standfirst, '')), 'B') ||
             setweight(to_tsvector('simple', coalesce(body, '')), 'D')) STORED)",
    )
    .execute(&mut *conn)
    .await
    .expect("table");
    for chunk in items.chunks(1000) {
        let mut tx = conn.begin().await.expect("begin");
        for item in chunk {
            sqlx::query(
                "INSERT INTO items_fts (id, headline, standfirst, body) VALUES ($1, $2, $3, $4)",
            )
            .bind(item.id)
            .bind(item.headline.as_deref().unwrap_or(""))
            .bind(item.standfirst.as_deref().unwrap_or(""))
            .bind(newsdesk_core::text::plain_text(&item.body_html))
            .execute(&mut *tx)
            .await
            .expect("insert");
        }
        tx.commit().await.expect("commit");
    }
    sqlx::query("CREATE INDEX items_fts_tsv ON items_fts USING GIN (tsv)")
        .execute(&mut *conn)
        .await
        .expect("gin");
}

async fn pg_search(conn: &mut sqlx::PgConnection, text: &str, limit: i64) -> Vec<i64> {
    sqlx::query(
        "SELECT id FROM items_fts, websearch_to_tsquery('simple', $1) q WHERE tsv @@ q
         ORDER BY ts_rank_cd(tsv, q) DESC LIMIT $2",
    )
    .bind(text)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await
    .map(|rows| rows.iter().map(|r| r.get::<i64, _>(0)).collect())
    .unwrap_or_default()
}

async fn run_pg(items: &[Item]) -> Option<Engine> {
    let base = std::env::var("NEWSDESK_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut admin = sqlx::PgConnection::connect(&base).await.ok()?;
    let db = format!("newsdesk_search_bench_{}", std::process::id());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
        .execute(&mut admin)
        .await
        .ok()?;
    let url = format!(
        "{}/{db}",
        base.rsplit_once('/').map_or(base.as_str(), |(b, _)| b)
    );
    let engine = async {
        let mut conn = sqlx::PgConnection::connect(&url).await.expect("pg");
        let started = Instant::now();
        fill_pg(&mut conn, items).await;
        let build_secs = started.elapsed().as_secs_f64();
        let bytes: i64 = sqlx::query_scalar("SELECT pg_total_relation_size('items_fts')")
            .fetch_one(&mut conn)
            .await
            .unwrap_or(0);
        let mut latencies = Vec::new();
        for (name, words, phrase) in KINDS {
            let mut times = Vec::new();
            for q in queries(words, phrase) {
                let t = Instant::now();
                pg_search(&mut conn, &q, 10).await;
                times.push(t.elapsed());
            }
            times.sort();
            latencies.push((
                name.to_owned(),
                percentile(&times, 0.5),
                percentile(&times, 0.99),
            ));
        }
        sqlx::query("DROP TABLE items_fts")
            .execute(&mut conn)
            .await
            .expect("drop");
        let now = Timestamp::now();
        let labelled: Vec<Item> = CORPUS
            .iter()
            .enumerate()
            .map(|(i, d)| labelled_item(i, d, now))
            .collect();
        fill_pg(&mut conn, &labelled).await;
        let mut sum = 0.0;
        for (q, expected) in QUERIES {
            let ids = pg_search(&mut conn, q, 5).await;
            sum += precision_at_5(expected, &labelled_ids_to_slugs(&ids));
        }
        conn.close().await.ok();
        Engine {
            name: "PostgreSQL FTS ('simple', weights A/B/D, GIN, ts_rank_cd)",
            build_secs,
            bytes: bytes as u64,
            latencies,
            precision: sum / QUERIES.len() as f64,
        }
    }
    .await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {db} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .ok();
    Some(engine)
}

fn main() {
    let n: usize = std::env::var("ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let now = Timestamp::now();
    eprintln!("generating {n} items");
    let items = corpus(n, now);
    let tmp = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    eprintln!("tantivy");
    let mut engines = vec![run_tantivy(&items, tmp.path(), now)];
    eprintln!("SQLite FTS5");
    engines.push(runtime.block_on(run_fts5(&items, tmp.path())));
    eprintln!("PostgreSQL");
    let pg = runtime.block_on(run_pg(&items));
    let pg_missing = pg.is_none();
    engines.extend(pg);
    println!(
        "## Search: {n} generated items, {} labelled queries\n",
        QUERIES.len()
    );
    println!("| engine | build s | size MiB | precision@5 |");
    println!("|---|---:|---:|---:|");
    for e in &engines {
        println!(
            "| {} | {:.1} | {:.1} | {:.3} |",
            e.name,
            e.build_secs,
            e.bytes as f64 / 1_048_576.0,
            e.precision
        );
    }
    println!("\n| engine | query | p50 ms | p99 ms |");
    println!("|---|---|---:|---:|");
    for e in &engines {
        for (kind, p50, p99) in &e.latencies {
            println!("| {} | {kind} | {p50:.2} | {p99:.2} |", e.name);
        }
    }
    if pg_missing {
        println!("\nPostgreSQL: no server reachable; not measured.");
    }
}
