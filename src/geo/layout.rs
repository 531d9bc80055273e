//! The record layouts kurz reads, told apart by the file's own metadata (`database_type`), and
//! how each layout's record becomes a [`Location`].
//!
//! - MaxMind's layout, nested maps (`country.iso_code`, `subdivisions[0].names.en`,
//!   `city.names.en`, `location.latitude`/`longitude`/`time_zone`): MaxMind GeoIP2 and
//!   GeoLite2 City and Country (`GeoLite2-City`, `GeoIP2-Country`, ...) and DB-IP's Lite files,
//!   which copy it (`DBIP-City-Lite`, `DBIP-Country-Lite`).
//! - The flat layout of the ip-location-db files (`country_code`; their city files add `city`,
//!   `state1`, `latitude`, `longitude`, `timezone`), whose `database_type` starts with a
//!   lower-case `country` or `city` (`country ipvAll`).

use std::fmt;
use std::net::IpAddr;

use maxminddb::{geoip2, path, MaxMindDbError, Reader};
use serde::Deserialize;

use crate::domain::{CountryCode, Location};

/// How a file's records are laid out, and what they can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// MaxMind's nested layout with cities (GeoIP2/GeoLite2 City, DB-IP City Lite).
    MaxMindCity,
    /// MaxMind's nested layout, countries only (GeoIP2/GeoLite2 Country, DB-IP Country Lite).
    MaxMindCountry,
    /// ip-location-db's flat layout with cities (`city`, `state1`, coordinates, `timezone`).
    FlatCity,
    /// ip-location-db's flat layout, countries only (`country_code`).
    FlatCountry,
}

impl Layout {
    /// The layout a file's `database_type` names, or why it is refused.
    pub fn detect(database_type: &str) -> Result<Self, String> {
        // ip-location-db names its files' types with a lower-case first word (`country
        // ipvAll`, `city ipv4`); MaxMind and DB-IP write `Vendor-Kind` (`GeoLite2-City`,
        // `DBIP-Country-Lite`).
        let layout = match database_type.split_whitespace().next() {
            Some("country") => Self::FlatCountry,
            Some("city") => Self::FlatCity,
            _ => {
                let kinds: Vec<String> = database_type
                    .split(['-', '_', ' '])
                    .map(str::to_ascii_lowercase)
                    .collect();
                if kinds.iter().any(|kind| kind == "city") {
                    Self::MaxMindCity
                } else if kinds.iter().any(|kind| kind == "country") {
                    Self::MaxMindCountry
                } else {
                    return Err(format!(
                        "database_type `{database_type}` is not a layout kurz reads: it takes \
                         MaxMind GeoIP2/GeoLite2 City or Country, DB-IP Lite City or Country, or \
                         an ip-location-db country or city file"
                    ));
                }
            }
        };
        Ok(layout)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::MaxMindCity => "maxmind-city",
            Self::MaxMindCountry => "maxmind-country",
            Self::FlatCity => "flat-city",
            Self::FlatCountry => "flat-country",
        }
    }

    /// Where `ip` is, as far as the file knows; unknown everywhere when it has no record.
    pub fn locate<S: AsRef<[u8]>>(
        self,
        reader: &Reader<S>,
        ip: IpAddr,
    ) -> Result<Location, MaxMindDbError> {
        let Some(ip) = lookup_address(reader, ip) else {
            return Ok(Location::default());
        };
        let found = reader.lookup(ip)?;
        let location = match self {
            Self::MaxMindCity | Self::MaxMindCountry => match found.decode::<geoip2::City>()? {
                Some(record) => from_maxmind(&record),
                None => Location::default(),
            },
            Self::FlatCity | Self::FlatCountry => match found.decode::<FlatRecord>()? {
                Some(record) => from_flat(&record),
                None => Location::default(),
            },
        };
        Ok(location)
    }

    /// Only the country of `ip`: what a redirect rule asks, without decoding the rest.
    pub fn country<S: AsRef<[u8]>>(
        self,
        reader: &Reader<S>,
        ip: IpAddr,
    ) -> Result<Option<CountryCode>, MaxMindDbError> {
        let Some(ip) = lookup_address(reader, ip) else {
            return Ok(None);
        };
        let found = reader.lookup(ip)?;
        let code: Option<&str> = match self {
            Self::MaxMindCity | Self::MaxMindCountry => {
                match found.decode_path(&path!["country", "iso_code"])? {
                    Some(code) => Some(code),
                    None => found.decode_path(&path!["registered_country", "iso_code"])?,
                }
            }
            Self::FlatCity | Self::FlatCountry => found.decode_path(&path!["country_code"])?,
        };
        Ok(code.and_then(|code| code.parse().ok()))
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The address to look up: IPv4-mapped IPv6 addresses as IPv4, and `None` for an IPv6 address
/// in an IPv4-only file (it cannot know it).
fn lookup_address<S: AsRef<[u8]>>(reader: &Reader<S>, ip: IpAddr) -> Option<IpAddr> {
    let ip = ip.to_canonical();
    (reader.metadata().ip_version == 6 || ip.is_ipv4()).then_some(ip)
}

/// A record of ip-location-db's flat layout; fields a file lacks stay `None`.
#[derive(Debug, Default, Deserialize)]
struct FlatRecord<'a> {
    #[serde(borrow, default)]
    country_code: Option<&'a str>,
    #[serde(borrow, default)]
    state1: Option<&'a str>,
    #[serde(borrow, default)]
    city: Option<&'a str>,
    #[serde(default)]
    latitude: Option<Number>,
    #[serde(default)]
    longitude: Option<Number>,
    #[serde(borrow, default)]
    timezone: Option<&'a str>,
}

/// A coordinate of a flat file: a 32-bit float in ip-location-db's files, but any number (or
/// numeric text) is taken, as the reader decodes each type strictly.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Number(f64);

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Number;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_f32<E>(self, v: f32) -> Result<Number, E> {
                Ok(Number(f64::from(v)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Number, E> {
                Ok(Number(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Number, E> {
                v.trim()
                    .parse()
                    .map(Number)
                    .map_err(|_| E::custom(format!("`{v}` is not a number")))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Coordinates to 4 decimals (about 10 m), as MaxMind's files give them: the 32-bit floats of
/// the flat files would otherwise read 52.52439880371094 for 52.5244.
fn coordinate(value: Option<f64>) -> Option<f64> {
    value
        .filter(|v| v.is_finite())
        .map(|v| (v * 10_000.0).round() / 10_000.0)
}

fn text(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
}

fn from_maxmind(record: &geoip2::City<'_>) -> Location {
    let country = record
        .country
        .iso_code
        .or(record.registered_country.iso_code)
        .and_then(|code| code.parse().ok());
    Location {
        country,
        region: text(record.subdivisions.first().and_then(|s| s.names.english)),
        city: text(record.city.names.english),
        latitude: coordinate(record.location.latitude),
        longitude: coordinate(record.location.longitude),
        timezone: text(record.location.time_zone),
    }
}

fn from_flat(record: &FlatRecord<'_>) -> Location {
    Location {
        country: record.country_code.and_then(|code| code.parse().ok()),
        region: text(record.state1),
        city: text(record.city),
        latitude: coordinate(record.latitude.map(|n| n.0)),
        longitude: coordinate(record.longitude.map(|n| n.0)),
        timezone: text(record.timezone),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_are_told_apart_by_database_type() {
        for (database_type, layout) in [
            ("GeoLite2-City", Layout::MaxMindCity),
            ("GeoIP2-City", Layout::MaxMindCity),
            ("DBIP-City-Lite", Layout::MaxMindCity),
            ("GeoLite2-Country", Layout::MaxMindCountry),
            ("GeoIP2-Country", Layout::MaxMindCountry),
            ("DBIP-Country-Lite", Layout::MaxMindCountry),
            ("country ipvAll", Layout::FlatCountry),
            ("country ipv4", Layout::FlatCountry),
            ("city ipvAll", Layout::FlatCity),
            ("city", Layout::FlatCity),
        ] {
            assert_eq!(Layout::detect(database_type), Ok(layout), "{database_type}");
        }
    }

    #[test]
    fn other_databases_are_refused_with_their_type() {
        for database_type in [
            "GeoLite2-ASN",
            "GeoIP2-ISP",
            "asn ipvAll",
            "Citywide-ASN",
            "",
        ] {
            let refused = Layout::detect(database_type).unwrap_err();
            assert!(refused.contains(&format!("`{database_type}`")), "{refused}");
        }
    }

    #[test]
    fn maxmind_records_map_to_their_fields() {
        let mut record = geoip2::City::default();
        record.country.iso_code = Some("de");
        record.city.names.english = Some("Berlin");
        record.subdivisions.push(geoip2::city::Subdivision {
            names: geoip2::Names {
                english: Some("Land Berlin"),
                ..Default::default()
            },
            ..Default::default()
        });
        record.location.latitude = Some(52.5);
        record.location.longitude = Some(13.4);
        record.location.time_zone = Some("Europe/Berlin");
        let location = from_maxmind(&record);
        assert_eq!(
            location.country.map(|c| c.to_string()).as_deref(),
            Some("DE")
        );
        assert_eq!(location.region.as_deref(), Some("Land Berlin"));
        assert_eq!(location.city.as_deref(), Some("Berlin"));
        assert_eq!(
            (location.latitude, location.longitude),
            (Some(52.5), Some(13.4))
        );
        assert_eq!(location.timezone.as_deref(), Some("Europe/Berlin"));
        // A country file's record: the registered country stands in when `country` is missing.
        let mut record = geoip2::City::default();
        record.registered_country.iso_code = Some("FR");
        let location = from_maxmind(&record);
        assert_eq!(
            location.country.map(|c| c.to_string()).as_deref(),
            Some("FR")
        );
        assert_eq!(location.city, None);
    }

    #[test]
    fn flat_records_map_to_their_fields_and_blank_values_are_unknown() {
        let record = FlatRecord {
            country_code: Some("JP"),
            state1: Some("Tokyo"),
            city: Some(" "),
            latitude: Some(Number(35.689_498_901_367_19)),
            longitude: Some(Number(139.7)),
            timezone: Some("Asia/Tokyo"),
        };
        let location = from_flat(&record);
        assert_eq!(
            location.country.map(|c| c.to_string()).as_deref(),
            Some("JP")
        );
        assert_eq!(location.region.as_deref(), Some("Tokyo"));
        assert_eq!(location.city, None);
        assert_eq!(location.timezone.as_deref(), Some("Asia/Tokyo"));
        assert_eq!(location.latitude, Some(35.6895));
        let location = from_flat(&FlatRecord {
            country_code: Some("not a code"),
            ..FlatRecord::default()
        });
        assert!(location.is_unknown());
    }
}
