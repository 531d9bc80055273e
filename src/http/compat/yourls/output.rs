//! How a YOURLS answer is written: the formats of YOURLS's `yourls_api_output` (json, jsonp,
//! xml, simple), the HTTP status taken from the answer's `statusCode` or `errorCode` member,
//! and the `simple` member kept out of every format but `simple`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use crate::http::middleware::problem_bodies::ForeignErrorBody;

/// The `format` parameter; YOURLS's default is XML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    Json,
    /// JSON wrapped in a call of this (checked) function name.
    Jsonp(String),
    Xml,
    Simple,
}

impl Format {
    /// From `format` and `callback` (or `jsonp`, YOURLS's older name): `Err` when a JSONP
    /// callback is not a plain name, which YOURLS refuses too (it would be script injection).
    pub fn of(format: Option<&str>, callback: Option<&str>) -> Result<Self, Answer> {
        match format.map(str::to_ascii_lowercase).as_deref() {
            Some("json") => Ok(Self::Json),
            Some("jsonp") => {
                let name = callback.unwrap_or_default();
                if is_plain_callback(name) {
                    Ok(Self::Jsonp(name.to_owned()))
                } else {
                    let mut answer = Answer::error(400, "Invalid callback parameter");
                    answer.body.remove("message");
                    answer
                        .body
                        .insert("error".into(), "Invalid callback parameter".into());
                    Err(answer)
                }
            }
            Some("xml") | None => Ok(Self::Xml),
            Some(_) => Ok(Self::Simple),
        }
    }
}

/// YOURLS's check of a JSONP callback: letters, digits, `_`, `$` and `.`, and no `uXXXX`
/// sequence (an escaped character in disguise).
fn is_plain_callback(name: &str) -> bool {
    let bytes = name.as_bytes();
    !name.is_empty()
        && name.len() <= 128
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'$' | b'.'))
        && !bytes
            .windows(5)
            .any(|w| w[0].eq_ignore_ascii_case(&b'u') && w[1..].iter().all(u8::is_ascii_hexdigit))
}

/// One answer of the YOURLS API, before it is written in a format.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Answer {
    pub body: Map<String, Value>,
    /// What `format=simple` writes.
    pub simple: String,
}

impl Answer {
    /// YOURLS's error shape: `errorCode` (a string, as YOURLS sends it) and `message`; `simple`
    /// is the message.
    pub fn error(status: u16, message: &str) -> Self {
        let mut body = Map::new();
        body.insert("errorCode".into(), status.to_string().into());
        body.insert("message".into(), message.into());
        Self {
            body,
            simple: message.to_owned(),
        }
    }

    /// A success with `statusCode` "200" and `message` "success" beside `body`'s members.
    pub fn success(mut body: Map<String, Value>, simple: impl Into<String>) -> Self {
        body.insert("statusCode".into(), "200".into());
        body.entry("message").or_insert_with(|| "success".into());
        Self {
            body,
            simple: simple.into(),
        }
    }

    /// The HTTP status: `statusCode`, else `errorCode`, else 200 (as YOURLS).
    fn status(&self) -> StatusCode {
        ["statusCode", "errorCode"]
            .iter()
            .filter_map(|name| self.body.get(*name))
            .filter_map(|code| match code {
                Value::String(text) => text.parse::<u16>().ok(),
                Value::Number(number) => number.as_u64().and_then(|n| u16::try_from(n).ok()),
                _ => None,
            })
            .find_map(|code| StatusCode::from_u16(code).ok())
            .unwrap_or(StatusCode::OK)
    }

    /// Written in `format`, with its status and content type.
    pub fn render(self, format: &Format) -> Response {
        let status = self.status();
        let (content_type, text) = match format {
            Format::Json => ("application/json", Value::Object(self.body).to_string()),
            Format::Jsonp(callback) => (
                "application/javascript",
                format!("{callback}({})", Value::Object(self.body)),
            ),
            Format::Xml => ("application/xml", xml(&self.body)),
            Format::Simple => ("text/plain; charset=utf-8", self.simple),
        };
        let mut response = (
            status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
            text,
        )
            .into_response();
        response.extensions_mut().insert(ForeignErrorBody);
        response
    }
}

/// The document as YOURLS's XML: a declaration, then `<root>` holding one element per member,
/// objects nested, text escaped; `true` is `1` and `false` and `null` are empty, as PHP writes
/// them.
fn xml(body: &Map<String, Value>) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<root>");
    write_members(&mut out, body);
    out.push_str("</root>");
    out
}

fn write_members(out: &mut String, members: &Map<String, Value>) {
    for (name, value) in members {
        let name = element_name(name);
        out.push('<');
        out.push_str(&name);
        out.push('>');
        match value {
            Value::Object(inner) => write_members(out, inner),
            Value::Array(items) => {
                for item in items {
                    let mut wrapped = Map::new();
                    wrapped.insert("item".into(), item.clone());
                    write_members(out, &wrapped);
                }
            }
            Value::String(text) => escape_into(out, text),
            Value::Number(number) => out.push_str(&number.to_string()),
            Value::Bool(true) => out.push('1'),
            Value::Bool(false) | Value::Null => {}
        }
        out.push_str("</");
        out.push_str(&name);
        out.push('>');
    }
}

/// A member name as an XML element name: YOURLS's names (`db-stats`, `link_1`) are valid;
/// anything else has its other characters replaced by `_`.
fn element_name(name: &str) -> String {
    let mut element: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !element.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        element.insert(0, '_');
    }
    element
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters other than tab and newlines are not XML 1.0.
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    #[test]
    fn formats_follow_yourls() {
        assert_eq!(Format::of(None, None), Ok(Format::Xml));
        assert_eq!(Format::of(Some("JSON"), None), Ok(Format::Json));
        assert_eq!(Format::of(Some("simple"), None), Ok(Format::Simple));
        assert_eq!(Format::of(Some("csv"), None), Ok(Format::Simple));
        assert_eq!(
            Format::of(Some("jsonp"), Some("jQuery.cb_1$")),
            Ok(Format::Jsonp("jQuery.cb_1$".into()))
        );
        for bad in ["", "alert(1)", "a;b", "u0041x", "xU00e9", "a-b"] {
            let refused = Format::of(Some("jsonp"), Some(bad)).unwrap_err();
            assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{bad}");
            assert_eq!(refused.body["error"], "Invalid callback parameter");
        }
    }

    #[test]
    fn the_status_comes_from_the_answer() {
        assert_eq!(Answer::error(404, "x").status(), StatusCode::NOT_FOUND);
        assert_eq!(Answer::success(Map::new(), "").status(), StatusCode::OK);
        let mut both = Answer::error(400, "x");
        both.body.insert("statusCode".into(), "200".into());
        assert_eq!(both.status(), StatusCode::OK, "statusCode first");
        let numeric = Answer {
            body: object(json!({"errorCode": 403})),
            simple: String::new(),
        };
        assert_eq!(numeric.status(), StatusCode::FORBIDDEN);
    }

    #[test]
    fn xml_nests_members_and_escapes_text() {
        let body = object(json!({
            "db-stats": {"total_links": 2, "total_clicks": "5"},
            "links": {"link_1": {"title": "a <b> & \"c\"", "ok": true, "none": null}},
            "1st": "x\u{0001}y",
        }));
        assert_eq!(
            xml(&body),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<root><_1st>xy</_1st>\
             <db-stats><total_clicks>5</total_clicks><total_links>2</total_links></db-stats>\
             <links><link_1><none></none><ok>1</ok>\
             <title>a &lt;b&gt; &amp; &quot;c&quot;</title></link_1></links></root>"
        );
    }
}
