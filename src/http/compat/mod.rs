//! The APIs of other shorteners that kurz speaks too, so that their clients work against kurz
//! unchanged (`[compat]` in the configuration; docs/compat.md). Each is a thin layer over the
//! application layer (`crate::app`) and the store: no link logic of its own.

pub mod paging;
pub mod shlink;
pub mod yourls;

use std::time::Duration;

use crate::config::ShlinkSettings;
use paging::PageIndexes;

/// The page indexes of the numbered lists the compat APIs serve, one cache per kind of list.
pub struct CompatPages {
    /// Shlink's short URL list.
    pub links: PageIndexes<shlink::LinkList>,
    /// Shlink's lists of link visits: page 1 from the newest, later pages after an id (they
    /// read no other offset).
    pub visits: PageIndexes<shlink::LinkVisits>,
    /// Shlink's orphan visit list, likewise.
    pub orphans: PageIndexes<shlink::OrphanVisits>,
}

impl CompatPages {
    pub fn new(settings: &ShlinkSettings) -> Self {
        let ttl = Duration::from_secs(settings.page_index_ttl_secs.max(1));
        let keys = settings.page_index_keys;
        Self {
            links: PageIndexes::new(keys, ttl, settings.offset_rows),
            visits: PageIndexes::new(keys, ttl, 1),
            orphans: PageIndexes::new(keys, ttl, 1),
        }
    }
}
