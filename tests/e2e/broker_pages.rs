//! The embedded Pact Broker's pages and badges: the index, a pact's page and a pair's
//! matrix as HTML for browsers (HAL for the CLI at the same URLs), and SVG badges at the
//! Pact Broker's URLs. Pacts come from the official CLI and from a hostile client whose
//! names and descriptions are markup; a real browser (Debian's chromium driven by
//! Playwright, `tests/browser/broker_pages.py`) follows every link and checks each page
//! with axe-core.

use std::path::Path;

use base64::Engine;
use quick_xml::events::Event;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::broker::{cli_ok, committed_pact, write_pact};
use crate::common::TestServer;

const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
const HOSTILE_CONSUMER: &str = "web<img src=x onerror=alert(1)>";
const HOSTILE_PROVIDER: &str = "api<svg onload=alert(2)>";

fn seg(s: &str) -> String {
    // The test's own encoding of a path segment: everything but unreserved characters.
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn basic(key: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("browser:{key}"))
    )
}

async fn page(s: &TestServer, key: Option<&str>, path: &str) -> (StatusCode, String, String) {
    let mut request = s.client.get(s.url(path)).header(ACCEPT, BROWSER_ACCEPT);
    if let Some(key) = key {
        request = request.header(AUTHORIZATION, basic(key));
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

/// A pact as a hostile client publishes it: markup in every name and description.
fn hostile_pact(interactions: usize, padding: usize) -> Value {
    let interactions: Vec<Value> = (0..interactions)
        .map(|n| {
            json!({
                "description": format!("<script>alert('d{n}')</script> lists documents"),
                "providerState": "<img src=x onerror=alert('state')>",
                "request": { "method": "GET", "path": "/v2/documents",
                             "headers": { "X-Evil": "</pre><script>alert('h')</script>" } },
                "response": { "status": 200,
                              "body": { "html": "<script>alert('b')</script>", "padding": "x".repeat(padding) } }
            })
        })
        .collect();
    json!({
        "consumer": { "name": HOSTILE_CONSUMER },
        "provider": { "name": HOSTILE_PROVIDER },
        "interactions": interactions,
        "metadata": { "pactSpecification": { "version": "2.0.0" } }
    })
}

/// Publishes as the Pact Broker's `POST /contracts/publish` takes it.
async fn publish_raw(s: &TestServer, key: &str, pact: &Value, version: &str) {
    let content = serde_json::to_vec(pact).unwrap();
    let response = s
        .client
        .post(s.url("/broker/contracts/publish"))
        .bearer_auth(key)
        .json(&json!({
            "pacticipantName": pact["consumer"]["name"],
            "pacticipantVersionNumber": version,
            "branch": "main",
            "contracts": [{
                "consumerName": pact["consumer"]["name"],
                "providerName": pact["provider"]["name"],
                "specification": "pact",
                "contentType": "application/json",
                "content": base64::engine::general_purpose::STANDARD.encode(content),
            }]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{}",
        response.text().await.unwrap()
    );
}

/// Publishes a verification result of the pair's latest pact, as pact_verifier does:
/// to the link the pact carries.
async fn verify(s: &TestServer, consumer: &str, provider: &str, version: &str, success: bool) {
    let pact: Value = s
        .client
        .get(s.url(&format!(
            "/broker/pacts/provider/{}/consumer/{}/latest",
            seg(provider),
            seg(consumer)
        )))
        .bearer_auth(&s.admin_key)
        .header(ACCEPT, "application/hal+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = pact["_links"]["pb:publish-verification-results"]["href"]
        .as_str()
        .unwrap_or_else(|| panic!("no verification link in {pact}"));
    let response = s
        .client
        .post(url)
        .bearer_auth(&s.admin_key)
        .json(&json!({ "success": success, "providerApplicationVersion": version }))
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap()
    );
}

/// The badge's state, from the SVG parsed as XML: the words of its `<text>` elements.
fn badge_words(svg: &str) -> Vec<String> {
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut words = Vec::new();
    let mut in_text = false;
    let mut root = None;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                root.get_or_insert(name.clone());
                in_text = name == "text";
            }
            Ok(Event::Text(t)) if in_text => words.push(t.decode().unwrap().into_owned()),
            Ok(Event::End(_)) => in_text = false,
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("the badge is not XML ({e}): {svg}"),
        }
    }
    assert_eq!(root.as_deref(), Some("svg"), "{svg}");
    words
}

async fn badge(s: &TestServer, key: Option<&str>, path: &str) -> (StatusCode, Vec<String>, String) {
    let mut request = s.client.get(s.url(path)).header(ACCEPT, "image/*");
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    if status != StatusCode::OK {
        return (status, Vec::new(), response.text().await.unwrap());
    }
    assert_eq!(
        response.headers()[CONTENT_TYPE],
        "image/svg+xml;charset=utf-8"
    );
    assert_eq!(response.headers()["cache-control"], "no-cache");
    let body = response.text().await.unwrap();
    (status, badge_words(&body), body)
}

const SDK_BADGE: &str = "/broker/pacts/provider/docintel/consumer/docintel-sdk/latest/badge";

/// Publishes the SDK's committed pact with the official CLI on `main`, tagged `prod`.
async fn publish_sdk_pact(s: &TestServer, key: &str, version: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = write_pact(dir.path(), &committed_pact("docintel-sdk-docintel.json"));
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
            "--tag",
            "prod",
        ],
    )
    .await;
}

#[tokio::test]
async fn pages_render_for_browsers_escaped_and_hal_stays_for_the_cli() {
    let s = TestServer::start().await;
    let sdk = s.backend.create_key("sdk-team").await.unwrap();
    let mallory = s.backend.create_key("mallory").await.unwrap();
    publish_sdk_pact(&s, &sdk, "1.0.0").await;
    publish_raw(&s, &mallory, &hostile_pact(3, 10), "6.6.6").await;
    verify(&s, "docintel-sdk", "docintel", "abc123", true).await;

    // The CLI still reads the index as HAL (publishing above followed it too).
    cli_ok(&s, &sdk, &["list-environments"]).await;
    let hal = s
        .client
        .get(s.url("/broker"))
        .bearer_auth(&sdk)
        .header(ACCEPT, "application/hal+json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        hal.headers()[CONTENT_TYPE],
        "application/hal+json;charset=utf-8"
    );
    // The same URL gives browsers a page: a cache must key the answer on Accept.
    assert_eq!(hal.headers()[reqwest::header::VARY], "Accept");
    let hal: Value = hal.json().await.unwrap();
    assert!(
        hal["_links"]["pb:pacticipants"]["href"].is_string(),
        "{hal}"
    );

    // A browser without credentials is asked for Basic ones; with the key, the index.
    for path in [
        "/broker",
        "/broker/",
        "/broker/matrix/provider/docintel/consumer/docintel-sdk",
    ] {
        let response = s
            .client
            .get(s.url(path))
            .header(ACCEPT, BROWSER_ACCEPT)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        let challenge = response.headers()["www-authenticate"].to_str().unwrap();
        assert!(challenge.starts_with("Basic realm="), "{path}: {challenge}");
    }
    for path in ["/broker", "/broker/"] {
        let (status, content_type, html) = page(&s, Some(&sdk), path).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert_eq!(content_type, "text/html; charset=utf-8");
        assert!(
            html.starts_with("<!DOCTYPE html><html lang=\"en\">"),
            "{html}"
        );
        assert!(html.contains(">verified</span>"), "{html}");
        assert!(html.contains(">unverified</span>"), "{html}");
        assert!(html.contains("/broker/pacts/provider/docintel/consumer/docintel-sdk/latest\""));
        assert!(html.contains("/broker/matrix/provider/docintel/consumer/docintel-sdk\""));
        // The hostile team's names are text, never markup.
        assert!(
            !html.contains("<img src=x") && !html.contains("<svg onload"),
            "{html}"
        );
        assert!(
            html.contains("web&lt;img src=x onerror=alert(1)&gt;"),
            "{html}"
        );
    }
    let response = s
        .client
        .get(s.url("/broker/"))
        .header(AUTHORIZATION, basic(&sdk))
        .header(ACCEPT, BROWSER_ACCEPT)
        .send()
        .await
        .unwrap();
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(
        csp.starts_with("default-src 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
    assert_eq!(response.headers()["vary"], "Accept");

    // The hostile pact's page: every description, state and body shown as text.
    let hostile = format!(
        "/broker/pacts/provider/{}/consumer/{}/latest",
        seg(HOSTILE_PROVIDER),
        seg(HOSTILE_CONSUMER)
    );
    let (status, _, html) = page(&s, Some(&sdk), &hostile).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(!html.contains("<script"), "{html}");
    assert!(
        !html.contains("<img src=x") && !html.contains("<svg onload"),
        "{html}"
    );
    assert!(!html.contains("</pre><script"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(&#39;d2&#39;)&lt;/script&gt; lists documents")
            || html.contains("&lt;script&gt;alert('d2')&lt;/script&gt; lists documents"),
        "{html}"
    );
    assert!(
        html.contains("Given &lt;img src=x onerror=alert("),
        "{html}"
    );
    assert_eq!(
        html.matches("<section class=\"interaction\"").count(),
        3,
        "{html}"
    );
    // The same URL gives the pact itself to a HAL client.
    let pact: Value = s
        .client
        .get(s.url(&hostile))
        .bearer_auth(&sdk)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pact["consumer"]["name"], HOSTILE_CONSUMER);
    assert_eq!(pact["interactions"].as_array().unwrap().len(), 3);

    // The SDK's pact page by tag, and a pair or tag without a pact.
    let (status, _, html) = page(
        &s,
        Some(&sdk),
        "/broker/pacts/provider/docintel/consumer/docintel-sdk/latest/prod",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("docintel-sdk version 1.0.0"), "{html}");
    assert!(
        html.contains(">verified</span> by docintel version abc123"),
        "{html}"
    );
    // A consumer version's pact: a page for a browser, the pact for the CLI.
    let version = "/broker/pacts/provider/docintel/consumer/docintel-sdk/version/1.0.0";
    let (status, content_type, html) = page(&s, Some(&sdk), version).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(content_type, "text/html; charset=utf-8");
    assert!(
        html.contains(">verified</span> by docintel version abc123"),
        "{html}"
    );
    let pact: Value = s
        .client
        .get(s.url(version))
        .bearer_auth(&sdk)
        .header(ACCEPT, "application/hal+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pact["consumer"]["name"], "docintel-sdk");
    for missing in [
        "/broker/pacts/provider/docintel/consumer/docintel-sdk/version/9.9.9",
        "/broker/pacts/provider/docintel/consumer/docintel-sdk/latest/no-such-tag",
        "/broker/pacts/provider/docintel/consumer/nobody/latest",
    ] {
        let (status, content_type, body) = page(&s, Some(&sdk), missing).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}: {body}");
        assert_eq!(content_type, "application/hal+json;charset=utf-8");
        assert!(serde_json::from_str::<Value>(&body).unwrap()["error"].is_string());
    }

    // The matrix page, filtered by a GET form's fields.
    let matrix = "/broker/matrix/provider/docintel/consumer/docintel-sdk";
    let (status, _, html) = page(&s, Some(&sdk), matrix).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("<form method=\"get\""), "{html}");
    assert!(
        html.contains(">abc123</a>") && html.contains(">verified</span>"),
        "{html}"
    );
    let (_, _, html) = page(
        &s,
        Some(&sdk),
        &format!("{matrix}?consumer_branch=feature-x"),
    )
    .await;
    assert!(html.contains("No pacts between these versions."), "{html}");
    assert!(html.contains("value=\"feature-x\""), "{html}");
    let (_, _, html) = page(
        &s,
        Some(&sdk),
        &format!("{matrix}?consumer_branch=main&provider_latest=true"),
    )
    .await;
    assert!(html.contains(">abc123</a>"), "{html}");
    // Bad input is the broker's 400, not a page nor a 500.
    let (status, _, body) = page(&s, Some(&sdk), &format!("{matrix}?consumer_tag=a%0Ab")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("\"errors\""), "{body}");
    let (status, _, body) = page(
        &s,
        Some(&sdk),
        &format!("{matrix}?consumer_tag={}", "x".repeat(5000)),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _, body) = page(
        &s,
        Some(&sdk),
        "/broker/matrix/provider/docintel/consumer/nobody",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test]
async fn a_two_mib_pact_renders_a_bounded_page_and_says_so() {
    let s = TestServer::start().await;
    let mallory = s.backend.create_key("mallory").await.unwrap();
    // Just under the broker's 2 MiB: 1,500 interactions with 1 KiB bodies.
    let pact = hostile_pact(1_500, 900);
    assert!(
        serde_json::to_vec(&pact).unwrap().len() < 2 * 1024 * 1024,
        "the broker takes pacts up to 2 MiB"
    );
    publish_raw(&s, &mallory, &pact, "1").await;
    let (status, _, html) = page(
        &s,
        Some(&mallory),
        &format!(
            "/broker/pacts/provider/{}/consumer/{}/latest",
            seg(HOSTILE_PROVIDER),
            seg(HOSTILE_CONSUMER)
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Interactions (1500)"), "{}", &html[..2000]);
    assert!(html.contains("This page shows the first 200 of 1500 interactions"));
    assert_eq!(html.matches("<section class=\"interaction\"").count(), 200);
    assert!(html.len() < 1024 * 1024, "a page of {} bytes", html.len());
    assert!(!html.contains("<script"));
}

#[tokio::test]
async fn badges_show_the_state_at_the_pact_brokers_urls_and_need_a_key() {
    let s = TestServer::start().await;
    let sdk = s.backend.create_key("sdk-team").await.unwrap();
    let other = s.backend.create_key("other-team").await.unwrap();
    publish_sdk_pact(&s, &sdk, "1.0.0").await;

    // Unverified, then verified, then a new pact version fails.
    let (status, words, _) = badge(&s, Some(&sdk), SDK_BADGE).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(words, ["pact", "unknown"]);
    verify(&s, "docintel-sdk", "docintel", "abc123", true).await;
    let (_, words, svg) = badge(&s, Some(&other), SDK_BADGE).await;
    assert_eq!(words, ["pact", "verified"]);
    assert!(svg.contains("fill=\"#2e7d32\""), "{svg}");
    // Names and versions are never rendered into a badge.
    assert!(
        !svg.contains("docintel-sdk") && !svg.contains("abc123") && !svg.contains("1.0.0"),
        "{svg}"
    );
    let (_, words, _) = badge(
        &s,
        Some(&sdk),
        "/broker/pacts/provider/docintel/consumer/docintel-sdk/latest/prod/badge",
    )
    .await;
    assert_eq!(words, ["pact", "verified"]);
    let (_, words, _) = badge(
        &s,
        Some(&sdk),
        "/broker/pacts/provider/docintel/consumer/docintel-sdk/latest/nope/badge",
    )
    .await;
    assert_eq!(words, ["pact", "unknown"]);

    let mut changed = committed_pact("docintel-sdk-docintel.json");
    changed["interactions"][0]["description"] = json!("a changed expectation");
    let dir = tempfile::tempdir().unwrap();
    let path = write_pact(dir.path(), &changed);
    cli_ok(
        &s,
        &sdk,
        &[
            "publish",
            path.to_str().unwrap(),
            "--consumer-app-version",
            "1.1.0",
            "--branch",
            "main",
        ],
    )
    .await;
    let (_, words, _) = badge(&s, Some(&sdk), SDK_BADGE).await;
    assert_eq!(
        words,
        ["pact", "unknown"],
        "a changed pact is not verified yet"
    );
    verify(&s, "docintel-sdk", "docintel", "def456", false).await;
    let (_, words, svg) = badge(&s, Some(&sdk), SDK_BADGE).await;
    assert_eq!(words, ["pact", "failed"]);
    assert!(svg.contains("fill=\"#c62828\""), "{svg}");
    // The tag still names 1.0.0's verified pact.
    let (_, words, _) = badge(
        &s,
        Some(&sdk),
        "/broker/pacts/provider/docintel/consumer/docintel-sdk/latest/prod/badge",
    )
    .await;
    assert_eq!(words, ["pact", "verified"]);

    // The matrix badge: consumer tag `prod`, verified by a provider version tagged `prod`.
    let matrix_badge =
        "/broker/matrix/provider/docintel/latest/prod/consumer/docintel-sdk/latest/prod/badge";
    let (_, words, _) = badge(&s, Some(&sdk), matrix_badge).await;
    assert_eq!(
        words,
        ["pact", "unknown"],
        "no provider version is tagged prod yet"
    );
    let tagged = s
        .client
        .put(s.url("/broker/pacticipants/docintel/versions/abc123/tags/prod"))
        .bearer_auth(&s.admin_key)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert!(
        tagged.status().is_success(),
        "{}",
        tagged.text().await.unwrap()
    );
    let (_, words, _) = badge(&s, Some(&sdk), matrix_badge).await;
    assert_eq!(words, ["pact", "verified"]);

    // can-i-deploy, as the Pact Broker words it: "{branch} to {environment}".
    cli_ok(
        &s,
        &s.admin_key,
        &["create-environment", "--name", "production", "--production"],
    )
    .await;
    let to_production = "/broker/pacticipants/docintel-sdk/branches/main/latest-version/can-i-deploy/to-environment/production/badge";
    let (_, words, svg) = badge(&s, Some(&sdk), to_production).await;
    assert_eq!(words, ["can-i-deploy", "main to production"]);
    assert!(
        svg.contains("fill=\"#c62828\""),
        "docintel is not in production: {svg}"
    );
    cli_ok(
        &s,
        &s.admin_key,
        &[
            "record-deployment",
            "--pacticipant",
            "docintel",
            "--version",
            "abc123",
            "--environment",
            "production",
        ],
    )
    .await;
    // 1.1.0 (latest on main) failed against abc123; 1.0.0 (tag prod) passed.
    let (_, words, svg) = badge(&s, Some(&sdk), to_production).await;
    assert_eq!(words, ["can-i-deploy", "main to production"]);
    assert!(svg.contains("fill=\"#c62828\""), "{svg}");
    let (_, words, svg) = badge(
        &s,
        Some(&sdk),
        "/broker/pacticipants/docintel-sdk/latest-version/prod/can-i-deploy/to/prod/badge",
    )
    .await;
    assert_eq!(words, ["can-i-deploy", "prod to prod"]);
    assert!(
        svg.contains("fill=\"#2e7d32\""),
        "1.0.0 was verified by abc123, tagged prod: {svg}"
    );
    let (_, words, _) = badge(&s, Some(&sdk), "/broker/pacticipants/docintel-sdk/branches/main/latest-version/can-i-deploy/to-environment/nowhere/badge").await;
    assert_eq!(words, ["can-i-deploy", "unknown"]);

    // Without a key: 401 (a README's image would not show); a bad name is the broker's 400.
    let (status, _, body) = badge(&s, None, SDK_BADGE).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, _, body) = badge(
        &s,
        Some(&sdk),
        "/broker/pacts/provider/docintel/consumer/a%0Ab/latest/badge",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn public_badges_answer_without_a_key_and_tell_only_the_state() {
    let s = TestServer::launch(|l| l.config.broker_public_badges = true).await;
    let sdk = s.backend.create_key("sdk-team").await.unwrap();
    publish_sdk_pact(&s, &sdk, "1.0.0").await;
    verify(&s, "docintel-sdk", "docintel", "abc123", true).await;
    let (status, words, svg) = badge(&s, None, SDK_BADGE).await;
    assert_eq!(status, StatusCode::OK, "{svg}");
    assert_eq!(words, ["pact", "verified"]);
    // A pair that does not exist reads as one never verified: no more is learnt.
    let (_, words, _) = badge(
        &s,
        None,
        "/broker/pacts/provider/docintel/consumer/secret-project/latest/badge",
    )
    .await;
    assert_eq!(words, ["pact", "unknown"]);
    // Only badges: every other read still needs a key.
    let (status, _, _) = page(&s, None, "/broker/").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let response = s
        .client
        .get(s.url("/broker/pacts/provider/docintel/consumer/docintel-sdk/latest"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // A key that is sent is still checked.
    let (status, _, _) = badge(&s, Some("dik_not-a-key"), SDK_BADGE).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "an unknown key reads as no key, like the public"
    );
}

/// What the browser check needs; a missing one fails the test with its install command.
fn browser_prerequisites() -> (String, String) {
    let chromium =
        std::env::var("DOCINTEL_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "chromium is missing: run `apt-get install -y chromium` (or set DOCINTEL_CHROMIUM)"
    );
    let playwright = std::process::Command::new("python3")
        .args(["-c", "import playwright.sync_api"])
        .output()
        .expect("python3 runs");
    assert!(
        playwright.status.success(),
        "Python's playwright is missing: run `pip install -r tests/requirements.txt` (never `playwright install`: chromium comes from Debian)\n{}",
        String::from_utf8_lossy(&playwright.stderr)
    );
    let axe = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/thirdparty/node_modules/axe-core/axe.min.js"
    );
    assert!(
        Path::new(axe).exists(),
        "axe-core is missing: run `npm ci --prefix tests/thirdparty`"
    );
    (chromium, axe.to_owned())
}

#[tokio::test]
async fn a_real_browser_follows_every_link_filters_the_matrix_and_finds_no_accessibility_violations()
 {
    let (chromium, axe) = browser_prerequisites();
    let s = TestServer::start().await;
    let sdk = s.backend.create_key("sdk-team").await.unwrap();
    let mallory = s.backend.create_key("mallory").await.unwrap();
    publish_sdk_pact(&s, &sdk, "1.0.0").await;
    verify(&s, "docintel-sdk", "docintel", "abc123", true).await;
    publish_raw(&s, &mallory, &hostile_pact(2, 10), "6.6.6").await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/broker_pages.py");
    let out = tokio::process::Command::new("python3")
        .arg(script)
        .env("BROKER_URL", s.url("/broker"))
        .env("BROKER_KEY", &sdk)
        .env("CHROMIUM", chromium)
        .env("AXE_JS", axe)
        .output()
        .await
        .expect("python3 runs");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{printed}");
    assert!(out.status.success(), "the browser check failed:\n{printed}");
    // The script reports what it did; a run that checked nothing is no pass.
    assert!(printed.contains("links followed: "), "{printed}");
    assert!(printed.contains("matrix filter: ok"), "{printed}");
    assert!(printed.contains("badge rendered: "), "{printed}");
    assert!(
        printed.contains("hostile markup shown as text on "),
        "{printed}"
    );
    assert!(
        printed.contains("axe: 0 serious or critical violations on "),
        "{printed}"
    );
}
