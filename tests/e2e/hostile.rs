//! What a hostile client can do, tried as an attacker would, against a real server on
//! loopback. One test per finding that needs no process of its own (those
//! that watch the process are in api/tests/binary/hostile.rs; the IPv6 webhook targets
//! are in webhooks.rs, with the other refused targets; the v1 list in v1_legacy.rs).

use std::io::{Read, Write};
use std::net::TcpStream;

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::{TestServer, assert_problem};

#[tokio::test]
async fn request_methods_are_counted_under_a_closed_set_of_labels() {
    let s = TestServer::start().await;
    let addr = s.base.trim_start_matches("http://").to_owned();
    tokio::task::spawn_blocking(move || {
        for i in 0..50 {
            let mut c = TcpStream::connect(&addr).unwrap();
            let method = format!("X{i}{}", "Y".repeat(4000));
            c.write_all(
                format!("{method} /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            )
            .unwrap();
            let mut out = Vec::new();
            let _ = c.read_to_end(&mut out);
        }
    })
    .await
    .unwrap();
    let metrics = reqwest::get(s.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!metrics.contains("YYYY"), "a raw method became a label");
    assert!(
        metrics.contains(r#"method="other",route="/healthz",status="405""#),
        "{metrics}"
    );
    assert!(metrics.len() < 200_000, "{} bytes", metrics.len());
}

#[tokio::test]
async fn concurrent_creates_cannot_pass_the_webhook_cap() {
    let s = TestServer::start_with(|c| c.webhooks.allow_private_targets = true).await;
    let creates = (0..40).map(|i| {
        s.client
            .post(s.url("/v2/webhooks"))
            .bearer_auth(&s.key)
            .json(&serde_json::json!({"url": format!("http://127.0.0.1:9/h{i}"), "event_types": ["doc.processed"]}))
            .send()
    });
    let statuses: Vec<u16> = futures_util::future::join_all(creates)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        20,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        20,
        "{statuses:?}"
    );
    let list: Value = s
        .get("/v2/webhooks")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().map(Vec::len), Some(20), "{list}");
}

#[tokio::test]
async fn file_names_that_disguise_themselves_are_refused() {
    let s = TestServer::start().await;
    for (name, raw) in [
        ("right-to-left override", "invoice%E2%80%AEfdp.exe"),
        ("zero-width only", "%E2%80%8B%E2%80%8C"),
        ("byte-order mark only", "%EF%BB%BF"),
        ("invalid UTF-8", "bad%FF%FEname.pdf"),
    ] {
        let r = s
            .client
            .post(format!("{}/v2/documents?filename={raw}", s.base))
            .bearer_auth(&s.key)
            .body("some text")
            .send()
            .await
            .unwrap();
        let p = assert_problem(r, StatusCode::BAD_REQUEST, "invalid_filename").await;
        assert!(p["detail"].as_str().is_some(), "{name}");
    }
    // v1 multipart: the part's file name goes through the same rule.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"text".to_vec()).file_name("invoice\u{202E}fdp.exe"),
    );
    let r = s
        .client
        .post(s.url("/v1/documents"))
        .bearer_auth(&s.key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(s.document_count().await, 0, "nothing stored");
}
