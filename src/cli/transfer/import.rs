//! `kurz import`: rows checked as the API checks a request and stored in batches.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::read::{
    optional_cell, parse_bool, parse_count, parse_time, BadRow, Counting, RawRow, RowReader,
};
use super::Format;
use crate::app::{LinkInput, Links, PreparedLink};
use crate::cli::output::{self, Progress};
use crate::cli::{Context, UsageError};
use crate::domain::{Invalid, RuleSpec};

/// Valid rows written per `import_urls` call (one transaction).
const IMPORT_BATCH: usize = 1_000;
/// Invalid rows listed in the `--json` summary (all of them go to stderr).
const JSON_INVALID_ROWS: usize = 1_000;

/// Checks a row as the API checks a request (the links service parses it); a `created_at`
/// that is not an RFC 3339 time is replaced by the import time, with a warning.
fn validate(raw: RawRow, links: &Links) -> Result<(PreparedLink, Option<String>), BadRow> {
    let line = raw.line;
    let bad = |error: Invalid| BadRow {
        line,
        reason: error.to_string(),
    };
    let crawlable = raw
        .crawlable
        .unwrap_or(Ok(false))
        .map_err(|reason| bad(Invalid::new("crawlable", reason)))?;
    let redirect_status = raw
        .redirect_status
        .transpose()
        .map_err(|reason| bad(Invalid::new("redirect_status", reason)))?;
    let valid_since = optional_cell(raw.valid_since, "valid_since", parse_time).map_err(bad)?;
    let valid_until = optional_cell(raw.valid_until, "valid_until", parse_time).map_err(bad)?;
    let max_visits = optional_cell(raw.max_visits, "max_visits", parse_count).map_err(bad)?;
    let human_visits = optional_cell(raw.human_visits, "human_visits", |value| {
        parse_count(value).and_then(|n| {
            (n >= 0)
                .then_some(n)
                .ok_or_else(|| format!("`{value}` is negative"))
        })
    })
    .map_err(bad)?;
    let forward_query =
        optional_cell(raw.forward_query, "forward_query", parse_bool).map_err(bad)?;
    let rules = optional_cell(raw.rules, "rules", |value| {
        serde_json::from_str::<Vec<RuleSpec>>(value)
            .map_err(|e| format!("not a JSON array of rules ({e})"))
    })
    .map_err(bad)?;
    let tags = raw
        .tags
        .transpose()
        .map_err(|reason| bad(Invalid::new("tags", reason)))?
        .unwrap_or_default();
    let mut warning = None;
    let created_at = match raw.created_at.as_deref().map(str::trim) {
        None | Some("") => Utc::now(),
        Some(value) => match DateTime::parse_from_rfc3339(value) {
            Ok(at) => at.with_timezone(&Utc),
            Err(_) => {
                warning = Some(format!(
                    "line {line}: created_at: `{value}` is not an RFC 3339 time; the row gets \
                     the time of the import"
                ));
                Utc::now()
            }
        },
    };
    let link = links
        .prepare(&LinkInput {
            url: raw.url.unwrap_or_default(),
            // An empty cell is no slug: one is generated.
            slug: raw.slug.filter(|slug| !slug.is_empty()),
            title: raw.title,
            crawlable,
            // Imported by the operator: no API key owns these URLs.
            created_by: None,
            created_at: Some(created_at),
            redirect_status,
            valid_since,
            valid_until,
            max_visits,
            rules: rules.unwrap_or_default(),
            forward_query,
            tags,
            password: None,
            // A blank cell is no password.
            password_hash: raw.password_hash.filter(|hash| !hash.trim().is_empty()),
        })
        .map_err(bad)?;
    let mut link = link;
    link.url.human_visits = human_visits.unwrap_or(0);
    Ok((link, warning))
}

#[derive(Debug, Default, Serialize)]
struct ImportJson {
    file: String,
    format: Option<Format>,
    /// Data rows read (blank lines and the header not counted).
    rows: u64,
    created: u64,
    /// Valid rows whose slug existed already: left as they were.
    skipped: u64,
    invalid: u64,
    /// Rows without a slug, created with a generated one.
    generated_slugs: u64,
    /// Rows imported with the import time because their `created_at` was not readable.
    warnings: u64,
    /// The first invalid rows (every one is reported on stderr).
    invalid_rows: Vec<BadRow>,
    invalid_rows_truncated: bool,
}

struct Importer {
    links: Links,
    batch: Vec<PreparedLink>,
    summary: ImportJson,
}

impl Importer {
    async fn push(&mut self, link: PreparedLink) -> anyhow::Result<()> {
        self.batch.push(link);
        if self.batch.len() >= IMPORT_BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    /// Writes the batch in one transaction (see [`Links::import`]).
    async fn flush(&mut self) -> anyhow::Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let outcome = self.links.import(&self.batch).await?;
        self.batch.clear();
        self.summary.created += outcome.created;
        self.summary.skipped += outcome.skipped;
        Ok(())
    }
}

fn format_of(path: &Path) -> Result<Format, UsageError> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("csv") => Ok(Format::Csv),
        Some("jsonl" | "ndjson") => Ok(Format::Jsonl),
        _ => Err(UsageError(format!(
            "cannot tell the format of {} from its name: pass --format csv or --format jsonl",
            path.display()
        ))),
    }
}

pub async fn import(ctx: &Context, file: &Path, format: Option<Format>) -> anyhow::Result<()> {
    let from_stdin = file == Path::new("-");
    let format = match format {
        Some(format) => format,
        None if from_stdin => {
            return Err(
                UsageError("reading stdin needs --format csv or --format jsonl".into()).into(),
            )
        }
        None => format_of(file)?,
    };
    let name = file.display().to_string();
    let (input, size): (Box<dyn Read + Send>, Option<u64>) = if from_stdin {
        (Box::new(std::io::stdin()), None)
    } else {
        let file = File::open(file).map_err(|e| UsageError(format!("cannot open {name}: {e}")))?;
        let size = file.metadata().ok().map(|m| m.len());
        (Box::new(file), size)
    };
    let bytes = Arc::new(AtomicU64::new(0));
    let input = BufReader::with_capacity(
        64 * 1024,
        Counting {
            inner: input,
            read: bytes.clone(),
        },
    );
    let mut reader = RowReader::new(format, input, &name)?;
    let mut importer = Importer {
        links: ctx.links().await?,
        batch: Vec::with_capacity(IMPORT_BATCH),
        summary: ImportJson {
            file: name.clone(),
            format: Some(format),
            ..ImportJson::default()
        },
    };
    let mut progress = Progress::new("import", size);
    while let Some(row) = reader.next_row()? {
        importer.summary.rows += 1;
        match row.and_then(|raw| validate(raw, &importer.links)) {
            Ok((link, warning)) => {
                if let Some(warning) = warning {
                    importer.summary.warnings += 1;
                    progress.report(&warning);
                }
                importer.summary.generated_slugs += u64::from(link.generated);
                importer.push(link).await?;
            }
            Err(bad) => {
                progress.report(&format!("line {}: {}", bad.line, bad.reason));
                let summary = &mut importer.summary;
                summary.invalid += 1;
                if summary.invalid_rows.len() < JSON_INVALID_ROWS {
                    summary.invalid_rows.push(bad);
                } else {
                    summary.invalid_rows_truncated = true;
                }
            }
        }
        let summary = &importer.summary;
        progress.update(summary.rows, bytes.load(Ordering::Relaxed), || {
            format!(
                "{} rows read: {} created, {} skipped, {} invalid",
                summary.rows, summary.created, summary.skipped, summary.invalid
            )
        });
    }
    importer.flush().await?;
    progress.finish();
    let summary = importer.summary;
    if ctx.json {
        output::json(&summary)?;
    } else {
        output::emit(&format!(
            "imported {name}: {} read, {} created, {} skipped (slug existed), {} invalid\n",
            rows(summary.rows),
            summary.created,
            summary.skipped,
            summary.invalid
        ))?;
        // Notes go to stderr with the progress, so stdout holds the result alone.
        if summary.generated_slugs > 0 {
            eprintln!(
                "note: {} without a slug got a generated one; importing this file again \
                 creates {} again (as duplicates with other slugs)",
                rows(summary.generated_slugs),
                if summary.generated_slugs == 1 {
                    "it"
                } else {
                    "them"
                },
            );
        }
        if summary.warnings > 0 {
            eprintln!(
                "note: {} with an unreadable created_at got the time of the import",
                rows(summary.warnings)
            );
        }
    }
    if summary.invalid > 0 {
        return Err(UsageError(format!(
            "{} of {} rows were invalid and not imported (each is reported above with its line \
             number); the others were imported",
            summary.invalid, summary.rows
        ))
        .into());
    }
    Ok(())
}

/// `1 row`, `2 rows`.
fn rows(n: u64) -> String {
    format!("{n} row{}", if n == 1 { "" } else { "s" })
}
