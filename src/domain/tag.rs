use std::collections::BTreeSet;
use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::Invalid;

/// A tag's name: 1 to 64 characters of `a-z 0-9 - _ .`. Lower case only, so that `Launch` and
/// `launch` cannot be two tags.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TagName(String);

pub const MAX_TAG_CHARS: usize = 64;
/// Tags one link may have, and names one list filter may ask for.
pub const MAX_TAGS: usize = 20;

impl TagName {
    /// A name as a client sent it, refused under `field` (e.g. `tags[3]` or `name`).
    pub fn parse(
        value: &str,
        field: impl Into<std::borrow::Cow<'static, str>>,
    ) -> Result<Self, Invalid> {
        let field = field.into();
        if value.is_empty() {
            return Err(Invalid::new(field, "a tag must not be empty"));
        }
        if value.len() > MAX_TAG_CHARS {
            return Err(Invalid::new(
                field,
                format!("a tag has at most {MAX_TAG_CHARS} characters"),
            ));
        }
        if let Some(bad) = value.chars().find(|c| !is_tag_char(*c)) {
            return Err(Invalid::new(
                field,
                format!("`{bad}` is not allowed in a tag (only a-z, 0-9, `-`, `_` and `.`)"),
            ));
        }
        Ok(Self(value.to_owned()))
    }

    /// A name read back from the store (checked when it was written).
    pub fn from_stored(value: String) -> Self {
        Self(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The opaque cursor of a tag list page that ends with this name (lists of tags go in
    /// name order, so the position is the name).
    pub fn cursor(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{}", self.0))
    }

    /// The name a cursor of [`Self::cursor`] holds.
    pub fn from_cursor(value: &str) -> Result<Self, Invalid> {
        let invalid = || Invalid::new("cursor", "is not a cursor this server handed out");
        let bytes = URL_SAFE_NO_PAD.decode(value).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let name = text.strip_prefix(CURSOR_PREFIX).ok_or_else(invalid)?;
        Self::parse(name, "cursor").map_err(|_| invalid())
    }
}

const CURSOR_PREFIX: &str = "t1:";

fn is_tag_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')
}

impl fmt::Display for TagName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A link's tags: at most [`MAX_TAGS`] names, each once, in name order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tags(Vec<TagName>);

impl Tags {
    /// Parses a list as a client sent it: a bad name is refused as `{field}[i]` (its position),
    /// a list that is too long as `{field}`. Repeated names count once.
    pub fn parse<S: AsRef<str>>(values: &[S], field: &'static str) -> Result<Self, Invalid> {
        let mut names = BTreeSet::new();
        for (i, value) in values.iter().enumerate() {
            names.insert(TagName::parse(value.as_ref(), format!("{field}[{i}]"))?);
        }
        if names.len() > MAX_TAGS {
            return Err(Invalid::new(
                field,
                format!("at most {MAX_TAGS} different tags (got {})", names.len()),
            ));
        }
        Ok(Self(names.into_iter().collect()))
    }

    /// Tags read back from the store.
    pub fn from_stored(names: Vec<TagName>) -> Self {
        Self(names)
    }

    pub fn names(&self) -> &[TagName] {
        &self.0
    }

    pub fn into_names(self) -> Vec<TagName> {
        self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_are_lower_case_words() {
        for ok in ["a", "launch-2026", "q4_campaign", "v1.2", &"x".repeat(64)] {
            assert_eq!(TagName::parse(ok, "tag").unwrap().as_str(), ok);
        }
        for bad in ["", "Launch", "a b", "ä", "a/b", "a,b", &"x".repeat(65)] {
            assert_eq!(
                TagName::parse(bad, "tag").unwrap_err().field,
                "tag",
                "{bad}"
            );
        }
    }

    #[test]
    fn lists_are_sorted_deduplicated_and_bounded() {
        let tags = Tags::parse(&["b", "a", "b"], "tags").unwrap();
        let names: Vec<&str> = tags.names().iter().map(TagName::as_str).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(
            Tags::parse(&["ok", "ok", "Bad"], "tags").unwrap_err().field,
            "tags[2]"
        );
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert_eq!(Tags::parse(&many, "tags").unwrap_err().field, "tags");
        assert!(Tags::parse(&many[..20], "tags").is_ok());
        assert!(Tags::parse(&["same"; 30], "tags").is_ok());
    }

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let name = TagName::parse("q4.launch", "tag").unwrap();
        assert_eq!(TagName::from_cursor(&name.cursor()).unwrap(), name);
        for bad in [
            "",
            "!!",
            &URL_SAFE_NO_PAD.encode("t1:Bad"),
            &URL_SAFE_NO_PAD.encode("k1:5"),
        ] {
            assert_eq!(TagName::from_cursor(bad).unwrap_err().field, "cursor");
        }
    }

    proptest! {
        #[test]
        fn a_parsed_name_has_only_tag_characters(s in "\\PC{0,80}") {
            if let Ok(name) = TagName::parse(&s, "tag") {
                prop_assert!(name.as_str().len() <= MAX_TAG_CHARS);
                prop_assert!(name.as_str().chars().all(is_tag_char));
            }
        }
    }
}
