//! Where a link's history stands while it is read oldest first, and the import mark that
//! says so: `time#n`, every visit before `time` and the first `n` at `time` imported.

use chrono::{DateTime, Utc};

use super::answers::time;

/// How far a mark says history is imported: every visit before `at`, and the first `n` at
/// `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Through {
    at: DateTime<Utc>,
    n: u64,
}

impl Through {
    fn parse(mark: &str) -> Option<Self> {
        let (at, n) = mark.split_once('#')?;
        Some(Self {
            at: time(at)?,
            n: n.parse().ok()?,
        })
    }

    fn write(self) -> String {
        format!(
            "{}#{}",
            self.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            self.n
        )
    }
}

/// Where a link's (or the orphans') history stands while it is read, oldest first.
#[derive(Debug, Clone)]
pub(super) struct Cursor {
    /// The mark the run began from.
    from: Option<Through>,
    /// Of the visits at `from.at`, how many were passed over as imported.
    passed: u64,
    /// The last visit imported (or the mark, before any is).
    at: Option<Through>,
    /// The window's end: visits from then on come with the next run.
    end: DateTime<Utc>,
}

impl Cursor {
    pub(super) fn new(mark: Option<&str>, end: DateTime<Utc>) -> Self {
        let from = mark.and_then(Through::parse);
        Self {
            from,
            passed: 0,
            at: from,
            end,
        }
    }

    /// Nothing can be new: the window ends before the mark.
    pub(super) fn closed(&self) -> bool {
        self.from.is_some_and(|from| from.at >= self.end)
    }

    /// The query that asks for the window.
    pub(super) fn window(&self) -> Vec<(&'static str, String)> {
        let atom = |at: DateTime<Utc>| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut query = vec![("endDate", atom(self.end))];
        if let Some(from) = self.from {
            query.push(("startDate", atom(from.at)));
        }
        query
    }

    /// Whether a visit made at `at` (read oldest first) is to be imported; moves past it.
    pub(super) fn admit(&mut self, at: DateTime<Utc>) -> bool {
        if at >= self.end {
            return false;
        }
        if let Some(from) = self.from {
            if at < from.at {
                return false;
            }
            if at == from.at && self.passed < from.n {
                self.passed += 1;
                return false;
            }
        }
        match &mut self.at {
            Some(last) if last.at == at => last.n += 1,
            last => *last = Some(Through { at, n: 1 }),
        }
        true
    }

    /// The mark after the visits admitted so far.
    pub(super) fn partial(&self) -> Option<String> {
        self.at.map(Through::write)
    }

    /// The mark once the whole window is read.
    pub(super) fn done(&self) -> String {
        if self.closed() {
            return self.from.map(Through::write).unwrap_or_default();
        }
        Through { at: self.end, n: 0 }.write()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;

    fn at(second: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_790_000_000 + second, 0).unwrap()
    }

    /// One run over `visits` (times in seconds, oldest first) as the server lists them for
    /// the cursor's window (`startDate <= t <= endDate`); it stops after `stop` of them when
    /// given. The visits it imported, and the mark it leaves.
    fn run(
        visits: &[i64],
        mark: Option<&str>,
        end: i64,
        stop: Option<usize>,
    ) -> (Vec<i64>, String) {
        let mut cursor = Cursor::new(mark, at(end));
        let start = cursor.from.map(|f| f.at);
        let listed: Vec<i64> = visits
            .iter()
            .copied()
            .filter(|t| start.is_none_or(|s| at(*t) >= s) && at(*t) <= at(end))
            .collect();
        let mut imported = Vec::new();
        for (i, t) in listed.iter().enumerate() {
            if stop == Some(i) {
                let mark = cursor
                    .partial()
                    .or(mark.map(str::to_owned))
                    .unwrap_or_default();
                return (imported, mark);
            }
            if cursor.admit(at(*t)) {
                imported.push(*t);
            }
        }
        (imported, cursor.done())
    }

    #[test]
    fn marks_read_back() {
        let through = Through { at: at(5), n: 3 };
        assert_eq!(Through::parse(&through.write()), Some(through));
        assert_eq!(through.write(), "2026-09-21T14:13:25Z#3");
        assert_eq!(Through::parse("2026-09-21T14:13:25Z"), None);
        assert_eq!(Through::parse("soon#1"), None);
    }

    #[test]
    fn a_window_ends_before_its_end() {
        let (imported, mark) = run(&[1, 2, 2, 5, 9], None, 5, None);
        assert_eq!(imported, [1, 2, 2]);
        assert_eq!(Through::parse(&mark), Some(Through { at: at(5), n: 0 }));
        // The next run starts there: the visit at 5 comes now, none before it again.
        let (imported, _) = run(&[1, 2, 2, 5, 9], Some(&mark), 10, None);
        assert_eq!(imported, [5, 9]);
    }

    #[test]
    fn a_broken_run_resumes_within_a_second() {
        // Three visits at second 2; the run stops after the first two of them.
        let visits = [1, 2, 2, 2, 3];
        let (first, mark) = run(&visits, None, 10, Some(3));
        assert_eq!(first, [1, 2, 2]);
        assert_eq!(mark, Through { at: at(2), n: 2 }.write());
        let (second, _) = run(&visits, Some(&mark), 10, None);
        assert_eq!(second, [2, 3]);
    }

    #[test]
    fn a_window_before_the_mark_is_closed() {
        let mark = Through { at: at(9), n: 0 }.write();
        let cursor = Cursor::new(Some(&mark), at(9));
        assert!(cursor.closed());
        assert_eq!(cursor.done(), mark, "the mark stays where it is");
    }

    proptest! {
        /// However the runs' windows fall and wherever they break off, every visit is
        /// imported exactly once.
        #[test]
        fn every_visit_is_imported_once(
            mut visits in prop::collection::vec(0i64..40, 0..60),
            runs in prop::collection::vec((0i64..45, prop::option::of(0usize..30)), 0..8),
        ) {
            visits.sort_unstable();
            let mut mark: Option<String> = None;
            let mut imported = Vec::new();
            let mut end = 0;
            for (step, stop) in runs {
                end = end.max(step);
                let (more, next) = run(&visits, mark.as_deref(), end, stop);
                imported.extend(more);
                if !next.is_empty() {
                    mark = Some(next);
                }
            }
            let (rest, _) = run(&visits, mark.as_deref(), 50, None);
            imported.extend(rest);
            let count = |times: &[i64]| {
                let mut counts = BTreeMap::new();
                for t in times {
                    *counts.entry(*t).or_insert(0) += 1;
                }
                counts
            };
            prop_assert_eq!(count(&imported), count(&visits));
        }
    }
}
