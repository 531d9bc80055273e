//! What an orphan visit asked for: a click that reached no link.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Why a click reached no link.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum OrphanKind {
    /// A slug no link has, or a link before its `valid_since`.
    InvalidSlug,
    /// A link past its `valid_until` or with its `max_visits` reached.
    Expired,
    /// The site's root, `/`.
    BaseUrl,
    /// Any other path that matches nothing.
    #[serde(rename = "regular_404")]
    Regular404,
}

impl OrphanKind {
    pub const ALL: [Self; 4] = [
        Self::InvalidSlug,
        Self::Expired,
        Self::BaseUrl,
        Self::Regular404,
    ];

    /// This kind alone, as a list's filter of kinds.
    pub fn alone(self) -> &'static [Self] {
        match self {
            Self::InvalidSlug => &[Self::InvalidSlug],
            Self::Expired => &[Self::Expired],
            Self::BaseUrl => &[Self::BaseUrl],
            Self::Regular404 => &[Self::Regular404],
        }
    }

    /// The name the API and the database use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidSlug => "invalid_slug",
            Self::Expired => "expired",
            Self::BaseUrl => "base_url",
            Self::Regular404 => "regular_404",
        }
    }
}

impl fmt::Display for OrphanKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrphanKind {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == value)
            .ok_or_else(|| {
                format!("`{value}` is not an orphan visit type (invalid_slug, expired, base_url or regular_404)")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_text_and_json() {
        for kind in OrphanKind::ALL {
            assert_eq!(kind.as_str().parse::<OrphanKind>(), Ok(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{kind}\""));
        }
        assert!("invalid".parse::<OrphanKind>().is_err());
    }
}
