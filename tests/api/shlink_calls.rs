//! What the tests of Shlink's routes beyond the short URL resource share: a call of
//! `/rest/v3/...` with a key, Shlink's problem documents, clicks with a user agent.

use reqwest::{Method, Response};
use serde_json::Value;

use crate::helpers::TestApp;

pub const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
pub const GOOGLEBOT: &str =
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

/// `method /rest/v3{path}` with `X-Api-Key: key` and a JSON body.
pub async fn rest(
    app: &TestApp,
    method: Method,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> Response {
    let mut request = app
        .client
        .request(method, app.url(&format!("/rest/v3{path}")))
        .header("X-Api-Key", key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.expect("request sent")
}

/// `GET /rest/v3{path}` that must answer 200 with JSON.
pub async fn rest_json(app: &TestApp, path: &str, key: &str) -> Value {
    let response = rest(app, Method::GET, path, key, None).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.expect("JSON body")
}

/// A Shlink problem document of `status` and `code` (the end of its `type`; empty for kurz's
/// own `about:blank` ones).
pub async fn shlink_problem(response: Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = response.json().await.unwrap();
    let kind = if code.is_empty() {
        "about:blank".to_owned()
    } else {
        format!("https://shlink.io/api/error/{code}")
    };
    assert_eq!(body["type"], kind, "{body}");
    assert_eq!(body["status"], status);
    body
}

/// Clicks `/{path}` with this user agent; the status.
pub async fn click(app: &TestApp, path: &str, user_agent: &str) -> u16 {
    app.client
        .get(app.url(&format!("/{path}")))
        .header("user-agent", user_agent)
        .send()
        .await
        .expect("request sent")
        .status()
        .as_u16()
}
