//! Storage quotas through HTTP on a real server (SQLite, and PostgreSQL in the suite's
//! second pass): two tenants racing uploads to their quotas each stop exactly at theirs,
//! refusals carry the usage, `GET /v2/usage` agrees, and a quota changed by another
//! process (as `docintel tenants limit` does) holds from the next upload.

use docintel_backend::model::{Quota, QuotaSetting};
use docintel_backend::{Backend, Config};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::TestServer;

/// 20 bytes each, all different.
fn note(n: usize) -> Vec<u8> {
    format!("quota note {n:08}\n").into_bytes()
}

/// Another process on the server's store, as the CLI opens it.
async fn other_process(s: &TestServer) -> Backend {
    let mut config = Config::new(s.dir.path());
    config.database_url = s.database_url.clone();
    Backend::open(config).await.expect("open the store")
}

async fn usage(s: &TestServer, key: &str) -> Value {
    let r = s
        .client
        .get(s.url("/v2/usage"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// Asserts `r` is the quota refusal and returns its `usage`.
async fn refused(r: reqwest::Response) -> Value {
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        r.headers().get("retry-after").is_none(),
        "waiting does not free a quota"
    );
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["code"], "quota_exceeded", "{problem}");
    assert_eq!(problem["type"], "/problems/quota_exceeded");
    problem["usage"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_tenants_racing_to_their_quotas_stay_within_them() {
    // acme holds the server's default (6 documents); beta its own 100 bytes (5 notes).
    let s = TestServer::start_with(|c| {
        c.quota = Quota {
            max_bytes: None,
            max_documents: Some(6),
        }
    })
    .await;
    let beta = s.backend.create_key("beta").await.unwrap();
    let cli = other_process(&s).await;
    cli.set_storage_quota(
        "beta",
        QuotaSetting::Set(Some(100)),
        QuotaSetting::Set(None),
    )
    .await
    .unwrap();

    let mut tasks = Vec::new();
    for n in 0..60 {
        let key = if n % 2 == 0 {
            s.key.clone()
        } else {
            beta.clone()
        };
        let (client, url) = (s.client.clone(), s.url("/v2/documents"));
        tasks.push(tokio::spawn(async move {
            let r = client
                .post(url)
                .query(&[("filename", format!("n{n}.txt"))])
                .bearer_auth(&key)
                .body(note(n))
                .send()
                .await
                .unwrap();
            (n % 2, r)
        }));
    }
    let mut stored = [0, 0];
    for task in tasks {
        let (tenant, r) = task.await.unwrap();
        if r.status() == StatusCode::ACCEPTED {
            stored[tenant] += 1;
            continue;
        }
        let usage = refused(r).await;
        if tenant == 0 {
            assert_eq!(usage["max_documents"], 6, "{usage}");
            assert_eq!(usage["max_bytes"], Value::Null);
            assert!(usage["documents"].as_u64().unwrap() <= 6, "{usage}");
        } else {
            assert_eq!(usage["max_bytes"], 100, "{usage}");
            assert_eq!(usage["max_documents"], Value::Null);
            assert!(usage["bytes"].as_u64().unwrap() > 80, "{usage}");
        }
    }
    assert_eq!(stored, [6, 5], "each tenant stopped exactly at its quota");
    assert_eq!(
        usage(&s, &s.key).await,
        json!({"documents": 6, "bytes": 120, "max_documents": 6, "max_bytes": null})
    );
    assert_eq!(
        usage(&s, &beta).await,
        json!({"documents": 5, "bytes": 100, "max_documents": null, "max_bytes": 100})
    );
    assert_eq!(
        s.stored_blobs().await.len(),
        11,
        "nothing kept of a refused upload"
    );

    // v1 refuses in its own shape.
    let r = crate::v1_legacy::v1_upload(&s, crate::v1_legacy::file_form("v1.txt", note(100))).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("6 of 6 documents"),
        "{body}"
    );

    // An Idempotency-Key is not used up by a refusal: after a delete the same request
    // stores the document.
    let keyed = || {
        s.client
            .post(s.url("/v2/documents"))
            .query(&[("filename", "keyed.txt")])
            .bearer_auth(&s.key)
            .header("Idempotency-Key", "quota-retry-1")
            .body(note(200))
    };
    refused(keyed().send().await.unwrap()).await;
    let page = s.get_json("/v2/documents?limit=1").await;
    let first = page["items"][0]["id"].as_str().unwrap().to_owned();
    let r = s
        .delete(&format!("/v2/documents/{first}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        usage(&s, &s.key).await["documents"],
        5,
        "a delete frees at once"
    );
    assert_eq!(keyed().send().await.unwrap().status(), StatusCode::ACCEPTED);
    refused(s.upload("over.txt", note(300)).await).await;

    // Another process raises acme's quota: the running server applies it at the next
    // upload (the quota is read in the upload's transaction, nothing caches it).
    cli.set_storage_quota("acme", QuotaSetting::Keep, QuotaSetting::Set(Some(7)))
        .await
        .unwrap();
    assert_eq!(
        s.upload("seventh.txt", note(301)).await.status(),
        StatusCode::ACCEPTED
    );
    refused(s.upload("eighth.txt", note(302)).await).await;
    // ... and back to the server's default of 6, under which acme is now over.
    cli.set_storage_quota("acme", QuotaSetting::Keep, QuotaSetting::Default)
        .await
        .unwrap();
    let u = refused(s.upload("ninth.txt", note(303)).await).await;
    assert_eq!(
        (u["documents"].clone(), u["max_documents"].clone()),
        (json!(7), json!(6))
    );
    // A quota of 0 refuses everything.
    cli.set_storage_quota("beta", QuotaSetting::Set(Some(0)), QuotaSetting::Keep)
        .await
        .unwrap();
    refused(s.upload_as(&beta, "zero.txt", b"x".to_vec()).await).await;
}
