use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

use super::Invalid;

/// Where a short link points: an absolute `http`/`https` URL with a host, normalised by the
/// `url` crate (scheme and host lower-cased, IDNs as punycode, unsafe bytes percent-encoded).
///
/// [`TargetUrl::parse`] checks the syntax only; requests and commands parse through a
/// [`TargetPolicy`], which also applies the rules on what a link may point to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetUrl(Url);

impl TargetUrl {
    /// The syntax alone. Anything that takes a target from a user parses it with
    /// [`TargetPolicy::parse`] instead.
    pub fn parse(value: &str, max_length: usize) -> Result<Self, Invalid> {
        let invalid = |reason: &str| Invalid::new("url", reason);
        if value.is_empty() {
            return Err(invalid("must not be empty"));
        }
        if value.len() > max_length {
            return Err(Invalid::new(
                "url",
                format!("must be at most {max_length} bytes"),
            ));
        }
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("must not contain whitespace or control characters"));
        }
        let url = Url::parse(value).map_err(|e| match e {
            url::ParseError::RelativeUrlWithoutBase => {
                invalid("must be an absolute URL such as https://example.com/page")
            }
            other => Invalid::new("url", format!("is not a valid URL ({other})")),
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Invalid::new(
                "url",
                format!(
                    "scheme `{}` is not allowed (only http and https)",
                    url.scheme()
                ),
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("must have a host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("must not contain a user name or password"));
        }
        if url.as_str().len() > max_length {
            return Err(Invalid::new(
                "url",
                format!("must be at most {max_length} bytes once normalised"),
            ));
        }
        Ok(Self(url))
    }

    /// A target read back from the store, which only ever holds checked targets.
    pub(crate) fn from_stored(value: &str) -> Option<Self> {
        Url::parse(value).ok().map(Self)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn host(&self) -> Option<&str> {
        self.0.host_str()
    }

    /// The host as the search index keeps it: lower case, empty if there is none.
    pub fn host_key(&self) -> String {
        self.host().unwrap_or_default().to_ascii_lowercase()
    }
}

impl fmt::Display for TargetUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a short link may point to, beyond the syntax [`TargetUrl::parse`] checks: a real domain
/// name or a public IP address, never kurz itself, never a denied host. Built once from the
/// settings (`[target]`) and kurz's public URL, and used by every way a target comes in: the
/// API (create and `PATCH`), `kurz url create` and `kurz import`.
#[derive(Debug, Clone)]
pub struct TargetPolicy {
    max_length: usize,
    allow_private: bool,
    /// The host of kurz's effective public URL, normalised as [`normal_host`] does.
    own_host: Option<String>,
    /// `target.deny_hosts`, normalised: lower-case punycode without a trailing dot.
    deny_hosts: Vec<String>,
}

/// Longest domain name, in bytes, without a trailing dot (RFC 1035).
const MAX_DOMAIN_LENGTH: usize = 253;
/// Longest label of a domain name, in bytes.
const MAX_LABEL_LENGTH: usize = 63;
/// Names that only mean something on the local network (RFC 6761, RFC 6762, ICANN's
/// `.internal`): refused, with `localhost` itself, unless `target.allow_private` is set.
const LOCAL_SUFFIXES: [&str; 3] = ["localhost", "local", "internal"];

impl TargetPolicy {
    /// The policy (`[target]`) for a kurz whose short links start with `public_url`: targets
    /// of at most `max_length` bytes, on public hosts unless `allow_private`, none on a host in
    /// `deny_hosts` or under one. Fails, naming the entry, when a `deny_hosts` entry is not a
    /// host name or IP address (`Settings::validate` reports the same at start).
    pub fn new(
        max_length: usize,
        allow_private: bool,
        deny_hosts: &[String],
        public_url: &str,
    ) -> Result<Self, String> {
        let deny_hosts = deny_hosts
            .iter()
            .map(|entry| Self::deny_entry(entry))
            .collect::<Result<Vec<_>, _>>()?;
        let own_host = Url::parse(public_url.trim())
            .ok()
            .and_then(|url| url.host().map(|host| host_key(&host)));
        Ok(Self {
            max_length,
            allow_private,
            own_host,
            deny_hosts,
        })
    }

    /// One `target.deny_hosts` entry as it is compared: lower-case punycode, no trailing dot;
    /// an IPv6 address in brackets. International names are converted with IDNA, as the `url`
    /// crate converts a target's host.
    pub fn deny_entry(entry: &str) -> Result<String, String> {
        let trimmed = entry.trim();
        let bad = |why: &str| {
            Err(format!(
                "`{entry}` is not a host name or IP address ({why})"
            ))
        };
        if trimmed.is_empty() {
            return bad("it is empty");
        }
        if trimmed.contains("://") || trimmed.contains(['/', '@', '?', '#']) {
            return bad("give the host alone, without scheme, path or port");
        }
        let unbracketed = trimmed.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = unbracketed.parse::<IpAddr>() {
            return Ok(match ip {
                IpAddr::V4(v4) => v4.to_string(),
                IpAddr::V6(v6) => format!("[{v6}]"),
            });
        }
        if trimmed.contains(':') {
            return bad("give the host alone, without scheme, path or port");
        }
        match Host::parse(trimmed.trim_end_matches('.')) {
            Ok(Host::Domain(domain)) => {
                let domain = normal_host(&domain);
                if let Err(why) = check_labels(&domain) {
                    return bad(&why);
                }
                Ok(domain)
            }
            Ok(Host::Ipv4(v4)) => Ok(v4.to_string()),
            Ok(Host::Ipv6(v6)) => Ok(format!("[{v6}]")),
            Err(e) => bad(&e.to_string()),
        }
    }

    pub fn max_length(&self) -> usize {
        self.max_length
    }

    /// Parses `value` as [`TargetUrl::parse`] does, then applies the rules.
    pub fn parse(&self, value: &str) -> Result<TargetUrl, Invalid> {
        let target = TargetUrl::parse(value, self.max_length)?;
        self.check(&target)?;
        Ok(target)
    }

    /// Whether a syntactically valid target may be a short link's target.
    pub fn check(&self, target: &TargetUrl) -> Result<(), Invalid> {
        let refuse = |reason: String| Err(Invalid::new("url", reason));
        let Some(host) = target.0.host() else {
            return refuse("must have a host".into());
        };
        let name = host_key(&host);
        let is_domain = matches!(host, Host::Domain(_));
        match host {
            Host::Domain(domain) => {
                if !self.allow_private {
                    if let Some(suffix) = LOCAL_SUFFIXES
                        .iter()
                        .find(|suffix| is_within(&name, suffix))
                    {
                        return refuse(format!(
                            "host `{domain}` is a local name (`{suffix}`): private targets are not \
                             allowed"
                        ));
                    }
                }
                if let Err(why) = check_labels(&name) {
                    return refuse(format!(
                        "host `{domain}` is not a valid domain name or IP address: {why}"
                    ));
                }
            }
            Host::Ipv4(v4) => self.check_ip(IpAddr::V4(v4), &name)?,
            Host::Ipv6(v6) => self.check_ip(IpAddr::V6(v6), &name)?,
        }
        if self.own_host.as_deref() == Some(name.as_str()) {
            return refuse(format!(
                "host `{name}` is this shortener's own host: a short link may not point to \
                 another short link"
            ));
        }
        let denied = |entry: &&String| {
            if is_domain {
                is_within(&name, entry)
            } else {
                name == **entry
            }
        };
        if let Some(entry) = self.deny_hosts.iter().find(denied) {
            return refuse(format!(
                "host `{name}` is on the deny list (`{entry}` in target.deny_hosts)"
            ));
        }
        Ok(())
    }

    /// The address rule: a public address, unless `target.allow_private` is set. The title
    /// fetcher applies it to every address a target's host resolves to.
    pub fn check_ip(&self, ip: IpAddr, name: &str) -> Result<(), Invalid> {
        match non_public(ip) {
            Some(kind) if !self.allow_private => Err(Invalid::new(
                "url",
                format!(
                    "host `{name}` is {kind} address: private and reserved IP addresses are not \
                     allowed"
                ),
            )),
            _ => Ok(()),
        }
    }
}

/// A host as the rules compare it: a domain in lower case without one trailing dot, an IP
/// address as the standard library writes it (IPv6 in brackets).
fn host_key(host: &Host<&str>) -> String {
    match host {
        Host::Domain(domain) => normal_host(domain),
        Host::Ipv4(v4) => v4.to_string(),
        Host::Ipv6(v6) => format!("[{v6}]"),
    }
}

/// A domain as the rules compare it: lower case, without one trailing dot.
fn normal_host(host: &str) -> String {
    let lower = host.to_ascii_lowercase();
    match lower.strip_suffix('.') {
        Some(stripped) => stripped.to_owned(),
        None => lower,
    }
}

/// Whether `host` is `domain` or one of its subdomains (both normalised).
fn is_within(host: &str, domain: &str) -> bool {
    host == domain
        || host
            .strip_suffix(domain)
            .is_some_and(|rest| rest.ends_with('.'))
}

/// A domain name's shape: labels of 1 to 63 letters, digits and hyphens, not starting or ending
/// with a hyphen, at most 253 bytes, and at least two labels (a single label such as `intranet`
/// only resolves inside some network). `domain` is normalised (no trailing dot).
fn check_labels(domain: &str) -> Result<(), String> {
    if domain.is_empty() {
        return Err("it is empty".into());
    }
    if domain.len() > MAX_DOMAIN_LENGTH {
        return Err(format!("longer than {MAX_DOMAIN_LENGTH} bytes"));
    }
    for label in domain.split('.') {
        if label.is_empty() {
            return Err("it has an empty label".into());
        }
        if label.len() > MAX_LABEL_LENGTH {
            return Err(format!("a label is longer than {MAX_LABEL_LENGTH} bytes"));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(format!(
                "label `{label}` has characters other than letters, digits and hyphens"
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!("label `{label}` starts or ends with a hyphen"));
        }
    }
    if !domain.contains('.') {
        return Err(
            "a single-label name only resolves inside a network; a public name has at \
                    least one dot"
                .into(),
        );
    }
    Ok(())
}

/// What kind of non-public address `ip` is (with its article, for the message), or `None` for
/// a public one. IPv6 addresses that embed an IPv4 address (mapped `::ffff:a.b.c.d`, the
/// deprecated compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged by it.
pub fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => non_public_v6(v6),
    }
}

fn non_public_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip.is_unspecified() => "an unspecified",
        _ if ip.is_broadcast() => "a broadcast",
        (0, _, _) => "a this-network (0.0.0.0/8)",
        _ if ip.is_loopback() => "a loopback",
        _ if ip.is_private() => "a private (RFC 1918)",
        _ if ip.is_link_local() => "a link-local",
        (100, 64..=127, _) => "a shared (CGNAT, 100.64.0.0/10)",
        _ if ip.is_documentation() => "a documentation",
        (192, 0, 0) => "an IETF protocol (192.0.0.0/24)",
        (198, 18..=19, _) => "a benchmarking (198.18.0.0/15)",
        _ if ip.is_multicast() => "a multicast",
        (240..=255, _, _) => "a reserved (240.0.0.0/4)",
        _ => return None,
    })
}

fn non_public_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let segments = ip.segments();
    let embedded = |high: u16, low: u16| Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
    if ip.is_unspecified() {
        return Some("an unspecified");
    }
    if ip.is_loopback() {
        return Some("a loopback");
    }
    if let Some(v4) = ip.to_ipv4_mapped() {
        return non_public_v4(v4);
    }
    match segments {
        // IPv4-compatible (deprecated) and NAT64: the IPv4 address is in the last 32 bits.
        [0, 0, 0, 0, 0, 0, high, low] | [0x64, 0xff9b, 0, 0, 0, 0, high, low] => {
            return non_public_v4(embedded(high, low));
        }
        // 6to4: the IPv4 address follows the prefix.
        [0x2002, high, low, ..] => return non_public_v4(embedded(high, low)),
        _ => {}
    }
    let first = segments[0];
    Some(match first {
        _ if first & 0xfe00 == 0xfc00 => "a unique local (fc00::/7)",
        _ if first & 0xffc0 == 0xfe80 => "a link-local",
        _ if first & 0xffc0 == 0xfec0 => "a site-local",
        _ if first & 0xff00 == 0xff00 => "a multicast",
        0x2001 if segments[1] == 0x0db8 => "a documentation",
        0x3fff if segments[1] & 0xf000 == 0 => "a documentation",
        0x0100 if segments[1..4] == [0, 0, 0] => "a discard-only (100::/64)",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MAX: usize = 2048;

    #[test]
    fn accepts_and_normalises_http_urls() {
        let cases = [
            ("https://example.com", "https://example.com/"),
            ("HTTP://Example.COM/a?b=c#d", "http://example.com/a?b=c#d"),
            (
                "https://bücher.example/x",
                "https://xn--bcher-kva.example/x",
            ),
            ("https://example.com:8443/p", "https://example.com:8443/p"),
        ];
        for (input, normalised) in cases {
            assert_eq!(TargetUrl::parse(input, MAX).unwrap().as_str(), normalised);
        }
    }

    #[test]
    fn rejects_dangerous_or_malformed_targets() {
        let long = format!("https://example.com/{}", "a".repeat(MAX));
        let cases = [
            "",
            "javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "file:///etc/passwd",
            "ftp://example.com/",
            "/relative/path",
            "example.com",
            "https://exa mple.com/",
            " https://example.com/",
            "https://example.com/\n",
            "https://example.com/\u{0}",
            "https://user:pass@example.com/",
            "http://",
            long.as_str(),
        ];
        for input in cases {
            let error = TargetUrl::parse(input, MAX).unwrap_err();
            assert_eq!(error.field, "url", "{input:?}");
        }
    }

    /// `[target]` with this `allow_private` and `deny_hosts`.
    fn settings(allow_private: bool, deny_hosts: &[&str]) -> (bool, Vec<String>) {
        let deny_hosts = deny_hosts.iter().map(|h| (*h).to_owned()).collect();
        (allow_private, deny_hosts)
    }

    fn with(settings: &(bool, Vec<String>), public_url: &str) -> Result<TargetPolicy, String> {
        TargetPolicy::new(MAX, settings.0, &settings.1, public_url)
    }

    fn policy() -> TargetPolicy {
        with(&settings(false, &[]), "https://sho.rt/").unwrap()
    }

    fn reason(policy: &TargetPolicy, url: &str) -> String {
        let error = policy.parse(url).unwrap_err();
        assert_eq!(error.field, "url", "{url}");
        error.reason
    }

    #[test]
    fn public_domain_names_and_addresses_are_accepted() {
        let policy = policy();
        for url in [
            "https://example.com/",
            "https://EXAMPLE.com./page",
            "https://recipes.example/brownies",
            "https://browserbench.example/",
            "https://a.b.c.d.example.org:8443/x?y#z",
            "https://bücher.example/",
            "https://xn--bcher-kva.example/",
            "https://1-2.example/",
            "https://a1.example/",
            &format!("https://{}.example/", "a".repeat(63)),
            &format!("https://{}com/", "abcdefghi.".repeat(25)),
            "http://8.8.8.8/",
            "http://1.1.1.1:8080/dns",
            "http://100.63.255.255/",
            "http://100.128.0.1/",
            "http://172.15.255.255/",
            "http://172.32.0.1/",
            "http://169.253.1.1/",
            "http://192.0.1.1/",
            "http://223.255.255.255/",
            "http://[2606:4700:4700::1111]/",
            "http://[2001:4860:4860::8888]/",
            "http://[::ffff:8.8.8.8]/",
            "http://[2002:808:808::1]/",
            "http://134744072/",
            "https://localhost.example.com/",
            "https://local.example/",
            "https://internal.example.com/",
        ] {
            assert!(policy.parse(url).is_ok(), "{url}: {:?}", policy.parse(url));
        }
    }

    #[test]
    fn hosts_must_be_domain_names_with_a_dot() {
        let policy = with(&settings(true, &[]), "https://sho.rt/").unwrap();
        for url in [
            "http://intranet/",
            "http://router/admin",
            "https://com/",
            "https://-bad.example/",
            "https://bad-.example/",
            "https://under_score.example/",
            "https://a..example/",
            &format!("https://{}.example/", "a".repeat(64)),
            &format!("https://{}com/", "abcdefghi.".repeat(26)),
        ] {
            let why = reason(&policy, url);
            assert!(why.contains("not a valid domain name"), "{url}: {why}");
        }
    }

    #[test]
    fn private_and_reserved_addresses_are_refused() {
        let policy = policy();
        for url in [
            "http://127.0.0.1/",
            "http://127.1/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0177.0.0.1/",
            "http://0.0.0.0/",
            "http://0/",
            "http://0.1.2.3/",
            "http://10.0.0.1/",
            "http://172.16.0.1/",
            "http://172.31.255.255/",
            "http://192.168.1.1:8080/",
            "http://169.254.169.254/latest/meta-data/",
            "http://100.64.0.1/",
            "http://100.127.255.255/",
            "http://192.0.2.1/",
            "http://198.51.100.7/",
            "http://203.0.113.9/",
            "http://198.18.0.1/",
            "http://192.0.0.8/",
            "http://224.0.0.1/",
            "http://239.255.255.250/",
            "http://240.0.0.1/",
            "http://255.255.255.255/",
            "http://[::1]/",
            "http://[::]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[::ffff:10.0.0.1]/",
            "http://[::ffff:169.254.169.254]/",
            "http://[::127.0.0.1]/",
            "http://[64:ff9b::a00:1]/",
            "http://[2002:c0a8:101::1]/",
            "http://[fc00::1]/",
            "http://[fd12:3456::1]/",
            "http://[fe80::1]/",
            "http://[febf::1]/",
            "http://[fec0::1]/",
            "http://[ff02::1]/",
            "http://[2001:db8::1]/",
            "http://[3fff::1]/",
            "http://[100::1]/",
        ] {
            let why = reason(&policy, url);
            assert!(why.contains("address"), "{url}: {why}");
            assert!(why.contains("not allowed"), "{url}: {why}");
        }
        let why = reason(&policy, "http://2130706433/");
        assert!(
            why.contains("127.0.0.1") && why.contains("loopback"),
            "{why}"
        );
    }

    #[test]
    fn local_names_are_refused() {
        let policy = policy();
        for url in [
            "http://localhost/",
            "http://LOCALHOST:8080/",
            "http://localhost./",
            "http://app.localhost/",
            "http://printer.local/",
            "http://db.internal/",
            "http://a.b.internal./",
        ] {
            let why = reason(&policy, url);
            assert!(why.contains("local name"), "{url}: {why}");
        }
        // A single label is not a domain name, whatever allow_private says.
        let why = reason(&policy, "http://intranet/");
        assert!(why.contains("not a valid domain name"), "{why}");
    }

    #[test]
    fn allow_private_lifts_the_address_and_local_name_rules() {
        let policy = with(&settings(true, &[]), "https://sho.rt/").unwrap();
        for url in [
            "http://127.0.0.1:3000/",
            "http://2130706433/",
            "http://[::1]/",
            "http://10.1.2.3/",
            "http://169.254.169.254/",
            "http://[fd00::1]/",
            "http://app.localhost/",
            "http://printer.local/",
            "http://db.internal/",
        ] {
            assert!(policy.parse(url).is_ok(), "{url}: {:?}", policy.parse(url));
        }
        // Not the other rules.
        assert!(policy.parse("http://localhost/").is_err());
        assert!(policy.parse("https://sho.rt/abc").is_err());
    }

    #[test]
    fn kurz_itself_is_never_a_target() {
        let policy = policy();
        for url in [
            "https://sho.rt/abc",
            "http://SHO.RT:8080/abc",
            "https://sho.rt./abc",
        ] {
            let why = reason(&policy, url);
            assert!(why.contains("own host"), "{url}: {why}");
        }
        assert!(policy.parse("https://www.sho.rt/").is_ok());
        assert!(policy.parse("https://notsho.rt/").is_ok());

        let allowing = with(&settings(true, &[]), "http://127.0.0.1:8080").unwrap();
        let why = reason(&allowing, "http://127.0.0.1:9999/");
        assert!(why.contains("own host"), "{why}");
        assert!(allowing.parse("http://127.0.0.2/").is_ok());

        let ipv6 = with(&settings(true, &[]), "http://[2001:DB8::1]/").unwrap();
        assert!(ipv6.parse("http://[2001:db8:0::1]/").is_err());
    }

    #[test]
    fn denied_hosts_and_their_subdomains_are_refused() {
        let policy = with(
            &settings(
                false,
                &[
                    "Evil.Example",
                    "bücher.example",
                    "8.8.4.4",
                    "[2606:4700::1]",
                ],
            ),
            "https://sho.rt/",
        )
        .unwrap();
        for url in [
            "https://evil.example/",
            "https://EVIL.example./x",
            "https://www.evil.example/",
            "https://a.b.evil.example/",
            "https://bücher.example/",
            "https://xn--bcher-kva.example/",
            "https://shop.BÜCHER.example/",
            "http://8.8.4.4/",
            "http://134743044/",
            "http://[2606:4700:0::1]/",
        ] {
            let why = reason(&policy, url);
            assert!(why.contains("deny list"), "{url}: {why}");
        }
        for url in [
            "https://notevil.example/",
            "https://evil.example.com/",
            "https://example/"
                .replace("example/", "example.org/")
                .as_str(),
            "http://8.8.8.8/",
            "http://4.8.8.4.4.example/",
        ] {
            assert!(policy.parse(url).is_ok(), "{url}: {:?}", policy.parse(url));
        }
    }

    #[test]
    fn deny_entries_are_normalised_or_refused() {
        assert_eq!(
            TargetPolicy::deny_entry(" Example.COM. ").unwrap(),
            "example.com"
        );
        assert_eq!(
            TargetPolicy::deny_entry("bücher.example").unwrap(),
            "xn--bcher-kva.example"
        );
        assert_eq!(TargetPolicy::deny_entry("::1").unwrap(), "[::1]");
        assert_eq!(TargetPolicy::deny_entry("[::1]").unwrap(), "[::1]");
        assert_eq!(TargetPolicy::deny_entry("10.0.0.1").unwrap(), "10.0.0.1");
        for bad in [
            "",
            "  ",
            "https://example.com",
            "example.com/path",
            "example.com:443",
            "user@example.com",
            "bad_label.example",
            "-bad.example",
        ] {
            assert!(TargetPolicy::deny_entry(bad).is_err(), "{bad:?}");
        }
        assert!(with(&settings(false, &["a b"]), "").is_err());
    }

    #[test]
    fn the_policy_keeps_the_syntax_rules() {
        let policy = policy();
        assert!(policy.parse("javascript:alert(1)").is_err());
        assert!(policy.parse("https://user:pw@example.com/").is_err());
        assert_eq!(policy.max_length(), MAX);
        let long = format!("https://example.com/{}", "a".repeat(MAX));
        assert!(policy.parse(&long).is_err());
    }

    fn arbitrary_ipv4() -> impl Strategy<Value = Ipv4Addr> {
        any::<u32>().prop_map(Ipv4Addr::from)
    }

    /// Hosts of every kind, private ones well represented.
    fn arbitrary_host() -> impl Strategy<Value = String> {
        prop_oneof![
            arbitrary_ipv4().prop_map(|ip| ip.to_string()),
            any::<u32>().prop_map(|n| n.to_string()),
            prop_oneof![
                Just(10u8),
                Just(127),
                Just(169),
                Just(172),
                Just(192),
                Just(100),
                Just(0),
                Just(224)
            ]
            .prop_flat_map(|a| (Just(a), any::<[u8; 3]>()))
            .prop_map(|(a, [b, c, d])| format!("{a}.{b}.{c}.{d}")),
            any::<u128>().prop_map(|n| format!("[{}]", Ipv6Addr::from(n))),
            arbitrary_ipv4().prop_map(|ip| format!("[::ffff:{ip}]")),
            (0u16..=0xffff, any::<u16>()).prop_map(|(a, b)| format!("[{a:x}::{b:x}]")),
            "[a-z0-9-]{1,12}(\\.[a-z0-9-]{1,12}){0,3}\\.?",
            "[a-z]{1,8}\\.(localhost|local|internal)",
            "\\PC{1,30}",
        ]
    }

    proptest! {
        #[test]
        fn accepted_targets_never_have_a_private_host(host in arbitrary_host(), path in "[a-z/]{0,10}") {
            let policy = policy();
            let url = format!("http://{host}/{path}");
            if let Ok(target) = policy.parse(&url) {
                let parsed = Url::parse(target.as_str()).unwrap();
                match parsed.host().unwrap() {
                    Host::Ipv4(ip) => prop_assert!(non_public(IpAddr::V4(ip)).is_none(), "{url}"),
                    Host::Ipv6(ip) => {
                        prop_assert!(non_public(IpAddr::V6(ip)).is_none(), "{url}");
                        prop_assert!(!ip.is_loopback() && !ip.is_unspecified(), "{url}");
                        if let Some(v4) = ip.to_ipv4_mapped() {
                            prop_assert!(!v4.is_private() && !v4.is_loopback(), "{url}");
                        }
                        prop_assert!(ip.segments()[0] & 0xfe00 != 0xfc00, "{url}");
                        prop_assert!(ip.segments()[0] & 0xffc0 != 0xfe80, "{url}");
                    }
                    Host::Domain(domain) => {
                        let domain = domain.trim_end_matches('.');
                        prop_assert!(domain.contains('.'), "{url}");
                        prop_assert!(domain != "localhost" && !domain.ends_with(".localhost"), "{url}");
                        prop_assert!(!domain.ends_with(".local") && !domain.ends_with(".internal"), "{url}");
                    }
                }
                if let Some(Host::Ipv4(ip)) = parsed.host() {
                    prop_assert!(!ip.is_private() && !ip.is_loopback() && !ip.is_link_local(), "{url}");
                    prop_assert!(!ip.is_unspecified() && !ip.is_broadcast() && !ip.is_multicast(), "{url}");
                }
            }
        }

        #[test]
        fn policy_parse_never_panics(s in "\\PC{0,300}", allow in any::<bool>()) {
            let policy = with(&settings(allow, &["example.org"]), "https://sho.rt").unwrap();
            let _ = policy.parse(&s);
            let _ = policy.parse(&format!("http://{s}"));
            let _ = TargetPolicy::deny_entry(&s);
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_keeps_only_http(s in "\\PC{0,300}") {
            if let Ok(target) = TargetUrl::parse(&s, MAX) {
                prop_assert!(target.as_str().starts_with("http://") || target.as_str().starts_with("https://"));
                prop_assert!(target.as_str().len() <= MAX);
                prop_assert!(!target.as_str().chars().any(char::is_whitespace));
            }
        }

        #[test]
        fn parsed_targets_parse_again_to_themselves(host in "[a-z]{1,20}\\.[a-z]{2,6}", path in "[a-zA-Z0-9/._~-]{0,50}") {
            let first = TargetUrl::parse(&format!("https://{host}/{path}"), MAX).unwrap();
            let again = TargetUrl::parse(first.as_str(), MAX).unwrap();
            prop_assert_eq!(first, again);
        }
    }
}
