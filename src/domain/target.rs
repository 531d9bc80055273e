use std::fmt;

use url::Url;

use super::Invalid;

/// Where a short link points: an absolute `http`/`https` URL with a host, normalised by the
/// `url` crate (scheme and host lower-cased, IDNs as punycode, unsafe bytes percent-encoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetUrl(Url);

impl TargetUrl {
    pub fn parse(value: &str, max_length: usize) -> Result<Self, Invalid> {
        let invalid = |reason: &str| Invalid::new("url", reason);
        if value.is_empty() {
            return Err(invalid("must not be empty"));
        }
        if value.len() > max_length {
            return Err(Invalid::new(
                "url",
                format!("must be at most {max_length} bytes"),
            ));
        }
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("must not contain whitespace or control characters"));
        }
        let url = Url::parse(value).map_err(|e| match e {
            url::ParseError::RelativeUrlWithoutBase => {
                invalid("must be an absolute URL such as https://example.com/page")
            }
            other => Invalid::new("url", format!("is not a valid URL ({other})")),
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Invalid::new(
                "url",
                format!(
                    "scheme `{}` is not allowed (only http and https)",
                    url.scheme()
                ),
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("must have a host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("must not contain a user name or password"));
        }
        if url.as_str().len() > max_length {
            return Err(Invalid::new(
                "url",
                format!("must be at most {max_length} bytes once normalised"),
            ));
        }
        Ok(Self(url))
    }

    /// A target read back from the store, which only ever holds checked targets.
    pub(crate) fn from_stored(value: &str) -> Option<Self> {
        Url::parse(value).ok().map(Self)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn host(&self) -> Option<&str> {
        self.0.host_str()
    }

    /// The host as the search index keeps it: lower case, empty if there is none.
    pub fn host_key(&self) -> String {
        self.host().unwrap_or_default().to_ascii_lowercase()
    }
}

impl fmt::Display for TargetUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MAX: usize = 2048;

    #[test]
    fn accepts_and_normalises_http_urls() {
        let cases = [
            ("https://example.com", "https://example.com/"),
            ("HTTP://Example.COM/a?b=c#d", "http://example.com/a?b=c#d"),
            (
                "https://bücher.example/x",
                "https://xn--bcher-kva.example/x",
            ),
            ("https://example.com:8443/p", "https://example.com:8443/p"),
        ];
        for (input, normalised) in cases {
            assert_eq!(TargetUrl::parse(input, MAX).unwrap().as_str(), normalised);
        }
    }

    #[test]
    fn rejects_dangerous_or_malformed_targets() {
        let long = format!("https://example.com/{}", "a".repeat(MAX));
        let cases = [
            "",
            "javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "file:///etc/passwd",
            "ftp://example.com/",
            "/relative/path",
            "example.com",
            "https://exa mple.com/",
            " https://example.com/",
            "https://example.com/\n",
            "https://example.com/\u{0}",
            "https://user:pass@example.com/",
            "http://",
            long.as_str(),
        ];
        for input in cases {
            let error = TargetUrl::parse(input, MAX).unwrap_err();
            assert_eq!(error.field, "url", "{input:?}");
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_keeps_only_http(s in "\\PC{0,300}") {
            if let Ok(target) = TargetUrl::parse(&s, MAX) {
                prop_assert!(target.as_str().starts_with("http://") || target.as_str().starts_with("https://"));
                prop_assert!(target.as_str().len() <= MAX);
                prop_assert!(!target.as_str().chars().any(char::is_whitespace));
            }
        }

        #[test]
        fn parsed_targets_parse_again_to_themselves(host in "[a-z]{1,20}\\.[a-z]{2,6}", path in "[a-zA-Z0-9/._~-]{0,50}") {
            let first = TargetUrl::parse(&format!("https://{host}/{path}"), MAX).unwrap();
            let again = TargetUrl::parse(first.as_str(), MAX).unwrap();
            prop_assert_eq!(first, again);
        }
    }
}
