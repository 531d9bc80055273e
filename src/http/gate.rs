//! What a click on a link with a validity window or a visit cap gets. Links without either
//! never come here (their cached redirect has no [`Gate`]).
//!
//! The cap is exact: a click by a person takes a unit in the database
//! ([`Store::take_visit`], a conditional increment) before it is answered, so N+50 concurrent
//! clicks on a link with N units left get N redirects, on one instance or many. Bots, link
//! previews and `HEAD` requests pass without taking one. Once a cap is found reached, the
//! cached entry remembers it and later clicks answer without asking the database.

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use chrono::Utc;

use super::redirect::redirect_response;
use super::site::gone_page;
use crate::cache::Gate;
use crate::config::RedirectSettings;
use crate::domain::Phase;
use crate::store::{CapTake, Store, StoreError};

/// What a click gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Redirect; `cap_taken` when the click took a unit of the cap.
    Go { cap_taken: bool },
    /// Answer as if the link did not exist (before `valid_since`, or deleted meanwhile).
    Unknown,
    /// Past `valid_until`, or the cap is reached.
    Expired,
}

/// Checks the window at this moment, then, when `takes_unit` (a `GET` by a person), takes a
/// unit of the cap.
pub async fn admit(
    store: &dyn Store,
    gate: &Gate,
    url_id: i64,
    takes_unit: bool,
) -> Result<Verdict, StoreError> {
    match gate.validity.at(Utc::now()) {
        Phase::NotYet => return Ok(Verdict::Unknown),
        Phase::Over => return Ok(Verdict::Expired),
        Phase::Open => {}
    }
    if !gate.capped {
        return Ok(Verdict::Go { cap_taken: false });
    }
    if gate.is_exhausted() {
        return Ok(Verdict::Expired);
    }
    if !takes_unit {
        return Ok(Verdict::Go { cap_taken: false });
    }
    Ok(match store.take_visit(url_id).await? {
        CapTake::Taken => Verdict::Go { cap_taken: true },
        CapTake::Uncapped => Verdict::Go { cap_taken: false },
        CapTake::Gone => Verdict::Unknown,
        CapTake::Exhausted => {
            gate.mark_exhausted();
            Verdict::Expired
        }
    })
}

/// The answer for an expired link: a 302 to `redirect.expired_url` when it is set, else 410.
pub fn expired(settings: &RedirectSettings, headers: &HeaderMap) -> Response {
    // Checked at start to be a valid header value.
    match HeaderValue::from_str(&settings.expired_url) {
        Ok(location) if !settings.expired_url.is_empty() => {
            redirect_response(location, StatusCode::FOUND)
        }
        _ => gone_page(headers),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header;

    #[test]
    fn an_expired_link_goes_to_expired_url_when_set() {
        let mut settings = RedirectSettings {
            status: 302,
            expired_url: String::new(),
            forward_query: false,
        };
        assert_eq!(
            expired(&settings, &HeaderMap::new()).status(),
            StatusCode::GONE
        );
        settings.expired_url = "https://example.com/expired".into();
        let response = expired(&settings, &HeaderMap::new());
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(
            response.headers()[header::LOCATION],
            "https://example.com/expired"
        );
    }
}
