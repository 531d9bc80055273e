//! The URLVisit resource: `/api/visits` and `/api/urls/{slug}/visits`, newest first, filtered by
//! URL, time range, bot flag and country.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{IntoParams, PartialSchema, ToSchema};

use super::extract::{QueryParams, SlugPath};
use super::pagination::{filtered_page_view, page_request, PageView};
use super::responses;
use super::urls::not_found;
use super::views::VisitView;
use crate::domain::{parse_end, parse_start, CountryCode, Invalid, Slug};
use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::store::{StoreError, VisitFilter};

/// `from` or `to`: a date (`2026-11-26`) or an RFC 3339 time (`2026-11-26T08:00:00Z`), checked
/// by `parse_start`/`parse_end`; the pattern tells clients (and schemathesis) the shape.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct Instant(pub(super) String);

const INSTANT_PATTERN: &str = "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])\
([Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))?$";

impl PartialSchema for Instant {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(INSTANT_PATTERN))
            .into()
    }
}

impl ToSchema for Instant {}

/// The query of `GET /api/visits`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VisitParams {
    /// Only visits of the URL with this slug.
    pub url: Option<String>,
    /// Visits at or after this day or RFC 3339 time.
    #[param(inline)]
    pub from: Option<Instant>,
    /// Visits before this RFC 3339 time, or up to the end of this day.
    #[param(inline)]
    pub to: Option<Instant>,
    /// `true`: only bots; `false`: only people; absent: everyone.
    pub bot: Option<bool>,
    /// Only visits located in this country (ISO 3166-1 alpha-2, any case; needs `geo.database`).
    #[param(pattern = "^[A-Za-z]{2}$")]
    pub country: Option<String>,
    /// Items per page (default `pagination.default_limit`, capped at `pagination.max_limit`).
    #[param(minimum = 1)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The query of `GET /api/urls/{slug}/visits`: that of `GET /api/visits` without `url`, which
/// the path gives.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UrlVisitParams {
    /// Visits at or after this day or RFC 3339 time.
    #[param(inline)]
    pub from: Option<Instant>,
    /// Visits before this RFC 3339 time, or up to the end of this day.
    #[param(inline)]
    pub to: Option<Instant>,
    /// `true`: only bots; `false`: only people; absent: everyone.
    pub bot: Option<bool>,
    /// Only visits located in this country (ISO 3166-1 alpha-2, any case; needs `geo.database`).
    #[param(pattern = "^[A-Za-z]{2}$")]
    pub country: Option<String>,
    /// Items per page (default `pagination.default_limit`, capped at `pagination.max_limit`).
    #[param(minimum = 1)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl From<UrlVisitParams> for VisitParams {
    fn from(params: UrlVisitParams) -> Self {
        let UrlVisitParams {
            from,
            to,
            bot,
            country,
            limit,
            cursor,
        } = params;
        VisitParams {
            url: None,
            from,
            to,
            bot,
            country,
            limit,
            cursor,
        }
    }
}

/// List the visits of one short link, newest first.
///
/// Keyset-paginated like `GET /api/urls`; the `next` link repeats the filters given. The
/// query parameter `url` of `GET /api/visits` is refused (422): the path names the URL.
#[utoipa::path(
    get,
    path = "/urls/{slug}/visits",
    operation_id = "list_url_visits",
    tag = "visits",
    params(
        ("slug" = String, Path, description = "The short link's slug (case-sensitive)"),
        UrlVisitParams
    ),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "One page of visits",
            body = PageView<VisitView>, content_type = "application/json"),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 422, response = responses::ValidationFailed),
        (status = 500, response = responses::Internal),
        (status = 503, response = responses::Unavailable),
    )
)]
pub async fn list_for_url(
    caller: Caller,
    State(state): State<AppState>,
    SlugPath(slug): SlugPath,
    QueryParams(params): QueryParams<UrlVisitParams>,
) -> Result<Json<PageView<VisitView>>, ApiError> {
    let url = state.store.get_url(&slug).await.map_err(not_found)?;
    caller.require_read_url(&url)?;
    let base = format!("{}/api/urls/{}/visits", state.public_url, slug);
    visit_page(&state, Some(url.id), None, params.into(), &base).await
}

/// List visits of all short links, newest first.
///
/// Keyset-paginated like `GET /api/urls`; the `next` link repeats the filters given. 422 also
/// when no URL has the slug given as `url`; 403 when an editor names a URL it did not create.
#[utoipa::path(
    get,
    path = "/visits",
    operation_id = "list_visits",
    tag = "visits",
    params(VisitParams),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "One page of visits (of an editor's own short links only)",
            body = PageView<VisitView>, content_type = "application/json"),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 422, response = responses::ValidationFailed),
        (status = 500, response = responses::Internal),
        (status = 503, response = responses::Unavailable),
    )
)]
pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    QueryParams(params): QueryParams<VisitParams>,
) -> Result<Json<PageView<VisitView>>, ApiError> {
    let base = format!("{}/api/visits", state.public_url);
    let url_id = match params.url.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => {
            let unknown = || Invalid::new("url", "no URL has this slug");
            let slug = Slug::for_lookup(raw).ok_or_else(unknown)?;
            let url = state.store.get_url(&slug).await.map_err(|e| match e {
                StoreError::NotFound => ApiError::Validation(unknown()),
                other => other.into(),
            })?;
            caller.require_read_url(&url)?;
            Some(url.id)
        }
    };
    visit_page(&state, url_id, caller.owner_filter(), params, &base).await
}

/// One page of visits; the `next` link repeats the filters given.
async fn visit_page(
    state: &AppState,
    url_id: Option<i64>,
    owner: Option<i64>,
    params: VisitParams,
    base: &str,
) -> Result<Json<PageView<VisitView>>, ApiError> {
    let request = page_request(
        params.limit,
        params.cursor.as_deref(),
        &state.settings.pagination,
    )?;
    let filter = VisitFilter {
        url_id,
        owner,
        from: params
            .from
            .as_ref()
            .map(|v| parse_start("from", &v.0))
            .transpose()?,
        until: params
            .to
            .as_ref()
            .map(|v| parse_end("to", &v.0))
            .transpose()?,
        is_bot: params.bot,
        country: params
            .country
            .as_deref()
            .filter(|code| !code.is_empty())
            .map(|code| code.parse::<CountryCode>())
            .transpose()
            .map_err(|reason| Invalid::new("country", reason))?,
        tag_id: None,
    };
    let page = state.store.list_visits(filter, request).await?;
    let limit = request.limit.to_string();
    let bot = params.bot.map(|b| b.to_string());
    let given = [
        ("url", params.url.as_deref()),
        ("from", params.from.as_ref().map(|v| v.0.as_str())),
        ("to", params.to.as_ref().map(|v| v.0.as_str())),
        ("bot", bot.as_deref()),
        ("country", filter.country.as_ref().map(CountryCode::as_str)),
        ("limit", Some(limit.as_str())),
    ];
    Ok(Json(filtered_page_view(
        page,
        VisitView::from,
        base,
        &given,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use proptest::prelude::*;

    fn instants() -> impl Strategy<Value = String> {
        let body = INSTANT_PATTERN
            .trim_start_matches('^')
            .trim_end_matches('$');
        proptest::string::string_regex(body).expect("the pattern is a regular expression")
    }

    proptest! {
        /// What the documented pattern admits, the parsers take, unless the day is not in
        /// the calendar (2026-02-30), which a pattern cannot tell.
        #[test]
        fn the_pattern_admits_what_the_parsers_take(value in instants()) {
            let calendar_day = NaiveDate::parse_from_str(&value[..10], "%Y-%m-%d").is_ok();
            prop_assert_eq!(parse_start("from", &value).is_ok(), calendar_day);
            prop_assert_eq!(parse_end("to", &value).is_ok(), calendar_day);
        }
    }
}
