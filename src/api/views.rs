//! The JSON shapes the API returns.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::state::AppState;
use crate::store::{UrlRecord, VisitRecord};

/// The URL resource.
#[derive(Debug, Serialize)]
pub struct UrlView {
    pub slug: String,
    pub short_url: String,
    pub url: String,
    pub title: Option<String>,
    pub crawlable: bool,
    pub visit_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl UrlView {
    pub fn new(state: &AppState, record: UrlRecord) -> Self {
        Self {
            short_url: state.short_url(&record.slug),
            slug: record.slug.to_string(),
            url: record.target.to_string(),
            title: record.title,
            crawlable: record.crawlable,
            visit_count: record.visit_count,
            created_at: record.created_at,
            updated_at: record.updated_at,
        }
    }
}

/// The URLVisit resource: one click.
#[derive(Debug, Serialize)]
pub struct VisitView {
    pub id: i64,
    /// The slug of the URL visited.
    pub url: String,
    pub visited_at: DateTime<Utc>,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
    pub referrer: Option<String>,
    pub referrer_host: Option<String>,
    pub browser: Option<String>,
    pub os: Option<String>,
    pub device: Option<String>,
    pub is_bot: bool,
}

impl From<VisitRecord> for VisitView {
    fn from(record: VisitRecord) -> Self {
        Self {
            id: record.id,
            url: record.slug.to_string(),
            visited_at: record.visited_at,
            client_ip: record.client_ip,
            user_agent: record.user_agent,
            referrer: record.referrer,
            referrer_host: record.referrer_host,
            browser: record.browser,
            os: record.os,
            device: record.device,
            is_bot: record.is_bot,
        }
    }
}
