//! Statistics read from the rollup. The SQL is the same for both backends (written with `$n`
//! placeholders; SQLite reads them as `?n`), and so is the assembly of the answer.
//! `$1` is the URL id, `$2` and `$3` the first and last day, `$4` is 1 to leave bots out and 0 to
//! count them, `$5` how many values each breakdown lists.

use chrono::{Days, NaiveDate};

use super::models::{DayCount, RuleCount, StatsQuery, UrlStats, ValueCount};

pub(crate) const DAILY_SQL: &str = "SELECT day, \
         CAST(SUM(visits) AS BIGINT) AS visits, CAST(SUM(bot_visits) AS BIGINT) AS bot_visits \
     FROM url_daily_rollups WHERE url_id = $1 AND day >= $2 AND day <= $3 \
     GROUP BY day ORDER BY day";

/// The top values of each breakdown, from one pass over the URL's rows per breakdown.
pub(crate) const TOP_VALUES_SQL: &str = "WITH r AS ( \
       SELECT browser, os, device, referrer_host, visits - bot_visits * $4 AS n \
       FROM url_daily_rollups WHERE url_id = $1 AND day >= $2 AND day <= $3 \
     ), counts AS ( \
       SELECT 'browser' AS dimension, browser AS value, SUM(n) AS n FROM r GROUP BY browser \
       UNION ALL SELECT 'os', os, SUM(n) FROM r GROUP BY os \
       UNION ALL SELECT 'device', device, SUM(n) FROM r GROUP BY device \
       UNION ALL SELECT 'referrer_host', referrer_host, SUM(n) FROM r GROUP BY referrer_host \
     ) \
     SELECT dimension, value, n FROM ( \
       SELECT dimension, value, CAST(n AS BIGINT) AS n, \
              ROW_NUMBER() OVER (PARTITION BY dimension ORDER BY n DESC, value) AS position \
       FROM counts \
     ) ranked WHERE position <= $5 AND n > 0 ORDER BY dimension, n DESC, value";

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
            url_id: 1,
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
        let stats = assemble(&query(false), daily(), vec![], vec![]);
        let counts: Vec<i64> = stats.days.iter().map(|d| d.visits).collect();
        assert_eq!(counts, [0, 3, 0, 1]);
        assert_eq!((stats.visits, stats.bot_visits), (4, 2));
        assert_eq!(assemble(&query(true), daily(), vec![], vec![]).visits, 6);
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
        let stats = assemble(&query(false), vec![], top, vec![]);
        assert_eq!(stats.browsers[0].value.as_deref(), Some("Firefox"));
        assert_eq!(stats.referrer_hosts[0].value, None);
    }
}
