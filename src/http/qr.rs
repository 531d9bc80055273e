//! `GET /{slug}/qr`: the short link as a QR code, PNG or SVG. Public like the redirect, and
//! like it a link before its `valid_since` (or no link) is a 404 that counts towards the
//! not-found rate limit. The code holds only the short URL, so an expired, exhausted or
//! password-protected link still has one: scanning it leads to the redirect, which answers
//! for the link. Fetching a code is not a visit.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::IntoParams;

use crate::domain::Phase;
use crate::http::api::extract::QueryParams;
use crate::http::api::responses;
use crate::http::error::{ApiError, Problem};
use crate::http::redirect::{found, not_found_answer};
use crate::http::state::AppState;
use crate::qr::{self, Asked, EcLevel, Format, QrOptions};

/// A code changes only when the slug or the public URL does.
const CACHE_CONTROL: &str = "public, max-age=86400";
/// An SVG opened on its own runs nothing and loads nothing.
const SVG_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'";

/// A PNG image, for the OpenAPI document: bytes, not text.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct PngImage(pub Vec<u8>);

/// The query parameters of `GET /{slug}/qr`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QrParams {
    /// `png` (the default) or `svg`.
    #[param(inline)]
    pub format: Option<Format>,
    /// Width and height in pixels, 50 to 2000 (default 300). A PNG's modules are whole pixels:
    /// `size / (modules + 2 margin)` rounded down, the pixels left over added to the margin.
    #[param(minimum = 50, maximum = 2000)]
    pub size: Option<u32>,
    /// The light border in modules, 0 to 20 (default 4, what the standard asks for).
    #[param(minimum = 0, maximum = 20)]
    pub margin: Option<u32>,
    /// Error correction: `L`, `M` (the default), `Q` or `H`.
    #[param(inline)]
    pub ec: Option<EcLevel>,
    /// The modules' colour, `#rrggbb` (default `#000000`; send `#` as `%23`).
    #[param(pattern = "^#[0-9a-fA-F]{6}$")]
    pub color: Option<String>,
    /// The background's colour, `#rrggbb` (default `#ffffff`).
    #[param(pattern = "^#[0-9a-fA-F]{6}$")]
    pub background: Option<String>,
}

/// A short link's QR code.
///
/// The code holds the short URL, `{public_url}/{slug}`. Answers with a strong `ETag` (`304` to
/// a matching `If-None-Match`) and `Cache-Control: public, max-age=86400`. No visit is
/// recorded. A link before its `valid_since` is not found; an expired, exhausted or
/// password-protected link still has its code (scanning it reaches the redirect, which
/// answers for the link).
#[utoipa::path(
    get,
    path = "/{slug}/qr",
    operation_id = "short_link_qr_code",
    tag = "redirects",
    params(("slug" = String, Path, description = "The short link's slug (case-sensitive)"), QrParams),
    responses(
        (status = 200, description = "The QR code",
            headers(
                ("ETag" = String, description = "A strong validator of the image's bytes"),
                ("Cache-Control" = String, description = "`public, max-age=86400`"),
            ),
            content((inline(PngImage) = "image/png"), (String = "image/svg+xml"))),
        (status = 304, description = "`If-None-Match` names this image's `ETag`",
            headers(("ETag" = String, description = "The image's validator"))),
        (status = 404, description = "No short link has this slug, or its `valid_since` is still ahead: a problem document, or a small HTML page for clients that accept `text/html`",
            content((Problem = "application/problem+json"), (String = "text/html"))),
        (status = 422, response = responses::ValidationFailed),
        (status = 429, response = responses::TooManyRequests),
        (status = 500, response = responses::Internal),
        (status = 503, response = responses::Unavailable),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn qr_code(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    QueryParams(params): QueryParams<QrParams>,
) -> Result<Response, ApiError> {
    let options = QrOptions::parse(Asked {
        format: params.format,
        size: params.size,
        margin: params.margin,
        ec: params.ec,
        color: params.color.as_deref(),
        background: params.background.as_deref(),
    })?;
    code(&state, peer, &slug, &headers, &options).await
}

/// The QR code of the link `slug` drawn as `options` asks, or the not-found answer of the
/// redirect (no link, or one before its `valid_since`). Shlink's `/{shortCode}/qr-code` draws
/// through here too.
pub(crate) async fn code(
    state: &AppState,
    peer: SocketAddr,
    slug: &str,
    headers: &HeaderMap,
    options: &QrOptions,
) -> Result<Response, ApiError> {
    let not_found = || Ok(not_found_answer(state, peer.ip(), headers, None));
    let Some(redirect) = found(state, slug).await? else {
        return not_found();
    };
    let not_yet = redirect
        .gate
        .as_ref()
        .is_some_and(|gate| gate.validity.at(Utc::now()) == Phase::NotYet);
    if not_yet {
        return not_found();
    }
    let short_url = format!("{}/{slug}", state.public_url);
    let image = qr::render(&short_url, options)?;
    Ok(answer(image, options.format, headers))
}

/// The image with its validators, or a 304 when the client holds it already.
fn answer(image: Vec<u8>, format: Format, request: &HeaderMap) -> Response {
    let etag = etag(&image);
    let mut response = if matches(request, &etag) {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        response
    } else {
        let mut response = image.into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(format.content_type()),
        );
        if format == Format::Svg {
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(SVG_POLICY),
            );
        }
        response
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, etag);
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    response
}

/// A strong tag: the SHA-256 of the image, which holds the content, every option and the
/// drawing code's choices.
fn etag(image: &[u8]) -> HeaderValue {
    let digest = Sha256::digest(image);
    // Hex digits and quotes are always a valid header value.
    HeaderValue::from_str(&format!("\"{digest:x}\"")).unwrap_or(HeaderValue::from_static("\"\""))
}

/// `If-None-Match` names `etag` (a weak comparison, as RFC 9110 asks for this header) or is `*`.
fn matches(request: &HeaderMap, etag: &HeaderValue) -> bool {
    let ours = etag.as_bytes();
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag).as_bytes() == ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asking(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(header::IF_NONE_MATCH, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn if_none_match_is_compared_weakly_in_lists() {
        let etag = etag(b"image");
        let ours = etag.to_str().unwrap().to_owned();
        assert!(matches(&asking(&[&ours]), &etag));
        assert!(matches(&asking(&[&format!("W/{ours}")]), &etag));
        assert!(matches(&asking(&[&format!("\"other\", {ours}")]), &etag));
        assert!(matches(&asking(&["\"other\"", &ours]), &etag));
        assert!(matches(&asking(&["*"]), &etag));
        assert!(!matches(&asking(&["\"other\""]), &etag));
        assert!(!matches(&asking(&[]), &etag));
        assert!(!matches(&asking(&[ours.trim_matches('"')]), &etag));
    }

    #[test]
    fn a_not_modified_answer_has_no_body_and_keeps_the_validators() {
        let tag = etag(b"png bytes");
        let response = answer(
            b"png bytes".to_vec(),
            Format::Png,
            &asking(&[tag.to_str().unwrap()]),
        );
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(response.headers()[header::ETAG], tag);
        assert_eq!(response.headers()[header::CACHE_CONTROL], CACHE_CONTROL);
        assert!(response.headers().get(header::CONTENT_TYPE).is_none());
        let fresh = answer(b"svg".to_vec(), Format::Svg, &HeaderMap::new());
        assert_eq!(fresh.status(), StatusCode::OK);
        assert_eq!(fresh.headers()[header::CONTENT_TYPE], "image/svg+xml");
        assert_eq!(fresh.headers()[header::CONTENT_SECURITY_POLICY], SVG_POLICY);
    }
}
