//! Everything HTTP: the router and its middleware, the redirect lane, the site routes, the
//! JSON API (live streams included), the development explorer, and the connection loop.
//! Handlers extract, call the application layer (`crate::app`) or read the store, and render.

pub mod api;
pub mod auth;
pub mod compat;
pub mod destination;
pub mod error;
#[cfg(feature = "explorer")]
pub mod explorer;
pub mod gate;
pub mod lane;
pub mod middleware;
pub mod orphans;
pub mod protected;
pub mod qr;
pub mod rate_limit;
pub mod redirect;
pub mod router;
pub mod serve;
pub mod site;
pub mod state;
