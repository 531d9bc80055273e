//! Load tool for the live streams: opens N WebSocket subscribers to `/api/visits/live` (or
//! another live path), counts what they receive and measures delivery latency: the time a
//! message is received minus the visit's `visited_at` (stamped by the redirect handler), so
//! it spans the whole pipeline: queue, batch writer, relay, fan-out and the socket.
//!
//! ```text
//! cargo run --release --example live_subscribers -- \
//!     --url ws://127.0.0.1:18080/api/visits/live --subscribers 1000 --seconds 15
//! ```
//!
//! Prints one line, `subscribers=.. connected=.. visits=.. lagged=.. missed=.. p50_ms=..
//! p99_ms=.. max_ms=..`, after `--seconds` (counted from when every subscriber is connected);
//! `--ready-file` is created at that moment, for scripts that start the load then. Runs on
//! the same machine as kurz, so the two clocks are one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::Parser;
use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;

#[derive(Parser)]
struct Args {
    /// The live stream's WebSocket URL. `{i}` in it becomes the subscriber's number, seven
    /// digits wide, so `.../api/urls/b{i}/visits/live` gives each subscriber its own seeded
    /// link (`kurz dev seed` names them b0000000, b0000001, ...).
    #[arg(long, default_value = "ws://127.0.0.1:8080/api/visits/live")]
    url: String,
    #[arg(long, default_value_t = 50)]
    subscribers: usize,
    /// How long to listen once every subscriber is connected.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Created once every subscriber is connected.
    #[arg(long)]
    ready_file: Option<std::path::PathBuf>,
}

/// Latencies in 1 ms buckets up to a minute (the last bucket holds everything slower).
const BUCKETS: usize = 60_000;

struct Tally {
    connected: AtomicU64,
    visits: AtomicU64,
    lagged: AtomicU64,
    missed: AtomicU64,
    latency_ms: Vec<AtomicU64>,
}

impl Tally {
    fn record(&self, text: &str, now: DateTime<Utc>) {
        if text.starts_with(r#"{"type":"visit""#) {
            self.visits.fetch_add(1, Ordering::Relaxed);
            if let Some(at) = visited_at(text) {
                let ms = (now - at).num_milliseconds().clamp(0, BUCKETS as i64 - 1) as usize;
                self.latency_ms[ms].fetch_add(1, Ordering::Relaxed);
            }
        } else if text.starts_with(r#"{"type":"lagged""#) {
            self.lagged.fetch_add(1, Ordering::Relaxed);
            let missed: Option<u64> = serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .and_then(|v| v["missed"].as_u64());
            self.missed
                .fetch_add(missed.unwrap_or(0), Ordering::Relaxed);
        }
    }

    fn percentile(&self, p: f64) -> Option<usize> {
        let counts: Vec<u64> = self
            .latency_ms
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = ((total as f64) * p).ceil().max(1.0) as u64;
        let mut seen = 0;
        counts.iter().position(|c| {
            seen += c;
            seen >= rank
        })
    }
}

/// `visited_at` without parsing the whole message (the tool must stay cheaper than kurz).
fn visited_at(text: &str) -> Option<DateTime<Utc>> {
    const KEY: &str = r#""visited_at":""#;
    let start = text.find(KEY)? + KEY.len();
    let end = start + text[start..].find('"')?;
    text[start..end].parse().ok()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let tally = Arc::new(Tally {
        connected: AtomicU64::new(0),
        visits: AtomicU64::new(0),
        lagged: AtomicU64::new(0),
        missed: AtomicU64::new(0),
        latency_ms: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
    });
    let start = Arc::new(tokio::sync::Semaphore::new(0));
    let mut tasks = Vec::new();
    for i in 0..args.subscribers {
        let url = args.url.replace("{i}", &format!("{i:07}"));
        let (tally, start) = (tally.clone(), start.clone());
        tasks.push(tokio::spawn(async move {
            let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str()).await?;
            tally.connected.fetch_add(1, Ordering::Relaxed);
            // Count nothing until every subscriber is in.
            drop(start.acquire().await?);
            while let Some(message) = ws.next().await {
                if let Message::Text(text) = message? {
                    tally.record(&text, Utc::now());
                }
            }
            anyhow::Ok(())
        }));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while tally.connected.load(Ordering::Relaxed) < args.subscribers as u64 {
        if tokio::time::Instant::now() > deadline || tasks.iter().any(|t| t.is_finished()) {
            anyhow::bail!(
                "only {} of {} subscribers connected",
                tally.connected.load(Ordering::Relaxed),
                args.subscribers
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    start.add_permits(tokio::sync::Semaphore::MAX_PERMITS);
    if let Some(path) = &args.ready_file {
        std::fs::write(path, b"ready\n")?;
    }
    eprintln!(
        "{} subscribers connected; listening {} s",
        args.subscribers, args.seconds
    );
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    let still_open = tasks.iter().filter(|t| !t.is_finished()).count();
    let ms = |p| {
        tally
            .percentile(p)
            .map_or("-".into(), |v: usize| v.to_string())
    };
    println!(
        "subscribers={} connected={} open_at_end={} visits={} lagged={} missed={} p50_ms={} p99_ms={} max_ms={}",
        args.subscribers,
        tally.connected.load(Ordering::Relaxed),
        still_open,
        tally.visits.load(Ordering::Relaxed),
        tally.lagged.load(Ordering::Relaxed),
        tally.missed.load(Ordering::Relaxed),
        ms(0.50),
        ms(0.99),
        ms(1.0),
    );
    std::process::exit(0);
}
