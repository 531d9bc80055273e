//! `GET /{slug}/qr`: the short link as a QR code, read back with a real decoder (`zbarimg` from
//! zbar-tools; an SVG is rasterised by `rsvg-convert` from librsvg2-bin first). Both tools are
//! installed by `scripts/test.sh`; without them these tests fail, they never skip.

use std::path::Path;
use std::process::Command;

use chrono::{Duration, SecondsFormat, Utc};
use reqwest::{Method, Response};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, spawn_app_with, Backend, TestApp};

/// Runs a tool on a file; panics with its output unless it succeeds.
fn run(program: &str, args: &[&Path]) -> String {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|error| {
            panic!("{program} did not start ({error}); scripts/test.sh installs it")
        });
    assert!(
        output.status.success(),
        "{program} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// What `zbarimg` reads in an image (PNG or SVG).
fn decode(image: &[u8], svg: bool) -> String {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let png = dir.path().join("code.png");
    if svg {
        let source = dir.path().join("code.svg");
        std::fs::write(&source, image).expect("SVG written");
        run("rsvg-convert", &[Path::new("-o"), &png, &source]);
    } else {
        std::fs::write(&png, image).expect("PNG written");
    }
    run("zbarimg", &[Path::new("--quiet"), Path::new("--raw"), &png])
        .trim_end()
        .to_owned()
}

async fn qr(app: &TestApp, path: &str) -> Response {
    app.get(path).await
}

/// `GET path` with one request header.
async fn qr_with(app: &TestApp, path: &str, name: &str, value: &str) -> Response {
    app.client
        .get(app.url(path))
        .header(name, value)
        .send()
        .await
        .expect("request sent")
}

async fn ok_image(app: &TestApp, path: &str, content_type: &str) -> Vec<u8> {
    let response = qr(app, path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    assert_eq!(response.headers()["content-type"], content_type);
    response.bytes().await.expect("image bytes").to_vec()
}

/// The resource carries `qr_url`, and every format and option reads back as the short URL.
async fn codes_decode_to_the_short_url(backend: Backend) {
    let app = spawn_app(backend).await;
    let link = app.new_url("https://example.com/qr").await;
    let slug = link["slug"].as_str().unwrap();
    let short_url = link["short_url"].as_str().unwrap();
    assert_eq!(link["qr_url"], format!("{short_url}/qr"));
    let fetched: Value = app.json(&format!("/api/urls/{slug}")).await;
    assert_eq!(fetched["qr_url"], link["qr_url"]);

    let png = ok_image(&app, &format!("/{slug}/qr"), "image/png").await;
    assert!(png.starts_with(b"\x89PNG"));
    assert_eq!(decode(&png, false), short_url);

    let svg = ok_image(&app, &format!("/{slug}/qr?format=svg"), "image/svg+xml").await;
    let text = String::from_utf8(svg.clone()).expect("SVG is text");
    assert!(text.contains(r#"width="300" height="300""#), "{text}");
    assert_eq!(decode(&svg, true), short_url);

    let options = "size=64&margin=1&ec=H&color=%23123456&background=%23FFEEDD";
    for (format, content_type) in [("png", "image/png"), ("svg", "image/svg+xml")] {
        let path = format!("/{slug}/qr?format={format}&{options}");
        let image = ok_image(&app, &path, content_type).await;
        assert_eq!(decode(&image, format == "svg"), short_url, "{path}");
    }
    let large = ok_image(&app, &format!("/{slug}/qr?size=2000&ec=L"), "image/png").await;
    assert_eq!(decode(&large, false), short_url);
    assert_ne!(large, png);
}

/// No link, or one before its `valid_since`: 404 like the redirect. An expired link still
/// has its code (it holds only the short URL), and so does a protected one.
async fn unknown_and_not_yet_valid_links_have_no_code(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_problem(qr(&app, "/nosuchlink/qr").await, 404).await;
    let soon = (Utc::now() + Duration::hours(1)).to_rfc3339_opts(SecondsFormat::Micros, true);
    let response = app
        .create_url(
            json!({ "url": "https://example.com/soon", "slug": "soon", "valid_since": soon }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let problem = assert_problem(qr(&app, "/soon/qr").await, 404).await;
    assert_eq!(problem["code"], "not_found");
    let page = qr_with(&app, "/soon/qr", "accept", "text/html").await;
    assert_eq!(page.status(), 404);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));

    let past = (Utc::now() - Duration::hours(1)).to_rfc3339_opts(SecondsFormat::Micros, true);
    let response = app
        .create_url(
            json!({ "url": "https://example.com/over", "slug": "over", "valid_until": past }),
        )
        .await;
    assert_eq!(response.status(), 201);
    assert_eq!(qr(&app, "/over/qr").await.status(), 200);
    let response = app
        .create_url(json!({ "url": "https://example.com/secret", "slug": "secret", "password": "open sesame" }))
        .await;
    assert_eq!(response.status(), 201);
    let code = ok_image(&app, "/secret/qr", "image/png").await;
    assert_eq!(decode(&code, false), app.url("/secret"));
}

/// Each bad parameter is a 422 naming it; a bad parameter is refused before the slug is looked
/// up.
async fn bad_parameters_are_named(backend: Backend) {
    let app = spawn_app(backend).await;
    let slug = app.new_slug("https://example.com/params").await;
    for (query, field) in [
        ("format=gif", "format"),
        ("size=49", "size"),
        ("size=2001", "size"),
        ("size=big", "size"),
        ("size=-1", "size"),
        ("margin=21", "margin"),
        ("margin=-1", "margin"),
        ("ec=X", "ec"),
        ("ec=m", "ec"),
        ("color=000000", "color"),
        ("color=%23abc", "color"),
        ("color=red", "color"),
        ("background=%2300000g", "background"),
        ("background=", "background"),
        ("format=png&format=svg", "format"),
        ("colour=%23000000", "colour"),
    ] {
        let problem = assert_problem(qr(&app, &format!("/{slug}/qr?{query}")).await, 422).await;
        assert_eq!(problem["code"], "validation_failed", "{query}");
        assert_eq!(problem["errors"][0]["field"], field, "{query}: {problem}");
    }
    assert_problem(qr(&app, "/nosuchlink/qr?size=1").await, 422).await;
}

/// A strong `ETag` from the image's bytes: a 304 for it, another tag for other options.
async fn etags_answer_not_modified(backend: Backend) {
    let app = spawn_app(backend).await;
    let slug = app.new_slug("https://example.com/etag").await;
    let path = format!("/{slug}/qr?format=svg");
    let first = qr(&app, &path).await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["cache-control"], "public, max-age=86400");
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"') && !etag.starts_with("W/"));
    assert_eq!(qr(&app, &path).await.headers()["etag"], etag.as_str());

    let again = qr_with(&app, &path, "if-none-match", &etag).await;
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"], etag.as_str());
    assert!(again.bytes().await.unwrap().is_empty());

    let other = qr(&app, &format!("/{slug}/qr?format=svg&ec=H")).await;
    assert_ne!(other.headers()["etag"], etag.as_str());
    let stale = qr_with(&app, &format!("/{slug}/qr"), "if-none-match", &etag).await;
    assert_eq!(stale.status(), 200, "the PNG's tag is not the SVG's");
    let head = app.request(Method::HEAD, &path).await;
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["etag"], etag.as_str());
}

/// Fetching codes records no visit: after codes and one click, the link has one visit.
async fn fetching_a_code_is_not_a_visit(backend: Backend) {
    let app = spawn_app(backend).await;
    let slug = app.new_slug("https://example.com/novisit").await;
    for query in ["", "?format=svg", "?size=100"] {
        assert_eq!(qr(&app, &format!("/{slug}/qr{query}")).await.status(), 200);
    }
    assert_eq!(app.follow(&slug).await.status(), 302);
    app.wait_for_visits(1).await;
    let link = app.json(&format!("/api/urls/{slug}")).await;
    assert_eq!(link["visit_count"], 1);
}

/// Unknown slugs count towards the not-found rate limit, the same one as the redirect's.
async fn unknown_codes_are_rate_limited(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.rate_limit.enabled = true;
        s.rate_limit.not_found_per_minute = 3;
    })
    .await;
    let slug = app.new_slug("https://example.com/limited").await;
    assert_eq!(qr(&app, "/missing/qr").await.status(), 404);
    assert_eq!(app.follow("missing").await.status(), 404);
    assert_eq!(qr(&app, "/missing2/qr").await.status(), 404);
    let limited = qr(&app, "/missing3/qr").await;
    assert!(limited.headers().contains_key("retry-after"));
    assert_problem(limited, 429).await;
    // Codes of existing links are still drawn: only not-found answers count.
    assert_eq!(qr(&app, &format!("/{slug}/qr")).await.status(), 200);
}

crate::on_both_backends!(
    codes_decode_to_the_short_url,
    unknown_and_not_yet_valid_links_have_no_code,
    bad_parameters_are_named,
    etags_answer_not_modified,
    fetching_a_code_is_not_a_visit,
    unknown_codes_are_rate_limited,
);
