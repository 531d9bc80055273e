//! `kurz import --from yourls|kutt|bitly`: the steps every source shares. A source lists its
//! links; each is checked by the links service, its slug looked up, and a conflict handled by
//! `--on-conflict`; the links are created in batches with their import marks; then the source
//! adds the history of every link it has in kurz (created now or by an earlier run) after its
//! mark, through `import_visits.rs`. `--dry-run` does all of it without writing.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

use async_trait::async_trait;
use serde::Serialize;

use super::import_visits::History;
use super::{ImportArgs, OnConflict};
use crate::app::{LinkInput, PreparedLink};
use crate::cli::output::{self, Progress};
use crate::cli::{Context, UsageError};
use crate::store::ImportMark;

/// Links created per transaction.
const LINK_BATCH: usize = 1_000;
/// Links listed per kind in the `--json` summary.
const LISTED: usize = 1_000;

/// A link as the source has it, ready for the links service.
pub(super) struct SourceLink {
    /// Its key in the source, kept in its import mark.
    pub key: String,
    pub input: LinkInput,
    /// The source protects it with a password kurz cannot carry over (another hash).
    pub password_dropped: bool,
    /// Of the source's redirect rules, those left out (a condition kurz cannot evaluate).
    pub rules_dropped: u64,
}

/// What a source lists: its links, and those it leaves out with the reason.
#[derive(Default)]
pub(super) struct SourceLinks {
    pub links: Vec<SourceLink>,
    pub left_out: Vec<Listed>,
}

/// A link that kurz has for a source key (imported now or before): where its history goes.
#[derive(Debug, Clone)]
pub(super) struct Target {
    pub url_id: i64,
    /// How far its history is imported (see `ImportMark::visits_through`).
    pub through: Option<String>,
}

/// Every source key kurz has a link for.
pub(super) type Targets = BTreeMap<String, Target>;

/// The mark that says a link's history is imported through `through`.
pub(super) fn mark(key: &str, target: &Target, through: String) -> ImportMark {
    ImportMark {
        source_id: key.to_owned(),
        url_id: target.url_id,
        visits_through: Some(through),
    }
}

#[async_trait]
pub(super) trait Source: Send {
    /// The marks' `source`: which system, and which one of it.
    fn name(&self) -> &str;
    async fn links(&mut self) -> anyhow::Result<SourceLinks>;
    /// Adds the history of `targets` after their marks.
    async fn history(&mut self, targets: &Targets, history: &mut History) -> anyhow::Result<()>;
}

#[derive(Debug, Clone, Serialize)]
pub(super) struct Listed {
    /// The link's key in the source.
    pub key: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
struct Renamed {
    key: String,
    slug: String,
}

#[derive(Debug, Default, Serialize)]
struct Summary {
    source: String,
    dry_run: bool,
    on_conflict: OnConflict,
    /// Links the source has (left out ones included).
    links: u64,
    created: u64,
    /// Of those created, under another slug than the source's (`--on-conflict rename`).
    renamed: u64,
    /// Created by an earlier run of this import: left as they are, their new clicks added.
    already_imported: u64,
    /// The slug is another link's (`--on-conflict skip`).
    skipped: u64,
    /// Links the slug rules or the target rules refuse.
    invalid: u64,
    /// Links the source marks as not to import (banned, archived, on another domain).
    left_out: u64,
    /// Imported without their password (the source's hash cannot be checked by kurz).
    passwords_dropped: u64,
    /// Visit rows added.
    visits: u64,
    /// Clicks added as counts only (rollups, no visit rows).
    counted_clicks: u64,
    /// Visits that reached no link (the source keeps them: Shlink).
    orphan_visits: u64,
    /// Redirect rules left out: kurz cannot evaluate one of their conditions.
    rules_dropped: u64,
    seconds: f64,
    renamed_links: Vec<Renamed>,
    skipped_links: Vec<Listed>,
    invalid_links: Vec<Listed>,
    left_out_links: Vec<Listed>,
}

fn list<T>(into: &mut Vec<T>, item: T) {
    if into.len() < LISTED {
        into.push(item);
    }
}

/// A link planned for creation.
struct Planned {
    key: String,
    link: PreparedLink,
}

pub(super) async fn run(
    ctx: &Context,
    args: &ImportArgs,
    mut source: Box<dyn Source>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let links = ctx.links().await?;
    let name = source.name().to_owned();
    let store = ctx.store().await?;
    let mut summary = Summary {
        source: name.clone(),
        dry_run: args.dry_run,
        on_conflict: args.on_conflict,
        ..Summary::default()
    };
    let mut progress = Progress::counting("links", None);
    let listed = source.links().await?;
    summary.links = (listed.links.len() + listed.left_out.len()) as u64;
    summary.left_out = listed.left_out.len() as u64;
    for item in listed.left_out {
        progress.report(&format!("{}: left out: {}", item.key, item.reason));
        list(&mut summary.left_out_links, item);
    }
    let mut targets: Targets = store
        .import_marks(&name)
        .await?
        .into_iter()
        .map(|mark| {
            let target = Target {
                url_id: mark.url_id,
                through: mark.visits_through,
            };
            (mark.source_id, target)
        })
        .collect();

    // The plan: every link checked and its slug settled before anything is written.
    let mut planned: Vec<Planned> = Vec::new();
    let mut slugs: HashSet<String> = HashSet::new();
    let mut conflicts: Vec<Listed> = Vec::new();
    let mut dropped: HashSet<String> = HashSet::new();
    let mut rules_dropped: HashMap<String, u64> = HashMap::new();
    for (n, source_link) in listed.links.into_iter().enumerate() {
        progress.update_count(n as u64 + 1, || format!("{} links checked", n + 1));
        let key = source_link.key;
        if targets.contains_key(&key) {
            summary.already_imported += 1;
            continue;
        }
        let mut link = match links.prepare(&source_link.input) {
            Ok(link) => link,
            // A slug kurz's rules refuse gets a generated one when renaming is allowed.
            Err(error)
                if error.field == "slug"
                    && args.on_conflict == OnConflict::Rename
                    && source_link.input.slug.is_some() =>
            {
                let input = LinkInput {
                    slug: None,
                    ..source_link.input.clone()
                };
                match links.prepare(&input) {
                    Ok(link) => {
                        summary.renamed += 1;
                        list(
                            &mut summary.renamed_links,
                            Renamed {
                                key: key.clone(),
                                slug: link.url.slug.to_string(),
                            },
                        );
                        link
                    }
                    Err(error) => {
                        invalid(&mut summary, &progress, key, error.to_string());
                        continue;
                    }
                }
            }
            Err(error) => {
                invalid(&mut summary, &progress, key, error.to_string());
                continue;
            }
        };
        let taken = slugs.contains(link.url.slug.as_str())
            || (!link.generated && links.slug_taken(&link.url.slug).await?);
        if taken {
            let reason = format!("the slug `{}` is another link's", link.url.slug);
            match args.on_conflict {
                OnConflict::Skip => {
                    summary.skipped += 1;
                    progress.report(&format!("{key}: skipped: {reason}"));
                    list(&mut summary.skipped_links, Listed { key, reason });
                    continue;
                }
                OnConflict::Fail => {
                    conflicts.push(Listed { key, reason });
                    continue;
                }
                OnConflict::Rename => {
                    let slug = links.free_variant(&link.url.slug, &slugs).await?;
                    summary.renamed += 1;
                    list(
                        &mut summary.renamed_links,
                        Renamed {
                            key: key.clone(),
                            slug: slug.to_string(),
                        },
                    );
                    link.url.slug = slug;
                }
            }
        }
        if source_link.password_dropped {
            dropped.insert(key.clone());
        }
        rules_dropped.insert(key.clone(), source_link.rules_dropped);
        slugs.insert(link.url.slug.to_string());
        planned.push(Planned { key, link });
    }
    progress.finish();
    if !conflicts.is_empty() {
        for conflict in conflicts.iter().take(20) {
            eprintln!("{}: {}", conflict.key, conflict.reason);
        }
        return Err(UsageError(format!(
            "{} of the source's slugs are other links' (listed above, at most 20) and \
             --on-conflict is fail: nothing was imported{}",
            conflicts.len(),
            if args.dry_run { " (dry run)" } else { "" }
        ))
        .into());
    }

    // The links, with their marks.
    if args.dry_run {
        for (n, plan) in planned.iter().enumerate() {
            // Placeholders: nothing is written, history is only read and counted.
            let target = Target {
                url_id: -(n as i64) - 1,
                through: None,
            };
            targets.insert(plan.key.clone(), target);
        }
        summary.created = planned.len() as u64;
        summary.passwords_dropped = dropped.len() as u64;
        summary.rules_dropped = rules_dropped.values().sum();
    } else {
        for batch in planned.chunks(LINK_BATCH) {
            let prepared: Vec<PreparedLink> = batch.iter().map(|p| p.link.clone()).collect();
            let keys: Vec<String> = batch.iter().map(|p| p.key.clone()).collect();
            let created = links.import_marked(&name, &prepared, &keys).await?;
            let ids: HashMap<&str, i64> = created
                .iter()
                .map(|(id, slug)| (slug.as_str(), *id))
                .collect();
            for plan in batch {
                match ids.get(plan.link.url.slug.as_str()) {
                    Some(id) => {
                        summary.created += 1;
                        summary.passwords_dropped += u64::from(dropped.contains(&plan.key));
                        summary.rules_dropped += rules_dropped.get(&plan.key).copied().unwrap_or(0);
                        let target = Target {
                            url_id: *id,
                            through: None,
                        };
                        targets.insert(plan.key.clone(), target);
                    }
                    // Taken since it was looked up.
                    None => {
                        summary.skipped += 1;
                        let reason = format!("the slug `{}` is another link's", plan.link.url.slug);
                        list(
                            &mut summary.skipped_links,
                            Listed {
                                key: plan.key.clone(),
                                reason,
                            },
                        );
                    }
                }
            }
        }
    }

    if !args.no_visits && !targets.is_empty() {
        let mut history = History::new(ctx.visits().await?, &name, args.dry_run);
        source.history(&targets, &mut history).await?;
        let written = history.finish().await?;
        summary.visits = written.visits;
        summary.counted_clicks = written.counted;
        summary.orphan_visits = written.orphans;
    }
    summary.seconds = started.elapsed().as_secs_f64();
    if ctx.json {
        return output::json(&summary);
    }
    let s = &summary;
    output::emit(&format!(
        "{}{name}: {} links read: {} created ({} renamed), {} already imported, {} skipped (slug \
         taken), {} invalid, {} left out; {} visits and {} clicks counted without visit rows; \
         {} orphan visits; {:.1} s\n",
        if s.dry_run {
            "dry run, nothing written: "
        } else {
            "imported "
        },
        s.links,
        s.created,
        s.renamed,
        s.already_imported,
        s.skipped,
        s.invalid,
        s.left_out,
        s.visits,
        s.counted_clicks,
        s.orphan_visits,
        s.seconds
    ))?;
    if s.rules_dropped > 0 {
        eprintln!(
            "note: {} redirect rules were left out: kurz cannot evaluate one of their \
             conditions (each is listed above)",
            s.rules_dropped
        );
    }
    if s.passwords_dropped > 0 {
        eprintln!(
            "note: {} links had a password in the source that kurz cannot check (another \
             hash); they were imported without one",
            s.passwords_dropped
        );
    }
    for renamed in &s.renamed_links {
        eprintln!("renamed: {} -> {}", renamed.key, renamed.slug);
    }
    Ok(())
}

fn invalid(summary: &mut Summary, progress: &Progress, key: String, reason: String) {
    progress.report(&format!("{key}: invalid: {reason}"));
    summary.invalid += 1;
    list(&mut summary.invalid_links, Listed { key, reason });
}
