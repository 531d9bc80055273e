//! `/api/webhooks`: endpoints that receive kurz's events as signed JSON `POST`s, and the
//! attempts at delivering them. Admins only: an endpoint sees every link and visit.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{JsonBody, QueryParams};
use super::pagination::{page_request, page_view, with_query, PageView};
use super::responses;
use crate::app::{WebhookEdit, WebhookInput};
use crate::domain::{Role, WebhookEvent};
use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::store::{AttemptRecord, WebhookRecord};

/// A webhook endpoint.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 1, "url": "https://hooks.example.com/kurz", "events": ["link.created", "visit"],
    "created_at": "2026-12-02T10:00:00Z", "updated_at": "2026-12-02T10:00:00Z",
    "created_by": 3
}))]
pub struct WebhookView {
    pub id: i64,
    /// Where deliveries are posted.
    pub url: String,
    /// The events it receives, in name order.
    pub events: Vec<WebhookEvent>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The API key that registered it; `null` when registered anonymously (development).
    #[schema(required = true)]
    pub created_by: Option<i64>,
    /// The signing secret kurz generated: only in the answer to the `POST` that registered
    /// the endpoint without a secret of its own, never again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl From<WebhookRecord> for WebhookView {
    fn from(record: WebhookRecord) -> Self {
        Self {
            id: record.id,
            url: record.url,
            events: record.events,
            created_at: record.created_at,
            updated_at: record.updated_at,
            created_by: record.created_by,
            secret: None,
        }
    }
}

/// One attempt at delivering an event.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryAttemptView {
    pub id: i64,
    /// The delivery's id (the `Kurz-Delivery` header and the body's `id`), the same on every
    /// attempt at it.
    pub delivery_id: i64,
    pub event: String,
    pub attempted_at: DateTime<Utc>,
    /// The endpoint's answer; `null` when there was none (timeout, refused connection, a
    /// target policy refusal).
    #[schema(required = true)]
    pub status_code: Option<i32>,
    pub duration_ms: i64,
    /// Why the attempt failed; `null` when it succeeded (a 2xx answer).
    #[schema(required = true)]
    pub error: Option<String>,
    /// The delivery's state now: `pending` (to be tried again), `delivered` or `failed`.
    pub delivery_state: String,
}

impl From<AttemptRecord> for DeliveryAttemptView {
    fn from(record: AttemptRecord) -> Self {
        Self {
            id: record.id,
            delivery_id: record.delivery_id,
            event: record.event,
            attempted_at: record.attempted_at,
            status_code: record.status_code,
            duration_ms: record.duration_ms,
            error: record.error,
            delivery_state: record.state,
        }
    }
}

/// The body of `POST /api/webhooks`. Unknown fields are a 422.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://hooks.example.com/kurz", "events": ["link.created", "visit"]}))]
pub struct CreateWebhook {
    /// An `http` or `https` URL that passes the target policy (no private or local hosts
    /// unless `target.allow_private`).
    pub url: String,
    /// At least one of `visit`, `link.created`, `link.updated`, `link.deleted`,
    /// `orphan_visit`.
    #[schema(value_type = Vec<WebhookEvent>, min_items = 1)]
    pub events: Vec<String>,
    /// The signing secret, 16 to 256 visible ASCII characters; without one kurz generates one
    /// and answers it once.
    #[schema(min_length = 16, max_length = 256)]
    pub secret: Option<String>,
}

/// The body of `PATCH /api/webhooks/{id}`: what is given changes. Unknown fields are a 422.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"events": ["link.created", "link.updated", "link.deleted"]}))]
pub struct UpdateWebhook {
    pub url: Option<String>,
    /// Replaces the endpoint's events.
    #[schema(value_type = Option<Vec<WebhookEvent>>, min_items = 1)]
    pub events: Option<Vec<String>>,
    /// A new signing secret (deliveries queued already are signed with it too).
    #[schema(min_length = 16, max_length = 256)]
    pub secret: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AttemptParams {
    /// Items per page (default `pagination.default_limit`, capped at `pagination.max_limit`).
    #[param(minimum = 1)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

fn require_admin(caller: &Caller) -> Result<(), ApiError> {
    if caller.role() == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only admins may manage webhooks".into(),
        ))
    }
}

/// A webhook's id from the path; anything but a positive integer names no webhook.
fn webhook_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::not_found("no webhook has this id"))
}

/// List webhook endpoints, oldest first.
#[utoipa::path(
    get,
    path = "/webhooks",
    operation_id = "list_webhooks",
    tag = "webhooks",
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Every endpoint", body = Vec<WebhookView>,
            content_type = "application/json"),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 500, response = responses::Internal),
        (status = 503, response = responses::Unavailable),
    )
)]
pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
) -> Result<Json<Vec<WebhookView>>, ApiError> {
    require_admin(&caller)?;
    let hooks = state.webhooks.list().await?;
    Ok(Json(hooks.into_iter().map(WebhookView::from).collect()))
}

/// Register a webhook endpoint.
///
/// Its URL passes the target policy now (422 naming `url`) and, resolved, at each delivery.
/// Without a `secret` kurz generates one and answers it here, once: keep it to check the
/// `Kurz-Signature` of deliveries.
#[utoipa::path(
    post,
    path = "/webhooks",
    operation_id = "create_webhook",
    tag = "webhooks",
    request_body(content = CreateWebhook, content_type = "application/json"),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 201, description = "Registered", body = WebhookView,
            content_type = "application/json",
            headers(("Location" = String, description = "The endpoint's resource"))),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::ValidationFailed),
        (status = 500, response = responses::Internal),
        (status = 503, response = responses::Unavailable),
    )
)]
pub async fn create(
    caller: Caller,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<CreateWebhook>,
) -> Result<impl IntoResponse, ApiError> {
    require_admin(&caller)?;
    let created = state
        .webhooks
        .create(WebhookInput {
            url: body.url,
            events: body.events,
            secret: body.secret,
            created_by: caller.key_id(),
        })
        .await?;
    let location = format!("/api/webhooks/{}", created.record.id);
    let mut view = WebhookView::from(created.record);
    view.secret = created
        .generated_secret
        .map(|secret| secret.as_str().to_owned());
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(view),
    ))
}

/// One webhook endpoint (never its secret).
#[utoipa::path(
    get,
    path = "/webhooks/{id}",
    operation_id = "get_webhook",
    tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint's id")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The endpoint", body = WebhookView,
            content_type = "application/json"),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 500, response = responses::Internal),
        (status = 503, response = responses::Unavailable),
    )
)]
pub async fn show(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<WebhookView>, ApiError> {
    require_admin(&caller)?;
    let hook = state.webhooks.get(webhook_id(&id)?).await?;
    Ok(Json(hook.into()))
}

/// Change a webhook endpoint.
#[utoipa::path(
    patch,
    path = "/webhooks/{id}",
    operation_id = "update_webhook",
    tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint's id")),
    request_body(content = UpdateWebhook, content_type = "application/json"),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The changed endpoint", body = WebhookView,
            content_type = "application/json"),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::ValidationFailed),
        (status = 500, response = responses::Internal),
        (status = 503, response = responses::Unavailable),
    )
)]
pub async fn update(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<UpdateWebhook>,
) -> Result<Json<WebhookView>, ApiError> {
    require_admin(&caller)?;
    let id = webhook_id(&id)?;
    let hook = state
        .webhooks
        .update(
            id,
            WebhookEdit {
                url: body.url,
                events: body.events,
                secret: body.secret,
            },
        )
        .await?;
    Ok(Json(hook.into()))
}

/// Delete a webhook endpoint with its queued deliveries.
#[utoipa::path(
    delete,
    path = "/webhooks/{id}",
    operation_id = "delete_webhook",
    tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint's id")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 500, response = responses::Internal),
        (status = 503, response = responses::Unavailable),
    )
)]
pub async fn remove(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    require_admin(&caller)?;
    state.webhooks.delete(webhook_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Recent attempts at delivering to a webhook endpoint, newest first.
///
/// Keyset-paginated like the other lists. Attempts are kept `webhooks.retention_hours` after
/// their delivery finished.
#[utoipa::path(
    get,
    path = "/webhooks/{id}/deliveries",
    operation_id = "list_webhook_deliveries",
    tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint's id"), AttemptParams),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "One page of attempts",
            body = PageView<DeliveryAttemptView>, content_type = "application/json"),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 422, response = responses::ValidationFailed),
        (status = 500, response = responses::Internal),
        (status = 503, response = responses::Unavailable),
    )
)]
pub async fn deliveries(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    QueryParams(params): QueryParams<AttemptParams>,
) -> Result<Json<PageView<DeliveryAttemptView>>, ApiError> {
    require_admin(&caller)?;
    let id = webhook_id(&id)?;
    let page = page_request(
        params.limit,
        params.cursor.as_deref(),
        &state.settings.pagination,
    )?;
    let limit = page.limit.to_string();
    let attempts = state.webhooks.attempts(id, page).await?;
    let base = format!("{}/api/webhooks/{id}/deliveries", state.public_url);
    Ok(Json(page_view(
        attempts,
        DeliveryAttemptView::from,
        |cursor| with_query(&base, &[("limit", &limit), ("cursor", cursor)]),
    )))
}
