//! YOURLS's API at `/yourls-api.php`: each action in YOURLS's shapes and formats, and its
//! signatures (a kurz key, a derived token, timestamped digests).

use chrono::Utc;
use kurz::domain::{Role, SignatureToken};
use md5::Md5;
use reqwest::Response;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::helpers::{spawn_app_with, Backend, TestApp};

const SECRET: &str = "a-test-secret-of-at-least-32-characters";

async fn spawn(backend: Backend) -> TestApp {
    spawn_app_with(backend, |s| {
        s.auth.allow_anonymous = false;
        s.compat.yourls.secret = SECRET.into();
    })
    .await
}

impl TestApp {
    async fn yourls(&self, params: &[(&str, &str)]) -> Response {
        self.client
            .get(self.url("/yourls-api.php"))
            .query(params)
            .send()
            .await
            .expect("request sent")
    }

    /// A JSON call signed with `signature`; the status and the document.
    async fn yourls_json(&self, signature: &str, params: &[(&str, &str)]) -> (u16, Value) {
        let mut all = vec![("format", "json"), ("signature", signature)];
        all.extend_from_slice(params);
        let response = self.yourls(&all).await;
        let status = response.status().as_u16();
        (status, response.json().await.expect("a JSON answer"))
    }

    /// The id of the API key `key`.
    async fn key_id(&self, key: &str) -> i64 {
        let prefix = &key[..13];
        self.store
            .list_api_keys()
            .await
            .unwrap()
            .into_iter()
            .find(|k| k.prefix == prefix)
            .expect("the key is stored")
            .id
    }
}

async fn actions_answer_in_yourls_shapes(backend: Backend) {
    let app = spawn(backend).await;
    let key = app.api_key(Role::Admin).await;
    let long = "https://example.com/yourls?x=1";

    let (status, created) = app
        .yourls_json(
            &key,
            &[
                ("action", "shorturl"),
                ("url", long),
                ("keyword", "yo"),
                ("title", "Yo"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{created}");
    let short = format!("{}/yo", app.address);
    assert_eq!(created["status"], "success");
    assert_eq!(created["statusCode"], "200");
    assert_eq!(created["shorturl"], short);
    assert_eq!(created["title"], "Yo");
    assert_eq!(created["message"], format!("{long} added to database"));
    assert_eq!(created["url"]["keyword"], "yo");
    assert_eq!(created["url"]["url"], long);
    assert_eq!(created["url"]["ip"], "");
    let date = created["url"]["date"].as_str().unwrap();
    assert!(
        chrono::NaiveDateTime::parse_from_str(date, "%Y-%m-%d %H:%M:%S").is_ok(),
        "{date}"
    );
    // Made through the application layer: the native API shows it.
    let native = app
        .with_key(reqwest::Method::GET, "/api/urls/yo", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(native.status(), 200);

    // The same long URL again: YOURLS's duplicate answer, with the first short URL.
    let (status, again) = app
        .yourls_json(&key, &[("action", "shorturl"), ("url", long)])
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        (again["status"].as_str(), again["code"].as_str()),
        (Some("fail"), Some("error:url"))
    );
    assert_eq!(again["shorturl"], short);
    assert!(again["message"]
        .as_str()
        .unwrap()
        .contains("already exists"));
    let (status, taken) = app
        .yourls_json(
            &key,
            &[
                ("action", "shorturl"),
                ("url", "https://example.com/other"),
                ("keyword", "yo"),
            ],
        )
        .await;
    assert_eq!(
        (status, taken["code"].as_str()),
        (400, Some("error:keyword"))
    );
    let (status, bad) = app
        .yourls_json(&key, &[("action", "shorturl"), ("url", "not a url")])
        .await;
    assert_eq!((status, bad["code"].as_str()), (400, Some("error:nourl")));
    let (status, looped) = app
        .yourls_json(&key, &[("action", "shorturl"), ("url", &short)])
        .await;
    assert_eq!(
        (status, looped["code"].as_str()),
        (400, Some("error:noloop"))
    );
    let (status, generated) = app
        .yourls_json(
            &key,
            &[("action", "shorturl"), ("url", "https://example.com/g")],
        )
        .await;
    assert_eq!(status, 200);
    let generated_keyword = generated["url"]["keyword"].as_str().unwrap().to_owned();

    for given in ["yo", short.as_str()] {
        let (status, expanded) = app
            .yourls_json(&key, &[("action", "expand"), ("shorturl", given)])
            .await;
        assert_eq!(status, 200);
        assert_eq!(expanded["longurl"], long);
        assert_eq!(expanded["keyword"], "yo");
        assert_eq!(expanded["message"], "success");
    }
    let (status, missing) = app
        .yourls_json(&key, &[("action", "expand"), ("shorturl", "nope")])
        .await;
    assert_eq!((status, missing["errorCode"].as_str()), (404, Some("404")));
    assert_eq!(missing["message"], "Error: short URL not found");

    app.follow("yo").await;
    app.follow("yo").await;
    app.wait_for_visits(2).await;
    let (status, link) = app
        .yourls_json(&key, &[("action", "url-stats"), ("shorturl", "yo")])
        .await;
    assert_eq!(status, 200);
    assert_eq!(link["link"]["clicks"], "2");
    assert_eq!(link["link"]["shorturl"], short);

    let (_, top) = app
        .yourls_json(
            &key,
            &[("action", "stats"), ("filter", "top"), ("limit", "1")],
        )
        .await;
    assert_eq!(top["links"]["link_1"]["url"], long);
    assert!(top["links"].get("link_2").is_none());
    assert_eq!(top["stats"]["total_links"], 2);
    assert_eq!(top["stats"]["total_clicks"], 2);
    let (_, last) = app
        .yourls_json(
            &key,
            &[("action", "stats"), ("filter", "last"), ("limit", "5")],
        )
        .await;
    assert_eq!(
        last["links"]["link_1"]["keyword"],
        generated_keyword.as_str()
    );
    assert_eq!(last["links"]["link_2"]["keyword"], "yo");
    let (_, bottom) = app
        .yourls_json(
            &key,
            &[
                ("action", "stats"),
                ("filter", "bottom"),
                ("limit", "1"),
                ("start", "1"),
            ],
        )
        .await;
    assert_eq!(
        bottom["links"]["link_1"]["keyword"], "yo",
        "start skips the least clicked"
    );
    let (status, db) = app.yourls_json(&key, &[("action", "db-stats")]).await;
    assert_eq!(status, 200);
    assert_eq!(db["db-stats"]["total_links"], 2);
    assert_eq!(db["db-stats"]["total_clicks"], 2);
    let (_, version) = app
        .yourls_json(&key, &[("action", "version"), ("db", "1")])
        .await;
    assert_eq!(
        (version["version"].as_str(), version["db_version"].as_str()),
        (Some("1.10.4"), Some("507"))
    );
    let (status, unknown) = app.yourls_json(&key, &[("action", "delete")]).await;
    assert_eq!(status, 400);
    assert_eq!(
        unknown["message"],
        "Unknown or missing \"action\" parameter"
    );
}

async fn every_format_and_post_bodies_answer(backend: Backend) {
    let app = spawn(backend).await;
    let key = app.api_key(Role::Admin).await;
    let created = app
        .client
        .post(app.url("/yourls-api.php"))
        .form(&[
            ("action", "shorturl"),
            ("signature", key.as_str()),
            ("url", "https://example.com/a&b"),
            ("keyword", "fmt"),
            ("format", "simple"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    assert!(created.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    assert_eq!(
        created.text().await.unwrap(),
        format!("{}/fmt", app.address)
    );

    // XML is the default.
    let xml = app
        .yourls(&[
            ("action", "expand"),
            ("shorturl", "fmt"),
            ("signature", &key),
        ])
        .await;
    assert_eq!(xml.status(), 200);
    assert_eq!(xml.headers()["content-type"], "application/xml");
    let text = xml.text().await.unwrap();
    assert!(
        text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<root>"),
        "{text}"
    );
    assert!(
        text.contains("<longurl>https://example.com/a&amp;b</longurl>"),
        "{text}"
    );
    assert!(text.contains("<statusCode>200</statusCode>"), "{text}");

    let jsonp = app
        .yourls(&[
            ("action", "version"),
            ("signature", &key),
            ("format", "jsonp"),
            ("callback", "cb.done"),
        ])
        .await;
    assert_eq!(jsonp.headers()["content-type"], "application/javascript");
    let text = jsonp.text().await.unwrap();
    assert!(
        text.starts_with("cb.done({") && text.ends_with("})"),
        "{text}"
    );
    let refused = app
        .yourls(&[
            ("action", "version"),
            ("signature", &key),
            ("format", "jsonp"),
            ("callback", "alert(1)"),
        ])
        .await;
    assert_eq!(refused.status(), 400);

    let simple = app
        .yourls(&[
            ("action", "version"),
            ("signature", &key),
            ("format", "simple"),
        ])
        .await;
    assert_eq!(simple.text().await.unwrap(), "1.10.4");
    let not_found = app
        .yourls(&[
            ("action", "expand"),
            ("shorturl", "gone"),
            ("signature", &key),
            ("format", "simple"),
        ])
        .await;
    assert_eq!(not_found.status(), 404);
    assert_eq!(not_found.text().await.unwrap(), "not found");
    // Errors keep the format asked for.
    let xml_error = app.yourls(&[("action", "version")]).await;
    assert_eq!(xml_error.status(), 403);
    assert!(xml_error
        .text()
        .await
        .unwrap()
        .contains("<message>Please log in</message>"));
}

fn hex_md5(input: &str) -> String {
    format!("{:x}", Md5::digest(input.as_bytes()))
}

fn hex_sha256(input: &str) -> String {
    format!("{:x}", Sha256::digest(input.as_bytes()))
}

async fn signatures_are_checked_as_yourls_checks_them(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.api_key(Role::Admin).await;
    let token = SignatureToken::derive(SECRET.as_bytes(), app.key_id(&admin).await);
    let token = token.as_str();
    let version = [("action", "version")];

    let refused = |(status, body): (u16, Value)| {
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["message"], "Please log in");
        assert_eq!(body["errorCode"], "403");
    };
    refused(app.yourls_json("", &version).await);
    refused(
        app.yourls_json("kurz_notakeyatall0000000000000000000000000", &version)
            .await,
    );
    refused(
        app.yourls_json("0123456789abcdef0123456789abcdef", &version)
            .await,
    );
    assert_eq!(app.yourls_json(&admin, &version).await.0, 200);
    assert_eq!(app.yourls_json(token, &version).await.0, 200);
    // kurz's own headers work too, without a signature.
    let headers = app
        .client
        .get(app.url("/yourls-api.php?action=version&format=json"))
        .header("X-Api-Key", &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(headers.status(), 200);

    let now = Utc::now().timestamp().to_string();
    let app_ref = &app;
    let timed = move |signature: String, hash: Option<&'static str>, time: String| async move {
        let mut params = vec![("action", "version"), ("timestamp", time.as_str())];
        if let Some(hash) = hash {
            params.push(("hash", hash));
        }
        app_ref.yourls_json(&signature, &params).await.0
    };
    assert_eq!(
        timed(hex_sha256(&format!("{now}{token}")), None, now.clone()).await,
        200
    );
    assert_eq!(
        timed(
            hex_sha256(&format!("{token}{now}")),
            Some("sha256"),
            now.clone()
        )
        .await,
        200
    );
    assert_eq!(
        timed(hex_md5(&format!("{now}{token}")), Some("md5"), now.clone()).await,
        200
    );
    assert_eq!(
        timed(hex_md5(&format!("{now}{token}")), None, now.clone()).await,
        403,
        "sha256 unless named"
    );
    assert_eq!(
        timed(hex_sha256(&format!("{now}{admin}")), None, now.clone()).await,
        403,
        "never over a whole key"
    );
    let old = (Utc::now().timestamp() - 43_201).to_string();
    assert_eq!(
        timed(hex_sha256(&format!("{old}{token}")), None, old).await,
        403,
        "outside the skew"
    );
    assert_eq!(
        timed(hex_sha256(&format!("x{token}")), None, "x".into()).await,
        403
    );

    // Roles: a viewer reads but does not create; an editor's stats count its own links.
    let viewer = app.api_key(Role::Viewer).await;
    let (status, _) = app
        .yourls_json(
            &viewer,
            &[("action", "shorturl"), ("url", "https://example.com/v")],
        )
        .await;
    assert_eq!(status, 403);
    let editor = app.api_key(Role::Editor).await;
    app.yourls_json(
        &admin,
        &[("action", "shorturl"), ("url", "https://example.com/admin")],
    )
    .await;
    let (status, mine) = app
        .yourls_json(
            &editor,
            &[("action", "shorturl"), ("url", "https://example.com/admin")],
        )
        .await;
    assert_eq!(
        status, 200,
        "an editor's duplicates are among its own links: {mine}"
    );
    let (_, stats) = app.yourls_json(&editor, &[("action", "db-stats")]).await;
    assert_eq!(stats["db-stats"]["total_links"], 1);

    // A revoked key's token goes with it.
    let id = app.key_id(&admin).await;
    app.store.revoke_api_key(id).await.unwrap();
    refused(app.yourls_json(token, &version).await);
}

async fn the_api_can_be_turned_off(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.compat.yourls.enabled = false).await;
    let response = app
        .yourls(&[("action", "version"), ("format", "json")])
        .await;
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
}

crate::on_both_backends!(
    actions_answer_in_yourls_shapes,
    every_format_and_post_bodies_answer,
    signatures_are_checked_as_yourls_checks_them,
    the_api_can_be_turned_off,
);
