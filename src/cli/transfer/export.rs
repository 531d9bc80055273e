//! `kurz export`: every URL, oldest first, as CSV or JSON Lines.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context as _;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use super::{ExportArgs, Format, COLUMNS};
use crate::cli::output::{self, Progress};
use crate::cli::Context;
use crate::domain::{PasswordHash, Rules};
use crate::store::UrlRecord;

/// URLs read per keyset page while exporting.
const EXPORT_PAGE: u32 = 1_000;

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

pub(super) fn rfc3339(time: DateTime<Utc>) -> String {
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

/// Rows of either format to a sink: CSV with a header line (written even when no row
/// follows), or one JSON object per line.
pub(super) enum RowWriter<W: Write> {
    Csv(Box<csv::Writer<W>>),
    Jsonl(W),
}

impl<W: Write> RowWriter<W> {
    pub(super) fn new(format: Format, sink: W, header: &[&str]) -> anyhow::Result<Self> {
        Ok(match format {
            Format::Csv => {
                let mut writer = csv::WriterBuilder::new()
                    .has_headers(false)
                    .from_writer(sink);
                writer.write_record(header)?;
                Self::Csv(Box::new(writer))
            }
            Format::Jsonl => Self::Jsonl(sink),
        })
    }

    /// Writes one row: `csv` in CSV, `json` in JSON Lines (whichever the format is, only
    /// that one is made).
    pub(super) fn row<C: Serialize, J: Serialize>(
        &mut self,
        csv: impl FnOnce() -> C,
        json: impl FnOnce() -> J,
    ) -> anyhow::Result<()> {
        match self {
            Self::Csv(writer) => writer.serialize(csv())?,
            Self::Jsonl(sink) => {
                serde_json::to_writer(&mut *sink, &json())?;
                sink.write_all(b"\n")?;
            }
        }
        Ok(())
    }

    fn write(&mut self, url: &UrlRecord) -> anyhow::Result<()> {
        let names = || url.tags.iter().map(|tag| tag.as_str());
        self.row(
            || {
                ExportRow::new(
                    url,
                    names().collect::<Vec<_>>().join(" "),
                    url.rules.as_ref().map(Rules::to_stored),
                )
            },
            || {
                let rules = url.rules.as_ref().map(Rules::specs).unwrap_or_default();
                ExportRow::new(url, names().collect::<Vec<_>>(), rules)
            },
        )
    }

    pub(super) fn finish(self) -> anyhow::Result<()> {
        let mut sink = match self {
            Self::Csv(writer) => writer.into_inner().map_err(|e| e.into_error())?,
            Self::Jsonl(sink) => sink,
        };
        sink.flush()?;
        Ok(())
    }
}

/// Where an export goes: the file named, or stdout for none (or `-`).
pub(super) fn sink(output: Option<&Path>) -> anyhow::Result<BufWriter<Box<dyn Write + Send>>> {
    let sink: Box<dyn Write + Send> = match output {
        Some(path) => Box::new(
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout()),
    };
    Ok(BufWriter::with_capacity(64 * 1024, sink))
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
    let mut writer = RowWriter::new(args.format, sink(output.as_deref())?, &COLUMNS)?;
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
