//! Shlink 4's `GET /{shortCode}/qr-code` (Shlink 5 draws codes in its clients instead; older
//! clients and integrations still ask the server), drawn by kurz's QR code route
//! (`crate::http::qr`). Shlink never refuses a QR parameter: it clamps a number or falls back
//! to the default, so this route reads its parameters the same lenient way, where kurz's own
//! `/{slug}/qr` answers 422.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::api::responses;
use crate::http::error::ApiError;
use crate::http::qr::{code, PngImage};
use crate::http::redirect::not_found_answer;
use crate::http::state::AppState;
use crate::qr::{EcLevel, Format, QrOptions, Rgb, MARGINS, SIZES};

/// Shlink 4's query parameters, for the OpenAPI document (they are read leniently from the
/// raw query: a value that does not parse is its default).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ShlinkQrParams {
    /// Pixels, clamped into 50 to 2000 (default 300; what is not a number counts as 0, so 50).
    size: Option<String>,
    /// The light border in modules, clamped into 0 to 20 (default 0; not an integer: 0).
    margin: Option<String>,
    /// `png` (the default) or `svg`; anything else is `png`.
    format: Option<String>,
    /// `l` (the default), `m`, `q` or `h`, in either case; anything else is `l`.
    error_correction: Option<String>,
    /// The modules' colour: 3 or 6 hex digits, `#` optional (default `#000000`).
    color: Option<String>,
    /// The background's colour, as `color` (default `#ffffff`).
    bg_color: Option<String>,
    /// Ignored: kurz always draws whole-pixel modules.
    round_block_size: Option<String>,
    /// Ignored: kurz draws no logo.
    logo: Option<String>,
}

/// Shlink's size: PHP's integer cast (leading digits, else 0), clamped.
fn size(value: Option<&str>) -> u32 {
    let Some(value) = value else {
        return QrOptions::default().size;
    };
    let value = value.trim_start();
    let (negative, digits) = match value.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, value.strip_prefix('+').unwrap_or(value)),
    };
    let digits: String = digits.chars().take_while(char::is_ascii_digit).collect();
    let number = if negative {
        0
    } else {
        digits
            .parse::<u64>()
            .unwrap_or(if digits.is_empty() { 0 } else { u64::MAX })
    };
    number.clamp(u64::from(*SIZES.start()), u64::from(*SIZES.end())) as u32
}

/// Shlink's margin: an integer written as such, else 0; never below 0.
fn margin(value: Option<&str>) -> u32 {
    let Some(value) = value else { return 0 };
    match value.parse::<i64>() {
        Ok(n) if n.to_string() == value => n.clamp(0, i64::from(*MARGINS.end())) as u32,
        _ => 0,
    }
}

/// `#abc`, `abc`, `#aabbcc` or `aabbcc`; else the default.
fn colour(value: Option<&str>, default: Rgb) -> Rgb {
    let Some(value) = value.map(str::trim) else {
        return default;
    };
    let hex = value.strip_prefix('#').unwrap_or(value);
    let six = match hex.len() {
        3 => hex.chars().flat_map(|c| [c, c]).collect(),
        6 => hex.to_owned(),
        _ => return default,
    };
    Rgb::parse("color", &format!("#{six}")).unwrap_or(default)
}

/// The options Shlink 4 would draw for this query: every value clamped or defaulted.
pub fn options(query: &str) -> QrOptions {
    let mut asked: std::collections::HashMap<String, String> = Default::default();
    // The last value of a repeated parameter wins, as in PHP.
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        asked.insert(name.into_owned(), value.into_owned());
    }
    let get = |name: &str| asked.get(name).map(String::as_str);
    let normal = |name: &str| get(name).map(|v| v.trim().to_ascii_lowercase());
    QrOptions {
        format: match normal("format").as_deref() {
            Some("svg") => Format::Svg,
            _ => Format::Png,
        },
        size: size(get("size")),
        margin: margin(get("margin")),
        ec: match normal("errorCorrection").as_deref() {
            Some("m") => EcLevel::M,
            Some("q") => EcLevel::Q,
            Some("h") => EcLevel::H,
            _ => EcLevel::L,
        },
        color: colour(get("color"), Rgb::BLACK),
        background: colour(get("bgColor"), Rgb::WHITE),
    }
}

/// A short URL's QR code, as Shlink 4 draws it.
///
/// Shlink 4's route, answered while `compat.shlink.enabled`: the code of the short URL, with
/// Shlink's parameters and defaults (error correction `l`, margin 0), none ever refused. The
/// same image answers as `GET /{slug}/qr` (`ETag`, caching, no visit recorded).
#[utoipa::path(
    get,
    path = "/{shortCode}/qr-code",
    operation_id = "shlink_qr_code",
    tag = "shlink-compat",
    params(("shortCode" = String, Path, description = "The slug"), ShlinkQrParams),
    responses(
        (status = 200, description = "The QR code",
            headers(
                ("ETag" = String, description = "A strong validator of the image's bytes"),
                ("Cache-Control" = String, description = "`public, max-age=86400`"),
            ),
            content((inline(PngImage) = "image/png"), (String = "image/svg+xml"))),
        (status = 304, description = "`If-None-Match` names this image's `ETag`",
            headers(("ETag" = String, description = "The image's validator"))),
        (status = 404, description = "No short link has this slug, its `valid_since` is still ahead, or the Shlink API is turned off",
            content((crate::http::error::Problem = "application/problem+json"), (String = "text/html"))),
        (status = 429, response = responses::TooManyRequests),
        (status = 500, response = responses::Internal),
        (status = 503, response = responses::Unavailable),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn qr_code(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(short_code): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    if !state.settings.compat.shlink.enabled {
        return Ok(not_found_answer(&state, peer.ip(), &headers, None).into_response());
    }
    let options = options(query.as_deref().unwrap_or(""));
    code(&state, peer, &short_code, &headers, &options).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_asked_is_shlinks_default() {
        let drawn = options("");
        assert_eq!(
            drawn,
            QrOptions {
                format: Format::Png,
                size: 300,
                margin: 0,
                ec: EcLevel::L,
                color: Rgb::BLACK,
                background: Rgb::WHITE,
            }
        );
    }

    #[test]
    fn everything_asked_is_kept() {
        let drawn = options(
            "format=SVG&size=640&margin=3&errorCorrection=H&color=%23102030&bgColor=fed\
             &roundBlockSize=false&logo=disable",
        );
        assert_eq!(drawn.format, Format::Svg);
        assert_eq!((drawn.size, drawn.margin), (640, 3));
        assert_eq!(drawn.ec, EcLevel::H);
        assert_eq!(drawn.color, Rgb([0x10, 0x20, 0x30]));
        assert_eq!(drawn.background, Rgb([0xff, 0xee, 0xdd]));
    }

    #[test]
    fn sizes_are_clamped_and_cast_as_php_does() {
        for (asked, size) in [
            ("size=10", 50),
            ("size=5000", 2000),
            ("size=1500", 1500),
            ("size=abc", 50),
            ("size=", 50),
            ("size=-20", 50),
            ("size=400px", 400),
            ("size=99999999999999999999999", 2000),
        ] {
            assert_eq!(options(asked).size, size, "{asked}");
        }
    }

    #[test]
    fn margins_are_whole_numbers_or_zero() {
        for (asked, margin) in [
            ("margin=5", 5),
            ("margin=-3", 0),
            ("margin=99", 20),
            ("margin=2.5", 0),
            ("margin=four", 0),
            ("margin=07", 0),
        ] {
            assert_eq!(options(asked).margin, margin, "{asked}");
        }
    }

    #[test]
    fn anything_else_falls_back_to_the_default() {
        let drawn = options("format=gif&errorCorrection=x&color=red&bgColor=%2312345&size=300");
        assert_eq!(drawn.format, Format::Png);
        assert_eq!(drawn.ec, EcLevel::L);
        assert_eq!((drawn.color, drawn.background), (Rgb::BLACK, Rgb::WHITE));
        assert_eq!(options("color=ABC").color, Rgb([0xaa, 0xbb, 0xcc]));
        assert_eq!(options("size=100&size=200").size, 200, "the last one wins");
    }
}
