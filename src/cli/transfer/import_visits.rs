//! The history of imported links, written while the source is still being read: batches go
//! through bounded channels to writer tasks that write them through the visits service
//! (`Visits::import`, `Visits::import_counts`: the live tallies, no webhooks), so reading the
//! next batch overlaps writing the last. On PostgreSQL there is a writer per core, each
//! taking the links whose id falls to it (`url_id % writers`): a link's batches are written
//! in order by one writer, so its mark only ever moves forward over committed clicks, and the
//! writers' rows never overlap. Under `--dry-run` batches are counted and dropped.

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::app::Visits;
use crate::cli::output::Progress;
use crate::store::{ImportMark, NewOrphanVisit, NewVisit, RollupCount};

/// Batches read ahead of the writer.
const AHEAD: usize = 4;

enum Batch {
    Visits(Vec<NewVisit>, Vec<ImportMark>),
    Counts(Vec<RollupCount>, Vec<ImportMark>),
    /// Orphan visits and how far they bring the source's orphan mark: always the first
    /// writer's, so they are written in order.
    Orphans(Vec<NewOrphanVisit>, String),
}

/// What the writers added: visits, counted clicks, orphan visits.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Written {
    pub visits: u64,
    pub counted: u64,
    pub orphans: u64,
}

impl std::ops::AddAssign for Written {
    fn add_assign(&mut self, other: Self) {
        self.visits += other.visits;
        self.counted += other.counted;
        self.orphans += other.orphans;
    }
}

pub(super) struct History {
    /// One per writer; empty under `--dry-run`.
    senders: Vec<mpsc::Sender<Batch>>,
    writers: Vec<JoinHandle<anyhow::Result<Written>>>,
    dry_run: bool,
    /// Read so far (written or, under `--dry-run`, counted).
    read: Written,
    progress: Progress,
    /// The service, for the source's orphan mark.
    service: Visits,
    source: String,
}

impl History {
    pub fn new(service: Visits, source: &str, dry_run: bool) -> Self {
        let progress = Progress::counting("visits", None);
        let mut history = Self {
            senders: Vec::new(),
            writers: Vec::new(),
            dry_run,
            read: Written::default(),
            progress,
            service: service.clone(),
            source: source.to_owned(),
        };
        if dry_run {
            return history;
        }
        for _ in 0..service.import_writers() {
            let (sender, mut batches) = mpsc::channel::<Batch>(AHEAD);
            let source = source.to_owned();
            let service = service.clone();
            history.writers.push(tokio::spawn(async move {
                let mut written = Written::default();
                while let Some(batch) = batches.recv().await {
                    match batch {
                        Batch::Visits(rows, marks) => {
                            written.visits += service.import(&source, &rows, &marks).await?;
                        }
                        Batch::Counts(counts, marks) => {
                            written.counted +=
                                service.import_counts(&source, &counts, &marks).await?;
                        }
                        Batch::Orphans(rows, through) => {
                            written.orphans +=
                                service.import_orphans(&source, &rows, &through).await?;
                        }
                    }
                }
                Ok(written)
            }));
            history.senders.push(sender);
        }
        history
    }

    /// The source can tell how many visits it will send.
    pub fn expect(&mut self, total: u64) {
        self.progress.set_total(total);
    }

    /// Prints a line without breaking the progress bar.
    pub fn report(&self, line: &str) {
        self.progress.report(line);
    }

    /// Visit rows, and the marks they move (written in their transaction).
    pub async fn visits(
        &mut self,
        rows: Vec<NewVisit>,
        marks: Vec<ImportMark>,
    ) -> anyhow::Result<()> {
        self.read.visits += rows.len() as u64;
        self.send(Batch::Visits(rows, marks)).await
    }

    /// Clicks known only as counts, and the marks they move.
    pub async fn counts(
        &mut self,
        counts: Vec<RollupCount>,
        marks: Vec<ImportMark>,
    ) -> anyhow::Result<()> {
        self.read.counted += counts.iter().map(|c| c.visits.max(0) as u64).sum::<u64>();
        self.send(Batch::Counts(counts, marks)).await
    }

    /// How far the source's orphan visits are imported (`None`: not yet).
    pub async fn orphan_mark(&self) -> anyhow::Result<Option<String>> {
        Ok(self.service.import_orphan_mark(&self.source).await?)
    }

    /// Orphan visits, and where they bring the source's orphan mark.
    pub async fn orphans(
        &mut self,
        rows: Vec<NewOrphanVisit>,
        through: String,
    ) -> anyhow::Result<()> {
        self.read.orphans += rows.len() as u64;
        self.send(Batch::Orphans(rows, through)).await
    }

    async fn send(&mut self, batch: Batch) -> anyhow::Result<()> {
        let Written {
            visits,
            counted,
            orphans,
        } = self.read;
        self.progress.update_count(visits + orphans, || {
            format!("{visits} visits, {counted} clicks counted, {orphans} orphan visits")
        });
        let writers = self.senders.len();
        if writers == 0 {
            return Ok(());
        }
        let part = |url_id: i64| url_id.rem_euclid(writers as i64) as usize;
        let mut parts: Vec<Batch> = match batch {
            Batch::Visits(rows, marks) => {
                let mut parts: Vec<(Vec<NewVisit>, Vec<ImportMark>)> =
                    (0..writers).map(|_| (Vec::new(), Vec::new())).collect();
                for row in rows {
                    parts[part(row.url_id)].0.push(row);
                }
                for mark in marks {
                    parts[part(mark.url_id)].1.push(mark);
                }
                parts
                    .into_iter()
                    .map(|(rows, marks)| Batch::Visits(rows, marks))
                    .collect()
            }
            Batch::Counts(counts, marks) => {
                let mut parts: Vec<(Vec<RollupCount>, Vec<ImportMark>)> =
                    (0..writers).map(|_| (Vec::new(), Vec::new())).collect();
                for count in counts {
                    parts[part(count.url_id)].0.push(count);
                }
                for mark in marks {
                    parts[part(mark.url_id)].1.push(mark);
                }
                parts
                    .into_iter()
                    .map(|(counts, marks)| Batch::Counts(counts, marks))
                    .collect()
            }
            orphans @ Batch::Orphans(..) => vec![orphans],
        };
        for (writer, batch) in parts.drain(..).enumerate() {
            let empty = match &batch {
                Batch::Visits(rows, marks) => rows.is_empty() && marks.is_empty(),
                Batch::Counts(counts, marks) => counts.is_empty() && marks.is_empty(),
                Batch::Orphans(..) => false,
            };
            if !empty && self.senders[writer].send(batch).await.is_err() {
                // A writer stopped on an error: `stop` reports it.
                return self.stop().await.map(|_| ());
            }
        }
        Ok(())
    }

    async fn stop(&mut self) -> anyhow::Result<Written> {
        self.senders.clear();
        let mut written = Written::default();
        let mut failed = None;
        for writer in self.writers.drain(..) {
            match writer.await? {
                Ok(part) => written += part,
                Err(error) => failed = failed.or(Some(error)),
            }
        }
        match failed {
            Some(error) => Err(error),
            // Nothing written: what was read.
            None if self.dry_run => Ok(self.read),
            None => Ok(written),
        }
    }

    /// Waits for the last batches; what they added.
    pub async fn finish(mut self) -> anyhow::Result<Written> {
        let done = self.stop().await;
        self.progress.finish();
        done
    }
}
