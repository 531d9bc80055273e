//! Which user agents are bots: a substring check over a fixed list and the configured
//! `enrichment.extra_bot_tokens`. The visit writer adds uap-core's `Spider` devices; the
//! redirect lane uses this check alone where it must know at once (a capped link's cap is
//! not used up by bots and link previews).

use std::sync::Arc;

use crate::config::EnrichmentSettings;

/// Case-insensitive user-agent substrings that mark a visit as automated (matched against the
/// lower-cased user agent, so every entry is lower case).
///
/// A visit counts as a bot when uap-core classifies its device as `Spider`, when its user agent
/// contains one of these tokens or one of the configured `enrichment.extra_bot_tokens`, or when
/// it has no user agent at all: every real browser sends one, while scripts and scanners often
/// do not, so an empty or missing user agent is counted as a bot rather than as a person.
///
/// The list covers search crawlers, link previewers (chat apps and social networks fetch a
/// link when it is posted, not when someone clicks it), uptime monitors, headless browsers and
/// HTTP libraries. Tokens are chosen so they do not appear in real browsers' user agents, e.g.
/// `curl/` rather than `curl`. Known real-device collisions are listed in [`NOT_BOT_TOKENS`].
const BOT_TOKENS: &[&str] = &[
    // Generic words crawlers put in their names.
    "bot",
    "crawler",
    "spider",
    "slurp",
    "scrapy",
    // Link previewers and social networks.
    "facebookexternalhit",
    "facebot",
    "twitterbot",
    "slackbot",
    "slack-imgproxy",
    "discordbot",
    "telegrambot",
    "whatsapp",
    "linkedinbot",
    "embedly",
    // Pinterest's crawler ("Pinterest/0.2", "Pinterestbot"); a bare "pinterest" would also
    // match people browsing in the Pinterest app ("[Pinterest/Android]").
    "pinterest/0.",
    "redditbot",
    "skypeuripreview",
    "vkshare",
    "mastodon",
    "bluesky",
    "cardyb",
    "iframely",
    // Search engines and SEO tools.
    "applebot",
    "bingpreview",
    "googlebot",
    "google-inspectiontool",
    "mediapartners-google",
    "feedfetcher",
    "yandex",
    "baiduspider",
    "duckduckbot",
    "petalbot",
    "qwantify",
    "semrush",
    "ahrefs",
    "mj12bot",
    "dotbot",
    "ia_archiver",
    "chatgpt-user",
    "anthropic-ai",
    // Monitors and audits.
    "uptimerobot",
    "pingdom",
    "statuscake",
    "site24x7",
    "lighthouse",
    // Headless browsers.
    "headlesschrome",
    "phantomjs",
    // HTTP clients and libraries.
    "curl/",
    "wget/",
    "python-requests",
    "python-urllib",
    "aiohttp",
    "go-http-client",
    "okhttp",
    "java/",
    "libwww-perl",
    "httpclient",
    "axios/",
    "node-fetch",
    "http.rb/",
    "guzzlehttp",
    "postmanruntime",
    "zgrab",
    "masscan",
];

/// Real-device user-agent substrings that contain a [`BOT_TOKENS`] entry: CUBOT is an Android
/// phone maker ("CUBOT P30" contains "bot"), and the Yandex search app adds "YandexSearch/8.10"
/// (Yandex's crawlers are "YandexBot", "YandexImages", ...). They are blanked out before the
/// built-in tokens are matched (configured extra tokens see the whole user agent).
const NOT_BOT_TOKENS: &[&str] = &["cubot", "yandexsearch/"];

/// The bot tokens in force: the built-in ones and the configured extras. Cheap to clone.
#[derive(Debug, Clone)]
pub struct BotTokens {
    extra: Arc<[String]>,
}

impl BotTokens {
    pub fn new(settings: &EnrichmentSettings) -> Self {
        let extra = settings
            .extra_bot_tokens
            .iter()
            .map(|token| token.trim().to_lowercase())
            .filter(|token| !token.is_empty())
            .collect();
        Self { extra }
    }

    /// Whether a user agent marks its client as automated: a missing or blank one does (every
    /// browser sends one), and so does one with a bot token. No user agent parsing.
    pub fn is_bot(&self, user_agent: Option<&[u8]>) -> bool {
        match user_agent {
            None => true,
            Some(ua) if ua.iter().all(u8::is_ascii_whitespace) => true,
            Some(ua) => self.in_lowercase(&String::from_utf8_lossy(ua).to_lowercase()),
        }
    }

    /// Whether an already lower-cased user agent contains a bot token.
    pub(crate) fn in_lowercase(&self, lower: &str) -> bool {
        if self
            .extra
            .iter()
            .any(|token| lower.contains(token.as_str()))
        {
            return true;
        }
        let scrubbed;
        let haystack = if NOT_BOT_TOKENS.iter().any(|token| lower.contains(token)) {
            scrubbed = NOT_BOT_TOKENS
                .iter()
                .fold(lower.to_owned(), |ua, token| ua.replace(token, " "));
            scrubbed.as_str()
        } else {
            lower
        };
        BOT_TOKENS.iter().any(|token| haystack.contains(token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(extra: &[&str]) -> BotTokens {
        let mut settings =
            crate::config::Settings::defaults(crate::config::Environment::Development)
                .expect("default settings")
                .enrichment;
        settings.extra_bot_tokens = extra.iter().map(|t| t.to_string()).collect();
        BotTokens::new(&settings)
    }

    #[test]
    fn missing_blank_and_token_agents_are_bots() {
        let bots = tokens(&["MyMonitor"]);
        assert!(bots.is_bot(None));
        assert!(bots.is_bot(Some(b"  ")));
        assert!(bots.is_bot(Some(b"Slackbot-LinkExpanding 1.0")));
        assert!(bots.is_bot(Some(b"mymonitor/1.0")));
        let firefox = b"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert!(!bots.is_bot(Some(firefox)));
        assert!(!bots.is_bot(Some(b"Mozilla/5.0 (Linux; Android 12; CUBOT P50)")));
    }
}
