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

    /// A title that may be absent: nothing, an empty or a blank title is no title, so that an
    /// API client, the CLI and an imported CSV cell (which cannot tell `""` from no value)
    /// store the same thing.
    pub fn parse_optional(value: Option<&str>) -> Result<Option<Self>, Invalid> {
        match value {
            Some(value) if !value.trim().is_empty() => Self::parse(value).map(Some),
            _ => Ok(None),
        }
    }

    /// A title from text found elsewhere (a web page's `<title>`): whitespace runs become one
    /// space, control characters go, and it is cut to [`MAX_TITLE_CHARS`]; `None` when
    /// nothing is left.
    pub fn from_text(text: &str) -> Option<Self> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let tidy: String = words
            .join(" ")
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_TITLE_CHARS)
            .collect();
        Self::parse_optional(Some(&tidy)).ok().flatten()
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

    #[test]
    fn text_from_elsewhere_is_tidied_into_a_title() {
        let title = Title::from_text("  Launch\n\t day \u{7}!  ").unwrap();
        assert_eq!(title.as_str(), "Launch day !");
        assert_eq!(
            Title::from_text(&"é".repeat(600))
                .unwrap()
                .as_str()
                .chars()
                .count(),
            512
        );
        assert_eq!(Title::from_text(" \n "), None);
    }

    #[test]
    fn blank_titles_are_no_titles() {
        for blank in [None, Some(""), Some("   ")] {
            assert_eq!(Title::parse_optional(blank).unwrap(), None, "{blank:?}");
        }
        let title = Title::parse_optional(Some(" Launch ")).unwrap().unwrap();
        assert_eq!(title.as_str(), "Launch");
        assert!(Title::parse_optional(Some("a\u{7}b")).is_err());
    }
}
