//! Middleware: error responses made by layers or by axum itself get a problem document.

use axum::body::Body;
use axum::http::{header, Response, StatusCode};
use axum::response::IntoResponse;

use crate::http::error::{ApiError, PROBLEM_JSON};

/// Marks an error response whose body is deliberately another API's error document (YOURLS's
/// answers carry their errors in the format the client asked for): it is left as it is.
#[derive(Debug, Clone, Copy)]
pub struct ForeignErrorBody;

/// Error responses made by layers or by axum itself (405, 408, 413...) carry no problem body;
/// this gives them one, keeping their status and headers such as `Allow`.
pub async fn problem_for_bare_errors(response: Response<Body>) -> Response<Body> {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || response.extensions().get::<ForeignErrorBody>().is_some()
    {
        return response;
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with(PROBLEM_JSON) || content_type.starts_with("text/html") {
        return response;
    }
    let error = match status {
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        StatusCode::REQUEST_TIMEOUT => ApiError::Timeout,
        StatusCode::NOT_FOUND => ApiError::not_found("nothing here"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::UnsupportedMediaType("unsupported media type".into())
        }
        other if other.is_server_error() => {
            ApiError::Internal(anyhow::anyhow!("bare {other} response"))
        }
        _ => ApiError::BadRequest("the request could not be understood".into()),
    };
    let (parts, _) = response.into_parts();
    let mut problem = error.into_response();
    *problem.status_mut() = status;
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            problem.headers_mut().entry(name).or_insert(value.clone());
        }
    }
    problem
}
