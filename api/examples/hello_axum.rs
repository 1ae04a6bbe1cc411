//! Baseline for the load benchmark: a bare axum hello-world on the same runtime settings.
//! `cargo run --release -p docintel-api --example hello_axum -- 127.0.0.1:8099`

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8099".to_owned());
    let app = axum::Router::new().route("/", axum::routing::get(|| async { "Hello, world!" }));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    axum::serve(listener, app).await
}
