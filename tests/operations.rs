//! Operating a site with the real binary: backup of a live site and restore into a new
//! directory, the refusals of restore, a database from a newer newsdesk, and two servers
//! started at once on one data directory.

mod common;
#[path = "support/readers.rs"]
mod readers;
#[path = "support/smtp.rs"]
mod smtp;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{BIN, TestSite, demo_config_text};
use readers::*;
use smtp::SmtpListener;
use sqlx::Connection;

/// Runs a command that must end by itself; a server that keeps running fails the test
/// instead of hanging it.
fn run_to_exit(mut command: Command, limit: Duration) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start newsdesk");
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Ok(Some(_)) = child.try_wait() {
            return child.wait_with_output().expect("output");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let output = child.wait_with_output().expect("output");
    panic!(
        "newsdesk kept running:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn newsdesk(args: &[&str], data_dir: &Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env("NEWSDESK_LOG", "warn");
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn sqlite(path: &Path) -> sqlx::SqliteConnection {
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
    sqlx::SqliteConnection::connect_with(&options)
        .await
        .expect("open the database")
}

#[tokio::test]
async fn a_database_migrated_by_a_newer_newsdesk_is_refused_unless_allowed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let migrated = run_to_exit(newsdesk(&["migrate"], &data), Duration::from_secs(60));
    assert!(migrated.status.success(), "{}", text(&migrated.stderr));
    let mut db = sqlite(&data.join("newsdesk.sqlite3")).await;
    sqlx::query(
        "INSERT INTO schema_migrations (version, name, checksum, applied_at) \
         VALUES (9999, '9999_from_the_future', 'x', 0)",
    )
    .execute(&mut db)
    .await
    .expect("insert");
    db.close().await.expect("close");

    for args in [&["serve", "--listen", "127.0.0.1:0"][..], &["migrate"][..]] {
        let refused = run_to_exit(newsdesk(args, &data), Duration::from_secs(60));
        let stderr = text(&refused.stderr);
        assert!(!refused.status.success(), "{args:?} started: {stderr}");
        assert!(
            stderr.contains("9999_from_the_future") && stderr.contains("newer newsdesk"),
            "{args:?}: {stderr}"
        );
    }

    // The operator's explicit choice serves it, with a warning naming the migration.
    let config = dir.path().join("site.toml");
    std::fs::write(&config, demo_config_text()).expect("config");
    let site = TestSite::start_in(dir, config, &["--allow-newer-schema"], &[]);
    assert_eq!(site.get("/").await.status(), 200);
    assert!(
        site.log().contains("9999_from_the_future"),
        "{}",
        site.log()
    );
}

/// Starts a server and reports, once it has either listened or ended, which it did.
fn start_server(data: &Path) -> (Child, std::sync::mpsc::Receiver<String>) {
    let mut child = newsdesk(&["serve", "--listen", "127.0.0.1:0"], data)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start newsdesk");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("listening on ") {
                let _ = tx.send(line);
            }
        }
    });
    (child, rx)
}

#[test]
fn two_servers_started_at_once_on_one_empty_directory_one_refuses_with_a_sentence() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let mut servers = vec![start_server(&data), start_server(&data)];
    // Exactly one ends, with the sentence; the other serves.
    let started = Instant::now();
    let (loser, stderr) = loop {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "neither server ended"
        );
        let ended = servers
            .iter_mut()
            .position(|(child, _)| matches!(child.try_wait(), Ok(Some(_))));
        if let Some(index) = ended {
            let (mut child, _) = servers.remove(index);
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                use std::io::Read;
                let _ = pipe.read_to_string(&mut stderr);
            }
            break (child.wait().expect("status"), stderr);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (mut winner, listening) = servers.remove(0);
    assert!(!loser.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "another newsdesk is already running on {} (pid {})",
            data.display(),
            winner.id()
        )),
        "{stderr}"
    );
    let line = listening
        .recv_timeout(Duration::from_secs(60))
        .expect("the other server serves");
    assert!(line.starts_with("listening on http://127.0.0.1:"), "{line}");
    assert!(
        matches!(winner.try_wait(), Ok(None)),
        "the first server still runs"
    );
    let _ = winner.kill();
    let _ = winner.wait();

    // The lock ends with its process: a server starts again at once.
    let (mut again, listening) = start_server(&data);
    listening
        .recv_timeout(Duration::from_secs(60))
        .expect("a server starts after the first one ended");
    let _ = again.kill();
    let _ = again.wait();
}

/// One acknowledged comment: its id, its text and when the 303 arrived.
struct Acknowledged {
    id: i64,
    body: String,
    at: Instant,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_readers_comment_restores_every_comment_acknowledged_before_it() {
    let smtp = SmtpListener::start();
    let env = [
        TRUSTED,
        ("NEWSDESK_COMMENTS__PER_READER_PER_MINUTE", "100000"),
        ("NEWSDESK_COMMENTS__PER_ADDRESS_PER_MINUTE", "100000"),
    ];
    let site = Arc::new(start(&smtp, &env));
    let item = lead_id(&site).await;
    let mut cookies = Vec::new();
    for n in 0..6 {
        cookies.push(
            new_reader(
                &site,
                &smtp,
                &format!("writer{n}@example.org"),
                &format!("Writer {n}"),
            )
            .await,
        );
    }

    let stop = AtomicBool::new(false);
    let acknowledged = Mutex::new(Vec::<Acknowledged>::new());
    let count = || acknowledged.lock().map_or(0, |a| a.len());
    // The writers run on this task (a page is not Send), beside the backup's own thread.
    let writers = futures_util::future::join_all(cookies.iter().enumerate().map(|(n, cookie)| {
        let (site, stop, acknowledged) = (&site, &stop, &acknowledged);
        async move {
            let mut k = 0;
            while !stop.load(Ordering::Relaxed) {
                k += 1;
                let body = format!("Reader {n} writes comment number {k} during the backup.");
                let page = comment(site, cookie, item, &body, None).await;
                assert_eq!(page.status, 303, "{}", page.text);
                let at = Instant::now();
                let id = comment_id(&page);
                if let Ok(mut all) = acknowledged.lock() {
                    all.push(Acknowledged { id, body, at });
                }
            }
        }
    }));
    let backup_dir = tempfile::tempdir().expect("temp dir");
    let archive = backup_dir.path().join("site.tar.gz");
    let backup = async {
        let started = Instant::now();
        while count() < 30 {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "readers could not comment"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let backup_started = Instant::now();
        let output = {
            let site = site.clone();
            let archive = archive.clone();
            tokio::task::spawn_blocking(move || {
                site.command(&["backup", "--to", archive.to_str().expect("path")])
            })
            .await
            .expect("backup")
        };
        let backup_ended = Instant::now();
        // The site kept taking comments after the backup too.
        let after = count();
        let started = Instant::now();
        while count() < after + 10 {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "commenting stopped"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        stop.store(true, Ordering::Relaxed);
        (output, backup_started, backup_ended)
    };
    let (_, (output, backup_started, backup_ended)) = tokio::join!(writers, backup);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("backed up to"),
        "{}",
        text(&output.stdout)
    );
    let acknowledged = acknowledged.into_inner().expect("lock");
    let before: Vec<&Acknowledged> = acknowledged
        .iter()
        .filter(|a| a.at < backup_started)
        .collect();
    let after: Vec<&Acknowledged> = acknowledged
        .iter()
        .filter(|a| a.at > backup_ended)
        .collect();
    assert!(before.len() >= 30 && !after.is_empty());

    // Restored into a new directory, refused for a non-empty one.
    let restored = tempfile::tempdir().expect("temp dir");
    let data = restored.path().join("data");
    std::fs::create_dir_all(&data).expect("dir");
    std::fs::write(data.join("notes.txt"), "mine").expect("file");
    let refused = run_to_exit(
        newsdesk(&["restore", archive.to_str().expect("path")], &data),
        Duration::from_secs(60),
    );
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("is not empty (it holds notes.txt)"),
        "{}",
        text(&refused.stderr)
    );
    std::fs::remove_file(data.join("notes.txt")).expect("remove");
    let done = run_to_exit(
        newsdesk(&["restore", archive.to_str().expect("path")], &data),
        Duration::from_secs(60),
    );
    let said = text(&done.stdout);
    assert!(done.status.success(), "{}", text(&done.stderr));
    assert!(
        said.contains("checksums verified") && said.contains("integrity ok"),
        "{said}"
    );
    assert!(
        !data.join("search").exists(),
        "the index is not in the backup"
    );

    // Every comment acknowledged before the backup began is in the restored database.
    let mut db = sqlite(&data.join("newsdesk.sqlite3")).await;
    let stored: std::collections::HashMap<i64, String> =
        sqlx::query_as::<_, (i64, String)>("SELECT id, body FROM comments")
            .fetch_all(&mut db)
            .await
            .expect("comments")
            .into_iter()
            .collect();
    db.close().await.expect("close");
    for a in &before {
        assert_eq!(
            stored.get(&a.id),
            Some(&a.body),
            "comment {} was lost",
            a.id
        );
    }
    // Nothing acknowledged after the backup ended can be in it.
    for a in &after {
        assert!(
            !stored.contains_key(&a.id),
            "comment {} is from after the backup",
            a.id
        );
    }

    // The media came along, byte for byte.
    let mut original = Vec::new();
    let mut copied = Vec::new();
    list(&site.data_dir().join("media"), &mut original);
    list(&data.join("media"), &mut copied);
    assert!(!original.is_empty());
    assert_eq!(original, copied);

    // The restored site serves with its restored configuration, and search works again.
    let config = data.join("site.toml");
    assert_eq!(
        std::fs::read_to_string(&config).expect("config"),
        demo_config_text()
    );
    let smtp_url = smtp.url();
    let again = TestSite::start_in(
        restored,
        config,
        &[],
        &[("NEWSDESK_MAIL__SMTP_URL", &smtp_url)],
    );
    assert!(
        again.log().contains("rebuilt from the database"),
        "{}",
        again.log()
    );
    let lead = again.ok(LEAD).await;
    assert_eq!(lead.status, 200);
    let found = again.ok("/search?q=tidal+barrier").await;
    assert!(found.text.contains(LEAD), "{}", found.text);
    let (first_id, first_body) = (before[0].id, &before[0].body);
    let shown = again.get(&format!("/api/v1/comments/{first_id}")).await;
    assert_eq!(shown.status(), 200);
    assert!(
        shown
            .text()
            .await
            .expect("body")
            .contains(first_body.as_str())
    );
}

/// Files under `dir` with their contents, sorted by path.
fn list(dir: &Path, found: &mut Vec<(String, Vec<u8>)>) {
    fn walk(root: &Path, dir: &Path, found: &mut Vec<(String, Vec<u8>)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, found);
            } else {
                let name = path
                    .strip_prefix(root)
                    .expect("inside")
                    .to_string_lossy()
                    .into_owned();
                found.push((name, std::fs::read(&path).expect("read")));
            }
        }
    }
    walk(dir, dir, found);
    found.sort();
}

#[tokio::test]
async fn restore_refuses_a_directory_in_use_and_a_damaged_archive() {
    let site = TestSite::demo();
    let dir = tempfile::tempdir().expect("temp dir");
    let archive = dir.path().join("site.tar");
    let output = site.command(&["backup", "--to", archive.to_str().expect("path")]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(!dir.path().join("site.partial").exists());

    // Not over a running server, even with --force.
    let in_use = run_to_exit(
        newsdesk(
            &["restore", archive.to_str().expect("path"), "--force"],
            &site.data_dir(),
        ),
        Duration::from_secs(60),
    );
    assert!(!in_use.status.success());
    assert!(
        text(&in_use.stderr).contains("another newsdesk is already running on"),
        "{}",
        text(&in_use.stderr)
    );

    // One byte changed inside the database copy (the archive's first entry, after its
    // 512-byte header) is caught by its checksum, and nothing is restored.
    let mut bytes = std::fs::read(&archive).expect("archive");
    bytes[512 + 4096 + 10] ^= 0x55;
    let damaged = dir.path().join("damaged.tar");
    std::fs::write(&damaged, &bytes).expect("write");
    let target = dir.path().join("target");
    let refused = run_to_exit(
        newsdesk(&["restore", damaged.to_str().expect("path")], &target),
        Duration::from_secs(60),
    );
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("database/newsdesk.sqlite3 does not match its checksum"),
        "{}",
        text(&refused.stderr)
    );
    assert!(!target.join("newsdesk.sqlite3").exists());

    // Something that is not a backup at all.
    let cut = dir.path().join("cut.tar");
    std::fs::write(&cut, &bytes[..1024]).expect("write");
    let refused = run_to_exit(
        newsdesk(&["restore", cut.to_str().expect("path")], &target),
        Duration::from_secs(60),
    );
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("damaged") || text(&refused.stderr).contains("no manifest"),
        "{}",
        text(&refused.stderr)
    );
}
