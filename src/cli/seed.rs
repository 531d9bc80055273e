//! `kurz dev seed`: fills a database with URLs and visits for benchmarks, through the same
//! store calls the service uses (bulk URL import, batched visit writes with rollups), and
//! reports the visit ingest rate it reached.

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Instant;

use chrono::{Duration, Utc};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::Context;
use crate::app::{Links, PreparedLink};
use crate::config::Settings;
use crate::domain::{Cursor, Slug, TagName, TargetUrl};
use crate::store::{NewUrl, PageRequest, Store, UrlFilter};
use crate::visits::{EnqueueTimeouts, VisitCounters, VisitEvent, VisitQueue, VisitWriter};

#[derive(Debug, clap::Args)]
pub struct SeedArgs {
    /// URLs to create, with slugs b0000000, b0000001, ... (existing slugs are skipped).
    #[arg(long, default_value_t = 1_000)]
    pub urls: u64,
    /// Visits to record, spread over the URLs.
    #[arg(long, default_value_t = 10_000)]
    pub visits: u64,
    /// How many of those visits go to the first URL (b0000000), a heavily visited link.
    #[arg(long, default_value_t = 0)]
    pub hot_visits: u64,
    /// How the other visits pick their URL: `skewed` (a few links get most clicks, as in real
    /// traffic) or `uniform` (every visit a random link: the rollups' worst case).
    #[arg(long, value_enum, default_value_t = Spread::Skewed)]
    pub spread: Spread,
    /// Visits are spread over this many past days.
    #[arg(long, default_value_t = 90)]
    pub days: u32,
    /// Visits written per batch at most (default: the server's `visits.batch_size`).
    #[arg(long)]
    pub batch: Option<NonZeroUsize>,
    /// Tag the URLs with this many tags, t000 to t(N-1): link i gets tag i mod N, and every
    /// third link also tag (i / 3) mod N, so tags have about URLs / N * 4/3 links each.
    #[arg(long, default_value_t = 0)]
    pub tags: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Spread {
    Skewed,
    Uniform,
}

/// Browsers, phones, crawlers and scripts, in rough proportion to real traffic.
const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0",
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "curl/8.5.0",
];

const REFERRERS: &[Option<&str>] = &[
    None,
    None,
    None,
    Some("https://www.google.com/"),
    Some("https://news.ycombinator.com/item?id=1"),
    Some("https://t.co/abc"),
    Some("https://www.reddit.com/r/rust/"),
    Some("https://mail.example.com/inbox"),
];

pub async fn run(ctx: &Context, args: SeedArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.urls > 0, "--urls must be at least 1");
    let store = ctx.store().await?;
    let ids = seed_urls(&ctx.links().await?, store.as_ref(), args.urls, args.tags).await?;
    seed_visits(store, &ctx.settings, &args, &ids).await
}

/// The tags of seeded link `i` among `tags` tags (none when `tags` is 0).
fn seed_tags(i: u64, tags: u32) -> anyhow::Result<Vec<TagName>> {
    if tags == 0 {
        return Ok(Vec::new());
    }
    let tags = u64::from(tags);
    let mut picks = vec![i % tags];
    if i % 3 == 0 {
        picks.push((i / 3) % tags);
    }
    picks.sort_unstable();
    picks.dedup();
    Ok(picks
        .into_iter()
        .map(|n| TagName::parse(&format!("t{n:03}"), "tags"))
        .collect::<Result<_, _>>()?)
}

async fn seed_urls(
    links: &Links,
    store: &dyn Store,
    count: u64,
    tags: u32,
) -> anyhow::Result<Vec<i64>> {
    let started = Instant::now();
    let now = Utc::now();
    let mut created = 0;
    let mut next = 0u64;
    while next < count {
        let end = (next + 10_000).min(count);
        let batch: Vec<PreparedLink> = (next..end)
            .map(|i| {
                let url = NewUrl {
                    tags: seed_tags(i, tags)?,
                    ..NewUrl::plain(
                        Slug::for_lookup(&format!("b{i:07}"))
                            .ok_or_else(|| anyhow::anyhow!("bad slug"))?,
                        TargetUrl::parse(&format!("https://example.com/page/{i}"), 2048)?,
                        now,
                    )
                };
                Ok(PreparedLink {
                    url,
                    generated: false,
                })
            })
            .collect::<anyhow::Result<_>>()?;
        created += links.import(&batch).await?.created;
        next = end;
    }
    eprintln!(
        "urls: {created} created ({} existed) in {:.1}s",
        count - created,
        started.elapsed().as_secs_f64()
    );
    // The ids of the seeded URLs, read back with keyset pages.
    let mut ids = Vec::with_capacity(count as usize);
    let mut after: Option<Cursor> = None;
    loop {
        let page = store
            .list_urls(
                PageRequest {
                    after,
                    limit: 10_000,
                },
                UrlFilter::default(),
            )
            .await?;
        ids.extend(
            page.items
                .iter()
                .filter(|u| u.slug.as_str().starts_with('b'))
                .map(|u| {
                    (
                        u.slug.as_str()[1..].parse::<u64>().unwrap_or(u64::MAX),
                        u.id,
                    )
                }),
        );
        match page.next {
            Some(cursor) => after = Some(cursor),
            None => break,
        }
    }
    let mut ids: Vec<(u64, i64)> = ids.into_iter().filter(|(n, _)| *n < count).collect();
    ids.sort_unstable();
    Ok(ids.into_iter().map(|(_, id)| id).collect())
}

/// Sends the visits through the service's own pipeline (queue, writer, enrichment, batched
/// writes with rollups), as if they were clicks, and reports how fast they were stored.
async fn seed_visits(
    store: Arc<dyn Store>,
    settings: &Settings,
    args: &SeedArgs,
    ids: &[i64],
) -> anyhow::Result<()> {
    if args.visits == 0 {
        return Ok(());
    }
    let mut visit_settings = settings.visits.clone();
    let batch = args.batch.unwrap_or(visit_settings.batch_size);
    visit_settings.batch_size = batch;
    // The generator is faster than any database: let it wait for room rather than drop.
    let wait = std::time::Duration::from_secs(3600);
    let (queue, receiver, counters) = VisitQueue::new(
        batch.get() * 4,
        EnqueueTimeouts {
            storing: wait,
            failing: wait,
        },
    );
    let writer = VisitWriter::spawn(
        store.clone(),
        receiver,
        counters.clone(),
        &visit_settings,
        &settings.enrichment,
        crate::cluster::Cluster::memory(
            store.clone(),
            crate::live::LiveHub::new(&settings.live, crate::http::api::live::ENCODING),
            Arc::new(crate::cache::RedirectCache::new(
                &settings.cache,
                settings.redirect.status_code(),
            )),
        ),
        crate::geo::Geo::disabled(),
    );
    let mut rng = SmallRng::seed_from_u64(42);
    // Visits arrive in time order, oldest first, like clicks do.
    let span_ms = i64::from(args.days.max(1)) * 86_400_000;
    let first = Utc::now() - Duration::milliseconds(span_ms);
    let step_ms = span_ms as f64 / args.visits as f64;
    let hot_share = args.hot_visits as f64 / args.visits as f64;
    let started = Instant::now();
    for n in 0..args.visits {
        let url_id = if rng.gen_bool(hot_share) {
            ids[0]
        } else {
            ids[pick(&mut rng, args.spread, ids.len())]
        };
        queue
            .record(VisitEvent {
                url_id,
                at: first + Duration::milliseconds((n as f64 * step_ms) as i64),
                client_ip: std::net::IpAddr::from(rng.gen::<[u8; 4]>()),
                cap_taken: false,
                rule: None,
                user_agent: Some(USER_AGENTS[rng.gen_range(0..USER_AGENTS.len())].to_owned()),
                referrer: REFERRERS[rng.gen_range(0..REFERRERS.len())].map(str::to_owned),
            })
            .await;
        if (n + 1) % 1_000_000 == 0 {
            let stored = VisitCounters::get(&counters.stored);
            eprintln!(
                "visits: {} queued, {stored} stored ({:.0} visits/s)",
                n + 1,
                stored as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    drop(queue);
    writer.drain().await;
    let elapsed = started.elapsed().as_secs_f64();
    let stored = VisitCounters::get(&counters.stored);
    let dropped = VisitCounters::get(&counters.dropped);
    anyhow::ensure!(dropped == 0, "{dropped} visits were dropped");
    println!(
        "seeded {} URLs and {stored} visits; visit ingest {:.0} visits/s through the pipeline \
         ({} batches of up to {}, {} parallel parts)",
        ids.len(),
        stored as f64 / elapsed,
        VisitCounters::get(&counters.batches),
        batch,
        VisitWriter::parallelism(&visit_settings, store.as_ref()),
    );
    Ok(())
}

/// An index below `len`: uniformly, or skewed so that the first 1% of links take about 20% of
/// the visits and the first 10% about 46%.
fn pick(rng: &mut SmallRng, spread: Spread, len: usize) -> usize {
    match spread {
        Spread::Uniform => rng.gen_range(0..len),
        Spread::Skewed => {
            let r: f64 = rng.gen();
            ((r.powi(3) * len as f64) as usize).min(len - 1)
        }
    }
}
