//! The history of imported links, written while the source is still being read: batches go
//! through a bounded channel (4 batches) to a task that writes them through the visits service
//! (`Visits::import`, `Visits::import_counts`: the live tallies, no webhooks), so reading the
//! next batch overlaps writing the last. Under `--dry-run` batches are counted and dropped.

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
    sender: Option<mpsc::Sender<Batch>>,
    writer: Option<JoinHandle<anyhow::Result<(u64, u64)>>>,
    /// Read so far (written or, under `--dry-run`, counted).
    visits: u64,
    counted: u64,
    progress: Progress,
}

impl History {
    pub fn new(service: Visits, source: &str, dry_run: bool) -> Self {
        let progress = Progress::counting("visits", None);
        if dry_run {
            return Self {
                sender: None,
                writer: None,
                visits: 0,
                counted: 0,
                progress,
            };
        }
        let (sender, mut batches) = mpsc::channel::<Batch>(AHEAD);
        let source = source.to_owned();
        let writer = tokio::spawn(async move {
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
        });
        Self {
            sender: Some(sender),
            writer: Some(writer),
            visits: 0,
            counted: 0,
            progress,
        }
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
        let Some(sender) = &self.sender else {
            return Ok(());
        };
        if sender.send(batch).await.is_err() {
            // The writer stopped on an error: `finish` reports it.
            return self.stop().await.map(|_| ());
        }
        Ok(())
    }

    async fn stop(&mut self) -> anyhow::Result<(u64, u64)> {
        self.sender = None;
        match self.writer.take() {
            Some(writer) => writer.await?,
            None => Ok((self.visits, self.counted)),
        }
    }

    /// Waits for the last batches; the visits and counted clicks added.
    pub async fn finish(mut self) -> anyhow::Result<(u64, u64)> {
        let done = self.stop().await;
        self.progress.finish();
        done
    }
}
