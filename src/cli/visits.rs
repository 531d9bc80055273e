//! `kurz visits prune`: deletes old visits in batches, keeping each URL's `visit_count` and the
//! statistics rollups consistent with what is left. `kurz visits export` is in `transfer/`.

use chrono::NaiveDate;
use clap::Subcommand;
use serde::Serialize;

use super::output::{self, Progress};
use super::Context;
use crate::app::Visits;
use crate::domain::parse_day;

#[derive(Debug, Subcommand)]
pub enum VisitsCommand {
    /// Delete every visit and orphan visit made before a day (00:00 UTC), in batches;
    /// visit counts and statistics follow.
    Prune(PruneArgs),
    /// Write visits (or, with --orphans, orphan visits) newest first as CSV or JSON Lines.
    Export(crate::cli::transfer::VisitExportArgs),
}

#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    /// The first day to keep, YYYY-MM-DD (UTC): visits before its midnight are deleted.
    /// Today at the latest.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub before: String,
    /// Visits deleted per transaction.
    #[arg(long, default_value_t = 10_000,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub batch: u32,
    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(long, short)]
    pub yes: bool,
}

#[derive(Serialize)]
struct PrunedJson {
    before: NaiveDate,
    deleted_visits: u64,
    deleted_orphan_visits: u64,
    deleted_rollup_rows: u64,
    batches: u64,
}

pub async fn run(ctx: &Context, command: VisitsCommand) -> anyhow::Result<()> {
    match command {
        VisitsCommand::Prune(args) => prune(ctx, args).await,
        VisitsCommand::Export(args) => crate::cli::transfer::export_visits(ctx, args).await,
    }
}

async fn prune(ctx: &Context, args: PruneArgs) -> anyhow::Result<()> {
    let before = parse_day("before", &args.before)?;
    Visits::check_cut(before)?;
    output::confirm(
        &format!("Delete every visit made before {before} 00:00 UTC? This cannot be undone."),
        args.yes,
    )?;
    let visits = ctx.visits().await?;
    let mut progress = Progress::new("prune", None);
    let mut batches = 0u64;
    let mut deleted = 0u64;
    let pruned = visits
        .prune(before, args.batch, |batch| {
            batches += 1;
            deleted += batch.visits;
            progress.update(deleted, 0, || format!("{deleted} visits deleted"));
        })
        .await?;
    progress.finish();
    let mut progress = Progress::new("prune orphans", None);
    let mut orphans = 0u64;
    let pruned_orphans = visits
        .prune_orphans(before, args.batch, |batch| {
            batches += 1;
            orphans += batch.visits;
            progress.update(orphans, 0, || format!("{orphans} orphan visits deleted"));
        })
        .await?;
    progress.finish();
    let (deleted, orphans) = (pruned.visits, pruned_orphans.visits);
    let rollup_rows = pruned.rollup_rows + pruned_orphans.rollup_rows;
    if ctx.json {
        return output::json(&PrunedJson {
            before,
            deleted_visits: deleted,
            deleted_orphan_visits: orphans,
            deleted_rollup_rows: rollup_rows,
            batches,
        });
    }
    output::emit(&format!(
        "deleted {deleted} visit{} and {orphans} orphan visit{} made before {before} \
         ({batches} batch{} of up to {}), and {rollup_rows} statistics row{} of those days\n",
        plural(deleted),
        plural(orphans),
        if batches == 1 { "" } else { "es" },
        args.batch,
        plural(rollup_rows),
    ))
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
