//! A webhook receiver: a small HTTP server that verifies every docintel delivery with
//! `construct_event` and prints the event. Subscribe its URL first, with the SDK
//! (`client.create_webhook("https://your.host/webhooks", &[…])`) or the API, and give it
//! the subscription's secret:
//!
//! ```sh
//! DOCINTEL_WEBHOOK_SECRET=whsec_… cargo run -p docintel-sdk --example webhook_receiver
//! ```
//! It listens on `DOCINTEL_WEBHOOK_ADDR` (default `127.0.0.1:8090`), path `/webhooks`.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};

/// How far a delivery's signature time may be from now: older ones are refused as
/// replays.
const TOLERANCE: Duration = Duration::from_secs(300);

async fn receive(State(secret): State<Arc<str>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let signature = headers
        .get("docintel-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    // Verified on the raw bytes, before any parsing: re-serialised JSON would not match.
    match docintel_sdk::construct_event(&secret, signature, &body, TOLERANCE) {
        Ok(event) => {
            let document = event.data.map(|d| d.id.to_string()).unwrap_or_default();
            println!("verified {} {} {document}", event.type_, event.id);
            // Answer quickly; do slow work elsewhere. Deliveries are retried until a
            // 2xx, so handle an event id seen before as done.
            StatusCode::NO_CONTENT
        }
        Err(e) => {
            eprintln!("refused a delivery: {e}");
            StatusCode::BAD_REQUEST
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secret: Arc<str> = std::env::var("DOCINTEL_WEBHOOK_SECRET")
        .map_err(|_| "set DOCINTEL_WEBHOOK_SECRET to the subscription's whsec_… secret")?
        .into();
    let addr = std::env::var("DOCINTEL_WEBHOOK_ADDR").unwrap_or_else(|_| "127.0.0.1:8090".into());
    let app = axum::Router::new()
        .route("/webhooks", axum::routing::post(receive))
        .with_state(secret);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}/webhooks", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
