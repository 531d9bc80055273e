//! The click pipeline. A redirect hands a [`VisitEvent`] to the bounded [`VisitQueue`] and
//! returns; the writer task turns events into rows and stores them in batches.

mod bots;
mod client_ip;
mod enrich;
mod queue;
mod writer;

use std::net::IpAddr;

use chrono::{DateTime, Utc};

pub use bots::BotTokens;
pub use client_ip::ClientIpResolver;
pub use enrich::{Enricher, ParsedAgent};
pub use queue::{Captured, EnqueueTimeouts, VisitCounters, VisitQueue};
pub use writer::VisitWriter;

use crate::domain::{Location, OrphanKind};
use crate::store::{NewOrphanVisit, NewVisit};

/// Longest user agent kept; longer ones are cut (on a character boundary).
const MAX_USER_AGENT_BYTES: usize = 1024;
/// Longest referrer kept.
const MAX_REFERRER_BYTES: usize = 2048;
/// Longest orphan visit path kept.
const MAX_PATH_BYTES: usize = 2048;

/// What the redirect handler knows about a click, captured without any parsing.
#[derive(Debug, Clone)]
pub struct VisitEvent {
    pub url_id: i64,
    pub at: DateTime<Utc>,
    pub client_ip: IpAddr,
    pub user_agent: Option<String>,
    pub referrer: Option<String>,
    /// The redirect took a unit of the link's visit cap (see `Store::take_visit`).
    pub cap_taken: bool,
    /// The index of the link's rule that decided the target, if one did.
    pub rule: Option<i16>,
}

impl VisitEvent {
    /// Enriches the event into a row. Runs in the writer, off the redirect path.
    pub fn into_new_visit(self) -> NewVisit {
        let mut visit = row(
            self.url_id,
            self.at,
            Some(self.client_ip),
            self.user_agent,
            self.referrer,
        );
        visit.cap_taken = self.cap_taken;
        visit.rule = self.rule;
        visit
    }
}

/// A click imported from another system, before enrichment
/// ([`Enricher::enrich_imported`]): the referrer, its host and the user agent cut as a live
/// click's are.
pub fn imported_visit(
    url_id: i64,
    at: DateTime<Utc>,
    client_ip: Option<IpAddr>,
    user_agent: Option<String>,
    referrer: Option<String>,
) -> NewVisit {
    row(url_id, at, client_ip, user_agent, referrer)
}

fn row(
    url_id: i64,
    at: DateTime<Utc>,
    client_ip: Option<IpAddr>,
    user_agent: Option<String>,
    referrer: Option<String>,
) -> NewVisit {
    let referrer = referrer
        .filter(|r| !r.is_empty())
        .map(|r| truncate(r, MAX_REFERRER_BYTES));
    let referrer_host = referrer
        .as_deref()
        .and_then(|r| url::Url::parse(r).ok())
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase));
    NewVisit {
        url_id,
        visited_at: at,
        client_ip,
        user_agent: user_agent
            .filter(|ua| !ua.is_empty())
            .map(|ua| truncate(ua, MAX_USER_AGENT_BYTES)),
        referrer,
        referrer_host,
        browser: None,
        os: None,
        device: None,
        is_bot: false,
        cap_taken: false,
        rule: None,
        location: Location::default(),
    }
}

/// A click that reached no link (`visits.track_orphans`), captured like a [`VisitEvent`].
#[derive(Debug, Clone)]
pub struct OrphanEvent {
    pub kind: OrphanKind,
    /// The path asked for, without the query.
    pub path: String,
    pub at: DateTime<Utc>,
    pub client_ip: IpAddr,
    pub user_agent: Option<String>,
    pub referrer: Option<String>,
}

impl OrphanEvent {
    /// The same click as a link's: enrichment treats both alike.
    fn as_visit(&self) -> VisitEvent {
        VisitEvent {
            url_id: 0,
            at: self.at,
            client_ip: self.client_ip,
            user_agent: self.user_agent.clone(),
            referrer: self.referrer.clone(),
            cap_taken: false,
            rule: None,
        }
    }

    /// The orphan row of this click, with what enrichment made of it as a link's visit.
    fn with(self, visit: NewVisit) -> NewOrphanVisit {
        imported_orphan(self.kind, self.path, visit)
    }
}

/// An orphan visit (live, or imported from another system): its kind, the path asked for,
/// and the click as a link visit after enrichment ([`imported_visit`],
/// [`Enricher::enrich_imported`]).
pub fn imported_orphan(kind: OrphanKind, path: String, visit: NewVisit) -> NewOrphanVisit {
    NewOrphanVisit {
        kind,
        path: truncate(path, MAX_PATH_BYTES),
        visited_at: visit.visited_at,
        client_ip: visit.client_ip,
        user_agent: visit.user_agent,
        referrer: visit.referrer,
        referrer_host: visit.referrer_host,
        browser: visit.browser,
        os: visit.os,
        device: visit.device,
        is_bot: visit.is_bot,
        location: visit.location,
    }
}

fn truncate(mut value: String, max_bytes: usize) -> String {
    if value.len() > max_bytes {
        let mut end = max_bytes;
        while !value.is_char_boundary(end) {
            end -= 1;
        }
        value.truncate(end);
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(referrer: Option<&str>, user_agent: Option<String>) -> VisitEvent {
        VisitEvent {
            url_id: 1,
            at: Utc::now(),
            client_ip: "192.0.2.1".parse().unwrap(),
            cap_taken: false,
            rule: None,
            user_agent,
            referrer: referrer.map(str::to_owned),
        }
    }

    #[test]
    fn referrer_host_is_extracted_and_lower_cased() {
        let visit = event(Some("https://News.Example.com/a?b"), None).into_new_visit();
        assert_eq!(visit.referrer_host.as_deref(), Some("news.example.com"));
        assert_eq!(
            visit.referrer.as_deref(),
            Some("https://News.Example.com/a?b")
        );
        let visit = event(Some("not a url"), None).into_new_visit();
        assert_eq!(visit.referrer_host, None);
        assert_eq!(visit.referrer.as_deref(), Some("not a url"));
    }

    #[test]
    fn long_user_agents_are_cut_on_a_character_boundary() {
        let ua = "é".repeat(1000);
        let visit = event(None, Some(ua)).into_new_visit();
        let kept = visit.user_agent.unwrap();
        assert!(kept.len() <= MAX_USER_AGENT_BYTES);
        assert!(kept.chars().all(|c| c == 'é'));
    }
}
