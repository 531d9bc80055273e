//! Access control for `/api`: API keys sent as `Authorization: Bearer <key>` or
//! `X-Api-Key: <key>`, the roles they carry ([`Role`]), and the anonymous caller that
//! `auth.allow_anonymous` lets in (development). See docs/security.md.
//!
//! Handlers take a [`Caller`] (an extractor) and ask it what is allowed. Endpoints that cannot
//! receive headers (a browser's `WebSocket` or `EventSource`) call [`authenticate`] with a query
//! token instead.

mod caller;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use subtle::ConstantTimeEq;

pub use crate::domain::{ApiKey, Role};
pub use caller::Caller;

use crate::http::error::ApiError;
use crate::http::state::AppState;

/// The header that carries a key for clients that prefer it to `Authorization`.
pub const API_KEY_HEADER: &str = "x-api-key";

/// Who is calling: the key presented in `X-Api-Key`, `Authorization: Bearer`, or (only when
/// the caller passes one, for endpoints that cannot receive headers) `query_token`, in that
/// order; without any, the anonymous caller if `auth.allow_anonymous`.
///
/// 401 for a missing key (anonymous not allowed), a malformed key, or a key that is unknown or
/// revoked. A presented key is always checked, even when anonymous use is allowed.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    query_token: Option<&str>,
) -> Result<Caller, ApiError> {
    let presented = match presented_key(headers)? {
        Some(key) => Some(key),
        None => query_token.filter(|t| !t.is_empty()).map(str::to_owned),
    };
    let Some(presented) = presented else {
        let auth = &state.settings.auth;
        return if auth.allow_anonymous {
            Ok(Caller::anonymous(auth.anonymous_role))
        } else {
            Err(ApiError::Unauthorized(
                "an API key is required: send `Authorization: Bearer <key>` or \
                 `X-Api-Key: <key>`"
                    .into(),
            ))
        };
    };
    key_caller(state, &presented).await
}

/// The caller a presented key makes: 401 for a malformed key, or one that is unknown or
/// revoked.
pub async fn key_caller(state: &AppState, presented: &str) -> Result<Caller, ApiError> {
    let key = ApiKey::parse(presented.trim())
        .ok_or_else(|| ApiError::Unauthorized("the API key is malformed".into()))?;
    let unknown = || ApiError::Unauthorized("the API key is unknown or revoked".into());
    let hash = key.hash();
    let record = state
        .store
        .find_active_api_key(&hash)
        .await?
        .ok_or_else(unknown)?;
    // The look-up went by hash; compare again in constant time so that no answer depends on
    // how much of a stored hash a guess matched.
    if !bool::from(record.key_hash.as_bytes().ct_eq(hash.as_bytes())) {
        return Err(unknown());
    }
    tracing::debug!(key_id = record.id, role = %record.role, "API key accepted");
    Ok(Caller::key(record.id, record.role))
}

/// The key of `X-Api-Key`, else of `Authorization: Bearer`. Another `Authorization` scheme
/// (say, Basic auth of a proxy in front of kurz) is not kurz's and is ignored.
fn presented_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let malformed = || ApiError::Unauthorized("the API key is malformed".into());
    if let Some(value) = headers.get(API_KEY_HEADER) {
        return value
            .to_str()
            .map(|v| Some(v.trim().to_owned()))
            .map_err(|_| malformed());
    }
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| malformed())?.trim();
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    Ok(Some(token.trim().to_owned()))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(state, &parts.headers, None).await
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn keys_come_from_either_header() {
        let found = |pairs| presented_key(&headers(pairs)).unwrap();
        assert_eq!(found(&[]), None);
        assert_eq!(
            found(&[("authorization", "Bearer abc")]),
            Some("abc".into())
        );
        assert_eq!(
            found(&[("authorization", "bearer  abc ")]),
            Some("abc".into())
        );
        assert_eq!(found(&[("x-api-key", "abc")]), Some("abc".into()));
        assert_eq!(
            found(&[("x-api-key", "one"), ("authorization", "Bearer two")]),
            Some("one".into())
        );
        assert_eq!(found(&[("authorization", "Basic dXNlcjpwdw==")]), None);
        assert_eq!(found(&[("authorization", "Bearer")]), Some(String::new()));
    }
}
