//! The APIs of other shorteners that kurz speaks too, so that their clients work against kurz
//! unchanged (`[compat]` in the configuration; docs/compat.md). Each is a thin layer over the
//! application layer (`crate::app`) and the store: no link logic of its own.

pub mod shlink;
pub mod yourls;
