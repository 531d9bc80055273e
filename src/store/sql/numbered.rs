//! Numbered lists (Shlink's short URL and visit lists): a page of links from a small offset or
//! right after a key of the list's page index, the page indexes of links and of visits (one
//! pass in which the database numbers the matching rows and sends only every `every`-th key),
//! and the epoch an index is built against. The same SQL on both databases but for the
//! [`Dialect`] fragments.

use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, QueryBuilder, Type};

use super::orphans::push_orphan_filter;
use super::{Dialect, SqlStore};
use crate::store::rows::{into_urls, push_visit_filter, UrlRow, URL_COLUMNS};
use crate::store::{
    LinkKey, LinkOrder, LinkOrderField, LinkQuery, ListEpoch, OrphanFilter, PageIndex, PageStart,
    SortValue, StoreError, TagFilter, UrlRecord, VisitFilter,
};

/// The sort key of an order, as SQL over `urls`.
fn sort_key(field: LinkOrderField, dialect: &Dialect) -> String {
    match field {
        LinkOrderField::Created => "created_at".to_owned(),
        LinkOrderField::Slug => format!("slug{}", dialect.bytewise),
        LinkOrderField::Target => "target".to_owned(),
        LinkOrderField::Title => "COALESCE(title, '')".to_owned(),
        LinkOrderField::Visits => "visit_count".to_owned(),
        LinkOrderField::HumanVisits => "(visit_count - bot_visits)".to_owned(),
    }
}

/// `ORDER BY` of an order: the key, then the id (a slug is unique and needs none).
fn order_by(order: LinkOrder, dialect: &Dialect) -> String {
    let key = sort_key(order.field, dialect);
    let dir = if order.descending { "DESC" } else { "ASC" };
    if order.field == LinkOrderField::Slug {
        format!("{key} {dir}")
    } else {
        format!("{key} {dir}, id {dir}")
    }
}

/// `%term%` for `LIKE ... ESCAPE '\'`, the term's wildcards taken literally.
fn contains_pattern(term: &str) -> String {
    let mut pattern = String::with_capacity(term.len() + 2);
    pattern.push('%');
    for c in term.chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Appends `tags` as a condition on `urls`: carrying any of the names, or all of them.
fn push_tag_condition<'q, DB>(query: &mut QueryBuilder<'q, DB>, tags: &TagFilter)
where
    DB: Database,
    String: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
{
    let matching = "FROM url_tags ut JOIN tags t ON t.id = ut.tag_id \
                    WHERE ut.url_id = urls.id AND t.name IN (";
    if tags.all {
        query.push("(SELECT COUNT(*) ").push(matching);
    } else {
        query.push("EXISTS (SELECT 1 ").push(matching);
    }
    let mut names = query.separated(", ");
    for name in &tags.names {
        names.push_bind(name.as_str().to_owned());
    }
    query.push("))");
    if tags.all {
        query.push(" = ").push_bind(tags.names.len() as i64);
    }
}

/// Appends the conditions of a [`LinkQuery`] to a query over `urls` that ends in a `WHERE`.
fn push_link_filter<'q, DB>(query: &mut QueryBuilder<'q, DB>, list: &LinkQuery, dialect: &Dialect)
where
    DB: Database,
    String: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    DateTime<Utc>: Encode<'q, DB> + Type<DB>,
{
    if let Some(owner) = list.owner {
        query.push(" AND created_by = ").push_bind(owner);
    }
    if let Some(from) = list.created_from {
        query.push(" AND created_at >= ").push_bind(from);
    }
    if let Some(until) = list.created_until {
        query.push(" AND created_at <= ").push_bind(until);
    }
    if list.exclude_exhausted {
        query.push(" AND (max_visits IS NULL OR human_visits < max_visits)");
    }
    if let Some(at) = list.exclude_expired_at {
        query
            .push(" AND (valid_until IS NULL OR valid_until > ")
            .push_bind(at)
            .push(")");
    }
    if let Some(tags) = &list.tags {
        query.push(" AND ");
        push_tag_condition(query, tags);
    }
    if let Some(tags) = &list.exclude_tags {
        query.push(" AND NOT ");
        push_tag_condition(query, tags);
    }
    if let Some(term) = &list.search {
        let like = dialect.contains;
        let pattern = contains_pattern(term);
        for column in ["slug", "target", "title"] {
            let joiner = if column == "slug" { " AND (" } else { " OR " };
            query
                .push(format!("{joiner}{column} {like} "))
                .push_bind(pattern.clone())
                .push(" ESCAPE '\\'");
        }
        query
            .push(
                " OR EXISTS (SELECT 1 FROM url_tags ut JOIN tags t ON t.id = ut.tag_id \
                 WHERE ut.url_id = urls.id AND t.name ",
            )
            .push(like)
            .push(" ")
            .push_bind(pattern)
            .push(" ESCAPE '\\'))");
    }
}

/// Appends "after `key` in `order`" to a query over `urls` that ends in a `WHERE`.
fn push_after<'q, DB>(
    query: &mut QueryBuilder<'q, DB>,
    order: LinkOrder,
    key: &LinkKey,
    dialect: &Dialect,
) where
    DB: Database,
    String: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    DateTime<Utc>: Encode<'q, DB> + Type<DB>,
{
    let column = sort_key(order.field, dialect);
    let beyond = if order.descending { "<" } else { ">" };
    if order.field == LinkOrderField::Slug {
        query.push(format!(" AND {column} {beyond} "));
    } else {
        query.push(format!(" AND ({column}, id) {beyond} ("));
    }
    match &key.value {
        SortValue::Time(time) => query.push_bind(*time),
        SortValue::Text(text) => query.push_bind(text.clone()),
        SortValue::Count(count) => query.push_bind(*count),
    };
    if order.field != LinkOrderField::Slug {
        query.push(", ").push_bind(key.id).push(")");
    }
}

/// The SQL type a sort key is read back as.
enum KeyType {
    Time,
    Text,
    Count,
}

fn key_type(field: LinkOrderField) -> KeyType {
    match field {
        LinkOrderField::Created => KeyType::Time,
        LinkOrderField::Slug | LinkOrderField::Target | LinkOrderField::Title => KeyType::Text,
        LinkOrderField::Visits | LinkOrderField::HumanVisits => KeyType::Count,
    }
}

/// One numbered row of a page index scan: key, id, number, total.
type Numbered<K> = (K, i64, i64, i64);

/// The part of a page index query after its rows' `FROM ... WHERE` and filters.
fn push_numbered_tail<'q, DB>(query: &mut QueryBuilder<'q, DB>, every: i64)
where
    DB: Database,
    i64: Encode<'q, DB> + Type<DB>,
{
    query
        .push(") numbered WHERE n % ")
        .push_bind(every)
        .push(" = 0 OR n = total ORDER BY n");
}

/// A page index from the numbered rows `(key, id, number, total)` a page index query answers:
/// the keys of the rows that end a page (but the last row), and the total.
fn page_index<K>(rows: Vec<Numbered<K>>, every: i64) -> PageIndex<K> {
    let total = rows.first().map_or(0, |row| row.3);
    let boundaries = rows
        .into_iter()
        .filter(|(_, _, number, total)| number % every == 0 && number < total)
        .map(|(key, _, _, _)| key)
        .collect();
    PageIndex {
        boundaries,
        total: u64::try_from(total).unwrap_or(0),
    }
}

/// Numbered visit ids: each row's key is its id.
const NUMBERED_VISITS: &str = "SELECT id, id, n, total FROM (SELECT v.id, \
     ROW_NUMBER() OVER (ORDER BY v.id DESC) AS n, COUNT(*) OVER () AS total";

fn keyed<K>(rows: Vec<Numbered<K>>, value: fn(K) -> SortValue) -> Vec<Numbered<SortValue>> {
    rows.into_iter()
        .map(|(key, id, number, total)| (value(key), id, number, total))
        .collect()
}

impl SqlStore {
    pub(super) async fn link_list_page(
        &self,
        list: &LinkQuery,
        start: PageStart<&LinkKey>,
        limit: u32,
    ) -> Result<Vec<UrlRecord>, StoreError> {
        let dialect = self.dialect();
        let rows: Vec<UrlRow> = on_pool!(self, pool => {
            let mut query = QueryBuilder::new(format!("SELECT {URL_COLUMNS} FROM urls WHERE TRUE"));
            push_link_filter(&mut query, list, dialect);
            if let PageStart::After(key) = &start {
                push_after(&mut query, list.order, key, dialect);
            }
            query
                .push(" ORDER BY ")
                .push(order_by(list.order, dialect))
                .push(" LIMIT ")
                .push_bind(i64::from(limit));
            if let PageStart::Offset(skip) = start {
                query
                    .push(" OFFSET ")
                    .push_bind(i64::try_from(skip).unwrap_or(i64::MAX));
            }
            query.build_query_as().fetch_all(pool).await?
        });
        self.with_tags(into_urls(rows)?).await
    }

    pub(super) async fn link_list_index(
        &self,
        list: &LinkQuery,
        every: u32,
    ) -> Result<PageIndex<LinkKey>, StoreError> {
        let dialect = self.dialect();
        let key = sort_key(list.order.field, dialect);
        let order = order_by(list.order, dialect);
        let every = i64::from(every.max(1));
        let rows: Vec<Numbered<SortValue>> = on_pool!(self, pool => {
            let mut query = QueryBuilder::new(format!(
                "SELECT k, id, n, total FROM (SELECT {key} AS k, id, \
                 ROW_NUMBER() OVER (ORDER BY {order}) AS n, COUNT(*) OVER () AS total \
                 FROM urls WHERE TRUE"
            ));
            push_link_filter(&mut query, list, dialect);
            push_numbered_tail(&mut query, every);
            match key_type(list.order.field) {
                KeyType::Time => keyed(
                    query.build_query_as::<Numbered<DateTime<Utc>>>().fetch_all(pool).await?,
                    SortValue::Time,
                ),
                KeyType::Text => keyed(
                    query.build_query_as::<Numbered<String>>().fetch_all(pool).await?,
                    SortValue::Text,
                ),
                KeyType::Count => keyed(
                    query.build_query_as::<Numbered<i64>>().fetch_all(pool).await?,
                    SortValue::Count,
                ),
            }
        });
        let keyed = rows
            .into_iter()
            .map(|(value, id, number, total)| (LinkKey { value, id }, id, number, total))
            .collect();
        Ok(page_index(keyed, every))
    }

    pub(super) async fn visit_list_index(
        &self,
        filter: VisitFilter,
        every: u32,
    ) -> Result<PageIndex<i64>, StoreError> {
        let every = i64::from(every.max(1));
        let join = if filter.owner.is_some() {
            " JOIN urls u ON u.id = v.url_id"
        } else {
            ""
        };
        let rows: Vec<Numbered<i64>> = on_pool!(self, pool => {
            let mut query = QueryBuilder::new(format!(
                "{NUMBERED_VISITS} FROM url_visits v{join} WHERE TRUE"
            ));
            push_visit_filter(&mut query, filter);
            push_numbered_tail(&mut query, every);
            query.build_query_as().fetch_all(pool).await?
        });
        Ok(page_index(rows, every))
    }

    pub(super) async fn orphan_list_index(
        &self,
        filter: OrphanFilter,
        every: u32,
    ) -> Result<PageIndex<i64>, StoreError> {
        let every = i64::from(every.max(1));
        let rows: Vec<Numbered<i64>> = on_pool!(self, pool => {
            let mut query =
                QueryBuilder::new(format!("{NUMBERED_VISITS} FROM orphan_visits v WHERE TRUE"));
            push_orphan_filter(&mut query, filter);
            push_numbered_tail(&mut query, every);
            query.build_query_as().fetch_all(pool).await?
        });
        Ok(page_index(rows, every))
    }

    pub(super) async fn link_list_epoch(&self) -> Result<ListEpoch, StoreError> {
        let (link_changes, links, tags, visits): (i64, i64, i64, i64) = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT (SELECT COALESCE(MAX(id), 0) FROM link_changes), \
                 (SELECT CAST(COALESCE(SUM(links), 0) AS BIGINT) FROM entity_totals), \
                 (SELECT CAST(COALESCE(SUM(tags), 0) AS BIGINT) FROM entity_totals), \
                 (SELECT CAST(COALESCE(SUM(visits), 0) AS BIGINT) FROM visit_totals)",
            )
            .fetch_one(pool)
            .await?
        });
        Ok(ListEpoch {
            link_changes,
            links,
            tags,
            visits,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_terms_match_their_wildcards_literally() {
        assert_eq!(contains_pattern("spring"), "%spring%");
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
