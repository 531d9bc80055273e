//! Shlink's redirect rule conditions mapped onto kurz's rule conditions and back.
//!
//! Each Shlink condition type kurz can evaluate becomes one kurz condition (`device`,
//! `language`, `query-param`, `any-value-query-param`, `ip-address`,
//! `geolocation-country-code`, `before-date`, `after-date`); what kurz cannot evaluate is
//! refused with a reason instead of being stored and never matching: the `chromeos` device,
//! `valueless-query-param`, `geolocation-city-name`, `browser`, and IP wildcards other than
//! whole trailing octets (`192.168.*.*`, which is the CIDR block `192.168.0.0/16`). Every kurz
//! condition reads back as a Shlink one.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::views::atom;
use crate::domain::{ConditionKind, ConditionSpec, Device, RuleSpec};

/// One condition as Shlink writes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ShlinkRedirectCondition)]
pub struct ShlinkCondition {
    /// `device`, `language`, `query-param`, `any-value-query-param`, `ip-address`,
    /// `geolocation-country-code`, `before-date` or `after-date`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The query parameter's name (`query-param`, `any-value-query-param`); `null` otherwise.
    #[serde(default)]
    pub match_key: Option<String>,
    /// What the condition compares with; `null` for `any-value-query-param`.
    #[serde(default)]
    pub match_value: Option<String>,
}

/// One rule as Shlink's clients send it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ShlinkRedirectRuleInput)]
pub struct ShlinkRuleInput {
    /// Where a click that meets every condition goes.
    #[serde(default)]
    pub long_url: Option<String>,
    /// All must hold (1 to 10).
    #[serde(default)]
    pub conditions: Option<Vec<ShlinkCondition>>,
}

/// A kurz condition as Shlink reads one.
pub fn to_shlink(spec: &ConditionSpec) -> ShlinkCondition {
    let plain = |kind: &str, value: &str| ShlinkCondition {
        kind: kind.into(),
        match_key: None,
        match_value: Some(value.into()),
    };
    // A time written back as Shlink writes one (ATOM); kurz stores RFC 3339.
    let time = |kind: &str| {
        let value = DateTime::parse_from_rfc3339(&spec.value)
            .map(|t| atom(t.with_timezone(&Utc)))
            .unwrap_or_else(|_| spec.value.clone());
        plain(kind, &value)
    };
    match spec.kind {
        ConditionKind::Device => plain("device", &spec.value),
        ConditionKind::Language => plain("language", &spec.value),
        ConditionKind::Query => match spec.value.split_once('=') {
            Some((name, value)) => ShlinkCondition {
                kind: "query-param".into(),
                match_key: Some(name.into()),
                match_value: Some(value.into()),
            },
            None => ShlinkCondition {
                kind: "any-value-query-param".into(),
                match_key: Some(spec.value.clone()),
                match_value: None,
            },
        },
        ConditionKind::Ip => plain("ip-address", &spec.value),
        ConditionKind::Country => plain("geolocation-country-code", &spec.value),
        ConditionKind::Before => time("before-date"),
        ConditionKind::After => time("after-date"),
    }
}

/// A Shlink condition as kurz's, or why kurz cannot evaluate it. The value is checked again
/// when the rules are parsed (`crate::domain::Rules::parse`).
pub fn to_kurz(condition: &ShlinkCondition) -> Result<ConditionSpec, String> {
    let value = condition.match_value.as_deref().unwrap_or("").trim();
    let key = condition.match_key.as_deref().unwrap_or("").trim();
    let spec = |kind, value: String| Ok(ConditionSpec { kind, value });
    match condition.kind.as_str() {
        "device" => {
            let device = value.to_ascii_lowercase();
            if device == "chromeos" {
                return Err(
                    "kurz does not tell ChromeOS apart: the device `chromeos` is not \
                            supported (`desktop` holds for it)"
                        .into(),
                );
            }
            if !Device::ALL.contains(&device.as_str()) {
                return Err(format!(
                    "`{value}` is not a device kurz knows ({})",
                    Device::ALL.join(", ")
                ));
            }
            spec(ConditionKind::Device, device)
        }
        "language" => spec(ConditionKind::Language, value.replace('_', "-")),
        "query-param" => {
            if key.is_empty() {
                return Err("`query-param` needs the parameter's name in `matchKey`".into());
            }
            spec(ConditionKind::Query, format!("{key}={value}"))
        }
        "any-value-query-param" => {
            // Shlink keeps the name in `matchKey`; a client that put it in `matchValue` is
            // understood too.
            let name = if key.is_empty() { value } else { key };
            if name.is_empty() || name.contains('=') {
                return Err(
                    "`any-value-query-param` needs the parameter's name in `matchKey`".into(),
                );
            }
            spec(ConditionKind::Query, name.to_owned())
        }
        "valueless-query-param" => Err("kurz has no condition on a query parameter given \
                                        without a value (`valueless-query-param`); \
                                        `any-value-query-param` holds for any value"
            .into()),
        "ip-address" => spec(ConditionKind::Ip, ip_block(value)?),
        "geolocation-country-code" => spec(ConditionKind::Country, value.to_ascii_uppercase()),
        "geolocation-city-name" => Err("kurz has no condition on the city \
                                        (`geolocation-city-name`); \
                                        `geolocation-country-code` is supported"
            .into()),
        "before-date" => spec(ConditionKind::Before, date_time(value)?),
        "after-date" => spec(ConditionKind::After, date_time(value)?),
        "browser" => Err("kurz has no condition on the browser (`browser`)".into()),
        "" => Err("a condition needs a `type`".into()),
        other => Err(format!("`{other}` is not a redirect condition type")),
    }
}

/// Shlink's IP value as kurz's: an address or CIDR block as it is; a wildcard of whole
/// trailing octets (`192.168.*.*`) as the block it covers (`192.168.0.0/16`).
fn ip_block(value: &str) -> Result<String, String> {
    if !value.contains('*') {
        return Ok(value.to_owned());
    }
    let refused = || {
        format!(
            "`{value}`: kurz takes wildcards of whole trailing octets only (`192.168.*.*`), \
             or a CIDR block"
        )
    };
    let octets: Vec<&str> = value.split('.').collect();
    if octets.len() != 4 {
        return Err(refused());
    }
    let fixed = octets.iter().take_while(|octet| **octet != "*").count();
    if octets[fixed..].iter().any(|octet| *octet != "*") {
        return Err(refused());
    }
    let mut address = [0u8; 4];
    for (slot, octet) in address.iter_mut().zip(&octets[..fixed]) {
        *slot = octet.parse().map_err(|_| refused())?;
    }
    let [a, b, c, d] = address;
    Ok(format!("{a}.{b}.{c}.{d}/{}", fixed * 8))
}

/// Shlink's ISO 8601 date or time as RFC 3339: a bare date is its midnight, a time without
/// an offset is UTC.
fn date_time(value: &str) -> Result<String, String> {
    let at = DateTime::parse_from_rfc3339(value)
        .or_else(|_| DateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%z"))
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S")
                .or_else(|_| NaiveDateTime::parse_from_str(value, "%Y-%m-%d %H:%M:%S"))
                .map(|t| t.and_utc())
        })
        .or_else(|_| {
            NaiveDate::parse_from_str(value, "%Y-%m-%d")
                .map(|day| day.and_time(chrono::NaiveTime::MIN).and_utc())
        })
        .map_err(|_| format!("`{value}` is not an ISO 8601 date or time"))?;
    Ok(at.to_rfc3339())
}

/// Shlink's rules as kurz's, in order, or the first reason one cannot be, naming its place
/// (`redirectRules[0].conditions[1]`).
pub fn rules_to_kurz(rules: &[ShlinkRuleInput]) -> Result<Vec<RuleSpec>, String> {
    rules
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            let at = format!("redirectRules[{i}]");
            let target = rule
                .long_url
                .as_deref()
                .map(str::trim)
                .filter(|url| !url.is_empty())
                .ok_or_else(|| format!("{at}.longUrl: is required"))?;
            let conditions = rule
                .conditions
                .as_deref()
                .unwrap_or_default()
                .iter()
                .enumerate()
                .map(|(j, c)| to_kurz(c).map_err(|why| format!("{at}.conditions[{j}]: {why}")))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(RuleSpec {
                target: target.to_owned(),
                conditions,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shlink(kind: &str, key: Option<&str>, value: Option<&str>) -> ShlinkCondition {
        ShlinkCondition {
            kind: kind.into(),
            match_key: key.map(Into::into),
            match_value: value.map(Into::into),
        }
    }

    fn kurz(kind: ConditionKind, value: &str) -> ConditionSpec {
        ConditionSpec {
            kind,
            value: value.into(),
        }
    }

    /// Shlink's condition becomes this kurz one, and reads back as `back`.
    fn both_ways(from: ShlinkCondition, to: ConditionSpec, back: ShlinkCondition) {
        assert_eq!(to_kurz(&from).as_ref(), Ok(&to), "{from:?}");
        assert_eq!(to_shlink(&to), back, "{to:?}");
    }

    fn round_trip(from: ShlinkCondition, to: ConditionSpec) {
        both_ways(from.clone(), to, from);
    }

    fn refused(condition: ShlinkCondition, because: &str) {
        let why = to_kurz(&condition).expect_err("refused");
        assert!(why.contains(because), "{why}");
    }

    #[test]
    fn devices_map_but_chromeos() {
        for device in Device::ALL {
            round_trip(
                shlink("device", None, Some(device)),
                kurz(ConditionKind::Device, device),
            );
        }
        both_ways(
            shlink("device", None, Some("IOS")),
            kurz(ConditionKind::Device, "ios"),
            shlink("device", None, Some("ios")),
        );
        refused(shlink("device", None, Some("chromeos")), "ChromeOS");
        refused(shlink("device", None, Some("fridge")), "not a device");
    }

    #[test]
    fn languages_map() {
        round_trip(
            shlink("language", None, Some("en")),
            kurz(ConditionKind::Language, "en"),
        );
        round_trip(
            shlink("language", None, Some("pt-BR")),
            kurz(ConditionKind::Language, "pt-BR"),
        );
        both_ways(
            shlink("language", None, Some("es_ES")),
            kurz(ConditionKind::Language, "es-ES"),
            shlink("language", None, Some("es-ES")),
        );
    }

    #[test]
    fn query_params_map_with_or_without_a_value() {
        round_trip(
            shlink("query-param", Some("utm"), Some("mail")),
            kurz(ConditionKind::Query, "utm=mail"),
        );
        round_trip(
            shlink("query-param", Some("empty"), Some("")),
            kurz(ConditionKind::Query, "empty="),
        );
        refused(shlink("query-param", None, Some("x")), "matchKey");
        round_trip(
            shlink("any-value-query-param", Some("ref"), None),
            kurz(ConditionKind::Query, "ref"),
        );
        both_ways(
            shlink("any-value-query-param", None, Some("ref")),
            kurz(ConditionKind::Query, "ref"),
            shlink("any-value-query-param", Some("ref"), None),
        );
        refused(shlink("any-value-query-param", None, None), "matchKey");
        refused(
            shlink("valueless-query-param", Some("flag"), None),
            "valueless-query-param",
        );
    }

    #[test]
    fn addresses_blocks_and_trailing_wildcards_map() {
        round_trip(
            shlink("ip-address", None, Some("203.0.113.9")),
            kurz(ConditionKind::Ip, "203.0.113.9"),
        );
        round_trip(
            shlink("ip-address", None, Some("10.0.0.0/8")),
            kurz(ConditionKind::Ip, "10.0.0.0/8"),
        );
        both_ways(
            shlink("ip-address", None, Some("192.168.*.*")),
            kurz(ConditionKind::Ip, "192.168.0.0/16"),
            shlink("ip-address", None, Some("192.168.0.0/16")),
        );
        assert_eq!(ip_block("10.1.2.*"), Ok("10.1.2.0/24".into()));
        assert_eq!(ip_block("*.*.*.*"), Ok("0.0.0.0/0".into()));
        for wildcard in [
            "192.*.1.*",
            "192.168.1*.1",
            "*.168.1.1",
            "300.*.*.*",
            "1.2.*",
        ] {
            refused(
                shlink("ip-address", None, Some(wildcard)),
                "whole trailing octets",
            );
        }
    }

    #[test]
    fn countries_map_but_cities() {
        round_trip(
            shlink("geolocation-country-code", None, Some("DE")),
            kurz(ConditionKind::Country, "DE"),
        );
        both_ways(
            shlink("geolocation-country-code", None, Some("fr")),
            kurz(ConditionKind::Country, "FR"),
            shlink("geolocation-country-code", None, Some("FR")),
        );
        refused(
            shlink("geolocation-city-name", None, Some("Berlin")),
            "city",
        );
    }

    #[test]
    fn dates_map_as_times() {
        both_ways(
            shlink("before-date", None, Some("2027-01-01")),
            kurz(ConditionKind::Before, "2027-01-01T00:00:00+00:00"),
            shlink("before-date", None, Some("2027-01-01T00:00:00+00:00")),
        );
        both_ways(
            shlink("after-date", None, Some("2026-12-24T18:30:00+01:00")),
            kurz(ConditionKind::After, "2026-12-24T17:30:00+00:00"),
            shlink("after-date", None, Some("2026-12-24T17:30:00+00:00")),
        );
        assert_eq!(
            date_time("2026-12-24T18:30:00+0100"),
            Ok("2026-12-24T17:30:00+00:00".into())
        );
        assert_eq!(
            date_time("2026-12-24T18:30:00"),
            Ok("2026-12-24T18:30:00+00:00".into())
        );
        // kurz stores `Z`; Shlink's clients read ATOM.
        assert_eq!(
            to_shlink(&kurz(ConditionKind::After, "2026-12-24T17:30:00Z")),
            shlink("after-date", None, Some("2026-12-24T17:30:00+00:00"))
        );
        refused(shlink("after-date", None, Some("tomorrow")), "ISO 8601");
    }

    #[test]
    fn what_kurz_cannot_evaluate_is_refused() {
        refused(shlink("browser", None, Some("chrome")), "browser");
        refused(
            shlink("weather", None, Some("rain")),
            "not a redirect condition type",
        );
        refused(shlink("", None, Some("x")), "type");
    }

    #[test]
    fn rules_keep_their_order_and_name_the_place_of_a_refusal() {
        let rules = [
            ShlinkRuleInput {
                long_url: Some("https://example.com/ios".into()),
                conditions: Some(vec![shlink("device", None, Some("ios"))]),
            },
            ShlinkRuleInput {
                long_url: Some("https://example.com/de".into()),
                conditions: Some(vec![
                    shlink("language", None, Some("de")),
                    shlink("browser", None, Some("firefox")),
                ]),
            },
        ];
        let why = rules_to_kurz(&rules).unwrap_err();
        assert!(why.starts_with("redirectRules[1].conditions[1]: "), "{why}");
        let specs = rules_to_kurz(&rules[..1]).unwrap();
        assert_eq!(specs[0].target, "https://example.com/ios");
        assert_eq!(specs[0].conditions, [kurz(ConditionKind::Device, "ios")]);
        let no_url = rules_to_kurz(&[ShlinkRuleInput::default()]).unwrap_err();
        assert!(no_url.starts_with("redirectRules[0].longUrl"), "{no_url}");
    }
}
