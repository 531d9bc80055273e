//! `kurz import --from kutt --database postgres://...`: Kutt's tables read directly. `links`
//! gives the links (`address` the slug, `description` the title, `expire_in` the end of their
//! validity); `visits` holds no clicks but one row per link and hour with the hour's total
//! and its breakdowns by browser, OS, country and referrer, each on its own. Those become
//! counts in kurz's rollups, not invented visit rows: the breakdowns are combined into cells
//! by the north-west corner rule, which keeps every breakdown exact (kurz's statistics read
//! each dimension on its own too). Only finished hours are read, so that a re-run adds the
//! hours after its mark and never an hour twice.
//!
//! Left out: banned links, links of other domains (kurz has one). Passwords are Kutt's bcrypt
//! hashes, which kurz cannot check: those links are imported without one, and counted.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgPool;
use sqlx::Row;

use super::import_from::{mark, Listed, Source, SourceLink, SourceLinks, Targets};
use super::import_visits::History;
use crate::app::LinkInput;
use crate::cli::UsageError;
use crate::store::{ImportMark, RollupCount};

/// Hour rows read per query.
const HOUR_BATCH: i64 = 10_000;

/// Kutt's browser columns and kurz's names for them (uap-core families, as live clicks get;
/// `other` is unknown).
const BROWSERS: [(&str, &str); 7] = [
    ("br_chrome", "Chrome"),
    ("br_edge", "Edge"),
    ("br_firefox", "Firefox"),
    ("br_ie", "IE"),
    ("br_opera", "Opera"),
    ("br_other", ""),
    ("br_safari", "Safari"),
];

const SYSTEMS: [(&str, &str); 6] = [
    ("os_android", "Android"),
    ("os_ios", "iOS"),
    ("os_linux", "Linux"),
    ("os_macos", "Mac OS X"),
    ("os_other", ""),
    ("os_windows", "Windows"),
];

pub(super) struct Kutt {
    pool: PgPool,
    name: String,
}

impl Kutt {
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let parsed =
            url::Url::parse(url).map_err(|e| UsageError(format!("--database: not a URL ({e})")))?;
        if !matches!(parsed.scheme(), "postgres" | "postgresql") {
            return Err(UsageError(
                "--from kutt reads PostgreSQL: --database postgres://user:password@host/db".into(),
            )
            .into());
        }
        let name = format!(
            "kutt:{}{}",
            parsed.host_str().unwrap_or_default(),
            parsed.path()
        );
        let pool = PgPool::connect(url)
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to Kutt's database: {e}"))?;
        Ok(Self { pool, name })
    }
}

#[async_trait]
impl Source for Kutt {
    fn name(&self) -> &str {
        &self.name
    }

    async fn links(&mut self) -> anyhow::Result<SourceLinks> {
        let rows = sqlx::query(
            "SELECT id::bigint AS id, address, target, description, banned, \
             domain_id IS NOT NULL AS other_domain, password IS NOT NULL AS protected, \
             expire_in::timestamptz AS expire_in, created_at::timestamptz AS created_at \
             FROM links ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| anyhow::anyhow!("cannot read Kutt's links: {e}"))?;
        let mut listed = SourceLinks::default();
        for row in rows {
            let key = row.try_get::<i64, _>("id")?.to_string();
            if row.try_get::<Option<bool>, _>("banned")?.unwrap_or(false) {
                listed.left_out.push(Listed {
                    key,
                    reason: "banned in Kutt".into(),
                });
                continue;
            }
            if row.try_get::<bool, _>("other_domain")? {
                listed.left_out.push(Listed {
                    key,
                    reason: "on another of Kutt's domains (kurz has one)".into(),
                });
                continue;
            }
            listed.links.push(SourceLink {
                key,
                input: LinkInput {
                    url: row.try_get("target")?,
                    slug: Some(row.try_get("address")?),
                    title: row
                        .try_get::<Option<String>, _>("description")?
                        .filter(|t| !t.trim().is_empty()),
                    created_at: row.try_get::<Option<DateTime<Utc>>, _>("created_at")?,
                    valid_until: row.try_get("expire_in")?,
                    ..LinkInput::default()
                },
                password_dropped: row.try_get("protected")?,
                rules_dropped: 0,
            });
        }
        Ok(listed)
    }

    async fn history(&mut self, targets: &Targets, history: &mut History) -> anyhow::Result<()> {
        let by_link: BTreeMap<i64, (&str, i64, Option<DateTime<Utc>>)> = targets
            .iter()
            .filter_map(|(key, t)| {
                let through = t
                    .through
                    .as_deref()
                    .and_then(|v| DateTime::parse_from_rfc3339(v).ok())
                    .map(|at| at.with_timezone(&Utc));
                key.parse()
                    .ok()
                    .map(|id| (id, (key.as_str(), t.url_id, through)))
            })
            .collect();
        let columns: Vec<&str> = BROWSERS
            .iter()
            .chain(SYSTEMS.iter())
            .map(|(column, _)| *column)
            .collect();
        let select = format!(
            "SELECT id::bigint AS id, link_id::bigint AS link_id, \
             created_at::timestamptz AS hour, total::bigint AS total, \
             countries::text AS countries, referrers::text AS referrers, {} \
             FROM visits WHERE id > $1 AND created_at::timestamptz < date_trunc('hour', now()) \
             ORDER BY id LIMIT {HOUR_BATCH}",
            columns
                .iter()
                .map(|c| format!("COALESCE({c}, 0)::bigint AS {c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut after = 0i64;
        loop {
            let rows = sqlx::query(&select)
                .bind(after)
                .fetch_all(&self.pool)
                .await
                .map_err(|e| anyhow::anyhow!("cannot read Kutt's visits: {e}"))?;
            let Some(last) = rows.last() else {
                break;
            };
            after = last.try_get("id")?;
            let mut counts = Vec::new();
            let mut moved: BTreeMap<&str, (i64, DateTime<Utc>)> = BTreeMap::new();
            for row in &rows {
                let link_id: i64 = row.try_get("link_id")?;
                let Some(&(key, url_id, through)) = by_link.get(&link_id) else {
                    continue;
                };
                let hour: DateTime<Utc> = row.try_get("hour")?;
                if through.is_some_and(|t| hour <= t) {
                    continue;
                }
                let newest = moved.entry(key).or_insert((url_id, hour));
                newest.1 = newest.1.max(hour);
                let total: i64 = row.try_get("total")?;
                let mut browsers = Vec::new();
                for (column, name) in BROWSERS {
                    browsers.push((name.to_owned(), row.try_get::<i64, _>(column)?));
                }
                let mut systems = Vec::new();
                for (column, name) in SYSTEMS {
                    systems.push((name.to_owned(), row.try_get::<i64, _>(column)?));
                }
                let countries = breakdown(row.try_get("countries")?, |code| {
                    if code.len() == 2 {
                        code.to_ascii_uppercase()
                    } else {
                        String::new()
                    }
                });
                let referrers = breakdown(row.try_get("referrers")?, |host| {
                    if host == "direct" {
                        String::new()
                    } else {
                        host.replace("[dot]", ".").to_ascii_lowercase()
                    }
                });
                for cell in cells(total, [browsers, systems, referrers, countries]) {
                    let [browser, os, referrer_host, country] = cell.values;
                    counts.push(RollupCount {
                        url_id,
                        day: hour.date_naive(),
                        browser,
                        os,
                        device: String::new(),
                        referrer_host,
                        country,
                        visits: cell.visits,
                        bot_visits: 0,
                    });
                }
            }
            let marks: Vec<ImportMark> = moved
                .into_iter()
                .map(|(key, (_, hour))| {
                    mark(
                        key,
                        &targets[key],
                        hour.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    )
                })
                .collect();
            history.counts(counts, marks).await?;
        }
        Ok(())
    }
}

/// A JSON object of counts (`{"de": 3, "unknown": 1}`) as (kurz's name, count), names mapped
/// by `name` and merged.
fn breakdown(json: Option<String>, name: impl Fn(&str) -> String) -> Vec<(String, i64)> {
    let map: BTreeMap<String, serde_json::Value> = json
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    let mut merged: BTreeMap<String, i64> = BTreeMap::new();
    for (key, value) in map {
        let n = value.as_i64().unwrap_or(0);
        if n > 0 {
            *merged.entry(name(&key)).or_default() += n;
        }
    }
    merged.into_iter().collect()
}

/// A cell of the joint table: one value of each breakdown, and its clicks.
#[derive(Debug, PartialEq, Eq)]
struct Cell<const N: usize> {
    values: [String; N],
    visits: i64,
}

/// Splits `total` clicks into cells whose sums over each breakdown are that breakdown's
/// counts (north-west corner rule: walk the breakdowns together, each cell taking the least
/// that is left of their current values). A breakdown summing to less than `total` gets the
/// rest as unknown (`""`); one summing to more is cut at `total`.
fn cells<const N: usize>(total: i64, breakdowns: [Vec<(String, i64)>; N]) -> Vec<Cell<N>> {
    let fitted: Vec<Vec<(String, i64)>> = breakdowns
        .into_iter()
        .map(|values| fit(total, values))
        .collect();
    let mut at = [0usize; N];
    let mut left: Vec<i64> = fitted
        .iter()
        .map(|v| v.first().map_or(0, |(_, n)| *n))
        .collect();
    let mut out = Vec::new();
    let mut remaining = total;
    while remaining > 0 {
        let take = left.iter().copied().min().unwrap_or(0);
        if take <= 0 {
            break;
        }
        let values = std::array::from_fn(|i| fitted[i][at[i]].0.clone());
        out.push(Cell {
            values,
            visits: take,
        });
        remaining -= take;
        for i in 0..N {
            left[i] -= take;
            if left[i] == 0 && at[i] + 1 < fitted[i].len() {
                at[i] += 1;
                left[i] = fitted[i][at[i]].1;
            }
        }
    }
    out
}

/// A breakdown made to sum to `total`.
fn fit(total: i64, values: Vec<(String, i64)>) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    let mut sum = 0;
    for (name, n) in values {
        let n = n.min(total - sum);
        if n > 0 {
            sum += n;
            out.push((name, n));
        }
    }
    if sum < total {
        match out.iter_mut().find(|(name, _)| name.is_empty()) {
            Some((_, n)) => *n += total - sum,
            None => out.push((String::new(), total - sum)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(pairs: &[(&str, i64)]) -> Vec<(String, i64)> {
        pairs.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect()
    }

    /// Sums of the cells over one breakdown.
    fn marginal<const N: usize>(cells: &[Cell<N>], i: usize) -> BTreeMap<String, i64> {
        let mut sums = BTreeMap::new();
        for cell in cells {
            *sums.entry(cell.values[i].clone()).or_default() += cell.visits;
        }
        sums
    }

    #[test]
    fn cells_keep_every_breakdown_exact() {
        let browsers = named(&[("Chrome", 5), ("Firefox", 3), ("Safari", 2)]);
        let systems = named(&[("Linux", 1), ("Windows", 9)]);
        let countries = named(&[("DE", 4), ("FR", 6)]);
        let out = cells(10, [browsers.clone(), systems.clone(), countries.clone()]);
        assert_eq!(out.iter().map(|c| c.visits).sum::<i64>(), 10);
        assert_eq!(marginal(&out, 0), browsers.into_iter().collect());
        assert_eq!(marginal(&out, 1), systems.into_iter().collect());
        assert_eq!(marginal(&out, 2), countries.into_iter().collect());
    }

    #[test]
    fn short_breakdowns_are_unknown_for_the_rest_and_long_ones_cut() {
        let out = cells(5, [named(&[("Chrome", 2)]), named(&[("Linux", 9)])]);
        assert_eq!(
            marginal(&out, 0),
            named(&[("", 3), ("Chrome", 2)]).into_iter().collect()
        );
        assert_eq!(
            marginal(&out, 1),
            named(&[("Linux", 5)]).into_iter().collect()
        );
        assert!(cells(0, [named(&[("Chrome", 2)])]).is_empty());
    }

    #[test]
    fn breakdowns_map_and_merge_names() {
        let countries = breakdown(Some(r#"{"de": 2, "unknown": 1, "xx1": 1}"#.into()), |c| {
            if c.len() == 2 {
                c.to_ascii_uppercase()
            } else {
                String::new()
            }
        });
        assert_eq!(countries, named(&[("", 2), ("DE", 2)]));
    }
}
