//! Upload→processed benchmark against a running server (use a release build):
//!
//! ```sh
//! cargo run --release --example ingest_bench -- http://127.0.0.1:8080 $KEY 200
//! ```
//!
//! URL may list several API replicas, comma-separated: requests go round-robin. A fourth
//! argument sets how many uploads are in flight (16 by default).
//!
//! Sequential: uploads one 1-page text PDF at a time and polls it (every 200 µs) until it
//! is processed; reports the median and p99 of upload-to-processed. Then concurrent: N
//! uploads 16 at a time, reporting uploads per second until all are accepted and documents
//! per second until none is queued or processing any more (polling two listings), then
//! checking that every one ended processed. With `INGEST_BENCH_UPLOADS_ONLY=1`, only the
//! uploads' rate (servers started with `--role api` and no worker process); with
//! `INGEST_BENCH_CONCURRENT_ONLY=1`, only the concurrent part (what a CPU-per-document
//! measurement wants: the sequential part's polling would be most of the work). With
//! `INGEST_BENCH_DOCUMENT=scan`, the document is that page scanned: a 150-dpi PNG drawn by
//! pdftoppm, which only OCR can read.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::Value;

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn wait(client: &reqwest::Client, base: &str, key: &str, id: &str, every: Duration) -> Value {
    loop {
        let v: Value = client
            .get(format!("{base}/v2/documents/{id}"))
            .bearer_auth(key)
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        if v["status"] == "processed" || v["status"] == "failed" {
            return v;
        }
        tokio::time::sleep(every).await;
    }
}

async fn upload(client: &reqwest::Client, base: &str, key: &str, body: Vec<u8>) -> String {
    let r = client
        .post(format!("{base}/v2/documents?filename=bench.pdf"))
        .bearer_auth(key)
        .body(body)
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), 202);
    r.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

/// `pdf`'s first page (A4) as a 150-dpi PNG, drawn by pdftoppm.
fn scanned(pdf: &[u8]) -> Vec<u8> {
    // A4 is 842 pt tall: 1,754 px at 150 dpi.
    let deadline = Instant::now() + Duration::from_secs(60);
    docintel_backend::pipeline::Tools::detect()
        .render_pdf(pdf, 1, 1, 1754, deadline)
        .expect("pdftoppm (poppler-utils) is installed")
        .expect("pdftoppm draws the page")
        .swap_remove(0)
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let bases: Vec<String> = args
        .next()
        .expect("usage: ingest_bench URL[,URL…] KEY [N [IN_FLIGHT]]")
        .split(',')
        .map(str::to_owned)
        .collect();
    let base = |i: usize| bases[i % bases.len()].as_str();
    let key = args
        .next()
        .expect("usage: ingest_bench URL[,URL…] KEY [N [IN_FLIGHT]]");
    let n: usize = args.next().map_or(200, |s| s.parse().expect("N"));
    let in_flight: usize = args.next().map_or(16, |s| s.parse().expect("IN_FLIGHT"));
    let upload_only = std::env::var_os("INGEST_BENCH_UPLOADS_ONLY").is_some();
    let concurrent_only = std::env::var_os("INGEST_BENCH_CONCURRENT_ONLY").is_some();
    let client = reqwest::Client::new();
    let mut body = docintel_testkit::pdf(&[
        "INVOICE 2026-117",
        "Total due: 1,250.00 EUR",
        "Payable within 30 days",
    ]);
    if std::env::var("INGEST_BENCH_DOCUMENT").as_deref() == Ok("scan") {
        body = scanned(&body);
    }

    if upload_only {
        // Only the upload path (its insert transaction): the servers may have no workers.
        // A few first, to warm the connections.
        for i in 0..in_flight {
            upload(&client, base(i), &key, body.clone()).await;
        }
    } else if !concurrent_only {
        let mut lat = Vec::with_capacity(n);
        for i in 0..n {
            let start = Instant::now();
            let id = upload(&client, base(i), &key, body.clone()).await;
            let v = wait(&client, base(i + 1), &key, &id, Duration::from_micros(200)).await;
            assert_eq!(v["status"], "processed", "{v}");
            lat.push(start.elapsed());
        }
        lat.sort();
        println!(
            "sequential upload→processed, {n} docs of {} bytes: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms",
            body.len(),
            pct(&lat, 0.5).as_secs_f64() * 1e3,
            pct(&lat, 0.9).as_secs_f64() * 1e3,
            pct(&lat, 0.99).as_secs_f64() * 1e3,
        );
    }

    let start = Instant::now();
    let ids: Vec<String> =
        futures_util::stream::iter((0..n).map(|i| upload(&client, base(i), &key, body.clone())))
            .buffer_unordered(in_flight)
            .collect()
            .await;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "concurrent uploads ({in_flight} in flight): {n} accepted in {secs:.2} s = {:.0} uploads/s",
        n as f64 / secs
    );
    if upload_only {
        return;
    }
    // Done when nothing is queued or processing any more: two listings a poll, whatever
    // the backlog. Waiting for each document in turn would time the poller instead, one
    // request after another, whose pace is a read's latency and not ingest's.
    for i in 0.. {
        if drained(&client, base(i), &key).await {
            break;
        }
        // Often enough to end within 1% of a run of seconds, seldom enough to be no load.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let secs = start.elapsed().as_secs_f64();
    // Untimed: every document uploaded ended processed.
    let processed = listed(&client, base(0), &key, "processed").await;
    let missing: Vec<&String> = ids.iter().filter(|id| !processed.contains(*id)).collect();
    assert!(missing.is_empty(), "not processed: {missing:?}");
    println!(
        "concurrent ingest ({in_flight} in flight): {n} docs processed in {secs:.2} s = {:.0} docs/s",
        n as f64 / secs
    );
}

/// One page of the key's documents with `query` (`status=…&limit=…&page_token=…`).
async fn page(client: &reqwest::Client, base: &str, key: &str, query: &str) -> Value {
    let r = client
        .get(format!("{base}/v2/documents?{query}"))
        .bearer_auth(key)
        .send()
        .await
        .expect("list");
    assert_eq!(r.status(), 200);
    r.json().await.expect("json")
}

/// Whether none of the key's documents is queued or processing. Queued first: a document
/// only moves on, so none queued then and none processing after means all were done.
async fn drained(client: &reqwest::Client, base: &str, key: &str) -> bool {
    for status in ["queued", "processing"] {
        let v = page(client, base, key, &format!("status={status}&limit=1")).await;
        if !v["items"].as_array().expect("items").is_empty() {
            return false;
        }
    }
    true
}

/// The ids of all the key's documents with `status`.
async fn listed(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    status: &str,
) -> std::collections::HashSet<String> {
    let mut ids = std::collections::HashSet::new();
    let mut query = format!("status={status}&limit=100");
    loop {
        let v = page(client, base, key, &query).await;
        for d in v["items"].as_array().expect("items") {
            ids.insert(d["id"].as_str().expect("id").to_owned());
        }
        match v["next_page"].as_str() {
            Some(token) => query = format!("status={status}&limit=100&page_token={token}"),
            None => return ids,
        }
    }
}
