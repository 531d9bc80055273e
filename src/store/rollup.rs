//! Aggregates a batch of visits into the rows the statistics rollup needs. Both backends write
//! the same rows; sorting them keeps concurrent writers locking in the same order.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::{NewVisit, RollupCount};

/// The key of a `url_daily_rollups` row: URL, day, browser, OS, device, referrer host
/// (`""` for unknown).
pub(crate) type RollupKey = (i64, NaiveDate, String, String, String, String);

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tally {
    pub visits: i64,
    pub bot_visits: i64,
}

/// What one batch adds to a URL's counters.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UrlTally {
    /// To `visit_count`: every visit.
    pub visits: i64,
    /// To `human_visits`: visits by people whose redirect did not take a unit of the link's
    /// cap already (see `NewVisit::cap_taken`).
    pub people: i64,
    /// To `bot_visits`.
    pub bots: i64,
}

/// The key of a `url_rule_rollups` row: URL, day, rule index.
pub(crate) type RuleKey = (i64, NaiveDate, i16);

/// The key of a `url_geo_rollups` row: URL, day, country, city (`""` for unknown; visits of
/// unknown country and city have no row).
pub(crate) type GeoKey = (i64, NaiveDate, String, String);

/// What one batch adds: visits per URL, per rollup row, per rule rollup row (visits a
/// redirect rule sent only), per geo rollup row, and per day over every link
/// (`daily_visit_totals`).
#[derive(Debug, Default)]
pub(crate) struct Rollups {
    /// Every visit of the batch (`visit_totals`).
    pub total: i64,
    pub per_url: BTreeMap<i64, UrlTally>,
    pub per_day: BTreeMap<NaiveDate, Tally>,
    pub rows: BTreeMap<RollupKey, Tally>,
    pub rules: BTreeMap<RuleKey, Tally>,
    pub places: BTreeMap<GeoKey, Tally>,
}

impl Rollups {
    pub fn of<'a>(visits: impl IntoIterator<Item = &'a NewVisit>) -> Self {
        let mut rollups = Self::default();
        for visit in visits {
            rollups.total += 1;
            let url = rollups.per_url.entry(visit.url_id).or_default();
            url.visits += 1;
            url.people += i64::from(!visit.is_bot && !visit.cap_taken);
            url.bots += i64::from(visit.is_bot);
            let text = |value: &Option<String>| value.clone().unwrap_or_default();
            let key = (
                visit.url_id,
                visit.visited_at.date_naive(),
                text(&visit.browser),
                text(&visit.os),
                text(&visit.device),
                text(&visit.referrer_host),
            );
            let tally = rollups.rows.entry(key).or_default();
            tally.visits += 1;
            tally.bot_visits += i64::from(visit.is_bot);
            let day = rollups
                .per_day
                .entry(visit.visited_at.date_naive())
                .or_default();
            day.visits += 1;
            day.bot_visits += i64::from(visit.is_bot);
            if let Some(rule) = visit.rule {
                let key = (visit.url_id, visit.visited_at.date_naive(), rule);
                let tally = rollups.rules.entry(key).or_default();
                tally.visits += 1;
                tally.bot_visits += i64::from(visit.is_bot);
            }
            // Visits of unknown place get no row: the statistics count them as the visits
            // less the located ones, so that a server without a geolocation file writes no
            // geo rows at all.
            if visit.location.country.is_some() || visit.location.city.is_some() {
                let place = (
                    visit.url_id,
                    visit.visited_at.date_naive(),
                    visit
                        .location
                        .country
                        .map(|c| c.as_str().to_owned())
                        .unwrap_or_default(),
                    text(&visit.location.city),
                );
                let tally = rollups.places.entry(place).or_default();
                tally.visits += 1;
                tally.bot_visits += i64::from(visit.is_bot);
            }
        }
        rollups
    }

    /// What counted clicks add, exactly as the same clicks recorded one by one would (the
    /// people among them are the clicks less the bots: imports take no unit of a cap).
    pub fn of_counts<'a>(counts: impl IntoIterator<Item = &'a RollupCount>) -> Self {
        let mut rollups = Self::default();
        for count in counts.into_iter().filter(|c| c.visits > 0) {
            let tally = Tally {
                visits: count.visits,
                bot_visits: count.bot_visits,
            };
            rollups.total += count.visits;
            let url = rollups.per_url.entry(count.url_id).or_default();
            url.visits += count.visits;
            url.people += count.visits - count.bot_visits;
            url.bots += count.bot_visits;
            let key = (
                count.url_id,
                count.day,
                count.browser.clone(),
                count.os.clone(),
                count.device.clone(),
                count.referrer_host.clone(),
            );
            rollups.rows.entry(key).or_default().add(tally);
            rollups.per_day.entry(count.day).or_default().add(tally);
            if !count.country.is_empty() {
                let place = (
                    count.url_id,
                    count.day,
                    count.country.clone(),
                    String::new(),
                );
                rollups.places.entry(place).or_default().add(tally);
            }
        }
        rollups
    }
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.visits += other.visits;
        self.bot_visits += other.bot_visits;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn visit(url_id: i64, day: u32, browser: Option<&str>, is_bot: bool) -> NewVisit {
        capped_visit(url_id, day, browser, is_bot, false)
    }

    fn capped_visit(
        url_id: i64,
        day: u32,
        browser: Option<&str>,
        is_bot: bool,
        cap_taken: bool,
    ) -> NewVisit {
        NewVisit {
            location: Default::default(),
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
            cap_taken,
            rule: None,
        }
    }

    #[test]
    fn places_are_tallied_by_country_and_city() {
        let located = |country: &str, city: Option<&str>, is_bot| {
            let mut v = visit(1, 1, None, is_bot);
            v.location.country = Some(country.parse().unwrap());
            v.location.city = city.map(str::to_owned);
            v
        };
        let r = Rollups::of(&[
            located("DE", Some("Berlin"), false),
            located("DE", Some("Berlin"), true),
            located("DE", None, false),
            located("FR", Some("Paris"), false),
        ]);
        let nov1 = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        assert_eq!(
            r.places[&(1, nov1, "DE".into(), "Berlin".into())],
            Tally {
                visits: 2,
                bot_visits: 1
            }
        );
        assert_eq!(r.places[&(1, nov1, "DE".into(), String::new())].visits, 1);
        assert_eq!(r.places.len(), 3);
        // Nothing known: no row.
        assert!(Rollups::of(&[visit(1, 1, None, false)]).places.is_empty());
    }

    #[test]
    fn tallies_by_url_day_and_combination() {
        let batch = [
            visit(1, 1, Some("Firefox"), false),
            visit(1, 1, Some("Firefox"), true),
            visit(1, 2, None, false),
            visit(2, 1, Some("Chrome"), false),
        ];
        let r = Rollups::of(&batch);
        assert_eq!(
            r.per_url.get(&1),
            Some(&UrlTally {
                visits: 3,
                people: 2,
                bots: 1
            })
        );
        assert_eq!(r.rows.len(), 3);
        // Unknown places have no row.
        assert!(r.places.is_empty());
        assert_eq!(r.per_day.len(), 2);
        assert_eq!(
            r.per_day[&NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()],
            Tally {
                visits: 3,
                bot_visits: 1
            }
        );
        // A visit whose redirect took a unit of the cap is not added to `human_visits` again.
        let capped = Rollups::of(&[
            capped_visit(7, 1, None, false, true),
            capped_visit(7, 1, None, false, false),
            capped_visit(7, 1, None, true, false),
        ]);
        assert_eq!(
            capped.per_url[&7],
            UrlTally {
                visits: 3,
                people: 1,
                bots: 1
            }
        );
        let nov1 = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        let key = (
            1,
            nov1,
            "Firefox".into(),
            String::new(),
            String::new(),
            String::new(),
        );
        assert_eq!(
            r.rows[&key],
            Tally {
                visits: 2,
                bot_visits: 1
            }
        );
    }
}
