//! Webhooks end to end: a real receiver on loopback verifies every delivery with the
//! SDK's `verify_webhook`; outages, rotation, disabling, the delivery log, refused
//! targets and bad input.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderMap;
use common::TestServer;
use docintel_backend::webhooks::WebhookConfig;
use reqwest::StatusCode;
use serde_json::{Value, json};

const INVOICE: &[u8] = b"INVOICE No. 2024-117\nBill to: Acme Ltd\nAmount due: 1,250.00 EUR\nPayment terms: 30 days\nTotal due 1250.00";

#[derive(Clone, Debug)]
pub(crate) struct Received {
    pub(crate) signature: String,
    pub(crate) event_id: String,
    pub(crate) body: Vec<u8>,
}

/// A webhook receiver: records deliveries, answers `status`.
#[derive(Clone)]
pub(crate) struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    status: Arc<Mutex<u16>>,
}

impl Receiver {
    fn new() -> Self {
        Self {
            got: Default::default(),
            status: Arc::new(Mutex::new(200)),
        }
    }

    /// A receiver answering `status`, serving on a free loopback port until the test
    /// ends, and its URL.
    pub(crate) async fn start(status: u16) -> (Self, String) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let receiver = Self::new();
        *receiver.status.lock().unwrap() = status;
        receiver.serve(listener);
        (receiver, url)
    }

    /// Serves on `listener` until the test ends.
    fn serve(&self, listener: tokio::net::TcpListener) {
        let me = self.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let me = me.clone();
                async move {
                    me.got.lock().unwrap().push(Received {
                        signature: headers["docintel-signature"].to_str().unwrap().to_owned(),
                        event_id: headers["docintel-event-id"].to_str().unwrap().to_owned(),
                        body: body.to_vec(),
                    });
                    StatusCode::from_u16(*me.status.lock().unwrap()).unwrap()
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    pub(crate) async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..1000 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("expected {n} deliveries, got {:?}", self.received().len());
    }
}

pub(crate) fn fast_retries(c: &mut docintel_backend::Config) {
    c.webhooks = WebhookConfig {
        initial_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(200),
        retry_window: Duration::from_secs(60),
        disable_after: 1000,
        allow_private_targets: true,
        ..WebhookConfig::default()
    };
}

pub(crate) async fn subscribe(s: &TestServer, url: &str, events: &[&str]) -> Value {
    let r = s
        .client
        .post(s.url("/v2/webhooks"))
        .bearer_auth(&s.key)
        .json(&json!({"url": url, "event_types": events, "description": "test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        location,
        format!("/v2/webhooks/{}", v["webhook"]["id"].as_str().unwrap())
    );
    v
}

async fn deliveries(s: &TestServer, hook: &str) -> Vec<Value> {
    let v: Value = s
        .get(&format!("/v2/webhooks/{hook}/deliveries"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["items"].as_array().unwrap().clone()
}

const TOLERANCE: Duration = Duration::from_secs(300);

#[tokio::test]
async fn deliveries_are_signed_and_carry_the_event_and_the_document() {
    let s = TestServer::start_with(fast_retries).await;
    let (receiver, url) = Receiver::start(200).await;
    let created = subscribe(&s, &url, &["doc.processed", "doc.classified"]).await;
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));
    let hook = created["webhook"]["id"].as_str().unwrap();
    assert_eq!(created["webhook"]["status"], "active");
    assert_eq!(
        created["webhook"]["event_types"],
        json!(["doc.classified", "doc.processed"])
    );
    // The secret is shown once: not in GET or the list.
    let got: Value = s
        .get(&format!("/v2/webhooks/{hook}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(got.get("secret").is_none());
    assert_eq!(got["url"], url.as_str());

    let id = s.upload_ok("invoice.txt", INVOICE.to_vec()).await;
    s.wait_done(&id).await;
    let got = receiver.wait_for(2).await;
    let mut types = Vec::new();
    for d in &got {
        docintel_sdk::verify_webhook(secret, &d.signature, &d.body, TOLERANCE)
            .expect("a valid signature");
        let body: Value = serde_json::from_slice(&d.body).unwrap();
        assert_eq!(body["id"], d.event_id.as_str());
        assert_eq!(body["data"]["id"], id.as_str());
        assert_eq!(body["data"]["status"], "processed");
        assert!(body["created"].as_str().unwrap().ends_with('Z'));
        types.push(body["type"].as_str().unwrap().to_owned());
        // Tampered body, another secret: refused.
        let mut tampered = d.body.clone();
        tampered[0] = b' ';
        assert_eq!(
            docintel_sdk::verify_webhook(secret, &d.signature, &tampered, TOLERANCE),
            Err(docintel_sdk::WebhookError::Mismatch)
        );
        assert!(
            docintel_sdk::verify_webhook("whsec_other", &d.signature, &d.body, TOLERANCE).is_err()
        );
    }
    types.sort();
    assert_eq!(types, ["doc.classified", "doc.processed"]);
    // A stale timestamp is refused.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(matches!(
        docintel_sdk::verify_webhook(
            secret,
            &got[0].signature,
            &got[0].body,
            Duration::from_secs(1)
        ),
        Err(docintel_sdk::WebhookError::Stale { .. })
    ));
    // The delivery log.
    let log = deliveries(&s, hook).await;
    assert_eq!(log.len(), 2);
    for d in &log {
        assert_eq!(d["status"], "delivered");
        assert_eq!(d["attempts"], 1);
        assert_eq!(d["last_status_code"], 200);
        assert_eq!(d["document_id"], id.as_str());
    }
}

#[tokio::test]
async fn a_receiver_down_then_up_gets_every_delivery_once() {
    let s = TestServer::start_with(fast_retries).await;
    // Reserve a port, then close it: the receiver is down.
    let port = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().port()
    };
    let created = subscribe(
        &s,
        &format!("http://127.0.0.1:{port}/hook"),
        &["doc.processed"],
    )
    .await;
    let secret = created["secret"].as_str().unwrap().to_owned();
    let hook = created["webhook"]["id"].as_str().unwrap().to_owned();
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            s.upload_ok(&format!("n{i}.txt"), format!("note {i}").into_bytes())
                .await,
        );
    }
    for id in &ids {
        s.wait_done(id).await;
    }
    // Failed attempts are in the log, with the error, and tried again later.
    let mut failing = Vec::new();
    for _ in 0..300 {
        failing = deliveries(&s, &hook).await;
        if failing.len() == 3 && failing.iter().all(|d| d["attempts"].as_u64() >= Some(1)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(failing.len(), 3, "{failing:?}");
    for d in &failing {
        assert_eq!(d["status"], "pending");
        assert!(
            d["last_error"].as_str().is_some_and(|e| !e.is_empty()),
            "{d}"
        );
        assert!(d["next_attempt_at"].is_string());
    }

    let receiver = Receiver::new();
    receiver.serve(
        tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap(),
    );
    let got = receiver.wait_for(3).await;
    // No duplicate shows up later.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got_all = receiver.received();
    assert_eq!(got_all.len(), 3, "once each");
    let mut seen: Vec<String> = got
        .iter()
        .map(|d| {
            docintel_sdk::verify_webhook(&secret, &d.signature, &d.body, TOLERANCE).unwrap();
            let body: Value = serde_json::from_slice(&d.body).unwrap();
            body["data"]["id"].as_str().unwrap().to_owned()
        })
        .collect();
    seen.sort();
    ids.sort();
    assert_eq!(seen, ids);
    let log = deliveries(&s, &hook).await;
    assert!(
        log.iter()
            .all(|d| d["status"] == "delivered" && d["attempts"].as_u64() >= Some(2)),
        "{log:?}"
    );
}

#[tokio::test]
async fn a_rotated_secret_signs_alongside_the_old_one() {
    let s = TestServer::start_with(fast_retries).await;
    let (receiver, url) = Receiver::start(200).await;
    let created = subscribe(&s, &url, &["doc.processed"]).await;
    let old = created["secret"].as_str().unwrap().to_owned();
    let hook = created["webhook"]["id"].as_str().unwrap();
    let r = s
        .client
        .post(s.url(&format!("/v2/webhooks/{hook}/rotate-secret")))
        .bearer_auth(&s.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let rotated: Value = r.json().await.unwrap();
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(old, new);
    s.upload_ok("a.txt", b"hello".to_vec()).await;
    let got = receiver.wait_for(1).await;
    assert_eq!(got[0].signature.matches("v1=").count(), 2);
    for secret in [&old, &new] {
        docintel_sdk::verify_webhook(secret, &got[0].signature, &got[0].body, TOLERANCE).unwrap();
    }
}

#[tokio::test]
async fn an_endpoint_that_keeps_failing_is_disabled_visibly_and_can_be_enabled() {
    let s = TestServer::start_with(|c| {
        fast_retries(c);
        c.webhooks.disable_after = 3;
        c.webhooks.disable_after_failing_for = Duration::ZERO;
    })
    .await;
    let (receiver, url) = Receiver::start(500).await;
    let created = subscribe(&s, &url, &["doc.processed"]).await;
    let hook = created["webhook"]["id"].as_str().unwrap().to_owned();
    s.upload_ok("a.txt", b"hello".to_vec()).await;
    let mut w = Value::Null;
    for _ in 0..500 {
        w = s
            .get(&format!("/v2/webhooks/{hook}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if w["status"] == "disabled" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(w["status"], "disabled", "{w}");
    assert!(
        w["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("3 failed attempts"),
        "{w}"
    );
    assert_eq!(w["consecutive_failures"], 3);
    let attempts_when_disabled = receiver.received().len();
    assert_eq!(attempts_when_disabled, 3);
    let log = deliveries(&s, &hook).await;
    assert_eq!(log[0]["last_status_code"], 500);
    assert_eq!(log[0]["status"], "pending");
    // Disabled: no more attempts.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(receiver.received().len(), attempts_when_disabled);

    // Fixed and enabled again: the pending delivery goes through.
    *receiver.status.lock().unwrap() = 200;
    let r = s
        .client
        .post(s.url(&format!("/v2/webhooks/{hook}/enable")))
        .bearer_auth(&s.key)
        .send()
        .await
        .unwrap();
    let w: Value = r.json().await.unwrap();
    assert_eq!(w["status"], "active");
    receiver.wait_for(attempts_when_disabled + 1).await;
    for _ in 0..300 {
        if deliveries(&s, &hook).await[0]["status"] == "delivered" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the pending delivery was not delivered after enabling");
}

#[tokio::test]
async fn private_and_loopback_targets_are_refused_by_default() {
    let s = TestServer::start().await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://192.168.1.10/hook",
        // IPv4 hidden in IPv6: compatible, NAT64, 6to4, translated, mapped;
        // and site-local.
        "http://[::127.0.0.1]/hook",
        "http://[64:ff9b::7f00:1]/hook",
        "http://[2002:7f00:1::1]/hook",
        "http://[::ffff:0:7f00:1]/hook",
        "http://[::ffff:169.254.169.254]/hook",
        "http://[fec0::1]/hook",
    ] {
        let r = s
            .client
            .post(s.url("/v2/webhooks"))
            .bearer_auth(&s.key)
            .json(&json!({"url": url, "event_types": ["doc.processed"]}))
            .send()
            .await
            .unwrap();
        let p =
            common::assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_webhook").await;
        let detail = p["detail"].as_str().unwrap();
        assert!(detail.contains("public"), "{url}: {p}");
        // What an internal name resolves to is not said.
        if url.contains("localhost") {
            assert!(
                !detail.contains("127.0.0.1") && !detail.contains("::1"),
                "{url}: {p}"
            );
        }
    }
    let list: Value = s
        .get("/v2/webhooks")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"], json!([]), "nothing stored");
}

#[tokio::test]
async fn bad_subscription_requests_get_problems() {
    let s = TestServer::start_with(fast_retries).await;
    let post = |body: String, ct: &str| {
        s.client
            .post(s.url("/v2/webhooks"))
            .bearer_auth(&s.key)
            .header("content-type", ct)
            .body(body)
            .send()
    };
    let json_ct = "application/json";
    let cases: Vec<(String, &str, StatusCode, &str)> = vec![
        ("{".into(), json_ct, StatusCode::BAD_REQUEST, "malformed_json"),
        (json!({"url": "http://127.0.0.1/x"}).to_string(), json_ct, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
        (json!({"url": "http://127.0.0.1/x", "event_types": ["doc.uploaded"]}).to_string(), json_ct, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
        (json!({"url": "http://127.0.0.1/x", "event_types": []}).to_string(), json_ct, StatusCode::UNPROCESSABLE_ENTITY, "invalid_webhook"),
        (json!({"url": "ftp://127.0.0.1/x", "event_types": ["doc.failed"]}).to_string(), json_ct, StatusCode::UNPROCESSABLE_ENTITY, "invalid_webhook"),
        (json!({"url": "not a url", "event_types": ["doc.failed"]}).to_string(), json_ct, StatusCode::UNPROCESSABLE_ENTITY, "invalid_webhook"),
        (json!({"url": "http://127.0.0.1/x", "event_types": ["doc.failed"], "extra": 1}).to_string(), json_ct, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
        (json!({"url": "http://127.0.0.1/x", "event_types": ["doc.failed"], "description": "x".repeat(501)}).to_string(), json_ct, StatusCode::UNPROCESSABLE_ENTITY, "invalid_webhook"),
        (json!({"url": "http://127.0.0.1/x", "event_types": ["doc.failed"]}).to_string(), "text/plain", StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
    ];
    for (body, ct, status, code) in cases {
        let r = post(body.clone(), ct).await.unwrap();
        common::assert_problem(r, status, code).await;
    }
    let list: Value = s
        .get("/v2/webhooks")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"], json!([]), "nothing stored");

    // Unknown, malformed and other tenants' ids.
    let missing = "0192f0c4-0000-7000-8000-000000000404";
    let r = s
        .get(&format!("/v2/webhooks/{missing}"))
        .send()
        .await
        .unwrap();
    common::assert_problem(r, StatusCode::NOT_FOUND, "not_found").await;
    let r = s.get("/v2/webhooks/nope/deliveries").send().await.unwrap();
    common::assert_problem(r, StatusCode::BAD_REQUEST, "invalid_id").await;
    let created = subscribe(&s, "http://127.0.0.1:9/x", &["doc.failed"]).await;
    let hook = created["webhook"]["id"].as_str().unwrap();
    let other = s.backend.create_key("other-tenant").await.unwrap();
    for path in [
        format!("/v2/webhooks/{hook}"),
        format!("/v2/webhooks/{hook}/deliveries"),
    ] {
        let r = s
            .client
            .get(s.url(&path))
            .bearer_auth(&other)
            .send()
            .await
            .unwrap();
        common::assert_problem(r, StatusCode::NOT_FOUND, "not_found").await;
    }
    let r = s
        .get(&format!("/v2/webhooks/{hook}/deliveries?limit=0"))
        .send()
        .await
        .unwrap();
    common::assert_problem(r, StatusCode::BAD_REQUEST, "invalid_parameter").await;
    let r = s
        .delete(&format!("/v2/webhooks/{hook}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = s
        .delete(&format!("/v2/webhooks/{hook}"))
        .send()
        .await
        .unwrap();
    common::assert_problem(r, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn a_short_outage_with_many_retries_does_not_disable_the_endpoint() {
    // Many failed attempts in a row, but all within moments: the endpoint stays active
    // (it is disabled only after failing for `disable_after_failing_for`, 3 days).
    let s = TestServer::start_with(|c| {
        fast_retries(c);
        c.webhooks.disable_after = 3;
    })
    .await;
    let (receiver, url) = Receiver::start(500).await;
    let created = subscribe(&s, &url, &["doc.processed"]).await;
    let hook = created["webhook"]["id"].as_str().unwrap().to_owned();
    for i in 0..3 {
        s.upload_ok(&format!("n{i}.txt"), b"hello".to_vec()).await;
    }
    receiver.wait_for(10).await;
    let w = s.get_json(&format!("/v2/webhooks/{hook}")).await;
    assert_eq!(w["status"], "active", "{w}");
    assert!(w["consecutive_failures"].as_u64().unwrap() >= 3, "{w}");
    // The receiver recovers: every event arrives.
    *receiver.status.lock().unwrap() = 200;
    let mut delivered = 0;
    for _ in 0..1000 {
        let log = deliveries(&s, &hook).await;
        delivered = log.iter().filter(|d| d["status"] == "delivered").count();
        if delivered == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(delivered, 3);
    let w = s.get_json(&format!("/v2/webhooks/{hook}")).await;
    assert_eq!(w["status"], "active", "{w}");
    assert_eq!(w["consecutive_failures"], 0, "{w}");
}
