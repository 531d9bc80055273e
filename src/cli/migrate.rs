//! `kurz migrate` applies pending migrations; `kurz migrate --status` lists every migration
//! and whether it is applied, without applying anything.

use serde::Serialize;

use super::output::{self, Table};
use super::Context;
use crate::store::{self, MigrationState, MigrationStatus};

#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// List the migrations (version, description, applied or pending, when) instead of
    /// applying them.
    #[arg(long)]
    pub status: bool,
}

#[derive(Serialize)]
struct StatusJson<'a> {
    backend: &'static str,
    migrations: &'a [MigrationStatus],
}

#[derive(Serialize)]
struct AppliedJson<'a> {
    backend: &'static str,
    applied: Vec<&'a MigrationStatus>,
    migrations: &'a [MigrationStatus],
}

pub async fn run(ctx: &Context, args: MigrateArgs) -> anyhow::Result<()> {
    // Never migrate as a side effect of opening the store: `--status` must show what is
    // pending, and `migrate` reports what it applied.
    let mut database = ctx.settings.database.clone();
    database.run_migrations = false;
    let store = store::connect(&database).await?;
    let before = store.migration_status().await?;
    if args.status {
        if ctx.json {
            return output::json(&StatusJson {
                backend: store.backend(),
                migrations: &before,
            });
        }
        return output::emit(&status_table(&before));
    }
    store.migrate().await?;
    let after = store.migration_status().await?;
    let applied: Vec<&MigrationStatus> = after
        .iter()
        .filter(|m| {
            m.state == MigrationState::Applied
                && before
                    .iter()
                    .any(|b| b.version == m.version && b.state == MigrationState::Pending)
        })
        .collect();
    if ctx.json {
        return output::json(&AppliedJson {
            backend: store.backend(),
            applied,
            migrations: &after,
        });
    }
    let text = if applied.is_empty() {
        format!(
            "nothing to apply: the database is up to date ({} migrations, {})\n",
            after.len(),
            store.backend()
        )
    } else {
        let mut text = format!(
            "applied {} migration{} ({}):\n",
            applied.len(),
            if applied.len() == 1 { "" } else { "s" },
            store.backend()
        );
        for m in &applied {
            text.push_str(&format!("  {} {}\n", m.version, m.description));
        }
        text
    };
    output::emit(&text)
}

fn status_table(migrations: &[MigrationStatus]) -> String {
    let mut table = Table::new(&["VERSION", "DESCRIPTION", "STATE", "APPLIED ON"]);
    for m in migrations {
        table.row(vec![
            m.version.to_string(),
            m.description.clone(),
            m.state.as_str().to_owned(),
            m.applied_on
                .map(|at| format!("{} UTC", output::time(at)))
                .unwrap_or_else(|| "-".into()),
        ]);
    }
    let pending = migrations
        .iter()
        .filter(|m| m.state == MigrationState::Pending)
        .count();
    let mut text = table.render();
    text.push_str(&match pending {
        0 => "the database is up to date\n".to_owned(),
        n => format!("{n} pending: `kurz migrate` applies them\n"),
    });
    text
}
