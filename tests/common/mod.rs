//! The end-to-end harness: starts the real `newsdesk` binary on an ephemeral port with a
//! fresh data directory, and offers the requests and commands a test needs. Each site is
//! stopped (SIGTERM, then kill) when its handle drops.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use scraper::{Html, Selector};
use tempfile::TempDir;

/// The password `desk_token` signs staff in with.
pub const STAFF_PASSWORD: &str = "a staff member's long password";
pub const BIN: &str = env!("CARGO_BIN_EXE_newsdesk");

pub struct TestSite {
    child: Option<Child>,
    pub base: String,
    pub dir: TempDir,
    pub config: PathBuf,
    pub client: reqwest::Client,
    stderr: PathBuf,
    stdout: std::sync::Arc<std::sync::Mutex<String>>,
    /// Environment given to the server, and to every command run for this site.
    env: Vec<(String, String)>,
}

pub struct Page {
    pub status: u16,
    pub html: Html,
    pub text: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Page {
    pub fn select(&self, css: &str) -> Vec<scraper::ElementRef<'_>> {
        let selector = Selector::parse(css).unwrap_or_else(|e| panic!("bad selector {css}: {e}"));
        self.html.select(&selector).collect()
    }

    /// Text of the first element matching `css`, whitespace collapsed.
    pub fn text_of(&self, css: &str) -> String {
        let found = self.select(css);
        let first = found
            .first()
            .unwrap_or_else(|| panic!("nothing matches {css}"));
        collapse(&first.text().collect::<String>())
    }

    pub fn texts(&self, css: &str) -> Vec<String> {
        self.select(css)
            .iter()
            .map(|e| collapse(&e.text().collect::<String>()))
            .collect()
    }

    pub fn attr(&self, css: &str, name: &str) -> String {
        let found = self.select(css);
        let first = found
            .first()
            .unwrap_or_else(|| panic!("nothing matches {css}"));
        first
            .value()
            .attr(name)
            .unwrap_or_else(|| panic!("{css} has no {name}"))
            .to_owned()
    }

    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }
}

/// An HTTP client that does not follow redirects, so tests see every 301 themselves.
/// `name=value` of the cookie a response sets under `name`, if it sets one.
pub fn cookie_from(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

pub fn http_client() -> reqwest::Client {
    // The workspace builds reqwest without a bundled TLS provider; name the one we use.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A client whose requests come from another loopback address (`127.0.0.2`, …), for limits
/// kept per address: the server listens on 127.0.0.1 and sees this one as the peer.
pub fn http_client_from(address: &str) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(address.parse::<std::net::IpAddr>().expect("an address"))
        .build()
        .expect("client")
}

pub fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The demo edition's configuration, written to a file so `import` can share it.
pub fn demo_config_text() -> &'static str {
    newsdesk_core::Config::demo_toml()
}

impl TestSite {
    /// A site with the demo edition loaded.
    pub fn demo() -> Self {
        Self::start_with(demo_config_text(), &["--demo"], &[])
    }

    /// A site with the demo configuration and no content.
    pub fn empty() -> Self {
        Self::start_with(demo_config_text(), &[], &[])
    }

    pub fn start_with(config: &str, extra: &[&str], env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let config_path = dir.path().join("site.toml");
        std::fs::write(&config_path, config).expect("write config");
        Self::start_in(dir, config_path, extra, env)
    }

    pub fn start_in(dir: TempDir, config: PathBuf, extra: &[&str], env: &[(&str, &str)]) -> Self {
        let stderr = dir.path().join("server.log");
        let mut command = Command::new(BIN);
        command
            .arg("serve")
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .arg("--config")
            .arg(&config)
            .arg("--listen")
            .arg("127.0.0.1:0")
            .args(extra)
            .env_remove("NEWSDESK_LOG")
            .env("NEWSDESK_LOG", "warn,newsdesk=info")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).expect("log file"));
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("start newsdesk");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        let printed = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = printed.clone();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            while let Some(Ok(line)) = lines.next() {
                if let Ok(mut all) = sink.lock() {
                    all.push_str(&line);
                    all.push('\n');
                }
                if let Some(url) = line.strip_prefix("listening on ") {
                    let _ = tx.send(url.to_owned());
                }
            }
        });
        let base = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(base) => base,
            Err(_) => {
                let _ = child.kill();
                let log = std::fs::read_to_string(&stderr).unwrap_or_default();
                panic!("newsdesk did not start:\n{log}");
            }
        };
        let client = http_client();
        TestSite {
            child: Some(child),
            base,
            dir,
            config,
            client,
            stderr,
            stdout: printed,
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    /// Polls the server's log until `wanted` shows in it (10 s at most), and returns the log.
    pub async fn log_containing(&self, wanted: &str) -> String {
        let started = Instant::now();
        loop {
            let log = self.log();
            if log.contains(wanted) {
                return log;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the log never showed {wanted:?}:\n{log}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Rows in one table of the site's SQLite database, read beside the running server.
    pub async fn count_rows(&self, table: &str) -> i64 {
        use sqlx::{ConnectOptions, Connection};
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(self.data_dir().join("newsdesk.sqlite3"))
            .read_only(true)
            .connect()
            .await
            .expect("open the database");
        // The table names are the tests' own literals.
        let n = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(&mut conn)
            .await
            .expect("count");
        conn.close().await.expect("close");
        n
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.client.get(self.url(path));
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        request.send().await.expect("request")
    }

    pub async fn page(&self, path: &str) -> Page {
        let response = self.get(path).await;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        Page {
            status,
            html: Html::parse_document(&text),
            text,
            headers,
        }
    }

    /// A page that must answer 200.
    pub async fn ok(&self, path: &str) -> Page {
        let page = self.page(path).await;
        assert_eq!(page.status, 200, "GET {path}:\n{}", page.text);
        page
    }

    /// Runs `newsdesk import` on this site's data directory with a TOML document.
    pub fn import(&self, toml: &str) -> Output {
        let file = self
            .dir
            .path()
            .join(format!("import-{}.toml", rand_suffix()));
        std::fs::write(&file, toml).expect("write import");
        self.command(&["import", file.to_str().expect("utf-8 path")])
    }

    /// Imports and insists that it worked.
    pub fn import_ok(&self, toml: &str) {
        let out = self.import(toml);
        assert!(
            out.status.success(),
            "import failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Adds a staff account through the command line.
    pub fn add_user(&self, email: &str, role: &str, password: &str) {
        let out = Command::new(BIN)
            .args([
                "user",
                "add",
                "--email",
                email,
                "--name",
                "Test Person",
                "--role",
                role,
            ])
            .arg("--data-dir")
            .arg(self.data_dir())
            .arg("--config")
            .arg(&self.config)
            .env("NEWSDESK_USER_PASSWORD", password)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .output()
            .expect("user add");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Signs in over HTTP as the desk's sign-in form does (its token, its cookie) and returns
    /// the session cookie, `nd_session=…`, for requests to desk pages.
    pub async fn desk_cookie(&self, email: &str, password: &str) -> String {
        let form = self.get("/desk/sign-in").await;
        let form_cookie = cookie_from(&form, "nd_form").expect("no nd_form cookie");
        let html = Html::parse_document(&form.text().await.expect("body"));
        let selector = Selector::parse("input[name=csrf]").expect("selector");
        let csrf = html
            .select(&selector)
            .next()
            .and_then(|e| e.value().attr("value"))
            .expect("csrf field")
            .to_owned();
        let signed_in = self
            .client
            .post(self.url("/desk/sign-in"))
            .header("cookie", form_cookie)
            .form(&[
                ("email", email),
                ("password", password),
                ("csrf", csrf.as_str()),
                ("next", "/desk"),
            ])
            .send()
            .await
            .expect("sign in");
        assert_eq!(signed_in.status(), 303, "signing in as {email}");
        cookie_from(&signed_in, "nd_session").expect("no nd_session cookie")
    }

    /// A page requested with a cookie (a desk session).
    pub async fn page_with_cookie(&self, path: &str, cookie: &str) -> Page {
        let response = self.get_with(path, &[("cookie", cookie)]).await;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        Page {
            status,
            html: Html::parse_document(&text),
            text,
            headers,
        }
    }

    /// Makes a token in the desk as `email` (password `STAFF_PASSWORD`) and returns the
    /// status and the secret, read off the page that shows it once.
    pub async fn desk_token(&self, email: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let site = self;
        let cookie = site.desk_cookie(email, STAFF_PASSWORD).await;
        let room = site.page_with_cookie("/desk/tokens", &cookie).await;
        assert_eq!(room.status, 200);
        let csrf = room.attr("form[action='/desk/tokens'] input[name=csrf]", "value");
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        let response = site
            .client
            .post(site.url("/desk/tokens"))
            .header("cookie", &cookie)
            .form(&all)
            .send()
            .await
            .expect("post");
        let status = response.status().as_u16();
        let html = scraper::Html::parse_document(&response.text().await.expect("body"));
        let selector = scraper::Selector::parse("#issued-secret").expect("selector");
        let secret = html
            .select(&selector)
            .next()
            .and_then(|e| e.value().attr("value"))
            .unwrap_or_default()
            .to_owned();
        (status, secret)
    }

    /// Runs a subcommand with this site's data directory and config.
    pub fn command(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .arg("--data-dir")
            .arg(self.data_dir())
            .arg("--config")
            .arg(&self.config)
            .env("NEWSDESK_LOG", "warn")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .output()
            .expect("run newsdesk")
    }

    /// Polls `path` until `check` holds on its page, for at most `limit`.
    pub async fn eventually(
        &self,
        path: &str,
        limit: Duration,
        check: impl Fn(&Page) -> bool,
    ) -> Page {
        let started = Instant::now();
        loop {
            let page = self.page(path).await;
            if check(&page) {
                return page;
            }
            if started.elapsed() > limit {
                panic!("{path} did not change within {limit:?}:\n{}", page.text);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// What the server printed on stdout so far.
    pub fn stdout(&self) -> String {
        self.stdout.lock().map(|s| s.clone()).unwrap_or_default()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Sends SIGTERM and waits for the process to end.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(15) {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        child.wait().ok()
    }

    /// Stops this server and starts another on the same data directory and config.
    /// Kills the server at once (SIGKILL): no shutdown, no flushing, as in a crash.
    pub fn kill_hard(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn restart(mut self, extra: &[&str]) -> Self {
        self.stop();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("temp dir"));
        let config = self.config.clone();
        let env = std::mem::take(&mut self.env);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        TestSite::start_in(dir, config, extra, &env)
    }
}

impl Drop for TestSite {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

/// Where an external test tool is, from the variable `scripts/test` sets; a test that
/// needs it fails (never skips) without it.
pub fn tool(variable: &str) -> PathBuf {
    match std::env::var_os(variable) {
        Some(path) if Path::new(&path).exists() => PathBuf::from(path),
        _ => panic!(
            "{variable} is not set or does not exist: run the tests with `scripts/test`, which installs the tools"
        ),
    }
}

/// A PostgreSQL database of its own for one test, dropped when the test ends. Where no
/// PostgreSQL is reachable the test fails when `NEWSDESK_TEST_REQUIRE_SERVICES=1` (as
/// `scripts/test` sets) and is skipped loudly otherwise.
pub struct PgDatabase {
    pub url: String,
    name: String,
    admin: String,
}

impl PgDatabase {
    pub fn create() -> Option<PgDatabase> {
        use std::io::Write;
        let admin = std::env::var("NEWSDESK_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let name = format!("newsdesk_e2e_{}_{}", std::process::id(), rand_suffix());
        match psql(&admin, &format!("CREATE DATABASE {name}")) {
            Ok(()) => {}
            Err(e) if std::env::var("NEWSDESK_TEST_REQUIRE_SERVICES").is_ok_and(|v| v == "1") => {
                panic!("PostgreSQL at {admin} is required: {e}")
            }
            Err(e) => {
                let _ = writeln!(std::io::stderr(), "\n*** SKIPPED a PostgreSQL test: {e}\n");
                return None;
            }
        }
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        Some(PgDatabase {
            url: format!("{base}/{name}"),
            name,
            admin,
        })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let _ = psql(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// Runs one statement with a throwaway runtime, so it also works from `Drop`.
fn psql(url: &str, statement: &str) -> Result<(), String> {
    use sqlx::Connection;
    let url = url.to_owned();
    let statement = statement.to_owned();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async {
            let mut conn = sqlx::PgConnection::connect(&url)
                .await
                .map_err(|e| format!("{url} unreachable: {e}"))?;
            sqlx::query(sqlx::AssertSqlSafe(statement))
                .execute(&mut conn)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    })
    .join()
    .map_err(|_| "psql thread panicked".to_owned())?
}

/// Runs `newsdesk migrate` twice with `args`: the first run applies the schema (and says
/// so), the second finds nothing to do.
pub fn migrate_twice_applies_once(args: &[&str]) {
    let run = || {
        Command::new(BIN)
            .arg("migrate")
            .args(args)
            .env("NEWSDESK_LOG", "info")
            .output()
            .expect("run newsdesk migrate")
    };
    let first = run();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(String::from_utf8_lossy(&first.stderr).contains("migration applied"));
    assert!(String::from_utf8_lossy(&first.stderr).contains("0001_content"));
    let second = run();
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(!String::from_utf8_lossy(&second.stderr).contains("migration applied"));
}
