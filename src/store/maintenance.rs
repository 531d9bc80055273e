//! What the management commands ask of the store beyond the service's own needs: the state of
//! the migrations, and pruning old visits. Shared by both backends.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::migrate::Migrator;

/// Where one migration stands in a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MigrationState {
    /// Applied successfully, with the same contents this binary carries.
    Applied,
    /// Known to this binary, not applied yet.
    Pending,
    /// Recorded as started but not successful (a failed migration outside a transaction).
    Failed,
    /// Applied, but this binary's file for it differs from what was applied.
    Modified,
    /// Applied, but unknown to this binary (the database was migrated by a newer kurz).
    Unknown,
}

impl MigrationState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Pending => "pending",
            Self::Failed => "failed",
            Self::Modified => "modified",
            Self::Unknown => "unknown",
        }
    }
}

/// One migration, as this binary and the database's `_sqlx_migrations` table know it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationStatus {
    pub version: i64,
    pub description: String,
    pub state: MigrationState,
    /// When it was applied; `None` while pending.
    pub applied_on: Option<DateTime<Utc>>,
}

/// What one call of [`Store::prune_visits`](super::Store::prune_visits) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PrunedVisits {
    /// Visits deleted by this batch.
    pub visits: u64,
    /// URLs whose `visit_count` was lowered.
    pub urls: u64,
    /// Statistics rollup rows deleted (only by the last batch).
    pub rollup_rows: u64,
    /// No visit before the cut is left: the rollups of those days are gone too.
    pub done: bool,
}

/// A row of `_sqlx_migrations`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AppliedMigration {
    pub version: i64,
    pub description: String,
    pub installed_on: DateTime<Utc>,
    pub success: bool,
    pub checksum: Vec<u8>,
}

/// The migrations of `migrator` and those recorded in the database, by version.
pub(crate) fn migration_status(
    migrator: &Migrator,
    applied: Vec<AppliedMigration>,
) -> Vec<MigrationStatus> {
    let mut applied: std::collections::BTreeMap<i64, AppliedMigration> =
        applied.into_iter().map(|row| (row.version, row)).collect();
    let mut status: Vec<MigrationStatus> = migrator
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|migration| {
            let row = applied.remove(&migration.version);
            let state = match &row {
                None => MigrationState::Pending,
                Some(row) if !row.success => MigrationState::Failed,
                Some(row) if row.checksum != *migration.checksum => MigrationState::Modified,
                Some(_) => MigrationState::Applied,
            };
            MigrationStatus {
                version: migration.version,
                description: migration.description.to_string(),
                state,
                applied_on: row.map(|r| r.installed_on),
            }
        })
        .collect();
    status.extend(applied.into_values().map(|row| MigrationStatus {
        version: row.version,
        description: row.description,
        state: MigrationState::Unknown,
        applied_on: Some(row.installed_on),
    }));
    status.sort_by_key(|m| m.version);
    status
}

/// Visits deleted per URL, as (visits, bot visits) of each `(url id, is bot)` row, in URL
/// order (the order the visit writer locks them in too).
pub(crate) fn count_per_url(
    deleted: &[(i64, bool)],
) -> std::collections::BTreeMap<i64, (i64, i64)> {
    let mut counts = std::collections::BTreeMap::new();
    for (id, is_bot) in deleted {
        let count: &mut (i64, i64) = counts.entry(*id).or_default();
        count.0 += 1;
        count.1 += i64::from(*is_bot);
    }
    counts
}
