//! The user-agent and bot path of the visit writer: any header bytes, through enrichment.
#![no_main]

use std::sync::OnceLock;

use kurz::config::{Environment, Settings};
use kurz::visits::{Enricher, VisitEvent};
use libfuzzer_sys::fuzz_target;

fn enricher() -> &'static Enricher {
    static ENRICHER: OnceLock<Enricher> = OnceLock::new();
    ENRICHER.get_or_init(|| {
        Enricher::new(&Settings::defaults(Environment::Production).unwrap().enrichment)
    })
}

fuzz_target!(|data: &[u8]| {
    let (agent, referrer) = data.split_at(data.len() / 2);
    let agent = String::from_utf8_lossy(agent).into_owned();
    let referrer = String::from_utf8_lossy(referrer).into_owned();
    let parsed = enricher().parse_agent(&agent);
    if parsed.is_bot {
        assert_eq!(parsed.device.as_deref(), Some("bot"));
    }
    let visit = enricher().enrich(VisitEvent {
        url_id: 1,
        at: chrono::Utc::now(),
        client_ip: "203.0.113.77".parse().unwrap(),
        user_agent: Some(agent),
        referrer: Some(referrer),
    });
    assert!(visit.user_agent.as_ref().is_none_or(|ua| ua.len() <= 1024));
    assert!(visit.referrer.as_ref().is_none_or(|r| r.len() <= 2048));
    assert_eq!(visit.client_ip, Some("203.0.113.0".parse().unwrap()));
});
