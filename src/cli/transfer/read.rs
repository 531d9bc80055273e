//! Reading rows of an import file: CSV cells or JSON Lines fields, as text, before they are
//! checked.

use std::io::{BufRead, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Format, COLUMNS};
use crate::cli::crlf::CrlfAsLf;
use crate::cli::UsageError;
use crate::domain::Invalid;

/// A JSON Lines line longer than this is reported invalid without being held in memory.
const MAX_LINE_BYTES: usize = 64 * 1024;

/// A row as read, before validation.
#[derive(Debug, Default)]
pub(super) struct RawRow {
    pub(super) line: u64,
    pub(super) slug: Option<String>,
    pub(super) url: Option<String>,
    pub(super) title: Option<String>,
    pub(super) crawlable: Option<Result<bool, String>>,
    pub(super) created_at: Option<String>,
    /// Blank or `null`: the server's `redirect.status`.
    pub(super) redirect_status: Option<Result<u16, String>>,
    /// The cells of the validity window and the cap, as text (blank or `null`: none).
    pub(super) valid_since: Option<String>,
    pub(super) valid_until: Option<String>,
    pub(super) max_visits: Option<String>,
    pub(super) human_visits: Option<String>,
    pub(super) forward_query: Option<String>,
    pub(super) rules: Option<String>,
    /// Blank, `null` or absent: no tags.
    pub(super) tags: Option<Result<Vec<String>, String>>,
    /// Blank or `null`: no password.
    pub(super) password_hash: Option<String>,
}

/// A row that was not imported, and why.
#[derive(Debug, Clone, Serialize)]
pub(super) struct BadRow {
    pub(super) line: u64,
    pub(super) reason: String,
}

/// A JSON Lines row; other fields (`visit_count`, `short_url`, ...) are ignored.
#[derive(Deserialize)]
pub(super) struct JsonRow {
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
pub(super) fn json_text(value: Option<serde_json::Value>) -> Option<String> {
    match value? {
        serde_json::Value::Null => None,
        serde_json::Value::String(text) => Some(text),
        other => Some(other.to_string()),
    }
}

/// An optional cell parsed by `parse`; blank is no value.
pub(super) fn optional_cell<T>(
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

pub(super) fn parse_time(value: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(value)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|_| format!("`{value}` is not an RFC 3339 time"))
}

pub(super) fn parse_count(value: &str) -> Result<i64, String> {
    value
        .parse()
        .map_err(|_| format!("`{value}` is not a whole number"))
}

/// A tags cell: names separated by spaces or `|` (checked by the links service).
pub(super) fn split_tags(value: &str) -> Vec<String> {
    value
        .split(|c: char| c == '|' || c.is_whitespace())
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A JSON Lines `tags`: an array of names, or one string of names as in CSV.
pub(super) fn json_tags(value: serde_json::Value) -> Result<Vec<String>, String> {
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
pub(super) fn parse_status(value: &str) -> Result<Option<u16>, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    value
        .parse()
        .map(Some)
        .map_err(|_| format!("`{value}` is not a redirect status (301, 302, 307 or 308)"))
}

pub(super) fn parse_bool(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "false" | "0" | "no" => Ok(false),
        "true" | "1" | "yes" => Ok(true),
        _ => Err(format!("`{value}` is not true or false")),
    }
}

/// Counts the bytes read, for the progress bar.
pub(super) struct Counting<R> {
    pub(super) inner: R,
    pub(super) read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Where each column of a CSV file is.
pub(super) struct Columns {
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

pub(super) enum RowReader<R: BufRead> {
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
    pub(super) fn new(format: Format, input: R, name: &str) -> anyhow::Result<Self> {
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
    pub(super) fn next_row(&mut self) -> anyhow::Result<Option<Result<RawRow, BadRow>>> {
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
pub(super) fn read_line_capped(
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
