//! kurz: a self-hosted URL shortener with click tracking.

pub mod app;
pub mod cache;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod domain;
pub mod geo;
pub mod http;
pub mod live;
pub mod logging;
pub mod outbound;
pub mod prometheus;
pub mod qr;
pub mod readiness;
pub mod startup;
pub mod store;
pub mod titles;
pub mod views;
pub mod visits;
pub mod webhooks;
