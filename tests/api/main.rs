//! The HTTP API, driven over the wire against a real server, on SQLite and on PostgreSQL.

#[path = "../common/mod.rs"]
mod common;

mod auth;
mod bad_input;
mod cache;
mod changes;
mod cluster;
#[cfg(feature = "explorer")]
mod explorer;
mod faults;
mod helpers;
mod limits;
mod live;
mod metrics;
mod openapi;
mod pagination;
mod process;
mod rate_limits;
mod redirects;
mod search;
mod shutdown;
mod site;
mod stats;
mod streams;
mod urls;
mod visits;
