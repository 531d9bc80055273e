//! YOURLS's actions over kurz's links: `shorturl` creates through the application layer,
//! the others read through it or the store. Each answers in YOURLS's shapes (strings for
//! status codes, `link_1`.. for lists), which its clients read member by member.

use std::net::IpAddr;

use serde_json::{json, Map, Value};

use super::output::Answer;
use super::params::YourlsParams;
use crate::app::{AppError, LinkInput};
use crate::domain::{Slug, TargetUrl};
use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::store::{UrlRank, UrlRecord};

/// The most links one `stats` call lists.
pub const MAX_STATS_LIMIT: u32 = 1000;

/// The database version `version&db=1` reports: YOURLS 1.10's.
const DB_VERSION: &str = "507";

/// What `stats` and `db-stats` answer in `simple`, as YOURLS does.
const STATS_NEED_A_FORMAT: &str = "Need either XML or JSON format for stats";

fn members(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// `YYYY-MM-DD HH:MM:SS` (UTC), YOURLS's `date` and `timestamp`.
fn yourls_time(record: &UrlRecord) -> String {
    record.created_at.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A link as YOURLS's `url` and `link` objects show one. `ip` is empty: kurz does not keep
/// the address a link was created from.
fn link_object(state: &AppState, record: &UrlRecord) -> Value {
    json!({
        "keyword": record.slug.as_str(),
        "shorturl": format!("{}/{}", state.public_url, record.slug),
        "url": record.target.as_str(),
        "title": record.title.as_deref().unwrap_or_default(),
        "date": yourls_time(record),
        "timestamp": yourls_time(record),
        "ip": "",
        "clicks": record.visit_count.to_string(),
    })
}

/// A failed `shorturl`: `status` fail, YOURLS's `code`, the status in both `errorCode` and
/// `statusCode`.
fn shorturl_failure(status: u16, code: &str, message: String) -> Answer {
    let mut answer = Answer::error(status, &message);
    answer.body.insert("status".into(), "fail".into());
    answer.body.insert("code".into(), code.into());
    answer
        .body
        .insert("statusCode".into(), status.to_string().into());
    answer
}

/// `shorturl`: `url`, optional `keyword` and `title`.
pub async fn shorturl(
    state: &AppState,
    caller: Caller,
    client: IpAddr,
    params: &YourlsParams,
) -> Answer {
    let Some(url) = params.text(&params.url) else {
        return shorturl_failure(400, "error:nourl", "Missing or malformed URL".into());
    };
    if !caller.may_create() {
        return Answer::error(403, "Please log in");
    }
    if let Err(limited) = state.rate_limits.check_create(caller.creator(client)) {
        return api_failure(limited);
    }
    let Ok(target) = TargetUrl::parse(url, state.settings.target.max_length) else {
        return shorturl_failure(400, "error:nourl", "Missing or malformed URL".into());
    };
    if target
        .as_str()
        .starts_with(&format!("{}/", state.public_url))
    {
        return shorturl_failure(400, "error:noloop", "URL is a short URL".into());
    }
    if state.settings.compat.yourls.unique_urls {
        let owner = caller.owner_filter();
        match state.store.find_urls_by_target(&target, owner, 1).await {
            Ok(found) => {
                if let Some(existing) = found.first() {
                    return duplicate(state, existing);
                }
            }
            Err(error) => return api_failure(error.into()),
        }
    }
    let keyword = params.text(&params.keyword);
    let created = state
        .links
        .create(LinkInput {
            url: url.to_owned(),
            slug: keyword.map(str::to_owned),
            title: params.text(&params.title).map(str::to_owned),
            crawlable: false,
            created_by: caller.key_id(),
            created_at: None,
            redirect_status: None,
            valid_since: None,
            valid_until: None,
            max_visits: None,
            rules: Vec::new(),
            forward_query: None,
            password: None,
            password_hash: None,
            tags: Vec::new(),
        })
        .await;
    let record = match created {
        Ok(record) => record,
        Err(AppError::SlugTaken(_)) => return keyword_taken(keyword.unwrap_or_default()),
        Err(AppError::Invalid(invalid)) => {
            return match invalid.field.as_ref() {
                "url" => shorturl_failure(400, "error:nourl", "Missing or malformed URL".into()),
                "slug" => keyword_taken(keyword.unwrap_or_default()),
                field => shorturl_failure(
                    400,
                    &format!("error:{field}"),
                    format!("{field}: {}", invalid.reason),
                ),
            };
        }
        Err(other) => return api_failure(other.into()),
    };
    let link = link_object(state, &record);
    let short = format!("{}/{}", state.public_url, record.slug);
    let mut body = members(json!({
        "url": link,
        "status": "success",
        "code": "",
        "errorCode": "",
        "message": format!("{} added to database", record.target),
        "title": record.title.as_deref().unwrap_or_default(),
        "shorturl": short,
    }));
    body.insert("statusCode".into(), "200".into());
    Answer {
        body,
        simple: short,
    }
}

fn keyword_taken(keyword: &str) -> Answer {
    shorturl_failure(
        400,
        "error:keyword",
        format!("Short URL {keyword} already exists in database or is reserved"),
    )
}

/// YOURLS's answer to a long URL it has already (`YOURLS_UNIQUE_URLS`): 400 with the
/// existing short URL.
fn duplicate(state: &AppState, existing: &UrlRecord) -> Answer {
    let short = format!("{}/{}", state.public_url, existing.slug);
    let shown = short
        .split_once("://")
        .map_or(short.as_str(), |(_, rest)| rest);
    let mut answer = shorturl_failure(
        400,
        "error:url",
        format!(
            "{} already exists in database (short URL: {shown})",
            existing.target
        ),
    );
    answer
        .body
        .insert("url".into(), link_object(state, existing));
    answer.body.insert(
        "title".into(),
        existing.title.as_deref().unwrap_or_default().into(),
    );
    answer.body.insert("shorturl".into(), short.clone().into());
    answer.simple = short;
    answer
}

/// The link a `shorturl` parameter names (a short URL of this server, or its keyword), if
/// this caller may read it.
async fn named_link(
    state: &AppState,
    caller: Caller,
    params: &YourlsParams,
) -> Result<(String, UrlRecord), Answer> {
    let given = params.text(&params.shorturl).unwrap_or_default();
    let keyword = given
        .strip_prefix(&format!("{}/", state.public_url))
        .unwrap_or(given)
        .trim_matches('/');
    let not_found = || {
        let mut answer = Answer::error(404, "Error: short URL not found");
        answer.body.insert("keyword".into(), keyword.into());
        answer.simple = "not found".into();
        answer
    };
    let slug = Slug::for_lookup(keyword).ok_or_else(not_found)?;
    match state.links.get(&slug).await {
        Ok(record) if caller.may_read_url(&record) => Ok((keyword.to_owned(), record)),
        Ok(_) | Err(AppError::NoSuchLink(_)) => Err(not_found()),
        Err(other) => Err(api_failure(other.into())),
    }
}

/// `expand`: a short URL's long URL.
pub async fn expand(state: &AppState, caller: Caller, params: &YourlsParams) -> Answer {
    let (keyword, record) = match named_link(state, caller, params).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let body = members(json!({
        "keyword": keyword,
        "shorturl": format!("{}/{}", state.public_url, record.slug),
        "longurl": record.target.as_str(),
        "title": record.title.as_deref().unwrap_or_default(),
    }));
    Answer::success(body, record.target.as_str())
}

/// `url-stats`: one link with its clicks.
pub async fn url_stats(state: &AppState, caller: Caller, params: &YourlsParams) -> Answer {
    let (_, record) = match named_link(state, caller, params).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let mut body = Map::new();
    body.insert("link".into(), link_object(state, &record));
    Answer::success(body, STATS_NEED_A_FORMAT)
}

/// How many links and clicks this caller sees: all, or an editor's own.
async fn totals(state: &AppState, caller: Caller) -> Result<Value, Answer> {
    let owner = caller.owner_filter();
    let links = state.store.link_total(owner).await;
    let clicks = state.store.visit_total(owner).await;
    match (links, clicks) {
        (Ok(links), Ok(clicks)) => Ok(json!({"total_links": links, "total_clicks": clicks})),
        (Err(error), _) | (_, Err(error)) => Err(api_failure(error.into())),
    }
}

/// `stats`: `limit` links by `filter` after `start`, with the totals.
pub async fn stats(state: &AppState, caller: Caller, params: &YourlsParams) -> Answer {
    let rank = match params.text(&params.filter) {
        Some("bottom") => UrlRank::LeastVisited,
        Some("last") => UrlRank::Newest,
        Some("rand" | "random") => UrlRank::Random,
        _ => UrlRank::MostVisited,
    };
    let limit = params.number(&params.limit, 10).clamp(1, MAX_STATS_LIMIT);
    let start = params.number(&params.start, 0);
    let owner = caller.owner_filter();
    let records = match state.store.ranked_urls(rank, start, limit, owner).await {
        Ok(records) => records,
        Err(error) => return api_failure(error.into()),
    };
    let totals = match totals(state, caller).await {
        Ok(totals) => totals,
        Err(answer) => return answer,
    };
    let links: Map<String, Value> = records
        .iter()
        .enumerate()
        .map(|(i, record)| (format!("link_{}", i + 1), link_object(state, record)))
        .collect();
    let mut body = Map::new();
    body.insert("links".into(), Value::Object(links));
    body.insert("stats".into(), totals);
    Answer::success(body, STATS_NEED_A_FORMAT)
}

/// `db-stats`: how many links and clicks.
pub async fn db_stats(state: &AppState, caller: Caller) -> Answer {
    match totals(state, caller).await {
        Ok(totals) => {
            let mut body = Map::new();
            body.insert("db-stats".into(), totals);
            Answer::success(body, STATS_NEED_A_FORMAT)
        }
        Err(answer) => answer,
    }
}

/// `version`: the YOURLS version kurz answers as, and with `db=1` its database version.
pub fn version(state: &AppState, params: &YourlsParams) -> Answer {
    let version = state.settings.compat.yourls.version.clone();
    let mut body = Map::new();
    body.insert("version".into(), version.clone().into());
    if params.text(&params.db) == Some("1") {
        body.insert("db_version".into(), DB_VERSION.into());
    }
    Answer::success(body, version)
}

/// An error of kurz's own (a rate limit, the database) in YOURLS's error shape, with the status
/// kurz would answer; a server error is logged as the native API logs it.
fn api_failure(error: ApiError) -> Answer {
    let status = error.status();
    if status.is_server_error() {
        tracing::error!(error = %error, "a YOURLS API request failed");
        return Answer::error(status.as_u16(), "Error: the request could not be served");
    }
    Answer::error(status.as_u16(), &error.to_string())
}
