//! Links with a password. `GET /{slug}` of one answers 401 with a small form (browsers) or a
//! problem (`password_required`), and records no visit; the form posts the password to the
//! same URL, `POST /{slug}`, answered by [`unlock`] on the full stack: the right password gets
//! the redirect (303, the visit recorded as a GET click's, by
//! `crate::http::redirect::answer_found`), a wrong one the form again (401) and a count
//! against the client and the link (`rate_limit.password_attempts_per_minute`, 429 past it).
//!
//! No CSRF token: the form is served by kurz on the link's own URL and posts back to it, and a
//! post from another site can do no more than the person could do by typing the password (no
//! session is opened: every visit asks again). No script, no external asset: the page's
//! Content-Security-Policy allows its inline style and nothing else. It sets no `form-action`,
//! which browsers also apply to the redirect after the post, off to the link's target.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::app::passwords;
use crate::domain::{Slug, MAX_PASSWORD_BYTES};
use crate::http::api::extract::JsonBody;
use crate::http::api::responses;
use crate::http::error::{ApiError, Problem};
use crate::http::redirect::{answer_found, found, not_found_answer, pass_gate, Asked};
use crate::http::site::accepts_html;
use crate::http::state::AppState;

/// A referrer carried through the form longer than this is dropped.
const MAX_REFERRER_BYTES: usize = 4096;

/// The body of `POST /{slug}`: form-encoded (the form kurz serves) or JSON.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"password": "open sesame"}))]
pub struct PasswordBody {
    /// The link's password, as it was set.
    #[serde(default)]
    #[schema(max_length = 1024)]
    pub password: String,
    /// Where the person came from: the form carries the `Referer` of the `GET` that showed
    /// it, so the visit records the page with the link, not the form.
    #[serde(default)]
    pub referrer: Option<String>,
}

/// What `GET /{slug}` answers for a link with a password: 401 with the form, or a problem.
pub fn ask(slug: &str, headers: &HeaderMap) -> Response {
    if !accepts_html(headers) {
        return no_store(ApiError::PasswordRequired.into_response());
    }
    let referrer = headers
        .get(header::REFERER)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    form_page(StatusCode::UNAUTHORIZED, slug, referrer.as_deref(), None)
}

/// Give the password of a short link.
///
/// For a link with a password (`GET /{slug}` answered 401): the right password answers
/// `303 See Other` to the target and records the visit as a `GET` would; a wrong one answers
/// 401 with the form again (browsers) or a problem (`wrong_password`), and counts against the
/// client and the link: past `rate_limit.password_attempts_per_minute` wrong passwords of
/// either, 429 until the limit lets another attempt through. A link without a password
/// answers 303 to its target whatever was sent. A link outside its validity window, or whose
/// visit cap is reached, answers as its `GET` does; the right password takes a unit of the
/// cap, as a click does.
#[utoipa::path(
    post,
    path = "/{slug}",
    operation_id = "unlock_short_link",
    tag = "redirects",
    params(("slug" = String, Path, description = "The short link's slug (case-sensitive)")),
    request_body(content(
        (PasswordBody = "application/x-www-form-urlencoded"),
        (PasswordBody = "application/json"),
    )),
    responses(
        (status = 303, description = "The right password (or a link without one): to the target, the visit recorded",
            headers(("Location" = String, description = "The target URL"))),
        (status = 401, description = "A wrong or missing password: the form again for clients that accept `text/html`, else a problem (`wrong_password`, or `password_required` when none was sent)",
            content((Problem = "application/problem+json"), (String = "text/html"))),
        (status = 302, description = "The link expired or is exhausted, and `redirect.expired_url` is set: there",
            headers(("Location" = String, description = "`redirect.expired_url`"))),
        (status = 404, description = "No short link has this slug, or its `valid_since` is still ahead",
            content((Problem = "application/problem+json"), (String = "text/html"))),
        (status = 410, description = "The link expired or is exhausted (as `GET /{slug}` answers it), whatever was posted",
            content((Problem = "application/problem+json"), (String = "text/html"))),
        (status = 400, response = responses::BadRequest),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::ValidationFailed),
        (status = 429, description = "Too many wrong passwords from this client or on this link (`rate_limit.password_attempts_per_minute`); retry after `Retry-After` seconds",
            headers(("Retry-After" = u64, description = "Seconds to wait")),
            content((Problem = "application/problem+json"), (String = "text/html"))),
        (status = 500, response = responses::Internal),
        (status = 503, response = responses::Unavailable),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn unlock(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let slug = request
        .uri()
        .path()
        .strip_prefix('/')
        .map(|raw| {
            percent_encoding::percent_decode_str(raw)
                .decode_utf8_lossy()
                .into_owned()
        })
        .unwrap_or_default();
    let headers = request.headers().clone();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(str::to_owned);
    let html = accepts_html(&headers);
    let redirect = match found(&state, &slug).await {
        Ok(Some(redirect)) => redirect,
        Ok(None) => return not_found_answer(&state, peer.ip(), &headers, None),
        Err(error) => return error.into_response(),
    };
    // A link not yet or no longer answering says so, whatever was posted.
    if let Err(answer) = pass_gate(&state, &redirect, peer.ip(), &headers, false, None).await {
        return answer;
    }
    let client = state.client_ip.resolve(peer.ip(), &headers);
    let refused = |error: ApiError| refusal(error, html, &slug);
    if redirect.protected {
        if let Err(limited) = state
            .rate_limits
            .check_password_attempt(client, redirect.url_id)
        {
            return refused(limited);
        }
    }
    let body = match read_body(request, &state).await {
        Ok(body) => body,
        Err(error) => return error.into_response(),
    };
    let asked = Asked {
        peer: peer.ip(),
        headers: &headers,
        query: query.as_deref(),
        path: &path,
        counts: true,
        status: StatusCode::SEE_OTHER,
        referrer: body
            .referrer
            .filter(|r| !r.is_empty() && r.len() <= MAX_REFERRER_BYTES),
    };
    if !redirect.protected {
        return answer_found(&state, redirect, asked).await;
    }
    if body.password.is_empty() {
        return refused(ApiError::PasswordRequired);
    }
    let right = match is_right(&state, &slug, body.password).await {
        Ok(right) => right,
        Err(error) => return error.into_response(),
    };
    if right {
        return answer_found(&state, redirect, asked).await;
    }
    tracing::info!(slug = %slug, "wrong password");
    match state
        .rate_limits
        .count_wrong_password(client, redirect.url_id)
    {
        Ok(()) => refused(ApiError::WrongPassword),
        Err(limited) => refused(limited),
    }
}

/// Whether `password` is the link's. The hash is read only now: the cache holds what every
/// click needs, and no more. A password removed a moment ago lets anything through.
async fn is_right(state: &AppState, slug: &str, password: String) -> Result<bool, ApiError> {
    let Some(slug) = Slug::for_lookup(slug) else {
        return Err(ApiError::not_found("no short link with this slug"));
    };
    match state.store.get_url(&slug).await?.password_hash {
        None => Ok(true),
        Some(_) if password.len() > MAX_PASSWORD_BYTES => Ok(false),
        Some(hash) => Ok(passwords::verify(hash, password).await?),
    }
}

/// The posted form or JSON; anything else is a 415.
async fn read_body(request: Request, state: &AppState) -> Result<PasswordBody, ApiError> {
    let mime = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if mime.as_deref() != Some("application/x-www-form-urlencoded") {
        let JsonBody(body) = JsonBody::<PasswordBody>::from_request(request, state)
            .await
            .map_err(|error| match error {
                ApiError::UnsupportedMediaType(_) => ApiError::UnsupportedMediaType(
                    "send the password form-encoded or as JSON".into(),
                ),
                other => other,
            })?;
        return Ok(body);
    }
    let bytes = Bytes::from_request(request, state)
        .await
        .map_err(|rejection| match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
            _ => ApiError::BadRequest(format!("could not read the body: {rejection}")),
        })?;
    serde_html_form::from_bytes(&bytes)
        .map_err(|error| ApiError::BadRequest(format!("the form could not be read: {error}")))
}

/// A refused attempt as the client takes it: the form with what went wrong, or the problem.
fn refusal(error: ApiError, html: bool, slug: &str) -> Response {
    if !html {
        return no_store(error.into_response());
    }
    let message = match &error {
        ApiError::WrongPassword => "Wrong password. Try again.".to_owned(),
        ApiError::TooManyRequests { retry_after_secs } => format!(
            "Too many wrong passwords. Try again in {retry_after_secs} second{}.",
            if *retry_after_secs == 1 { "" } else { "s" }
        ),
        _ => "Enter the password.".to_owned(),
    };
    let mut response = form_page(error.status(), slug, None, Some(&message));
    if let ApiError::TooManyRequests { retry_after_secs } = error {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    }
    response
}

/// Never kept by a browser or a proxy: the answer depends on the password.
fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The form: one labelled password field, the slug named, the referrer carried along, and an
/// error when there is one. Self-contained (inline style only).
fn form_page(
    status: StatusCode,
    slug: &str,
    referrer: Option<&str>,
    error: Option<&str>,
) -> Response {
    let slug = escape(slug);
    let referrer = referrer
        .filter(|r| r.len() <= MAX_REFERRER_BYTES)
        .map(|r| {
            format!(
                "<input type=\"hidden\" name=\"referrer\" value=\"{}\">",
                escape(r)
            )
        })
        .unwrap_or_default();
    let error = error
        .map(|e| {
            format!(
                "<p id=\"error\" class=\"error\" role=\"alert\">{}</p>",
                escape(e)
            )
        })
        .unwrap_or_default();
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\">\
         <title>Password required: /{slug}</title><style>{STYLE}</style></head><body><main>\
         <h1>Password required</h1>\
         <p>The short link <strong>/{slug}</strong> asks for a password.</p>\
         <form method=\"post\">{error}\
         <label for=\"password\">Password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" required autofocus \
         autocomplete=\"current-password\" maxlength=\"{MAX_PASSWORD_BYTES}\">{referrer}\
         <button type=\"submit\">Continue</button></form></main></body></html>"
    );
    let mut response = (status, Html(page)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; \
             frame-ancestors 'none'",
        ),
    );
    headers.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;margin:0;display:grid;\
    place-items:center;min-height:100vh;background:#f6f6f4;color:#222}\
    main{background:#fff;padding:2em;border-radius:8px;box-shadow:0 1px 4px #0002;\
    max-width:22em;width:90%}h1{font-size:1.3em;margin-top:0}\
    label{display:block;font-weight:600;margin:1em 0 .3em}\
    input{box-sizing:border-box;width:100%;padding:.5em;font:inherit}\
    button{margin-top:1em;padding:.5em 1.2em;font:inherit;cursor:pointer}\
    .error{color:#a40000;font-weight:600}";

/// Text for HTML text and attribute values.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[tokio::test]
    async fn the_form_carries_the_referrer_and_nothing_external() {
        let response = form_page(
            StatusCode::UNAUTHORIZED,
            "team",
            Some("https://example.org/?a=1&b=\"2\""),
            Some("Wrong password. Try again."),
        );
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        let csp = response.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(csp.starts_with("default-src 'none'"), "{csp}");
        assert!(!csp.contains("form-action"), "{csp}");
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let page = String::from_utf8(body.to_vec()).unwrap();
        assert!(page.contains("<form method=\"post\">"), "{page}");
        assert!(page.contains("<label for=\"password\">"), "{page}");
        assert!(page.contains("/team"), "{page}");
        assert!(
            page.contains("value=\"https://example.org/?a=1&amp;b=&quot;2&quot;\""),
            "{page}"
        );
        assert!(page.contains("Wrong password."), "{page}");
        for external in ["src=", "href=", "<script"] {
            assert!(!page.contains(external), "{external} in {page}");
        }
    }
}
