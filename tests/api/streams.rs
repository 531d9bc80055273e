//! Clients of the live streams: Server-Sent Events over a reqwest byte stream, and WebSockets
//! through tokio-tungstenite. Every read is bounded in time.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const WAIT: Duration = Duration::from_secs(10);

/// An open SSE stream.
pub struct Sse {
    response: reqwest::Response,
    buffer: String,
    /// Comment lines (heartbeats) seen so far.
    pub comments: usize,
}

impl Sse {
    /// `GET url` with `Accept: text/event-stream`; the answer must be a 200 event stream.
    pub async fn open(client: &reqwest::Client, url: &str) -> Self {
        let response = client
            .get(url)
            .header("accept", "text/event-stream")
            .send()
            .await
            .expect("request sent");
        assert_eq!(response.status(), 200, "GET {url}");
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        Self {
            response,
            buffer: String::new(),
            comments: 0,
        }
    }

    /// The next event as (name, JSON data); `None` when the server ended the stream.
    pub async fn next(&mut self) -> Option<(String, Value)> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut name, mut data) = (String::from("message"), String::new());
                for line in block.lines() {
                    if line.starts_with(':') {
                        self.comments += 1;
                    } else if let Some(value) = line.strip_prefix("event:") {
                        name = value.trim().to_owned();
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push_str(value.trim_start());
                    }
                }
                if data.is_empty() {
                    continue;
                }
                let json = serde_json::from_str(&data).expect("event data is JSON");
                return Some((name, json));
            }
            let chunk = tokio::time::timeout(WAIT, self.response.chunk())
                .await
                .expect("an SSE chunk within 10 s")
                .expect("the stream reads");
            match chunk {
                Some(bytes) => self.buffer.push_str(std::str::from_utf8(&bytes).unwrap()),
                None => return None,
            }
        }
    }

    /// The next message of this `type`, skipping others.
    pub async fn next_of(&mut self, kind: &str) -> Value {
        loop {
            let (name, json) = self.next().await.expect("the stream goes on");
            assert_eq!(json["type"], name.as_str(), "event name = type");
            if name == kind {
                return json;
            }
        }
    }
}

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens a WebSocket to `http_url` (its `http` scheme becomes `ws`).
pub async fn open_ws(http_url: &str) -> Ws {
    let url = http_url.replacen("http", "ws", 1);
    let (ws, response) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap_or_else(|e| panic!("WebSocket to {url}: {e}"));
    assert_eq!(response.status(), 101);
    ws
}

/// What a WebSocket said next: a JSON message, or the close frame's code.
#[derive(Debug)]
pub enum WsEvent {
    Json(Value),
    Closed(Option<CloseCode>),
}

pub async fn ws_next(ws: &mut Ws) -> WsEvent {
    loop {
        let message = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a WebSocket message within 10 s");
        match message {
            Some(Ok(Message::Text(text))) => {
                return WsEvent::Json(serde_json::from_str(&text).expect("JSON"))
            }
            Some(Ok(Message::Close(frame))) => return WsEvent::Closed(frame.map(|f| f.code)),
            Some(Ok(Message::Ping(data))) => {
                let _ = ws.send(Message::Pong(data)).await;
            }
            Some(Ok(_)) => {}
            None | Some(Err(_)) => return WsEvent::Closed(None),
        }
    }
}

/// The next JSON message of this `type`, skipping others.
pub async fn ws_next_of(ws: &mut Ws, kind: &str) -> Value {
    loop {
        match ws_next(ws).await {
            WsEvent::Json(json) if json["type"] == kind => return json,
            WsEvent::Json(_) => {}
            WsEvent::Closed(code) => panic!("the WebSocket closed ({code:?}) before a {kind}"),
        }
    }
}
