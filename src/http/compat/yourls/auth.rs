//! Who is calling `yourls-api.php`: YOURLS's `signature` (a whole kurz API key, or the key's
//! derived token), `signature` with `timestamp` and `hash`, or, without any, the headers the
//! native API reads (and the anonymous caller `auth.allow_anonymous` lets in). YOURLS's
//! `username` and `password` are not offered: kurz keeps no passwords for API users.

use axum::http::HeaderMap;
use chrono::Utc;

use super::output::Answer;
use super::params::YourlsParams;
use crate::domain::{ApiKey, SignatureHash, SignatureToken};
use crate::http::auth::{self, Caller};
use crate::http::state::AppState;

/// YOURLS's answer to a request it cannot authenticate.
fn refused() -> Answer {
    Answer::error(403, "Please log in")
}

/// The caller, or YOURLS's 403 "Please log in".
pub async fn caller(
    state: &AppState,
    headers: &HeaderMap,
    params: &YourlsParams,
) -> Result<Caller, Answer> {
    let signature = params.text(&params.signature);
    let timestamp = params.text(&params.timestamp);
    match (signature, timestamp) {
        (Some(signature), Some(timestamp)) => {
            timestamped(state, params, signature, timestamp).await
        }
        (Some(signature), None) => signed(state, signature).await,
        (None, _) if params.text(&params.username).is_some() => Err(refused()),
        (None, _) => auth::authenticate(state, headers, None)
            .await
            .map_err(|_| refused()),
    }
}

/// `signature` alone: a kurz API key, or a key's token.
async fn signed(state: &AppState, signature: &str) -> Result<Caller, Answer> {
    if ApiKey::parse(signature).is_some() {
        return auth::key_caller(state, signature)
            .await
            .map_err(|_| refused());
    }
    matching_key(state, |token| token.is(signature)).await
}

/// `timestamp` and `signature`: the digest (`hash`, SHA-256 unless named) of the timestamp and
/// a key's token, within the allowed skew. Never over a whole kurz key: a client holding one
/// sends it as it is.
async fn timestamped(
    state: &AppState,
    params: &YourlsParams,
    signature: &str,
    timestamp: &str,
) -> Result<Caller, Answer> {
    let settings = &state.settings.compat.yourls;
    let time: i64 = timestamp.parse().map_err(|_| refused())?;
    let skew = i64::try_from(settings.timestamp_skew_secs).unwrap_or(i64::MAX);
    if Utc::now().timestamp().abs_diff(time) > skew.unsigned_abs() {
        return Err(refused());
    }
    let hash = match params.text(&params.hash) {
        None => SignatureHash::Sha256,
        Some(name) => SignatureHash::parse(name).ok_or_else(refused)?,
    };
    if hash == SignatureHash::Md5 && !settings.allow_md5 {
        return Err(refused());
    }
    matching_key(state, |token| token.signs(timestamp, hash, signature)).await
}

/// The active key whose token `matches`: every key is tried (no early return on a match of
/// another's), each comparison in constant time.
async fn matching_key(
    state: &AppState,
    matches: impl Fn(&SignatureToken) -> bool,
) -> Result<Caller, Answer> {
    let Some(secret) = state.settings.compat.yourls.token_secret() else {
        return Err(refused());
    };
    let keys = state.store.list_api_keys().await.map_err(|error| {
        tracing::error!(%error, "cannot read the API keys for a YOURLS signature");
        Answer::error(500, "the API keys cannot be read")
    })?;
    let mut found = None;
    for key in keys.iter().filter(|key| key.revoked_at.is_none()) {
        if matches(&SignatureToken::derive(secret, key.id)) && found.is_none() {
            found = Some(Caller::key(key.id, key.role));
        }
    }
    found.ok_or_else(refused)
}
