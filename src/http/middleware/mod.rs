//! The middleware of the full stack, one file each; `super::router` composes them. (The
//! redirect lane has its own lean layer, `super::lane`.)

pub mod admission;
#[cfg(feature = "explorer")]
pub mod csrf;
#[cfg(feature = "explorer")]
pub mod negotiate;
pub mod problem_bodies;
pub mod readiness;
pub mod request_metrics;
