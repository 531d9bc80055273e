//! `kurz visits export`: a link's or every link's visits, or the orphan visits, newest first
//! (keyset pages over the id, so ten million rows cost what ten do), as CSV or JSON Lines with
//! the fields and names of the API's visit objects.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::export::{rfc3339, sink, RowWriter};
use super::Format;
use crate::cli::output::{self, Progress};
use crate::cli::Context;
use crate::domain::{parse_end, parse_start, Cursor, OrphanKind, Slug};
use crate::store::{OrphanFilter, OrphanVisitRecord, PageRequest, VisitFilter, VisitRecord};

/// Visits read per keyset page while exporting.
const EXPORT_PAGE: u32 = 1_000;

/// The columns of a visit export, in order.
pub const VISIT_COLUMNS: [&str; 12] = [
    "id",
    "url",
    "visited_at",
    "client_ip",
    "user_agent",
    "referrer",
    "referrer_host",
    "browser",
    "os",
    "device",
    "is_bot",
    "rule",
];

/// The columns of an orphan visit export, in order.
pub const ORPHAN_COLUMNS: [&str; 12] = [
    "id",
    "type",
    "path",
    "visited_at",
    "client_ip",
    "user_agent",
    "referrer",
    "referrer_host",
    "browser",
    "os",
    "device",
    "is_bot",
];

#[derive(Debug, clap::Args)]
pub struct VisitExportArgs {
    /// Export the orphan visits (clicks that reached no link) instead of links' visits.
    #[arg(long, conflicts_with = "url")]
    pub orphans: bool,
    /// Only the visits of the link with this slug.
    #[arg(long, value_name = "SLUG")]
    pub url: Option<String>,
    /// Visits at or after this day (UTC) or RFC 3339 time.
    #[arg(long, value_name = "WHEN")]
    pub from: Option<String>,
    /// Visits before this RFC 3339 time, or up to the end of this day.
    #[arg(long, value_name = "WHEN")]
    pub to: Option<String>,
    /// The file format.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,
    /// Write to this file instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

#[derive(Serialize)]
struct VisitRow<'a> {
    id: i64,
    url: &'a str,
    visited_at: String,
    client_ip: Option<&'a str>,
    user_agent: Option<&'a str>,
    referrer: Option<&'a str>,
    referrer_host: Option<&'a str>,
    browser: Option<&'a str>,
    os: Option<&'a str>,
    device: Option<&'a str>,
    is_bot: bool,
    rule: Option<i16>,
}

impl<'a> From<&'a VisitRecord> for VisitRow<'a> {
    fn from(v: &'a VisitRecord) -> Self {
        Self {
            id: v.id,
            url: v.slug.as_str(),
            visited_at: rfc3339(v.visited_at),
            client_ip: v.client_ip.as_deref(),
            user_agent: v.user_agent.as_deref(),
            referrer: v.referrer.as_deref(),
            referrer_host: v.referrer_host.as_deref(),
            browser: v.browser.as_deref(),
            os: v.os.as_deref(),
            device: v.device.as_deref(),
            is_bot: v.is_bot,
            rule: v.rule,
        }
    }
}

#[derive(Serialize)]
struct OrphanRow<'a> {
    id: i64,
    #[serde(rename = "type")]
    kind: OrphanKind,
    path: &'a str,
    visited_at: String,
    client_ip: Option<&'a str>,
    user_agent: Option<&'a str>,
    referrer: Option<&'a str>,
    referrer_host: Option<&'a str>,
    browser: Option<&'a str>,
    os: Option<&'a str>,
    device: Option<&'a str>,
    is_bot: bool,
}

impl<'a> From<&'a OrphanVisitRecord> for OrphanRow<'a> {
    fn from(v: &'a OrphanVisitRecord) -> Self {
        Self {
            id: v.id,
            kind: v.kind,
            path: &v.path,
            visited_at: rfc3339(v.visited_at),
            client_ip: v.client_ip.as_deref(),
            user_agent: v.user_agent.as_deref(),
            referrer: v.referrer.as_deref(),
            referrer_host: v.referrer_host.as_deref(),
            browser: v.browser.as_deref(),
            os: v.os.as_deref(),
            device: v.device.as_deref(),
            is_bot: v.is_bot,
        }
    }
}

#[derive(Serialize)]
struct ExportJson {
    exported: u64,
    orphans: bool,
    format: Format,
    output: String,
}

pub async fn export(ctx: &Context, args: VisitExportArgs) -> anyhow::Result<()> {
    let from = args
        .from
        .as_deref()
        .map(|v| parse_start("from", v))
        .transpose()?;
    let until = args.to.as_deref().map(|v| parse_end("to", v)).transpose()?;
    let output = args.output.filter(|path| path != Path::new("-"));
    let store = ctx.store().await?;
    let url_id = match args.url.as_deref() {
        None => None,
        Some(raw) => {
            let slug = Slug::for_lookup(raw)
                .ok_or_else(|| anyhow::anyhow!("url: `{raw}` is not a slug"))?;
            Some(
                store
                    .get_url(&slug)
                    .await
                    .map_err(|error| {
                        anyhow::anyhow!("url: no link has the slug `{raw}` ({error})")
                    })?
                    .id,
            )
        }
    };
    let header: &[&str] = if args.orphans {
        &ORPHAN_COLUMNS
    } else {
        &VISIT_COLUMNS
    };
    let mut writer = RowWriter::new(args.format, sink(output.as_deref())?, header)?;
    let mut progress = Progress::new("export", None);
    let mut exported = 0u64;
    let mut after: Option<Cursor> = None;
    loop {
        let request = PageRequest {
            after,
            limit: EXPORT_PAGE,
        };
        let next = if args.orphans {
            let filter = OrphanFilter {
                from,
                until,
                ..OrphanFilter::default()
            };
            let page = store.list_orphan_visits(filter, request).await?;
            for visit in &page.items {
                writer.row(|| OrphanRow::from(visit), || OrphanRow::from(visit))?;
            }
            exported += page.items.len() as u64;
            page.next
        } else {
            let filter = VisitFilter {
                url_id,
                from,
                until,
                ..VisitFilter::default()
            };
            let page = store.list_visits(filter, request).await?;
            for visit in &page.items {
                writer.row(|| VisitRow::from(visit), || VisitRow::from(visit))?;
            }
            exported += page.items.len() as u64;
            page.next
        };
        progress.update(exported, 0, || format!("{exported} visits exported"));
        match next {
            Some(cursor) => after = Some(cursor),
            None => break,
        }
    }
    writer.finish()?;
    progress.finish();
    let what = if args.orphans {
        "orphan visits"
    } else {
        "visits"
    };
    let Some(path) = output else {
        eprintln!("exported {exported} {what}");
        return Ok(());
    };
    if ctx.json {
        return output::json(&ExportJson {
            exported,
            orphans: args.orphans,
            format: args.format,
            output: path.display().to_string(),
        });
    }
    output::emit(&format!(
        "exported {exported} {what} to {}\n",
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    /// The header csv derives from a row's fields.
    fn header<T: Serialize>(row: &T) -> String {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.serialize(row).unwrap();
        let text = String::from_utf8(writer.into_inner().unwrap()).unwrap();
        text.lines().next().unwrap().to_owned()
    }

    /// The header written by hand is the rows' own field order.
    #[test]
    fn headers_are_the_rows_fields() {
        let visit = VisitRecord {
            id: 1,
            url_id: 2,
            slug: Slug::for_lookup("abc").unwrap(),
            visited_at: Utc::now(),
            client_ip: None,
            user_agent: None,
            referrer: None,
            referrer_host: None,
            browser: None,
            os: None,
            device: None,
            is_bot: false,
            rule: None,
            url_created_by: None,
        };
        let orphan = OrphanVisitRecord {
            id: 1,
            kind: OrphanKind::BaseUrl,
            path: "/".into(),
            visited_at: Utc::now(),
            client_ip: None,
            user_agent: None,
            referrer: None,
            referrer_host: None,
            browser: None,
            os: None,
            device: None,
            is_bot: false,
        };
        assert_eq!(header(&VisitRow::from(&visit)), VISIT_COLUMNS.join(","));
        assert_eq!(header(&OrphanRow::from(&orphan)), ORPHAN_COLUMNS.join(","));
    }
}
