//! `/api/urls`: create, list, show, change and delete short links.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde::{Deserialize, Deserializer};

use super::extract::{JsonBody, QueryParams, SlugPath};
use super::pagination::{page_request, page_view, with_query, PageView};
use super::views::UrlView;
use crate::domain::{Invalid, Slug, TargetUrl, Title};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{NewUrl, StoreError, UrlPatch};

/// Attempts at finding a free generated slug before giving up.
const SLUG_ATTEMPTS: usize = 8;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUrl {
    pub url: String,
    pub slug: Option<String>,
    pub title: Option<String>,
    #[serde(default)]
    pub crawlable: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateUrl {
    pub url: Option<String>,
    /// Absent leaves the title alone; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    pub title: Option<Option<String>>,
    pub crawlable: Option<bool>,
}

/// Tells a field sent as `null` (`Some(None)`) from one not sent at all (`None`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Results of `GET /api/urls/search` when `limit` is not given, and at most.
const SEARCH_DEFAULT_LIMIT: u32 = 10;
const SEARCH_MAX_LIMIT: u32 = 20;
const SEARCH_MAX_QUERY_CHARS: usize = 100;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    pub q: String,
    pub limit: Option<u32>,
}

#[derive(Debug, serde::Serialize)]
pub struct SearchView {
    pub items: Vec<UrlView>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[tracing::instrument(skip_all)]
pub async fn create(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<CreateUrl>,
) -> Result<Response, ApiError> {
    let target = TargetUrl::parse(&body.url, state.settings.target.max_length)?;
    let title = body.title.as_deref().map(Title::parse).transpose()?;
    let requested = body
        .slug
        .as_deref()
        .map(|s| Slug::parse(s, &state.slugs))
        .transpose()?;
    let new = |slug: Slug| NewUrl {
        slug,
        target: target.clone(),
        title: title.clone(),
        crawlable: body.crawlable,
        created_at: Utc::now(),
    };
    let record = match requested {
        Some(slug) => state
            .store
            .create_url(new(slug))
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => ApiError::Conflict("this slug is already taken".into()),
                other => other.into(),
            })?,
        None => {
            let mut attempts = 0;
            loop {
                attempts += 1;
                match state.store.create_url(new(state.slugs.generate())).await {
                    Err(StoreError::Conflict(_)) if attempts < SLUG_ATTEMPTS => continue,
                    Err(StoreError::Conflict(_)) => {
                        return Err(ApiError::Internal(anyhow::anyhow!(
                            "no free slug after {SLUG_ATTEMPTS} attempts; raise slug.length"
                        )))
                    }
                    other => break other?,
                }
            }
        }
    };
    // A probe may have cached this slug as unknown a moment ago.
    state.redirects.invalidate(&record.slug).await;
    let location = format!("/api/urls/{}", record.slug);
    let view = UrlView::new(&state, record);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(view),
    )
        .into_response())
}

pub async fn list(
    State(state): State<AppState>,
    QueryParams(params): QueryParams<ListParams>,
) -> Result<Json<PageView<UrlView>>, ApiError> {
    let request = page_request(
        params.limit,
        params.cursor.as_deref(),
        &state.settings.pagination,
    )?;
    let page = state.store.list_urls(request).await?;
    let base = format!("{}/api/urls", state.public_url);
    let limit = request.limit.to_string();
    Ok(Json(page_view(
        page,
        |record| UrlView::new(&state, record),
        |cursor| with_query(&base, &[("limit", limit.as_str()), ("cursor", cursor)]),
    )))
}

/// `GET /api/urls/search?q=&limit=`: the pickers' endpoint. Prefix match on slug, then on
/// target host; at most 20 results, each query an index range scan.
pub async fn search(
    State(state): State<AppState>,
    QueryParams(params): QueryParams<SearchParams>,
) -> Result<Json<SearchView>, ApiError> {
    let q = params.q.trim();
    if q.is_empty() {
        return Err(Invalid::new("q", "must not be empty").into());
    }
    if q.chars().count() > SEARCH_MAX_QUERY_CHARS {
        return Err(Invalid::new(
            "q",
            format!("must be at most {SEARCH_MAX_QUERY_CHARS} characters"),
        )
        .into());
    }
    if q.chars().any(char::is_control) {
        return Err(Invalid::new("q", "must not contain control characters").into());
    }
    let limit = match params.limit {
        None => SEARCH_DEFAULT_LIMIT,
        Some(0) => return Err(Invalid::new("limit", "must be at least 1").into()),
        Some(n) => n.min(SEARCH_MAX_LIMIT),
    };
    let found = state.store.search_urls(q, limit).await?;
    Ok(Json(SearchView {
        items: found
            .into_iter()
            .map(|record| UrlView::new(&state, record))
            .collect(),
    }))
}

pub async fn show(
    State(state): State<AppState>,
    SlugPath(slug): SlugPath,
) -> Result<Json<UrlView>, ApiError> {
    let record = state.store.get_url(&slug).await.map_err(not_found)?;
    Ok(Json(UrlView::new(&state, record)))
}

#[tracing::instrument(skip_all, fields(slug = %slug))]
pub async fn update(
    State(state): State<AppState>,
    SlugPath(slug): SlugPath,
    JsonBody(body): JsonBody<UpdateUrl>,
) -> Result<Json<UrlView>, ApiError> {
    let patch = UrlPatch {
        target: body
            .url
            .as_deref()
            .map(|u| TargetUrl::parse(u, state.settings.target.max_length))
            .transpose()?,
        title: body
            .title
            .map(|t| t.as_deref().map(Title::parse).transpose())
            .transpose()?,
        crawlable: body.crawlable,
    };
    let record = state
        .store
        .update_url(&slug, patch)
        .await
        .map_err(not_found)?;
    state.redirects.invalidate(&slug).await;
    Ok(Json(UrlView::new(&state, record)))
}

#[tracing::instrument(skip_all, fields(slug = %slug))]
pub async fn remove(
    State(state): State<AppState>,
    SlugPath(slug): SlugPath,
) -> Result<StatusCode, ApiError> {
    state.store.delete_url(&slug).await.map_err(not_found)?;
    state.redirects.invalidate(&slug).await;
    Ok(StatusCode::NO_CONTENT)
}

/// A store `NotFound` on a slug look-up, worded for the client.
pub(super) fn not_found(error: StoreError) -> ApiError {
    match error {
        StoreError::NotFound => ApiError::not_found("no URL has this slug"),
        other => other.into(),
    }
}
