//! Keyset pagination as the API shows it: `limit` and an opaque `cursor` in, a page with the
//! `next_cursor` and a ready-made `next` link out. No totals: counting a large table on every
//! page would cost more than the page itself.

use serde::Serialize;
use utoipa::ToSchema;

use crate::config::PaginationSettings;
use crate::domain::{Cursor, Invalid};
use crate::store::{Page, PageRequest};

/// One page of a keyset-paginated list, newest first. Its schema is generic: `Page_UrlView`
/// and `Page_VisitView` in the OpenAPI document (utoipa 5 inlines the item schema there
/// rather than referring to it; utoipa issue 1586).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Page)]
pub struct PageView<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
    /// The URL of the next page, with the same `limit` and filters; `null` on the last page.
    #[schema(required = true)]
    pub next: Option<String>,
}

/// Checks `limit` (capped at the configured maximum) and decodes `cursor`.
pub fn page_request(
    limit: Option<u32>,
    cursor: Option<&str>,
    settings: &PaginationSettings,
) -> Result<PageRequest, Invalid> {
    let limit = page_limit(limit, settings)?;
    let after = match cursor {
        None | Some("") => None,
        Some(value) => Some(Cursor::decode(value)?),
    };
    Ok(PageRequest { after, limit })
}

/// A page's size: the configured default, at least 1, capped at the configured maximum.
pub fn page_limit(limit: Option<u32>, settings: &PaginationSettings) -> Result<u32, Invalid> {
    match limit {
        None => Ok(settings.default_limit),
        Some(0) => Err(Invalid::new("limit", "must be at least 1")),
        Some(n) => Ok(n.min(settings.max_limit)),
    }
}

/// Renders a page; `link` builds the URL of the next page from its cursor.
pub fn page_view<R, T>(
    page: Page<R>,
    convert: impl FnMut(R) -> T,
    link: impl FnOnce(&str) -> String,
) -> PageView<T> {
    let next_cursor = page.next.map(Cursor::encode);
    let next = next_cursor.as_deref().map(link);
    PageView {
        items: page.items.into_iter().map(convert).collect(),
        next_cursor,
        next,
    }
}

/// [`page_view`] whose `next` link is `base` with the parameters `given` (those that are
/// `Some`, in order) and the cursor: a list's filters carried to its next page.
pub fn filtered_page_view<R, T>(
    page: Page<R>,
    convert: impl FnMut(R) -> T,
    base: &str,
    given: &[(&str, Option<&str>)],
) -> PageView<T> {
    page_view(page, convert, |cursor| {
        let mut query: Vec<(&str, &str)> = given
            .iter()
            .filter_map(|(name, value)| value.map(|v| (*name, v)))
            .collect();
        query.push(("cursor", cursor));
        with_query(base, &query)
    })
}

/// Appends query parameters to a path, percent-encoding each value.
pub fn with_query(base: &str, params: &[(&str, &str)]) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    format!("{base}?{query}")
}
