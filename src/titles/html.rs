//! A page's title from its HTML: the `<title>` element, else `<meta property="og:title">`,
//! decoded by the page's charset. Not an HTML parser: a careful scan for these two things,
//! which is all a title needs.

use encoding_rs::{Encoding, UTF_8};

use crate::domain::Title;

/// How far into a page a `<meta charset>` is looked for (HTML says within the first 1024 bytes).
const CHARSET_SCAN_BYTES: usize = 1024;

/// The title of this page, decoded by `header_charset` (the Content-Type's), else by its
/// byte order mark or `<meta charset>`, else as UTF-8.
pub fn page_title(body: &[u8], header_charset: Option<&str>) -> Option<Title> {
    let encoding = header_charset
        .and_then(|label| Encoding::for_label(label.trim().as_bytes()))
        .or_else(|| meta_charset(&body[..body.len().min(CHARSET_SCAN_BYTES)]))
        .unwrap_or(UTF_8);
    let (text, _, _) = encoding.decode(body);
    title_element(&text)
        .and_then(|raw| Title::from_text(&decode_entities(raw)))
        .or_else(|| og_title(&text).and_then(|raw| Title::from_text(&decode_entities(&raw))))
}

/// The charset a `<meta charset=...>` or `<meta http-equiv content="...; charset=...">` names.
fn meta_charset(head: &[u8]) -> Option<&'static Encoding> {
    let text = String::from_utf8_lossy(head);
    let found = tags(&text, "meta").find_map(|tag| {
        let attributes = attributes(tag);
        let value = |name: &str| {
            attributes
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.as_str())
        };
        let label = match value("charset") {
            Some(label) => label.to_owned(),
            None => {
                let content = value("content")?.to_ascii_lowercase();
                let at = content.find("charset=")?;
                content[at + "charset=".len()..]
                    .trim_matches(|c: char| c == '"' || c == '\'' || c.is_whitespace())
                    .split(';')
                    .next()?
                    .to_owned()
            }
        };
        Encoding::for_label(label.trim().as_bytes())
    });
    found
}

/// The raw text of the first `<title>` element.
fn title_element(text: &str) -> Option<&str> {
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find("<title") {
        let start = from + found + "<title".len();
        match lower[start..].chars().next() {
            Some('>') | Some(' ') | Some('\t') | Some('\n') | Some('\r') => {
                let open_end = start + lower[start..].find('>')? + 1;
                let close = open_end + lower[open_end..].find("</title")?;
                return Some(&text[open_end..close]);
            }
            _ => from = start,
        }
    }
    None
}

/// The content of the first `<meta property="og:title">` (or `name="og:title"`).
fn og_title(text: &str) -> Option<String> {
    tags(text, "meta").find_map(|tag| {
        let attributes = attributes(tag);
        let is_og_title = attributes.iter().any(|(key, value)| {
            (key.eq_ignore_ascii_case("property") || key.eq_ignore_ascii_case("name"))
                && value.eq_ignore_ascii_case("og:title")
        });
        is_og_title
            .then(|| {
                attributes
                    .into_iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case("content"))
                    .map(|(_, value)| value)
            })
            .flatten()
    })
}

/// The insides (after the name, before `>`) of every `<name ...>` tag.
fn tags<'a>(text: &'a str, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    let lower = text.to_ascii_lowercase();
    let open = format!("<{name}");
    let mut from = 0;
    std::iter::from_fn(move || loop {
        let start = from + lower[from..].find(&open)? + open.len();
        let end = start + lower[start..].find('>')?;
        from = end;
        if lower[start..].starts_with(|c: char| c.is_ascii_whitespace() || c == '/') {
            return Some(&text[start..end]);
        }
    })
}

/// The attributes of a tag's insides, names as written, values unquoted (not yet decoded).
fn attributes(tag: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = tag.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '/');
    while !rest.is_empty() {
        let name_end = rest
            .find(|c: char| c == '=' || c.is_ascii_whitespace() || c == '/')
            .unwrap_or(rest.len());
        let name = &rest[..name_end];
        rest = rest[name_end..].trim_start();
        let mut value = String::new();
        if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let (raw, remainder) = match after.chars().next() {
                Some(quote @ ('"' | '\'')) => {
                    let inner = &after[1..];
                    let close = inner.find(quote).unwrap_or(inner.len());
                    (&inner[..close], inner.get(close + 1..).unwrap_or(""))
                }
                _ => {
                    let end = after
                        .find(|c: char| c.is_ascii_whitespace())
                        .unwrap_or(after.len());
                    (&after[..end], &after[end..])
                }
            };
            value = raw.to_owned();
            rest = remainder;
        }
        if !name.is_empty() {
            found.push((name.to_owned(), value));
        }
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '/');
    }
    found
}

/// Decodes the common named character references and every numeric one.
fn decode_entities(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let decoded = rest.find(';').filter(|end| *end <= 10).and_then(|end| {
            let name = &rest[1..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                "ndash" => Some('–'),
                "mdash" => Some('—'),
                "hellip" => Some('…'),
                "laquo" => Some('«'),
                "raquo" => Some('»'),
                "copy" => Some('©'),
                _ => numeric(name),
            }?;
            Some((c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `#233` or `#xE9`.
fn numeric(name: &str) -> Option<char> {
    let digits = name.strip_prefix('#')?;
    let code = match digits.strip_prefix(['x', 'X']) {
        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
        None => digits.parse().ok()?,
    };
    char::from_u32(code).filter(|c| *c != '\0')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn title(html: &str) -> Option<String> {
        page_title(html.as_bytes(), None).map(|t| t.as_str().to_owned())
    }

    #[test]
    fn the_title_element_is_found_whatever_its_case_and_whitespace() {
        let page = "<html><head><TITLE lang=en>\n  Launch &amp; day\n</Title></head></html>";
        assert_eq!(title(page).as_deref(), Some("Launch & day"));
        assert_eq!(title("<titlex>no</titlex>"), None);
    }

    #[test]
    fn og_title_is_taken_when_there_is_no_title() {
        let page = r#"<meta name=description content="x"><meta content='Caf&#233; &#x263A;' property="og:title">"#;
        assert_eq!(title(page).as_deref(), Some("Café ☺"));
        let blank = r#"<title> </title><meta property="og:title" content="Fallback">"#;
        assert_eq!(title(blank).as_deref(), Some("Fallback"));
    }

    #[test]
    fn entities_are_decoded_and_unknown_ones_kept() {
        assert_eq!(
            decode_entities("a &lt;b&gt; &quot;c&quot; &#39;d&apos; &bogus; & e"),
            "a <b> \"c\" 'd' &bogus; & e"
        );
        assert_eq!(decode_entities("&#0; &#xZZ;"), "&#0; &#xZZ;");
    }

    #[test]
    fn the_charset_comes_from_the_header_then_the_page() {
        let latin1 = b"<meta charset=\"iso-8859-1\"><title>Caf\xe9</title>";
        assert_eq!(page_title(latin1, None).unwrap().as_str(), "Café");
        let http_equiv =
            b"<meta http-equiv=Content-Type content=\"text/html; charset=windows-1252\"><title>\x93q\x94</title>";
        assert_eq!(
            page_title(http_equiv, None).unwrap().as_str(),
            "\u{201c}q\u{201d}"
        );
        let shift_jis = b"<title>\x93\xfa\x96\x7b</title>";
        assert_eq!(
            page_title(shift_jis, Some("Shift_JIS")).unwrap().as_str(),
            "日本"
        );
    }

    #[test]
    fn a_page_without_a_title_has_none_and_odd_input_does_not_panic() {
        for page in [
            "",
            "<title>",
            "<title>unclosed",
            "<meta",
            "<meta content=",
            "&#",
            "<title></title>",
        ] {
            assert_eq!(title(page), None, "{page:?}");
        }
    }
}
