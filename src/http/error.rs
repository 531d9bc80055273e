//! One error type at the edge. Every failure a client sees is an RFC 9457
//! `application/problem+json` document with the right status; internals are logged, never sent.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppError;
use crate::domain::Invalid;
use crate::store::StoreError;

pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// A short link that expired or whose visit cap is reached: 410.
    #[error("{0}")]
    Gone(String),
    /// No API key, or one that is malformed, unknown or revoked: 401 with
    /// `WWW-Authenticate: Bearer`.
    #[error("{0}")]
    Unauthorized(String),
    /// A key whose role does not allow the action (or an explorer request without its CSRF
    /// token): 403.
    #[error("{0}")]
    Forbidden(String),
    /// A link with a password, asked for without one (`GET /{slug}` by a client that does not
    /// take HTML): 401, with no API key challenge.
    #[error("this short link asks for a password: POST it to this URL")]
    PasswordRequired,
    /// A wrong password posted to `/{slug}`: 401.
    #[error("wrong password")]
    WrongPassword,
    #[error("{0}")]
    Conflict(String),
    /// A tag renamed onto a name another tag has: 409 `tag_exists`.
    #[error("{0}")]
    TagExists(String),
    #[error("{0}")]
    Validation(#[from] Invalid),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("request body is too large")]
    PayloadTooLarge,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("the request took too long")]
    Timeout,
    #[error("the URI is longer than this server accepts")]
    UriTooLong,
    #[error("the request headers are larger than this server accepts")]
    HeadersTooLarge,
    #[error("the server is busy, try again shortly")]
    Overloaded,
    #[error("too many requests; retry in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("the database is unavailable, try again shortly")]
    Unavailable,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The RFC 9457 body. `code` is a stable machine-readable name; `errors` names the fields.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "about:blank", "title": "Unprocessable Entity", "status": 422,
    "detail": "slug: `api` is reserved", "code": "validation_failed",
    "errors": [{"field": "slug", "reason": "`api` is reserved"}]
}))]
pub struct Problem {
    /// Always `about:blank`: the status says what kind of problem it is.
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    pub kind: &'static str,
    /// The status's reason phrase.
    #[schema(value_type = String)]
    pub title: &'static str,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong, for a person.
    pub detail: String,
    /// A stable machine-readable name of the kind of problem.
    pub code: ProblemCode,
    /// The fields that were wrong (422 only; absent otherwise).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// A stable machine-readable name of the problem, one per [`ApiError`] variant: what clients
/// branch on (the status alone does not tell `overloaded` from `unavailable`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProblemCode {
    BadRequest,
    NotFound,
    Gone,
    Unauthorized,
    Forbidden,
    PasswordRequired,
    WrongPassword,
    Conflict,
    TagExists,
    ValidationFailed,
    UnsupportedMediaType,
    PayloadTooLarge,
    MethodNotAllowed,
    Timeout,
    UriTooLong,
    HeadersTooLarge,
    Overloaded,
    RateLimited,
    Unavailable,
    Internal,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldError {
    /// The JSON field or query parameter, e.g. `url` or `limit`.
    pub field: String,
    pub reason: String,
}

/// The challenge of every 401: an API key as a bearer token (`X-Api-Key` works too).
const WWW_AUTHENTICATE: &str = "Bearer realm=\"kurz\"";

/// Seconds a client should wait before retrying a 503.
const RETRY_AFTER_SECS: &str = "5";

impl ApiError {
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound(what.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Gone(_) => StatusCode::GONE,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::PasswordRequired | Self::WrongPassword => StatusCode::UNAUTHORIZED,
            Self::Conflict(_) | Self::TagExists(_) => StatusCode::CONFLICT,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Timeout => StatusCode::REQUEST_TIMEOUT,
            Self::UriTooLong => StatusCode::URI_TOO_LONG,
            Self::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> ProblemCode {
        match self {
            Self::BadRequest(_) => ProblemCode::BadRequest,
            Self::NotFound(_) => ProblemCode::NotFound,
            Self::Gone(_) => ProblemCode::Gone,
            Self::Unauthorized(_) => ProblemCode::Unauthorized,
            Self::Forbidden(_) => ProblemCode::Forbidden,
            Self::PasswordRequired => ProblemCode::PasswordRequired,
            Self::WrongPassword => ProblemCode::WrongPassword,
            Self::Conflict(_) => ProblemCode::Conflict,
            Self::TagExists(_) => ProblemCode::TagExists,
            Self::Validation(_) => ProblemCode::ValidationFailed,
            Self::UnsupportedMediaType(_) => ProblemCode::UnsupportedMediaType,
            Self::PayloadTooLarge => ProblemCode::PayloadTooLarge,
            Self::MethodNotAllowed => ProblemCode::MethodNotAllowed,
            Self::Timeout => ProblemCode::Timeout,
            Self::UriTooLong => ProblemCode::UriTooLong,
            Self::HeadersTooLarge => ProblemCode::HeadersTooLarge,
            Self::Overloaded => ProblemCode::Overloaded,
            Self::TooManyRequests { .. } => ProblemCode::RateLimited,
            Self::Unavailable => ProblemCode::Unavailable,
            Self::Internal(_) => ProblemCode::Internal,
        }
    }

    pub fn problem(&self) -> Problem {
        let status = self.status();
        let detail = match self {
            Self::Internal(_) => "an unexpected error occurred; it has been logged".to_owned(),
            other => other.to_string(),
        };
        let errors = match self {
            Self::Validation(invalid) => vec![FieldError {
                field: invalid.field.to_string(),
                reason: invalid.reason.clone(),
            }],
            _ => Vec::new(),
        };
        Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail,
            code: self.code(),
            errors,
        }
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Invalid(invalid) => invalid.into(),
            AppError::SlugTaken(_) => Self::Conflict("this slug is already taken".into()),
            AppError::NoSuchLink(_) => Self::not_found("no URL has this slug"),
            AppError::NoSuchKey(_) => Self::not_found("no such API key"),
            AppError::NoSuchWebhook(_) => Self::not_found("no webhook has this id"),
            AppError::NoSuchTag(_) => Self::not_found("no tag has this name"),
            AppError::TagExists(_) => Self::TagExists(error.to_string()),
            AppError::TagShared(_) => Self::Forbidden(error.to_string()),
            AppError::NoFreeSlug(_) | AppError::Password(_) => {
                Self::Internal(anyhow::Error::new(error))
            }
            AppError::Store(store) => store.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Self::NotFound("no such resource".into()),
            StoreError::Conflict(what) => Self::Conflict(format!("this {what} is already taken")),
            StoreError::Unavailable(source) => {
                tracing::warn!(error = %source, "database unavailable");
                Self::Unavailable
            }
            StoreError::Other(source) => Self::Internal(source),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(source) = &self {
            tracing::error!(error = ?source, "request failed");
        }
        let status = self.status();
        let api_key_challenge = matches!(self, Self::Unauthorized(_));
        let mut response = (status, axum::Json(self.problem())).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECS),
            );
        }
        if api_key_challenge {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(WWW_AUTHENTICATE),
            );
        }
        if let Self::TooManyRequests { retry_after_secs } = self {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}
