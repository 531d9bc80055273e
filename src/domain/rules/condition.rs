//! One condition of a rule, and the click it is checked against.

use std::fmt;
use std::net::IpAddr;

use chrono::{DateTime, SecondsFormat, Utc};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::device::Device;
use super::language::{accepts_first, LanguageTag};
use crate::domain::CountryCode;

/// What a condition looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConditionKind {
    Device,
    Language,
    Query,
    Ip,
    After,
    Before,
    Country,
}

/// The longest condition value accepted.
const MAX_VALUE_CHARS: usize = 512;

/// A parsed condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// The user agent says this kind of device.
    Device(Device),
    /// The client's most preferred language (highest q-value) is this one.
    Language(LanguageTag),
    /// The query string has this parameter (with this value, when one is given).
    Query { name: String, value: Option<String> },
    /// The client address (after the trusted-proxy rules) is in this network.
    Ip(IpNet),
    /// At or after this time.
    After(DateTime<Utc>),
    /// Before this time.
    Before(DateTime<Utc>),
    /// The geolocation database places the client address in this country. Without a
    /// database (`geo.database`), it never holds.
    Country(CountryCode),
}

/// Which country a client address is in, asked only when a `country` condition is checked.
/// The geolocation service implements it; the domain knows nothing of its files.
pub trait CountryLookup: fmt::Debug + Send + Sync {
    fn country(&self, ip: IpAddr) -> Option<CountryCode>;
}

/// No geolocation: every address is in no known country.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCountries;

impl CountryLookup for NoCountries {
    fn country(&self, _: IpAddr) -> Option<CountryCode> {
        None
    }
}

/// What the conditions look at: one click, read from its request without parsing anything
/// until a condition asks.
#[derive(Debug, Clone, Copy)]
pub struct Click<'a> {
    pub user_agent: Option<&'a [u8]>,
    pub accept_language: Option<&'a [u8]>,
    /// The raw query string, without `?`.
    pub query: Option<&'a str>,
    pub client_ip: IpAddr,
    pub now: DateTime<Utc>,
    /// Looks the client address up, only when a `country` condition asks.
    pub countries: &'a dyn CountryLookup,
}

impl Condition {
    /// Parses a condition's value; the error is the reason, for the caller to name the field.
    pub fn parse(kind: ConditionKind, value: &str) -> Result<Self, String> {
        let value = value.trim();
        if value.is_empty() {
            return Err("must not be empty".into());
        }
        if value.chars().count() > MAX_VALUE_CHARS {
            return Err(format!("must be at most {MAX_VALUE_CHARS} characters"));
        }
        if value.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        let time = |value: &str| {
            DateTime::parse_from_rfc3339(value)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| format!("`{value}` is not an RFC 3339 time"))
        };
        Ok(match kind {
            ConditionKind::Device => Self::Device(value.parse()?),
            ConditionKind::Language => Self::Language(value.parse()?),
            ConditionKind::Query => {
                let (name, wanted) = match value.split_once('=') {
                    Some((name, wanted)) => (name, Some(wanted.to_owned())),
                    None => (value, None),
                };
                if name.is_empty() || name.contains('&') {
                    return Err(format!(
                        "`{value}` is not `name=value` or `name` (a query parameter)"
                    ));
                }
                Self::Query {
                    name: name.to_owned(),
                    value: wanted,
                }
            }
            ConditionKind::Ip => Self::Ip(match value.parse::<IpNet>() {
                Ok(net) => net.trunc(),
                Err(_) => value
                    .parse::<IpAddr>()
                    .map(IpNet::from)
                    .map_err(|_| format!("`{value}` is not an IP address or a CIDR block"))?,
            }),
            ConditionKind::After => Self::After(time(value)?),
            ConditionKind::Before => Self::Before(time(value)?),
            ConditionKind::Country => Self::Country(value.parse()?),
        })
    }

    pub fn kind(&self) -> ConditionKind {
        match self {
            Self::Device(_) => ConditionKind::Device,
            Self::Language(_) => ConditionKind::Language,
            Self::Query { .. } => ConditionKind::Query,
            Self::Ip(_) => ConditionKind::Ip,
            Self::After(_) => ConditionKind::After,
            Self::Before(_) => ConditionKind::Before,
            Self::Country(_) => ConditionKind::Country,
        }
    }

    /// Whether the condition holds for this click.
    pub fn holds(&self, click: &Click<'_>) -> bool {
        match self {
            Self::Device(device) => device.matches(click.user_agent),
            Self::Language(tag) => click
                .accept_language
                .is_some_and(|header| accepts_first(header, tag)),
            Self::Query { name, value } => click.query.is_some_and(|query| {
                url::form_urlencoded::parse(query.as_bytes()).any(|(n, v)| {
                    n == name.as_str() && value.as_deref().is_none_or(|wanted| v == wanted)
                })
            }),
            Self::Ip(net) => net.contains(&click.client_ip.to_canonical()),
            Self::After(at) => click.now >= *at,
            Self::Before(at) => click.now < *at,
            Self::Country(code) => click.countries.country(click.client_ip) == Some(*code),
        }
    }
}

impl fmt::Display for Condition {
    /// The value as a client reads it back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Device(device) => device.fmt(f),
            Self::Language(tag) => tag.fmt(f),
            Self::Query { name, value: None } => f.write_str(name),
            Self::Query {
                name,
                value: Some(value),
            } => write!(f, "{name}={value}"),
            Self::Ip(net) if net.prefix_len() == net.max_prefix_len() => net.addr().fmt(f),
            Self::Ip(net) => net.fmt(f),
            Self::After(at) | Self::Before(at) => {
                f.write_str(&at.to_rfc3339_opts(SecondsFormat::AutoSi, true))
            }
            Self::Country(code) => code.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn click<'a>() -> Click<'a> {
        Click {
            user_agent: None,
            accept_language: None,
            query: None,
            client_ip: "203.0.113.9".parse().unwrap(),
            now: Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap(),
            countries: &NoCountries,
        }
    }

    fn holds(kind: ConditionKind, value: &str, click: Click<'_>) -> bool {
        Condition::parse(kind, value).unwrap().holds(&click)
    }

    #[test]
    fn query_conditions_match_a_value_or_presence() {
        let with = |query| Click {
            query: Some(query),
            ..click()
        };
        assert!(holds(
            ConditionKind::Query,
            "utm_source=mail",
            with("a=1&utm_source=mail")
        ));
        assert!(!holds(
            ConditionKind::Query,
            "utm_source=mail",
            with("utm_source=web")
        ));
        assert!(holds(ConditionKind::Query, "ref", with("ref=&x=1")));
        assert!(holds(ConditionKind::Query, "q=a b", with("q=a+b")));
        assert!(holds(ConditionKind::Query, "q=ü", with("q=%C3%BC")));
        assert!(!holds(ConditionKind::Query, "ref", with("reference=1")));
        assert!(!holds(ConditionKind::Query, "ref", click()));
    }

    #[test]
    fn ip_conditions_take_addresses_and_blocks() {
        assert!(holds(ConditionKind::Ip, "203.0.113.0/24", click()));
        assert!(holds(ConditionKind::Ip, "203.0.113.9", click()));
        assert!(!holds(ConditionKind::Ip, "203.0.113.10", click()));
        let mapped = Click {
            client_ip: "::ffff:203.0.113.9".parse().unwrap(),
            ..click()
        };
        assert!(holds(ConditionKind::Ip, "203.0.113.0/24", mapped));
        assert!(holds(
            ConditionKind::Ip,
            "2001:db8::/32",
            Click {
                client_ip: "2001:db8::1".parse().unwrap(),
                ..click()
            }
        ));
        // A block is kept by its network: 203.0.113.9/24 is 203.0.113.0/24.
        let block = Condition::parse(ConditionKind::Ip, "203.0.113.9/24").unwrap();
        assert_eq!(block.to_string(), "203.0.113.0/24");
        for bad in ["203.0.113", "10.0.0.0/33", "localhost"] {
            assert!(Condition::parse(ConditionKind::Ip, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn time_conditions_bound_the_click() {
        assert!(holds(ConditionKind::After, "2026-12-01T12:00:00Z", click()));
        assert!(!holds(
            ConditionKind::Before,
            "2026-12-01T12:00:00Z",
            click()
        ));
        assert!(holds(
            ConditionKind::Before,
            "2026-12-01T13:00:00+01:00",
            Click {
                now: Utc.with_ymd_and_hms(2026, 12, 1, 11, 59, 59).unwrap(),
                ..click()
            }
        ));
        assert!(Condition::parse(ConditionKind::After, "tomorrow").is_err());
    }

    /// Places 203.0.113.0/24 in Germany and nothing else anywhere.
    #[derive(Debug)]
    struct Germany;

    impl CountryLookup for Germany {
        fn country(&self, ip: IpAddr) -> Option<CountryCode> {
            let net: IpNet = "203.0.113.0/24".parse().unwrap();
            net.contains(&ip).then(|| "DE".parse().unwrap())
        }
    }

    #[test]
    fn country_conditions_ask_the_lookup() {
        let located = Click {
            countries: &Germany,
            ..click()
        };
        assert!(holds(ConditionKind::Country, "de", located));
        assert!(!holds(ConditionKind::Country, "FR", located));
        // Without a geolocation database no country condition holds.
        assert!(!holds(ConditionKind::Country, "DE", click()));
        assert_eq!(
            Condition::parse(ConditionKind::Country, "de")
                .unwrap()
                .to_string(),
            "DE"
        );
        for bad in ["Germany", "D", "1A"] {
            assert!(
                Condition::parse(ConditionKind::Country, bad).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn values_are_checked() {
        for (kind, value) in [
            (ConditionKind::Query, ""),
            (ConditionKind::Query, "=x"),
            (ConditionKind::Query, "a&b"),
            (ConditionKind::Device, "toaster"),
            (ConditionKind::Language, "german"),
            (ConditionKind::Language, "d"),
        ] {
            assert!(Condition::parse(kind, value).is_err(), "{kind:?} {value}");
        }
        assert!(Condition::parse(ConditionKind::Query, &"x".repeat(513)).is_err());
    }
}
