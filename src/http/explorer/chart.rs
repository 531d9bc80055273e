//! A daily bar chart as inline SVG geometry, computed on the server: no script, no CDN.

use crate::store::DayCount;

pub const WIDTH: u32 = 720;
pub const HEIGHT: u32 = 140;

pub struct Bar {
    pub x: String,
    pub y: String,
    pub width: String,
    pub height: String,
    pub label: String,
}

pub struct Chart {
    pub bars: Vec<Bar>,
    pub max: i64,
    pub total: i64,
    pub first: String,
    pub last: String,
}

impl Chart {
    pub fn of(days: &[DayCount]) -> Self {
        let max = days.iter().map(|d| d.visits).max().unwrap_or(0).max(1);
        let slot = f64::from(WIDTH) / days.len().max(1) as f64;
        let bars = days
            .iter()
            .enumerate()
            .map(|(i, day)| {
                let height = day.visits as f64 / max as f64 * f64::from(HEIGHT - 4);
                Bar {
                    x: format!("{:.2}", i as f64 * slot + slot * 0.1),
                    y: format!("{:.2}", f64::from(HEIGHT) - height),
                    width: format!("{:.2}", slot * 0.8),
                    height: format!("{height:.2}"),
                    label: format!("{}: {} visits", day.day, day.visits),
                }
            })
            .collect();
        Self {
            bars,
            max,
            total: days.iter().map(|d| d.visits).sum(),
            first: days.first().map(|d| d.day.to_string()).unwrap_or_default(),
            last: days.last().map(|d| d.day.to_string()).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn the_tallest_bar_fills_the_chart() {
        let day = |d, visits| DayCount {
            day: NaiveDate::from_ymd_opt(2026, 11, d).unwrap(),
            visits,
        };
        let chart = Chart::of(&[day(1, 0), day(2, 10), day(3, 5)]);
        assert_eq!(chart.bars.len(), 3);
        assert_eq!(
            chart.bars[1].height,
            format!("{:.2}", f64::from(HEIGHT - 4))
        );
        assert_eq!(chart.bars[0].height, "0.00");
        assert_eq!(chart.total, 15);
        assert_eq!(chart.first, "2026-11-01");
        assert!(Chart::of(&[]).bars.is_empty());
    }
}
