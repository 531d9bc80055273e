use std::fmt;

use super::Invalid;

/// A redirect status a link may answer with: 301, 302, 307 or 308.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RedirectStatus(u16);

impl RedirectStatus {
    pub const ALLOWED: [u16; 4] = [301, 302, 307, 308];

    pub fn parse(value: u16) -> Result<Self, Invalid> {
        if Self::ALLOWED.contains(&value) {
            Ok(Self(value))
        } else {
            Err(Invalid::new(
                "redirect_status",
                format!("{value} is not a redirect status a link may have (301, 302, 307 or 308)"),
            ))
        }
    }

    /// A status read back from the store (checked by the table's constraint).
    pub fn from_stored(value: i16) -> Option<Self> {
        u16::try_from(value).ok().and_then(|v| Self::parse(v).ok())
    }

    pub fn get(self) -> u16 {
        self.0
    }
}

impl fmt::Display for RedirectStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_four_redirect_statuses_parse() {
        for ok in [301, 302, 307, 308] {
            assert_eq!(RedirectStatus::parse(ok).unwrap().get(), ok);
        }
        for bad in [0, 200, 300, 303, 304, 305, 306, 309, 404, u16::MAX] {
            let error = RedirectStatus::parse(bad).unwrap_err();
            assert_eq!(error.field, "redirect_status");
        }
        assert_eq!(RedirectStatus::from_stored(-301), None);
        assert_eq!(
            RedirectStatus::from_stored(308).map(RedirectStatus::get),
            Some(308)
        );
    }
}
