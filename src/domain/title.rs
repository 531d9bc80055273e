use super::Invalid;

/// A human label for a short link: at most 512 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

pub const MAX_TITLE_CHARS: usize = 512;

impl Title {
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        if value.chars().count() > MAX_TITLE_CHARS {
            return Err(Invalid::new(
                "title",
                format!("must be at most {MAX_TITLE_CHARS} characters"),
            ));
        }
        if value.chars().any(char::is_control) {
            return Err(Invalid::new("title", "must not contain control characters"));
        }
        Ok(Self(value.trim().to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_bounded_and_printable() {
        assert_eq!(Title::parse(" Launch ").unwrap().as_str(), "Launch");
        assert!(Title::parse("<script>alert(1)</script>").is_ok());
        assert!(Title::parse("a\u{7}b").is_err());
        assert!(Title::parse(&"x".repeat(513)).is_err());
    }
}
