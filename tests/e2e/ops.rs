//! The operator's and every client's hygiene: rate limits per API key with the IETF
//! draft headers (and the SDK waiting them out), `/metrics`, `/healthz` and `/readyz`.

use crate::common;

use std::time::Duration;

use common::TestServer;
use docintel_api::ratelimit::Limit;
use reqwest::StatusCode;

fn limited(quota: u32, window_secs: u64) -> impl FnOnce(&mut docintel_api::Launch) {
    move |launch| {
        launch.rate_limit = Limit {
            quota,
            window: Duration::from_secs(window_secs),
        }
    }
}

#[tokio::test]
async fn each_key_has_a_bucket_and_a_429_says_when_to_retry() {
    // A day's window: one shared by replicas (PostgreSQL) is fixed and turns only at
    // midnight UTC, not between these requests.
    let s = TestServer::launch(limited(3, 86_400)).await;
    for remaining in [2, 1, 0] {
        let r = s.get("/v2/documents").send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["ratelimit-policy"], "\"default\";q=3;w=86400");
        let state = r.headers()["ratelimit"].to_str().unwrap().to_owned();
        assert!(
            state.starts_with(&format!("\"default\";r={remaining};t=")),
            "{state}"
        );
    }
    let r = s.get("/v2/documents").send().await.unwrap();
    let retry_after: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    // This process's bucket refills one request every 8 hours; a quota shared by
    // replicas (PostgreSQL) is counted per fixed window, which ends within the day.
    let longest = if s.backend.store().is_shared() {
        86_400
    } else {
        28_800
    };
    assert!((1..=longest).contains(&retry_after), "{retry_after}");
    assert!(
        r.headers()["ratelimit"]
            .to_str()
            .unwrap()
            .starts_with("\"default\";r=0;")
    );
    let p = common::assert_problem(r, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    assert!(p["detail"].as_str().unwrap().contains("retry after"));

    // Another key (even of the same tenant) has its own bucket; without a key, the
    // client's address spends its own (a separate policy), not a key's.
    let other = s.backend.create_key("acme").await.unwrap();
    let r = s
        .client
        .get(s.url("/v2/documents"))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = s.client.get(s.url("/v2/documents")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(
        r.headers()["ratelimit-policy"]
            .to_str()
            .unwrap()
            .starts_with("\"address\";"),
        "{:?}",
        r.headers()
    );
    // Health and metrics spend the address's bucket, which a few probes do not empty.
    for _ in 0..5 {
        assert_eq!(
            s.client
                .get(s.url("/healthz"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
}

#[tokio::test]
async fn a_tenant_can_have_its_own_limit() {
    let dir = tempfile::tempdir().unwrap();
    let backend = docintel_backend::Backend::open(docintel_backend::Config::new(dir.path()))
        .await
        .unwrap();
    backend.set_rate_limit("vip", Some((1, 60))).await.unwrap();
    let vip = backend.create_key("vip").await.unwrap();
    let plain = backend.create_key("plain").await.unwrap();
    let state = docintel_api::AppState::new(backend.clone()).await.unwrap();
    let state_handle = state.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, docintel_api::app(state)).await });
    let client = reqwest::Client::new();
    let get = |key: &str| {
        client
            .get(format!("{base}/v2/documents"))
            .bearer_auth(key.to_owned())
            .send()
    };
    assert_eq!(get(&vip).await.unwrap().status(), 200);
    let r = get(&vip).await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["ratelimit-policy"], "\"default\";q=1;w=60");
    for _ in 0..5 {
        let r = get(&plain).await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["ratelimit-policy"], "\"default\";q=1000;w=10");
    }

    // Changed while running (as `docintel tenants limit` does): applied at the next reload.
    backend.set_rate_limit("vip", Some((50, 10))).await.unwrap();
    backend
        .set_rate_limit("plain", Some((1, 60)))
        .await
        .unwrap();
    state_handle.reload_rate_limits().await.unwrap();
    let r = get(&vip).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["ratelimit-policy"], "\"default\";q=50;w=10");
    assert_eq!(get(&plain).await.unwrap().status(), 200);
    assert_eq!(get(&plain).await.unwrap().status(), 429);
}

#[tokio::test]
async fn the_sdk_waits_out_a_429() {
    // One request per second: a quick second call is refused, and the SDK retries after
    // the Retry-After the server sent. A quota shared by replicas (PostgreSQL) counts per
    // fixed window, which may turn between two calls; not between two turns, so of three
    // quick calls at least one is refused.
    let s = TestServer::launch(limited(1, 1)).await;
    let client = docintel_sdk::Client::builder(&s.base)
        .api_key(&s.key)
        .build()
        .unwrap();
    let missing = uuid::Uuid::now_v7();
    for _ in 0..3 {
        match client.document(missing).await {
            Err(docintel_sdk::Error::Api(p)) => assert_eq!(p.status, 404, "{p:?}"),
            other => panic!("expected the 404 after waiting, got {other:?}"),
        }
    }
    let metrics = s
        .client
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let refused = metric(&metrics, "docintel_rate_limited_requests_total", &[]);
    assert!((1.0..=2.0).contains(&refused), "{metrics}");
}

fn metric(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name) && labels.iter().all(|lab| l.contains(lab)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
async fn metrics_count_the_requests_made() {
    let s = TestServer::start().await;
    let id = s.upload_ok("a.txt", b"hello metrics".to_vec()).await;
    s.wait_done(&id).await;
    for _ in 0..3 {
        assert_eq!(
            s.get(&format!("/v2/documents/{id}"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    let missing = uuid::Uuid::now_v7();
    for _ in 0..2 {
        assert_eq!(
            s.get(&format!("/v2/documents/{missing}"))
                .send()
                .await
                .unwrap()
                .status(),
            404
        );
    }
    let r = s.client.get(s.url("/metrics")).send().await.unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = r.text().await.unwrap();
    let route = "route=\"/v2/documents/{id}\"";
    assert_eq!(
        metric(
            &text,
            "docintel_http_requests_total",
            &[route, "status=\"404\""]
        ),
        2.0,
        "{text}"
    );
    // wait_done polled too, so at least the three explicit GETs answered 200.
    assert!(
        metric(
            &text,
            "docintel_http_requests_total",
            &[route, "status=\"200\"", "method=\"GET\""]
        ) >= 3.0
    );
    assert_eq!(
        metric(
            &text,
            "docintel_http_requests_total",
            &["route=\"/v2/documents\"", "status=\"202\""]
        ),
        1.0
    );
    assert!(
        metric(
            &text,
            "docintel_http_request_duration_seconds_count",
            &[route]
        ) >= 5.0
    );
    assert!(text.contains("docintel_job_queue_depth 0"), "{text}");
    // The upload above was claimed, so its worker's claim at least is counted.
    assert!(
        metric(&text, "docintel_job_claims_total", &[]) >= 1.0,
        "{text}"
    );
    assert!(text.contains("# TYPE docintel_outbox_lag_seconds gauge"));
    assert!(
        text.contains("# TYPE docintel_webhook_delivery_attempts counter"),
        "{text}"
    );
    assert_eq!(
        metric(
            &text,
            "docintel_webhook_delivery_attempts_total",
            &["outcome=\"failed\""]
        ),
        0.0
    );
    // Raw paths (with ids) never become labels.
    assert!(!text.contains(&id));
}

#[tokio::test]
async fn health_and_readiness() {
    let s = TestServer::start().await;
    let r = s.client.get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = s.client.get(s.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["status"], "ready");
    for check in ["database", "blobs", "workers", "relay", "webhooks"] {
        assert_eq!(v["checks"][check], true, "{v}");
    }

    // A server whose workers and relay were never started is alive but not ready.
    let dir = tempfile::tempdir().unwrap();
    let backend = docintel_backend::Backend::open(docintel_backend::Config::new(dir.path()))
        .await
        .unwrap();
    let state = docintel_api::AppState::new(backend).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, docintel_api::app(state)).await });
    assert_eq!(
        reqwest::get(format!("{base}/healthz"))
            .await
            .unwrap()
            .status(),
        200
    );
    let r = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(r.status(), 503);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["checks"]["database"], true);
    assert_eq!(v["checks"]["workers"], false);
    assert_eq!(v["checks"]["relay"], false);
}

#[tokio::test]
async fn past_its_capacity_the_server_sheds_with_503_and_retry_after() {
    let s = TestServer::launch(|l| l.serve_limits.max_in_flight = 2).await;
    // Two uploads hold the server's two places: their bodies are still coming.
    let mut senders = Vec::new();
    let mut uploads = Vec::new();
    for i in 0..2 {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
        tx.send(Ok(b"the first part, ".to_vec())).await.unwrap();
        let body = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|chunk| (chunk, rx))
        });
        uploads.push(tokio::spawn(
            s.client
                .post(s.url(&format!("/v2/documents?filename=slow{i}.txt")))
                .bearer_auth(&s.key)
                .header("Content-Type", "application/octet-stream")
                .body(reqwest::Body::wrap_stream(body))
                .send(),
        ));
        senders.push(tx);
    }
    let mut shed = None;
    for _ in 0..200 {
        let r = s.get("/v2/documents").send().await.unwrap();
        if r.status() == StatusCode::SERVICE_UNAVAILABLE {
            shed = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let r = shed.expect("a third request was shed while two were in flight");
    assert_eq!(r.headers()["retry-after"], "1");
    let p = common::assert_problem(r, StatusCode::SERVICE_UNAVAILABLE, "overloaded").await;
    assert_eq!(p["instance"], "/v2/documents");
    // The uploads in flight finish normally, and the server serves again.
    for tx in senders {
        tx.send(Ok(b"and the end".to_vec())).await.unwrap();
    }
    for u in uploads {
        assert_eq!(u.await.unwrap().unwrap().status(), StatusCode::ACCEPTED);
    }
    assert_eq!(
        s.get("/v2/documents").send().await.unwrap().status(),
        StatusCode::OK
    );
}
