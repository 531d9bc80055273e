use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::Invalid;

/// An opaque keyset-pagination position: the id of the last row of the previous page. Lists are
/// ordered by id, newest first, so the next page is `id < cursor`, an index range scan whatever
/// the table size, and rows inserted meanwhile never shift a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor(i64);

const PREFIX: &str = "k1:";

impl Cursor {
    pub fn after(id: i64) -> Self {
        Self(id)
    }

    pub fn last_id(self) -> i64 {
        self.0
    }

    pub fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{PREFIX}{}", self.0))
    }

    pub fn decode(value: &str) -> Result<Self, Invalid> {
        let invalid = || Invalid::new("cursor", "is not a cursor this server handed out");
        let bytes = URL_SAFE_NO_PAD.decode(value).map_err(|_| invalid())?;
        let text = std::str::from_utf8(&bytes).map_err(|_| invalid())?;
        text.strip_prefix(PREFIX)
            .and_then(|id| id.parse::<i64>().ok())
            .filter(|id| *id > 0)
            .map(Self)
            .ok_or_else(invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn garbage_is_rejected() {
        for s in [
            "",
            "abc",
            "!!!",
            &URL_SAFE_NO_PAD.encode("k1:-5"),
            &URL_SAFE_NO_PAD.encode("x:5"),
        ] {
            assert_eq!(Cursor::decode(s).unwrap_err().field, "cursor");
        }
    }

    proptest! {
        #[test]
        fn round_trips(id in 1i64..i64::MAX) {
            prop_assert_eq!(Cursor::decode(&Cursor::after(id).encode()).unwrap(), Cursor::after(id));
        }

        #[test]
        fn decode_never_panics(s in "\\PC{0,64}") {
            let _ = Cursor::decode(&s);
        }
    }
}
