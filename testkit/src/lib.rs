//! What docintel's tests share, across the end-to-end suite, the binary's tests and the
//! governance gate's provider states: real PDFs with a text layer (built with lopdf), the
//! smallest PNG, the two assertions every HTTP test makes, a real PostgreSQL, and the other real servers
//! the tests talk to (a Kafka broker, an S3 server).

pub mod clamd;
pub mod pdf;
pub mod peers;
pub mod postgres;
pub mod shell_blocks;

use std::time::Duration;

use reqwest::{Response, StatusCode};
use serde_json::Value;

pub use pdf::{pdf, pdf_pages, pdftotext, scanned_pdf};

/// `GET url` with `key` as Bearer token; the JSON answer (panics on anything else).
pub async fn get_json(client: &reqwest::Client, url: &str, key: &str) -> Value {
    client
        .get(url)
        .bearer_auth(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: not JSON: {e}"))
}

/// Polls `base`'s document `id` every 10 ms, at most `attempts` times, until it is
/// processed or failed.
pub async fn wait_done_at(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    id: &str,
    attempts: u32,
) -> Value {
    match poll_done(client, base, key, id, attempts).await {
        Ok(v) => v,
        Err(_) => panic!("document {id} did not finish processing"),
    }
}

/// Like [`wait_done_at`], but a document still unfinished after `attempts` polls is
/// `Err` with its last state, for a caller that has more to say about why.
pub async fn poll_done(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    id: &str,
    attempts: u32,
) -> Result<Value, Value> {
    let url = format!("{base}/v2/documents/{id}");
    let mut v = Value::Null;
    for _ in 0..attempts {
        v = get_json(client, &url, key).await;
        if v["status"] == "processed" || v["status"] == "failed" {
            return Ok(v);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Err(v)
}

/// Asserts `r` is an RFC 9457 problem with this status and code, whose request id is the
/// response's `X-Request-Id`; returns the body.
pub async fn assert_problem(r: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(r.status(), status, "status");
    let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(ct, "application/problem+json");
    let rid = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    let instance = r.url().path().to_owned();
    let v: Value = r.json().await.expect("problem json");
    assert_eq!(v["status"], status.as_u16());
    assert_eq!(v["code"], code, "code in {v}");
    assert_eq!(v["type"], format!("/problems/{code}"));
    assert_eq!(v["request_id"], rid);
    assert_eq!(v["instance"], instance);
    assert!(!v["title"].as_str().unwrap().is_empty());
    assert!(!v["detail"].as_str().unwrap().is_empty());
    v
}

/// The smallest valid PNG (1×1, grey).
pub const PNG_1X1: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3A, 0x7E, 0x9B,
    0x55, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x60, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x01, 0x48, 0xAF, 0xA4, 0x71, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

/// The `Name:\tvalue` lines of `/proc/<pid>/status` (none for a process that is gone).
pub fn proc_status(pid: impl std::fmt::Display) -> std::collections::BTreeMap<String, String> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
        .collect()
}
