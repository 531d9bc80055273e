//! Orphan visits: clicks that reached no link (`visits.track_orphans`). The answer is what it
//! always was (a 404, a 410, the site's root); the click goes to the visit queue as an
//! [`OrphanEvent`] only while its client is within `rate_limit.not_found_per_minute`, and
//! never waits for room in the queue, so a probe costs no more than its not-found answer.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, Method};
use chrono::Utc;

use crate::domain::OrphanKind;
use crate::http::state::AppState;
use crate::visits::OrphanEvent;

/// Path prefixes of the application itself: a miss under them is a client's mistake, not a
/// click on a short link.
const APPLICATION_PREFIXES: [&str; 2] = ["/api/", "/explorer/"];

/// The TCP peer of a request, as the server recorded it.
pub(crate) fn peer(extensions: &axum::http::Extensions) -> IpAddr {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED), |info| info.0.ip())
}

/// Whether a request that matched nothing is a click to record as `regular_404`: a `GET` of
/// a path outside the application's own (`/api/`, `/explorer/`).
pub(crate) fn is_regular_404(method: &Method, path: &str) -> bool {
    method == Method::GET
        && !APPLICATION_PREFIXES
            .iter()
            .any(|prefix| path.starts_with(prefix) || path == prefix.trim_end_matches('/'))
}

/// Hands a click that reached no link to the visit queue, when orphan visits are tracked.
/// The caller has checked the client against the not-found limit.
pub(crate) fn record(
    state: &AppState,
    kind: OrphanKind,
    path: &str,
    client_ip: IpAddr,
    headers: &HeaderMap,
) {
    if !state.settings.visits.track_orphans {
        return;
    }
    let text = |name: header::HeaderName| {
        headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    state.visits.record_orphan(OrphanEvent {
        kind,
        path: path.to_owned(),
        at: Utc::now(),
        client_ip,
        user_agent: text(header::USER_AGENT),
        referrer: text(header::REFERER),
    });
}

/// Records a click that reached no link if its client is within the not-found limit (which
/// it counts against); whether it was within.
pub(crate) fn record_limited(
    state: &AppState,
    kind: OrphanKind,
    path: &str,
    peer: IpAddr,
    headers: &HeaderMap,
) -> bool {
    let client = state.client_ip.resolve(peer, headers);
    if state.rate_limits.check_not_found(client).is_err() {
        return false;
    }
    record(state, kind, path, client, headers);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn application_paths_and_other_methods_are_not_regular_404s() {
        assert!(is_regular_404(&Method::GET, "/wp-login.php"));
        assert!(is_regular_404(&Method::GET, "/a/b/c"));
        assert!(!is_regular_404(&Method::HEAD, "/a/b"));
        assert!(!is_regular_404(&Method::POST, "/a/b"));
        assert!(!is_regular_404(&Method::GET, "/api/nothing"));
        assert!(!is_regular_404(&Method::GET, "/api"));
        assert!(!is_regular_404(&Method::GET, "/explorer/x"));
        assert!(is_regular_404(&Method::GET, "/apis"));
    }
}
