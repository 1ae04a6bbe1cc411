//! Tenant isolation and authentication for every operation, derived from the committed
//! OpenAPI documents: a new operation is covered without anyone adding it here. For each
//! operation of openapi/v1.json and openapi/v2.json:
//! - without a key, the answer is 401;
//! - with another tenant's key, an operation on one of this tenant's resources answers
//!   404, as for an id that does not exist (never 200/204, nor a 403 that would say it
//!   exists), and a listing shows none of this tenant's resources.
//!
//! The schema registry is not a tenant's: its schemas are the platform's events. Its
//! writes need an admin key (401 without a key, 403 with a tenant's), and its reads are
//! open, as Kafka consumers expect of a Confluent registry.

use std::collections::HashMap;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{self, TestServer};

/// Every operation a committed document declares: (method, path template).
fn operations() -> Vec<(Method, String)> {
    let ops: Vec<_> = common::declared_operations()
        .into_iter()
        .map(|(method, path, _)| (method.to_uppercase().parse::<Method>().unwrap(), path))
        .collect();
    assert!(
        ops.len() >= 16,
        "the documents declare {} operations",
        ops.len()
    );
    ops
}

/// The collection a path's `{id}` names: `/v2/webhooks/{id}/enable` → `webhooks`.
fn collection(path: &str) -> Option<&str> {
    let before = path.split("/{id}").next()?;
    path.contains("{id}")
        .then(|| before.rsplit('/').next().unwrap_or_default())
}

/// A plausible body for an operation that takes one (what matters is who asks).
fn body_for(method: &Method, path: &str) -> Option<(Vec<u8>, &'static str)> {
    match (method.as_str(), path) {
        ("POST", p) if p.ends_with("/documents") && p.starts_with("/v2") => {
            Some((b"a note".to_vec(), "application/octet-stream"))
        }
        ("POST", p) if p.ends_with("/documents") => Some((
            b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"n.txt\"\r\n\r\na note\r\n--b--\r\n".to_vec(),
            "multipart/form-data; boundary=b",
        )),
        ("POST", p) if p.ends_with("/keys") => Some((
            serde_json::to_vec(&json!({"scopes": ["documents:read"]})).unwrap(),
            "application/json",
        )),
        ("POST", p) if p.ends_with("/webhooks") => Some((
            serde_json::to_vec(&json!({"url": "http://127.0.0.1:9/other", "event_types": ["doc.processed"]})).unwrap(),
            "application/json",
        )),
        _ => None,
    }
}

async fn call(
    s: &TestServer,
    method: &Method,
    path: &str,
    template: &str,
    key: Option<&str>,
) -> reqwest::Response {
    let mut url = s.url(path);
    if method == Method::POST && template.ends_with("/documents") && template.starts_with("/v2") {
        url.push_str("?filename=n.txt");
    }
    let mut req = s.client.request(method.clone(), url);
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    if let Some((body, content_type)) = body_for(method, template) {
        req = req.header("Content-Type", content_type).body(body);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn another_tenant_sees_nothing_and_no_key_gets_401_on_every_operation() {
    let s = TestServer::start_with(|c| c.webhooks.allow_private_targets = true).await;
    // This tenant's resources, one per collection an operation can name.
    let doc = s.upload_ok("mine.txt", b"my own note".to_vec()).await;
    s.wait_done(&doc).await;
    let hook: Value = s
        .client
        .post(s.url("/v2/webhooks"))
        .bearer_auth(&s.key)
        .json(&json!({"url": "http://127.0.0.1:9/mine", "event_types": ["doc.processed"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key: Value = s
        .client
        .post(s.url("/v2/keys"))
        .bearer_auth(&s.key)
        .json(&json!({"scopes": ["documents:read"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mine: HashMap<&str, String> = HashMap::from([
        ("documents", doc.clone()),
        ("keys", key["key"]["id"].as_str().unwrap().to_owned()),
        (
            "webhooks",
            hook["webhook"]["id"].as_str().unwrap().to_owned(),
        ),
    ]);
    let other = s.backend.create_key("intruder").await.unwrap();

    let mut checked = 0;
    for (method, template) in operations() {
        let path = match collection(&template) {
            Some(c) => {
                let id = mine
                    .get(c)
                    .unwrap_or_else(|| panic!("no resource of {c} to try {method} {template} on"));
                template.replace("{id}", id)
            }
            None => template.clone(),
        };

        let r = call(&s, &method, &path, &template, None).await;
        assert_eq!(
            r.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path} without a key"
        );

        let r = call(&s, &method, &path, &template, Some(&other)).await;
        let status = r.status();
        let body = r.text().await.unwrap();
        if collection(&template).is_some() {
            assert_eq!(
                status,
                StatusCode::NOT_FOUND,
                "{method} {path} with another tenant's key: {body}"
            );
        } else {
            assert!(status.is_success(), "{method} {path}: {status} {body}");
            for id in mine.values() {
                assert!(
                    !body.contains(id.as_str()),
                    "{method} {path} shows {id}: {body}"
                );
            }
        }
        checked += 1;
    }
    eprintln!("{checked} operations checked");

    // Nothing the other tenant did touched this tenant's resources.
    let v = s.get_json(&format!("/v2/documents/{doc}")).await;
    assert_eq!(v["status"], "processed");
    let hooks = s.get_json("/v2/webhooks").await;
    assert_eq!(hooks["items"].as_array().map(Vec::len), Some(1), "{hooks}");
    // Each tenant's usage counts its own documents only.
    let usage = s.get_json("/v2/usage").await;
    assert_eq!(
        (&usage["documents"], &usage["bytes"]),
        (&json!(1), &json!(11)),
        "{usage}"
    );
    let as_other = |path: &str| {
        let r = s.client.get(s.url(path)).bearer_auth(&other).send();
        async { r.await.unwrap().json::<Value>().await.unwrap() }
    };
    let theirs = as_other("/v2/usage").await;
    let listed = as_other("/v2/documents?limit=100").await;
    assert_eq!(
        theirs["documents"].as_u64(),
        listed["items"].as_array().map(|a| a.len() as u64),
        "{theirs}"
    );
}

#[tokio::test]
async fn registry_writes_need_an_admin_key_and_reads_are_open() {
    let s = TestServer::start().await;
    let tenant_key = s.key.clone();
    let schema = json!({"schema": r#"{"type":"record","name":"R","fields":[]}"#}).to_string();
    let writes = [
        (
            Method::POST,
            "/registry/subjects/x-value/versions",
            Some(schema.clone()),
        ),
        (
            Method::DELETE,
            "/registry/subjects/doc.uploaded-value",
            None,
        ),
        (
            Method::DELETE,
            "/registry/subjects/doc.uploaded-value/versions/1",
            None,
        ),
        (
            Method::PUT,
            "/registry/config",
            Some(r#"{"compatibility":"NONE"}"#.to_owned()),
        ),
        (
            Method::PUT,
            "/registry/config/doc.uploaded-value",
            Some(r#"{"compatibility":"NONE"}"#.to_owned()),
        ),
        (Method::DELETE, "/registry/config/doc.uploaded-value", None),
    ];
    for (method, path, body) in writes {
        for (key, expected) in [
            (None, StatusCode::UNAUTHORIZED),
            (Some(&tenant_key), StatusCode::FORBIDDEN),
        ] {
            let mut req = s.client.request(method.clone(), s.url(path));
            if let Some(k) = key {
                req = req.bearer_auth(k);
            }
            if let Some(b) = &body {
                req = req
                    .header("Content-Type", "application/vnd.schemaregistry.v1+json")
                    .body(b.clone());
            }
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), expected, "{method} {path} with {key:?}");
        }
    }
    for path in [
        "/registry/subjects",
        "/registry/subjects/doc.uploaded-value/versions",
        "/registry/subjects/doc.uploaded-value/versions/latest",
        "/registry/schemas/ids/1",
        "/registry/config",
    ] {
        let r = s.client.get(s.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "GET {path} without a key");
    }
    // The subjects are still there.
    let r = s
        .client
        .get(s.url("/registry/subjects"))
        .send()
        .await
        .unwrap();
    let subjects: Vec<String> = r.json().await.unwrap();
    assert!(
        subjects.contains(&"doc.uploaded-value".to_owned()),
        "{subjects:?}"
    );
    common::assert_problem(
        s.client.get(s.url("/v2/documents")).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
}
