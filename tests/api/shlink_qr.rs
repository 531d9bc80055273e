//! Shlink 4's `GET /{shortCode}/qr-code`: Shlink's parameters and defaults drawn by kurz's QR
//! code route, read back with a real decoder (`zbarimg`; SVG rasterised by `rsvg-convert`,
//! both installed by `scripts/test.sh`); values Shlink would clamp or ignore never answer 4xx.

use std::path::Path;
use std::process::Command;

use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with, Backend, TestApp};

/// What `zbarimg` reads in an image (PNG or SVG).
fn decode(image: &[u8], svg: bool) -> String {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let png = dir.path().join("code.png");
    let run = |program: &str, args: &[&Path]| {
        let output = Command::new(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| {
                panic!("{program} did not start ({e}); scripts/test.sh installs it")
            });
        assert!(
            output.status.success(),
            "{program}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("UTF-8 output")
    };
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

async fn image(app: &TestApp, path: &str, content_type: &str) -> Vec<u8> {
    let response = app.get(path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    assert_eq!(response.headers()["content-type"], content_type, "{path}");
    response.bytes().await.expect("image bytes").to_vec()
}

/// A PNG's width (its IHDR chunk, after the signature).
fn png_width(png: &[u8]) -> u32 {
    assert!(png.starts_with(b"\x89PNG"));
    u32::from_be_bytes(png[16..20].try_into().unwrap())
}

async fn shlink_parameters_draw_the_short_url(backend: Backend) {
    let app = spawn_app(backend).await;
    let link = app
        .create_url(json!({"url": "https://example.com/qr", "slug": "coded"}))
        .await;
    assert_eq!(link.status(), 201);
    let short_url = format!("{}/coded", app.address);

    // Shlink's defaults: 300 pixels, PNG, error correction L, no margin.
    let default = image(&app, "/coded/qr-code", "image/png").await;
    assert_eq!(png_width(&default), 300);
    assert_eq!(decode(&default, false), short_url);
    let same = image(&app, "/coded/qr?size=300&margin=0&ec=L", "image/png").await;
    assert_eq!(default, same, "drawn as kurz's route draws those options");

    let sized = image(&app, "/coded/qr-code?size=640&margin=4", "image/png").await;
    assert_eq!(png_width(&sized), 640);
    assert_eq!(decode(&sized, false), short_url);

    let svg = image(
        &app,
        "/coded/qr-code?format=SVG&size=400&margin=2&errorCorrection=h&color=102030&bgColor=%23fed",
        "image/svg+xml",
    )
    .await;
    let text = String::from_utf8(svg.clone()).unwrap();
    assert!(text.contains(r#"width="400" height="400""#), "{text}");
    assert!(
        text.contains("#102030") && text.contains("#ffeedd"),
        "{text}"
    );
    assert_eq!(decode(&svg, true), short_url);
    let same = image(
        &app,
        "/coded/qr?format=svg&size=400&margin=2&ec=H&color=%23102030&background=%23ffeedd",
        "image/svg+xml",
    )
    .await;
    assert_eq!(svg, same);

    for level in ["l", "m", "q", "h", "M"] {
        let code = image(
            &app,
            &format!("/coded/qr-code?errorCorrection={level}&margin=4"),
            "image/png",
        )
        .await;
        assert_eq!(decode(&code, false), short_url, "{level}");
    }
}

async fn invalid_values_fall_back_instead_of_refusing(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_url(json!({"url": "https://example.com/qr", "slug": "lenient"}))
        .await;
    let short_url = format!("{}/lenient", app.address);
    // Each is what Shlink draws for it: clamped, cast or defaulted.
    for (shlink, kurz) in [
        ("size=10", "size=50&margin=0&ec=L"),
        ("size=5000", "size=2000&margin=0&ec=L"),
        ("size=abc", "size=50&margin=0&ec=L"),
        ("margin=-4&size=300", "margin=0&ec=L"),
        ("margin=99", "margin=20&ec=L"),
        ("margin=two", "margin=0&ec=L"),
        ("format=gif", "margin=0&ec=L"),
        ("errorCorrection=z", "margin=0&ec=L"),
        ("color=red&bgColor=%23zzzzzz", "margin=0&ec=L"),
        (
            "roundBlockSize=false&logo=disable&unknown=1",
            "margin=0&ec=L",
        ),
    ] {
        let drawn = image(&app, &format!("/lenient/qr-code?{shlink}"), "image/png").await;
        let expected = image(&app, &format!("/lenient/qr?{kurz}"), "image/png").await;
        assert_eq!(drawn, expected, "{shlink}");
    }
    let big = image(&app, "/lenient/qr-code?size=5000&margin=4", "image/png").await;
    assert_eq!(png_width(&big), 2000);
    assert_eq!(decode(&big, false), short_url);
    // kurz's own route still refuses what it does not take.
    assert_eq!(app.get("/lenient/qr?size=10").await.status(), 422);
}

async fn no_link_no_code_and_off_with_the_shlink_api(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_eq!(app.get("/missing/qr-code").await.status(), 404);
    let off = spawn_app_with(backend, |s| s.compat.shlink.enabled = false).await;
    off.create_url(json!({"url": "https://example.com/qr", "slug": "here"}))
        .await;
    assert_eq!(off.get("/here/qr-code").await.status(), 404);
    assert_eq!(off.get("/here/qr").await.status(), 200);
}

crate::on_sqlite!(
    shlink_parameters_draw_the_short_url,
    invalid_values_fall_back_instead_of_refusing,
    no_link_no_code_and_off_with_the_shlink_api,
);
