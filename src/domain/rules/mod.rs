//! Redirect rules: an ordered list of `{target, conditions}`; the first rule whose conditions
//! all hold for a click decides where it goes, otherwise the link's own target does.
//!
//! A rule arrives as a [`RuleSpec`] (plain strings, as the API, the CLI and files carry it) and
//! is parsed into a [`Rule`] once, when the link is written or read into the redirect cache, so
//! a click only compares.

mod condition;
mod device;
mod language;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use condition::{Click, Condition, ConditionKind, CountryLookup, NoCountries};
pub use device::Device;

use super::{Invalid, TargetPolicy, TargetUrl};

/// Rules on one link, at most.
pub const MAX_RULES: usize = 20;
/// Conditions of one rule, at most.
pub const MAX_CONDITIONS: usize = 10;

/// A rule as written: where to send the click, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "target": "https://apps.apple.com/app/id1",
    "conditions": [{"type": "device", "value": "ios"}]
}))]
pub struct RuleSpec {
    /// Where a click that meets every condition goes; checked like the link's `url`.
    #[schema(format = "uri")]
    pub target: String,
    /// All must hold (1 to 10).
    pub conditions: Vec<ConditionSpec>,
}

/// One condition as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConditionSpec {
    #[serde(rename = "type")]
    pub kind: ConditionKind,
    /// `device`: `ios`, `android`, `mobile`, `desktop`, `windows`, `macos` or `linux`.
    /// `language`: a primary tag (`de`) or a full one (`pt-BR`). `query`: `name=value`, or
    /// `name` for "present". `ip`: an address or a CIDR block. `after`, `before`: RFC 3339.
    pub value: String,
}

/// A parsed rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub target: TargetUrl,
    pub conditions: Vec<Condition>,
}

impl Rule {
    /// Whether every condition holds for this click.
    pub fn matches(&self, click: &Click<'_>) -> bool {
        self.conditions
            .iter()
            .all(|condition| condition.holds(click))
    }
}

/// A link's rules, in order; never empty (no rules is `None` where rules are optional).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules(Vec<Rule>);

impl Rules {
    /// Parses rules as a client wrote them; every target passes `targets`. An empty list is
    /// `None`. Errors name the place, e.g. `rules[1].conditions[0].value`.
    pub fn parse(specs: &[RuleSpec], targets: &TargetPolicy) -> Result<Option<Self>, Invalid> {
        if specs.len() > MAX_RULES {
            return Err(Invalid::new(
                "rules",
                format!("at most {MAX_RULES} rules, not {}", specs.len()),
            ));
        }
        let rules = specs
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let at = |field: &str| format!("rules[{i}].{field}");
                if spec.conditions.is_empty() || spec.conditions.len() > MAX_CONDITIONS {
                    return Err(Invalid::new(
                        at("conditions"),
                        format!("must hold 1 to {MAX_CONDITIONS} conditions"),
                    ));
                }
                let target = targets
                    .parse(&spec.target)
                    .map_err(|e| Invalid::new(at("target"), e.reason))?;
                let conditions = spec
                    .conditions
                    .iter()
                    .enumerate()
                    .map(|(j, c)| {
                        Condition::parse(c.kind, &c.value).map_err(|reason| {
                            Invalid::new(at(&format!("conditions[{j}].value")), reason)
                        })
                    })
                    .collect::<Result<_, _>>()?;
                Ok(Rule { target, conditions })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((!rules.is_empty()).then_some(Self(rules)))
    }

    /// Rules as the store keeps them (the JSON of their specs), read back: targets and
    /// conditions were checked on the way in. `None` when the text is not such rules.
    pub fn from_stored(text: &str) -> Option<Self> {
        let specs: Vec<RuleSpec> = serde_json::from_str(text).ok()?;
        let rules = specs
            .iter()
            .map(|spec| {
                Some(Rule {
                    target: TargetUrl::from_stored(&spec.target)?,
                    conditions: spec
                        .conditions
                        .iter()
                        .map(|c| Condition::parse(c.kind, &c.value).ok())
                        .collect::<Option<_>>()?,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        (!rules.is_empty()).then_some(Self(rules))
    }

    /// The JSON text the store keeps.
    pub fn to_stored(&self) -> String {
        serde_json::to_string(&self.specs()).unwrap_or_else(|_| "[]".into())
    }

    /// The rules as a client reads them back (values normalised).
    pub fn specs(&self) -> Vec<RuleSpec> {
        self.0
            .iter()
            .map(|rule| RuleSpec {
                target: rule.target.to_string(),
                conditions: rule
                    .conditions
                    .iter()
                    .map(|c| ConditionSpec {
                        kind: c.kind(),
                        value: c.to_string(),
                    })
                    .collect(),
            })
            .collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Rule> {
        self.0.iter()
    }

    /// The index and rule of the first rule whose conditions all hold.
    pub fn first_match(&self, click: &Click<'_>) -> Option<(usize, &Rule)> {
        self.0
            .iter()
            .enumerate()
            .find(|(_, rule)| rule.matches(click))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn policy() -> TargetPolicy {
        TargetPolicy::new(2048, false, &[], "https://sho.rt").unwrap()
    }

    fn specs(json: serde_json::Value) -> Vec<RuleSpec> {
        serde_json::from_value(json).unwrap()
    }

    fn click<'a>(user_agent: &'a str, language: &'a str) -> Click<'a> {
        Click {
            user_agent: Some(user_agent.as_bytes()),
            accept_language: Some(language.as_bytes()),
            query: None,
            client_ip: "203.0.113.9".parse().unwrap(),
            now: Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap(),
            countries: &NoCountries,
        }
    }

    #[test]
    fn errors_name_the_place_of_the_mistake() {
        let cases = [
            (
                serde_json::json!([{"target": "https://e.com/", "conditions": []}]),
                "rules[0].conditions",
            ),
            (
                serde_json::json!([
                    {"target": "https://e.com/", "conditions": [{"type": "ip", "value": "1.2.3.4"}]},
                    {"target": "https://sho.rt/x", "conditions": [{"type": "ip", "value": "1.2.3.4"}]}
                ]),
                "rules[1].target",
            ),
            (
                serde_json::json!([{"target": "https://e.com/", "conditions": [
                    {"type": "ip", "value": "1.2.3.4"}, {"type": "language", "value": "x"}]}]),
                "rules[0].conditions[1].value",
            ),
        ];
        for (json, field) in cases {
            let error = Rules::parse(&specs(json), &policy()).unwrap_err();
            assert_eq!(error.field, field);
        }
        let many: Vec<RuleSpec> = (0..=MAX_RULES)
            .map(|_| RuleSpec {
                target: "https://e.com/".into(),
                conditions: vec![ConditionSpec {
                    kind: ConditionKind::Device,
                    value: "ios".into(),
                }],
            })
            .collect();
        assert_eq!(Rules::parse(&many, &policy()).unwrap_err().field, "rules");
        assert_eq!(Rules::parse(&[], &policy()).unwrap(), None);
    }

    #[test]
    fn the_first_rule_that_holds_wins_and_rules_round_trip_through_storage() {
        let rules = Rules::parse(
            &specs(serde_json::json!([
                {"target": "https://e.com/ios-de", "conditions": [
                    {"type": "device", "value": "IOS"}, {"type": "language", "value": "DE"}]},
                {"target": "https://e.com/ios", "conditions": [{"type": "device", "value": "ios"}]},
            ])),
            &policy(),
        )
        .unwrap()
        .unwrap();
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148";
        let pick = |ua, lang| rules.first_match(&click(ua, lang)).map(|(i, _)| i);
        assert_eq!(pick(iphone, "de-CH"), Some(0));
        assert_eq!(pick(iphone, "en"), Some(1));
        assert_eq!(pick("Mozilla/5.0 (Windows NT 10.0)", "de"), None);
        let stored = rules.to_stored();
        assert!(stored.contains(r#""value":"ios""#), "normalised: {stored}");
        assert_eq!(Rules::from_stored(&stored), Some(rules));
        assert_eq!(Rules::from_stored("[]"), None);
        assert_eq!(Rules::from_stored("not json"), None);
    }
}
