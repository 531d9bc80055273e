//! Where a client address is, as a geolocation database says: a visit's location.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An ISO 3166-1 alpha-2 country code: two ASCII letters, kept upper-case (`DE`, `US`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    pub fn as_str(&self) -> &str {
        // Two ASCII letters by construction.
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl FromStr for CountryCode {
    type Err = String;

    /// Accepts two ASCII letters in any case; anything else is refused with a reason.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                Ok(Self([a.to_ascii_uppercase(), b.to_ascii_uppercase()]))
            }
            _ => Err(format!(
                "`{value}` is not an ISO 3166-1 alpha-2 country code (two letters, like DE)"
            )),
        }
    }
}

impl TryFrom<String> for CountryCode {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<CountryCode> for String {
    fn from(code: CountryCode) -> Self {
        code.as_str().to_owned()
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a visit came from. Every part is optional: a country file knows the country only, and
/// no file knows every address. The default is "unknown" everywhere. (Serialized flat into
/// stored event payloads; a part absent reads as unknown.)
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Location {
    pub country: Option<CountryCode>,
    /// The first subdivision (state, region, province) by name.
    pub region: Option<String>,
    pub city: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// An IANA time zone name (`Europe/Berlin`).
    pub timezone: Option<String>,
}

impl Location {
    /// Nothing known.
    pub fn is_unknown(&self) -> bool {
        *self == Self::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_codes_are_two_letters_upper_cased() {
        assert_eq!("de".parse::<CountryCode>().unwrap().as_str(), "DE");
        assert_eq!("US".parse::<CountryCode>().unwrap().to_string(), "US");
        for bad in ["", "D", "DEU", "D1", "É", "  "] {
            assert!(bad.parse::<CountryCode>().is_err(), "{bad:?} accepted");
        }
    }
}
