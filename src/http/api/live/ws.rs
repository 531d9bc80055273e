//! WebSocket: each message is a text frame with the JSON. The server pings every
//! `live.heartbeat_secs` and gives up on a client silent for three heartbeats; at shutdown it
//! sends a close frame (1001, going away).

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures_util::SinkExt;
use tokio::time::Instant;

use crate::live::{LiveHub, Outgoing, Subscription};

const GOING_AWAY: u16 = 1001;
/// Most frames written at once.
const BURST: usize = 256;
const POLICY_VIOLATION: u16 = 1008;

pub fn respond(
    hub: &LiveHub,
    upgrade: WebSocketUpgrade,
    subscription: Subscription,
    first: Outgoing,
) -> Response {
    let heartbeat = hub.heartbeat;
    let send_timeout = hub.send_timeout;
    upgrade.on_upgrade(move |socket| async move {
        let mut pump = Pump {
            socket,
            send_timeout,
        };
        pump.run(subscription, first, heartbeat).await;
    })
}

struct Pump {
    socket: WebSocket,
    send_timeout: Duration,
}

impl Pump {
    async fn run(&mut self, mut subscription: Subscription, first: Outgoing, heartbeat: Duration) {
        if self.send(Message::Text(first.json)).await.is_err() {
            return;
        }
        let mut ping = tokio::time::interval_at(Instant::now() + heartbeat, heartbeat);
        let mut last_heard = Instant::now();
        loop {
            tokio::select! {
                message = subscription.next() => match message {
                    Some(message) => {
                        if self.send_burst(message, &mut subscription).await.is_err() {
                            return;
                        }
                    }
                    None => {
                        self.close(GOING_AWAY, "server shutting down").await;
                        return;
                    }
                },
                incoming = self.socket.recv() => match incoming {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                    Some(Ok(_)) => last_heard = Instant::now(),
                },
                _ = ping.tick() => {
                    if last_heard.elapsed() > heartbeat * 3 {
                        self.close(POLICY_VIOLATION, "no pong").await;
                        return;
                    }
                    if self.send(Message::Ping(Default::default())).await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    /// Sends one frame, giving up on a client that does not take it within the send timeout.
    async fn send(&mut self, message: Message) -> Result<(), ()> {
        let sent = tokio::time::timeout(self.send_timeout, self.socket.send(message)).await;
        Self::settle(sent)
    }

    /// Sends `first` and whatever else is waiting already (up to [`BURST`] frames) in one
    /// write: a batch of visits costs each subscriber one wake-up and one write, not one each.
    async fn send_burst(
        &mut self,
        first: Outgoing,
        subscription: &mut Subscription,
    ) -> Result<(), ()> {
        let socket = &mut self.socket;
        let burst = async {
            socket.feed(Message::Text(first.json)).await?;
            for _ in 1..BURST {
                let Some(next) = subscription.ready() else {
                    break;
                };
                socket.feed(Message::Text(next.json)).await?;
            }
            socket.flush().await
        };
        let sent = tokio::time::timeout(self.send_timeout, burst).await;
        Self::settle(sent)
    }

    fn settle(
        sent: Result<Result<(), axum::Error>, tokio::time::error::Elapsed>,
    ) -> Result<(), ()> {
        match sent {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(()),
            Err(_) => {
                tracing::info!("live WebSocket client stalled; disconnecting it");
                metrics::counter!("kurz_live_disconnected_total", "reason" => "stalled")
                    .increment(1);
                Err(())
            }
        }
    }

    async fn close(&mut self, code: u16, reason: &'static str) {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = self.send(Message::Close(Some(frame))).await;
    }
}
