//! `kurz import --from bitly --file export.csv`: Bitly's CSV export. Its columns are not
//! published as a stable reference, so they are found by name, in any case, from the header
//! (docs/compat.md lists the names read): the short link (`Bitlink`, `link`, `Short URL`,
//! `id`; its last path segment is the slug, or a `custom_bitlinks` entry's), the target
//! (`Long URL`, `long_url`, `Original URL`, `Destination URL`), `Title`, `Tags` (split on `,`,
//! `;` or `|`), the creation time (`Created`, `created_at`, `Date Created`: RFC 3339,
//! `YYYY-MM-DD HH:MM:SS`, `YYYY-MM-DD` or `MM/DD/YYYY`) and the clicks (`Total Clicks`,
//! `clicks`). An export holds no clicks, only their total: it becomes a count on the creation
//! day (its parts unknown). A later export imported again adds the clicks since (the mark
//! keeps the total imported), on the day of that import. Archived links are left out.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use super::import_from::{mark, Listed, Source, SourceLink, SourceLinks, Targets};
use super::import_visits::History;
use crate::app::LinkInput;
use crate::cli::UsageError;
use crate::store::RollupCount;

/// The columns read, each with the names it goes by (lower case).
const LINK: &[&str] = &["bitlink", "link", "short url", "short link", "id"];
const CUSTOM: &[&str] = &["custom_bitlinks", "custom bitlinks", "custom bitlink"];
const TARGET: &[&str] = &["long url", "long_url", "original url", "destination url"];
const TITLE: &[&str] = &["title"];
const TAGS: &[&str] = &["tags"];
const CREATED: &[&str] = &["created", "created_at", "date created", "creation date"];
const CLICKS: &[&str] = &["total clicks", "clicks", "total_clicks"];
const ARCHIVED: &[&str] = &["archived"];

/// Marks moved per transaction.
const MARK_BATCH: usize = 1_000;

pub(super) struct Bitly {
    path: PathBuf,
    /// Each bitlink's total clicks and creation day, from `links`.
    clicks: HashMap<String, (i64, NaiveDate)>,
}

impl Bitly {
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        if !path.is_file() {
            return Err(UsageError(format!("cannot read {}: not a file", path.display())).into());
        }
        Ok(Self {
            path: path.to_owned(),
            clicks: HashMap::new(),
        })
    }
}

/// Where each column is, by its names.
struct Columns {
    at: HashMap<&'static str, usize>,
}

impl Columns {
    fn new(header: &csv::StringRecord) -> (Self, Vec<String>) {
        let mut at = HashMap::new();
        let mut unknown = Vec::new();
        for (i, name) in header.iter().enumerate() {
            let lower = name
                .trim()
                .trim_start_matches('\u{feff}')
                .to_ascii_lowercase();
            let column = [LINK, CUSTOM, TARGET, TITLE, TAGS, CREATED, CLICKS, ARCHIVED]
                .into_iter()
                .find(|names| names.contains(&lower.as_str()));
            match column {
                Some(names) => {
                    at.entry(names[0]).or_insert(i);
                }
                None => unknown.push(name.to_owned()),
            }
        }
        (Self { at }, unknown)
    }

    fn get<'r>(&self, names: &[&'static str], row: &'r csv::StringRecord) -> Option<&'r str> {
        self.at
            .get(names[0])
            .and_then(|i| row.get(*i))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }
}

/// `bit.ly/abc` of `https://bit.ly/abc`: the mark's key.
fn bitlink_key(link: &str) -> String {
    link.trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned()
}

fn last_segment(link: &str) -> Option<String> {
    bitlink_key(link)
        .rsplit('/')
        .next()
        .filter(|s| !s.is_empty() && !s.contains('.'))
        .map(str::to_owned)
}

fn parse_created(value: &str) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(value) {
        return Some(at.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%m/%d/%Y %H:%M",
        "%m/%d/%Y %H:%M:%S",
    ] {
        if let Ok(at) = NaiveDateTime::parse_from_str(value, format) {
            return Some(at.and_utc());
        }
    }
    ["%Y-%m-%d", "%m/%d/%Y"].into_iter().find_map(|format| {
        NaiveDate::parse_from_str(value, format)
            .ok()
            .and_then(|day| day.and_hms_opt(0, 0, 0))
            .map(|at| at.and_utc())
    })
}

#[async_trait]
impl Source for Bitly {
    fn name(&self) -> &str {
        "bitly"
    }

    async fn links(&mut self) -> anyhow::Result<SourceLinks> {
        let name = self.path.display().to_string();
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(&self.path)
            .map_err(|e| UsageError(format!("cannot read {name}: {e}")))?;
        let header = reader
            .headers()
            .map_err(|e| UsageError(format!("{name}: no header line ({e})")))?
            .clone();
        let (columns, unknown) = Columns::new(&header);
        if !unknown.is_empty() {
            eprintln!("note: {name}: columns not read: {}", unknown.join(", "));
        }
        if !columns.at.contains_key(LINK[0]) || !columns.at.contains_key(TARGET[0]) {
            return Err(UsageError(format!(
                "{name}: no column of the short link (Bitlink, link, Short URL or id) or of the \
                 target (Long URL, long_url, Original URL or Destination URL): is it Bitly's \
                 export?"
            ))
            .into());
        }
        let mut listed = SourceLinks::default();
        let mut seen = HashSet::new();
        for (n, row) in reader.records().enumerate() {
            let line = n + 2;
            let row = row.map_err(|e| UsageError(format!("{name}: line {line}: {e}")))?;
            let Some(link) = columns.get(LINK, &row) else {
                listed.left_out.push(Listed {
                    key: format!("line {line}"),
                    reason: "no short link".into(),
                });
                continue;
            };
            let key = bitlink_key(link);
            if !seen.insert(key.clone()) {
                continue;
            }
            if columns
                .get(ARCHIVED, &row)
                .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "yes" | "1"))
            {
                listed.left_out.push(Listed {
                    key,
                    reason: "archived in Bitly".into(),
                });
                continue;
            }
            let slug = columns
                .get(CUSTOM, &row)
                .and_then(|custom| custom.split([',', ';', '|', ' ']).find(|c| !c.is_empty()))
                .and_then(last_segment)
                .or_else(|| last_segment(link));
            let created = columns.get(CREATED, &row).and_then(parse_created);
            let clicks = columns
                .get(CLICKS, &row)
                .and_then(|v| v.replace([',', '_'], "").parse::<i64>().ok())
                .unwrap_or(0);
            let created_at = created.unwrap_or_else(Utc::now);
            self.clicks
                .insert(key.clone(), (clicks, created_at.date_naive()));
            let tags = columns
                .get(TAGS, &row)
                .map(|tags| {
                    tags.split([',', ';', '|'])
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            listed.links.push(SourceLink {
                key,
                input: LinkInput {
                    url: columns.get(TARGET, &row).unwrap_or_default().to_owned(),
                    slug,
                    title: columns.get(TITLE, &row).map(str::to_owned),
                    created_at: Some(created_at),
                    tags,
                    ..LinkInput::default()
                },
                password_dropped: false,
                rules_dropped: 0,
            });
        }
        Ok(listed)
    }

    async fn history(&mut self, targets: &Targets, history: &mut History) -> anyhow::Result<()> {
        let today = Utc::now().date_naive();
        let mut counts = Vec::new();
        let mut marks = Vec::new();
        for (key, target) in targets {
            let Some(&(clicks, created)) = self.clicks.get(key) else {
                continue;
            };
            let (before, day) = match target.through.as_deref() {
                None => (0, created),
                Some(through) => (through.parse().unwrap_or(0), today),
            };
            if clicks <= before {
                continue;
            }
            counts.push(RollupCount {
                url_id: target.url_id,
                day,
                visits: clicks - before,
                ..RollupCount::default()
            });
            marks.push(mark(key, target, clicks.to_string()));
            if marks.len() >= MARK_BATCH {
                history
                    .counts(std::mem::take(&mut counts), std::mem::take(&mut marks))
                    .await?;
            }
        }
        if !marks.is_empty() {
            history.counts(counts, marks).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_the_last_segment_of_the_bitlink() {
        assert_eq!(
            last_segment("https://bit.ly/3xYz9Ab"),
            Some("3xYz9Ab".into())
        );
        assert_eq!(last_segment("bit.ly/spring24/"), Some("spring24".into()));
        assert_eq!(last_segment("https://go.example.com/a/b"), Some("b".into()));
        // A bare domain has no slug.
        assert_eq!(last_segment("bit.ly"), None);
        assert_eq!(bitlink_key("https://bit.ly/abc/"), "bit.ly/abc");
    }

    #[test]
    fn creation_times_in_the_formats_exports_use() {
        let at = |s: &str| parse_created(s).map(|t| t.to_rfc3339());
        assert_eq!(
            at("2026-11-01T09:30:00Z").as_deref(),
            Some("2026-11-01T09:30:00+00:00")
        );
        assert_eq!(
            at("2026-11-01 09:30:00").as_deref(),
            Some("2026-11-01T09:30:00+00:00")
        );
        assert_eq!(
            at("2026-11-01").as_deref(),
            Some("2026-11-01T00:00:00+00:00")
        );
        assert_eq!(
            at("11/02/2026").as_deref(),
            Some("2026-11-02T00:00:00+00:00")
        );
        assert_eq!(at("yesterday"), None);
    }

    #[test]
    fn columns_are_found_by_any_of_their_names_in_any_case() {
        let header = csv::StringRecord::from(vec!["\u{feff}BITLINK", "long_url", "Campaign"]);
        let (columns, unknown) = Columns::new(&header);
        let row = csv::StringRecord::from(vec!["bit.ly/a", " https://example.com/ ", "x"]);
        assert_eq!(columns.get(LINK, &row), Some("bit.ly/a"));
        assert_eq!(columns.get(TARGET, &row), Some("https://example.com/"));
        assert_eq!(columns.get(TITLE, &row), None);
        assert_eq!(unknown, ["Campaign"]);
    }
}
