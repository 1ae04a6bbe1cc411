//! Restricted keys: what each operation needs is declared in the committed OpenAPI
//! documents (`security: [{api_key: [scope]}]`) and enforced by the server, checked here
//! for every operation; keys made through `/v2/keys` never hold more than their maker;
//! an expired key is refused; a revoked key stops working on the server that revoked it
//! at once and on another replica as soon as it sees the change.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{self, TestServer, assert_problem};

/// (method, path template, the scope it needs) for every operation that names one.
fn scoped_operations() -> Vec<(Method, String, String)> {
    let mut ops = Vec::new();
    for (method, path, op) in common::declared_operations() {
        let scopes = op["security"][0]["api_key"].as_array();
        let scope = scopes.and_then(|s| s.first()).and_then(Value::as_str);
        let scope = scope.unwrap_or_else(|| {
            panic!("{method} {path} declares no scope: every operation needs one")
        });
        let method = method.to_uppercase().parse::<Method>().unwrap();
        ops.push((method, path.clone(), scope.to_owned()));
    }
    assert!(ops.len() >= 19, "{} operations", ops.len());
    ops
}

async fn make_key(s: &TestServer, maker: &str, scopes: &[&str]) -> (String, String) {
    let r = s
        .client
        .post(s.url("/v2/keys"))
        .bearer_auth(maker)
        .json(&json!({ "scopes": scopes }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    (
        v["secret"].as_str().unwrap().to_owned(),
        v["key"]["id"].as_str().unwrap().to_owned(),
    )
}

const SCOPES: [&str; 8] = [
    "audit:read",
    "documents:read",
    "documents:write",
    "webhooks:manage",
    "keys:manage",
    "broker:read",
    "broker:write",
    "registry:write",
];

#[tokio::test]
async fn every_operation_refuses_a_key_without_its_scope_and_admits_one_with_it() {
    let s = TestServer::start().await;
    let mut checked = 0;
    for (method, template, scope) in scoped_operations() {
        let path = template.replace("{id}", "0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11");
        let others: Vec<&str> = SCOPES.iter().copied().filter(|s| *s != scope).collect();
        let (without, _) = make_key(&s, &s.key, &others).await;
        let (only, _) = make_key(&s, &s.key, &[scope.as_str()]).await;
        let r = s
            .client
            .request(method.clone(), s.url(&path))
            .bearer_auth(&without)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::FORBIDDEN,
            "{method} {path} without {scope}"
        );
        if template.starts_with("/v2") {
            let problem = assert_problem(r, StatusCode::FORBIDDEN, "insufficient_scope").await;
            assert!(
                problem["detail"].as_str().unwrap().contains(&scope),
                "{problem}"
            );
        }
        let r = s
            .client
            .request(method.clone(), s.url(&path))
            .bearer_auth(&only)
            .send()
            .await
            .unwrap();
        assert!(
            ![StatusCode::FORBIDDEN, StatusCode::UNAUTHORIZED].contains(&r.status()),
            "{method} {path} with only {scope}: {}",
            r.status()
        );
        checked += 1;
    }
    eprintln!("{checked} operations checked");
}

#[tokio::test]
async fn a_read_only_key_writes_nothing_in_the_broker_or_the_registry() {
    let s = TestServer::start().await;
    let (reader, _) = make_key(&s, &s.key, &["documents:read", "broker:read"]).await;
    let r = s
        .client
        .get(s.url("/broker/"))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = s
        .client
        .post(s.url("/broker/pacts/provider/docintel/for-verification"))
        .bearer_auth(&reader)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    // Asking what to verify is a read: not refused for its scope (no such provider yet).
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    for (method, path, body) in [
        (
            Method::POST,
            "/broker/environments",
            json!({"name": "prod", "production": true}),
        ),
        (
            Method::PUT,
            "/broker/pacticipants/web/branches/main/versions/1",
            json!({}),
        ),
        (
            Method::POST,
            "/broker/contracts/publish",
            json!({"pacticipantName": "web", "pacticipantVersionNumber": "1", "contracts": []}),
        ),
    ] {
        let r = s
            .client
            .request(method.clone(), s.url(path))
            .bearer_auth(&reader)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{method} {path}");
        let v: Value = r.json().await.unwrap();
        assert!(v["error"].as_str().unwrap().contains("broker:write"), "{v}");
    }
    // An admin key without `registry:write` may not write to the registry.
    let admin = docintel_backend::KeySpec {
        admin: true,
        scopes: [docintel_backend::keys::Scope::DocumentsRead]
            .into_iter()
            .collect(),
        expires_at: None,
    };
    let (admin_reader, _) = s.backend.issue_key("acme", admin).await.unwrap();
    let r = s
        .client
        .post(s.url("/registry/subjects/x-value/versions"))
        .bearer_auth(&admin_reader)
        .header("Content-Type", "application/vnd.schemaregistry.v1+json")
        .body(json!({"schema": "\"string\""}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error_code"], 40301, "{v}");
}

#[tokio::test]
async fn keys_are_listed_without_secrets_never_exceed_their_maker_and_expire() {
    let s = TestServer::start().await;
    let (manager, manager_id) = make_key(&s, &s.key, &["keys:manage", "documents:read"]).await;
    // A key never makes a more powerful one.
    let r = s
        .client
        .post(s.url("/v2/keys"))
        .bearer_auth(&manager)
        .json(&json!({ "scopes": ["documents:write"] }))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("documents:write")
    );
    for bad in [
        json!({ "scopes": [] }),
        json!({ "scopes": ["documents:delete"] }),
        json!({ "scopes": ["documents:read"], "expires_at": "2000-01-01T00:00:00Z" }),
        json!({ "scopes": ["documents:read"], "admin": true }),
        json!({ "scopes": ["documents:read", "documents:read"] }),
    ] {
        let r = s
            .client
            .post(s.url("/v2/keys"))
            .bearer_auth(&manager)
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let (reader, reader_id) = make_key(&s, &manager, &["documents:read"]).await;
    let r = s
        .client
        .get(s.url("/v2/keys"))
        .bearer_auth(&manager)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let listing = r.text().await.unwrap();
    assert!(!listing.contains(&reader) && !listing.contains(&manager));
    let listing: Value = serde_json::from_str(&listing).unwrap();
    let ids: Vec<&str> = listing["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&reader_id.as_str()) && ids.contains(&manager_id.as_str()));
    let listed = listing["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == reader_id.as_str())
        .unwrap();
    assert_eq!(listed["scopes"], json!(["documents:read"]));
    assert_eq!(listed["prefix"].as_str().unwrap(), &reader[..12]);
    // Another tenant's key cannot see or revoke this one.
    let intruder = s.backend.create_key("intruder").await.unwrap();
    let r = s
        .client
        .delete(s.url(&format!("/v2/keys/{reader_id}")))
        .bearer_auth(&intruder)
        .send()
        .await
        .unwrap();
    assert_problem(r, StatusCode::NOT_FOUND, "not_found").await;
    // A path that is not a key id, even one that is not UTF-8, is told so.
    for bad in [
        "nope",
        "%ff%fe",
        "key_0123456789ABCDEF",
        "key_0123456789abcdef0",
    ] {
        let r = s
            .client
            .delete(s.url(&format!("/v2/keys/{bad}")))
            .bearer_auth(&manager)
            .send()
            .await
            .unwrap();
        assert_problem(r, StatusCode::BAD_REQUEST, "invalid_id").await;
    }

    // An expired key is refused as a key the server does not take.
    let spec = docintel_backend::KeySpec {
        expires_at: Some(time::OffsetDateTime::now_utc() + time::Duration::milliseconds(300)),
        ..docintel_backend::KeySpec::default()
    };
    let (soon, _) = s.backend.issue_key("acme", spec).await.unwrap();
    let get = |key: String| {
        let s = &s;
        async move {
            s.client
                .get(s.url("/v2/documents"))
                .bearer_auth(key)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(get(soon.clone()).await.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let problem = assert_problem(get(soon).await, StatusCode::UNAUTHORIZED, "unauthorized").await;
    assert!(
        problem["detail"].as_str().unwrap().contains("expired"),
        "{problem}"
    );
}

#[tokio::test]
async fn a_revoked_key_is_refused_by_this_server_at_once_and_by_another_replica() {
    let s = TestServer::start().await;
    let replica = s.replica().await;
    let other = replica.base_url();
    let (key, id) = make_key(&s, &s.key, &["documents:read"]).await;
    let get = |base: String, key: String| {
        let client = s.client.clone();
        async move {
            client
                .get(format!("{base}/v2/documents"))
                .bearer_auth(key)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    // Both have it cached now.
    assert_eq!(get(s.base.clone(), key.clone()).await, StatusCode::OK);
    assert_eq!(get(other.clone(), key.clone()).await, StatusCode::OK);
    let r = s
        .client
        .delete(s.url(&format!("/v2/keys/{id}")))
        .bearer_auth(&s.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let revoked = Instant::now();
    assert_eq!(
        get(s.base.clone(), key.clone()).await,
        StatusCode::UNAUTHORIZED,
        "the server that revoked it"
    );
    // The replica sees the change on its next look at the store.
    let mut status = get(other.clone(), key.clone()).await;
    while status == StatusCode::OK && revoked.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(5)).await;
        status = get(other.clone(), key.clone()).await;
    }
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the replica");
    eprintln!(
        "refused by the replica {:?} after the revocation",
        revoked.elapsed()
    );
    // Revoking again: nothing to revoke.
    let r = s
        .client
        .delete(s.url(&format!("/v2/keys/{id}")))
        .bearer_auth(&s.key)
        .send()
        .await
        .unwrap();
    assert_problem(r, StatusCode::NOT_FOUND, "not_found").await;
}
