//! When a link answers and how many people it answers: its validity window and visit cap.

use chrono::{DateTime, Utc};

use super::Invalid;

/// A cap on the visits by people a link answers: at least 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MaxVisits(i64);

impl MaxVisits {
    pub fn parse(value: i64) -> Result<Self, Invalid> {
        if value >= 1 {
            Ok(Self(value))
        } else {
            Err(Invalid::new(
                "max_visits",
                format!("must be at least 1 (null for no cap), not {value}"),
            ))
        }
    }

    /// A cap read back from the store (checked by the table's constraint).
    pub fn from_stored(value: i64) -> Option<Self> {
        Self::parse(value).ok()
    }

    pub fn get(self) -> i64 {
        self.0
    }

    /// How many more people the link answers after `used` of them.
    pub fn left(self, used: i64) -> i64 {
        (self.0 - used).max(0)
    }
}

/// The times between which a link answers; either bound may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Validity {
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

impl Validity {
    /// A window that ends after it starts (`valid_until` names the mistake).
    pub fn new(
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Self, Invalid> {
        if let (Some(since), Some(until)) = (since, until) {
            if until <= since {
                return Err(Invalid::new(
                    "valid_until",
                    format!("must be after valid_since ({})", since.to_rfc3339()),
                ));
            }
        }
        Ok(Self { since, until })
    }

    /// Where `at` falls: before the window, in it, or after it.
    pub fn at(&self, at: DateTime<Utc>) -> Phase {
        if self.since.is_some_and(|since| at < since) {
            Phase::NotYet
        } else if self.until.is_some_and(|until| at >= until) {
            Phase::Over
        } else {
            Phase::Open
        }
    }
}

/// Where a moment falls in a [`Validity`] window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    NotYet,
    Open,
    Over,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, hour, 0, 0).unwrap()
    }

    #[test]
    fn a_cap_is_at_least_one() {
        assert_eq!(MaxVisits::parse(1).unwrap().get(), 1);
        for bad in [0, -1, i64::MIN] {
            assert_eq!(MaxVisits::parse(bad).unwrap_err().field, "max_visits");
        }
        let cap = MaxVisits::parse(3).unwrap();
        assert_eq!(
            (cap.left(0), cap.left(2), cap.left(3), cap.left(9)),
            (3, 1, 0, 0)
        );
    }

    #[test]
    fn a_window_ends_after_it_starts() {
        assert!(Validity::new(Some(t(1)), Some(t(2))).is_ok());
        assert!(Validity::new(None, Some(t(2))).is_ok());
        assert!(Validity::new(Some(t(2)), None).is_ok());
        for until in [t(1), t(0)] {
            let error = Validity::new(Some(t(1)), Some(until)).unwrap_err();
            assert_eq!(error.field, "valid_until");
        }
    }

    #[test]
    fn since_is_inclusive_and_until_exclusive() {
        let window = Validity::new(Some(t(1)), Some(t(3))).unwrap();
        assert_eq!(window.at(t(0)), Phase::NotYet);
        assert_eq!(window.at(t(1)), Phase::Open);
        assert_eq!(window.at(t(2)), Phase::Open);
        assert_eq!(window.at(t(3)), Phase::Over);
        assert_eq!(Validity::default().at(t(5)), Phase::Open);
    }
}
