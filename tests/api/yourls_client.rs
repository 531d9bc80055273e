//! The PyPI `yourls` client (tests/compat/yourls/test_client.py) against a live kurz, signed
//! with a key's derived token, on both backends. The client comes from
//! scripts/compat-fixtures.sh (scripts/test.sh runs it); without it this test fails.

use std::path::PathBuf;

use kurz::domain::{Role, SignatureToken};

use crate::helpers::{spawn_app_with, Backend};

const SECRET: &str = "another-test-secret-of-32-or-more-chars";

fn python() -> PathBuf {
    let python = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/compat/venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: the YOURLS client test needs the virtualenv scripts/compat-fixtures.sh \
         makes (scripts/test.sh runs it; it needs python3-venv)",
        python.display()
    );
    python
}

async fn the_pypi_client_runs_every_action(backend: Backend) {
    let python = python();
    let app = spawn_app_with(backend, |s| {
        s.auth.allow_anonymous = false;
        s.compat.yourls.secret = SECRET.into();
    })
    .await;
    let key = app.api_key(Role::Editor).await;
    let id = app
        .store
        .list_api_keys()
        .await
        .unwrap()
        .into_iter()
        .find(|k| key.starts_with(&k.prefix))
        .unwrap()
        .id;
    let token = SignatureToken::derive(SECRET.as_bytes(), id);
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/compat/yourls/test_client.py");
    let (address, token) = (app.address.clone(), token.as_str().to_owned());
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .arg(script)
            .env("KURZ_URL", address)
            .env("KURZ_SIGNATURE", token)
            .output()
    })
    .await
    .unwrap()
    .expect("python runs");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "the YOURLS client failed:\n{printed}"
    );
    assert!(
        printed.contains("all YOURLS client checks passed"),
        "{printed}"
    );
}

crate::on_both_backends!(the_pypi_client_runs_every_action);
