//! Tags in the store: reading a page of links' tags at once, the tag filters of the URL list,
//! the tag list with its counters, renaming and deleting, and the writes that keep
//! `tags.links` and `tags.visits` exact (see the tags migration) in the transaction of every
//! change that moves them.
//!
//! The writes are macros, like `log_change!`: they run inside a transaction of either backend
//! and are compiled once for each.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sqlx::QueryBuilder;

use super::SqlStore;
use crate::domain::TagName;
use crate::store::rows::{into_urls, push_url_filter, TagRow, UrlRow, TAG_COLUMNS, URL_COLUMNS};
use crate::store::UrlRecord;
use crate::store::{
    Page, PageRequest, StoreError, TagFilter, TagPage, TagQuery, TagRecord, UrlFilter,
};

/// Rows per multi-row statement of the tag writes (two values each).
pub(super) const TAG_ROWS_PER_STATEMENT: usize = 1000;

/// How one change moves each tag's counters: tag id to (links, visits, bot visits) deltas, in
/// id order, the order every writer locks tags in.
pub(super) type TagDeltas = BTreeMap<i64, (i64, i64, i64)>;

/// Makes sure a tag row exists for each name, in the transaction `$tx`; evaluates to the ids
/// by name.
macro_rules! ensure_tags {
    ($tx:expr, $names:expr) => {{
        let mut names: Vec<&str> = $names;
        // In one order, so that two writers making the same new tags never wait on each other
        // in a cycle.
        names.sort_unstable();
        names.dedup();
        let mut ids: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
        for chunk in names.chunks($crate::store::sql::tags::TAG_ROWS_PER_STATEMENT) {
            let mut insert = sqlx::QueryBuilder::new("INSERT INTO tags (name) ");
            insert.push_values(chunk, |mut row, name| {
                row.push_bind(*name);
            });
            insert.push(" ON CONFLICT (name) DO NOTHING");
            insert.build().execute(&mut *$tx).await?;
            let mut select = sqlx::QueryBuilder::new("SELECT name, id FROM tags WHERE name IN (");
            let mut list = select.separated(", ");
            for name in chunk {
                list.push_bind(*name);
            }
            select.push(")");
            let found: Vec<(String, i64)> = select.build_query_as().fetch_all(&mut *$tx).await?;
            ids.extend(found);
        }
        ids
    }};
}

/// Makes sure a tag row exists for each name and, on PostgreSQL, holds it and the tags `$also`
/// (ids) until `$tx` ends, locked in id order as every writer of tags locks them; evaluates to
/// the ids by name. A link's writes take its tags before its `url_tags` rows, the order a
/// tag's deletion takes them in (the tag, then its `url_tags` by cascade): the other way round,
/// a link deleted or retagged while one of its tags was deleted deadlocked. A tag deleted
/// between being found and being locked is made again. (SQLite: the transaction already holds
/// the database.)
macro_rules! claim_tags {
    ($store:expr, $tx:expr, $names:expr, $also:expr) => {{
        let names: Vec<&str> = $names;
        let also: &[i64] = $also;
        let mut ids = ensure_tags!($tx, names.clone());
        if matches!($store.db, $crate::store::sql::Db::Postgres(_)) {
            for _ in 0..3 {
                let wanted: Vec<i64> = ids
                    .values()
                    .chain(also)
                    .copied()
                    .collect::<std::collections::BTreeSet<i64>>()
                    .into_iter()
                    .collect();
                let mut held = std::collections::HashSet::new();
                for chunk in wanted.chunks($crate::store::sql::tags::TAG_ROWS_PER_STATEMENT) {
                    let mut lock = sqlx::QueryBuilder::new("SELECT id FROM tags WHERE id IN (");
                    let mut list = lock.separated(", ");
                    for id in chunk {
                        list.push_bind(*id);
                    }
                    lock.push(") ORDER BY id FOR NO KEY UPDATE");
                    let found: Vec<i64> = lock.build_query_scalar().fetch_all(&mut *$tx).await?;
                    held.extend(found);
                }
                let vanished: Vec<&str> = names
                    .iter()
                    .copied()
                    .filter(|name| ids.get(*name).is_none_or(|id| !held.contains(id)))
                    .collect();
                if vanished.is_empty() {
                    break;
                }
                ids.extend(ensure_tags!($tx, vanished));
            }
        }
        ids
    }};
}

/// Adds the deltas to the tags' counters in `$tx`, locking the rows in id order first on
/// PostgreSQL (the visit writer locks them in that order too, so concurrent writers never
/// deadlock), and deletes the tags that lost their last link.
macro_rules! adjust_tags {
    ($store:expr, $tx:expr, $deltas:expr) => {{
        let deltas: &$crate::store::sql::tags::TagDeltas = $deltas;
        let entries: Vec<(i64, (i64, i64, i64))> = deltas.iter().map(|(k, v)| (*k, *v)).collect();
        for chunk in entries.chunks($crate::store::sql::tags::TAG_ROWS_PER_STATEMENT) {
            if matches!($store.db, $crate::store::sql::Db::Postgres(_)) {
                let mut lock = sqlx::QueryBuilder::new("SELECT id FROM tags WHERE id IN (");
                let mut list = lock.separated(", ");
                for (id, _) in chunk {
                    list.push_bind(*id);
                }
                lock.push(") ORDER BY id FOR NO KEY UPDATE");
                lock.build().execute(&mut *$tx).await?;
            }
            // `(VALUES ...)` names its columns `column1`, `column2` on both databases.
            let mut update = sqlx::QueryBuilder::new(
                "UPDATE tags SET links = tags.links + d.column2, \
                 visits = tags.visits + d.column3, bot_visits = tags.bot_visits + d.column4 FROM (",
            );
            update.push_values(chunk, |mut row, (id, (links, visits, bots))| {
                row.push_bind(*id)
                    .push_bind(*links)
                    .push_bind(*visits)
                    .push_bind(*bots);
            });
            update.push(") AS d WHERE tags.id = d.column1");
            update.build().execute(&mut *$tx).await?;
            let emptied: Vec<i64> = chunk
                .iter()
                .filter(|(_, (links, _, _))| *links < 0)
                .map(|(id, _)| *id)
                .collect();
            if !emptied.is_empty() {
                let mut gc =
                    sqlx::QueryBuilder::new("DELETE FROM tags WHERE links <= 0 AND id IN (");
                let mut list = gc.separated(", ");
                for id in &emptied {
                    list.push_bind(*id);
                }
                gc.push(")");
                gc.build().execute(&mut *$tx).await?;
            }
        }
    }};
}

/// Gives the link `$url_id` (whose `visit_count` and `bot_visits` are `$visits`, read under
/// the row lock of the statement that changed it) exactly the tags `$names` in `$tx`, moving
/// the counters of the tags it gains and loses.
macro_rules! set_url_tags {
    ($store:expr, $tx:expr, $url_id:expr, $visits:expr, $names:expr) => {{
        let url_id: i64 = $url_id;
        let (visit_count, bot_visits): (i64, i64) = $visits;
        let names: &[$crate::domain::TagName] = $names;
        let current: Vec<i64> = sqlx::query_scalar("SELECT tag_id FROM url_tags WHERE url_id = $1")
            .bind(url_id)
            .fetch_all(&mut *$tx)
            .await?;
        let wanted = claim_tags!(
            $store,
            $tx,
            names.iter().map(|n| n.as_str()).collect(),
            &current
        );
        let (removed, added) =
            $crate::store::sql::tags::difference(&current, wanted.values().copied());
        if !removed.is_empty() {
            let mut delete = sqlx::QueryBuilder::new("DELETE FROM url_tags WHERE url_id = ");
            delete.push_bind(url_id).push(" AND tag_id IN (");
            let mut list = delete.separated(", ");
            for id in &removed {
                list.push_bind(*id);
            }
            delete.push(")");
            delete.build().execute(&mut *$tx).await?;
        }
        if !added.is_empty() {
            let mut insert = sqlx::QueryBuilder::new("INSERT INTO url_tags (tag_id, url_id) ");
            insert.push_values(&added, |mut row, id| {
                row.push_bind(*id).push_bind(url_id);
            });
            insert.build().execute(&mut *$tx).await?;
        }
        let mut deltas = $crate::store::sql::tags::TagDeltas::new();
        for id in removed {
            deltas.insert(id, (-1, -visit_count, -bot_visits));
        }
        for id in added {
            deltas.insert(id, (1, visit_count, bot_visits));
        }
        adjust_tags!($store, $tx, &deltas);
    }};
}

/// Tags the links an import created (`$pairs`: url id and tag name), in its transaction.
/// New links have no visits: only `links` moves.
macro_rules! tag_imported {
    ($store:expr, $tx:expr, $pairs:expr) => {{
        let pairs: &[(i64, &$crate::domain::TagName)] = $pairs;
        if !pairs.is_empty() {
            let names: std::collections::BTreeSet<&str> =
                pairs.iter().map(|(_, name)| name.as_str()).collect();
            let ids = claim_tags!($store, $tx, names.into_iter().collect(), &[]);
            let rows: Vec<(i64, i64)> = pairs
                .iter()
                .filter_map(|(url_id, name)| ids.get(name.as_str()).map(|id| (*id, *url_id)))
                .collect();
            let mut deltas = $crate::store::sql::tags::TagDeltas::new();
            for chunk in rows.chunks($crate::store::sql::tags::TAG_ROWS_PER_STATEMENT) {
                let mut insert = sqlx::QueryBuilder::new("INSERT INTO url_tags (tag_id, url_id) ");
                insert.push_values(chunk, |mut row, (tag_id, url_id)| {
                    row.push_bind(*tag_id).push_bind(*url_id);
                });
                insert.build().execute(&mut *$tx).await?;
                for (tag_id, _) in chunk {
                    deltas.entry(*tag_id).or_insert((0, 0, 0)).0 += 1;
                }
            }
            adjust_tags!($store, $tx, &deltas);
        }
    }};
}

/// What a link loses and gains: the tag ids in `current` and not wanted, and the reverse.
pub(super) fn difference(
    current: &[i64],
    wanted: impl Iterator<Item = i64>,
) -> (Vec<i64>, Vec<i64>) {
    let current: BTreeSet<i64> = current.iter().copied().collect();
    let wanted: BTreeSet<i64> = wanted.collect();
    (
        current.difference(&wanted).copied().collect(),
        wanted.difference(&current).copied().collect(),
    )
}

/// The (url id, tag name) pairs of the links an import created.
pub(super) fn imported_pairs<'a>(
    urls: &'a [crate::store::NewUrl],
    created: &[(i64, crate::domain::Slug)],
) -> Vec<(i64, &'a TagName)> {
    let by_slug: HashMap<&str, &crate::store::NewUrl> =
        urls.iter().map(|url| (url.slug.as_str(), url)).collect();
    created
        .iter()
        .filter_map(|(id, slug)| by_slug.get(slug.as_str()).map(|url| (*id, url)))
        .flat_map(|(id, url)| url.tags.iter().map(move |name| (id, name)))
        .collect()
}

impl SqlStore {
    /// Fills in the tags of these URLs with one query (the `url_tags (url_id, tag_id)` index).
    pub(super) async fn with_tags(
        &self,
        mut urls: Vec<UrlRecord>,
    ) -> Result<Vec<UrlRecord>, StoreError> {
        if urls.is_empty() {
            return Ok(urls);
        }
        let rows: Vec<(i64, String)> = on_pool!(self, pool => {
            let mut query = sqlx::QueryBuilder::new(
                "SELECT ut.url_id, t.name FROM url_tags ut JOIN tags t ON t.id = ut.tag_id \
                 WHERE ut.url_id IN (",
            );
            let mut list = query.separated(", ");
            for url in &urls {
                list.push_bind(url.id);
            }
            query.push(") ORDER BY t.name");
            query.build_query_as().fetch_all(pool).await?
        });
        let mut by_url: HashMap<i64, Vec<TagName>> = HashMap::new();
        for (url_id, name) in rows {
            by_url
                .entry(url_id)
                .or_default()
                .push(TagName::from_stored(name));
        }
        for url in &mut urls {
            url.tags = by_url.remove(&url.id).unwrap_or_default();
        }
        Ok(urls)
    }

    pub(super) async fn with_tags_of(&self, url: UrlRecord) -> Result<UrlRecord, StoreError> {
        let mut urls = self.with_tags(vec![url]).await?;
        urls.pop()
            .ok_or_else(|| StoreError::Other(anyhow::anyhow!("a URL went missing")))
    }

    /// The tags with these names that exist: id and link count.
    async fn find_tags(&self, names: &[TagName]) -> Result<Vec<(i64, i64)>, StoreError> {
        let found = on_pool!(self, pool => {
            let mut query = sqlx::QueryBuilder::new("SELECT id, links FROM tags WHERE name IN (");
            let mut list = query.separated(", ");
            for name in names {
                list.push_bind(name.as_str());
            }
            query.push(")");
            query.build_query_as().fetch_all(pool).await?
        });
        Ok(found)
    }

    /// URLs with any (or all) of the filter's tags, newest first. One tag, or all of several,
    /// walks the rarest tag's `url_tags (tag_id, url_id)` range backwards from the cursor and
    /// checks the others by their primary key; any of several merges, per tag, at most a page
    /// of that range. Either way a page costs about the same at any depth.
    pub(super) async fn tagged_urls(
        &self,
        filter: &TagFilter,
        page: PageRequest,
        urls: UrlFilter,
    ) -> Result<Page<UrlRecord>, StoreError> {
        let mut found = self.find_tags(&filter.names).await?;
        let empty = Page {
            items: Vec::new(),
            next: None,
        };
        if found.is_empty() || (filter.all && found.len() < filter.names.len()) {
            return Ok(empty);
        }
        found.sort_by_key(|(id, links)| (*links, *id));
        let limit = i64::from(page.limit) + 1;
        let rows: Vec<UrlRow> = on_pool!(self, pool => {
            let mut query = sqlx::QueryBuilder::new(format!("SELECT {URL_COLUMNS} FROM "));
            if filter.all || found.len() == 1 {
                let (rarest, _) = found[0];
                query.push("url_tags ut JOIN urls ON urls.id = ut.url_id WHERE ut.tag_id = ");
                query.push_bind(rarest);
                for (other, _) in &found[1..] {
                    query
                        .push(" AND EXISTS (SELECT 1 FROM url_tags x WHERE x.tag_id = ")
                        .push_bind(*other)
                        .push(" AND x.url_id = ut.url_id)");
                }
            } else {
                query.push("urls WHERE id IN (");
                for (i, (tag, _)) in found.iter().enumerate() {
                    if i > 0 {
                        query.push(" UNION ");
                    }
                    query.push(
                        "SELECT url_id FROM (SELECT ut.url_id FROM url_tags ut \
                         JOIN urls ON urls.id = ut.url_id WHERE ut.tag_id = ",
                    );
                    query.push_bind(*tag);
                    push_page_bounds(&mut query, urls, page, "ut.url_id");
                    query
                        .push(" ORDER BY ut.url_id DESC LIMIT ")
                        .push_bind(limit)
                        .push(format!(") AS t{i}"));
                }
                query.push(")");
            }
            let order = if filter.all || found.len() == 1 {
                "ut.url_id"
            } else {
                "urls.id"
            };
            push_page_bounds(&mut query, urls, page, order);
            query
                .push(format!(" ORDER BY {order} DESC LIMIT "))
                .push_bind(limit);
            query.build_query_as().fetch_all(pool).await?
        });
        let urls = self.with_tags(into_urls(rows)?).await?;
        Ok(Page::from_overfetch(urls, page.limit, |u| u.id))
    }

    /// A page of tags in name order. For an editor (`owner`), only the tags of its own links,
    /// counted over those links (a walk over them, whatever the other tags' sizes); for
    /// everyone else the counters, through the name index.
    pub(super) async fn tag_page(
        &self,
        query: &TagQuery,
        owner: Option<i64>,
    ) -> Result<TagPage, StoreError> {
        let bytewise = self.dialect().bytewise;
        let upper = query
            .prefix
            .as_deref()
            .map(crate::store::prefix_upper_bound);
        let limit = i64::from(query.limit) + 1;
        let rows: Vec<TagRow> = on_pool!(self, pool => {
            let mut sql = match owner {
                None => sqlx::QueryBuilder::new(format!("SELECT {TAG_COLUMNS} FROM tags t WHERE TRUE")),
                Some(owner) => {
                    let mut sql = sqlx::QueryBuilder::new(
                        "SELECT t.id, t.name, COUNT(*) AS links, \
                             CAST(SUM(u.visit_count) AS BIGINT) AS visits, \
                             CAST(SUM(u.bot_visits) AS BIGINT) AS bot_visits \
                         FROM urls u JOIN url_tags ut ON ut.url_id = u.id \
                         JOIN tags t ON t.id = ut.tag_id WHERE u.created_by = ",
                    );
                    sql.push_bind(owner);
                    sql
                }
            };
            if let (Some(prefix), Some(upper)) = (&query.prefix, &upper) {
                sql.push(format!(" AND t.name{bytewise} >= "))
                    .push_bind(prefix.as_str())
                    .push(format!(" AND t.name{bytewise} < "))
                    .push_bind(upper.as_str());
            }
            if let Some(after) = &query.after {
                sql.push(format!(" AND t.name{bytewise} > ")).push_bind(after.as_str());
            }
            if owner.is_some() {
                sql.push(" GROUP BY t.id, t.name");
            }
            sql.push(format!(" ORDER BY t.name{bytewise} LIMIT ")).push_bind(limit);
            sql.build_query_as().fetch_all(pool).await?
        });
        let mut items: Vec<TagRecord> = rows.into_iter().map(TagRecord::from).collect();
        let next = if items.len() > query.limit as usize {
            items.truncate(query.limit as usize);
            items.last().map(|tag| tag.name.clone())
        } else {
            None
        };
        Ok(TagPage { items, next })
    }

    /// One tag with its counters, over an editor's own links with an `owner` (`NotFound` when
    /// none of them carries it).
    pub(super) async fn tag(
        &self,
        name: &TagName,
        owner: Option<i64>,
    ) -> Result<TagRecord, StoreError> {
        let row: Option<TagRow> = on_pool!(self, pool => match owner {
            None => {
                sqlx::query_as(&format!("SELECT {TAG_COLUMNS} FROM tags t WHERE t.name = $1"))
                    .bind(name.as_str())
                    .fetch_optional(pool)
                    .await?
            }
            Some(owner) => {
                sqlx::query_as(
                    "SELECT t.id, t.name, COUNT(*) AS links, \
                         CAST(SUM(u.visit_count) AS BIGINT) AS visits, \
                         CAST(SUM(u.bot_visits) AS BIGINT) AS bot_visits \
                     FROM tags t JOIN url_tags ut ON ut.tag_id = t.id \
                     JOIN urls u ON u.id = ut.url_id \
                     WHERE t.name = $1 AND u.created_by = $2 GROUP BY t.id, t.name",
                )
                .bind(name.as_str())
                .bind(owner)
                .fetch_optional(pool)
                .await?
            }
        });
        row.map(TagRecord::from).ok_or(StoreError::NotFound)
    }

    /// Whether a link that `owner` did not create carries the tag.
    pub(super) async fn tag_has_others(&self, tag_id: i64, owner: i64) -> Result<bool, StoreError> {
        let others: bool = on_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM url_tags ut JOIN urls u ON u.id = ut.url_id \
                 WHERE ut.tag_id = $1 AND (u.created_by IS NULL OR u.created_by <> $2))",
            )
            .bind(tag_id)
            .bind(owner)
            .fetch_one(pool)
            .await?
        });
        Ok(others)
    }

    pub(super) async fn rename(
        &self,
        name: &TagName,
        to: &TagName,
    ) -> Result<TagRecord, StoreError> {
        let sql = "UPDATE tags SET name = $2 WHERE name = $1 RETURNING id, name, links, visits, bot_visits";
        let row: TagRow = on_pool!(self, pool => {
            sqlx::query_as(sql)
                .bind(name.as_str())
                .bind(to.as_str())
                .fetch_one(pool)
                .await?
        });
        Ok(row.into())
    }

    /// Deletes a tag; its links lose it by cascade. How many links carried it.
    pub(super) async fn remove_tag(&self, name: &TagName) -> Result<i64, StoreError> {
        let links: Option<i64> = on_pool!(self, pool => {
            sqlx::query_scalar("DELETE FROM tags WHERE name = $1 RETURNING links")
                .bind(name.as_str())
                .fetch_optional(pool)
                .await?
        });
        links.ok_or(StoreError::NotFound)
    }
}

/// The link filter and cursor conditions of a tag-filtered page over `urls`; the cursor bounds
/// `id_column`, so that the index range scan starts there.
fn push_page_bounds<'q, DB>(
    query: &mut QueryBuilder<'q, DB>,
    urls: UrlFilter,
    page: PageRequest,
    id_column: &str,
) where
    DB: sqlx::Database,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    chrono::DateTime<chrono::Utc>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    push_url_filter(query, urls);
    if let Some(after) = page.after {
        query
            .push(format!(" AND {id_column} < "))
            .push_bind(after.last_id());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_loses_what_it_no_longer_wants_and_gains_the_rest() {
        let (removed, added) = difference(&[1, 2, 3], [3, 4, 2].into_iter());
        assert_eq!((removed, added), (vec![1], vec![4]));
    }
}
