//! Picks up a replaced geolocation file without a restart: its modification time is checked
//! every `geo.check_interval`, and SIGHUP reads it again at once. A file that fails to open
//! is refused with an error log line and the old one keeps serving; a refused file is not
//! tried again until its modification time changes once more (or SIGHUP).

use std::time::{Duration, SystemTime};

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::Geo;

/// Starts the reloader; `None` without a configured file.
pub fn spawn_reloader(
    geo: &Geo,
    check_interval: Duration,
    shutdown: CancellationToken,
) -> Option<JoinHandle<()>> {
    geo.path()?;
    let geo = geo.clone();
    Some(tokio::spawn(async move {
        run(geo, check_interval, shutdown).await;
    }))
}

async fn run(geo: Geo, check_interval: Duration, shutdown: CancellationToken) {
    let mut hangups = hangup_signals();
    let mut ticks = tokio::time::interval(check_interval.max(Duration::from_millis(10)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The modification time last tried, loaded or refused.
    let mut seen = geo.loaded_modified();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticks.tick() => {
                let modified = modified(&geo);
                if modified.is_some() && modified != seen {
                    seen = modified;
                    let reloader = geo.clone();
                    // Reading and checking a large file takes a moment: off the runtime.
                    let _ = tokio::task::spawn_blocking(move || reloader.reload()).await;
                }
            }
            Some(()) = next_hangup(&mut hangups) => {
                tracing::info!("SIGHUP: reading the geo database again");
                seen = modified(&geo);
                let reloader = geo.clone();
                let _ = tokio::task::spawn_blocking(move || reloader.reload()).await;
            }
        }
    }
}

/// The configured file's modification time now; `None` while it cannot be read (being
/// replaced, say), which is not a change.
fn modified(geo: &Geo) -> Option<SystemTime> {
    let path = geo.path()?;
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

#[cfg(unix)]
type Hangups = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangups = Option<()>;

#[cfg(unix)]
fn hangup_signals() -> Hangups {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::hangup()) {
        Ok(signals) => Some(signals),
        Err(error) => {
            tracing::warn!(%error, "cannot listen for SIGHUP; the geo database reloads by modification time only");
            None
        }
    }
}

#[cfg(not(unix))]
fn hangup_signals() -> Hangups {
    None
}

#[cfg(unix)]
async fn next_hangup(signals: &mut Hangups) -> Option<()> {
    match signals {
        Some(signals) => signals.recv().await,
        None => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn next_hangup(_: &mut Hangups) -> Option<()> {
    std::future::pending().await
}
