//! The HTTP/1 connection loop. It does what `axum::serve` does (a task per connection,
//! upgrades for WebSockets, graceful shutdown) plus what that leaves out: a deadline for a
//! client's request headers, so a client that sends half a request (slow loris) or nothing
//! at all cannot hold a connection, and a bound on how long shutdown waits for connections.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use crate::http::lane::Split;

/// What a connection may take; from `[server]`.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// How long a new connection may take to send its first byte, and then (hyper's
    /// `header_read_timeout`) from a request's first byte to the end of its headers.
    pub header_read_timeout: Duration,
    /// Request headers a request may have (hyper answers a bare 431 beyond).
    pub max_headers: usize,
    /// How long shutdown waits for open connections to finish their requests.
    pub shutdown_grace: Duration,
}

/// Serves `app` on `listener` until `shutdown` resolves; then stops accepting, lets each
/// connection finish the request it is on (idle ones close at once), and returns when all are
/// closed or `shutdown_grace` has passed, whichever is first.
pub async fn serve(
    listener: TcpListener,
    app: Split,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_headers(limits.max_headers);
    let stopping = CancellationToken::new();
    let connections = TaskTracker::new();
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        connections.spawn(serve_connection(
            builder.clone(),
            limits.header_read_timeout,
            stream,
            peer,
            app.clone(),
            stopping.clone(),
        ));
    }
    drop(listener);
    stopping.cancel();
    connections.close();
    let grace = limits.shutdown_grace;
    if tokio::time::timeout(grace, connections.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            connections = connections.len(),
            grace_secs = grace.as_secs_f64(),
            "connections still open when the shutdown grace ran out; leaving them"
        );
    }
}

async fn serve_connection(
    builder: Builder<TokioExecutor>,
    first_byte_timeout: Duration,
    stream: TcpStream,
    peer: SocketAddr,
    app: Split,
    stopping: CancellationToken,
) {
    // hyper's header deadline starts with the first byte; a client that connects and sends
    // nothing gets the same time to begin.
    let mut peek = [0; 1];
    let first_byte = tokio::select! {
        peeked = tokio::time::timeout(first_byte_timeout, stream.peek(&mut peek)) => {
            matches!(peeked, Ok(Ok(1)))
        }
        () = stopping.cancelled() => false,
    };
    if !first_byte {
        return;
    }
    let _ = stream.set_nodelay(true);
    let service = app.map_request(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        request
    });
    let service = TowerToHyperService::new(service);
    let mut connection =
        pin!(builder.serve_connection_with_upgrades(TokioIo::new(stream), service));
    let mut stop_asked = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%peer, error = %error, "connection ended with an error");
                }
                break;
            }
            () = stopping.cancelled(), if !stop_asked => {
                stop_asked = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}
