//! The API against its own OpenAPI document: schemathesis (installed by `scripts/test`) reads
//! `/api/openapi.json` from the running server, generates valid and invalid requests for
//! every operation, and checks every answer against the document — status codes, content
//! types, bodies, headers, refusals of bad input, acceptance of good input, and that routes
//! which need a token refuse requests without one. It runs three times: as a stranger, with an
//! editor's staff token, and with a reader's token, so every operation is reached by a caller
//! it serves. `tests/schemathesis.toml` says which refusals count as accepting valid data, and
//! bounds the live stream (endless by design) by time, so its events are checked too.

mod common;
#[path = "support/readers.rs"]
mod readers;
#[path = "support/smtp.rs"]
mod smtp;

use std::path::PathBuf;
use std::process::Command;

use common::{STAFF_PASSWORD, TestSite};
use serde_json::{Value, json};
use smtp::SmtpListener;

fn schemathesis(site: &TestSite, token: Option<&str>) -> Result<(), String> {
    let Some(program) = std::env::var_os("NEWSDESK_TEST_SCHEMATHESIS") else {
        return Err("no schemathesis".into());
    };
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/schemathesis.toml");
    let work = tempfile::tempdir().expect("temp dir");
    let mut command = Command::new(program);
    command
        .current_dir(work.path())
        .arg("--config-file")
        .arg(&config)
        .args([
            "run",
            &site.url("/api/openapi.json"),
            "--max-examples",
            "25",
            "--seed",
            "20261129",
            "--generation-database",
            "none",
            "--no-color",
        ]);
    if let Some(token) = token {
        command.args(["-H", &format!("Authorization: Bearer {token}")]);
    }
    let out = command.output().expect("run schemathesis");
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.success() && stdout.contains("passed") {
        Ok(())
    } else {
        Err(format!(
            "{stdout}\n{}\nserver log:\n{}",
            String::from_utf8_lossy(&out.stderr),
            site.log()
        ))
    }
}

#[tokio::test]
async fn schemathesis_finds_no_failures() {
    if std::env::var_os("NEWSDESK_TEST_SCHEMATHESIS").is_none() {
        assert!(
            std::env::var_os("NEWSDESK_TEST_REQUIRE_SERVICES").is_none(),
            "scripts/test installs schemathesis and names it in NEWSDESK_TEST_SCHEMATHESIS"
        );
        eprintln!("schemathesis not installed: run the tests with scripts/test");
        return;
    }
    let smtp = SmtpListener::start();
    // One address and one token send every request here: a budget fit for one app would
    // answer most of them with 429 and test nothing.
    let site = readers::start(
        &smtp,
        &[
            readers::TRUSTED,
            ("NEWSDESK_API__PER_ADDRESS_PER_MINUTE", "100000"),
            ("NEWSDESK_API__PER_TOKEN_PER_MINUTE", "100000"),
        ],
    );
    site.add_user("editor@example.org", "editor", STAFF_PASSWORD);
    let (status, staff) = site
        .desk_token(
            "editor@example.org",
            &[
                ("kind", "staff"),
                ("name", "contract run"),
                ("role", "editor"),
            ],
        )
        .await;
    assert_eq!(status, 201);
    readers::new_reader(&site, &smtp, "mira@example.org", "Mira").await;
    let signed: Value = site
        .client
        .post(site.url("/api/v1/auth/sign-in"))
        .json(&json!({"email": "mira@example.org", "password": readers::PASSWORD}))
        .send()
        .await
        .expect("sign in")
        .json()
        .await
        .expect("json");
    let reader = signed["token"].as_str().expect("token").to_owned();
    // Blocking runs of a child process; the site answers from its own process meanwhile.
    let outcome = tokio::task::spawn_blocking(move || {
        let site = site;
        let mut failures = Vec::new();
        for (who, token) in [
            ("a stranger", None),
            ("an editor", Some(staff.as_str())),
            ("a reader", Some(reader.as_str())),
        ] {
            if let Err(report) = schemathesis(&site, token) {
                failures.push(format!("as {who}:\n{report}"));
            }
        }
        failures
    })
    .await
    .expect("runs");
    assert!(
        outcome.is_empty(),
        "schemathesis found failures:\n{}",
        outcome.join("\n\n")
    );
}
