//! `kurz export` and `kurz import`: URLs to and from CSV or JSON Lines, streamed both ways so
//! that ten million rows take no more memory than ten.
//!
//! Export writes every URL oldest first (keyset pages over the id), so that importing the file
//! creates the URLs in their original order. Import validates each row with the domain types,
//! as the API does, writes valid rows in batches through `Store::import_urls` (idempotent by
//! slug), and reports every invalid row with its line number without stopping.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::Context as _;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::crlf::CrlfAsLf;
use super::output::{self, Progress};
use super::{Context, UsageError};
use crate::app::{LinkInput, Links, PreparedLink};
use crate::domain::{Invalid, PasswordHash, RuleSpec, Rules};
use crate::store::UrlRecord;

/// URLs read per keyset page while exporting.
const EXPORT_PAGE: u32 = 1_000;
/// Valid rows written per `import_urls` call (one transaction).
const IMPORT_BATCH: usize = 1_000;
/// Invalid rows listed in the `--json` summary (all of them go to stderr).
const JSON_INVALID_ROWS: usize = 1_000;
/// A JSON Lines line longer than this is reported invalid without being held in memory.
const MAX_LINE_BYTES: usize = 64 * 1024;

/// The columns of an export, in order; an import needs `url` and reads the others if present.
pub const COLUMNS: [&str; 15] = [
    "slug",
    "url",
    "title",
    "crawlable",
    "created_at",
    "visit_count",
    "redirect_status",
    "valid_since",
    "valid_until",
    "max_visits",
    "human_visits",
    "forward_query",
    "rules",
    "tags",
    "password_hash",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Comma-separated values with a header line.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The file format.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,
    /// Write to this file instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The file to read; `-` reads stdin (then --format is required).
    pub file: PathBuf,
    /// The file format; by default from the extension (.csv; .jsonl or .ndjson).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
}

// ----- export -------------------------------------------------------------------------------

/// One exported URL. `visit_count` is informative: an import does not restore visits. `tags`
/// (`T`) is one cell of names separated by spaces in CSV, an array of names in JSON Lines;
/// `rules` (`R`) a cell of their JSON in CSV, the array itself in JSON Lines.
#[derive(Serialize)]
struct ExportRow<'a, T, R> {
    slug: &'a str,
    url: &'a str,
    title: Option<&'a str>,
    crawlable: bool,
    created_at: String,
    visit_count: i64,
    redirect_status: Option<u16>,
    valid_since: Option<String>,
    valid_until: Option<String>,
    max_visits: Option<i64>,
    /// Visits by people so far: what `max_visits` caps (an import keeps it).
    human_visits: i64,
    forward_query: bool,
    /// The rules as the API shows them; none for none.
    rules: R,
    tags: T,
    /// The Argon2id hash (PHC string) of the link's password: never the password itself.
    password_hash: Option<&'a str>,
}

fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

impl<'a, T, R> ExportRow<'a, T, R> {
    fn new(url: &'a UrlRecord, tags: T, rules: R) -> Self {
        Self {
            slug: url.slug.as_str(),
            url: url.target.as_str(),
            title: url.title.as_deref(),
            crawlable: url.crawlable,
            created_at: rfc3339(url.created_at),
            visit_count: url.visit_count,
            redirect_status: url.redirect_status.map(|status| status.get()),
            valid_since: url.valid_since.map(rfc3339),
            valid_until: url.valid_until.map(rfc3339),
            max_visits: url.max_visits.map(|cap| cap.get()),
            human_visits: url.human_visits,
            forward_query: url.forward_query,
            rules,
            tags,
            password_hash: url.password_hash.as_ref().map(PasswordHash::as_str),
        }
    }
}

enum RowWriter<W: Write> {
    Csv(Box<csv::Writer<W>>),
    Jsonl(W),
}

impl<W: Write> RowWriter<W> {
    fn new(format: Format, sink: W) -> anyhow::Result<Self> {
        Ok(match format {
            Format::Csv => {
                let mut writer = csv::WriterBuilder::new()
                    .has_headers(false)
                    .from_writer(sink);
                // Written by hand so that an empty export still has its header.
                writer.write_record(COLUMNS)?;
                Self::Csv(Box::new(writer))
            }
            Format::Jsonl => Self::Jsonl(sink),
        })
    }

    fn write(&mut self, url: &UrlRecord) -> anyhow::Result<()> {
        let names = url.tags.iter().map(|tag| tag.as_str());
        match self {
            Self::Csv(writer) => writer.serialize(ExportRow::new(
                url,
                names.collect::<Vec<_>>().join(" "),
                url.rules.as_ref().map(Rules::to_stored),
            ))?,
            Self::Jsonl(sink) => {
                let rules = url.rules.as_ref().map(Rules::specs).unwrap_or_default();
                let row = ExportRow::new(url, names.collect::<Vec<_>>(), rules);
                serde_json::to_writer(&mut *sink, &row)?;
                sink.write_all(b"\n")?;
            }
        }
        Ok(())
    }

    fn finish(self) -> anyhow::Result<()> {
        let mut sink = match self {
            Self::Csv(writer) => writer.into_inner().map_err(|e| e.into_error())?,
            Self::Jsonl(sink) => sink,
        };
        sink.flush()?;
        Ok(())
    }
}

#[derive(Serialize)]
struct ExportJson {
    exported: u64,
    format: Format,
    output: String,
}

pub async fn export(ctx: &Context, args: ExportArgs) -> anyhow::Result<()> {
    let output = args.output.filter(|path| path != Path::new("-"));
    let store = ctx.store().await?;
    let sink: Box<dyn Write + Send> = match &output {
        Some(path) => Box::new(
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout()),
    };
    let mut writer = RowWriter::new(args.format, BufWriter::with_capacity(64 * 1024, sink))?;
    let mut progress = Progress::new("export", None);
    let mut exported = 0u64;
    let mut after = None;
    loop {
        let page = store.urls_oldest_first(after, EXPORT_PAGE).await?;
        for url in &page {
            writer.write(url)?;
        }
        exported += page.len() as u64;
        progress.update(exported, 0, || format!("{exported} URLs exported"));
        match page.last() {
            Some(last) if page.len() == EXPORT_PAGE as usize => after = Some(last.id),
            _ => break,
        }
    }
    writer.finish()?;
    progress.finish();
    let Some(path) = output else {
        // stdout holds the data; the summary goes to stderr.
        eprintln!("exported {exported} URLs");
        return Ok(());
    };
    if ctx.json {
        return output::json(&ExportJson {
            exported,
            format: args.format,
            output: path.display().to_string(),
        });
    }
    output::emit(&format!("exported {exported} URLs to {}\n", path.display()))
}

// ----- import -------------------------------------------------------------------------------

/// A row as read, before validation.
#[derive(Debug, Default)]
struct RawRow {
    line: u64,
    slug: Option<String>,
    url: Option<String>,
    title: Option<String>,
    crawlable: Option<Result<bool, String>>,
    created_at: Option<String>,
    /// Blank or `null`: the server's `redirect.status`.
    redirect_status: Option<Result<u16, String>>,
    /// The cells of the validity window and the cap, as text (blank or `null`: none).
    valid_since: Option<String>,
    valid_until: Option<String>,
    max_visits: Option<String>,
    human_visits: Option<String>,
    forward_query: Option<String>,
    rules: Option<String>,
    /// Blank, `null` or absent: no tags.
    tags: Option<Result<Vec<String>, String>>,
    /// Blank or `null`: no password.
    password_hash: Option<String>,
}

/// A row that was not imported, and why.
#[derive(Debug, Clone, Serialize)]
struct BadRow {
    line: u64,
    reason: String,
}

/// A JSON Lines row; other fields (`visit_count`, `short_url`, ...) are ignored.
#[derive(Deserialize)]
struct JsonRow {
    slug: Option<String>,
    url: Option<String>,
    title: Option<String>,
    crawlable: Option<serde_json::Value>,
    created_at: Option<String>,
    redirect_status: Option<serde_json::Value>,
    tags: Option<serde_json::Value>,
    valid_since: Option<serde_json::Value>,
    valid_until: Option<serde_json::Value>,
    max_visits: Option<serde_json::Value>,
    human_visits: Option<serde_json::Value>,
    forward_query: Option<serde_json::Value>,
    rules: Option<serde_json::Value>,
    password_hash: Option<serde_json::Value>,
}

/// A JSON value as the text a CSV cell would hold; `null` is no value.
fn json_text(value: Option<serde_json::Value>) -> Option<String> {
    match value? {
        serde_json::Value::Null => None,
        serde_json::Value::String(text) => Some(text),
        other => Some(other.to_string()),
    }
}

/// An optional cell parsed by `parse`; blank is no value.
fn optional_cell<T>(
    cell: Option<String>,
    field: &'static str,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<Option<T>, Invalid> {
    match cell.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => parse(value)
            .map(Some)
            .map_err(|reason| Invalid::new(field, reason)),
    }
}

fn parse_time(value: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(value)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|_| format!("`{value}` is not an RFC 3339 time"))
}

fn parse_count(value: &str) -> Result<i64, String> {
    value
        .parse()
        .map_err(|_| format!("`{value}` is not a whole number"))
}

/// A tags cell: names separated by spaces or `|` (checked by the links service).
fn split_tags(value: &str) -> Vec<String> {
    value
        .split(|c: char| c == '|' || c.is_whitespace())
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A JSON Lines `tags`: an array of names, or one string of names as in CSV.
fn json_tags(value: serde_json::Value) -> Result<Vec<String>, String> {
    match value {
        serde_json::Value::Null => Ok(Vec::new()),
        serde_json::Value::String(s) => Ok(split_tags(&s)),
        serde_json::Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                serde_json::Value::String(name) => Ok(name),
                other => Err(format!("`{other}` is not a tag name")),
            })
            .collect(),
        other => Err(format!("`{other}` is not a list of tags")),
    }
}

/// A redirect status cell: blank for none, else a number (checked by the links service).
fn parse_status(value: &str) -> Result<Option<u16>, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    value
        .parse()
        .map(Some)
        .map_err(|_| format!("`{value}` is not a redirect status (301, 302, 307 or 308)"))
}

fn parse_bool(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "false" | "0" | "no" => Ok(false),
        "true" | "1" | "yes" => Ok(true),
        _ => Err(format!("`{value}` is not true or false")),
    }
}

/// Counts the bytes read, for the progress bar.
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Where each column of a CSV file is.
struct Columns {
    slug: Option<usize>,
    url: usize,
    title: Option<usize>,
    crawlable: Option<usize>,
    created_at: Option<usize>,
    redirect_status: Option<usize>,
    valid_since: Option<usize>,
    valid_until: Option<usize>,
    max_visits: Option<usize>,
    human_visits: Option<usize>,
    forward_query: Option<usize>,
    rules: Option<usize>,
    tags: Option<usize>,
    password_hash: Option<usize>,
}

enum RowReader<R: BufRead> {
    Csv {
        reader: csv::Reader<CrlfAsLf<R>>,
        columns: Box<Columns>,
        record: csv::StringRecord,
    },
    Jsonl {
        reader: R,
        line: u64,
        buffer: Vec<u8>,
    },
}

impl<R: BufRead> RowReader<R> {
    fn new(format: Format, input: R, name: &str) -> anyhow::Result<Self> {
        match format {
            Format::Jsonl => Ok(Self::Jsonl {
                reader: input,
                line: 0,
                buffer: Vec::new(),
            }),
            Format::Csv => {
                let mut reader = csv::ReaderBuilder::new()
                    .flexible(true)
                    .from_reader(CrlfAsLf::new(input));
                let headers = reader
                    .headers()
                    .with_context(|| format!("cannot read the CSV header of {name}"))?;
                let find = |column: &str| {
                    headers.iter().position(|h| {
                        h.trim_start_matches('\u{feff}')
                            .trim()
                            .eq_ignore_ascii_case(column)
                    })
                };
                let url = find("url").ok_or_else(|| {
                    UsageError(format!(
                        "{name}: the CSV header has no `url` column (expected {})",
                        COLUMNS.join(",")
                    ))
                })?;
                let columns = Columns {
                    slug: find("slug"),
                    url,
                    title: find("title"),
                    crawlable: find("crawlable"),
                    created_at: find("created_at"),
                    redirect_status: find("redirect_status"),
                    valid_since: find("valid_since"),
                    valid_until: find("valid_until"),
                    max_visits: find("max_visits"),
                    human_visits: find("human_visits"),
                    forward_query: find("forward_query"),
                    rules: find("rules"),
                    tags: find("tags"),
                    password_hash: find("password_hash"),
                };
                Ok(Self::Csv {
                    reader,
                    columns: Box::new(columns),
                    record: csv::StringRecord::new(),
                })
            }
        }
    }

    /// The next row, a row that could not be read, or `None` at the end. An error is fatal
    /// (the file cannot be read any further).
    fn next_row(&mut self) -> anyhow::Result<Option<Result<RawRow, BadRow>>> {
        match self {
            Self::Csv {
                reader,
                columns,
                record,
            } => match reader.read_record(record) {
                Ok(false) => Ok(None),
                Ok(true) => {
                    let line = record.position().map_or(0, |p| p.line());
                    let cell =
                        |index: Option<usize>| index.and_then(|i| record.get(i)).map(str::to_owned);
                    Ok(Some(Ok(RawRow {
                        line,
                        slug: cell(columns.slug),
                        url: cell(Some(columns.url)),
                        title: cell(columns.title),
                        crawlable: cell(columns.crawlable).map(|v| parse_bool(&v)),
                        created_at: cell(columns.created_at),
                        redirect_status: cell(columns.redirect_status)
                            .and_then(|v| parse_status(&v).transpose()),
                        valid_since: cell(columns.valid_since),
                        valid_until: cell(columns.valid_until),
                        max_visits: cell(columns.max_visits),
                        human_visits: cell(columns.human_visits),
                        forward_query: cell(columns.forward_query),
                        rules: cell(columns.rules),
                        tags: cell(columns.tags).map(|v| Ok(split_tags(&v))),
                        password_hash: cell(columns.password_hash),
                    })))
                }
                Err(error) => {
                    let line = error.position().map_or(0, |p| p.line());
                    match error.kind() {
                        csv::ErrorKind::Utf8 { .. } => Ok(Some(Err(BadRow {
                            line,
                            reason: "not valid UTF-8".into(),
                        }))),
                        _ => Err(anyhow::Error::new(error).context("cannot read the file")),
                    }
                }
            },
            Self::Jsonl {
                reader,
                line,
                buffer,
            } => loop {
                let complete = read_line_capped(reader, buffer)?;
                if buffer.is_empty() && complete.is_none() {
                    return Ok(None);
                }
                *line += 1;
                let line = *line;
                let bad = |reason: String| Ok(Some(Err(BadRow { line, reason })));
                if complete == Some(false) {
                    return bad(format!("longer than {MAX_LINE_BYTES} bytes"));
                }
                let Ok(text) = std::str::from_utf8(buffer) else {
                    return bad("not valid UTF-8".into());
                };
                let text = text.trim_start_matches('\u{feff}').trim();
                if text.is_empty() {
                    continue;
                }
                return match serde_json::from_str::<JsonRow>(text) {
                    Ok(row) => Ok(Some(Ok(RawRow {
                        line,
                        slug: row.slug,
                        url: row.url,
                        title: row.title,
                        crawlable: row.crawlable.map(|value| match value {
                            serde_json::Value::Bool(b) => Ok(b),
                            serde_json::Value::Null => Ok(false),
                            serde_json::Value::String(s) => parse_bool(&s),
                            other => Err(format!("`{other}` is not true or false")),
                        }),
                        created_at: row.created_at,
                        redirect_status: match row.redirect_status {
                            None | Some(serde_json::Value::Null) => Ok(None),
                            Some(serde_json::Value::String(s)) => parse_status(&s),
                            Some(serde_json::Value::Number(n)) => parse_status(&n.to_string()),
                            Some(other) => Err(format!("`{other}` is not a redirect status")),
                        }
                        .transpose(),
                        valid_since: json_text(row.valid_since),
                        valid_until: json_text(row.valid_until),
                        max_visits: json_text(row.max_visits),
                        human_visits: json_text(row.human_visits),
                        forward_query: json_text(row.forward_query),
                        rules: json_text(row.rules),
                        tags: row.tags.map(json_tags),
                        password_hash: json_text(row.password_hash),
                    }))),
                    Err(error) => bad(format!("not a JSON object of a URL ({error})")),
                };
            },
        }
    }
}

/// Reads one line (without its `\n`) into `buffer`, keeping at most `MAX_LINE_BYTES` of it.
/// `None`: the input had ended before anything was read; `Some(false)`: the line was too long
/// (the rest of it was skipped).
fn read_line_capped(
    reader: &mut impl BufRead,
    buffer: &mut Vec<u8>,
) -> anyhow::Result<Option<bool>> {
    buffer.clear();
    let mut seen_any = false;
    let mut fits = true;
    loop {
        let chunk = reader.fill_buf().context("cannot read the file")?;
        if chunk.is_empty() {
            return Ok(seen_any.then_some(fits));
        }
        seen_any = true;
        let (part, done) = match chunk.iter().position(|b| *b == b'\n') {
            Some(end) => (&chunk[..end], Some(end + 1)),
            None => (chunk, None),
        };
        if fits && buffer.len() + part.len() <= MAX_LINE_BYTES {
            buffer.extend_from_slice(part);
        } else {
            fits = false;
            buffer.clear();
        }
        let used = done.unwrap_or(chunk.len());
        reader.consume(used);
        if done.is_some() {
            return Ok(Some(fits));
        }
    }
}

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

pub async fn import(ctx: &Context, args: ImportArgs) -> anyhow::Result<()> {
    let from_stdin = args.file == Path::new("-");
    let format = match args.format {
        Some(format) => format,
        None if from_stdin => {
            return Err(
                UsageError("reading stdin needs --format csv or --format jsonl".into()).into(),
            )
        }
        None => format_of(&args.file)?,
    };
    let name = args.file.display().to_string();
    let (input, size): (Box<dyn Read + Send>, Option<u64>) = if from_stdin {
        (Box::new(std::io::stdin()), None)
    } else {
        let file =
            File::open(&args.file).map_err(|e| UsageError(format!("cannot open {name}: {e}")))?;
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
