//! Extractors that turn every malformed request into a problem document naming what is wrong:
//! 415 for a body that is not JSON, 400 for JSON that does not parse, 413 for a body over the
//! limit, 422 naming the field for JSON or query parameters of the wrong shape.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;

use crate::domain::{Invalid, Slug};
use crate::http::error::ApiError;

/// A JSON request body.
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(request.headers().get(header::CONTENT_TYPE)) {
            return Err(ApiError::UnsupportedMediaType(
                "the body must be JSON, sent with Content-Type: application/json".into(),
            ));
        }
        let bytes =
            Bytes::from_request(request, state)
                .await
                .map_err(|rejection| match rejection.status() {
                    StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
                    _ => ApiError::BadRequest(format!("could not read the body: {rejection}")),
                })?;
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
            let path = error.path().to_string();
            let inner = error.into_inner();
            if inner.is_data() {
                ApiError::Validation(field_error(&path, inner.to_string()))
            } else {
                ApiError::BadRequest(format!("the body is not valid JSON: {inner}"))
            }
        })?;
        deserializer
            .end()
            .map_err(|e| ApiError::BadRequest(format!("the body is not valid JSON: {e}")))?;
        Ok(Self(value))
    }
}

fn is_json(content_type: Option<&header::HeaderValue>) -> bool {
    let Some(value) = content_type.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let mime = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// Query-string parameters; unknown parameters and wrong types are a 422 naming the parameter.
/// A parameter may repeat where its field is a list (`tag=a&tag=b`), read by
/// `serde_html_form` (`serde_urlencoded` reads no lists); repeated elsewhere it is a 422.
pub struct QueryParams<T>(pub T);

impl<S, T> FromRequestParts<S> for QueryParams<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let deserializer =
            serde_html_form::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(Self)
            .map_err(|error| {
                let path = error.path().to_string();
                ApiError::Validation(field_error(&path, error.into_inner().to_string()))
            })
    }
}

/// The `{slug}` segment of a path. A slug that could never exist is a 404, like an unknown one.
pub struct SlugPath(pub Slug);

impl<S> FromRequestParts<S> for SlugPath
where
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let not_found = || ApiError::not_found("no URL has this slug");
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| not_found())?;
        Slug::for_lookup(&raw).map(Self).ok_or_else(not_found)
    }
}

/// Names the field a serde error is about: its path, or the field a "missing field `x`" /
/// "unknown field `x`" message quotes when the error sits at the top level.
fn field_error(path: &str, message: String) -> Invalid {
    let quoted = message
        .split('`')
        .nth(1)
        .filter(|_| message.contains("field `"))
        .map(str::to_owned);
    let field = match (path, quoted) {
        ("." | "", Some(name)) => name,
        ("." | "", None) => "body".to_owned(),
        (path, _) => path.to_owned(),
    };
    let reason = message
        .split(" at line ")
        .next()
        .unwrap_or(&message)
        .to_owned();
    Invalid::new(field, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_come_from_path_or_message() {
        assert_eq!(field_error(".", "missing field `url`".into()).field, "url");
        assert_eq!(
            field_error(".", "unknown field `target`, expected one of `url`".into()).field,
            "target"
        );
        assert_eq!(
            field_error("title", "invalid type: integer".into()).field,
            "title"
        );
        assert_eq!(
            field_error(".", "invalid type: sequence".into()).field,
            "body"
        );
    }

    #[test]
    fn json_content_types() {
        let check = |v: &'static str| is_json(Some(&header::HeaderValue::from_static(v)));
        assert!(check("application/json"));
        assert!(check("application/json; charset=utf-8"));
        assert!(check("application/merge-patch+json"));
        assert!(!check("text/plain"));
        assert!(!is_json(None));
    }
}
