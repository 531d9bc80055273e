//! What imports write beyond links (`kurz import --from ...`): the links with their marks
//! (`import_marks`), and history — visit rows and counted clicks — through the visit writers'
//! tallies without webhook deliveries.

use sqlx::QueryBuilder;

use super::{postgres, sqlite, tags, Db, SqlStore};
use crate::domain::Slug;
use crate::store::{ImportMark, NewUrl, NewVisit, RollupCount, StoreError};

/// Import marks per multi-row `INSERT` (3 values each).
const MARKS_PER_STATEMENT: usize = 1000;

/// Writes, in the transaction `$tx`, the marks of the links just created: `$created` their
/// ids and slugs, `$urls` and `$ids` the batch and the source's key of each of its links.
macro_rules! mark_imported {
    ($tx:expr, $source:expr, $urls:expr, $ids:expr, $created:expr) => {{
        let marks = marks_of($urls, $ids, $created);
        for chunk in marks.chunks(MARKS_PER_STATEMENT) {
            let mut insert =
                QueryBuilder::new("INSERT INTO import_marks (source, source_id, url_id) ");
            insert.push_values(chunk, |mut row, (source_id, url_id)| {
                row.push_bind($source)
                    .push_bind(*source_id)
                    .push_bind(*url_id);
            });
            insert.build().execute(&mut *$tx).await?;
        }
    }};
}

/// Each created link's source key and id. Created slugs are unique in the batch (the table's
/// key), so a slug finds its row.
fn marks_of<'a>(
    urls: &[NewUrl],
    ids: &'a [String],
    created: &[(i64, Slug)],
) -> Vec<(&'a str, i64)> {
    let by_slug: std::collections::HashMap<&str, i64> = created
        .iter()
        .map(|(id, slug)| (slug.as_str(), *id))
        .collect();
    urls.iter()
        .zip(ids)
        .filter_map(|(url, id)| {
            by_slug
                .get(url.slug.as_str())
                .map(|url_id| (id.as_str(), *url_id))
        })
        .collect()
}

impl SqlStore {
    /// The links of a batch, then the tags and the import marks of those created, in one
    /// transaction; existing slugs are skipped. The ids and slugs created.
    pub(super) async fn import_links(
        &self,
        urls: &[NewUrl],
        marks: Option<(&str, &[String])>,
    ) -> Result<Vec<(i64, Slug)>, StoreError> {
        if urls.is_empty() {
            return Ok(Vec::new());
        }
        let created = match &self.db {
            Db::Postgres(pg) => {
                let mut tx = crate::store::pool::begin(&pg.pool).await?;
                let created = postgres::import_urls(&mut tx, urls, &self.origin).await?;
                tag_imported!(self, tx, &tags::imported_pairs(urls, &created));
                if let Some((source, ids)) = marks {
                    mark_imported!(tx, source, urls, ids, &created);
                }
                tx.commit().await?;
                created
            }
            Db::Sqlite(lite) => {
                let mut tx = crate::store::pool::begin(&lite.pool).await?;
                let created = sqlite::import_urls(&mut tx, urls, &self.origin).await?;
                tag_imported!(self, tx, &tags::imported_pairs(urls, &created));
                if let Some((source, ids)) = marks {
                    mark_imported!(tx, source, urls, ids, &created);
                }
                tx.commit().await?;
                created
            }
        };
        Ok(created)
    }

    pub(super) async fn read_import_marks(
        &self,
        source: &str,
    ) -> Result<Vec<ImportMark>, StoreError> {
        let rows: Vec<(String, i64, Option<String>)> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT source_id, url_id, visits_through FROM import_marks WHERE source = $1 \
                 ORDER BY source_id",
            )
            .bind(source)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(source_id, url_id, visits_through)| ImportMark {
                source_id,
                url_id,
                visits_through,
            })
            .collect())
    }

    pub(super) async fn import_history(
        &self,
        source: &str,
        visits: &[NewVisit],
        counts: &[RollupCount],
        marks: &[ImportMark],
    ) -> Result<u64, StoreError> {
        if visits.is_empty() && counts.is_empty() && marks.is_empty() {
            return Ok(0);
        }
        match &self.db {
            Db::Postgres(pg) => {
                postgres::import_history(&pg.pool, source, visits, counts, marks).await
            }
            Db::Sqlite(lite) => lite.import_history(source, visits, counts, marks).await,
        }
    }
}
