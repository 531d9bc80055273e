//! Shlink's published JS SDK (`@shlinkio/shlink-js-sdk`, tests/compat/shlink-sdk/run.mjs)
//! against a live kurz, on both backends: create, list, get, edit, tags, visits, redirect
//! rules, domains and deletion, each answer checked by the script against Shlink's contract.
//! The SDK comes from scripts/compat-fixtures.sh (scripts/test.sh runs it); without it this
//! test fails.

use std::path::PathBuf;

use kurz::domain::Role;

use crate::helpers::{spawn_locked_app, Backend};

/// The script, in the copy scripts/compat-fixtures.sh installs the SDK beside.
fn script() -> PathBuf {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/compat/shlink-sdk/run.mjs");
    let sdk = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/compat/shlink-sdk/node_modules/@shlinkio/shlink-js-sdk");
    assert!(
        script.exists() && sdk.exists(),
        "{} or the SDK beside it is missing: the Shlink SDK test needs what \
         scripts/compat-fixtures.sh installs (scripts/test.sh runs it; it needs node and npm)",
        script.display()
    );
    script
}

async fn the_shlink_sdk_runs_every_call(backend: Backend) {
    let script = script();
    let app = spawn_locked_app(backend).await;
    let admin = app.api_key(Role::Admin).await;
    let viewer = app.api_key(Role::Viewer).await;
    let address = app.address.clone();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(script)
            .env("KURZ_URL", address)
            .env("KURZ_KEY", admin)
            .env("KURZ_VIEWER_KEY", viewer)
            .output()
    })
    .await
    .unwrap()
    .expect("node runs (scripts/compat-fixtures.sh checks that it is there)");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "the Shlink SDK failed:\n{printed}");
    assert!(
        printed.contains("all Shlink SDK checks passed"),
        "{printed}"
    );
}

crate::on_both_backends!(the_shlink_sdk_runs_every_call);
