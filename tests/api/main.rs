//! The HTTP API, driven over the wire against a real server. A test runs on SQLite
//! (`on_sqlite!`) unless its outcome depends on the database; then it runs on PostgreSQL too
//! (`on_both_backends!`). That the backends store alike is tests/store's job.

#[path = "../common/mod.rs"]
mod common;

mod auth;
mod bad_input;
mod cache;
mod changes;
mod cluster;
mod expiry;
#[cfg(feature = "explorer")]
mod explorer;
mod faults;
mod geo;
mod helpers;
mod limits;
mod live;
mod metrics;
mod openapi;
mod orphans;
mod pagination;
mod passwords;
mod process;
mod qr;
mod rate_limits;
mod redirects;
mod rules;
mod search;
mod shlink;
mod shlink_calls;
mod shlink_domains;
mod shlink_list;
mod shlink_qr;
mod shlink_rules;
mod shlink_sdk;
mod shlink_visits;
mod shlink_visits_admin;
mod shutdown;
mod site;
mod stats;
mod streams;
mod tags;
mod titles;
mod urls;
mod visits;
mod webhooks;
mod yourls;
mod yourls_client;
