//! kurz: a self-hosted URL shortener with click tracking.

pub mod api;
pub mod app;
pub mod auth;
pub mod cache;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod domain;
pub mod error;
#[cfg(feature = "explorer")]
pub mod explorer;
pub mod lane;
pub mod limits;
pub mod live;
pub mod monitoring;
pub mod rate_limit;
pub mod readiness;
pub mod redirect;
pub mod serve;
pub mod site;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod visits;
