//! What every command prints: aligned tables and key/value details for people, one JSON
//! document with `--json`, confirmations on a terminal, and progress on stderr.
//!
//! Tables are plain aligned columns (like `docker ps`), written here rather than with a table
//! crate: no box drawing to strip, easy to `grep`/`awk`, and no terminal library pulled into
//! the server binary for it.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::UsageError;

/// Rows of text under a header, printed with aligned columns.
pub(crate) struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
    max_widths: Vec<Option<usize>>,
}

impl Table {
    pub fn new(headers: &[&'static str]) -> Self {
        Self {
            headers: headers.to_vec(),
            rows: Vec::new(),
            max_widths: vec![None; headers.len()],
        }
    }

    /// Cuts the cells of column `index` to `width` characters (ending in `…`).
    pub fn max_width(mut self, index: usize, width: usize) -> Self {
        self.max_widths[index] = Some(width.max(2));
        self
    }

    pub fn row(&mut self, cells: Vec<String>) {
        let cells = cells
            .into_iter()
            .zip(&self.max_widths)
            .map(|(cell, max)| match max {
                Some(max) if cell.chars().count() > *max => {
                    let mut cut: String = cell.chars().take(max - 1).collect();
                    cut.push('…');
                    cut
                }
                _ => cell,
            })
            .collect();
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let width = |cell: &str| cell.chars().count();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| width(h)).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(width(cell));
            }
        }
        let mut out = String::new();
        let header: Vec<String> = self.headers.iter().map(|h| h.to_string()).collect();
        for row in std::iter::once(&header).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                line.push_str(cell);
                if i + 1 < row.len() {
                    line.push_str(&" ".repeat(widths[i] - width(cell)));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// `key  value` lines with the values aligned.
pub(crate) fn details(rows: &[(&str, String)]) -> String {
    let width = rows
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    // A value of several lines continues under its first line.
    let indent = format!("\n{:width$}  ", "");
    rows.iter()
        .map(|(key, value)| format!("{key:<width$}  {}\n", value.replace('\n', &indent)))
        .collect()
}

/// Writes text to stdout.
pub(crate) fn emit(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

/// Writes one JSON document to stdout.
pub(crate) fn json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    emit(&text)
}

/// A time as tables show it.
pub(crate) fn time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Asks `question` on the terminal unless `yes`. Without a terminal on stdin there is nobody
/// to ask, so the command refuses (exit code 2) and asks for `--yes`.
pub(crate) fn confirm(question: &str, yes: bool) -> anyhow::Result<()> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(UsageError(
            "stdin is not a terminal, so nobody can confirm: pass --yes to go ahead".into(),
        )
        .into());
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => anyhow::bail!("aborted: nothing was changed"),
    }
}

/// Progress on stderr: a bar (or spinner) when stderr is a terminal, otherwise a plain line
/// every `PLAIN_EVERY` rows, so that logs of a long run show it is alive.
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    label: &'static str,
    next_plain: u64,
    next_message: u64,
}

const PLAIN_EVERY: u64 = 100_000;

impl Progress {
    /// Progress through `total` bytes (a file), or a spinner when the size is unknown.
    pub fn new(label: &'static str, total_bytes: Option<u64>) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = match total_bytes {
                Some(total) => ProgressBar::new(total).with_style(
                    ProgressStyle::with_template(
                        "{prefix} [{bar:30}] {bytes}/{total_bytes} ({eta}) {msg}",
                    )
                    .expect("a valid template")
                    .progress_chars("=> "),
                ),
                None => ProgressBar::new_spinner().with_style(
                    ProgressStyle::with_template("{prefix} {spinner} {msg}")
                        .expect("a valid template"),
                ),
            };
            bar.set_prefix(label);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Self {
            bar,
            label,
            next_plain: PLAIN_EVERY,
            next_message: 0,
        }
    }

    /// Progress through `total` items when known (a bar), or a spinner.
    pub fn counting(label: &'static str, total: Option<u64>) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{prefix} {spinner} {msg}").expect("a valid template"),
            );
            bar.set_prefix(label);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        let mut progress = Self {
            bar,
            label,
            next_plain: PLAIN_EVERY,
            next_message: 0,
        };
        if let Some(total) = total {
            progress.set_total(total);
        }
        progress
    }

    /// Turns a spinner into a bar through `total` items (`{pos}/{len}`, the rate, the time
    /// left).
    pub fn set_total(&mut self, total: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix} [{bar:30}] {pos}/{len} ({per_sec}, {eta}) {msg}",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
        }
    }

    /// `items` handled so far, counted by the bar itself.
    pub fn update_count(&mut self, items: u64, summary: impl FnOnce() -> String) {
        self.update(items, items, summary);
    }

    /// `rows` handled so far, `bytes` read so far; `summary` says what happened to them.
    pub fn update(&mut self, rows: u64, bytes: u64, summary: impl FnOnce() -> String) {
        match &self.bar {
            Some(bar) => {
                bar.set_position(bytes);
                if rows >= self.next_message {
                    bar.set_message(summary());
                    self.next_message = rows + 1_000;
                }
            }
            None if rows >= self.next_plain => {
                eprintln!("{}: {}", self.label, summary());
                self.next_plain = rows - rows % PLAIN_EVERY + PLAIN_EVERY;
            }
            None => {}
        }
    }

    /// Prints a line to stderr without breaking the bar.
    pub fn report(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_and_cut_columns() {
        let mut table = Table::new(&["SLUG", "URL"]).max_width(1, 10);
        table.row(vec!["a".into(), "https://example.com/long".into()]);
        table.row(vec!["longer".into(), "x".into()]);
        assert_eq!(
            table.render(),
            "SLUG    URL\na       https://e…\nlonger  x\n"
        );
    }

    #[test]
    fn details_align_values() {
        assert_eq!(
            details(&[("a", "1".into()), ("long", "2".into())]),
            "a     1\nlong  2\n"
        );
        assert_eq!(
            details(&[("a", "1\n2".into()), ("bb", "3".into())]),
            "a   1\n    2\nbb  3\n"
        );
    }
}
