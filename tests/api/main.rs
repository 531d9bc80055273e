//! The HTTP API, driven over the wire against a real server, on SQLite and on PostgreSQL.

#[path = "../common/mod.rs"]
mod common;

mod bad_input;
mod cache;
mod helpers;
mod pagination;
mod redirects;
mod shutdown;
mod site;
mod stats;
mod urls;
mod visits;
