//! `language` conditions: a language tag, and the `Accept-Language` header it is checked
//! against (RFC 9110 12.5.4, with q-values).

use std::fmt;
use std::str::FromStr;

/// A language tag as a condition names it: a primary tag (`de`), which matches every tag with
/// that primary language (`de`, `de-AT`), or a full one (`pt-BR`), which matches only itself.
/// Compared without regard to case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanguageTag(String);

impl LanguageTag {
    fn is_primary(&self) -> bool {
        !self.0.contains('-')
    }

    fn matches(&self, tag: &str) -> bool {
        if self.is_primary() {
            tag.split('-')
                .next()
                .is_some_and(|primary| primary.eq_ignore_ascii_case(&self.0))
        } else {
            tag.eq_ignore_ascii_case(&self.0)
        }
    }
}

impl FromStr for LanguageTag {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        let mut parts = value.split('-');
        let primary = parts.next().unwrap_or_default();
        let primary_ok =
            (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_alphabetic());
        let rest_ok = parts.all(|part| {
            (1..=8).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_alphanumeric())
        });
        if !(primary_ok && rest_ok) {
            return Err(format!(
                "`{value}` is not a language tag such as `de` or `pt-BR`"
            ));
        }
        // Canonical case: language lower, region upper (`pt-BR`), others as given.
        let canonical = value
            .split('-')
            .enumerate()
            .map(|(i, part)| match (i, part.len()) {
                (0, _) => part.to_ascii_lowercase(),
                (_, 2) => part.to_ascii_uppercase(),
                _ => part.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("-");
        Ok(Self(canonical))
    }
}

impl fmt::Display for LanguageTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `tag` names the client's most preferred language: among the header's languages with
/// the highest q-value (ties all count), one matches. `q=0` means "not acceptable"; `*` names no
/// language.
pub fn accepts_first(header: &[u8], tag: &LanguageTag) -> bool {
    let Ok(header) = std::str::from_utf8(header) else {
        return false;
    };
    let ranges: Vec<(&str, f32)> = header
        .split(',')
        .filter_map(|range| {
            let mut parts = range.split(';').map(str::trim);
            let language = parts.next().filter(|l| !l.is_empty() && *l != "*")?;
            let q = parts
                .filter_map(|p| p.split_once('='))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("q"))
                .map_or(Some(1.0), |(_, q)| q.trim().parse::<f32>().ok())?;
            (q > 0.0).then_some((language, q))
        })
        .collect();
    let best = ranges.iter().map(|(_, q)| *q).fold(0.0_f32, f32::max);
    ranges
        .iter()
        .filter(|(_, q)| *q == best)
        .any(|(language, _)| tag.matches(language))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(header: &str, tag: &str) -> bool {
        accepts_first(header.as_bytes(), &tag.parse().unwrap())
    }

    #[test]
    fn the_most_preferred_language_decides() {
        assert!(first("de-AT,de;q=0.9,en;q=0.8", "de"));
        assert!(!first("de-AT,de;q=0.9,en;q=0.8", "en"));
        assert!(first("en;q=0.5, fr;q=0.9", "fr"));
        assert!(first("pt-BR", "pt-br"));
        assert!(first("pt-BR", "pt"));
        assert!(!first("pt-PT", "pt-BR"));
        assert!(first("es, fr", "fr"), "ties all count");
        assert!(!first("de;q=0", "de"), "q=0 refuses");
        assert!(!first("*", "de"));
        assert!(!first("", "de"));
        assert!(first("DE ; q=1.0", "de"));
    }

    #[test]
    fn tags_are_checked_and_put_in_canonical_case() {
        assert_eq!("PT-br".parse::<LanguageTag>().unwrap().to_string(), "pt-BR");
        assert_eq!(
            "zh-Hant-TW".parse::<LanguageTag>().unwrap().to_string(),
            "zh-Hant-TW"
        );
        for bad in ["", "d", "german", "de_DE", "de-", "12"] {
            assert!(bad.parse::<LanguageTag>().is_err(), "{bad}");
        }
    }
}
