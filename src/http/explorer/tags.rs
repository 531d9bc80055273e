//! The explorer's tag parts: the tag filter of the URL list (the chosen tags, each removable,
//! and the any/all switch; new tags are picked by a search box over the bounded
//! `GET /api/tags?q=`), and the page of one tag.

use serde_json::Value;

use super::pages::{link, Link};

/// The tag filter of `/api/urls`: what is chosen now, and the lists one step away.
pub struct TagFilter {
    /// Each chosen tag, its link the list without it.
    pub chosen: Vec<Link>,
    /// `tags=all`: links with every chosen tag.
    pub all: bool,
    /// The list with the other combination, when two or more tags are chosen.
    pub switch: Option<Link>,
    /// The list without any tag filter, when one is set.
    pub clear: Option<String>,
}

/// `/api/tags/{name}`: the tag, its counters, and where its links and statistics are.
pub struct TagDetail {
    pub name: String,
    pub links: i64,
    pub visits: i64,
    pub urls_href: String,
    pub stats_href: String,
}

/// The URL list at `query` with `tags` and, for several, `all`; the cursor is dropped (a
/// new filter starts at the first page), other parameters (`limit`) are kept.
fn list_href(query: &[(String, String)], tags: &[&str], all: bool) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in query {
        if !matches!(key.as_str(), "tag" | "tags" | "cursor") {
            out.append_pair(key, value);
        }
    }
    for tag in tags {
        out.append_pair("tag", tag);
    }
    if all && tags.len() > 1 {
        out.append_pair("tags", "all");
    }
    let query = out.finish();
    if query.is_empty() {
        "/api/urls".to_owned()
    } else {
        format!("/api/urls?{query}")
    }
}

impl TagFilter {
    /// The filter that the URL list's `query` parameters ask for.
    pub fn of(query: &[(String, String)]) -> Self {
        let mut tags: Vec<&str> = Vec::new();
        for (key, value) in query {
            if key == "tag" && !tags.contains(&value.as_str()) {
                tags.push(value);
            }
        }
        let all = query
            .iter()
            .any(|(key, value)| key == "tags" && value == "all");
        let chosen = tags
            .iter()
            .map(|tag| {
                let others: Vec<&str> = tags.iter().copied().filter(|t| t != tag).collect();
                link(list_href(query, &others, all), *tag)
            })
            .collect();
        let switch = (tags.len() > 1).then(|| {
            let label = if all { "any of them" } else { "all of them" };
            link(list_href(query, &tags, !all), label)
        });
        let clear = (!tags.is_empty()).then(|| list_href(query, &[], false));
        Self {
            chosen,
            all,
            switch,
            clear,
        }
    }
}

impl TagDetail {
    /// The tag in the API's answer (`TagView`), or `None` when it is not one.
    pub fn of(json: &Value) -> Option<Self> {
        let name = json["name"].as_str()?.to_owned();
        let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
        Some(Self {
            links: json["links"].as_i64().unwrap_or(0),
            visits: json["visits"].as_i64().unwrap_or(0),
            urls_href: format!("/api/urls?tag={encoded}"),
            stats_href: format!("/api/tags/{encoded}/stats"),
            name,
        })
    }
}

/// A link's tags, each a link to the list of links carrying it.
pub fn tag_links(json: &Value) -> Vec<Link> {
    json.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|name| {
            let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
            link(format!("/api/urls?tag={encoded}"), name)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn no_tag_is_no_filter() {
        let filter = TagFilter::of(&query(&[("limit", "5")]));
        assert!(filter.chosen.is_empty() && filter.switch.is_none() && filter.clear.is_none());
    }

    #[test]
    fn each_chosen_tag_links_to_the_list_without_it() {
        let filter = TagFilter::of(&query(&[
            ("tag", "a"),
            ("tag", "b"),
            ("tags", "all"),
            ("cursor", "xyz"),
            ("limit", "5"),
        ]));
        assert!(filter.all);
        let hrefs: Vec<&str> = filter.chosen.iter().map(|l| l.href.as_str()).collect();
        assert_eq!(
            hrefs,
            ["/api/urls?limit=5&tag=b", "/api/urls?limit=5&tag=a"]
        );
        let switch = filter.switch.expect("two tags can be switched");
        assert_eq!(switch.href, "/api/urls?limit=5&tag=a&tag=b");
        assert_eq!(switch.label, "any of them");
        assert_eq!(filter.clear.as_deref(), Some("/api/urls?limit=5"));
    }

    #[test]
    fn one_tag_has_no_switch_and_a_tag_given_twice_counts_once() {
        let filter = TagFilter::of(&query(&[("tag", "a"), ("tag", "a")]));
        assert_eq!(filter.chosen.len(), 1);
        assert_eq!(filter.chosen[0].href, "/api/urls");
        assert!(filter.switch.is_none());
        let any = TagFilter::of(&query(&[("tag", "a"), ("tag", "b")]));
        assert_eq!(
            any.switch.expect("a switch").href,
            "/api/urls?tag=a&tag=b&tags=all"
        );
    }

    #[test]
    fn tag_names_are_encoded_in_links() {
        let links = tag_links(&serde_json::json!(["q4", "a&b"]));
        assert_eq!(links[0].href, "/api/urls?tag=q4");
        assert_eq!(links[1].href, "/api/urls?tag=a%26b");
        assert!(TagDetail::of(&serde_json::json!({"title": "no tag"})).is_none());
    }
}
