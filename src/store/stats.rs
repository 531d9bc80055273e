//! Statistics read from the rollup, of one URL or of the links of one tag: the same SQL for
//! both backends (written with `$n` placeholders; SQLite reads them as `?n`) and the same
//! assembly of the answer, over the rows [`source`] picks. `$1` is the URL or tag id, `$2` and
//! `$3` the first and last day, `$4` is 1 to leave bots out and 0 to count them, `$5` how many
//! values each breakdown lists, `$6` the owner of an editor's tag statistics.

use chrono::{Days, NaiveDate};

use super::models::{CityCount, DayCount, RuleCount, StatsOf, StatsQuery, UrlStats, ValueCount};

/// The rollup rows (`r`) counted, and the bound parameters after `$1..$3`: the URL's rows, or
/// those of every link carrying the tag (each link's rows by the `(url_id, ...)` key), only an
/// owner's links for an editor.
fn source(of: StatsOf, owner_param: &str) -> String {
    source_in("url_daily_rollups", of, owner_param)
}

/// [`source`] over another rollup table keyed by `(url_id, day, ...)`.
fn source_in(table: &str, of: StatsOf, owner_param: &str) -> String {
    match of {
        StatsOf::Url(_) => format!("{table} r WHERE r.url_id = $1"),
        StatsOf::Tag { owner: None, .. } => {
            format!("url_tags ut JOIN {table} r ON r.url_id = ut.url_id WHERE ut.tag_id = $1")
        }
        StatsOf::Tag { owner: Some(_), .. } => format!(
            "url_tags ut JOIN urls u ON u.id = ut.url_id AND u.created_by = {owner_param} \
             JOIN {table} r ON r.url_id = ut.url_id WHERE ut.tag_id = $1"
        ),
    }
}

/// The id `$1` stands for, and the owner bound last when there is one.
pub(crate) fn subject(of: StatsOf) -> (i64, Option<i64>) {
    match of {
        StatsOf::Url(id) => (id, None),
        StatsOf::Tag { id, owner } => (id, owner),
    }
}

/// Visits per day; the owner, if any, is `$4`.
pub(crate) fn daily_sql(of: StatsOf) -> String {
    format!(
        "SELECT r.day AS day, CAST(SUM(r.visits) AS BIGINT) AS visits, \
             CAST(SUM(r.bot_visits) AS BIGINT) AS bot_visits \
         FROM {} AND r.day >= $2 AND r.day <= $3 GROUP BY r.day ORDER BY r.day",
        source(of, "$4")
    )
}

/// The top values of each breakdown, from one pass over the rows per breakdown; the owner, if
/// any, is `$6`.
pub(crate) fn top_values_sql(of: StatsOf) -> String {
    format!(
        "WITH f AS ( \
           SELECT r.browser, r.os, r.device, r.referrer_host, r.visits - r.bot_visits * $4 AS n \
           FROM {} AND r.day >= $2 AND r.day <= $3 \
         ), counts AS ( \
           SELECT 'browser' AS dimension, browser AS value, SUM(n) AS n FROM f GROUP BY browser \
           UNION ALL SELECT 'os', os, SUM(n) FROM f GROUP BY os \
           UNION ALL SELECT 'device', device, SUM(n) FROM f GROUP BY device \
           UNION ALL SELECT 'referrer_host', referrer_host, SUM(n) FROM f GROUP BY referrer_host \
         ) \
         SELECT dimension, value, n FROM ( \
           SELECT dimension, value, CAST(n AS BIGINT) AS n, \
                  ROW_NUMBER() OVER (PARTITION BY dimension ORDER BY n DESC, value) AS position \
           FROM counts \
         ) ranked WHERE position <= $5 AND n > 0 ORDER BY dimension, n DESC, value",
        source(of, "$6")
    )
}

/// The top known countries, the top known cities with their country, and the visits located
/// at all (`located`), from the geo rollup; `$1` to `$5` as in [`top_values_sql`], the owner,
/// if any, is `$6`. The writers keep no row for visits of unknown place (databases migrated
/// from before may hold `''`/`''` rows, left out here): [`assemble`] counts those as the
/// visits less the located ones.
pub(crate) fn places_sql(of: StatsOf) -> String {
    format!(
        "WITH f AS ( \
           SELECT r.country, r.city, r.visits - r.bot_visits * $4 AS n \
           FROM {} AND r.day >= $2 AND r.day <= $3 AND (r.country <> '' OR r.city <> '') \
         ), counts AS ( \
           SELECT 'country' AS dimension, country, '' AS city, SUM(n) AS n FROM f \
           WHERE country <> '' GROUP BY country \
           UNION ALL SELECT 'city', country, city, SUM(n) FROM f WHERE city <> '' \
           GROUP BY country, city \
           UNION ALL SELECT 'located', '', '', SUM(n) FROM f \
         ) \
         SELECT dimension, country, city, n FROM ( \
           SELECT dimension, country, city, CAST(n AS BIGINT) AS n, \
                  ROW_NUMBER() OVER (PARTITION BY dimension ORDER BY n DESC, country, city) \
                    AS position \
           FROM counts \
         ) ranked WHERE position <= $5 AND n > 0 ORDER BY dimension, n DESC, country, city",
        source_in("url_geo_rollups", of, "$6")
    )
}

/// Visits per redirect rule (`$1` to `$4` as above), from the rule rollup.
pub(crate) const RULES_SQL: &str =
    "SELECT rule, CAST(SUM(visits - bot_visits * $4) AS BIGINT) AS n \
     FROM url_rule_rollups WHERE url_id = $1 AND day >= $2 AND day <= $3 \
     GROUP BY rule HAVING SUM(visits - bot_visits * $4) > 0 ORDER BY rule";

#[derive(sqlx::FromRow)]
pub(crate) struct RuleRow {
    rule: i16,
    n: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct PlaceRow {
    dimension: String,
    country: String,
    city: String,
    n: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct DailyRow {
    day: NaiveDate,
    visits: i64,
    bot_visits: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct TopValueRow {
    dimension: String,
    value: String,
    n: i64,
}

pub(crate) fn assemble(
    query: &StatsQuery,
    daily: Vec<DailyRow>,
    top: Vec<TopValueRow>,
    rules: Vec<RuleRow>,
    places: Vec<PlaceRow>,
) -> UrlStats {
    let mut stats = UrlStats {
        rules: rules
            .into_iter()
            .map(|row| RuleCount {
                rule: row.rule,
                visits: row.n,
            })
            .collect(),
        ..UrlStats::default()
    };
    let mut rows = daily.into_iter().peekable();
    let mut day = query.from;
    while day <= query.to {
        let mut count = 0;
        if let Some(row) = rows.next_if(|row| row.day == day) {
            let counted = if query.include_bots {
                row.visits
            } else {
                row.visits - row.bot_visits
            };
            stats.visits += counted;
            stats.bot_visits += row.bot_visits;
            count = counted;
        }
        stats.days.push(DayCount { day, visits: count });
        match day.checked_add_days(Days::new(1)) {
            Some(next) => day = next,
            None => break,
        }
    }
    for row in top {
        let entry = ValueCount {
            value: Some(row.value).filter(|v| !v.is_empty()),
            visits: row.n,
        };
        match row.dimension.as_str() {
            "browser" => stats.browsers.push(entry),
            "os" => stats.os.push(entry),
            "device" => stats.devices.push(entry),
            "referrer_host" => stats.referrer_hosts.push(entry),
            _ => {}
        }
    }
    let known = |value: String| Some(value).filter(|v| !v.is_empty());
    let mut located = 0;
    for row in places {
        match row.dimension.as_str() {
            "located" => located = row.n,
            "country" => stats.countries.push(ValueCount {
                value: known(row.country),
                visits: row.n,
            }),
            "city" => stats.cities.push(CityCount {
                country: known(row.country),
                city: known(row.city),
                visits: row.n,
            }),
            _ => {}
        }
    }
    // Visits of unknown country: every visit counted less those located, ranked among the
    // countries (before those with as many visits, as `''` sorts first) and within the top.
    let unknown = stats.visits - located;
    if unknown > 0 {
        let at = stats
            .countries
            .iter()
            .position(|country| country.visits <= unknown)
            .unwrap_or(stats.countries.len());
        stats.countries.insert(
            at,
            ValueCount {
                value: None,
                visits: unknown,
            },
        );
        stats.countries.truncate(query.top as usize);
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, day).unwrap()
    }

    fn query(include_bots: bool) -> StatsQuery {
        StatsQuery {
            of: StatsOf::Url(1),
            from: date(1),
            to: date(4),
            include_bots,
            top: 10,
        }
    }

    fn daily() -> Vec<DailyRow> {
        vec![
            DailyRow {
                day: date(2),
                visits: 5,
                bot_visits: 2,
            },
            DailyRow {
                day: date(4),
                visits: 1,
                bot_visits: 0,
            },
        ]
    }

    #[test]
    fn every_day_is_listed_and_bots_are_left_out_unless_asked() {
        let stats = assemble(&query(false), daily(), vec![], vec![], vec![]);
        let counts: Vec<i64> = stats.days.iter().map(|d| d.visits).collect();
        assert_eq!(counts, [0, 3, 0, 1]);
        assert_eq!((stats.visits, stats.bot_visits), (4, 2));
        assert_eq!(
            assemble(&query(true), daily(), vec![], vec![], vec![]).visits,
            6
        );
    }

    #[test]
    fn unknown_values_are_none() {
        let top = vec![
            TopValueRow {
                dimension: "browser".into(),
                value: "Firefox".into(),
                n: 3,
            },
            TopValueRow {
                dimension: "referrer_host".into(),
                value: String::new(),
                n: 2,
            },
        ];
        let stats = assemble(&query(false), vec![], top, vec![], vec![]);
        assert_eq!(stats.browsers[0].value.as_deref(), Some("Firefox"));
        assert_eq!(stats.referrer_hosts[0].value, None);
    }

    #[test]
    fn places_become_countries_and_cities() {
        let place = |dimension: &str, country: &str, city: &str, n| PlaceRow {
            dimension: dimension.into(),
            country: country.into(),
            city: city.into(),
            n,
        };
        let places = vec![
            place("city", "DE", "Berlin", 4),
            place("country", "DE", "", 5),
            place("located", "", "", 5),
        ];
        // Six visits that day: five located, one not.
        let day = DailyRow {
            day: query(false).from,
            visits: 6,
            bot_visits: 0,
        };
        let stats = assemble(&query(false), vec![day], vec![], vec![], places);
        assert_eq!(stats.countries.len(), 2);
        assert_eq!(stats.countries[0].value.as_deref(), Some("DE"));
        assert_eq!(stats.countries[1].value, None);
        assert_eq!(stats.countries[1].visits, 1);
        assert_eq!(
            stats.cities,
            [CityCount {
                country: Some("DE".into()),
                city: Some("Berlin".into()),
                visits: 4
            }]
        );
    }

    #[test]
    fn unknown_places_rank_among_the_top_countries() {
        let place = |dimension: &str, country: &str, n| PlaceRow {
            dimension: dimension.into(),
            country: country.into(),
            city: String::new(),
            n,
        };
        let mut top_two = query(false);
        top_two.top = 2;
        let day = DailyRow {
            day: top_two.from,
            visits: 20,
            bot_visits: 0,
        };
        let places = vec![
            place("country", "DE", 5),
            place("country", "FR", 3),
            place("located", "", 8),
        ];
        let stats = assemble(&top_two, vec![day], vec![], vec![], places);
        let countries: Vec<(Option<&str>, i64)> = stats
            .countries
            .iter()
            .map(|c| (c.value.as_deref(), c.visits))
            .collect();
        assert_eq!(countries, [(None, 12), (Some("DE"), 5)]);
        // Every visit located: no unknown entry.
        let located = vec![place("country", "DE", 20), place("located", "", 20)];
        let stats = assemble(&top_two, vec![day_of(20)], vec![], vec![], located);
        assert_eq!(stats.countries.len(), 1);
    }

    fn day_of(visits: i64) -> DailyRow {
        DailyRow {
            day: query(false).from,
            visits,
            bot_visits: 0,
        }
    }
}
