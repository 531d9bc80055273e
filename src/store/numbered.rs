//! Lists served by page number (Shlink's clients page that way and show totals): what a
//! numbered list of links asks for, the sort key a page starts after, and the page index of
//! boundary keys that lets page N start with an index range scan instead of `OFFSET`.

use chrono::{DateTime, Utc};

use super::TagFilter;

/// Which links a numbered list shows, and in which order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LinkQuery {
    /// Only links created by this API key.
    pub owner: Option<i64>,
    /// Only links whose slug, target, title or a tag name contains this (any case).
    pub search: Option<String>,
    /// Only links carrying any (or all) of these tags.
    pub tags: Option<TagFilter>,
    /// Leave out links carrying any (or all) of these tags.
    pub exclude_tags: Option<TagFilter>,
    /// Only links created at or after this time.
    pub created_from: Option<DateTime<Utc>>,
    /// Only links created at or before this time.
    pub created_until: Option<DateTime<Utc>>,
    /// Leave out links whose visit cap is reached.
    pub exclude_exhausted: bool,
    /// Leave out links whose `valid_until` is at or before this time.
    pub exclude_expired_at: Option<DateTime<Utc>>,
    pub order: LinkOrder,
}

/// The order of a numbered link list; ties go by id, in the same direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinkOrder {
    pub field: LinkOrderField,
    pub descending: bool,
}

/// What a link list is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkOrderField {
    /// `created_at` (an index on `(created_at, id)` serves it).
    Created,
    /// The slug, bytewise (unique; the slug index serves it).
    Slug,
    /// The target URL.
    Target,
    /// The title, a link without one as the empty title.
    Title,
    /// All visits.
    Visits,
    /// Visits by people (all visits less the bots').
    HumanVisits,
}

impl LinkOrderField {
    /// Whether an index holds this order, so a page after a key is a range scan of one page;
    /// the others sort the matching links for every page.
    pub fn indexed(self) -> bool {
        matches!(self, Self::Created | Self::Slug)
    }

    /// Whether visits move a link in this order.
    pub fn moved_by_visits(self) -> bool {
        matches!(self, Self::Visits | Self::HumanVisits)
    }
}

/// Where a link sits in a [`LinkOrder`]: its sort value and id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LinkKey {
    pub value: SortValue,
    pub id: i64,
}

/// A link's value of a [`LinkOrderField`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SortValue {
    Time(DateTime<Utc>),
    Text(String),
    Count(i64),
}

/// Where a page of a numbered list starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageStart<K> {
    /// After skipping this many rows (used only near the start of a list).
    Offset(u64),
    /// Right after the row with this key.
    After(K),
}

/// The page index of a numbered list: the key of every `every`-th row (the last row of each
/// full page) and how many rows match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageIndex<K> {
    pub boundaries: Vec<K>,
    pub total: u64,
}

impl<K> PageIndex<K> {
    /// Where page `page` (from 1) of `per_page` rows starts: `None` past the last page.
    pub fn start_of(&self, page: u64) -> Option<PageStart<&K>> {
        if page <= 1 {
            return Some(PageStart::Offset(0));
        }
        let boundary = usize::try_from(page - 2).ok()?;
        self.boundaries.get(boundary).map(PageStart::After)
    }
}

/// What a cached page index was built against: when any part moved, the index is rebuilt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ListEpoch {
    /// The newest link change (creations, edits, deletions).
    pub link_changes: i64,
    /// Links in all (imports write no change rows).
    pub links: i64,
    /// Tags in all.
    pub tags: i64,
    /// Link visits in all.
    pub visits: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_n_starts_after_the_boundary_of_page_n_minus_one() {
        let index = PageIndex {
            boundaries: vec![10, 20],
            total: 25,
        };
        assert_eq!(index.start_of(1), Some(PageStart::Offset(0)));
        assert_eq!(index.start_of(2), Some(PageStart::After(&10)));
        assert_eq!(index.start_of(3), Some(PageStart::After(&20)));
        assert_eq!(index.start_of(4), None);
    }
}
