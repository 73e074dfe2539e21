//! Runs one store test on every backend: a fresh SQLite file, and a fresh database on the
//! machine's PostgreSQL that is dropped afterwards. Without a reachable PostgreSQL the
//! PostgreSQL half is skipped loudly, unless `NEWSDESK_TEST_REQUIRE_SERVICES=1` (set by
//! `scripts/test`, so CI never skips it), where it fails.

use std::future::Future;
use std::io::Write;
use std::sync::Arc;

use newsdesk_core::Author;
use newsdesk_store::Store;
use newsdesk_store::postgres::PgStore;
use newsdesk_store::sqlite::SqliteStore;
use sqlx::Connection;

/// The server the tests create their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("NEWSDESK_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

async fn prepare(store: &dyn Store) {
    store.migrate().await.expect("migrate");
    store
        .upsert_author(&Author {
            slug: "amina-rahimova".into(),
            name: "Amina Rahimova".into(),
            bio: String::new(),
        })
        .await
        .expect("author");
}

/// A database of its own on the test server, dropped by `remove`.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    pub async fn create() -> Option<TestDatabase> {
        let admin = postgres_admin_url();
        let mut conn = match sqlx::PgConnection::connect(&admin).await {
            Ok(conn) => conn,
            Err(e) => {
                if std::env::var("NEWSDESK_TEST_REQUIRE_SERVICES").is_ok_and(|v| v == "1") {
                    panic!("PostgreSQL at {admin} is required but unreachable: {e}");
                }
                // Straight to the process's stderr: the test harness would swallow eprintln!.
                let _ = writeln!(
                    std::io::stderr(),
                    "\n*** SKIPPED the PostgreSQL half of a store test: {admin} unreachable ({e}).\n"
                );
                return None;
            }
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let name = format!("newsdesk_test_{}_{nanos}", std::process::id());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        Some(TestDatabase {
            url: format!("{base}/{name}"),
            name,
        })
    }

    pub async fn remove(self) {
        if let Ok(mut conn) = sqlx::PgConnection::connect(&postgres_admin_url()).await {
            let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(drop))
                .execute(&mut conn)
                .await
            {
                eprintln!("could not drop test database {}: {e}", self.name);
            }
        }
    }
}

/// Runs `test` against SQLite, then PostgreSQL; a failure names the backend.
pub async fn each_backend<F, Fut>(test: F)
where
    F: Fn(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite: Arc<dyn Store> =
        Arc::new(SqliteStore::open(dir.path()).await.expect("open sqlite"));
    prepare(&*sqlite).await;
    if let Err(panic) = tokio::spawn(test(sqlite)).await {
        eprintln!("the failure above is on SQLite");
        std::panic::resume_unwind(panic.into_panic());
    }

    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let outcome = async {
        let pg: Arc<dyn Store> = Arc::new(PgStore::connect(&db.url).await.expect("connect"));
        prepare(&*pg).await;
        tokio::spawn(test(pg)).await
    }
    .await;
    db.remove().await;
    if let Err(panic) = outcome {
        eprintln!("the failure above is on PostgreSQL");
        std::panic::resume_unwind(panic.into_panic());
    }
}
