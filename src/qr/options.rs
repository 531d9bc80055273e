//! What a client may ask of a QR code, valid by construction: each value outside its range is
//! an [`Invalid`] naming the query parameter.

use std::fmt;
use std::ops::RangeInclusive;

use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::Invalid;

/// The image's width and height in pixels.
pub const SIZES: RangeInclusive<u32> = 50..=2000;
/// The light border around the code, in modules (the standard asks for 4).
pub const MARGINS: RangeInclusive<u32> = 0..=20;

/// The image format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Png,
    Svg,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Svg => "image/svg+xml",
        }
    }
}

/// The error correction level: the share of the code that may be damaged and still read
/// (L 7 %, M 15 %, Q 25 %, H 30 %); higher levels make denser codes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
pub enum EcLevel {
    L,
    #[default]
    M,
    Q,
    H,
}

impl From<EcLevel> for qrcode::EcLevel {
    fn from(level: EcLevel) -> Self {
        match level {
            EcLevel::L => Self::L,
            EcLevel::M => Self::M,
            EcLevel::Q => Self::Q,
            EcLevel::H => Self::H,
        }
    }
}

/// A colour written `#rrggbb` (hex digits in either case), nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub [u8; 3]);

impl Rgb {
    pub const BLACK: Self = Self([0, 0, 0]);
    pub const WHITE: Self = Self([0xff, 0xff, 0xff]);

    /// `field` names the query parameter in the refusal.
    pub fn parse(field: &'static str, text: &str) -> Result<Self, Invalid> {
        let refuse = || {
            Invalid::new(
                field,
                format!("`{text}` is not a colour written #rrggbb (send `#` as %23)"),
            )
        };
        let hex = text.strip_prefix('#').ok_or_else(refuse)?;
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(refuse());
        }
        let byte = |at: usize| u8::from_str_radix(&hex[at..at + 2], 16).map_err(|_| refuse());
        Ok(Self([byte(0)?, byte(2)?, byte(4)?]))
    }
}

impl fmt::Display for Rgb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [r, g, b] = self.0;
        write!(f, "#{r:02x}{g:02x}{b:02x}")
    }
}

/// How to draw a QR code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QrOptions {
    pub format: Format,
    /// Width and height in pixels, within [`SIZES`].
    pub size: u32,
    /// Light modules around the code, within [`MARGINS`].
    pub margin: u32,
    pub ec: EcLevel,
    pub color: Rgb,
    pub background: Rgb,
}

impl Default for QrOptions {
    fn default() -> Self {
        Self {
            format: Format::Png,
            size: 300,
            margin: 4,
            ec: EcLevel::M,
            color: Rgb::BLACK,
            background: Rgb::WHITE,
        }
    }
}

/// The query parameters as they arrive; `None` takes the default.
#[derive(Debug, Default)]
pub struct Asked<'a> {
    pub format: Option<Format>,
    pub size: Option<u32>,
    pub margin: Option<u32>,
    pub ec: Option<EcLevel>,
    pub color: Option<&'a str>,
    pub background: Option<&'a str>,
}

impl QrOptions {
    pub fn parse(asked: Asked<'_>) -> Result<Self, Invalid> {
        let defaults = Self::default();
        let within = |field: &'static str, value: Option<u32>, range: RangeInclusive<u32>| {
            let Some(value) = value else { return Ok(None) };
            if range.contains(&value) {
                Ok(Some(value))
            } else {
                Err(Invalid::new(
                    field,
                    format!("{value} is not within {} to {}", range.start(), range.end()),
                ))
            }
        };
        let colour = |field, text: Option<&str>, default| {
            text.map_or(Ok(default), |text| Rgb::parse(field, text))
        };
        Ok(Self {
            format: asked.format.unwrap_or(defaults.format),
            size: within("size", asked.size, SIZES)?.unwrap_or(defaults.size),
            margin: within("margin", asked.margin, MARGINS)?.unwrap_or(defaults.margin),
            ec: asked.ec.unwrap_or(defaults.ec),
            color: colour("color", asked.color, defaults.color)?,
            background: colour("background", asked.background, defaults.background)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_asked_is_the_default() {
        assert_eq!(
            QrOptions::parse(Asked::default()).unwrap(),
            QrOptions::default()
        );
    }

    #[test]
    fn everything_asked_is_kept() {
        let options = QrOptions::parse(Asked {
            format: Some(Format::Svg),
            size: Some(2000),
            margin: Some(0),
            ec: Some(EcLevel::H),
            color: Some("#0A1b2C"),
            background: Some("#ffffff"),
        })
        .unwrap();
        assert_eq!(options.format, Format::Svg);
        assert_eq!((options.size, options.margin), (2000, 0));
        assert_eq!(options.ec, EcLevel::H);
        assert_eq!(options.color, Rgb([0x0a, 0x1b, 0x2c]));
        assert_eq!(options.color.to_string(), "#0a1b2c");
        assert_eq!(options.background, Rgb::WHITE);
    }

    #[test]
    fn sizes_and_margins_outside_their_ranges_name_the_parameter() {
        for (size, margin, field) in [
            (Some(49), None, "size"),
            (Some(2001), None, "size"),
            (Some(0), None, "size"),
            (None, Some(21), "margin"),
        ] {
            let error = QrOptions::parse(Asked {
                size,
                margin,
                ..Asked::default()
            })
            .unwrap_err();
            assert_eq!(error.field, field);
        }
        for (size, margin) in [(50, 0), (2000, 20)] {
            let asked = Asked {
                size: Some(size),
                margin: Some(margin),
                ..Asked::default()
            };
            assert!(QrOptions::parse(asked).is_ok());
        }
    }

    #[test]
    fn colours_are_exactly_hash_and_six_hex_digits() {
        for text in [
            "000000", "#00000", "#0000000", "#00000g", "#fff", "red", "", "#", "# 00000",
            "#+12345", "#ééé",
        ] {
            assert_eq!(
                Rgb::parse("color", text).unwrap_err().field,
                "color",
                "{text}"
            );
        }
        let error = QrOptions::parse(Asked {
            background: Some("white"),
            ..Asked::default()
        })
        .unwrap_err();
        assert_eq!(error.field, "background");
        assert_eq!(Rgb::parse("color", "#FFffFF").unwrap(), Rgb::WHITE);
    }
}
