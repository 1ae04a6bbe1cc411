//! The database going away while docintel serves: requests are told to retry (503
//! problem with `Retry-After`), `/readyz` says not ready, and when the database returns
//! docintel recovers by itself with nothing lost. On a PostgreSQL cluster of the test's
//! own, stopped as if it crashed and started again on the same port.

use std::time::Duration;

use docintel_testkit::postgres::Cluster;
use reqwest::StatusCode;

use crate::common::{TestServer, assert_problem};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_answers_503_and_recovers_without_loss() {
    let cluster = Cluster::start();
    let url = cluster.url.clone();
    let s = TestServer::start_with(move |c| c.database_url = Some(url)).await;
    let before = s
        .upload_ok("before.txt", b"Invoice 7: total due 10 EUR".to_vec())
        .await;
    assert_eq!(s.wait_done(&before).await["status"], "processed");

    cluster.stop();
    let r = s
        .get(&format!("/v2/documents/{before}"))
        .send()
        .await
        .unwrap();
    let retry_after = r.headers().get("retry-after").cloned();
    let problem = assert_problem(r, StatusCode::SERVICE_UNAVAILABLE, "unavailable").await;
    assert_eq!(retry_after.as_ref().map(|v| v.to_str().unwrap()), Some("5"));
    assert!(problem["detail"].as_str().unwrap().contains("database"));
    let ready = s.client.get(s.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let upload = s.upload("during.txt", b"refused while away".to_vec()).await;
    assert_problem(upload, StatusCode::SERVICE_UNAVAILABLE, "unavailable").await;

    cluster.resume();
    // Back by itself: the pool reconnects, the workers and the relay resume.
    let mut ready = false;
    for _ in 0..200 {
        let r = s.client.get(s.url("/readyz")).send().await.unwrap();
        if r.status() == StatusCode::OK {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "not ready again after the database returned");
    let after = s
        .upload_ok("after.txt", b"Invoice 8: total due 20 EUR".to_vec())
        .await;
    assert_eq!(s.wait_done(&after).await["status"], "processed");
    let listed = s.get_json("/v2/documents").await;
    let names: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["filename"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["after.txt", "before.txt"],
        "the refused upload left nothing"
    );
    assert_eq!(s.stored_blobs().await.len(), 2, "nor a blob");
    // Every event of both documents leaves the outbox.
    let mut lag = u64::MAX;
    for _ in 0..200 {
        lag = s.backend.outbox_lag().await.unwrap().0;
        if lag == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(lag, 0, "events stuck in the outbox");
}
