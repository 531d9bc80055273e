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
//!
//! `kurz import --from shlink|yourls|kutt|bitly` imports from another shortener:
//! `import_from.rs` the steps all share (conflicts, marks, dry run, summary),
//! `import_visits.rs` their history, `import_{shlink,yourls,kutt,bitly}.rs` each source.

mod export;
mod import;
mod import_bitly;
mod import_from;
mod import_kutt;
mod import_shlink;
mod import_visits;
mod import_yourls;
mod read;
mod visits;

use std::path::PathBuf;

use serde::Serialize;

use crate::cli::{Context, UsageError};
pub use export::export;
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

/// Where `kurz import` reads from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// A file `kurz export` wrote (CSV or JSON Lines).
    Kurz,
    /// A Shlink server, through its REST API (--url, --api-key).
    Shlink,
    /// YOURLS's tables in its MySQL/MariaDB database (--database, --table-prefix).
    Yourls,
    /// Kutt's tables in its PostgreSQL database (--database).
    Kutt,
    /// Bitly's CSV export (--file).
    Bitly,
}

/// What to do with a link whose slug is another link's already.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnConflict {
    /// Leave the existing link alone and import nothing of this one.
    #[default]
    Skip,
    /// Import it under the first free `slug-2`, `slug-3`, ...
    Rename,
    /// Import nothing at all (checked before anything is written).
    Fail,
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The file to read (--from kurz or bitly); `-` reads stdin (then --format is required).
    #[arg(value_name = "FILE")]
    pub path: Option<PathBuf>,
    /// The file to read, as the positional FILE.
    #[arg(long, conflicts_with = "path")]
    pub file: Option<PathBuf>,
    /// The system the data comes from.
    #[arg(long, value_enum, default_value_t = Source::Kurz)]
    pub from: Source,
    /// The file format (--from kurz); by default from the extension (.csv; .jsonl or .ndjson).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// The source's database (--from yourls: mysql://user:password@host/db, --from kutt:
    /// postgres://user:password@host/db).
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// The Shlink server to read (--from shlink): its address, as its clients are given it.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// A Shlink API key (--from shlink); an admin key reads every link.
    #[arg(
        long,
        value_name = "KEY",
        env = "SHLINK_API_KEY",
        hide_env_values = true
    )]
    pub api_key: Option<String>,
    /// The prefix of YOURLS's tables (YOURLS_DB_PREFIX).
    #[arg(long, default_value = "yourls_")]
    pub table_prefix: String,
    /// What to do with a link whose slug another link has.
    #[arg(long, value_enum, default_value_t = OnConflict::Skip)]
    pub on_conflict: OnConflict,
    /// Read and check everything, report what would happen, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Import the links only, not their clicks.
    #[arg(long)]
    pub no_visits: bool,
}

impl ImportArgs {
    fn file(&self) -> Option<&PathBuf> {
        self.path.as_ref().or(self.file.as_ref())
    }

    fn database(&self) -> Result<&str, UsageError> {
        self.database.as_deref().ok_or_else(|| {
            UsageError(format!(
                "--from {} needs --database URL",
                serde_json::to_value(self.from)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            ))
        })
    }
}

/// `kurz import`: a kurz file, or another shortener's data.
pub async fn import(ctx: &Context, args: ImportArgs) -> anyhow::Result<()> {
    let source: Box<dyn import_from::Source> = match args.from {
        Source::Kurz => {
            if args.dry_run || args.on_conflict != OnConflict::Skip || args.no_visits {
                return Err(UsageError(
                    "--dry-run, --on-conflict and --no-visits apply to --from shlink, yourls, \
                     kutt and bitly; a kurz file skips slugs that exist"
                        .into(),
                )
                .into());
            }
            let file = args
                .file()
                .ok_or_else(|| UsageError("kurz import needs a FILE (or --file)".into()))?;
            return import::import(ctx, file, args.format).await;
        }
        Source::Yourls => Box::new(
            import_yourls::Yourls::connect(args.database()?, &args.table_prefix, &ctx.settings)
                .await?,
        ),
        Source::Kutt => Box::new(import_kutt::Kutt::connect(args.database()?).await?),
        Source::Shlink => {
            let url = args.url.as_deref().ok_or_else(|| {
                UsageError("--from shlink needs --url https://your-shlink.example".into())
            })?;
            let key = args.api_key.as_deref().ok_or_else(|| {
                UsageError("--from shlink needs --api-key KEY (or SHLINK_API_KEY)".into())
            })?;
            Box::new(import_shlink::Shlink::connect(url, key, &ctx.settings).await?)
        }
        Source::Bitly => {
            let file = args
                .file()
                .ok_or_else(|| UsageError("--from bitly needs --file export.csv".into()))?;
            Box::new(import_bitly::Bitly::open(file)?)
        }
    };
    import_from::run(ctx, &args, source).await
}
