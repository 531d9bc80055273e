//! One tracing set-up: pretty logs for a person in development, JSON lines in production.

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, LogSettings};

/// Installs the global subscriber. `log.filter` is already `RUST_LOG` when that is set (the
/// configuration reads it as a layer, so `kurz check-config` shows the filter in effect).
pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::new(&settings.filter);
    let registry = tracing_subscriber::registry().with(filter);
    let result = match settings.format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true),
            )
            .try_init(),
        LogFormat::Pretty => registry.with(tracing_subscriber::fmt::layer()).try_init(),
    };
    if let Err(error) = result {
        eprintln!("logging was already set up: {error}");
    }
}
