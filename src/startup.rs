//! Builds the application: store, visit pipeline, router and every tower-http layer in one
//! visible place. `main` and the tests both start kurz through [`Application`].

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::body::Body;
use axum::http::{header, HeaderValue, Request, Response, StatusCode};
use axum::response::IntoResponse;
use axum::Router;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::Links;
use crate::cache::RedirectCache;
use crate::cluster::Cluster;
use crate::config::Settings;
use crate::error::{ApiError, PROBLEM_JSON};
use crate::lane::{self, Split, REQUEST_ID};
use crate::limits::{self, RequestLimits};
use crate::live::LiveHub;
use crate::rate_limit::RateLimits;
use crate::serve::{serve, ConnectionLimits};
use crate::state::{AppState, Shared};
use crate::store::{self, Store};
use crate::visits::{ClientIpResolver, EnqueueTimeouts, VisitCounters, VisitQueue, VisitWriter};
use crate::{api, monitoring, readiness, redirect, site};

/// How long WebSocket streams get to send their close frame at shutdown.
const LIVE_CLOSE_GRACE: Duration = Duration::from_secs(2);

/// A bound, ready-to-run kurz server.
pub struct Application {
    listener: TcpListener,
    port: u16,
    state: AppState,
    writer: VisitWriter,
    counters: Arc<VisitCounters>,
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
        monitoring::handle();
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
        let readiness = readiness::prepare(store.clone(), settings.database.run_migrations).await;
        let redirects = Arc::new(RedirectCache::new(
            &settings.cache,
            settings.redirect.status_code(),
        ));
        let live = LiveHub::new(&settings.live);
        let cluster = Cluster::start(&settings, store.clone(), live.clone(), redirects.clone())?;
        let writer = VisitWriter::spawn(
            store.clone(),
            receiver,
            counters.clone(),
            &settings.visits,
            &settings.enrichment,
            cluster.clone(),
        );
        let slugs = Arc::new(settings.slug.policy());
        let targets = Arc::new(targets);
        let links = Links::new(
            store.clone(),
            slugs.clone(),
            targets.clone(),
            cluster.clone(),
        );
        let state = AppState::new(Shared {
            links,
            slugs,
            targets,
            client_ip: Arc::new(ClientIpResolver::new(&settings.server.trusted_proxies)),
            redirects,
            live,
            cluster,
            readiness,
            rate_limits: RateLimits::new(&settings.rate_limit),
            public_url: public_url.into(),
            settings: Arc::new(settings),
            store,
            visits,
        });
        Ok(Self {
            listener,
            port,
            state,
            writer,
            counters,
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
        let app = make_split(self.state);
        tracing::info!(port = self.port, "kurz is listening");
        // Live streams never end by themselves: close them as soon as shutdown begins.
        let closing = live.clone();
        let shutdown = async move {
            shutdown.await;
            closing.close();
        };
        serve(self.listener, app, limits, shutdown).await;
        live.closed(LIVE_CLOSE_GRACE).await;
        tracing::info!("HTTP server stopped; writing queued visits");
        self.writer.drain().await;
        cluster.stop();
        Ok(())
    }
}

/// The application: the redirect lane (`crate::lane`) for `GET`/`HEAD` of one-segment paths,
/// the full stack of [`make_app`] for everything else.
pub fn make_split(state: AppState) -> Split {
    let limits = RequestLimits::new(&state.settings.server);
    let lane = lane::router(&state, &limits);
    Split::new(lane, make_app(state, limits))
}

/// The router with every layer. Innermost first: body limit and timeout; problem bodies for
/// bare error responses; then panic catcher, `nosniff`, request id and tracing outermost.
pub fn make_app(state: AppState, limits: RequestLimits) -> Router {
    let timeout = Duration::from_secs(state.settings.server.request_timeout_secs);
    let max_body = state.settings.server.max_body_bytes;
    #[allow(unused_mut)]
    let mut api = api::router();
    #[allow(unused_mut)]
    let mut router = Router::new();
    #[cfg(feature = "explorer")]
    if state.settings.explorer.enabled {
        api = api
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                crate::explorer::negotiate,
            ))
            .layer(axum::middleware::from_fn(crate::explorer::csrf_protect));
        router = router.merge(crate::explorer::router());
    }
    let (documented, _) = routes(api).split_for_parts();
    router
        .merge(documented)
        .fallback(site::fallback)
        .layer(RequestBodyLimitLayer::new(max_body))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(axum::middleware::map_response(problem_for_bare_errors))
        .layer(axum::middleware::from_fn_with_state(
            state.readiness.clone(),
            readiness::gate,
        ))
        .layer(axum::middleware::from_fn_with_state(
            limits,
            limits::enforce,
        ))
        .layer(axum::middleware::from_fn(monitoring::track_requests))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<Body>| {
                    let id = request
                        .headers()
                        .get(REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!("request", method = %request.method(), uri = %request.uri(), request_id = %id)
                }))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(CatchPanicLayer::custom(|_panic| {
                    ApiError::Internal(anyhow::anyhow!("a handler panicked")).into_response()
                })),
        )
        .with_state(state)
}

/// Every route of the full stack but the explorer's, each registered with its OpenAPI operation
/// (`routes!`): the site's, and `api` (see [`api::router`]) at `/api`. The document
/// ([`api::openapi::document`]) is built from the same function, so what is served is what is
/// documented. `GET`/`HEAD` of `/{slug}`, `/robots.txt` and `/healthz` are answered by the
/// redirect lane (`crate::lane`) before they get here; their routes here answer the other
/// methods (405 with `Allow`).
pub fn routes(api: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(api::openapi::ApiDoc::openapi())
        .routes(routes!(site::root))
        .routes(routes!(site::robots))
        .routes(routes!(site::healthz))
        .routes(routes!(site::readyz))
        .routes(routes!(monitoring::render))
        .routes(routes!(redirect::follow))
        .nest("/api", api)
}

/// Error responses made by layers or by axum itself (405, 408, 413...) carry no problem body;
/// this gives them one, keeping their status and headers such as `Allow`.
async fn problem_for_bare_errors(response: Response<Body>) -> Response<Body> {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with(PROBLEM_JSON) || content_type.starts_with("text/html") {
        return response;
    }
    let error = match status {
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        StatusCode::REQUEST_TIMEOUT => ApiError::Timeout,
        StatusCode::NOT_FOUND => ApiError::not_found("nothing here"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::UnsupportedMediaType("unsupported media type".into())
        }
        other if other.is_server_error() => {
            ApiError::Internal(anyhow::anyhow!("bare {other} response"))
        }
        _ => ApiError::BadRequest("the request could not be understood".into()),
    };
    let (parts, _) = response.into_parts();
    let mut problem = error.into_response();
    *problem.status_mut() = status;
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            problem.headers_mut().entry(name).or_insert(value.clone());
        }
    }
    problem
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
