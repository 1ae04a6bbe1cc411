//! The embedded Pact Broker's webhooks, as teams use the Pact Broker's: the official
//! `pact-broker` CLI creates, updates, tests and deletes them; a real receiver on
//! loopback gets what publishing a changed pact and publishing a verification result
//! send, with the template parameters filled; secrets stay out of what the broker shows;
//! another team's key neither sees nor makes webhooks for what it does not own; oversize
//! and too many webhooks are refused.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, Method, Uri};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::broker::{cli, cli_ok};
use crate::common::TestServer;

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Hit {
    method: Method,
    /// Path and query.
    uri: String,
    headers: HeaderMap,
    body: String,
}

impl Hit {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// A CI server's trigger endpoint on loopback: records every request, answers 200.
#[derive(Clone, Default)]
struct Receiver(Arc<Mutex<Vec<Hit>>>);

impl Receiver {
    async fn start() -> (Self, String) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let me = Self::default();
        let hits = me.0.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: String| {
                let hits = hits.clone();
                async move {
                    hits.lock().unwrap().push(Hit {
                        method,
                        uri: uri.to_string(),
                        headers,
                        body,
                    });
                    "queued"
                }
            },
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        (me, url)
    }

    /// The requests to paths starting with `path`.
    fn at(&self, path: &str) -> Vec<Hit> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|h| h.uri.starts_with(path))
            .cloned()
            .collect()
    }

    /// Waits until `path` got `n` requests, then a while longer, and returns them all:
    /// a test that expects exactly `n` sees an extra one.
    async fn settle(&self, path: &str, n: usize) -> Vec<Hit> {
        for _ in 0..600 {
            if self.at(path).len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Longer than the sender's idle poll, so a delivery queued with the others is sent.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        self.at(path)
    }
}

async fn server(allow_private: bool) -> TestServer {
    TestServer::start_with(|c| {
        crate::webhooks::fast_retries(c);
        c.webhooks.allow_private_targets = allow_private;
    })
    .await
}

fn pact(consumer: &str, provider: &str, description: &str) -> Value {
    json!({
        "consumer": { "name": consumer },
        "provider": { "name": provider },
        "interactions": [{
            "description": description,
            "request": { "method": "GET", "path": "/invoices/1" },
            "response": { "status": 200 }
        }],
        "metadata": { "pactSpecification": { "version": "2.0.0" } }
    })
}

async fn publish(s: &TestServer, key: &str, pact: &Value, version: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = crate::broker::write_pact(dir.path(), pact);
    cli_ok(
        s,
        key,
        &[
            "publish",
            path.to_str().unwrap(),
            "--consumer-app-version",
            version,
            "--branch",
            "main",
        ],
    )
    .await;
}

async fn call(
    s: &TestServer,
    key: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut r = s
        .client
        .request(method, s.url(&format!("/broker{path}")))
        .bearer_auth(key);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The uuids of the webhooks a key sees.
async fn listed(s: &TestServer, key: &str) -> Vec<String> {
    let (status, v) = call(s, key, reqwest::Method::GET, "/webhooks", None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v["_links"]["pb:webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            l["href"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect()
}

const TEMPLATE: &str = r#"{"pact":"${pactbroker.pactUrl}","consumer":"${pactbroker.consumerName}","version":"${pactbroker.consumerVersionNumber}","branch":"${pactbroker.consumerVersionBranch}","provider":"${pactbroker.providerName}","providerVersion":"${pactbroker.providerVersionNumber}","providerBranch":"${pactbroker.providerVersionBranch}","result":"${pactbroker.verificationResultUrl}","status":"${pactbroker.githubVerificationStatus}","event":"${pactbroker.eventName}"}"#;

#[tokio::test]
async fn a_changed_pact_triggers_the_providers_build_once_and_verifications_report_back() {
    let s = server(true).await;
    let (receiver, target) = Receiver::start().await;
    let web = s.backend.create_key("web-team").await.unwrap();
    let billing = s.backend.create_key("billing-team").await.unwrap();
    let broker = s.url("/broker");

    // The provider team owns billing-api: its main branch has a head, p1.
    let (status, v) = call(
        &s,
        &billing,
        reqwest::Method::PUT,
        "/pacticipants/billing-api/branches/main/versions/p1",
        Some(json!({})),
    )
    .await;
    assert!(status.is_success(), "{status} {v}");

    // The index links the webhooks as the Pact Broker does.
    let (status, index) = call(&s, &billing, reqwest::Method::GET, "", None).await;
    assert_eq!(status, StatusCode::OK, "{index}");
    assert_eq!(
        index["_links"]["pb:webhooks"]["href"],
        format!("{broker}/webhooks")
    );
    assert_eq!(
        index["_links"]["pb:webhook"]["href"],
        format!("{broker}/webhooks/{{uuid}}")
    );

    // The provider team's CI trigger, with the CLI: on content changes only.
    let printed = cli_ok(
        &s,
        &billing,
        &[
            "create-webhook",
            &format!("{target}/build?consumer=${{pactbroker.consumerName}}&v=${{pactbroker.consumerVersionNumber}}"),
            "--request",
            "POST",
            "--header",
            "Content-Type:application/json",
            "X-CI-Token:ci-token-secret",
            "--user",
            "ci:ci-password-secret",
            "--data",
            TEMPLATE,
            "--provider",
            "billing-api",
            "--description",
            "Build billing-api",
            "--contract-content-changed",
        ],
    )
    .await;
    assert!(printed.contains("Build billing-api"), "{printed}");
    let hooks = listed(&s, &billing).await;
    assert_eq!(hooks.len(), 1);
    let build = hooks[0].clone();
    // What the broker shows of it keeps its secrets.
    let (_, shown) = call(
        &s,
        &billing,
        reqwest::Method::GET,
        &format!("/webhooks/{build}"),
        None,
    )
    .await;
    assert_eq!(
        shown["request"]["headers"]["X-CI-Token"], "**********",
        "{shown}"
    );
    assert_eq!(
        shown["request"]["headers"]["Content-Type"],
        "application/json"
    );
    assert_eq!(shown["request"]["password"], "**********");
    assert_eq!(shown["provider"]["name"], "billing-api");
    assert_eq!(
        shown["events"],
        json!([{ "name": "contract_content_changed" }])
    );
    assert_eq!(
        shown["_links"]["pb:execute"]["href"],
        format!("{broker}/webhooks/{build}/execute")
    );
    assert!(!shown.to_string().contains("secret"), "{shown}");

    // The status reporter, created or updated by a uuid of the team's own.
    let uuid = cli_ok(&s, &billing, &["generate-uuid"])
        .await
        .trim()
        .to_owned();
    let report = |description: &'static str| {
        let (target, uuid) = (target.clone(), uuid.clone());
        move || {
            vec![
                "create-or-update-webhook".to_owned(),
                format!("{target}/status/${{pactbroker.providerVersionNumber}}"),
                "--uuid".to_owned(),
                uuid,
                "--request".to_owned(),
                "POST".to_owned(),
                "--data".to_owned(),
                TEMPLATE.to_owned(),
                "--provider".to_owned(),
                "billing-api".to_owned(),
                "--description".to_owned(),
                description.to_owned(),
                "--contract-requiring-verification-published".to_owned(),
                "--provider-verification-published".to_owned(),
                "--provider-verification-succeeded".to_owned(),
                "--provider-verification-failed".to_owned(),
            ]
        }
    };
    let args = report("Report status")();
    cli_ok(
        &s,
        &billing,
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    )
    .await;
    let hooks = listed(&s, &billing).await;
    assert_eq!(hooks.len(), 2, "{hooks:?}");
    let status_hook = hooks.iter().find(|h| **h != build).unwrap().clone();
    // Run again with the webhook's uuid, it updates that webhook in place.
    let args: Vec<String> = report("Report verification status")()
        .into_iter()
        .map(|a| if a == uuid { status_hook.clone() } else { a })
        .collect();
    cli_ok(
        &s,
        &billing,
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    )
    .await;
    assert_eq!(listed(&s, &billing).await.len(), 2);
    let (_, updated) = call(
        &s,
        &billing,
        reqwest::Method::GET,
        &format!("/webhooks/{status_hook}"),
        None,
    )
    .await;
    assert_eq!(updated["description"], "Report verification status");
    // And a PUT under a new uuid of the team's creates it there, as the Pact Broker does.
    let mut body = updated.clone();
    body.as_object_mut().unwrap().remove("_links");
    body["request"]["headers"] = Value::Null;
    body["request"]["password"] = Value::Null;
    let fresh = cli_ok(&s, &billing, &["generate-uuid"])
        .await
        .trim()
        .to_owned();
    let (status, made) = call(
        &s,
        &billing,
        reqwest::Method::PUT,
        &format!("/webhooks/{fresh}"),
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["uuid"], fresh.as_str());
    let (status, _) = call(
        &s,
        &billing,
        reqwest::Method::DELETE,
        &format!("/webhooks/{fresh}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // The consumer team publishes: the build is triggered once, with the parameters.
    let first = pact("web-app", "billing-api", "get an invoice");
    publish(&s, &web, &first, "1.0.0").await;
    let builds = receiver.settle("/build", 1).await;
    assert_eq!(builds.len(), 1, "{builds:?}");
    let hit = &builds[0];
    assert_eq!(hit.method, Method::POST);
    assert_eq!(hit.uri, "/build?consumer=web-app&v=1.0.0");
    assert_eq!(hit.headers["x-ci-token"], "ci-token-secret");
    assert_eq!(hit.headers["content-type"], "application/json");
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode("ci:ci-password-secret");
    assert_eq!(
        hit.headers["authorization"],
        format!("Basic {basic}").as_str()
    );
    let body = hit.json();
    assert_eq!(
        body["pact"],
        format!("{broker}/pacts/provider/billing-api/consumer/web-app/version/1.0.0")
    );
    assert_eq!(body["consumer"], "web-app");
    assert_eq!(body["version"], "1.0.0");
    assert_eq!(body["branch"], "main");
    assert_eq!(body["provider"], "billing-api");
    assert_eq!(body["event"], "contract_content_changed");
    assert_eq!(body["status"], "pending");
    // The pact's URL is one the provider's verifier can fetch.
    let (status, fetched) = call(
        &s,
        &billing,
        reqwest::Method::GET,
        "/pacts/provider/billing-api/consumer/web-app/version/1.0.0",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // The pact links its webhook collections; the provider's lists both of its webhooks.
    assert_eq!(
        fetched["_links"]["pb:pact-webhooks"]["href"],
        format!("{broker}/webhooks/provider/billing-api/consumer/web-app")
    );
    let (status, v) = call(
        &s,
        &billing,
        reqwest::Method::GET,
        "/webhooks/provider/billing-api",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(
        v["_links"]["pb:webhooks"].as_array().unwrap().len(),
        2,
        "{v}"
    );
    // The head of the provider's main branch is to verify it: one status report for p1.
    let reports = receiver.settle("/status", 1).await;
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].uri, "/status/p1");
    let report_body = reports[0].json();
    assert_eq!(
        report_body["event"],
        "contract_requiring_verification_published"
    );
    assert_eq!(report_body["providerVersion"], "p1");
    assert_eq!(report_body["providerBranch"], "main");

    // The same content again (the same version, then a new one): no content change.
    publish(&s, &web, &first, "1.0.0").await;
    publish(&s, &web, &first, "1.0.1").await;
    assert_eq!(receiver.settle("/build", 2).await.len(), 1);
    // A changed pact triggers the build again.
    publish(
        &s,
        &web,
        &pact("web-app", "billing-api", "list invoices"),
        "1.1.0",
    )
    .await;
    let builds = receiver.settle("/build", 2).await;
    assert_eq!(builds.len(), 2);
    assert_eq!(builds[1].json()["version"], "1.1.0");

    // The provider verifies the latest pact and publishes the result: reported once as
    // published and once as succeeded, with the result's URL.
    let reports_before = receiver.at("/status").len();
    let sha = fetched["_links"]["pb:pact-version"]["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, latest) = call(
        &s,
        &billing,
        reqwest::Method::GET,
        "/pacts/provider/billing-api/consumer/web-app/version/1.1.0",
        None,
    )
    .await;
    assert_ne!(latest["_links"]["pb:pact-version"]["name"], sha.as_str());
    let results = latest["_links"]["pb:publish-verification-results"]["href"]
        .as_str()
        .unwrap()
        .trim_start_matches(&broker)
        .to_owned();
    let (status, result) = call(
        &s,
        &billing,
        reqwest::Method::POST,
        &results,
        Some(json!({ "success": true, "providerApplicationVersion": "p2" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{result}");
    let reports = receiver.settle("/status/p2", 2).await;
    let mut events: Vec<String> = reports
        .iter()
        .map(|h| h.json()["event"].as_str().unwrap().to_owned())
        .collect();
    events.sort();
    assert_eq!(
        events,
        [
            "provider_verification_published",
            "provider_verification_succeeded"
        ]
    );
    for r in &reports {
        let b = r.json();
        assert_eq!(b["status"], "success");
        assert_eq!(b["version"], "1.1.0");
        assert_eq!(b["result"], result["_links"]["self"]["href"]);
    }
    assert!(receiver.at("/status").len() >= reports_before + 2);

    // The executions log: each delivery, its secrets redacted as the Pact Broker does.
    let (status, log) = call(
        &s,
        &billing,
        reqwest::Method::GET,
        &format!("/webhooks/{build}/executions"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let executions = log["executions"].as_array().unwrap();
    assert_eq!(executions.len(), 2, "{log}");
    assert!(executions.iter().all(|e| e["success"] == true));
    let logs = executions[0]["logs"].as_str().unwrap();
    assert!(logs.contains("X-CI-Token: **********"), "{logs}");
    assert!(logs.contains("status=200"), "{logs}");
    assert!(!log.to_string().contains("secret"), "{log}");

    // test-webhook runs it now, with the latest pact, and shows the log.
    let printed = cli_ok(&s, &billing, &["test-webhook", "--uuid", &build]).await;
    assert!(printed.contains("status=200"), "{printed}");
    assert!(!printed.contains("ci-token-secret"), "{printed}");
    let builds = receiver.settle("/build", 3).await;
    assert_eq!(builds.len(), 3);
    assert_eq!(builds[2].json()["event"], "test");
    assert_eq!(builds[2].json()["version"], "1.1.0");

    // The consumer team sees none of it, and cannot make a webhook for billing-api.
    assert!(listed(&s, &web).await.is_empty());
    for (method, path) in [
        (reqwest::Method::GET, format!("/webhooks/{build}")),
        (
            reqwest::Method::GET,
            format!("/webhooks/{build}/executions"),
        ),
        (reqwest::Method::POST, format!("/webhooks/{build}/execute")),
        (reqwest::Method::DELETE, format!("/webhooks/{build}")),
    ] {
        let (status, v) = call(&s, &web, method.clone(), &path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {v}");
    }
    let (ok, printed) = cli(
        &s,
        &web,
        &[
            "create-webhook",
            &format!("{target}/steal"),
            "--request",
            "POST",
            "--provider",
            "billing-api",
            "--contract-published",
        ],
    )
    .await;
    assert!(!ok, "{printed}");
    let (status, v) = call(
        &s,
        &web,
        reqwest::Method::PUT,
        &format!("/webhooks/{build}"),
        Some(json!({ "consumer": { "name": "web-app" }, "request": { "method": "POST", "url": format!("{target}/steal") } })),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    // Its own consumer is its to hook; an admin key sees every team's webhooks.
    cli_ok(
        &s,
        &web,
        &[
            "create-webhook",
            &format!("{target}/own"),
            "--request",
            "POST",
            "--consumer",
            "web-app",
            "--contract-published",
        ],
    )
    .await;
    assert_eq!(listed(&s, &web).await.len(), 1);
    assert_eq!(listed(&s, &s.admin_key).await.len(), 3);
    assert!(receiver.at("/steal").is_empty());

    // delete-webhook removes it: nothing more is sent.
    cli_ok(&s, &billing, &["delete-webhook", "--uuid", &build]).await;
    let (status, _) = call(
        &s,
        &billing,
        reqwest::Method::GET,
        &format!("/webhooks/{build}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    publish(
        &s,
        &web,
        &pact("web-app", "billing-api", "delete an invoice"),
        "1.2.0",
    )
    .await;
    assert_eq!(receiver.settle("/build", 4).await.len(), 3);
    // The consumer team's own webhook fired once, for the one publication since.
    let own = receiver.settle("/own", 1).await;
    assert_eq!(own.len(), 1, "{own:?}");
}

#[tokio::test]
async fn webhooks_are_bounded_and_go_to_public_endpoints_only() {
    let s = server(false).await;
    let team = s.backend.create_key("billing-team").await.unwrap();
    let (status, _) = call(
        &s,
        &team,
        reqwest::Method::PUT,
        "/pacticipants/billing-api/branches/main/versions/p1",
        Some(json!({})),
    )
    .await;
    assert!(status.is_success());
    let hook = |url: &str| {
        json!({
            "provider": { "name": "billing-api" },
            "events": [{ "name": "contract_content_changed" }],
            "request": { "method": "POST", "url": url }
        })
    };
    let create = |body: Value| call(&s, &team, reqwest::Method::POST, "/webhooks", Some(body));

    // Loopback, private and metadata addresses, and schemes other than http(s), are refused.
    for url in [
        "http://127.0.0.1:9/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://10.0.0.1/hook",
        "file:///etc/passwd",
        "http://user:pw@example.com/hook",
        "https://${pactbroker.consumerName}/hook",
    ] {
        let (status, v) = create(hook(url)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}: {v}");
        assert!(v["errors"]["request.url"].is_array(), "{url}: {v}");
    }
    // Bad input is a 400 in the broker's dialect; oversize, 413.
    for (body, field) in [
        (
            json!({ "provider": { "name": "billing-api" }, "request": { "method": "GET", "url": "https://example.com/" } }),
            "request.method",
        ),
        (
            json!({ "provider": { "name": "billing-api" }, "events": [{ "name": "everything" }], "request": { "url": "https://example.com/" } }),
            "events",
        ),
        (
            json!({ "provider": { "name": "billing-api" }, "request": { "url": "https://example.com/", "headers": { "Host": "metadata" } } }),
            "request.headers",
        ),
        (json!({ "provider": { "name": "billing-api" } }), "request"),
        (json!("just a string"), "body"),
    ] {
        let (status, v) = create(body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert!(v["errors"][field].is_array(), "{body}: {v}");
    }
    let mut big = hook("https://example.com/hook");
    big["request"]["body"] = json!("x".repeat(64 * 1024 + 1));
    let (status, v) = create(big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    let mut many_headers = hook("https://example.com/hook");
    many_headers["request"]["headers"] = (0..33)
        .map(|i| (format!("X-H{i}"), json!("v")))
        .collect::<serde_json::Map<_, _>>()
        .into();
    let (status, _) = create(many_headers).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // A team's webhook for every pact, or for a pacticipant nobody has, is refused.
    let (status, _) = create(json!({ "request": { "url": "https://example.com/" } })).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = create(
        json!({ "consumer": { "name": "nobody" }, "request": { "url": "https://example.com/" } }),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A uuid must look like one.
    let (status, v) = call(
        &s,
        &team,
        reqwest::Method::PUT,
        "/webhooks/short",
        Some(hook("https://example.com/")),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");

    // Twenty webhooks a team; the twenty-first is refused until one is deleted. (On a
    // server that allows loopback targets: this machine resolves no public name.)
    let s = server(true).await;
    let team = s.backend.create_key("billing-team").await.unwrap();
    let (status, _) = call(
        &s,
        &team,
        reqwest::Method::PUT,
        "/pacticipants/billing-api/branches/main/versions/p1",
        Some(json!({})),
    )
    .await;
    assert!(status.is_success());
    let (_, target) = Receiver::start().await;
    let create = |body: Value| call(&s, &team, reqwest::Method::POST, "/webhooks", Some(body));
    let mut made = Vec::new();
    for _ in 0..20 {
        let (status, v) = create(hook(&target)).await;
        assert_eq!(status, StatusCode::CREATED, "{v}");
        made.push(v["uuid"].as_str().unwrap().to_owned());
    }
    let (status, v) = create(hook(&target)).await;
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE, "{v}");
    let (status, _) = call(
        &s,
        &team,
        reqwest::Method::DELETE,
        &format!("/webhooks/{}", made[0]),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, v) = create(hook(&target)).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
}
