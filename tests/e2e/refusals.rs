//! The refusals the server makes before (or instead of) the app: too many requests in
//! flight from one address (429 `too_many_in_flight`) and a request body that comes too
//! slowly (408 `body_too_slow`). Each is asserted as a client sees it (status, problem
//! document, headers), and each is thereby recorded for the traffic check when
//! `DOCINTEL_RECORD_TRAFFIC` is set. The other rare answers have tests of their own:
//! 429 `rate_limited` and 503 `overloaded` in ops.rs, 503 `unavailable` in database.rs,
//! 413 in v2_documents.rs, 507 in api/tests/binary/durability.rs (a small disk).

use crate::common;

use std::time::Duration;

use common::TestServer;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn one_address_past_its_places_is_told_429_with_retry_after() {
    let s = TestServer::launch(|l| l.serve_limits.max_in_flight_per_address = 1).await;
    // An upload whose body is still coming holds the address's one place.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    tx.send(Ok(b"the first part, ".to_vec())).await.unwrap();
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    let upload = tokio::spawn(
        s.client
            .post(s.url("/v2/documents?filename=slow.txt"))
            .bearer_auth(&s.key)
            .header("Content-Type", "application/octet-stream")
            .body(reqwest::Body::wrap_stream(body))
            .send(),
    );
    let mut refused = None;
    for _ in 0..200 {
        let r = s.get("/v2/documents").send().await.unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let r = refused.expect("a second request from the address was refused");
    assert_eq!(r.headers()["retry-after"], "1");
    let p = common::assert_problem(r, StatusCode::TOO_MANY_REQUESTS, "too_many_in_flight").await;
    assert_eq!(p["instance"], "/v2/documents");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("1 requests in flight")
    );
    // The upload in flight finishes normally, and the address is served again.
    tx.send(Ok(b"and the end".to_vec())).await.unwrap();
    drop(tx);
    assert_eq!(
        upload.await.unwrap().unwrap().status(),
        StatusCode::ACCEPTED
    );
    // The upload's event goes out through the server's own relay, which may talk to the
    // embedded registry from this same address for a moment: wait for a free place.
    let mut served = None;
    for _ in 0..200 {
        let r = s.get("/v2/documents").send().await.unwrap();
        if r.status() != StatusCode::TOO_MANY_REQUESTS {
            served = Some(r.status());
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(served, Some(StatusCode::OK));
}

/// One HTTP/1.1 answer read off a raw connection: status, headers (names lowercased),
/// body.
fn parse(raw: &[u8]) -> (u16, Vec<(String, String)>, Value) {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").expect("a whole head");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (
        status,
        headers,
        serde_json::from_str(body).expect("a JSON body"),
    )
}

#[tokio::test]
async fn a_body_that_stops_coming_is_answered_408_and_its_connection_closed() {
    let s = TestServer::launch(|l| {
        l.serve_limits.body_read_timeout = Duration::from_millis(300);
        l.serve_limits.min_body_rate = 0;
    })
    .await;
    let mut conn = tokio::net::TcpStream::connect(s.base.trim_start_matches("http://"))
        .await
        .unwrap();
    // 1000 bytes announced, ten sent, then nothing.
    conn.write_all(
        format!(
            "POST /v2/documents?filename=slow.txt HTTP/1.1\r\nHost: x\r\n\
             Authorization: Bearer {}\r\nContent-Type: application/octet-stream\r\n\
             Content-Length: 1000\r\n\r\nonly ten b",
            s.key
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut raw = Vec::new();
    // The server closes the connection after its answer: reading ends. Far beyond the
    // 300 ms pause, a guard against a server that would keep it open for ever.
    tokio::time::timeout(Duration::from_secs(60), conn.read_to_end(&mut raw))
        .await
        .expect("the connection was closed")
        .unwrap();
    let (status, headers, problem) = parse(&raw);
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(status, 408, "{}", String::from_utf8_lossy(&raw));
    assert_eq!(header("content-type"), Some("application/problem+json"));
    assert_eq!(header("connection"), Some("close"));
    let request_id = header("x-request-id").expect("a request id");
    assert_eq!(problem["status"], 408);
    assert_eq!(problem["code"], "body_too_slow");
    assert_eq!(problem["type"], "/problems/body_too_slow");
    assert_eq!(problem["instance"], "/v2/documents");
    assert_eq!(problem["request_id"], request_id);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("no part of the request body"),
        "{problem}"
    );
    // Nothing was stored, and the server serves on.
    assert_eq!(s.document_count().await, 0);
}
