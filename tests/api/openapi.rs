//! The OpenAPI document at `/api/openapi.json`. Routes are registered with their operations
//! (`utoipa_axum::routes!`), so a route cannot be undocumented; what is left to check:
//!
//! - the whole document is snapshotted (`tests/api/snapshots/`): any change to it shows in
//!   review as a diff of the snapshot (`cargo insta review`, or `INSTA_UPDATE=always`);
//! - the document alone: unique operation ids, declared tags, path parameters, security, and
//!   problem documents for every error;
//! - every documented operation is called on a live server with the documented parameters (an
//!   example value for each) and an example body that satisfies the documented schema, and must
//!   answer a documented success status (never 404 or 405) with the documented content type,
//!   headers and body schema (checked with the `jsonschema` crate; objects may only have
//!   documented properties);
//! - each operation is then called wrongly (unknown slug, unknown query parameter, bodies that
//!   are not JSON, not parseable or of the wrong shape, a missing CSRF token, a method the path
//!   does not have), and every answer must be a documented status with its documented content
//!   type: problem documents for errors, with `Allow` listing exactly the documented methods
//!   for a 405;
//! - a link with a password answers its `GET`, `HEAD` and `POST`s with documented statuses;
//! - on a server without anonymous use, every operation that declares the API key schemes
//!   answers a documented 401 without a key, and a documented 403 to a key whose role does not
//!   allow it (a viewer changing, an editor touching another key's link).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Days, Utc};
#[cfg(feature = "explorer")]
use reqwest::header::COOKIE;
use reqwest::header::{HeaderMap, ACCEPT, ALLOW, CONTENT_TYPE, USER_AGENT};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{json, Value};

use kurz::domain::Role;

use crate::helpers::{spawn_app_with, spawn_locked_app, Backend, TestApp};

/// The document as the code builds it (without `servers`, which names the running server):
/// compared with `snapshots/api__openapi__openapi.snap`.
#[test]
fn document_snapshot() {
    let document = serde_json::to_value(kurz::http::router::document()).expect("JSON");
    check_document(&document);
    insta::assert_json_snapshot!("openapi", document);
}

/// Request bodies by operation id; each must satisfy the documented request schema.
fn example_body(operation_id: &str) -> Option<Value> {
    match operation_id {
        "create_url" => Some(json!({
            "url": "https://example.com/created-by-the-openapi-test",
            "title": "Created by the OpenAPI drift test",
            "crawlable": true
        })),
        "update_url" => Some(json!({ "title": "Renamed by the OpenAPI drift test" })),
        "rename_tag" => Some(json!({ "name": "openapi-renamed" })),
        "create_webhook" => Some(json!({
            "url": "https://hooks.example.com/openapi", "events": ["link.created"]
        })),
        "update_webhook" => Some(json!({ "events": ["link.created", "visit"] })),
        // The probe link has no password: any password answers its redirect.
        "unlock_short_link" => Some(json!({ "password": "open sesame" })),
        _ => None,
    }
}

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0";
const HTTP_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

// ---------------------------------------------------------------------------------------------
// The document

/// One documented operation.
struct Operation {
    method: Method,
    path: String,
    id: String,
    spec: Value,
}

impl Operation {
    fn label(&self) -> String {
        format!("{} {} ({})", self.method, self.path, self.id)
    }

    /// Another shortener's API (tag `*-compat`): it answers in that API's own shapes and
    /// statuses, checked by its own tests (tests/api/yourls.rs) and by schemathesis against
    /// this document, not by the live probes below, which expect kurz's conventions.
    fn is_compat(&self) -> bool {
        self.spec["tags"].as_array().is_some_and(|tags| {
            tags.iter()
                .any(|t| t.as_str().is_some_and(|t| t.ends_with("-compat")))
        })
    }

    fn parameters(&self, location: &str) -> Vec<&Value> {
        self.spec["parameters"]
            .as_array()
            .map(|all| all.iter().filter(|p| p["in"] == location).collect())
            .unwrap_or_default()
    }

    /// The documented response for `status`, a shared one (`components/responses`) resolved.
    fn response<'a>(&'a self, document: &'a Value, status: &str) -> &'a Value {
        resolve(document, &self.spec["responses"][status])
    }

    fn documented_statuses(&self) -> Vec<String> {
        self.spec["responses"]
            .as_object()
            .map(|r| r.keys().cloned().collect())
            .unwrap_or_default()
    }
}

fn operations(document: &Value) -> Vec<Operation> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, spec) in item.as_object().expect("a path item") {
            if !HTTP_METHODS.contains(&method.as_str()) {
                continue;
            }
            found.push(Operation {
                method: method.to_ascii_uppercase().parse().expect("a method"),
                path: path.clone(),
                id: spec["operationId"]
                    .as_str()
                    .expect("an operationId")
                    .to_owned(),
                spec: spec.clone(),
            });
        }
    }
    found
}

/// Checks of the document alone: version, unique ids, known tags, path parameters, security and
/// problem documents for every error.
fn check_document(document: &Value) {
    assert_eq!(document["openapi"], "3.1.0");
    every_reference_resolves(document, document, "#");
    assert_eq!(document["info"]["title"], "kurz");
    assert_eq!(document["info"]["version"], env!("CARGO_PKG_VERSION"));
    let tags: BTreeSet<&str> = document["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .map(|t| t["name"].as_str().expect("a tag name"))
        .collect();
    for name in ["urls", "visits", "stats", "redirects", "health"] {
        assert!(tags.contains(name), "tag {name} is missing");
    }

    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["type"], "http");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["api_key"]["type"], "apiKey");
    assert_eq!(schemes["api_key"]["in"], "header");
    assert_eq!(schemes["api_key"]["name"], "X-Api-Key");

    let operations = operations(document);
    let mut ids = BTreeSet::new();
    for op in &operations {
        let label = op.label();
        assert!(ids.insert(op.id.clone()), "operationId {} repeats", op.id);
        let op_tags = op.spec["tags"].as_array().expect("tags of an operation");
        assert!(
            !op_tags.is_empty() && op_tags.iter().all(|t| tags.contains(t.as_str().unwrap())),
            "{label}: tags {op_tags:?} are not all declared"
        );
        // Another shortener's API answers in that API's own shapes.
        let compat = op.is_compat();
        // Every `{name}` of the template is a required path parameter, and nothing else is.
        let in_template: BTreeSet<&str> = op
            .path
            .split('{')
            .skip(1)
            .map(|rest| rest.split('}').next().unwrap())
            .collect();
        let documented: BTreeSet<&str> = op
            .parameters("path")
            .iter()
            .map(|p| {
                assert_eq!(p["required"], true, "{label}: path parameters are required");
                p["name"].as_str().unwrap()
            })
            .collect();
        assert_eq!(in_template, documented, "{label}: path parameters");
        // The resources need a key; the index documents of `/api` and the site do not.
        let public = !["/api/urls", "/api/visits", "/api/tags", "/api/webhooks"]
            .iter()
            .any(|resource| op.path.starts_with(resource));
        if public {
            assert!(
                op.spec.get("security").is_none(),
                "{label}: public, no security"
            );
        } else if op.path.ends_with("/live") {
            // Browsers' EventSource and WebSocket send no headers: the streams also take the
            // key as `access_token`, and only they do.
            assert_eq!(
                op.spec["security"],
                json!([{ "bearer": [] }, { "api_key": [] }, { "access_token": [] }]),
                "{label}: declares the header schemes and the query token"
            );
        } else {
            assert_eq!(
                op.spec["security"],
                json!([{ "bearer": [] }, { "api_key": [] }]),
                "{label}: declares both API key schemes"
            );
            assert!(
                op.response(document, "401")["headers"]
                    .get("WWW-Authenticate")
                    .is_some(),
                "{label}: documents 401 with WWW-Authenticate"
            );
        }
        if let Some(body) = op.spec.get("requestBody") {
            let content = body["content"].as_object().expect("request content");
            // The password of a protected link comes from kurz's own HTML form too.
            let expected: &[&str] = if op.id == "unlock_short_link" {
                &["application/json", "application/x-www-form-urlencoded"]
            } else if op.id == "yourls_api_post" {
                &["application/x-www-form-urlencoded"]
            } else {
                &["application/json"]
            };
            assert_eq!(
                content.keys().collect::<Vec<_>>(),
                expected,
                "{label}: request bodies are JSON"
            );
        }
        for status in op.documented_statuses() {
            let response = op.response(document, &status);
            let code: u16 = status.parse().expect("explicit status codes only");
            if code < 400 || op.method == Method::HEAD {
                continue;
            }
            // Shlink's 501 (`mercure-not-configured`) is one of its problem documents too.
            if compat && (code < 500 || code == 501) {
                assert!(
                    response["content"]
                        .as_object()
                        .is_some_and(|c| !c.is_empty()),
                    "{label}: {status} documents what it answers"
                );
                continue;
            }
            let problem = &response["content"]["application/problem+json"]["schema"]["$ref"];
            assert_eq!(
                problem, "#/components/schemas/Problem",
                "{label}: {status} must be documented as application/problem+json with Problem"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// JSON Schema checks (the `jsonschema` crate), with one addition: objects may only have
// documented properties.

/// `value` itself, or what its local `$ref` (`#/components/...`) points to.
/// Every `$ref` anywhere in the document names a part of it (a schema used only as a query
/// parameter's type is easily left out of the components, and clients then skip it).
fn every_reference_resolves(document: &Value, value: &Value, at: &str) {
    match value {
        Value::Object(map) => {
            if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
                let pointer = reference.strip_prefix('#').unwrap_or(reference);
                assert!(
                    document.pointer(pointer).is_some(),
                    "{at}: {reference} is not in the document"
                );
            }
            for (key, inner) in map {
                every_reference_resolves(document, inner, &format!("{at}/{key}"));
            }
        }
        Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                every_reference_resolves(document, inner, &format!("{at}/{i}"));
            }
        }
        _ => {}
    }
}

fn resolve<'a>(document: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str() {
        Some(reference) => {
            let pointer = reference
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("unsupported $ref {reference}"));
            let target = document
                .pointer(pointer)
                .unwrap_or_else(|| panic!("{reference} is not in the document"));
            resolve(document, target)
        }
        None => value,
    }
}

/// Every object schema that lists its properties gets `additionalProperties: false`, so an
/// undocumented property in an answer fails.
fn closed(mut schema: Value) -> Value {
    fn close(value: &mut Value) {
        match value {
            Value::Object(map) => {
                if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                    map.insert("additionalProperties".into(), Value::Bool(false));
                }
                map.values_mut().for_each(close);
            }
            Value::Array(items) => items.iter_mut().for_each(close),
            _ => {}
        }
    }
    close(&mut schema);
    schema
}

/// Errors of `value` against `schema`, a schema of `document` whose `$ref`s point into it.
fn validate(document: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    // The document is the root resource, so `#/components/schemas/...` resolves; the schema
    // under test is reached from its root by `$ref`. Its other members are no JSON Schema
    // keywords and are ignored.
    let mut root = closed(document.clone());
    root["x-under-test"] = closed(schema.clone());
    root["$ref"] = json!("#/x-under-test");
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("{at}: the schema does not compile: {e}"));
    validator
        .iter_errors(value)
        .map(|e| format!("{at}{}: {e}", e.instance_path()))
        .collect()
}

/// The first event of an event stream as the schema describes one (`event`, `data`): the
/// fields of its lines up to the first blank line, comments skipped.
fn first_event(body: &str) -> Value {
    let mut event = serde_json::Map::new();
    let mut data = Vec::new();
    for line in body.lines().take_while(|line| !line.is_empty()) {
        if line.starts_with(':') {
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "data" => data.push(value),
            other => {
                event.insert(other.to_owned(), json!(value));
            }
        }
    }
    event.insert("data".into(), json!(data.join("\n")));
    Value::Object(event)
}

// ---------------------------------------------------------------------------------------------
// Checking answers

fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Asserts that `response` is documented for `op`: its status, content type, headers and body.
/// Returns the status and the JSON body, if any.
async fn check_answer(
    document: &Value,
    op: &Operation,
    what: &str,
    response: Response,
) -> (u16, Value) {
    let label = format!("{} [{what}]", op.label());
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = body_of(response).await;
    let documented = op.response(document, &status.to_string());
    assert!(
        !documented.is_null(),
        "{label}: answered {status}, which is not documented (documented: {:?}); body: {}",
        op.documented_statuses(),
        String::from_utf8_lossy(&body)
    );
    for name in documented["headers"]
        .as_object()
        .into_iter()
        .flat_map(|h| h.keys())
    {
        assert!(
            headers.contains_key(name.as_str()),
            "{label}: {status} is documented with a {name} header, the answer has none"
        );
    }
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(essence);
    let mut json = Value::Null;
    match documented["content"].as_object() {
        None => {
            if op.method != Method::HEAD {
                assert!(
                    body.is_empty(),
                    "{label}: {status} is documented without a body, the answer has {} bytes \
                     ({content_type:?})",
                    body.len()
                );
            }
        }
        Some(content) => {
            let content_type = content_type
                .unwrap_or_else(|| panic!("{label}: {status} answered without a Content-Type"));
            let media = content
                .iter()
                .find(|(documented_type, _)| essence(documented_type) == content_type)
                .map(|(_, media)| media)
                .unwrap_or_else(|| {
                    panic!(
                        "{label}: {status} answered {content_type}, documented: {:?}",
                        content.keys().collect::<Vec<_>>()
                    )
                });
            if status >= 400 {
                assert!(
                    content_type == "application/problem+json" || content_type == "text/html",
                    "{label}: an error answered {content_type}"
                );
            }
            if op.method != Method::HEAD {
                if content_type == "application/json" || content_type.ends_with("+json") {
                    json = serde_json::from_slice(&body)
                        .unwrap_or_else(|e| panic!("{label}: {status} body is not JSON: {e}"));
                    let errors = validate(document, &media["schema"], &json, "body");
                    assert!(
                        errors.is_empty(),
                        "{label}: the {status} body does not match its schema:\n{}\n{json}",
                        errors.join("\n")
                    );
                } else if media["schema"]["format"] != "binary" {
                    let text = std::str::from_utf8(&body)
                        .unwrap_or_else(|_| panic!("{label}: {content_type} body is not text"));
                    if content_type == "text/event-stream" {
                        check_event(document, &media["schema"], text, &label);
                    }
                }
            }
        }
    }
    (status, json)
}

/// The first event of a stream against the schema of one event, and its `data` against the
/// `contentSchema` that schema names.
fn check_event(document: &Value, schema: &Value, body: &str, label: &str) {
    let event = first_event(body);
    let errors = validate(document, schema, &event, "event");
    assert!(errors.is_empty(), "{label}: {errors:?}\n{event}");
    let content_schema = &resolve(document, schema)["properties"]["data"]["contentSchema"];
    assert!(
        !content_schema.is_null(),
        "{label}: the event's data names its schema"
    );
    let data: Value = serde_json::from_str(event["data"].as_str().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{label}: the event's data is not JSON: {e}"));
    let errors = validate(document, content_schema, &data, "event data");
    assert!(errors.is_empty(), "{label}: {errors:?}\n{data}");
}

/// The body; of an event stream, which never ends, only the first event.
async fn body_of(mut response: Response) -> axum::body::Bytes {
    let is_stream = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| essence(v) == "text/event-stream");
    if !is_stream {
        return response.bytes().await.expect("a body");
    }
    let mut body = Vec::new();
    let deadline = std::time::Duration::from_secs(10);
    while !body.windows(2).any(|w| w == b"\n\n") {
        let chunk = tokio::time::timeout(deadline, response.chunk())
            .await
            .expect("the first event within 10 s")
            .expect("a chunk")
            .expect("the stream goes on");
        body.extend_from_slice(&chunk);
    }
    body.into()
}

// ---------------------------------------------------------------------------------------------
// The live server

/// What the requests fill in: the slugs, and example values of query parameters.
struct Examples {
    slug: String,
    doomed: String,
    query: BTreeMap<&'static str, String>,
}

impl Examples {
    fn path(&self, op: &Operation, slug: Option<&str>) -> String {
        let slug = slug.unwrap_or(if op.method == Method::DELETE {
            &self.doomed
        } else {
            &self.slug
        });
        // The tag operations: the probe link carries all three tags; PATCH renames one and
        // DELETE deletes another, so the other operations still find theirs.
        let tag = match (slug, &op.method) {
            (slug, _) if slug != self.slug && slug != self.doomed => slug,
            (_, &Method::DELETE) => "openapi-doomed",
            (_, &Method::PATCH) => "openapi-old",
            _ => "openapi",
        };
        // The webhooks: the first is read and changed, the second deleted.
        let webhook = if op.method == Method::DELETE {
            "2"
        } else {
            "1"
        };
        op.path
            .replace("{slug}", slug)
            .replace("{name}", tag)
            .replace("{id}", webhook)
    }

    /// A value for every documented query parameter (but `cursor`, which needs a page first).
    fn query(&self, op: &Operation) -> Vec<(String, String)> {
        op.parameters("query")
            .into_iter()
            .filter_map(|p| {
                let name = p["name"].as_str().unwrap();
                if name == "cursor" {
                    return None;
                }
                let value = self.query.get(name).unwrap_or_else(|| {
                    panic!(
                        "{}: no example value for the query parameter `{name}`; add one to \
                         the examples in tests/api/openapi.rs",
                        op.label()
                    )
                });
                Some((name.to_owned(), value.clone()))
            })
            .collect()
    }
}

fn request(app: &TestApp, op: &Operation, path: &str) -> RequestBuilder {
    app.client.request(op.method.clone(), app.url(path))
}

/// The request that must succeed: documented parameters, and the example body, which must
/// satisfy the documented schema.
fn valid_request(
    app: &TestApp,
    document: &Value,
    op: &Operation,
    examples: &Examples,
) -> RequestBuilder {
    let mut builder = request(app, op, &examples.path(op, None)).query(&examples.query(op));
    if let Some(body) = op.spec.get("requestBody") {
        let example = example_body(&op.id).unwrap_or_else(|| {
            panic!("{}: no example body; add one to example_body()", op.label())
        });
        let schema = &body["content"]["application/json"]["schema"];
        let errors = validate(document, schema, &example, "example body");
        assert!(errors.is_empty(), "{}: {errors:?}", op.label());
        builder = builder.json(&example);
    }
    builder
}

async fn send(builder: RequestBuilder) -> Response {
    builder.send().await.expect("request sent")
}

async fn fetch_document(app: &TestApp) -> Value {
    let response = app.get("/api/openapi.json").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
    let document: Value = response.json().await.expect("the document is JSON");
    assert_eq!(document["servers"][0]["url"], app.address);
    document
}

async fn click(app: &TestApp, slug: &str) {
    let response = send(
        app.client
            .get(app.url(&format!("/{slug}")))
            .header(USER_AGENT, FIREFOX)
            // Located in Germany by the geolocation test file (when the server believes it).
            .header("x-forwarded-for", "203.0.113.7"),
    )
    .await;
    assert_eq!(response.status(), 302);
}

async fn document_matches_the_live_server(backend: Backend) {
    // With a geolocation file, so that the visits have a location and `country` finds them;
    // deliveries are attempted below, by hand: no deliverer.
    let app = spawn_app_with(backend, |s| {
        s.server.trusted_proxies = vec!["127.0.0.0/8".to_string().try_into().unwrap()];
        s.geo.database = crate::geo::fixture("city.mmdb").display().to_string();
        s.webhooks.deliver = false;
    })
    .await;
    let document = fetch_document(&app).await;
    check_document(&document);
    for _ in 0..2 {
        let response = app
            .send_json(
                Method::POST,
                "/api/webhooks",
                &json!({"url": "https://hooks.example.com/", "events": ["link.created"]}),
            )
            .await;
        assert_eq!(response.status(), 201);
    }

    let slug = "openapi-probe".to_owned();
    let doomed = "openapi-doomed".to_owned();
    for (slug, crawlable) in [(&slug, true), (&doomed, false)] {
        let tags = ["openapi", "openapi-old", "openapi-doomed"];
        let response = app
            .create_url(json!({
                "url": "https://example.com/", "slug": slug, "crawlable": crawlable, "tags": tags
            }))
            .await;
        assert_eq!(response.status(), 201);
    }
    click(&app, &slug).await;
    click(&app, &slug).await;
    app.wait_for_visits(2).await;
    // Attempts at the first webhook's deliveries, for its list of attempts.
    let lease = std::time::Duration::from_secs(60);
    for delivery in app.store.claim_deliveries(10, lease, &[]).await.unwrap() {
        let attempt = kurz::store::NewAttempt {
            attempted_at: Utc::now(),
            status_code: Some(500),
            duration: std::time::Duration::from_millis(5),
            error: Some("answered 500".into()),
        };
        let outcome = kurz::store::DeliveryOutcome::Retry(Utc::now());
        app.store
            .record_attempt(&delivery, &attempt, outcome)
            .await
            .unwrap();
    }
    // An orphan visit, for the orphan list's example to show.
    let response = send(
        app.client
            .get(app.url("/openapi-missing"))
            .header(USER_AGENT, FIREFOX),
    )
    .await;
    assert_eq!(response.status(), 404);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while app.json("/api/visits/orphan").await["items"] == json!([]) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the orphan visit is stored"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    let today = Utc::now().date_naive();
    let examples = Examples {
        query: BTreeMap::from([
            ("limit", "1".to_owned()),
            ("q", "openapi".to_owned()),
            ("url", slug.clone()),
            ("from", (today - Days::new(6)).to_string()),
            ("to", today.to_string()),
            ("bot", "false".to_owned()),
            ("country", "DE".to_owned()),
            ("bots", "true".to_owned()),
            ("type", "invalid_slug".to_owned()),
            ("active", "true".to_owned()),
            ("top", "5".to_owned()),
            ("tag", "openapi".to_owned()),
            ("tags", "any".to_owned()),
            ("format", "png".to_owned()),
            ("size", "120".to_owned()),
            ("margin", "2".to_owned()),
            ("ec", "Q".to_owned()),
            ("color", "#102030".to_owned()),
            ("background", "#fffff0".to_owned()),
            // A presented key is always checked, even with anonymous use on.
            ("access_token", app.api_key(Role::Admin).await),
        ]),
        slug,
        doomed,
    };

    let operations: Vec<Operation> = operations(&document)
        .into_iter()
        .filter(|op| !op.is_compat())
        .collect();
    for op in &operations {
        // (a) the documented request succeeds, as documented.
        let response = send(valid_request(&app, &document, op, &examples)).await;
        let (status, body) = check_answer(&document, op, "documented request", response).await;
        assert!(
            (200..400).contains(&status),
            "{}: the documented request answered {status}: the route is not served as documented",
            op.label()
        );
        if let Some(items) = body.get("items") {
            assert!(
                !items.as_array().unwrap().is_empty(),
                "{}: the example request found nothing to check the item schema against",
                op.label()
            );
        }
        // The cursor of a page leads to the next one.
        if let Some(cursor) = body["next_cursor"].as_str() {
            assert!(
                !op.parameters("query").is_empty(),
                "{}: a page without query parameters",
                op.label()
            );
            let mut query = examples.query(op);
            query.push(("cursor".into(), cursor.to_owned()));
            let response = request(&app, op, &examples.path(op, None))
                .query(&query)
                .send()
                .await
                .expect("request sent");
            let (status, _) = check_answer(&document, op, "next page", response).await;
            assert_eq!(status, 200, "{}: the next page", op.label());
        }
        probe_errors(&app, &document, op, &examples).await;
    }

    probe_methods(&app, &operations, &examples).await;
    probe_password_protected(&app, &document, &operations).await;
    probe_other_settings(backend, &document, &operations).await;
    probe_access_control(backend, &document, &operations).await;
}

/// Without anonymous use: no key is a documented 401 for every secured operation; a viewer's
/// change and an editor's touch of an admin's link are documented 403s.
async fn probe_access_control(backend: Backend, document: &Value, operations: &[Operation]) {
    let app = spawn_locked_app(backend).await;
    let admin = app.api_key(Role::Admin).await;
    let editor = app.api_key(Role::Editor).await;
    let viewer = app.api_key(Role::Viewer).await;
    let (slug, doomed) = (
        "openapi-locked".to_owned(),
        "openapi-locked-doomed".to_owned(),
    );
    for slug in [&slug, &doomed] {
        let response = app
            .client
            .post(app.url("/api/urls"))
            .bearer_auth(&admin)
            .json(&json!({ "url": "https://example.com/", "slug": slug }))
            .send()
            .await
            .expect("request sent");
        assert_eq!(response.status(), 201);
    }
    let examples = Examples {
        query: BTreeMap::from([
            ("limit", "1".to_owned()),
            ("q", "openapi".to_owned()),
            ("url", slug.clone()),
            ("bot", "false".to_owned()),
            ("country", "DE".to_owned()),
            ("bots", "true".to_owned()),
            ("type", "invalid_slug".to_owned()),
            ("active", "true".to_owned()),
            ("top", "5".to_owned()),
            ("tag", "openapi".to_owned()),
            ("tags", "any".to_owned()),
            ("from", Utc::now().date_naive().to_string()),
            ("to", Utc::now().date_naive().to_string()),
            // Empty: no key in the query, so the header (or its absence) decides.
            ("access_token", String::new()),
        ]),
        slug,
        doomed,
    };
    for op in operations
        .iter()
        .filter(|op| op.spec.get("security").is_some())
    {
        let response = send(valid_request(&app, document, op, &examples)).await;
        let (status, _) = check_answer(document, op, "no API key", response).await;
        assert_eq!(status, 401, "{}: without a key", op.label());

        let unsafe_method = !matches!(op.method, Method::GET | Method::HEAD);
        if unsafe_method {
            let response =
                send(valid_request(&app, document, op, &examples).bearer_auth(&viewer)).await;
            let (status, _) = check_answer(document, op, "a viewer's change", response).await;
            assert_eq!(status, 403, "{}: a viewer's change", op.label());
        }
        let touches_a_link =
            op.path.contains("{slug}") || op.parameters("query").iter().any(|p| p["name"] == "url");
        if touches_a_link {
            let response =
                send(valid_request(&app, document, op, &examples).bearer_auth(&editor)).await;
            let (status, _) =
                check_answer(document, op, "an editor on an admin's link", response).await;
            assert_eq!(status, 403, "{}: an editor on an admin's link", op.label());
        }
    }
}

/// Wrong requests to `op`: each answer must be a documented error with its content type.
async fn probe_errors(app: &TestApp, document: &Value, op: &Operation, examples: &Examples) {
    let path = examples.path(op, None);
    if op.path.contains("{slug}") || op.path.contains("{name}") {
        let unknown = examples.path(op, Some("no-such-slug-openapi"));
        let mut builder = request(app, op, &unknown).query(&examples.query(op));
        if let Some(body) = example_body(&op.id) {
            builder = builder.json(&body);
        }
        let response = send(builder).await;
        let (status, _) = check_answer(document, op, "unknown slug", response).await;
        assert_eq!(status, 404, "{}: an unknown slug", op.label());
        if op.path == "/{slug}" && op.method == Method::GET {
            let response = send(request(app, op, &unknown).header(ACCEPT, "text/html")).await;
            let (status, _) = check_answer(document, op, "unknown slug, HTML", response).await;
            assert_eq!(status, 404);
        }
    }
    if !op.parameters("query").is_empty() {
        let response = send(
            request(app, op, &path)
                .query(&examples.query(op))
                .query(&[("openapi_probe", "1")]),
        )
        .await;
        let (status, _) = check_answer(document, op, "unknown query parameter", response).await;
        assert_eq!(status, 422, "{}: an unknown query parameter", op.label());
    }
    if op.spec.get("requestBody").is_some() {
        let wrong_bodies: [(&str, &str, &str, u16); 3] = [
            ("not JSON", "text/plain", "hello", 415),
            ("unparseable JSON", "application/json", "{", 400),
            (
                "an unknown field",
                "application/json",
                r#"{"openapi_probe": 1}"#,
                422,
            ),
        ];
        for (what, content_type, body, expected) in wrong_bodies {
            let response = send(
                request(app, op, &path)
                    .header(CONTENT_TYPE, content_type)
                    .body(body),
            )
            .await;
            let (status, _) = check_answer(document, op, what, response).await;
            assert_eq!(status, expected, "{}: {what}", op.label());
        }
    }
    // A browser that has seen the explorer must send its CSRF token with unsafe requests.
    #[cfg(feature = "explorer")]
    if op.path.starts_with("/api") && !matches!(op.method, Method::GET | Method::HEAD) {
        let cookie = format!("kurz_csrf={}", "a".repeat(32));
        let response =
            send(valid_request(app, document, op, examples).header(COOKIE, cookie)).await;
        let (status, _) = check_answer(document, op, "no CSRF token", response).await;
        assert_eq!(status, 403, "{}: a missing CSRF token", op.label());
    }
}

/// A method a path does not have is a 405 problem whose `Allow` lists the documented methods.
async fn probe_methods(app: &TestApp, operations: &[Operation], examples: &Examples) {
    let mut by_path: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for op in operations {
        by_path
            .entry(op.path.as_str())
            .or_default()
            .insert(op.method.to_string());
    }
    for (path, mut methods) in by_path {
        if methods.contains("GET") {
            methods.insert("HEAD".into());
        }
        let other = ["PUT", "OPTIONS", "POST", "PATCH", "DELETE"]
            .into_iter()
            .find(|m| !methods.contains(*m))
            .expect("an undocumented method");
        let url = app.url(&path.replace("{slug}", &examples.slug));
        let response = send(app.client.request(other.parse().unwrap(), url)).await;
        let label = format!("{other} {path}");
        assert_eq!(response.status(), 405, "{label}");
        let headers: HeaderMap = response.headers().clone();
        assert_eq!(
            essence(headers[CONTENT_TYPE].to_str().unwrap()),
            "application/problem+json",
            "{label}"
        );
        let allowed: BTreeSet<String> = headers
            .get(ALLOW)
            .unwrap_or_else(|| panic!("{label}: a 405 without Allow"))
            .to_str()
            .unwrap()
            .split(',')
            .map(|m| m.trim().to_ascii_uppercase())
            .filter(|m| !m.is_empty())
            .collect();
        assert_eq!(
            allowed, methods,
            "{label}: the server allows other methods than the documented ones"
        );
    }
}

/// A link with a password: its `GET` and `HEAD` (for browsers and others) and `POST`s with a
/// wrong, a missing and the right password are each a documented answer.
async fn probe_password_protected(app: &TestApp, document: &Value, operations: &[Operation]) {
    let created = app
        .create_url(json!({
            "url": "https://example.com/locked", "slug": "openapi-locked", "password": "pw"
        }))
        .await;
    assert_eq!(created.status(), 201);
    let find = |method: Method| {
        operations
            .iter()
            .find(|op| op.method == method && op.path == "/{slug}")
            .unwrap_or_else(|| panic!("{method} /{{slug}} is not documented"))
    };
    let url = app.url("/openapi-locked");
    let html = "text/html";
    for (method, accept, body, expected) in [
        (Method::GET, html, None, 401),
        (Method::GET, "*/*", None, 401),
        (Method::HEAD, "*/*", None, 401),
        (Method::POST, html, Some(json!({"password": "wrong"})), 401),
        (Method::POST, "*/*", Some(json!({"password": "wrong"})), 401),
        (Method::POST, "*/*", Some(json!({})), 401),
        (Method::POST, html, Some(json!({"password": "pw"})), 303),
    ] {
        let op = find(method.clone());
        let mut request = app.client.request(method, &url).header(ACCEPT, accept);
        if let Some(body) = &body {
            request = request.json(body);
        }
        let what = format!("a protected link, Accept: {accept}, {body:?}");
        let (status, _) = check_answer(document, op, &what, send(request).await).await;
        assert_eq!(status, expected, "{}: {what}", op.label());
    }
}

/// The statuses that only other settings give: `GET /` as a redirect, and a permanent
/// redirect status for short links.
async fn probe_other_settings(backend: Backend, document: &Value, operations: &[Operation]) {
    let app = spawn_app_with(backend, |settings| {
        settings.root.mode = kurz::config::RootMode::Redirect;
        settings.root.redirect_to = "https://www.example.com/".into();
        settings.redirect.status = 301;
    })
    .await;
    let slug = app.new_slug("https://example.com/moved").await;
    let find = |method: Method, path: &str| {
        operations
            .iter()
            .find(|op| op.method == method && op.path == path)
            .unwrap_or_else(|| panic!("{method} {path} is not documented"))
    };
    for (method, path, url, expected) in [
        (Method::GET, "/", "/".to_owned(), 302),
        (Method::GET, "/{slug}", format!("/{slug}"), 301),
        (Method::HEAD, "/{slug}", format!("/{slug}"), 301),
        (Method::HEAD, "/{slug}", "/no-such-slug".to_owned(), 404),
    ] {
        let op = find(method.clone(), path);
        let response = send(app.client.request(method, app.url(&url))).await;
        let (status, _) = check_answer(document, op, "other settings", response).await;
        assert_eq!(status, expected, "{}", op.label());
    }
}

crate::on_sqlite!(document_matches_the_live_server);
