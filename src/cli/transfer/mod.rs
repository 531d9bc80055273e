//! `kurz export` and `kurz import`: URLs to and from CSV or JSON Lines, streamed both ways so
//! that ten million rows take no more memory than ten.
//!
//! Export writes every URL oldest first (keyset pages over the id), so that importing the file
//! creates the URLs in their original order. Import validates each row with the domain types,
//! as the API does, writes valid rows in batches through `Store::import_urls` (idempotent by
//! slug), and reports every invalid row with its line number without stopping.
//!
//! `export.rs` writes, `read.rs` reads rows of either format, `import.rs` checks and stores them;
//! `visits.rs` exports visits and orphan visits (`kurz visits export`).

mod export;
mod import;
mod read;
mod visits;

use std::path::PathBuf;

use serde::Serialize;

pub use export::export;
pub use import::import;
pub use visits::{export as export_visits, VisitExportArgs};

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
