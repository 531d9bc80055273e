//! Shlink's error documents: `application/problem+json` with `type`
//! `https://shlink.io/api/error/<code>`, `title`, `detail`, `status` and the members Shlink's
//! clients read (`invalidElements`, `shortCode`, `customSlug`), as its JS SDK maps them.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use crate::app::AppError;
use crate::http::error::{ApiError, PROBLEM_JSON};

/// One Shlink problem document, or (for kurz's own server errors) kurz's.
#[derive(Debug)]
pub struct ShlinkProblem {
    status: StatusCode,
    body: Map<String, Value>,
    /// A server error answered as everywhere in kurz (logged, `code` included).
    native: Option<ApiError>,
}

impl ShlinkProblem {
    fn new(status: StatusCode, code: &str, title: &str, detail: impl Into<String>) -> Self {
        let mut body = Map::new();
        let kind = if code.is_empty() {
            "about:blank".to_owned()
        } else {
            format!("https://shlink.io/api/error/{code}")
        };
        body.insert("type".into(), kind.into());
        body.insert("title".into(), title.into());
        body.insert("detail".into(), detail.into().into());
        body.insert("status".into(), status.as_u16().into());
        Self {
            status,
            body,
            native: None,
        }
    }

    fn with(mut self, name: &str, value: Value) -> Self {
        self.body.insert(name.into(), value);
        self
    }

    /// 400 `invalid-data`, naming the (Shlink) fields that were wrong, with kurz's reasons
    /// beside them in `errors`.
    pub fn invalid_data(fields: &[(&str, String)]) -> Self {
        let names: Vec<&str> = fields.iter().map(|(name, _)| *name).collect();
        let errors: Vec<Value> = fields
            .iter()
            .map(|(field, reason)| json!({"field": field, "reason": reason}))
            .collect();
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid-data",
            "Invalid data",
            "Provided data is not valid",
        )
        .with("invalidElements", json!(names))
        .with("errors", Value::Array(errors))
    }

    /// The same document with a `detail` of its own.
    pub fn with_detail(self, detail: impl Into<String>) -> Self {
        self.with("detail", detail.into().into())
    }

    /// 501 `mercure-not-configured`: kurz has no Mercure hub (its live streams are its own).
    pub fn mercure_not_configured() -> Self {
        Self::new(
            StatusCode::NOT_IMPLEMENTED,
            "mercure-not-configured",
            "Mercure integration not configured",
            "This server is not integrated with a Mercure hub: kurz offers no real-time updates \
             through Shlink's API.",
        )
    }

    pub fn malformed_body(why: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "malformed-request-body",
            "Malformed request body",
            format!("The request body is not valid JSON: {why}"),
        )
    }

    pub fn slug_taken(slug: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "non-unique-slug",
            "Invalid custom slug",
            format!("Provided slug \"{slug}\" is already in use."),
        )
        .with("customSlug", slug.into())
    }

    pub fn domain_not_found(authority: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "domain-not-found",
            "Domain not found",
            format!("Domain with authority \"{authority}\" could not be found"),
        )
        .with("authority", authority.into())
    }

    pub fn short_url_not_found(short_code: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "short-url-not-found",
            "Short URL not found",
            format!("No URL found with short code \"{short_code}\""),
        )
        .with("shortCode", short_code.into())
    }

    pub fn tag_not_found(tag: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "tag-not-found",
            "Tag not found",
            format!("Tag with name \"{tag}\" could not be found"),
        )
        .with("tag", tag.into())
    }

    pub fn tag_conflict(old_name: &str, new_name: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "tag-conflict",
            "Tag conflict",
            format!("You cannot rename tag {old_name} to {new_name}, because it already exists"),
        )
        .with("oldName", old_name.into())
        .with("newName", new_name.into())
    }

    pub fn forbidden_tag_operation(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden-tag-operation",
            "Forbidden tag operation",
            detail,
        )
    }

    pub fn missing_authentication() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "missing-authentication",
            "Invalid authorization",
            "Expected one of the following authentication headers, [\"X-Api-Key\"], but none \
             were provided",
        )
        .with("expectedHeaders", json!(["X-Api-Key"]))
    }

    pub fn invalid_api_key() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid-api-key",
            "Invalid API key",
            "Provided API key does not exist or is invalid.",
        )
    }

    pub fn route_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            "Requested route does not exist.",
        )
    }

    /// kurz's own errors (a role that may not act, rate limits) keep their status and detail,
    /// without a Shlink `type` (Shlink has none for them); server errors (500, an unavailable
    /// database) are answered as everywhere in kurz.
    pub fn from_api(error: ApiError) -> Self {
        let status = error.status();
        if status.is_server_error() {
            let mut problem = Self::new(status, "", "", "");
            problem.native = Some(error);
            return problem;
        }
        let retry = match &error {
            ApiError::TooManyRequests { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        };
        let problem = Self::new(
            status,
            "",
            status.canonical_reason().unwrap_or("Error"),
            error.to_string(),
        );
        match retry {
            Some(secs) => problem.with("retryAfter", secs.into()),
            None => problem,
        }
    }

    /// An error of the application layer about the link `short_code`; `field` names
    /// translate kurz's fields into Shlink's.
    pub fn from_app(
        error: AppError,
        short_code: &str,
        field: impl Fn(&str) -> &'static str,
    ) -> Self {
        match error {
            AppError::Invalid(invalid) => {
                Self::invalid_data(&[(field(&invalid.field), invalid.reason)])
            }
            AppError::SlugTaken(slug) => Self::slug_taken(&slug),
            AppError::NoSuchLink(_) => Self::short_url_not_found(short_code),
            other => Self::from_api(other.into()),
        }
    }
}

impl IntoResponse for ShlinkProblem {
    fn into_response(self) -> Response {
        if let Some(native) = self.native {
            return native.into_response();
        }
        let retry = self.body.get("retryAfter").and_then(Value::as_u64);
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON))],
            Value::Object(self.body).to_string(),
        )
            .into_response();
        if let Some(secs) = retry {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
