//! Visit enrichment: user agent parsing, bot detection and IP anonymisation.
//!
//! Runs in the visit writer, never on the redirect path. User agents are parsed with the
//! [uap-core](https://github.com/ua-parser/uap-core) regexes (`assets/uap/`), compiled once per
//! process, and the results are kept in a bounded cache keyed by the user agent string.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use moka::sync::Cache;
use uaparser::{Parser as _, UserAgentParser};

use super::bots::BotTokens;
use super::{OrphanEvent, VisitEvent};
use crate::config::EnrichmentSettings;
use crate::domain::Location;
use crate::geo::Geo;
use crate::store::{NewOrphanVisit, NewVisit};

/// The uap-core regex file, compiled into the binary.
const UAP_REGEXES: &[u8] = include_bytes!("../../assets/uap/regexes.yaml");

/// The process-wide parser. Building it compiles ~1150 regexes, so it happens once, on first
/// use (which [`Enricher::new`] forces). `None` records a failed build: every user agent is then
/// treated as unparsed instead of retrying or panicking.
static PARSER: OnceLock<Option<UserAgentParser>> = OnceLock::new();

fn parser() -> Option<&'static UserAgentParser> {
    PARSER.get_or_init(build_parser).as_ref()
}

fn build_parser() -> Option<UserAgentParser> {
    let started = Instant::now();
    // Unicode-aware classes make the compiled regexes much larger; uap-core's patterns are
    // written for ASCII (as in the other uap ports), so it is off. Non-ASCII input still parses.
    match UserAgentParser::builder()
        .with_unicode_support(false)
        .build_from_bytes(UAP_REGEXES)
    {
        Ok(parser) => {
            tracing::debug!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                "user agent parser built"
            );
            Some(parser)
        }
        Err(error) => {
            tracing::error!(
                %error,
                "cannot build the user agent parser; user agents will not be parsed"
            );
            None
        }
    }
}

/// Substrings of televisions, consoles, streaming sticks and headsets. Such devices report a
/// desktop or Android OS, so they are recognised first and classified as `other`.
const OTHER_DEVICE_TOKENS: &[&str] = &[
    "smart-tv",
    "smarttv",
    "googletv",
    "android tv",
    "hbbtv",
    "netcast",
    "web0s",
    "tizen",
    "crkey",
    "appletv",
    "apple tv",
    "roku",
    "; aft",
    "playstation",
    "xbox",
    "nintendo",
    "oculusbrowser",
];

/// OS families (as uap-core names them) of desktop and laptop computers.
const DESKTOP_OS_FAMILIES: &[&str] = &[
    "Windows",
    "Mac OS X",
    "Mac OS",
    "Linux",
    "Chrome OS",
    "Ubuntu",
    "Kubuntu",
    "Lubuntu",
    "Linux Mint",
    "Debian",
    "Fedora",
    "Red Hat",
    "CentOS",
    "openSUSE",
    "SUSE",
    "Arch Linux",
    "Gentoo",
    "Slackware",
    "Mageia",
    "PCLinuxOS",
    "Puppy",
    "FreeBSD",
    "OpenBSD",
    "NetBSD",
    "BSD",
    "Solaris",
];

/// OS families of phones (a tablet running them is recognised before this list is used).
const MOBILE_OS_FAMILIES: &[&str] = &[
    "iOS",
    "Android",
    "Windows Phone",
    "Windows Mobile",
    "BlackBerry OS",
    "Symbian OS",
    "KaiOS",
    "Firefox OS",
    "Nokia Series 40",
];

/// What a user agent string says about the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAgent {
    /// uap-core user agent family ("Firefox", "Chrome Mobile", "Googlebot", ...); `None` when
    /// unknown.
    pub browser: Option<String>,
    /// uap-core OS family ("Windows", "Mac OS X", "iOS", "Android", ...); `None` when unknown.
    pub os: Option<String>,
    /// Device type: one of `desktop`, `mobile`, `tablet`, `bot` or `other`.
    pub device: Option<String>,
    /// Crawlers, link previewers, monitors, HTTP libraries and empty user agents; see
    /// [`BotTokens`](super::BotTokens).
    pub is_bot: bool,
}

impl ParsedAgent {
    /// A visit without a user agent: a bot, nothing else known.
    fn missing() -> Self {
        Self {
            browser: None,
            os: None,
            device: Some("bot".to_owned()),
            is_bot: true,
        }
    }
}

/// Turns [`VisitEvent`]s into [`NewVisit`] rows: parsed user agent, bot flag and (when
/// configured) anonymised client IP. Cheap to clone; clones share the cache.
#[derive(Clone)]
pub struct Enricher {
    agents: Cache<String, Arc<ParsedAgent>>,
    bots: BotTokens,
    anonymize_ips: bool,
    geo: Geo,
}

impl std::fmt::Debug for Enricher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enricher")
            .field("cached_agents", &self.agents.entry_count())
            .field("bots", &self.bots)
            .field("anonymize_ips", &self.anonymize_ips)
            .field("geo", &self.geo)
            .finish()
    }
}

impl Enricher {
    /// Builds an enricher. The first call in a process also builds the shared user agent parser,
    /// which blocks for a while (about 0.8 s in a debug build), so call this at startup or in
    /// the writer, never on a request path. Later calls reuse it.
    pub fn new(settings: &EnrichmentSettings) -> Self {
        parser();
        Self {
            agents: Cache::new(settings.user_agent_cache_capacity),
            bots: BotTokens::new(settings),
            anonymize_ips: settings.anonymize_ips,
            geo: Geo::disabled(),
        }
    }

    /// Locates clients with this geolocation database (none by default).
    pub fn locating(mut self, geo: Geo) -> Self {
        self.geo = geo;
        self
    }

    /// Where a client address is, from the full address (call it before anonymising); unknown
    /// without a geolocation database. Any visit's enrichment can use it.
    pub fn locate(&self, ip: IpAddr) -> Location {
        self.geo.locate(ip)
    }

    /// Parses a user agent, or returns the cached result for the same string. The caller passes
    /// the stored (already truncated) user agent, which is also the cache key.
    pub fn parse_agent(&self, ua: &str) -> Arc<ParsedAgent> {
        self.agents
            .get_with_by_ref(ua, || Arc::new(self.parse_uncached(ua)))
    }

    /// Enriches a captured visit into a row: referrer and truncation as in
    /// [`VisitEvent::into_new_visit`], then browser, OS, device type and bot flag from the user
    /// agent (a missing one makes the visit a bot), the location of the full client address,
    /// and the client IP anonymised when
    /// `enrichment.anonymize_ips` is on.
    pub fn enrich(&self, event: VisitEvent) -> NewVisit {
        self.enrich_row(event.into_new_visit())
    }

    /// Enriches a visit imported from another system as a live click: browser, OS, device
    /// type and bot flag from its user agent (none makes it a bot), its location from its
    /// address unless the source gave one, the address anonymised when configured.
    pub fn enrich_imported(&self, visit: NewVisit) -> NewVisit {
        self.enrich_row(visit)
    }

    fn enrich_row(&self, mut visit: NewVisit) -> NewVisit {
        let agent = match visit.user_agent.as_deref() {
            Some(ua) => self.parse_agent(ua),
            None => Arc::new(ParsedAgent::missing()),
        };
        visit.browser.clone_from(&agent.browser);
        visit.os.clone_from(&agent.os);
        visit.device.clone_from(&agent.device);
        visit.is_bot = agent.is_bot;
        if let Some(ip) = visit.client_ip {
            if visit.location == Location::default() {
                visit.location = self.locate(ip);
            }
        }
        if self.anonymize_ips {
            visit.client_ip = visit.client_ip.map(Self::anonymize);
        }
        visit
    }

    /// Enriches a click that reached no link exactly as a link's.
    pub fn enrich_orphan(&self, event: OrphanEvent) -> NewOrphanVisit {
        let visit = self.enrich(event.as_visit());
        event.with(visit)
    }

    /// Cuts an address to its network: IPv4 to /24 (last octet zeroed), IPv6 to /48 (the
    /// first three groups kept). IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) are treated,
    /// and returned, as IPv4.
    pub fn anonymize(ip: IpAddr) -> IpAddr {
        match ip.to_canonical() {
            IpAddr::V4(v4) => {
                let [a, b, c, _] = v4.octets();
                IpAddr::V4(Ipv4Addr::new(a, b, c, 0))
            }
            IpAddr::V6(v6) => {
                let [a, b, c, ..] = v6.segments();
                IpAddr::V6(Ipv6Addr::new(a, b, c, 0, 0, 0, 0, 0))
            }
        }
    }

    fn parse_uncached(&self, ua: &str) -> ParsedAgent {
        if ua.trim().is_empty() {
            return ParsedAgent::missing();
        }
        let lower = ua.to_lowercase();
        let (browser, os, device_family) = match parser() {
            Some(parser) => {
                let client = parser.parse(ua);
                (
                    known_family(&client.user_agent.family),
                    known_family(&client.os.family),
                    client.device.family.into_owned(),
                )
            }
            None => (None, None, String::from("Other")),
        };
        let is_bot = device_family == "Spider" || self.bots.in_lowercase(&lower);
        let device = device_type(is_bot, &device_family, os.as_deref(), &lower);
        ParsedAgent {
            browser,
            os,
            device: Some(device.to_owned()),
            is_bot,
        }
    }
}

/// uap-core says "Other" for a family it does not know.
fn known_family(family: &str) -> Option<String> {
    match family.trim() {
        "" | "Other" => None,
        family => Some(family.to_owned()),
    }
}

/// Derives the device type from uap-core's device and OS families and the lower-cased user
/// agent. uap-core names devices (models), not device types, so the type comes from the
/// well-known markers: `iPad`, Android without `Mobile`, `Tablet`, Kindle/Silk for tablets;
/// iPhone/iPod, `Mobi`(le), Windows Phone and phone OSes for phones; a desktop OS with no
/// particular device for desktops. iPadOS Safari sends a Mac user agent by default and so is
/// counted as a desktop; nothing in the string tells them apart.
fn device_type(is_bot: bool, device_family: &str, os: Option<&str>, ua: &str) -> &'static str {
    if is_bot {
        "bot"
    } else if OTHER_DEVICE_TOKENS.iter().any(|token| ua.contains(token)) {
        "other"
    } else if is_tablet(device_family, ua) {
        "tablet"
    } else if is_mobile(device_family, os, ua) {
        "mobile"
    } else if matches!(device_family, "Other" | "Mac")
        && os.is_some_and(|os| DESKTOP_OS_FAMILIES.contains(&os))
    {
        "desktop"
    } else {
        "other"
    }
}

fn is_tablet(device_family: &str, ua: &str) -> bool {
    matches!(device_family, "iPad" | "Generic Tablet")
        || device_family.starts_with("Kindle")
        || ["ipad", "kindle", "silk/", "playbook"]
            .iter()
            .any(|token| ua.contains(token))
        || (ua.contains("tablet") && !ua.contains("tablet pc"))
        || (ua.contains("android") && !ua.contains("mobi"))
}

fn is_mobile(device_family: &str, os: Option<&str>, ua: &str) -> bool {
    matches!(
        device_family,
        "iPhone" | "iPod" | "iPod touch" | "Generic Smartphone" | "Generic Feature Phone"
    ) || [
        "iphone",
        "ipod",
        "mobi",
        "windows phone",
        "blackberry",
        "bb10",
        "opera mini",
        "symbian",
    ]
    .iter()
    .any(|token| ua.contains(token))
        || os.is_some_and(|os| MOBILE_OS_FAMILIES.contains(&os))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::config::{Environment, Settings};
    use crate::visits::{truncate, MAX_USER_AGENT_BYTES};

    const FIREFOX_LINUX: &str =
        "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0";
    const CHROME_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
        (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36";
    const SAFARI_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) \
        AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15";
    const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) \
        AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
    const SAFARI_IPAD: &str = "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) \
        AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1";
    const CHROME_ANDROID_PHONE: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) \
        AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.6422.53 Mobile Safari/537.36";
    const CHROME_ANDROID_TABLET: &str = "Mozilla/5.0 (Linux; Android 13; SM-X710) \
        AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.6422.53 Safari/537.36";
    const CUBOT_PHONE: &str = "Mozilla/5.0 (Linux; Android 9; CUBOT P30) AppleWebKit/537.36 \
        (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36";
    const PINTEREST_APP: &str = "Mozilla/5.0 (Linux; Android 13; SM-G991B) \
        AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 \
        [Pinterest/Android]";
    const YANDEX_APP: &str = "Mozilla/5.0 (Linux; Android 12) AppleWebKit/537.36 \
        (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 YandexSearch/23.1";
    const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; \
        +http://www.google.com/bot.html)";
    const GOOGLEBOT_SMARTPHONE: &str = "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X \
        Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.6422.60 Mobile \
        Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
    const FACEBOOK: &str =
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)";
    const SLACK: &str = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)";
    const CURL: &str = "curl/8.5.0";
    const PINTEREST_CRAWLER: &str = "Pinterest/0.2 (+https://www.pinterest.com/bot.html)";
    const YANDEX_IMAGES: &str =
        "Mozilla/5.0 (compatible; YandexImages/3.0; +http://yandex.com/bots)";
    const PYTHON_REQUESTS: &str = "python-requests/2.31.0";

    fn settings() -> EnrichmentSettings {
        Settings::defaults(Environment::Development)
            .expect("default settings")
            .enrichment
    }

    fn enricher() -> Enricher {
        Enricher::new(&settings())
    }

    fn assert_agent(ua: &str, browser: Option<&str>, os: Option<&str>, device: &str, bot: bool) {
        let agent = enricher().parse_agent(ua);
        assert_eq!(agent.browser.as_deref(), browser, "browser of {ua}");
        assert_eq!(agent.os.as_deref(), os, "os of {ua}");
        assert_eq!(agent.device.as_deref(), Some(device), "device of {ua}");
        assert_eq!(agent.is_bot, bot, "is_bot of {ua}");
    }

    fn event(user_agent: Option<&str>, ip: &str) -> VisitEvent {
        VisitEvent {
            url_id: 7,
            at: chrono::Utc::now(),
            client_ip: ip.parse().unwrap(),
            cap_taken: false,
            rule: None,
            user_agent: user_agent.map(str::to_owned),
            referrer: Some("https://t.co/abc".to_owned()),
        }
    }

    #[test]
    fn the_bundled_regexes_build() {
        assert!(parser().is_some(), "the uap parser failed to build");
    }

    #[test]
    fn desktop_browsers() {
        assert_agent(
            FIREFOX_LINUX,
            Some("Firefox"),
            Some("Linux"),
            "desktop",
            false,
        );
        assert_agent(
            CHROME_WINDOWS,
            Some("Chrome"),
            Some("Windows"),
            "desktop",
            false,
        );
        assert_agent(
            SAFARI_MAC,
            Some("Safari"),
            Some("Mac OS X"),
            "desktop",
            false,
        );
    }

    #[test]
    fn phones_are_mobile() {
        assert_agent(
            SAFARI_IPHONE,
            Some("Mobile Safari"),
            Some("iOS"),
            "mobile",
            false,
        );
        assert_agent(
            CHROME_ANDROID_PHONE,
            Some("Chrome Mobile"),
            Some("Android"),
            "mobile",
            false,
        );
        // "CUBOT" contains "bot" but is a phone maker.
        assert_agent(
            CUBOT_PHONE,
            Some("Chrome Mobile"),
            Some("Android"),
            "mobile",
            false,
        );
        // In-app browsers are people, even when the app's crawler shares its name.
        assert_agent(
            PINTEREST_APP,
            Some("Pinterest"),
            Some("Android"),
            "mobile",
            false,
        );
        assert_agent(
            YANDEX_APP,
            Some("YandexSearch"),
            Some("Android"),
            "mobile",
            false,
        );
    }

    #[test]
    fn tablets() {
        assert_agent(
            SAFARI_IPAD,
            Some("Mobile Safari"),
            Some("iOS"),
            "tablet",
            false,
        );
        assert_agent(
            CHROME_ANDROID_TABLET,
            Some("Chrome"),
            Some("Android"),
            "tablet",
            false,
        );
    }

    #[test]
    fn crawlers_and_previewers_are_bots() {
        assert_agent(GOOGLEBOT, Some("Googlebot"), None, "bot", true);
        let smartphone = enricher().parse_agent(GOOGLEBOT_SMARTPHONE);
        assert!(smartphone.is_bot);
        assert_eq!(smartphone.device.as_deref(), Some("bot"));
        for ua in [
            FACEBOOK,
            SLACK,
            CURL,
            PYTHON_REQUESTS,
            PINTEREST_CRAWLER,
            YANDEX_IMAGES,
        ] {
            let agent = enricher().parse_agent(ua);
            assert!(agent.is_bot, "{ua} should be a bot");
            assert_eq!(agent.device.as_deref(), Some("bot"), "device of {ua}");
        }
        assert_eq!(
            enricher().parse_agent(CURL).browser.as_deref(),
            Some("curl")
        );
    }

    #[test]
    fn an_empty_user_agent_is_a_bot() {
        for ua in ["", "   "] {
            assert_eq!(*enricher().parse_agent(ua), ParsedAgent::missing());
        }
        let visit = enricher().enrich(event(Some(""), "192.0.2.1"));
        assert_eq!(visit.user_agent, None);
        assert!(visit.is_bot);
        assert_eq!(visit.device.as_deref(), Some("bot"));
        assert_eq!((visit.browser, visit.os), (None, None));
    }

    #[test]
    fn default_preview_agents_are_bots() {
        // robots.txt lets these fetch short links; their visits must still count as bots.
        let settings = crate::config::Settings::defaults(crate::config::Environment::Production)
            .expect("default settings");
        assert!(!settings.robots.preview_agents.is_empty());
        for agent in &settings.robots.preview_agents {
            for ua in [
                format!("{agent}/1.0"),
                format!("Mozilla/5.0 (compatible; {agent}/2.1; +https://example.com/bot)"),
            ] {
                assert!(enricher().parse_agent(&ua).is_bot, "{ua} should be a bot");
            }
        }
    }

    #[test]
    fn configured_tokens_mark_bots_case_insensitively() {
        let ua = format!("{FIREFOX_LINUX} KurzProbe/1.0");
        assert!(!enricher().parse_agent(&ua).is_bot);
        let mut settings = settings();
        settings.extra_bot_tokens = vec!["kurzPROBE".to_owned(), "  ".to_owned()];
        let enricher = Enricher::new(&settings);
        let agent = enricher.parse_agent(&ua);
        assert!(agent.is_bot);
        assert_eq!(agent.device.as_deref(), Some("bot"));
        // A blank token is dropped rather than matching everything.
        assert!(!enricher.parse_agent(FIREFOX_LINUX).is_bot);
    }

    #[test]
    fn enrich_fills_the_row() {
        let visit = enricher().enrich(event(Some(SAFARI_IPHONE), "203.0.113.77"));
        assert_eq!(visit.url_id, 7);
        assert_eq!(visit.referrer_host.as_deref(), Some("t.co"));
        assert_eq!(visit.user_agent.as_deref(), Some(SAFARI_IPHONE));
        assert_eq!(visit.browser.as_deref(), Some("Mobile Safari"));
        assert_eq!(visit.os.as_deref(), Some("iOS"));
        assert_eq!(visit.device.as_deref(), Some("mobile"));
        assert!(!visit.is_bot);
        assert_eq!(visit.client_ip, Some("203.0.113.0".parse().unwrap()));
    }

    #[test]
    fn orphans_are_enriched_like_visits() {
        let orphan = enricher().enrich_orphan(OrphanEvent {
            kind: crate::domain::OrphanKind::Regular404,
            path: format!("/{}", "a".repeat(3000)),
            at: chrono::Utc::now(),
            client_ip: "203.0.113.77".parse().unwrap(),
            user_agent: Some(SAFARI_IPHONE.to_owned()),
            referrer: Some("https://t.co/abc".to_owned()),
        });
        assert_eq!(orphan.kind, crate::domain::OrphanKind::Regular404);
        assert_eq!(orphan.path.len(), 2048);
        assert_eq!(orphan.referrer_host.as_deref(), Some("t.co"));
        assert_eq!(orphan.device.as_deref(), Some("mobile"));
        assert!(!orphan.is_bot);
        assert_eq!(orphan.client_ip, Some("203.0.113.0".parse().unwrap()));
    }

    #[test]
    fn a_missing_user_agent_is_a_bot() {
        let visit = enricher().enrich(event(None, "192.0.2.1"));
        assert!(visit.is_bot);
        assert_eq!(visit.device.as_deref(), Some("bot"));
        assert_eq!((visit.browser, visit.os), (None, None));
    }

    #[test]
    fn ips_are_kept_whole_when_anonymisation_is_off() {
        let mut settings = settings();
        settings.anonymize_ips = false;
        let visit = Enricher::new(&settings).enrich(event(Some(CURL), "203.0.113.77"));
        assert_eq!(visit.client_ip, Some("203.0.113.77".parse().unwrap()));
    }

    #[test]
    fn anonymize_cuts_addresses_to_their_network() {
        let cases = [
            ("203.0.113.77", "203.0.113.0"),
            ("2001:db8:abcd:1234:5678:9abc:def0:1", "2001:db8:abcd::"),
            ("::ffff:198.51.100.9", "198.51.100.0"),
            ("::1", "::"),
        ];
        for (input, expected) in cases {
            let anonymized = Enricher::anonymize(input.parse().unwrap());
            assert_eq!(anonymized, expected.parse::<IpAddr>().unwrap(), "{input}");
        }
        assert!(Enricher::anonymize("::ffff:198.51.100.9".parse().unwrap()).is_ipv4());
    }

    #[test]
    fn repeated_user_agents_come_from_the_cache() {
        let enricher = enricher();
        let first = enricher.parse_agent(CHROME_WINDOWS);
        let second = enricher.parse_agent(CHROME_WINDOWS);
        assert!(Arc::ptr_eq(&first, &second));
    }

    fn stored_user_agent(raw: String) -> String {
        truncate(raw, MAX_USER_AGENT_BYTES)
    }

    fn assert_well_formed(agent: &ParsedAgent) {
        let device = agent.device.as_deref().expect("a device type");
        assert!(["desktop", "mobile", "tablet", "bot", "other"].contains(&device));
        assert_eq!(agent.is_bot, device == "bot");
    }

    proptest! {
        #[test]
        fn parse_agent_never_panics_on_text(raw in "\\PC{0,300}") {
            let ua = stored_user_agent(raw);
            assert_well_formed(&enricher().parse_agent(&ua));
        }

        #[test]
        fn parse_agent_never_panics_on_bytes(
            bytes in proptest::collection::vec(any::<u8>(), 0..=MAX_USER_AGENT_BYTES)
        ) {
            let ua = stored_user_agent(String::from_utf8_lossy(&bytes).into_owned());
            assert_well_formed(&enricher().parse_agent(&ua));
        }
    }

    proptest! {
        #[test]
        fn anonymize_is_idempotent_and_keeps_the_family(ip in any::<IpAddr>()) {
            let once = Enricher::anonymize(ip);
            prop_assert_eq!(Enricher::anonymize(once), once);
            prop_assert_eq!(once.is_ipv4(), ip.to_canonical().is_ipv4());
        }

        #[test]
        fn anonymize_treats_mapped_addresses_as_ipv4(v4 in any::<Ipv4Addr>()) {
            let mapped = IpAddr::V6(v4.to_ipv6_mapped());
            prop_assert_eq!(Enricher::anonymize(mapped), Enricher::anonymize(IpAddr::V4(v4)));
        }
    }
}
