//! Shlink's published JS SDK (`@shlinkio/shlink-js-sdk`, tests/compat/shlink-sdk/run.mjs)
//! against a live kurz, on both backends: create, list, get, edit, tags, visits, redirect
//! rules, domains and deletion, each answer checked by the script against Shlink's contract.
//! The SDK comes from scripts/compat-fixtures.sh (scripts/test.sh runs it); without it this
//! test fails.

use std::path::PathBuf;

use kurz::domain::Role;

use kurz::config::Settings;

use crate::helpers::{spawn_app_with, Backend};

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

/// Runs the script against a kurz that requires keys, adjusted by `configure`.
async fn run_the_sdk(backend: Backend, configure: impl FnOnce(&mut Settings)) {
    let script = script();
    let app = spawn_app_with(backend, |s| {
        s.auth.allow_anonymous = false;
        configure(s);
    })
    .await;
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

async fn the_shlink_sdk_runs_every_call(backend: Backend) {
    run_the_sdk(backend, |_| {}).await;
}

/// The same with every page after the first read through the list's page index (the first
/// 1 000 rows are read with OFFSET by default, so the script's lists never reach it).
async fn the_shlink_sdk_pages_through_the_page_index(backend: Backend) {
    run_the_sdk(backend, |s| s.compat.shlink.offset_rows = 0).await;
}

crate::on_both_backends!(
    the_shlink_sdk_runs_every_call,
    the_shlink_sdk_pages_through_the_page_index
);
