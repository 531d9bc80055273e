//! The URLVisit resource: `/api/visits` and `/api/urls/{slug}/visits`, newest first.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;

use super::extract::{QueryParams, SlugPath};
use super::pagination::{page_request, page_view, with_query, PageView};
use super::urls::not_found;
use super::views::VisitView;
use crate::domain::{Invalid, Slug};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{PageRequest, StoreError, VisitFilter};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UrlVisitParams {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitParams {
    /// Only visits of the URL with this slug.
    pub url: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

pub async fn list_for_url(
    State(state): State<AppState>,
    SlugPath(slug): SlugPath,
    QueryParams(params): QueryParams<UrlVisitParams>,
) -> Result<Json<PageView<VisitView>>, ApiError> {
    let request = page_request(
        params.limit,
        params.cursor.as_deref(),
        &state.settings.pagination,
    )?;
    let url = state.store.get_url(&slug).await.map_err(not_found)?;
    let base = format!("{}/api/urls/{}/visits", state.public_url, slug);
    visit_page(&state, Some(url.id), request, &base, &[]).await
}

pub async fn list(
    State(state): State<AppState>,
    QueryParams(params): QueryParams<VisitParams>,
) -> Result<Json<PageView<VisitView>>, ApiError> {
    let request = page_request(
        params.limit,
        params.cursor.as_deref(),
        &state.settings.pagination,
    )?;
    let base = format!("{}/api/visits", state.public_url);
    match params.url.filter(|s| !s.is_empty()) {
        None => visit_page(&state, None, request, &base, &[]).await,
        Some(raw) => {
            let unknown = || Invalid::new("url", "no URL has this slug");
            let slug = Slug::for_lookup(&raw).ok_or_else(unknown)?;
            let url = state.store.get_url(&slug).await.map_err(|e| match e {
                StoreError::NotFound => ApiError::Validation(unknown()),
                other => other.into(),
            })?;
            visit_page(
                &state,
                Some(url.id),
                request,
                &base,
                &[("url", slug.as_str())],
            )
            .await
        }
    }
}

/// One page of visits; `filters` are repeated in the `next` link before `limit` and `cursor`.
async fn visit_page(
    state: &AppState,
    url_id: Option<i64>,
    request: PageRequest,
    base: &str,
    filters: &[(&str, &str)],
) -> Result<Json<PageView<VisitView>>, ApiError> {
    let page = state
        .store
        .list_visits(VisitFilter { url_id }, request)
        .await?;
    let limit = request.limit.to_string();
    Ok(Json(page_view(page, VisitView::from, |cursor| {
        let mut params = filters.to_vec();
        params.extend([("limit", limit.as_str()), ("cursor", cursor)]);
        with_query(base, &params)
    })))
}
