//! The payloads of `NOTIFY`: small JSON objects, under PostgreSQL's 8000-byte limit.
//!
//! `{"i":"<instance>","v":[[first,last],...]}` announces stored visits, their ids coalesced
//! into ranges (a batch's ids are mostly consecutive); `{"i":"<instance>","e":["slug",...]}`
//! evicts slugs from the redirect caches. A note too long is split in two, recursively.

use serde::{Deserialize, Serialize};

/// Longest payload sent; PostgreSQL refuses 8000 bytes and more.
pub const MAX_PAYLOAD_BYTES: usize = 7900;
/// Most ids one received note may expand to; a larger note is cut (live viewers only).
pub const MAX_IDS_PER_NOTE: u64 = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// The sending instance.
    pub i: String,
    /// Ranges of stored visit ids, inclusive.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub v: Vec<(i64, i64)>,
    /// Slugs to evict.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub e: Vec<String>,
}

impl Note {
    /// The ids of the visit ranges, bounded by [`MAX_IDS_PER_NOTE`].
    pub fn visit_ids(&self) -> Vec<i64> {
        let mut ids = Vec::new();
        for &(first, last) in &self.v {
            let room = MAX_IDS_PER_NOTE.saturating_sub(ids.len() as u64);
            let span = (i128::from(last) - i128::from(first) + 1).max(0);
            let take = span.min(i128::from(room)) as i64;
            ids.extend((0..take).map_while(|k| first.checked_add(k)));
        }
        ids
    }
}

/// Sorted, deduplicated ids as inclusive ranges.
pub fn ranges(mut ids: Vec<i64>) -> Vec<(i64, i64)> {
    ids.sort_unstable();
    ids.dedup();
    let mut ranges: Vec<(i64, i64)> = Vec::new();
    for id in ids {
        match ranges.last_mut() {
            Some((_, last)) if *last + 1 == id => *last = id,
            _ => ranges.push((id, id)),
        }
    }
    ranges
}

/// The payloads for one note, each under [`MAX_PAYLOAD_BYTES`].
pub fn payloads(note: Note) -> Vec<String> {
    let Ok(json) = serde_json::to_string(&note) else {
        return Vec::new();
    };
    if json.len() <= MAX_PAYLOAD_BYTES {
        return vec![json];
    }
    let (mut left, mut right) = (note.clone(), note);
    if left.v.len() + left.e.len() <= 1 {
        tracing::warn!(bytes = json.len(), "a cluster note is too long to send");
        return Vec::new();
    }
    if left.v.len() > 1 {
        right.v = left.v.split_off(left.v.len() / 2);
        right.e.clear();
    } else if left.v.len() == 1 {
        left.e.clear();
        right.v.clear();
    } else {
        right.e = left.e.split_off(left.e.len() / 2);
    }
    let mut all = payloads(left);
    all.extend(payloads(right));
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_coalesce_into_ranges_and_back() {
        let ids = vec![7, 3, 4, 5, 10, 9, 5, 12];
        let ranges = ranges(ids);
        assert_eq!(ranges, vec![(3, 5), (7, 7), (9, 10), (12, 12)]);
        let note = Note {
            i: "a".into(),
            v: ranges,
            e: vec![],
        };
        assert_eq!(note.visit_ids(), vec![3, 4, 5, 7, 9, 10, 12]);
    }

    #[test]
    fn long_notes_are_split_under_the_limit() {
        // Every other id: no range merges, so the note is long.
        let ids: Vec<i64> = (0..5_000).map(|i| 1_000_000_000 + i * 2).collect();
        let note = Note {
            i: "instance".into(),
            v: ranges(ids.clone()),
            e: (0..100)
                .map(|i| format!("slug-{i}-{}", "x".repeat(200)))
                .collect(),
        };
        let sent = payloads(note);
        assert!(sent.len() > 1);
        let mut received_ids = Vec::new();
        let mut slugs = 0;
        for payload in &sent {
            assert!(payload.len() <= MAX_PAYLOAD_BYTES, "{}", payload.len());
            let note: Note = serde_json::from_str(payload).unwrap();
            received_ids.extend(note.visit_ids());
            slugs += note.e.len();
        }
        assert_eq!(received_ids, ids);
        assert_eq!(slugs, 100);
    }

    #[test]
    fn hostile_ranges_stay_bounded() {
        let note = Note {
            i: "x".into(),
            v: vec![(0, i64::MAX), (5, 1)],
            e: vec![],
        };
        assert_eq!(note.visit_ids().len() as u64, MAX_IDS_PER_NOTE);
    }
}
