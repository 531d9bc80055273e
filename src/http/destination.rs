//! Where a click on a link with redirect rules or query forwarding goes: the first rule whose
//! conditions all hold for it, else the link's own target, with the click's query string
//! appended when the link forwards queries. Links without either never come here.

use axum::http::HeaderValue;

use crate::cache::Routing;
use crate::domain::Click;

/// The `Location` for this click and the index of the rule that chose it (`None`: the link's
/// own target).
pub fn choose(
    routing: &Routing,
    own: HeaderValue,
    click: &Click<'_>,
) -> (HeaderValue, Option<i16>) {
    let matched = routing
        .rules
        .as_ref()
        .and_then(|rules| rules.first_match(click))
        // Built from the same rules: every rule has its location.
        .and_then(|(i, _)| Some((routing.locations.get(i)?.clone(), i)));
    let (location, rule) = match matched {
        // At most `MAX_RULES` (20) rules: the index fits.
        Some((location, i)) => (location, i16::try_from(i).ok()),
        None => (own, None),
    };
    let location = match click
        .query
        .filter(|q| routing.forward_query && !q.is_empty())
    {
        Some(query) => with_query(&location, query).unwrap_or(location),
        None => location,
    };
    (location, rule)
}

/// `location` with `query` appended: after its own query (`&`), before its fragment. `None`
/// when the result is not a header value (the query came from a request line, so it is).
fn with_query(location: &HeaderValue, query: &str) -> Option<HeaderValue> {
    let target = location.to_str().ok()?;
    let (base, fragment) = match target.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (target, None),
    };
    let separator = match base.find('?') {
        Some(at) if at + 1 == base.len() => "",
        Some(_) => "&",
        None => "?",
    };
    let mut merged = format!("{base}{separator}{query}");
    if let Some(fragment) = fragment {
        merged.push('#');
        merged.push_str(fragment);
    }
    HeaderValue::from_str(&merged).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merged(target: &str, query: &str) -> String {
        with_query(&HeaderValue::from_str(target).unwrap(), query)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn queries_are_appended_before_the_fragment() {
        assert_eq!(merged("https://e.com/p", "a=1"), "https://e.com/p?a=1");
        assert_eq!(
            merged("https://e.com/p?x=2", "a=1"),
            "https://e.com/p?x=2&a=1"
        );
        assert_eq!(merged("https://e.com/p?", "a=1"), "https://e.com/p?a=1");
        assert_eq!(
            merged("https://e.com/p#top", "a=1"),
            "https://e.com/p?a=1#top"
        );
        assert_eq!(
            merged("https://e.com/p?x=2#top", "a=%20b"),
            "https://e.com/p?x=2&a=%20b#top"
        );
    }
}
