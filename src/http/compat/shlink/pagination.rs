//! Shlink's numbered pages: `page` and `itemsPerPage` in, `{data, pagination}` out with the
//! totals its clients show.

use serde::Serialize;
use utoipa::ToSchema;

use super::problem::ShlinkProblem;

/// A page of a list and where it stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paged<T> {
    pub data: Vec<T>,
    pub pagination: Pagination,
}

/// Shlink's pagination object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ShlinkPagination)]
pub struct Pagination {
    pub current_page: u64,
    pub pages_count: u64,
    pub items_per_page: u64,
    pub items_in_current_page: u64,
    pub total_items: u64,
}

/// `page` (from 1; absent: 1) and `itemsPerPage` (`-1` or absent: all), or `invalid-data`.
pub fn parse(
    page: Option<&str>,
    items_per_page: Option<&str>,
) -> Result<(u64, Option<u64>), ShlinkProblem> {
    let page = match page.map(str::trim).filter(|p| !p.is_empty()) {
        None => 1,
        Some(text) => text
            .parse::<u64>()
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| ShlinkProblem::invalid_data(&[("page", "a number from 1".into())]))?,
    };
    let per_page = match items_per_page.map(str::trim).filter(|p| !p.is_empty()) {
        None | Some("-1") => None,
        Some(text) => Some(
            text.parse::<u64>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| {
                    ShlinkProblem::invalid_data(&[(
                        "itemsPerPage",
                        "a number from 1, or -1 for all".into(),
                    )])
                })?,
        ),
    };
    Ok((page, per_page))
}

impl Pagination {
    /// Where page `page` of `per_page` items (all with `None`) stands in `total` items.
    pub fn of(page: u64, per_page: Option<u64>, total: u64) -> Self {
        let per_page = per_page.unwrap_or(total.max(1));
        let pages_count = total.div_ceil(per_page);
        let first = (page - 1).saturating_mul(per_page);
        Self {
            current_page: page,
            pages_count,
            items_per_page: per_page,
            items_in_current_page: total.saturating_sub(first).min(per_page),
            total_items: total,
        }
    }

    /// The asked page of a list held whole.
    pub fn page<T>(
        items: Vec<T>,
        page: Option<&str>,
        items_per_page: Option<&str>,
    ) -> Result<Paged<T>, ShlinkProblem> {
        let (page, per_page) = parse(page, items_per_page)?;
        let pagination = Self::of(page, per_page, items.len() as u64);
        let first = usize::try_from((page - 1).saturating_mul(pagination.items_per_page))
            .unwrap_or(usize::MAX);
        let data: Vec<T> = items
            .into_iter()
            .skip(first)
            .take(pagination.items_in_current_page as usize)
            .collect();
        Ok(Paged { data, pagination })
    }
}

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse;

    use super::*;

    #[test]
    fn pages_stand_where_shlink_says() {
        assert_eq!(
            Pagination::of(2, Some(10), 25),
            Pagination {
                current_page: 2,
                pages_count: 3,
                items_per_page: 10,
                items_in_current_page: 10,
                total_items: 25
            }
        );
        assert_eq!(Pagination::of(3, Some(10), 25).items_in_current_page, 5);
        assert_eq!(Pagination::of(4, Some(10), 25).items_in_current_page, 0);
        assert_eq!(Pagination::of(1, None, 7).pages_count, 1);
        assert_eq!(Pagination::of(1, None, 0).pages_count, 0);
        let paged = Pagination::page((1..=5).collect(), Some("2"), Some("2")).unwrap();
        assert_eq!(paged.data, [3, 4]);
        assert_eq!(
            parse(Some("0"), None).unwrap_err().into_response().status(),
            400
        );
        assert_eq!(
            parse(None, Some("-2"))
                .unwrap_err()
                .into_response()
                .status(),
            400
        );
        assert_eq!(parse(None, Some("-1")).unwrap(), (1, None));
    }
}
