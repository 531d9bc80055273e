//! What each explorer page shows, decided from the endpoint's path and its JSON answer.

use std::collections::HashMap;

use askama::Template;
use axum::http::StatusCode;
use chrono::{Days, Utc};
use serde_json::Value;

use super::chart::{self, Chart};
use super::tags::{tag_links, TagDetail, TagFilter};
use super::webhooks::{self, AttemptList, WebhookDetail, WebhookList};
use crate::domain::Slug;
use crate::http::state::AppState;
use crate::store::{PageRequest, StatsOf, StatsQuery, VisitFilter};

/// Days of the chart on a URL's page.
const CHART_DAYS: u64 = 30;
/// Visits listed on a URL's page.
const RECENT_VISITS: u32 = 10;

pub struct Link {
    pub href: String,
    pub label: String,
}

pub struct VisitFilterForm {
    /// Where the filter form goes: `/api/visits` or a URL's own visits.
    pub action: String,
    /// `None` when the URL is fixed by the path.
    pub url: Option<String>,
    pub from: String,
    pub to: String,
    pub bot: String,
}

pub struct RecentVisit {
    pub time: String,
    pub browser: String,
    pub os: String,
    pub device: String,
    pub referrer: String,
    /// City and country (`Berlin, DE`), as much as is known, or `-`.
    pub location: String,
    pub is_bot: bool,
}

/// One row of a statistics page's country table.
pub struct CountryRow {
    /// The country code, or `unknown`.
    pub label: String,
    pub visits: i64,
}

pub struct UrlDetail {
    pub slug: String,
    pub short_url: String,
    pub target: String,
    pub title: String,
    pub crawlable: bool,
    /// `None`: the server's `redirect.status`.
    pub redirect_status: Option<u16>,
    /// The window's bounds as a `datetime-local` input holds them (UTC), or empty.
    pub valid_since: String,
    pub valid_until: String,
    /// The cap, or empty.
    pub max_visits: String,
    pub visits_left: Option<i64>,
    pub password_protected: bool,
    pub forward_query: bool,
    /// The rules as pretty JSON, or empty when there are none.
    pub rules: String,
    /// Each tag, a link to the list of links carrying it.
    pub tags: Vec<Link>,
    /// The tags as the edit form's field holds them: names separated by spaces.
    pub tags_text: String,
    pub visit_count: i64,
    pub visits: Vec<RecentVisit>,
    pub visits_href: String,
    pub stats_href: String,
}

#[derive(Template)]
#[template(path = "explorer/page.html")]
pub struct ExplorerPage {
    pub title: String,
    pub request_line: String,
    pub status: u16,
    pub failed: bool,
    pub json: String,
    pub csrf: String,
    pub crumbs: Vec<Link>,
    pub next: Option<String>,
    pub resources: Vec<Link>,
    pub create_form: bool,
    pub url_picker: bool,
    /// `/api/tags`: a search box over the tags, opening the chosen one.
    pub tag_picker: bool,
    /// `/api/urls`: the tags filtering the list, and a search box adding one.
    pub tag_filter: Option<TagFilter>,
    /// `/api/tags/{name}`: the tag, with rename and delete forms.
    pub tag: Option<TagDetail>,
    pub visit_filter: Option<VisitFilterForm>,
    pub detail: Option<UrlDetail>,
    /// `/api/webhooks`: the endpoints and the form registering one.
    pub webhooks: Option<WebhookList>,
    /// `/api/webhooks/{id}`: the endpoint, with edit and delete forms.
    pub webhook: Option<WebhookDetail>,
    /// `/api/webhooks/{id}/deliveries`: the attempts of one page.
    pub attempts: Option<AttemptList>,
    pub chart: Option<Chart>,
    /// A statistics page's top countries.
    pub countries: Vec<CountryRow>,
    pub chart_width: u32,
    pub chart_height: u32,
    /// The choices of the forms' redirect status.
    pub redirect_statuses: &'static [u16],
    /// `redirect.forward_query`: the create form's checkbox starts so.
    pub forward_query_default: bool,
}

enum Endpoint {
    Root,
    Urls,
    Url(String),
    UrlVisits(String),
    UrlStats(String),
    Visits,
    OrphanVisits,
    SiteStats,
    Tags,
    Tag(String),
    TagStats(String),
    Webhooks,
    Webhook(String),
    WebhookDeliveries(String),
    Other,
}

fn classify(path: &str) -> Endpoint {
    let rest = path.trim_start_matches("/api").trim_matches('/');
    let parts: Vec<&str> = if rest.is_empty() {
        Vec::new()
    } else {
        rest.split('/').collect()
    };
    match parts.as_slice() {
        [] => Endpoint::Root,
        ["urls"] => Endpoint::Urls,
        ["urls", "search"] => Endpoint::Other,
        ["urls", slug] => Endpoint::Url((*slug).to_owned()),
        ["urls", slug, "visits"] => Endpoint::UrlVisits((*slug).to_owned()),
        ["urls", slug, "stats"] => Endpoint::UrlStats((*slug).to_owned()),
        ["visits"] => Endpoint::Visits,
        ["visits", "orphan"] => Endpoint::OrphanVisits,
        ["visits", "stats"] => Endpoint::SiteStats,
        ["tags"] => Endpoint::Tags,
        ["tags", name] => Endpoint::Tag((*name).to_owned()),
        ["tags", name, "stats"] => Endpoint::TagStats((*name).to_owned()),
        ["webhooks"] => Endpoint::Webhooks,
        ["webhooks", id] => Endpoint::Webhook((*id).to_owned()),
        ["webhooks", id, "deliveries"] => Endpoint::WebhookDeliveries((*id).to_owned()),
        _ => Endpoint::Other,
    }
}

pub(super) fn link(href: impl Into<String>, label: impl Into<String>) -> Link {
    Link {
        href: href.into(),
        label: label.into(),
    }
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or("").to_owned()
}

pub async fn build(
    state: &AppState,
    path: &str,
    query: &str,
    status: StatusCode,
    json: Value,
    csrf: String,
) -> ExplorerPage {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let params: HashMap<String, String> = pairs.iter().cloned().collect();
    let ok = status.is_success();
    let mut page = ExplorerPage {
        title: "kurz API".into(),
        request_line: if query.is_empty() {
            format!("GET {path}")
        } else {
            format!("GET {path}?{query}")
        },
        status: status.as_u16(),
        failed: !ok,
        json: serde_json::to_string_pretty(&json).unwrap_or_default(),
        csrf,
        crumbs: vec![link("/api", "API")],
        next: json.get("next").and_then(Value::as_str).map(str::to_owned),
        resources: Vec::new(),
        create_form: false,
        url_picker: false,
        tag_picker: false,
        tag_filter: None,
        tag: None,
        visit_filter: None,
        detail: None,
        webhooks: None,
        webhook: None,
        attempts: None,
        chart: None,
        countries: Vec::new(),
        chart_width: chart::WIDTH,
        chart_height: chart::HEIGHT,
        redirect_statuses: &crate::domain::RedirectStatus::ALLOWED,
        forward_query_default: state.settings.redirect.forward_query,
    };
    let visit_filter = |action: String, url: Option<String>| VisitFilterForm {
        action,
        url,
        from: params.get("from").cloned().unwrap_or_default(),
        to: params.get("to").cloned().unwrap_or_default(),
        bot: params.get("bot").cloned().unwrap_or_default(),
    };
    match classify(path) {
        Endpoint::Root => {
            page.resources = vec![
                link("/api/urls", "URLs: the short links"),
                link("/api/visits", "Visits: every click, newest first"),
                link(
                    "/api/visits/orphan",
                    "Orphan visits: clicks that reached no link",
                ),
                link(
                    "/api/visits/stats",
                    "Site statistics: link and orphan visits per day",
                ),
                link(
                    "/api/tags",
                    "Tags: the links' labels, to filter and count by",
                ),
                link(
                    "/api/webhooks",
                    "Webhooks: endpoints that receive kurz's events (admins)",
                ),
            ];
        }
        Endpoint::Urls => {
            page.title = "URLs".into();
            page.crumbs.push(link("/api/urls", "URLs"));
            page.create_form = true;
            page.url_picker = true;
            page.tag_filter = Some(TagFilter::of(&pairs));
        }
        Endpoint::Url(slug) => {
            page.title = format!("URL {slug}");
            page.crumbs.push(link("/api/urls", "URLs"));
            page.crumbs
                .push(link(format!("/api/urls/{slug}"), slug.clone()));
            if ok {
                page.detail = url_detail(state, &slug, &json).await;
                page.chart = url_chart(state, &slug).await;
            }
        }
        Endpoint::UrlVisits(slug) => {
            page.title = format!("Visits of {slug}");
            page.crumbs.push(link("/api/urls", "URLs"));
            page.crumbs
                .push(link(format!("/api/urls/{slug}"), slug.clone()));
            page.crumbs
                .push(link(format!("/api/urls/{slug}/visits"), "visits"));
            page.visit_filter = Some(visit_filter(format!("/api/urls/{slug}/visits"), None));
        }
        Endpoint::UrlStats(slug) => {
            page.title = format!("Statistics of {slug}");
            page.crumbs.push(link("/api/urls", "URLs"));
            page.crumbs
                .push(link(format!("/api/urls/{slug}"), slug.clone()));
            page.crumbs
                .push(link(format!("/api/urls/{slug}/stats"), "stats"));
            if ok {
                page.chart = stats_chart(&json);
                page.countries = country_rows(&json);
            }
        }
        Endpoint::Visits => {
            page.title = "Visits".into();
            page.crumbs.push(link("/api/visits", "visits"));
            let url = params.get("url").cloned().unwrap_or_default();
            page.visit_filter = Some(visit_filter("/api/visits".into(), Some(url)));
        }
        Endpoint::OrphanVisits => {
            page.title = "Orphan visits".into();
            page.crumbs.push(link("/api/visits", "visits"));
            page.crumbs.push(link("/api/visits/orphan", "orphan"));
            page.resources = orphan_type_links(params.get("type").map(String::as_str));
        }
        Endpoint::SiteStats => {
            page.title = "Site statistics".into();
            page.crumbs.push(link("/api/visits", "visits"));
            page.crumbs.push(link("/api/visits/stats", "stats"));
            page.resources = orphan_type_links(None);
            if ok {
                page.chart = stats_chart(&json);
            }
        }
        Endpoint::Tags => {
            page.title = "Tags".into();
            page.crumbs.push(link("/api/tags", "tags"));
            page.tag_picker = true;
        }
        Endpoint::Tag(name) => {
            page.title = format!("Tag {name}");
            page.crumbs.push(link("/api/tags", "tags"));
            page.crumbs.push(link(format!("/api/tags/{name}"), name));
            if ok {
                page.tag = TagDetail::of(&json);
            }
        }
        Endpoint::TagStats(name) => {
            page.title = format!("Statistics of tag {name}");
            page.crumbs.push(link("/api/tags", "tags"));
            page.crumbs
                .push(link(format!("/api/tags/{name}"), name.clone()));
            page.crumbs
                .push(link(format!("/api/tags/{name}/stats"), "stats"));
            if ok {
                page.chart = stats_chart(&json);
                page.countries = country_rows(&json);
            }
        }
        Endpoint::Webhooks => {
            page.title = "Webhooks".into();
            page.crumbs.extend(webhooks::crumbs(None));
            page.webhooks = ok.then(|| WebhookList::of(&json));
        }
        Endpoint::Webhook(id) => {
            page.title = format!("Webhook {id}");
            page.crumbs.extend(webhooks::crumbs(Some(&id)));
            page.webhook = ok.then(|| WebhookDetail::of(&json)).flatten();
        }
        Endpoint::WebhookDeliveries(id) => {
            page.title = format!("Deliveries of webhook {id}");
            page.crumbs.extend(webhooks::crumbs(Some(&id)));
            page.crumbs
                .push(link(format!("/api/webhooks/{id}/deliveries"), "deliveries"));
            page.attempts = ok.then(|| AttemptList::of(&id, &json)).flatten();
        }
        Endpoint::Other => {}
    }
    page
}

/// The orphan visit list by each type (and all of them), the one shown left out.
fn orphan_type_links(shown: Option<&str>) -> Vec<Link> {
    let all = (shown.is_some()).then(|| link("/api/visits/orphan", "Orphan visits of every type"));
    all.into_iter()
        .chain(
            crate::domain::OrphanKind::ALL
                .iter()
                .filter(|kind| Some(kind.as_str()) != shown)
                .map(|kind| {
                    link(
                        format!("/api/visits/orphan?type={kind}"),
                        format!("Orphan visits: {kind}"),
                    )
                }),
        )
        .collect()
}

async fn url_detail(state: &AppState, slug: &str, json: &Value) -> Option<UrlDetail> {
    let slug = Slug::for_lookup(slug)?;
    let url = state.store.get_url(&slug).await.ok()?;
    let filter = VisitFilter {
        url_id: Some(url.id),
        ..VisitFilter::default()
    };
    let request = PageRequest {
        after: None,
        limit: RECENT_VISITS,
    };
    let visits = state
        .store
        .list_visits(filter, request)
        .await
        .map(|page| page.items)
        .unwrap_or_default();
    let or_dash = |value: Option<String>| value.unwrap_or_else(|| "-".into());
    let tags = tag_links(&json["tags"]);
    Some(UrlDetail {
        slug: slug.to_string(),
        short_url: text(&json["short_url"]),
        target: text(&json["url"]),
        title: text(&json["title"]),
        crawlable: json["crawlable"].as_bool().unwrap_or(false),
        redirect_status: json["redirect_status"]
            .as_u64()
            .and_then(|s| u16::try_from(s).ok()),
        valid_since: local_input(&json["valid_since"]),
        valid_until: local_input(&json["valid_until"]),
        max_visits: json["max_visits"]
            .as_i64()
            .map(|cap| cap.to_string())
            .unwrap_or_default(),
        visits_left: json["visits_left"].as_i64(),
        password_protected: json["password_protected"].as_bool().unwrap_or(false),
        forward_query: json["forward_query"].as_bool().unwrap_or(false),
        rules: match json["rules"].as_array() {
            Some(rules) if !rules.is_empty() => {
                serde_json::to_string_pretty(&json["rules"]).unwrap_or_default()
            }
            _ => String::new(),
        },
        tags_text: tags
            .iter()
            .map(|tag| tag.label.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        tags,
        visit_count: json["visit_count"].as_i64().unwrap_or(0),
        visits: visits
            .into_iter()
            .map(|v| RecentVisit {
                time: v.visited_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                browser: or_dash(v.browser),
                os: or_dash(v.os),
                device: or_dash(v.device),
                referrer: or_dash(v.referrer_host),
                location: place(&v.location),
                is_bot: v.is_bot,
            })
            .collect(),
        visits_href: format!("/api/urls/{slug}/visits"),
        stats_href: format!("/api/urls/{slug}/stats"),
    })
}

async fn url_chart(state: &AppState, slug: &str) -> Option<Chart> {
    let slug = Slug::for_lookup(slug)?;
    let url = state.store.get_url(&slug).await.ok()?;
    let to = Utc::now().date_naive();
    let stats = state
        .store
        .url_stats(StatsQuery {
            of: StatsOf::Url(url.id),
            from: to.checked_sub_days(Days::new(CHART_DAYS - 1))?,
            to,
            include_bots: false,
            top: 1,
        })
        .await
        .ok()?;
    Some(Chart::of(&stats.days))
}

/// `Berlin, DE`, `DE`, or `-` when nothing is known.
fn place(location: &crate::domain::Location) -> String {
    let parts: Vec<&str> = [
        location.city.as_deref(),
        location.country.as_ref().map(|c| c.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}

/// The `countries` of a statistics answer as table rows.
fn country_rows(json: &Value) -> Vec<CountryRow> {
    json["countries"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|row| CountryRow {
                    label: row["value"].as_str().unwrap_or("unknown").to_owned(),
                    visits: row["visits"].as_i64().unwrap_or(0),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn stats_chart(json: &Value) -> Option<Chart> {
    let days = json["days"]
        .as_array()?
        .iter()
        .filter_map(|day| {
            Some(crate::store::DayCount {
                day: day["day"].as_str()?.parse().ok()?,
                visits: day["visits"].as_i64()?,
            })
        })
        .collect::<Vec<_>>();
    Some(Chart::of(&days))
}

/// An RFC 3339 time of the resource as a `datetime-local` value in UTC (to the second), or
/// empty when it is `null`.
fn local_input(value: &serde_json::Value) -> String {
    value
        .as_str()
        .and_then(|text| chrono::DateTime::parse_from_rfc3339(text).ok())
        .map(|time| {
            time.with_timezone(&chrono::Utc)
                .format("%Y-%m-%dT%H:%M:%S")
                .to_string()
        })
        .unwrap_or_default()
}
