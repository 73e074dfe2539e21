//! The API against its own OpenAPI document: schemathesis (installed by `scripts/test`) reads
//! `/api/openapi.json` from the running server, generates valid and invalid requests for
//! every operation, and checks every answer against the document — status codes, content
//! types, bodies, headers, refusals of bad input, acceptance of good input, and that routes
//! which need a token refuse requests without one.

mod common;

use std::process::Command;

use common::{TestSite, demo_config_text};

#[test]
fn schemathesis_finds_no_failures() {
    let Some(schemathesis) = std::env::var_os("NEWSDESK_TEST_SCHEMATHESIS") else {
        assert!(
            std::env::var_os("NEWSDESK_TEST_REQUIRE_SERVICES").is_none(),
            "scripts/test installs schemathesis and names it in NEWSDESK_TEST_SCHEMATHESIS"
        );
        eprintln!("schemathesis not installed: run the tests with scripts/test");
        return;
    };
    // One address sends every request here: a budget fit for one reader would answer most of
    // them with 429 and test nothing.
    let site = TestSite::start_with(
        demo_config_text(),
        &["--demo"],
        &[("NEWSDESK_API__PER_ADDRESS_PER_MINUTE", "100000")],
    );
    let work = tempfile::tempdir().expect("temp dir");
    let out = Command::new(schemathesis)
        .current_dir(work.path())
        .env("SCHEMATHESIS_HOOKS", "")
        .args([
            "run",
            &site.url("/api/openapi.json"),
            "--max-examples",
            "25",
            "--seed",
            "20261129",
            "--request-timeout",
            "10",
            "--generation-database",
            "none",
            "--no-color",
        ])
        .output()
        .expect("run schemathesis");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "schemathesis found failures:\n{stdout}\n{stderr}\nserver log:\n{}",
        site.log()
    );
    assert!(stdout.contains("passed"), "{stdout}");
}
