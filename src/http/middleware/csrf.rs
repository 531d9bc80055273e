//! CSRF protection for the explorer's forms: a double-submit token. Explorer pages set a
//! `SameSite=Strict` cookie and carry the same token in a `<meta>` tag; the explorer's script
//! sends it back as `X-CSRF-Token`. A state-changing API request that carries the cookie (so
//! comes from a browser that has seen the explorer) must carry the matching header, or it is
//! refused with 403. Requests without the cookie (curl, scripts) are not browser sessions and
//! pass as before.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use subtle::ConstantTimeEq;

use crate::http::error::ApiError;

pub(crate) const COOKIE: &str = "kurz_csrf";
pub(crate) const HEADER: &str = "x-csrf-token";
const TOKEN_LENGTH: usize = 32;
const ALPHABET: [char; 62] = [
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i',
    'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'A', 'B',
    'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', 'P', 'Q', 'R', 'S', 'T', 'U',
    'V', 'W', 'X', 'Y', 'Z',
];

/// The token in this browser's cookie, if it is a well-formed one.
fn token_in(jar: &CookieJar) -> Option<&str> {
    jar.get(COOKIE).map(Cookie::value).filter(|value| {
        value.len() == TOKEN_LENGTH && value.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// The token of this browser, if it has a well-formed one.
pub(crate) fn cookie_token(headers: &HeaderMap) -> Option<String> {
    token_in(&CookieJar::from_headers(headers)).map(str::to_owned)
}

/// The browser's token, or a new one with the `Set-Cookie` header that hands it out.
pub(crate) fn token_for(headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    if let Some(token) = cookie_token(headers) {
        return (token, None);
    }
    let token = nanoid::nanoid!(TOKEN_LENGTH, &ALPHABET);
    let cookie = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
    (token, HeaderValue::from_str(&cookie).ok())
}

/// Whether the header sent is the token, in time that does not depend on where they differ.
fn sent_matches(sent: &[u8], token: &str) -> bool {
    sent.ct_eq(token.as_bytes()).into()
}

/// Middleware on `/api`: refuses unsafe requests from an explorer session without its token.
pub async fn protect(jar: CookieJar, request: Request, next: Next) -> Response {
    let unsafe_method = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if unsafe_method {
        if let Some(expected) = token_in(&jar) {
            let sent = request
                .headers()
                .get(HEADER)
                .map(|v| v.as_bytes())
                .unwrap_or_default();
            if !sent_matches(sent, expected) {
                let mut response = ApiError::Forbidden(
                    "missing or wrong X-CSRF-Token for this explorer session".into(),
                )
                .into_response();
                *response.status_mut() = StatusCode::FORBIDDEN;
                return response;
            }
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use axum::http::header;

    use super::*;

    #[test]
    fn tokens_are_read_only_when_well_formed() {
        let mut headers = HeaderMap::new();
        let token = "a".repeat(32);
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("other=1; {COOKIE}={token}")).unwrap(),
        );
        assert_eq!(cookie_token(&headers), Some(token.clone()));
        assert_eq!(token_for(&headers), (token, None));
        headers.insert(header::COOKIE, HeaderValue::from_static("kurz_csrf=short"));
        assert_eq!(cookie_token(&headers), None);
        let (fresh, cookie) = token_for(&headers);
        assert_eq!(fresh.len(), 32);
        assert!(cookie
            .unwrap()
            .to_str()
            .unwrap()
            .contains("SameSite=Strict"));
    }

    #[test]
    fn comparison_needs_equal_bytes() {
        assert!(sent_matches(b"abc", "abc"));
        assert!(!sent_matches(b"abc", "abd"));
        assert!(!sent_matches(b"abc", "ab"));
        assert!(!sent_matches(b"", "abc"));
    }
}
