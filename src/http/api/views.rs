//! The JSON shapes the API returns live in [`crate::views`], below the services, so that the
//! webhook deliverer renders the same objects without importing the HTTP layer.

pub use crate::views::*;
