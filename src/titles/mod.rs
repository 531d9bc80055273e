//! Titles fetched in the background for links created without one (`titles.fetch`): the
//! application layer announces such links on a bounded channel ([`crate::app::UntitledLink`]),
//! [`spawn`] fetches each target's page ([`TitleFetcher`]) and stores its title through
//! [`Links::fill_title`], so the change log and redirect cache eviction happen as for any
//! change, and a title set meanwhile is never replaced.

mod fetch;
mod html;

use std::sync::Arc;

use tokio::sync::{mpsc, Semaphore};

pub use fetch::{FetchError, TitleFetcher, MAX_REDIRECTS};
pub use html::page_title;

use crate::app::{Links, UntitledLink};

/// Pages fetched at once.
const CONCURRENT_FETCHES: usize = 8;

/// Starts the title worker; links sent on the answered channel get their titles. The worker
/// ends when every sender is gone.
pub fn spawn(fetcher: TitleFetcher, links: Links, capacity: usize) -> mpsc::Sender<UntitledLink> {
    let (sender, mut receiver) = mpsc::channel::<UntitledLink>(capacity);
    let links = Arc::new(links);
    let permits = Arc::new(Semaphore::new(CONCURRENT_FETCHES));
    tokio::spawn(async move {
        while let Some(link) = receiver.recv().await {
            let Ok(permit) = permits.clone().acquire_owned().await else {
                return;
            };
            let (fetcher, links) = (fetcher.clone(), links.clone());
            tokio::spawn(async move {
                fill(&fetcher, &links, link).await;
                drop(permit);
            });
        }
    });
    sender
}

#[tracing::instrument(skip_all, fields(slug = %link.slug))]
async fn fill(fetcher: &TitleFetcher, links: &Links, link: UntitledLink) {
    let title = match fetcher.title(&link.target).await {
        Ok(Some(title)) => title,
        Ok(None) => return tracing::debug!("the target page has no title"),
        Err(error) => {
            metrics::counter!("kurz_titles_failed_total").increment(1);
            return tracing::info!(%error, "no title fetched");
        }
    };
    match links.fill_title(&link.slug, &title).await {
        Ok(Some(_)) => {
            metrics::counter!("kurz_titles_fetched_total").increment(1);
            tracing::debug!(title = title.as_str(), "title fetched");
        }
        Ok(None) => tracing::debug!("the link has a title by now, or is gone"),
        Err(error) => tracing::warn!(%error, "cannot store the fetched title"),
    }
}
