//! The audit trail through HTTP: every write operation of the committed OpenAPI documents
//! (a new one fails here until it is exercised and recorded), the registry's and the
//! broker's writes, each recorded with the key, the client's address and the request id
//! of the call that made it; a tenant sees only its own entries, with `audit:read`.

use std::collections::BTreeSet;

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::common::{self, TestServer, assert_problem};
use crate::v1_legacy::{file_form, v1_upload};

/// Every write operation (method, path template) the committed documents declare.
fn write_operations() -> BTreeSet<(String, String)> {
    common::declared_operations()
        .into_iter()
        .filter(|(method, _, _)| method != "get")
        .map(|(method, path, _)| (method.to_uppercase(), path))
        .collect()
}

/// A write made through HTTP, and what its audit entry must say.
struct Call {
    template: (String, String),
    request_id: String,
    action: &'static str,
    resource_id: String,
}

/// The status a write must answer, the action it must record, and the resource id (from
/// the answer's `id` when `None`).
type Expect = (StatusCode, &'static str, Option<String>);

struct Caller<'a> {
    s: &'a TestServer,
    key: String,
    calls: Vec<Call>,
}

impl Caller<'_> {
    /// Sends `method path` (with `body`), checks its status, and notes the entry it must
    /// leave.
    async fn write(
        &mut self,
        method: Method,
        path: &str,
        template: &str,
        body: Option<Value>,
        expect: Expect,
    ) -> Value {
        let mut req = self
            .s
            .client
            .request(method.clone(), self.s.url(path))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let r = req.send().await.unwrap();
        self.note(r, method, template, expect).await
    }

    async fn note(
        &mut self,
        r: Response,
        method: Method,
        template: &str,
        (status, action, resource): Expect,
    ) -> Value {
        assert_eq!(r.status(), status, "{method} {template}");
        let request_id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        let resource_id = resource.unwrap_or_else(|| {
            let id = body["id"].as_str();
            let id = id
                .or(body["key"]["id"].as_str())
                .or(body["webhook"]["id"].as_str());
            id.unwrap_or_else(|| panic!("no id in the answer to {method} {template}: {body}"))
                .to_owned()
        });
        self.calls.push(Call {
            template: (method.to_string(), template.to_owned()),
            request_id,
            action,
            resource_id,
        });
        body
    }
}

async fn trail(s: &TestServer, key: &str, query: &str) -> Response {
    s.client
        .get(s.url(&format!("/v2/audit-events{query}")))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
}

async fn entries(s: &TestServer, key: &str, query: &str) -> Vec<Value> {
    let r = trail(s, key, query).await;
    assert_eq!(r.status(), StatusCode::OK, "{query}");
    let page: Value = r.json().await.unwrap();
    page["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn every_write_is_recorded_with_its_caller_and_only_its_tenant_sees_it() {
    let s = TestServer::start_with(|c| c.webhooks.allow_private_targets = true).await;
    let key_id = docintel_backend::keys::key_id(&docintel_backend::keys::hash(&s.key));
    let mut c = Caller {
        s: &s,
        key: s.key.clone(),
        calls: Vec::new(),
    };

    // v2 documents.
    let r = s.upload("a.txt", b"audited".to_vec()).await;
    let doc = c
        .note(
            r,
            Method::POST,
            "/v2/documents",
            (StatusCode::ACCEPTED, "document.upload", None),
        )
        .await;
    let doc = doc["id"].as_str().unwrap().to_owned();
    let path = format!("/v2/documents/{doc}");
    c.write(
        Method::DELETE,
        &path,
        "/v2/documents/{id}",
        None,
        (StatusCode::NO_CONTENT, "document.delete", Some(doc.clone())),
    )
    .await;
    // v1 documents, through the same backend.
    let r = v1_upload(&s, file_form("v1.txt", b"v1".to_vec())).await;
    c.note(
        r,
        Method::POST,
        "/v1/documents",
        (StatusCode::CREATED, "document.upload", None),
    )
    .await;
    // Webhooks: nothing secret in the trail (neither the URL nor the secret).
    let hook = c
        .write(
            Method::POST,
            "/v2/webhooks",
            "/v2/webhooks",
            Some(json!({"url": "http://127.0.0.1:9/audit-hook", "event_types": ["doc.processed"]})),
            (StatusCode::CREATED, "webhook.create", None),
        )
        .await;
    let hook = hook["webhook"]["id"].as_str().unwrap().to_owned();
    for (suffix, action) in [
        ("rotate-secret", "webhook.rotate_secret"),
        ("enable", "webhook.enable"),
    ] {
        c.write(
            Method::POST,
            &format!("/v2/webhooks/{hook}/{suffix}"),
            &format!("/v2/webhooks/{{id}}/{suffix}"),
            None,
            (StatusCode::OK, action, Some(hook.clone())),
        )
        .await;
    }
    c.write(
        Method::DELETE,
        &format!("/v2/webhooks/{hook}"),
        "/v2/webhooks/{id}",
        None,
        (StatusCode::NO_CONTENT, "webhook.delete", Some(hook.clone())),
    )
    .await;
    // Keys.
    let made = c
        .write(
            Method::POST,
            "/v2/keys",
            "/v2/keys",
            Some(json!({"scopes": ["documents:read"]})),
            (StatusCode::CREATED, "key.create", None),
        )
        .await;
    let made_id = made["key"]["id"].as_str().unwrap().to_owned();
    c.write(
        Method::DELETE,
        &format!("/v2/keys/{made_id}"),
        "/v2/keys/{id}",
        None,
        (StatusCode::NO_CONTENT, "key.revoke", Some(made_id.clone())),
    )
    .await;

    let exercised: BTreeSet<_> = c.calls.iter().map(|c| c.template.clone()).collect();
    let declared = write_operations();
    let missed: Vec<_> = declared.difference(&exercised).collect();
    assert!(
        missed.is_empty(),
        "write operations this test does not exercise: {missed:?}"
    );

    // The registry (with the admin key) and the broker write too.
    let admin_id = docintel_backend::keys::key_id(&docintel_backend::keys::hash(&s.admin_key));
    let r = s
        .client
        .post(s.url("/registry/subjects/audit-value/versions"))
        .bearer_auth(&s.admin_key)
        .header("Content-Type", "application/vnd.schemaregistry.v1+json")
        .body(json!({"schema": "\"string\""}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let registry_request = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    let r = s
        .client
        .put(s.url("/broker/pacticipants/web/branches/main/versions/1"))
        .bearer_auth(&s.key)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let broker_request = r.headers()["x-request-id"].to_str().unwrap().to_owned();

    let all = entries(&s, &s.key, "?limit=100").await;
    let find = |request_id: &str| -> Vec<&Value> {
        all.iter()
            .filter(|e| e["request_id"] == request_id)
            .collect()
    };
    for call in &c.calls {
        let found = find(&call.request_id);
        assert_eq!(found.len(), 1, "{:?}: {all:#?}", call.template);
        let e = found[0];
        assert_eq!(e["action"], call.action, "{e}");
        assert_eq!(e["resource_id"], call.resource_id.as_str(), "{e}");
        assert_eq!(e["actor"], key_id.as_str(), "{e}");
        assert_eq!(e["address"], "127.0.0.1", "{e}");
    }
    let registry = find(&registry_request);
    assert_eq!(registry.len(), 1, "{all:#?}");
    assert_eq!(registry[0]["action"], "registry.register");
    assert_eq!(registry[0]["resource_id"], "audit-value/versions/1");
    assert_eq!(registry[0]["actor"], admin_id.as_str());
    let broker = find(&broker_request);
    assert!(
        broker
            .iter()
            .any(|e| e["action"] == "broker.version.create"),
        "{all:#?}"
    );
    // Reads leave nothing; nothing secret is recorded.
    assert_eq!(
        all.len(),
        c.calls.len() + registry.len() + broker.len(),
        "{all:#?}"
    );
    let text = serde_json::to_string(&all).unwrap();
    for secret in [s.key.as_str(), s.admin_key.as_str(), "audit-hook", "whsec_"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }

    // Another tenant sees none of it, and its own writes only.
    let other = s.backend.create_key("other").await.unwrap();
    assert_eq!(entries(&s, &other, "").await, Vec::<Value>::new());
    let r = s.upload_as(&other, "o.txt", b"other".to_vec()).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let theirs = entries(&s, &other, "").await;
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0]["action"], "document.upload");
    assert_eq!(entries(&s, &s.key, "?limit=100").await, all, "unchanged");

    // Filters and pages.
    let uploads = entries(&s, &s.key, "?action=document.upload").await;
    assert_eq!(uploads.len(), 2);
    assert_ne!(
        uploads[0]["resource_id"],
        doc.as_str(),
        "newest (v1's) first"
    );
    assert_eq!(uploads[1]["resource_id"], doc.as_str());
    let hooks = entries(&s, &s.key, "?action=webhook.").await;
    assert_eq!(hooks.len(), 4);
    assert_eq!(
        entries(&s, &s.key, "?since=2999-01-01T00:00:00Z")
            .await
            .len(),
        0
    );
    let mut paged = Vec::new();
    let mut query = "?limit=3".to_owned();
    loop {
        let r = trail(&s, &s.key, &query).await;
        let page: Value = r.json().await.unwrap();
        paged.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_page"].as_str() {
            Some(token) => query = format!("?limit=3&page_token={token}"),
            None => break,
        }
    }
    assert_eq!(paged, all);
}

#[tokio::test]
async fn the_trail_needs_audit_read_and_refuses_bad_parameters() {
    let s = TestServer::start().await;
    let r = s
        .client
        .post(s.url("/v2/keys"))
        .bearer_auth(&s.key)
        .json(&json!({"scopes": ["documents:read", "documents:write"]}))
        .send()
        .await
        .unwrap();
    let made: Value = r.json().await.unwrap();
    let reader = made["secret"].as_str().unwrap();
    let problem = assert_problem(
        trail(&s, reader, "").await,
        StatusCode::FORBIDDEN,
        "insufficient_scope",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("audit:read"));
    let r = s
        .client
        .get(s.url("/v2/audit-events"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let long = "a".repeat(65);
    for (query, code) in [
        ("?limit=0", "invalid_parameter"),
        ("?limit=101", "invalid_parameter"),
        ("?action=DROP%20TABLE", "invalid_parameter"),
        ("?action=", "invalid_parameter"),
        (&format!("?action={long}"), "invalid_parameter"),
        ("?since=yesterday", "invalid_parameter"),
        ("?page_token=abc", "invalid_page_token"),
        ("?page_token=-5", "invalid_page_token"),
        ("?page_token=99999999999999999999999", "invalid_page_token"),
        ("?unknown=1", "invalid_parameter"),
    ] {
        let r = trail(&s, &s.key, query).await;
        assert_problem(r, StatusCode::BAD_REQUEST, code).await;
    }
}
