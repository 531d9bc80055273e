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
use crate::store::{ImportMark, NewVisit, RollupCount};

/// Batches read ahead of the writer.
const AHEAD: usize = 4;

enum Batch {
    Visits(Vec<NewVisit>, Vec<ImportMark>),
    Counts(Vec<RollupCount>, Vec<ImportMark>),
}

pub(super) struct History {
    /// One per writer; empty under `--dry-run`.
    senders: Vec<mpsc::Sender<Batch>>,
    writers: Vec<JoinHandle<anyhow::Result<(u64, u64)>>>,
    dry_run: bool,
    /// Read so far (written or, under `--dry-run`, counted).
    visits: u64,
    counted: u64,
    progress: Progress,
}

impl History {
    pub fn new(service: Visits, source: &str, dry_run: bool) -> Self {
        let progress = Progress::counting("visits", None);
        let mut history = Self {
            senders: Vec::new(),
            writers: Vec::new(),
            dry_run,
            visits: 0,
            counted: 0,
            progress,
        };
        if dry_run {
            return history;
        }
        for _ in 0..service.import_writers() {
            let (sender, mut batches) = mpsc::channel::<Batch>(AHEAD);
            let source = source.to_owned();
            let service = service.clone();
            history.writers.push(tokio::spawn(async move {
                let (mut visits, mut counted) = (0, 0);
                while let Some(batch) = batches.recv().await {
                    match batch {
                        Batch::Visits(rows, marks) => {
                            visits += service.import(&source, &rows, &marks).await?;
                        }
                        Batch::Counts(counts, marks) => {
                            counted += service.import_counts(&source, &counts, &marks).await?;
                        }
                    }
                }
                Ok((visits, counted))
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
        self.visits += rows.len() as u64;
        self.send(Batch::Visits(rows, marks)).await
    }

    /// Clicks known only as counts, and the marks they move.
    pub async fn counts(
        &mut self,
        counts: Vec<RollupCount>,
        marks: Vec<ImportMark>,
    ) -> anyhow::Result<()> {
        self.counted += counts.iter().map(|c| c.visits.max(0) as u64).sum::<u64>();
        self.send(Batch::Counts(counts, marks)).await
    }

    async fn send(&mut self, batch: Batch) -> anyhow::Result<()> {
        let (visits, counted) = (self.visits, self.counted);
        self.progress.update_count(visits, || {
            format!("{visits} visits, {counted} clicks counted")
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
        };
        for (writer, batch) in parts.drain(..).enumerate() {
            let empty = match &batch {
                Batch::Visits(rows, marks) => rows.is_empty() && marks.is_empty(),
                Batch::Counts(counts, marks) => counts.is_empty() && marks.is_empty(),
            };
            if !empty && self.senders[writer].send(batch).await.is_err() {
                // A writer stopped on an error: `stop` reports it.
                return self.stop().await.map(|_| ());
            }
        }
        Ok(())
    }

    async fn stop(&mut self) -> anyhow::Result<(u64, u64)> {
        self.senders.clear();
        let (mut visits, mut counted) = (0, 0);
        let mut failed = None;
        for writer in self.writers.drain(..) {
            match writer.await? {
                Ok((v, c)) => {
                    visits += v;
                    counted += c;
                }
                Err(error) => failed = failed.or(Some(error)),
            }
        }
        match failed {
            Some(error) => Err(error),
            // Nothing written: what was read.
            None if self.dry_run => Ok((self.visits, self.counted)),
            None => Ok((visits, counted)),
        }
    }

    /// Waits for the last batches; the visits and counted clicks added.
    pub async fn finish(mut self) -> anyhow::Result<(u64, u64)> {
        let done = self.stop().await;
        self.progress.finish();
        done
    }
}
