//! `kurz import --from yourls --database mysql://...`: YOURLS's own tables read directly
//! (`<prefix>url`: a link per keyword with its `clicks`; `<prefix>log`: a row per logged click).
//!
//! Links are read oldest first; clicks in keyset batches of the log's `click_id`, each batch
//! enriched as live clicks are (browser, OS, device, bot flag from the user agent; YOURLS's
//! country kept; the address anonymised when kurz is configured so) and written with the
//! marks of its links moved to its last `click_id`. A link whose `clicks` exceeds its log
//! rows (logging was off for a while) gets the difference as counts on its creation day,
//! once, so that its `visit_count` equals YOURLS's `clicks`. YOURLS stores local times
//! without a zone; they are read as UTC.

use std::collections::HashMap;
use std::net::IpAddr;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::mysql::MySqlPool;
use sqlx::Row;

use super::import_from::{mark, Source, SourceLink, SourceLinks, Targets};
use super::import_visits::History;
use crate::app::LinkInput;
use crate::cli::UsageError;
use crate::config::Settings;
use crate::domain::CountryCode;
use crate::store::{ImportMark, RollupCount};
use crate::visits::{imported_visit, Enricher};

/// Log rows read per query (and written per transaction).
const LOG_BATCH: i64 = 50_000;
/// Marks moved per transaction once every log row is read.
const MARK_BATCH: usize = 1_000;

/// Times as YOURLS writes them (`date('Y-m-d H:i:s')`), read back as text.
const TIME_FORMAT: &str = "%Y-%m-%d %H:%i:%s";

pub(super) struct Yourls {
    pool: MySqlPool,
    prefix: String,
    name: String,
    enricher: Enricher,
    /// Each keyword's `clicks` and creation time, from `links`.
    links: HashMap<String, (i64, DateTime<Utc>)>,
}

impl Yourls {
    pub async fn connect(url: &str, prefix: &str, settings: &Settings) -> anyhow::Result<Self> {
        if prefix.is_empty()
            || !prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(UsageError(format!(
                "--table-prefix `{prefix}`: letters, digits and `_` only"
            ))
            .into());
        }
        let parsed =
            url::Url::parse(url).map_err(|e| UsageError(format!("--database: not a URL ({e})")))?;
        if parsed.scheme() != "mysql" && parsed.scheme() != "mariadb" {
            return Err(UsageError(
                "--from yourls reads MySQL or MariaDB: --database mysql://user:password@host/db"
                    .into(),
            )
            .into());
        }
        let name = format!(
            "yourls:{}{}/{prefix}",
            parsed.host_str().unwrap_or_default(),
            parsed.path()
        );
        let mut url = parsed.clone();
        url.set_scheme("mysql").ok();
        let pool = MySqlPool::connect(url.as_str())
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to YOURLS's database: {e}"))?;
        Ok(Self {
            pool,
            prefix: prefix.to_owned(),
            name,
            enricher: Enricher::new(&settings.enrichment),
            links: HashMap::new(),
        })
    }

    fn table(&self, name: &str) -> String {
        format!("`{}{name}`", self.prefix)
    }

    /// Each keyword's logged clicks.
    async fn logged(&self) -> anyhow::Result<HashMap<String, i64>> {
        let rows = sqlx::query(&format!(
            "SELECT CAST(shorturl AS CHAR) AS keyword, COUNT(*) AS n FROM {} \
             GROUP BY BINARY shorturl",
            self.table("log")
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("keyword")?, row.try_get("n")?)))
            .collect()
    }
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .ok()
        .map(|at| at.and_utc())
}

#[async_trait]
impl Source for Yourls {
    fn name(&self) -> &str {
        &self.name
    }

    async fn links(&mut self) -> anyhow::Result<SourceLinks> {
        let rows = sqlx::query(&format!(
            "SELECT CAST(keyword AS CHAR) AS keyword, CAST(url AS CHAR) AS url, \
             CAST(title AS CHAR) AS title, DATE_FORMAT(`timestamp`, '{TIME_FORMAT}') AS created, \
             CAST(clicks AS SIGNED) AS clicks \
             FROM {} ORDER BY `timestamp`, keyword",
            self.table("url")
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", self.table("url")))?;
        let mut listed = SourceLinks::default();
        for row in rows {
            let keyword: String = row.try_get("keyword")?;
            let created = row
                .try_get::<Option<String>, _>("created")?
                .as_deref()
                .and_then(parse_time)
                .unwrap_or_else(Utc::now);
            let clicks: i64 = row.try_get::<Option<i64>, _>("clicks")?.unwrap_or(0);
            self.links.insert(keyword.clone(), (clicks, created));
            let title: Option<String> = row
                .try_get::<Option<String>, _>("title")?
                .filter(|t| !t.trim().is_empty());
            listed.links.push(SourceLink {
                key: keyword.clone(),
                input: LinkInput {
                    url: row.try_get("url")?,
                    slug: Some(keyword),
                    title,
                    created_at: Some(created),
                    ..LinkInput::default()
                },
                password_dropped: false,
                rules_dropped: 0,
            });
        }
        Ok(listed)
    }

    async fn history(&mut self, targets: &Targets, history: &mut History) -> anyhow::Result<()> {
        // Clicks never logged, once per link (before its first log row is imported).
        let logged = self.logged().await?;
        let mut counts = Vec::new();
        let mut marks = Vec::new();
        let mut targets = targets.clone();
        for (key, target) in targets.iter_mut().filter(|(_, t)| t.through.is_none()) {
            let (clicks, created) = self.links.get(key).copied().unwrap_or((0, Utc::now()));
            let missing = clicks - logged.get(key).copied().unwrap_or(0);
            if missing > 0 {
                counts.push(RollupCount {
                    url_id: target.url_id,
                    day: created.date_naive(),
                    visits: missing,
                    ..RollupCount::default()
                });
            }
            target.through = Some("0".into());
            marks.push(mark(key, target, "0".into()));
            if marks.len() >= MARK_BATCH {
                history
                    .counts(std::mem::take(&mut counts), std::mem::take(&mut marks))
                    .await?;
            }
        }
        if !marks.is_empty() {
            history.counts(counts, marks).await?;
        }

        // The log, from the oldest click any link still needs to the newest now.
        let through = |t: &super::import_from::Target| {
            t.through
                .as_deref()
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(0)
        };
        let from = targets.values().map(through).min().unwrap_or(0);
        let (last, pending): (Option<i64>, i64) = {
            let row = sqlx::query(&format!(
                "SELECT CAST(MAX(click_id) AS SIGNED) AS last, \
                 CAST(SUM(click_id > ?) AS SIGNED) AS pending FROM {}",
                self.table("log")
            ))
            .bind(from)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", self.table("log")))?;
            (
                row.try_get("last")?,
                row.try_get::<Option<i64>, _>("pending")?.unwrap_or(0),
            )
        };
        let Some(last) = last else {
            return Ok(());
        };
        history.expect(pending as u64);
        let by_keyword: HashMap<&str, (i64, i64)> = targets
            .iter()
            .map(|(key, t)| (key.as_str(), (t.url_id, through(t))))
            .collect();
        let select = format!(
            "SELECT CAST(click_id AS SIGNED) AS id, \
             DATE_FORMAT(click_time, '{TIME_FORMAT}') AS at, CAST(shorturl AS CHAR) AS keyword, \
             CAST(referrer AS CHAR) AS referrer, CAST(user_agent AS CHAR) AS agent, \
             CAST(ip_address AS CHAR) AS ip, CAST(country_code AS CHAR) AS country \
             FROM {} WHERE click_id > ? AND click_id <= ? ORDER BY click_id LIMIT {LOG_BATCH}",
            self.table("log")
        );
        let mut after = from;
        loop {
            let rows = sqlx::query(&select)
                .bind(after)
                .bind(last)
                .fetch_all(&self.pool)
                .await?;
            let Some(row) = rows.last() else {
                break;
            };
            after = row.try_get("id")?;
            let mut visits = Vec::with_capacity(rows.len());
            let mut moved: HashMap<&str, i64> = HashMap::new();
            for row in &rows {
                let id: i64 = row.try_get("id")?;
                let keyword: String = row.try_get("keyword")?;
                let Some((&key, &(url_id, through))) = by_keyword.get_key_value(keyword.as_str())
                else {
                    continue;
                };
                if id <= through {
                    continue;
                }
                moved.insert(key, id);
                let Some(at) = row
                    .try_get::<Option<String>, _>("at")?
                    .as_deref()
                    .and_then(parse_time)
                else {
                    history.report(&format!("{key}: click {id} has no readable time: left out"));
                    continue;
                };
                let referrer = row
                    .try_get::<Option<String>, _>("referrer")?
                    .filter(|r| r != "direct");
                let ip = row
                    .try_get::<Option<String>, _>("ip")?
                    .and_then(|ip| ip.trim().parse::<IpAddr>().ok());
                let mut visit = imported_visit(url_id, at, ip, row.try_get("agent")?, referrer);
                visit.location.country = row
                    .try_get::<Option<String>, _>("country")?
                    .and_then(|c| c.trim().to_ascii_uppercase().parse::<CountryCode>().ok());
                visits.push(self.enricher.enrich_imported(visit));
            }
            let marks: Vec<ImportMark> = moved
                .into_iter()
                .map(|(key, id)| mark(key, &targets[key], id.to_string()))
                .collect();
            history.visits(visits, marks).await?;
        }
        // Every link has every click up to `last` now.
        let done: Vec<ImportMark> = targets
            .iter()
            .map(|(key, t)| mark(key, t, last.max(through(t)).to_string()))
            .collect();
        for chunk in done.chunks(MARK_BATCH) {
            history.counts(Vec::new(), chunk.to_vec()).await?;
        }
        Ok(())
    }
}
