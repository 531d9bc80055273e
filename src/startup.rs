//! Builds the application: store, visit pipeline, router and every tower-http layer in one
//! visible place. `main` and the tests both start kurz through [`Application`].

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::app::{Links, Visits, Webhooks};
use crate::cache::RedirectCache;
use crate::cluster::Cluster;
use crate::config::Settings;
use crate::geo::{spawn_reloader, Geo};
use crate::http::rate_limit::RateLimits;
use crate::http::serve::{serve, ConnectionLimits};
use crate::http::state::{AppState, Shared};
use crate::live::LiveHub;
use crate::outbound::OutboundGuard;
use crate::store::{self, Store};
use crate::titles::TitleFetcher;
use crate::visits::{
    BotTokens, ClientIpResolver, EnqueueTimeouts, VisitCounters, VisitQueue, VisitWriter,
};
use crate::webhooks::{Deliverer, WebhookClient};
use crate::{prometheus, readiness};

/// How long WebSocket streams get to send their close frame at shutdown.
const LIVE_CLOSE_GRACE: Duration = Duration::from_secs(2);

/// A bound, ready-to-run kurz server.
pub struct Application {
    listener: TcpListener,
    port: u16,
    state: AppState,
    writer: VisitWriter,
    counters: Arc<VisitCounters>,
    /// Stops the geolocation file's reloader.
    geo_reloader: CancellationToken,
    /// Stops with the application (or when it is dropped).
    deliverer: Option<Deliverer>,
}

impl Application {
    /// Connects to the database (migrating it when configured), starts the visit writer and
    /// binds the listener. Port 0 binds a free port, which tests use.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let store = store::open(&settings.database)
            .await
            .with_context(|| format!("cannot open the database ({})", redacted_db(&settings)))?;
        Self::build_with_store(settings, store).await
    }

    pub async fn build_with_store(
        settings: Settings,
        store: Arc<dyn Store>,
    ) -> anyhow::Result<Self> {
        #[cfg(not(feature = "explorer"))]
        if settings.explorer.enabled {
            tracing::warn!(
                "explorer.enabled is set, but this binary was built without the `explorer` \
                 feature: the API answers JSON only"
            );
        }
        prometheus::handle();
        let address = format!("{}:{}", settings.server.host, settings.server.port);
        let listener = TcpListener::bind(&address)
            .await
            .with_context(|| format!("cannot listen on {address}"))?;
        let port = listener.local_addr()?.port();
        let public_url = settings.server.public_url_for(port);
        if settings.server.public_url.trim().is_empty()
            && settings.environment == crate::config::Environment::Production
        {
            tracing::warn!(%public_url, "server.public_url is not set; short links are written with the listen address");
        }
        let targets = settings
            .target
            .policy(&public_url)
            .map_err(|why| anyhow::anyhow!("target.deny_hosts: {why}"))?;
        let (visits, receiver, counters) = VisitQueue::new(
            settings.visits.queue_capacity.get(),
            EnqueueTimeouts {
                storing: Duration::from_millis(settings.visits.backpressure_timeout_ms),
                failing: Duration::from_millis(settings.visits.enqueue_timeout_ms),
            },
        );
        // A configured geolocation file that cannot be read stops the start: an operator who
        // configured one expects locations, not a silent server without them.
        let geo = Geo::open(settings.geo.database_path())?;
        let readiness = readiness::prepare(store.clone(), settings.database.run_migrations).await;
        let redirects = Arc::new(RedirectCache::new(
            &settings.cache,
            settings.redirect.status_code(),
        ));
        let live = LiveHub::new(&settings.live, crate::http::api::live::ENCODING);
        let cluster = Cluster::start(&settings, store.clone(), live.clone(), redirects.clone())?;
        let writer = VisitWriter::spawn(
            store.clone(),
            receiver,
            counters.clone(),
            &settings.visits,
            &settings.enrichment,
            cluster.clone(),
            geo.clone(),
        );
        let slugs = Arc::new(settings.slug.policy());
        let targets = Arc::new(targets);
        let links = |store: &Arc<dyn Store>| {
            Links::new(
                store.clone(),
                slugs.clone(),
                targets.clone(),
                cluster.clone(),
            )
            .forwarding_queries(settings.redirect.forward_query)
        };
        let mut api_links = links(&store);
        if settings.titles.fetch {
            let titles = &settings.titles;
            let fetcher = TitleFetcher::new(
                targets.clone(),
                Duration::from_millis(titles.timeout_ms.get()),
                titles.max_bytes.get(),
            );
            let untitled =
                crate::titles::spawn(fetcher, links(&store), titles.queue_capacity.get());
            api_links = api_links.announcing_untitled(untitled);
        }
        let geo_reloader = CancellationToken::new();
        spawn_reloader(
            &geo,
            Duration::from_secs(settings.geo.check_interval_secs.get()),
            geo_reloader.clone(),
        );
        let deliverer = settings.webhooks.deliver.then(|| {
            let client = WebhookClient::new(
                OutboundGuard::new(targets.clone()),
                Duration::from_millis(settings.webhooks.timeout_ms.get()),
            );
            Deliverer::spawn(
                store.clone(),
                client,
                settings.webhooks.clone(),
                public_url.as_str().into(),
            )
        });
        let state = AppState::new(Shared {
            webhooks: Webhooks::new(store.clone(), targets.clone()),
            stored_visits: Visits::new(store.clone(), cluster.clone()),
            links: api_links,
            openapi: crate::http::router::document(),
            slugs,
            targets,
            client_ip: Arc::new(ClientIpResolver::new(&settings.server.trusted_proxies)),
            bots: BotTokens::new(&settings.enrichment),
            redirects,
            live,
            cluster,
            readiness,
            rate_limits: RateLimits::new(&settings.rate_limit),
            compat_pages: crate::http::compat::CompatPages::new(&settings.compat.shlink),
            public_url: public_url.into(),
            settings: Arc::new(settings),
            store,
            visits,
            geo,
        });
        Ok(Self {
            listener,
            port,
            state,
            writer,
            counters,
            geo_reloader,
            deliverer,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn public_url(&self) -> &str {
        &self.state.public_url
    }

    pub fn store(&self) -> Arc<dyn Store> {
        self.state.store.clone()
    }

    pub fn visit_counters(&self) -> Arc<VisitCounters> {
        self.counters.clone()
    }

    /// The geolocation handle (tests reload it as SIGHUP would).
    pub fn geo(&self) -> Geo {
        self.state.geo.clone()
    }

    pub fn redirect_cache(&self) -> Arc<RedirectCache> {
        self.state.redirects.clone()
    }

    /// Serves until `shutdown` resolves, then stops accepting, finishes in-flight requests,
    /// drains the visit queue into the database, and returns.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (live, cluster) = (self.state.live.clone(), self.state.cluster.clone());
        let server = &self.state.settings.server;
        let limits = ConnectionLimits {
            header_read_timeout: Duration::from_secs(server.header_read_timeout_secs.get()),
            max_headers: server.max_headers,
            shutdown_grace: Duration::from_secs(server.shutdown_grace_secs),
        };
        let app = crate::http::router::make_split(self.state);
        tracing::info!(port = self.port, "kurz is listening");
        // Live streams never end by themselves: close them as soon as shutdown begins.
        let closing = live.clone();
        let shutdown = async move {
            shutdown.await;
            closing.close();
        };
        serve(self.listener, app, limits, shutdown).await;
        live.closed(LIVE_CLOSE_GRACE).await;
        if let Some(deliverer) = self.deliverer {
            deliverer.stop().await;
        }
        tracing::info!("HTTP server stopped; writing queued visits");
        self.writer.drain().await;
        self.geo_reloader.cancel();
        cluster.stop();
        Ok(())
    }
}

fn redacted_db(settings: &Settings) -> String {
    let url = settings.database.effective_url();
    match url::Url::parse(&url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("****"));
            parsed.to_string()
        }
        _ => url,
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}
