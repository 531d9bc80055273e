//! Layered settings: the built-in `config/default.toml`, then `config/{environment}.toml`
//! (picked by `KURZ_ENV`), then an optional operator file named by `KURZ_CONFIG_FILE`, then
//! `KURZ__SECTION__KEY` environment variables, then `DATABASE_URL`.
//!
//! Unknown keys and invalid values fail at start with a message naming the key, so a typo never
//! silently leaves a default in place.

use std::net::IpAddr;
use std::num::{NonZeroU32, NonZeroU64, NonZeroUsize};
use std::path::PathBuf;
use std::str::FromStr;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::{Dict, Map};
use figment::{Figment, Metadata, Profile, Provider};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

const DEFAULT_TOML: &str = include_str!("../config/default.toml");
const DEVELOPMENT_TOML: &str = include_str!("../config/development.toml");
const PRODUCTION_TOML: &str = include_str!("../config/production.toml");

/// Why the settings could not be loaded; the message names the offending key.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Production,
}

impl FromStr for Environment {
    type Err = ConfigError;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "development" | "dev" => Ok(Self::Development),
            "production" | "prod" => Ok(Self::Production),
            other => Err(ConfigError(format!(
                "KURZ_ENV: unknown environment `{other}` (expected `development` or `production`)"
            ))),
        }
    }
}

impl Environment {
    fn overlay(self) -> &'static str {
        match self {
            Self::Development => DEVELOPMENT_TOML,
            Self::Production => PRODUCTION_TOML,
        }
    }

    /// The overlay's file in the repository, as errors and `kurz check-config` name it.
    pub fn overlay_name(self) -> &'static str {
        match self {
            Self::Development => "config/development.toml",
            Self::Production => "config/production.toml",
        }
    }
}

/// The names of the configuration layers, as error messages and `kurz check-config` show them.
/// (`KURZ_CONFIG_FILE` keeps figment's "TOML file" with its path, and `KURZ__` variables
/// figment's "`KURZ__` environment variable(s)".)
pub mod source {
    pub const DEFAULTS: &str = "config/default.toml";
    pub const KURZ_ENV: &str = "KURZ_ENV";
    pub const KURZ_ENV_UNSET: &str = "default (KURZ_ENV not set)";
    pub const DATABASE_URL: &str = "DATABASE_URL environment variable";
    pub const RUST_LOG: &str = "RUST_LOG environment variable";
}

/// A provider under another name, so that a value's metadata says which layer it came from.
struct Named<P> {
    name: &'static str,
    provider: P,
}

impl<P: Provider> Provider for Named<P> {
    fn metadata(&self) -> Metadata {
        Metadata::named(self.name)
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        self.provider.data()
    }

    fn profile(&self) -> Option<Profile> {
        self.provider.profile()
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub environment: Environment,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub redirect: RedirectSettings,
    pub slug: SlugSettings,
    pub target: TargetSettings,
    pub robots: RobotsSettings,
    pub root: RootSettings,
    pub pagination: PaginationSettings,
    pub explorer: ExplorerSettings,
    pub visits: VisitSettings,
    pub enrichment: EnrichmentSettings,
    pub cache: CacheSettings,
    pub rate_limit: RateLimitSettings,
    pub auth: AuthSettings,
    pub log: LogSettings,
    pub live: LiveSettings,
    pub cluster: ClusterSettings,
    pub titles: TitleSettings,
    pub geo: GeoSettings,
    pub webhooks: WebhookSettings,
    pub compat: CompatSettings,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub public_url: String,
    pub trusted_proxies: Vec<TrustedProxy>,
    pub request_timeout_secs: u64,
    pub max_body_bytes: usize,
    pub max_uri_bytes: usize,
    pub max_header_bytes: usize,
    pub max_concurrent_requests: NonZeroUsize,
    pub header_read_timeout_secs: NonZeroU64,
    pub max_headers: usize,
    pub shutdown_grace_secs: u64,
}

impl ServerSettings {
    /// The base of short links: `public_url` when set, else `http://HOST:PORT` for the port
    /// actually bound (a wildcard host is written as `localhost`). Without a trailing slash.
    pub fn public_url_for(&self, port: u16) -> String {
        match self.public_url.trim() {
            "" => {
                let host = match self.host.as_str() {
                    "0.0.0.0" | "::" | "[::]" => "localhost".to_owned(),
                    // An IPv6 address is written in brackets in a URL (RFC 3986).
                    host if host.contains(':') && !host.starts_with('[') => format!("[{host}]"),
                    host => host.to_owned(),
                };
                format!("http://{host}:{port}")
            }
            configured => configured.trim_end_matches('/').to_owned(),
        }
    }
}

/// An IP address or CIDR range whose `X-Forwarded-For` header is believed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct TrustedProxy(pub IpNet);

impl TryFrom<String> for TrustedProxy {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        if let Ok(net) = value.parse::<IpNet>() {
            return Ok(Self(net));
        }
        value
            .parse::<IpAddr>()
            .map(|ip| Self(IpNet::from(ip)))
            .map_err(|_| format!("`{value}` is neither an IP address nor a CIDR range"))
    }
}

impl From<TrustedProxy> for String {
    fn from(value: TrustedProxy) -> Self {
        value.0.to_string()
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: String,
    pub data_dir: PathBuf,
    pub max_connections: NonZeroU32,
    pub run_migrations: bool,
    pub acquire_timeout_secs: u64,
}

impl DatabaseSettings {
    /// The configured URL, or the default SQLite file inside `data_dir`.
    pub fn effective_url(&self) -> String {
        if self.url.trim().is_empty() {
            format!("sqlite://{}", self.data_dir.join("kurz.db").display())
        } else {
            self.url.trim().to_owned()
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RedirectSettings {
    pub status: u16,
    /// Where an expired link sends a click (302); empty answers 410 Gone.
    #[serde(default)]
    pub expired_url: String,
    /// `forward_query` of links created without one.
    #[serde(default)]
    pub forward_query: bool,
}

impl RedirectSettings {
    /// `status` as a status code; 302 if it is not one (validation refuses that at start).
    pub fn status_code(&self) -> axum::http::StatusCode {
        axum::http::StatusCode::from_u16(self.status)
            .ok()
            .filter(|status| status.is_redirection())
            .unwrap_or(axum::http::StatusCode::FOUND)
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SlugSettings {
    pub length: usize,
    pub alphabet: String,
    pub max_length: usize,
    pub reserved: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSettings {
    pub max_length: usize,
    /// Allow targets on loopback, private, link-local and other non-public IP addresses, and
    /// local names (`localhost`, `*.local`, `*.internal`). See docs/security.md.
    pub allow_private: bool,
    /// Hosts no target may have; a domain denies its subdomains too.
    pub deny_hosts: Vec<String>,
}

impl SlugSettings {
    pub fn policy(&self) -> crate::domain::SlugPolicy {
        crate::domain::SlugPolicy::new(self.length, &self.alphabet, self.max_length, &self.reserved)
    }
}

impl TargetSettings {
    /// The target policy of a kurz whose short links start with `public_url`.
    pub fn policy(&self, public_url: &str) -> Result<crate::domain::TargetPolicy, String> {
        crate::domain::TargetPolicy::new(
            self.max_length,
            self.allow_private,
            &self.deny_hosts,
            public_url,
        )
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RobotsSettings {
    /// Link previewers (user-agent tokens) that robots.txt lets fetch short links.
    pub preview_agents: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RootMode {
    Index,
    Redirect,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RootSettings {
    pub mode: RootMode,
    pub redirect_to: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PaginationSettings {
    pub default_limit: u32,
    pub max_limit: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExplorerSettings {
    pub enabled: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VisitSettings {
    pub queue_capacity: NonZeroUsize,
    pub enqueue_timeout_ms: u64,
    pub backpressure_timeout_ms: u64,
    pub batch_size: NonZeroUsize,
    pub flush_interval_ms: u64,
    pub write_parallelism: usize,
    /// Record clicks that reach no link (unknown slugs, expired links, `/`, other 404s).
    pub track_orphans: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EnrichmentSettings {
    pub anonymize_ips: bool,
    pub user_agent_cache_capacity: u64,
    pub extra_bot_tokens: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    pub enabled: bool,
    pub anonymous_creates_per_minute: u32,
    pub not_found_per_minute: u32,
    /// Creations per minute by each editor key; admin keys are not limited.
    pub editor_creates_per_minute: u32,
    /// Wrong passwords of protected links per minute, by each client IP and on each link.
    pub password_attempts_per_minute: u32,
}

/// Who may use the API without a key; see docs/security.md.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// Requests without a key act with `anonymous_role` (true in development); when false,
    /// they are answered 401.
    pub allow_anonymous: bool,
    /// The role of requests without a key: `admin` or `viewer` (an editor owns what it
    /// creates, and an anonymous caller is nobody to own anything).
    pub anonymous_role: crate::domain::Role,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSettings {
    pub capacity: u64,
    pub ttl_secs: u64,
    pub negative_ttl_secs: u64,
}

/// The live visit streams (`/api/visits/live`, `/api/urls/{slug}/visits/live`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LiveSettings {
    /// Visits buffered for the slowest subscriber before it is told how many it missed.
    pub channel_capacity: usize,
    /// Seconds between WebSocket pings and SSE comment lines.
    pub heartbeat_secs: NonZeroU64,
    /// Seconds a client may take to accept one message before it is disconnected.
    pub send_timeout_secs: NonZeroU64,
    /// Streams open at once on this instance; more are answered 503.
    pub max_subscribers: NonZeroUsize,
}

/// Titles fetched from a link's target when it is created without one (`src/titles/`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TitleSettings {
    /// Whether links created without a title get the target page's title in the background.
    pub fetch: bool,
    /// Milliseconds one fetch may take, redirects and body included.
    pub timeout_ms: NonZeroU64,
    /// Most bytes of a page read for its title.
    pub max_bytes: NonZeroUsize,
    /// Links waiting for their title; a link created when the queue is full gets none.
    pub queue_capacity: NonZeroUsize,
}

/// Geolocation of visits from a MaxMind-format `.mmdb` file; see docs/operations.md
/// ("Geolocation").
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GeoSettings {
    /// The `.mmdb` file; empty (the default) for no lookups at all.
    pub database: String,
    /// Seconds between two checks of the file's modification time (SIGHUP checks at once).
    pub check_interval_secs: NonZeroU64,
}

impl GeoSettings {
    /// The configured file, if any.
    pub fn database_path(&self) -> Option<&std::path::Path> {
        let path = self.database.trim();
        (!path.is_empty()).then(|| std::path::Path::new(path))
    }
}

/// The APIs of other shorteners that kurz also speaks (`src/http/compat/`); see docs/compat.md.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CompatSettings {
    pub shlink: ShlinkSettings,
    pub yourls: YourlsSettings,
}

/// Shlink's REST API v3 (`/rest/...`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ShlinkSettings {
    /// Whether `/rest/...` answers.
    pub enabled: bool,
    /// The Shlink version `/rest/health` reports; clients enable features by it.
    pub version: String,
    /// Origins whose pages may call the API (CORS); `*` for any.
    pub cors_allow_origins: Vec<String>,
    /// The most items a page of a list holds (`itemsPerPage=-1`, "all", means this many).
    pub max_items_per_page: u32,
    /// Pages that start before this row are read with `OFFSET`; later ones start after a key
    /// of the list's page index.
    pub offset_rows: u32,
    /// Boundary keys the page indexes of this process hold in all (least used dropped first).
    pub page_index_keys: u64,
    /// Seconds a page index is used at most, even when nothing it counts has changed (a tag's
    /// new name, a link's expiry by time).
    pub page_index_ttl_secs: u64,
}

/// YOURLS's `yourls-api.php`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct YourlsSettings {
    /// Whether `/yourls-api.php` answers.
    pub enabled: bool,
    /// The YOURLS version `action=version` reports.
    pub version: String,
    /// A second `shorturl` of a long URL answers with the first short URL (YOURLS's
    /// `YOURLS_UNIQUE_URLS`) instead of making another.
    pub unique_urls: bool,
    /// Timestamped signatures may be MD5 (what YOURLS before 1.10.5 and most of its clients
    /// send) besides SHA-256, SHA-384 and SHA-512.
    pub allow_md5: bool,
    /// Seconds a timestamped signature's time may be off from the server's.
    pub timestamp_skew_secs: u64,
    /// The secret YOURLS signature tokens are derived from (`kurz apikey yourls-token`); at
    /// least 32 characters. Empty: no tokens, only a whole kurz key as `signature`.
    pub secret: String,
}

impl YourlsSettings {
    /// The secret, when one is set.
    pub fn token_secret(&self) -> Option<&[u8]> {
        let secret = self.secret.trim();
        (!secret.is_empty()).then_some(secret.as_bytes())
    }
}

/// Webhook deliveries (`src/webhooks/`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// Whether this instance delivers queued events (events are queued whatever it says).
    pub deliver: bool,
    /// Attempts at one delivery before it is marked failed.
    pub max_attempts: NonZeroU32,
    /// Milliseconds one attempt may take, connecting included.
    pub timeout_ms: NonZeroU64,
    /// The wait before the first retry; each next one waits twice as long.
    pub backoff_base_ms: NonZeroU64,
    /// The longest wait between two attempts.
    pub backoff_max_ms: NonZeroU64,
    /// How often the outbox is polled for other instances' events and retries that came due.
    pub poll_interval_ms: NonZeroU64,
    /// Deliveries claimed (held in memory) at once.
    pub claim_batch: NonZeroU32,
    /// Deliveries in flight at once on this instance (one per endpoint at a time).
    pub concurrency: NonZeroUsize,
    /// Hours a delivered or failed delivery and its attempts are kept.
    pub retention_hours: NonZeroU64,
}

impl WebhookSettings {
    /// How long a claimed delivery stays leased: its attempt's timeout twice, and a margin;
    /// an instance that crashed meanwhile has its deliveries tried again after it.
    pub fn lease(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.timeout_ms.get().saturating_mul(2))
            + std::time::Duration::from_secs(30)
    }
}

/// How several kurz instances on one database hear about each other's visits and URL changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClusterBackend {
    /// One instance: everything stays in this process.
    Memory,
    /// Instances talk through PostgreSQL `LISTEN/NOTIFY`.
    Postgres,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSettings {
    pub backend: ClusterBackend,
    /// The `LISTEN/NOTIFY` channel; instances sharing a database must use the same one.
    pub channel: String,
    /// How often a server reads the link change log for changes made by other processes
    /// (commands, other instances), whatever the backend.
    pub poll_interval_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    pub filter: String,
}

impl Settings {
    /// Loads the settings the way the binary does: `KURZ_ENV`, the layered files, the
    /// environment variables.
    pub fn load() -> Result<Self, ConfigError> {
        Self::extract(Self::figment()?)
    }

    /// Every layer the binary reads, merged but not yet checked: what [`Settings::load`]
    /// extracts, and what `kurz check-config` shows with each value's source.
    pub fn figment() -> Result<Figment, ConfigError> {
        let (environment, environment_source) = match std::env::var("KURZ_ENV") {
            Ok(value) if !value.trim().is_empty() => (value.parse()?, source::KURZ_ENV),
            _ => (Environment::Development, source::KURZ_ENV_UNSET),
        };
        let mut figment = Self::layers(environment, environment_source);
        if let Ok(path) = std::env::var("KURZ_CONFIG_FILE") {
            if !std::path::Path::new(&path).is_file() {
                return Err(ConfigError(format!(
                    "KURZ_CONFIG_FILE: `{path}` is not a readable file"
                )));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        Ok(figment
            .merge(Env::prefixed("KURZ__").split("__"))
            .merge(Named {
                name: source::DATABASE_URL,
                provider: Env::raw()
                    .only(&["DATABASE_URL"])
                    .map(|_| "database.url".into()),
            })
            // The usual name for a tracing filter; over `log.filter` from any other layer.
            .merge(Named {
                name: source::RUST_LOG,
                provider: Env::raw().only(&["RUST_LOG"]).map(|_| "log.filter".into()),
            }))
    }

    /// Checks a figment built by [`Settings::figment`] (or any other) as `load` does.
    pub fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        Self::extract(figment)
    }

    /// The built-in defaults for one environment, without any outside source. Tests start here.
    pub fn defaults(environment: Environment) -> Result<Self, ConfigError> {
        Self::extract(Self::builtin(environment))
    }

    fn builtin(environment: Environment) -> Figment {
        Self::layers(environment, source::KURZ_ENV_UNSET)
    }

    fn layers(environment: Environment, environment_source: &'static str) -> Figment {
        Figment::new()
            .merge(Named {
                name: source::DEFAULTS,
                provider: Toml::string(DEFAULT_TOML),
            })
            .merge(Named {
                name: environment.overlay_name(),
                provider: Toml::string(environment.overlay()),
            })
            .merge(Named {
                name: environment_source,
                provider: Serialized::default("environment", environment),
            })
    }

    fn extract(figment: Figment) -> Result<Self, ConfigError> {
        let settings: Self = figment.extract().map_err(|error| {
            ConfigError(
                error
                    .into_iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks what types alone cannot (a zero where `NonZero*` is declared fails in
    /// `extract`, naming the key and its source); every message starts with the key it is about.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let fail = |key: &str, why: String| Err(ConfigError(format!("{key}: {why}")));
        if ![301, 302, 307, 308].contains(&self.redirect.status) {
            return fail(
                "redirect.status",
                format!("{} is not one of 301, 302, 307, 308", self.redirect.status),
            );
        }
        let alphabet: Vec<char> = self.slug.alphabet.chars().collect();
        if alphabet.len() < 2 {
            return fail("slug.alphabet", "needs at least two characters".into());
        }
        if let Some(c) = alphabet
            .iter()
            .find(|c| !(c.is_ascii_alphanumeric() || **c == '-' || **c == '_'))
        {
            return fail(
                "slug.alphabet",
                format!("`{c}` is not one of A-Z a-z 0-9 - _"),
            );
        }
        let mut unique = alphabet.clone();
        unique.sort_unstable();
        unique.dedup();
        if unique.len() != alphabet.len() {
            return fail("slug.alphabet", "has repeated characters".into());
        }
        if !(4..=32).contains(&self.slug.length) {
            return fail(
                "slug.length",
                format!("{} is outside 4..=32", self.slug.length),
            );
        }
        if self.slug.max_length < self.slug.length || self.slug.max_length > 255 {
            return fail(
                "slug.max_length",
                format!(
                    "{} must be between slug.length ({}) and 255",
                    self.slug.max_length, self.slug.length
                ),
            );
        }
        if self.pagination.max_limit == 0 || self.pagination.max_limit > 10_000 {
            return fail(
                "pagination.max_limit",
                format!("{} is outside 1..=10000", self.pagination.max_limit),
            );
        }
        if self.pagination.default_limit == 0
            || self.pagination.default_limit > self.pagination.max_limit
        {
            return fail(
                "pagination.default_limit",
                format!(
                    "{} must be between 1 and pagination.max_limit ({})",
                    self.pagination.default_limit, self.pagination.max_limit
                ),
            );
        }
        if !self.server.public_url.trim().is_empty() {
            check_http_url(&self.server.public_url)
                .or_else(|why| fail("server.public_url", why))?;
        }
        if !self.redirect.expired_url.is_empty() {
            check_http_url(&self.redirect.expired_url)
                .or_else(|why| fail("redirect.expired_url", why))?;
            if axum::http::HeaderValue::from_str(&self.redirect.expired_url).is_err() {
                return fail(
                    "redirect.expired_url",
                    "must be sendable as a Location header (percent-encode it)".into(),
                );
            }
        }
        if self.root.mode == RootMode::Redirect {
            check_http_url(&self.root.redirect_to).or_else(|why| fail("root.redirect_to", why))?;
        }
        let yourls = &self.compat.yourls;
        if yourls.token_secret().is_some_and(|s| s.len() < 32) {
            return fail(
                "compat.yourls.secret",
                "must be at least 32 characters (or empty for no signature tokens)".into(),
            );
        }
        if yourls.version.trim().is_empty() {
            return fail("compat.yourls.version", "must not be empty".into());
        }
        let shlink = &self.compat.shlink;
        if shlink.version.trim().is_empty() {
            return fail("compat.shlink.version", "must not be empty".into());
        }
        if shlink.max_items_per_page == 0 {
            return fail(
                "compat.shlink.max_items_per_page",
                "must be at least 1".into(),
            );
        }
        if let Some(origin) = shlink
            .cors_allow_origins
            .iter()
            .find(|o| *o != "*" && check_http_url(o).is_err())
        {
            return fail(
                "compat.shlink.cors_allow_origins",
                format!("`{origin}` is neither `*` nor an http(s) origin"),
            );
        }
        let url = self.database.effective_url();
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return fail(
                "database.url",
                "must start with sqlite:, postgres:// or postgresql://".into(),
            );
        }
        if self.server.max_headers < 16 {
            return fail("server.max_headers", "must be at least 16".into());
        }
        if self.server.max_uri_bytes < 256 || self.server.max_header_bytes < 1024 {
            return fail(
                "server.max_uri_bytes",
                "max_uri_bytes must be at least 256 and max_header_bytes at least 1024".into(),
            );
        }
        if !(1..=16).contains(&self.visits.write_parallelism) {
            return fail(
                "visits.write_parallelism",
                format!("{} is outside 1..=16", self.visits.write_parallelism),
            );
        }
        if self.auth.anonymous_role == crate::domain::Role::Editor {
            return fail(
                "auth.anonymous_role",
                "must be `admin` or `viewer`: an editor owns the URLs it creates, and an \
                 anonymous caller is nobody to own them"
                    .into(),
            );
        }
        if self.target.max_length < 16 {
            return fail("target.max_length", "must be at least 16".into());
        }
        for entry in &self.target.deny_hosts {
            if let Err(why) = crate::domain::TargetPolicy::deny_entry(entry) {
                return fail("target.deny_hosts", why);
            }
        }
        self.validate_live()?;
        for agent in &self.robots.preview_agents {
            let valid = !agent.is_empty()
                && agent
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if !valid {
                return fail(
                    "robots.preview_agents",
                    format!("`{agent}` is not a user-agent token (A-Z a-z 0-9 - _ .)"),
                );
            }
        }
        Ok(())
    }
}

impl Settings {
    fn validate_live(&self) -> Result<(), ConfigError> {
        let fail = |key: &str, why: String| Err(ConfigError(format!("{key}: {why}")));
        let live = &self.live;
        if !(1..=65_536).contains(&live.channel_capacity) {
            return fail(
                "live.channel_capacity",
                format!("{} is outside 1..=65536", live.channel_capacity),
            );
        }
        if self.cluster.backend == ClusterBackend::Postgres
            && self.database.effective_url().starts_with("sqlite:")
        {
            return fail(
                "cluster.backend",
                "`postgres` needs a PostgreSQL database.url; with SQLite only `memory` works \
                 (one instance per database file)"
                    .into(),
            );
        }
        let channel = &self.cluster.channel;
        let valid = !channel.is_empty()
            && channel.len() <= 63
            && channel.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && channel
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid {
            return fail(
                "cluster.channel",
                format!("`{channel}` is not a lower-case identifier (a-z 0-9 _, at most 63)"),
            );
        }
        if !(10..=60_000).contains(&self.cluster.poll_interval_ms) {
            return fail(
                "cluster.poll_interval_ms",
                format!("{} is outside 10..=60000", self.cluster.poll_interval_ms),
            );
        }
        Ok(())
    }
}

fn check_http_url(value: &str) -> Result<(), String> {
    match url::Url::parse(value.trim()) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(()),
        Ok(_) => Err(format!("`{value}` is not an absolute http(s) URL")),
        Err(e) => Err(format!("`{value}` is not a URL ({e})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_defaults_are_valid_for_both_environments() {
        let dev = Settings::defaults(Environment::Development).unwrap();
        assert!(dev.explorer.enabled);
        assert_eq!(dev.server.port, 8080);
        assert_eq!(dev.redirect.status, 302);
        let prod = Settings::defaults(Environment::Production).unwrap();
        assert!(!prod.explorer.enabled);
        assert_eq!(prod.log.format, LogFormat::Json);
    }

    #[test]
    fn unknown_keys_are_rejected_with_their_name() {
        let figment =
            Settings::builtin(Environment::Development).merge(Toml::string("[server]\nprot = 1\n"));
        let error = Settings::extract(figment).unwrap_err().to_string();
        assert!(error.contains("prot"), "{error}");
    }

    #[test]
    fn invalid_values_name_the_key() {
        let figment = Settings::builtin(Environment::Development)
            .merge(Toml::string("[redirect]\nstatus = 200\n"));
        let error = Settings::extract(figment).unwrap_err().to_string();
        assert!(error.contains("redirect.status"), "{error}");

        let figment = Settings::builtin(Environment::Development)
            .merge(Toml::string("[server]\nport = \"eighty\"\n"));
        let error = Settings::extract(figment).unwrap_err().to_string();
        assert!(error.contains("server.port"), "{error}");
    }

    #[test]
    fn zero_counts_and_durations_name_the_key() {
        for (toml, key) in [
            (
                "[server]\nmax_concurrent_requests = 0\n",
                "server.max_concurrent_requests",
            ),
            (
                "[server]\nheader_read_timeout_secs = 0\n",
                "server.header_read_timeout_secs",
            ),
            (
                "[database]\nmax_connections = 0\n",
                "database.max_connections",
            ),
            ("[visits]\nqueue_capacity = 0\n", "visits.queue_capacity"),
            ("[visits]\nbatch_size = 0\n", "visits.batch_size"),
            ("[live]\nheartbeat_secs = 0\n", "live.heartbeat_secs"),
            ("[live]\nsend_timeout_secs = 0\n", "live.send_timeout_secs"),
            ("[live]\nmax_subscribers = 0\n", "live.max_subscribers"),
        ] {
            let figment = Settings::builtin(Environment::Development).merge(Toml::string(toml));
            let error = Settings::extract(figment).unwrap_err().to_string();
            assert!(error.contains(key) && error.contains("nonzero"), "{error}");
        }
    }

    #[test]
    fn every_layer_names_its_source() {
        let figment = Settings::builtin(Environment::Production);
        let source = |key: &str| figment.find_metadata(key).unwrap().name.to_string();
        assert_eq!(source("server.port"), "config/default.toml");
        assert_eq!(source("server.host"), "config/production.toml");
        assert_eq!(source("environment"), super::source::KURZ_ENV_UNSET);
        assert!(Settings::from_figment(figment).is_ok());
    }

    #[test]
    fn public_url_defaults_to_the_listen_address() {
        let mut server = Settings::defaults(Environment::Development).unwrap().server;
        assert_eq!(server.public_url_for(8080), "http://127.0.0.1:8080");
        server.host = "0.0.0.0".into();
        assert_eq!(server.public_url_for(9000), "http://localhost:9000");
        server.host = "::1".into();
        assert_eq!(server.public_url_for(9000), "http://[::1]:9000");
        server.host = "[::1]".into();
        assert_eq!(server.public_url_for(9000), "http://[::1]:9000");
        server.public_url = "https://sho.rt/".into();
        assert_eq!(server.public_url_for(9000), "https://sho.rt");
    }

    #[test]
    fn default_database_is_a_sqlite_file_in_the_data_dir() {
        let dev = Settings::defaults(Environment::Development).unwrap();
        assert_eq!(dev.database.effective_url(), "sqlite://data/kurz.db");
    }

    #[test]
    fn target_and_robots_defaults() {
        for environment in [Environment::Development, Environment::Production] {
            let settings = Settings::defaults(environment).unwrap();
            assert!(!settings.target.allow_private);
            assert!(settings.target.deny_hosts.is_empty());
            assert_eq!(settings.robots.preview_agents.len(), 7);
            assert!(settings
                .robots
                .preview_agents
                .contains(&"facebookexternalhit".to_owned()));
        }
    }

    #[test]
    fn deny_hosts_and_preview_agents_are_checked() {
        for bad in [
            "[target]\ndeny_hosts = [\"\"]\n",
            "[target]\ndeny_hosts = [\"https://example.com/\"]\n",
            "[target]\ndeny_hosts = [\"example.com:8080\"]\n",
            "[target]\ndeny_hosts = [\"bad_label.example\"]\n",
        ] {
            let figment = Settings::builtin(Environment::Development).merge(Toml::string(bad));
            let error = Settings::extract(figment).unwrap_err().to_string();
            assert!(error.contains("target.deny_hosts"), "{bad}: {error}");
        }
        let figment = Settings::builtin(Environment::Development).merge(Toml::string(
            "[target]\ndeny_hosts = [\"Example.COM\", \"bücher.example\", \"10.0.0.1\", \"::1\"]\n",
        ));
        assert!(Settings::extract(figment).is_ok());
        for bad in ["", "Bad Bot", "agent\\nDisallow"] {
            let toml = format!("[robots]\npreview_agents = [\"{bad}\"]\n");
            let figment = Settings::builtin(Environment::Development).merge(Toml::string(&toml));
            let error = Settings::extract(figment).unwrap_err().to_string();
            assert!(error.contains("robots.preview_agents"), "{bad:?}: {error}");
        }
    }

    #[test]
    fn cluster_postgres_needs_a_postgres_database() {
        let figment = Settings::builtin(Environment::Development)
            .merge(Toml::string("[cluster]\nbackend = \"postgres\"\n"));
        let error = Settings::extract(figment).unwrap_err().to_string();
        assert!(error.contains("cluster.backend"), "{error}");
        let figment = Settings::builtin(Environment::Development).merge(Toml::string(
            "[cluster]\nbackend = \"postgres\"\n[database]\nurl = \"postgres://db/kurz\"\n",
        ));
        assert!(Settings::extract(figment).is_ok());
        let figment = Settings::builtin(Environment::Development)
            .merge(Toml::string("[cluster]\nchannel = \"Kurz-Events\"\n"));
        let error = Settings::extract(figment).unwrap_err().to_string();
        assert!(error.contains("cluster.channel"), "{error}");
    }

    #[test]
    fn trusted_proxies_accept_addresses_and_ranges() {
        assert!(TrustedProxy::try_from("10.0.0.1".to_string()).is_ok());
        assert!(TrustedProxy::try_from("10.0.0.0/8".to_string()).is_ok());
        assert!(TrustedProxy::try_from("::1".to_string()).is_ok());
        assert!(TrustedProxy::try_from("nope".to_string()).is_err());
    }
}
