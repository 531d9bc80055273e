//! `GET /{slug}` → 302 to a fixed URL on 127.0.0.1:18091: axum and tokio with nothing else.

use axum::extract::Path;
use axum::response::Redirect;
use axum::routing::get;
use axum::Router;

#[tokio::main]
async fn main() {
    let app = Router::new().route(
        "/{slug}",
        get(|Path(_slug): Path<String>| async { Redirect::to("https://example.com/page") }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:18091")
        .await
        .expect("port 18091 is free");
    axum::serve(listener, app).await.expect("server runs");
}
