//! The ceiling for `bench/run.sh`: a bare actix-web server with one worker whose only route,
//! `POST /echo`, deserializes the JSON body into a `serde_json::Value` and writes it back.
//!
//! `cargo run --release -p server --example echo -- PORT` (or `PORT=... `; default 8081).
//! Listens on 127.0.0.1 only.

use actix_web::{App, HttpServer, web};
use serde_json::Value;

async fn echo(body: web::Json<Value>) -> web::Json<Value> {
    body
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("PORT").ok())
        .map_or(Ok(8081), |p| p.parse())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("port: {e}")))?;
    HttpServer::new(|| {
        App::new()
            .app_data(web::JsonConfig::default().limit(16 * 1024))
            .route("/echo", web::post().to(echo))
    })
    .workers(1)
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
