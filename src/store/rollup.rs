//! Aggregates a batch of visits into the rows the statistics rollups need. Both backends write
//! the same rows; sorting them keeps concurrent writers locking in the same order.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::NewVisit;

/// The dimensions statistics break visits down by, as stored in `url_daily_dimensions`.
pub const DIMENSIONS: [&str; 4] = ["browser", "os", "device", "referrer_host"];

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tally {
    pub visits: i64,
    pub bot_visits: i64,
}

impl Tally {
    fn add(&mut self, is_bot: bool) {
        self.visits += 1;
        self.bot_visits += i64::from(is_bot);
    }
}

/// What one batch adds: per URL, per URL and day, and per URL, dimension, day and value.
#[derive(Debug, Default)]
pub(crate) struct Rollups {
    pub per_url: BTreeMap<i64, i64>,
    pub daily: BTreeMap<(i64, NaiveDate), Tally>,
    pub dimensions: BTreeMap<(i64, &'static str, NaiveDate, String), Tally>,
}

impl Rollups {
    pub fn of<'a>(visits: impl IntoIterator<Item = &'a NewVisit>) -> Self {
        let mut rollups = Self::default();
        for visit in visits {
            let day = visit.visited_at.date_naive();
            *rollups.per_url.entry(visit.url_id).or_default() += 1;
            rollups
                .daily
                .entry((visit.url_id, day))
                .or_default()
                .add(visit.is_bot);
            let values = [
                &visit.browser,
                &visit.os,
                &visit.device,
                &visit.referrer_host,
            ];
            for (dimension, value) in DIMENSIONS.into_iter().zip(values) {
                let value = value.clone().unwrap_or_default();
                rollups
                    .dimensions
                    .entry((visit.url_id, dimension, day, value))
                    .or_default()
                    .add(visit.is_bot);
            }
        }
        rollups
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn visit(url_id: i64, day: u32, browser: Option<&str>, is_bot: bool) -> NewVisit {
        NewVisit {
            url_id,
            visited_at: Utc.with_ymd_and_hms(2026, 11, day, 12, 0, 0).unwrap(),
            client_ip: None,
            user_agent: None,
            referrer: None,
            referrer_host: None,
            browser: browser.map(str::to_owned),
            os: None,
            device: None,
            is_bot,
        }
    }

    #[test]
    fn tallies_by_url_day_and_dimension() {
        let batch = [
            visit(1, 1, Some("Firefox"), false),
            visit(1, 1, Some("Firefox"), true),
            visit(1, 2, None, false),
            visit(2, 1, Some("Chrome"), false),
        ];
        let r = Rollups::of(&batch);
        assert_eq!(r.per_url.get(&1), Some(&3));
        let nov1 = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        assert_eq!(
            r.daily[&(1, nov1)],
            Tally {
                visits: 2,
                bot_visits: 1
            }
        );
        assert_eq!(
            r.dimensions[&(1, "browser", nov1, "Firefox".to_owned())].visits,
            2
        );
        let nov2 = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
        assert_eq!(r.dimensions[&(1, "browser", nov2, String::new())].visits, 1);
        // Four dimensions for each (url, day) seen.
        assert_eq!(r.dimensions.len(), 4 * 3);
    }
}
