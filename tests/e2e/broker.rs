//! The embedded Pact Broker, driven as consumer teams and docintel's CI drive a Pact
//! Broker: the Pact Foundation's own `pact-broker` CLI (installed by
//! `npm ci --prefix tests/thirdparty`) publishes pacts, records deployments and asks
//! can-i-deploy; the governance gate verifies what the broker selects with pact_verifier
//! and publishes the results. Raw HTTP covers what a hostile or broken client sends.

use std::path::{Path, PathBuf};
use std::process::Output;

use docintel_governance::checks::contracts::{self, BrokerSource, Provider};
use docintel_governance::report::Severity;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{self, TestServer};

const CLI: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/thirdparty/node_modules/.bin/pact-broker"
);

/// Runs the official CLI against the server's broker with `token`; status and all it
/// printed.
pub(crate) async fn cli(s: &TestServer, token: &str, args: &[&str]) -> (bool, String) {
    assert!(
        Path::new(CLI).exists(),
        "the pact-broker CLI is missing: run `npm ci --prefix tests/thirdparty`"
    );
    let Output {
        status,
        stdout,
        stderr,
    } = tokio::process::Command::new(CLI)
        .args(args)
        .env("PACT_DO_NOT_TRACK", "true")
        .env("PACT_BROKER_BASE_URL", s.url("/broker"))
        .env("PACT_BROKER_TOKEN", token)
        .output()
        .await
        .expect("the pact-broker CLI runs");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&stdout),
        String::from_utf8_lossy(&stderr)
    );
    (status.success(), printed)
}

pub(crate) async fn cli_ok(s: &TestServer, token: &str, args: &[&str]) -> String {
    let (ok, printed) = cli(s, token, args).await;
    assert!(ok, "pact-broker {args:?} failed:\n{printed}");
    printed
}

pub(crate) fn committed_pact(file: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("contracts/pacts")
        .join(file);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

pub(crate) fn write_pact(dir: &Path, pact: &Value) -> PathBuf {
    let consumer = pact["consumer"]["name"].as_str().unwrap();
    let path = dir.join(format!("{consumer}-docintel.json"));
    std::fs::write(&path, serde_json::to_vec_pretty(pact).unwrap()).unwrap();
    path
}

/// The analytics pact, as another team that also wants a field docintel never returns.
fn pact_asking_for_a_missing_field(consumer: &str) -> Value {
    let mut pact = committed_pact("analytics-team-docintel.json");
    pact["consumer"]["name"] = json!(consumer);
    pact["interactions"][0]["response"]["body"]["content"]["items"][0]["department"] =
        json!("finance");
    pact
}

pub(crate) fn broker_source(s: &TestServer, version: &str, wip: bool) -> BrokerSource {
    BrokerSource {
        url: s.url("/broker"),
        // docintel is the platform's pacticipant: its CI publishes with an admin key.
        token: Some(s.admin_key.clone()),
        provider_version: Some(version.to_owned()),
        provider_branch: Some("main".to_owned()),
        selectors: serde_json::from_value(json!([
            { "mainBranch": true },
            { "deployedOrReleased": true }
        ]))
        .unwrap(),
        include_wip_pacts_since: wip.then(|| "2020-01-01".to_owned()),
        publish: true,
    }
}

#[tokio::test]
async fn consumer_teams_publish_docintel_verifies_and_can_i_deploy_gates_both() {
    let s = TestServer::start().await;
    let pacts = tempfile::tempdir().unwrap();
    // Each consumer team has its own key (its own tenant); docintel's CI an admin key.
    let mut team_keys = std::collections::HashMap::new();
    for team in [
        "docintel-sdk",
        "legacy-portal",
        "analytics-team",
        "notification-service",
        "reporting-team",
    ] {
        team_keys.insert(team, s.backend.create_key(team).await.unwrap());
    }

    // Environments are the operator's: an admin key creates one, a team key may not.
    let (ok, printed) = cli(&s, &s.key, &["create-environment", "--name", "staging"]).await;
    assert!(!ok, "a non-admin key created an environment:\n{printed}");
    cli_ok(
        &s,
        &s.admin_key,
        &["create-environment", "--name", "production", "--production"],
    )
    .await;
    let listed = cli_ok(&s, &s.key, &["list-environments"]).await;
    assert!(listed.contains("production"), "{listed}");

    // Every consumer publishes its committed pact from main.
    for file in [
        "docintel-sdk-docintel.json",
        "legacy-portal-docintel.json",
        "analytics-team-docintel.json",
        "notification-service-docintel.json",
    ] {
        let pact = committed_pact(file);
        let team = pact["consumer"]["name"].as_str().unwrap().to_owned();
        let path = write_pact(pacts.path(), &pact);
        let printed = cli_ok(
            &s,
            &team_keys[team.as_str()],
            &[
                "publish",
                path.to_str().unwrap(),
                "--consumer-app-version",
                "1.0.0",
                "--branch",
                "main",
            ],
        )
        .await;
        assert!(printed.contains("successfully published"), "{printed}");
    }
    // A team may not publish as another one.
    let sdk_pact = write_pact(pacts.path(), &committed_pact("docintel-sdk-docintel.json"));
    let (ok, printed) = cli(
        &s,
        &team_keys["legacy-portal"],
        &[
            "publish",
            sdk_pact.to_str().unwrap(),
            "--consumer-app-version",
            "6.6.6",
            "--branch",
            "main",
        ],
    )
    .await;
    assert!(!ok, "legacy-portal published as docintel-sdk:\n{printed}");
    assert!(printed.contains("belongs to another team"), "{printed}");

    // A new team asks for a field docintel does not return; the SDK team works on a
    // feature branch (a work-in-progress pact no selector names).
    let broken = write_pact(
        pacts.path(),
        &pact_asking_for_a_missing_field("reporting-team"),
    );
    cli_ok(
        &s,
        &team_keys["reporting-team"],
        &[
            "publish",
            broken.to_str().unwrap(),
            "--consumer-app-version",
            "1.0.0",
            "--branch",
            "main",
        ],
    )
    .await;
    let mut feature = committed_pact("docintel-sdk-docintel.json");
    feature["interactions"][0]["description"] = json!("delete a document (feature x)");
    let feature = write_pact(pacts.path(), &feature);
    cli_ok(
        &s,
        &team_keys["docintel-sdk"],
        &[
            "publish",
            feature.to_str().unwrap(),
            "--consumer-app-version",
            "1.1.0-feat",
            "--branch",
            "feat-x",
        ],
    )
    .await;

    // docintel's CI: the gate verifies what the broker selects and publishes results.
    // Every pact is new to docintel's main branch, so pending: the reporting team's
    // failure warns and does not fail docintel's build.
    let section = contracts::check(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        common::parser(),
        Some(&broker_source(&s, "abc123", true)),
    )
    .await;
    assert!(section.passed, "{section:#?}");
    let warnings: Vec<_> = section
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .collect();
    assert_eq!(warnings.len(), 1, "{section:#?}");
    assert_eq!(warnings[0].rule, "pact-pending-failure");
    assert!(warnings[0].message.contains("department"), "{warnings:?}");
    // The WIP pact was verified too, and its result recorded for its version.
    let wip = s
        .client
        .get(s.url("/broker/matrix"))
        .query(&[
            ("q[][pacticipant]", "docintel-sdk"),
            ("q[][version]", "1.1.0-feat"),
            ("q[][pacticipant]", "docintel"),
            ("q[][version]", "abc123"),
            ("latestby", "cvpv"),
        ])
        .bearer_auth(&s.key)
        .send()
        .await
        .unwrap();
    assert_eq!(wip.status(), StatusCode::OK);
    let wip: Value = wip.json().await.unwrap();
    assert_eq!(
        wip["matrix"][0]["verificationResult"]["success"],
        json!(true),
        "{wip:#}"
    );

    // Releases are recorded: docintel's by its CI (an admin key: no team may speak for
    // docintel), each consumer's by its own team.
    let record_docintel = [
        "record-deployment",
        "--pacticipant",
        "docintel",
        "--version",
        "abc123",
        "--environment",
        "production",
    ];
    let (ok, printed) = cli(&s, &team_keys["docintel-sdk"], &record_docintel).await;
    assert!(!ok && printed.contains("only an admin key"), "{printed}");
    let printed = cli_ok(
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
    assert!(printed.contains("production"), "{printed}");
    for team in ["docintel-sdk", "legacy-portal"] {
        cli_ok(
            &s,
            &team_keys[team],
            &[
                "record-deployment",
                "--pacticipant",
                team,
                "--version",
                "1.0.0",
                "--environment",
                "production",
            ],
        )
        .await;
    }

    // can-i-deploy: yes for a verified consumer, no (with the reason) for the one whose
    // pact failed, yes for docintel itself with what production runs.
    let can_i_deploy = |who: &'static str, version: &'static str| {
        let token = team_keys.get(who).cloned().unwrap_or_else(|| s.key.clone());
        let s = &s;
        async move {
            cli(
                s,
                &token,
                &[
                    "can-i-deploy",
                    "--pacticipant",
                    who,
                    "--version",
                    version,
                    "--to-environment",
                    "production",
                ],
            )
            .await
        }
    };
    let (ok, printed) = can_i_deploy("docintel-sdk", "1.0.0").await;
    assert!(ok, "{printed}");
    assert!(printed.contains("Computer says yes"), "{printed}");
    let (ok, printed) = can_i_deploy("reporting-team", "1.0.0").await;
    assert!(!ok, "{printed}");
    assert!(printed.contains("Computer says no"), "{printed}");
    assert!(
        printed.contains("reporting-team") && printed.contains("failed"),
        "{printed}"
    );
    let (ok, printed) = can_i_deploy("docintel", "abc123").await;
    assert!(ok, "{printed}");

    // The next docintel, past v1's sunset, answers 410 where legacy-portal (deployed in
    // production, verified before) expects a document: a real, non-pending failure.
    let sunset = docintel_api::deprecation::all()[0]
        .sunset
        .midnight()
        .assume_utc();
    let next = Provider::start_with(common::parser(), |l| {
        l.clock = std::sync::Arc::new(move || sunset)
    })
    .await
    .unwrap();
    let source = broker_source(&s, "def456", false);
    let result = next
        .verify_with(source.pact_source(), source.publish_options().as_ref())
        .await
        .unwrap();
    assert!(!result.result, "{}", result.output.join("\n"));
    assert!(
        !result.errors.is_empty()
            && result
                .errors
                .iter()
                .all(|(interaction, _)| interaction.contains("legacy way")),
        "{:#?}",
        result.errors
    );
    let (ok, printed) = can_i_deploy("docintel", "def456").await;
    assert!(!ok, "{printed}");
    assert!(printed.contains("legacy-portal"), "{printed}");
}

/// POSTs a publication with `content` as the one pact's bytes.
async fn publish_raw(
    s: &TestServer,
    key: &str,
    version: &str,
    content: &[u8],
) -> reqwest::Response {
    use base64::Engine;
    s.client
        .post(s.url("/broker/contracts/publish"))
        .bearer_auth(key)
        .json(&json!({
            "pacticipantName": "docintel-sdk",
            "pacticipantVersionNumber": version,
            "branch": "main",
            "contracts": [{
                "consumerName": "docintel-sdk",
                "providerName": "docintel",
                "specification": "pact",
                "contentType": "application/json",
                "content": base64::engine::general_purpose::STANDARD.encode(content),
            }]
        }))
        .send()
        .await
        .unwrap()
}

async fn status_and_json(r: reqwest::Response) -> (StatusCode, Value) {
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_broker_refuses_what_a_pact_broker_refuses_and_stores_nothing_of_it() {
    let s = TestServer::start().await;
    let other_team = s.backend.create_key("portal").await.unwrap();
    let get = |path: &str| s.client.get(s.url(path)).bearer_auth(&s.key).send();

    // No key: 401 with a challenge.
    let r = s.client.get(s.url("/broker/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers().contains_key("www-authenticate"));
    // The index is HAL, with the publication link the CLI follows.
    let r = get("/broker/").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/hal+json")
    );
    let index: Value = r.json().await.unwrap();
    assert!(
        index["_links"]["pb:publish-contracts"]["href"]
            .as_str()
            .is_some_and(|h| h.ends_with("/broker/contracts/publish")),
        "{index:#}"
    );

    // Bytes that are not JSON, and JSON that is not a pact: 400 with the reason.
    let (status, body) =
        status_and_json(publish_raw(&s, &s.key, "1.0.0", b"\x00not json{").await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["errors"]["contracts"][0]
            .as_str()
            .is_some_and(|m| m.contains("could not be parsed")),
        "{body}"
    );
    let (status, body) =
        status_and_json(publish_raw(&s, &s.key, "1.0.0", br#"{"hello":"world"}"#).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["errors"]["contracts"].is_array(), "{body}");
    // Through the official CLI: it reads the file itself (a file that is not JSON stops
    // there) and sends a pact it has normalised, so what reaches the broker broken is
    // the publication's metadata; the broker answers as the Pact Broker's contract does.
    let dir = tempfile::tempdir().unwrap();
    let not_json = dir.path().join("broken.json");
    std::fs::write(&not_json, b"not json{").unwrap();
    let sdk_pact =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("contracts/pacts/docintel-sdk-docintel.json");
    let sdk_pact = sdk_pact.to_str().unwrap();
    for (file, version, branch, says) in [
        (not_json.to_str().unwrap(), "1.0.0", "main", "not JSON"),
        (
            sdk_pact,
            "1.0.0",
            "main\nevil",
            "branch: cannot contain multiple lines",
        ),
        (
            sdk_pact,
            " ",
            "main",
            "pacticipantVersionNumber: can't be blank",
        ),
    ] {
        let (ok, printed) = cli(
            &s,
            &s.key,
            &[
                "publish",
                file,
                "--consumer-app-version",
                version,
                "--branch",
                branch,
            ],
        )
        .await;
        assert!(!ok, "published {file} {version:?} {branch:?}:\n{printed}");
        assert!(printed.contains(says), "{printed}");
    }
    // Nothing of either was stored.
    let (status, body) =
        status_and_json(get("/broker/pacticipants/docintel-sdk").await.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("docintel-sdk")),
        "{body}"
    );

    // A real pact is published; the same version with other content is a 409, and the
    // stored pact is unchanged.
    let pact = committed_pact("docintel-sdk-docintel.json");
    let bytes = serde_json::to_vec(&pact).unwrap();
    let (status, body) = status_and_json(publish_raw(&s, &s.key, "1.0.0", &bytes).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut changed = pact.clone();
    changed["interactions"][0]["description"] = json!("something else");
    let (status, body) = status_and_json(
        publish_raw(&s, &s.key, "1.0.0", &serde_json::to_vec(&changed).unwrap()).await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body.to_string().contains("unique consumer version number"),
        "{body}"
    );
    let (status, stored) = status_and_json(
        get("/broker/pacts/provider/docintel/consumer/docintel-sdk/version/1.0.0")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stored["interactions"], pact["interactions"]);

    // Another team's key may read the pacticipant but not publish as it.
    let (status, body) = status_and_json(publish_raw(&s, &other_team, "2.0.0", &bytes).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _) = status_and_json(
        get("/broker/pacticipants/docintel-sdk/versions/2.0.0")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the refused version was stored"
    );

    // A body past the limit is refused before it is read whole.
    let huge = vec![b'a'; 5 * 1024 * 1024];
    let r = s
        .client
        .post(s.url("/broker/contracts/publish"))
        .bearer_auth(&s.key)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Unknown things are 404s in the Pact Broker's shape.
    for path in [
        "/broker/pacticipants/nobody",
        "/broker/pacticipants/docintel-sdk/versions/9.9.9",
        "/broker/environments/0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11",
        "/broker/pacts/provider/docintel/consumer/nobody/version/1.0.0",
    ] {
        let (status, body) = status_and_json(get(path).await.unwrap()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert!(body["error"].is_string(), "{path}: {body}");
    }
}

#[tokio::test]
async fn only_an_admin_key_deletes_and_the_deleted_is_gone() {
    let s = TestServer::start().await;
    let bytes = serde_json::to_vec(&committed_pact("docintel-sdk-docintel.json")).unwrap();
    for version in ["1.0.0", "1.1.0", "1.2.0"] {
        let r = publish_raw(&s, &s.key, version, &bytes).await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let delete = |key: &str, path: &str| s.client.delete(s.url(path)).bearer_auth(key).send();
    let status = |path: &str| {
        let request = s.client.get(s.url(path)).bearer_auth(&s.key);
        async move { request.send().await.unwrap().status() }
    };
    let pact = "/broker/pacts/provider/docintel/consumer/docintel-sdk/version/1.1.0";
    let version = "/broker/pacticipants/docintel-sdk/versions/1.0.0";
    let pacticipant = "/broker/pacticipants/docintel-sdk";

    // The owning team's key may publish, not delete.
    for path in [pact, version, pacticipant] {
        let (code, body) = status_and_json(delete(&s.key, path).await.unwrap()).await;
        assert_eq!(code, StatusCode::FORBIDDEN, "{path}: {body}");
        assert!(body["error"].is_string(), "{body}");
        assert_eq!(status(path).await, StatusCode::OK, "{path} went");
    }
    // An admin key: 204, and each is gone; deleting it again is a 404.
    for path in [pact, version, pacticipant] {
        let r = delete(&s.admin_key, path).await.unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "{path}");
        assert_eq!(status(path).await, StatusCode::NOT_FOUND, "{path} stayed");
        let r = delete(&s.admin_key, path).await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // With the version went its pact, with the pacticipant the rest.
    for number in ["1.0.0", "1.2.0"] {
        let path =
            format!("/broker/pacts/provider/docintel/consumer/docintel-sdk/version/{number}");
        assert_eq!(status(&path).await, StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn an_operator_can_limit_the_broker_to_its_teams() {
    let s = TestServer::launch(|l| l.config.broker_tenants = Some(vec!["sdk-team".into()])).await;
    let team = s.backend.create_key("sdk-team").await.unwrap();
    let status = |key: String| {
        let request = s.client.get(s.url("/broker")).bearer_auth(key);
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(status(team).await, StatusCode::OK);
    assert_eq!(status(s.admin_key.clone()).await, StatusCode::OK);
    // A customer's key (tenant acme) is valid for documents, not for the broker.
    assert_eq!(status(s.key.clone()).await, StatusCode::FORBIDDEN);
    let r = publish_raw(&s, &s.key, "1.0.0", b"{}").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("--broker-tenants")),
        "{body}"
    );
}

#[tokio::test]
async fn broker_requests_spend_the_keys_rate_limit_whatever_the_credential_form() {
    use base64::Engine;
    let s = TestServer::launch(|l| {
        l.rate_limit = docintel_api::ratelimit::Limit {
            quota: 3,
            // A day's: a fixed window shared by replicas (PostgreSQL) turns only at
            // midnight UTC, not between these requests.
            window: std::time::Duration::from_secs(86_400),
        }
    })
    .await;
    // The CLI's --broker-username/--broker-password form: the key as the password.
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("ci:{}", s.key));
    let get = |bearer: bool| {
        let request = s.client.get(s.url("/broker/pacticipants"));
        let request = if bearer {
            request.bearer_auth(&s.key)
        } else {
            request.header("authorization", format!("Basic {basic}"))
        };
        async move { request.send().await.unwrap() }
    };
    for bearer in [true, false, true] {
        assert_eq!(get(bearer).await.status(), StatusCode::OK);
    }
    let r = get(false).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("retry after")),
        "{body}"
    );
}

#[tokio::test]
async fn a_key_sent_as_basic_credentials_spends_the_key_not_the_address() {
    use base64::Engine;
    let s = TestServer::launch(|l| {
        l.ip_rate_limit = docintel_api::ratelimit::Limit {
            quota: 3,
            window: std::time::Duration::from_secs(60),
        }
    })
    .await;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("ci:{}", s.key));
    for _ in 0..10 {
        let r = s
            .client
            .get(s.url("/broker/pacticipants"))
            .header("authorization", format!("Basic {basic}"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "the address's 3 requests are not spent"
        );
    }
    // Basic credentials are the broker's alone: elsewhere they are no key.
    let r = s
        .client
        .get(s.url("/v2/documents"))
        .header("authorization", format!("Basic {basic}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn links_never_come_from_the_host_a_client_names() {
    let s = TestServer::start().await;
    let r = s
        .client
        .get(s.url("/broker/"))
        .bearer_auth(&s.key)
        .header("host", "evil.example.com/x?")
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", "evil.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    assert!(!body.contains("evil"), "{body}");
    let index: Value = serde_json::from_str(&body).unwrap();
    let href = index["_links"]["pb:pacticipants"]["href"].as_str().unwrap();
    assert_eq!(
        href,
        s.url("/broker/pacticipants"),
        "the address connected to"
    );

    // With a public URL configured, links are built from it.
    let behind =
        TestServer::launch(|l| l.public_url = Some("https://pacts.example.org".into())).await;
    let index: Value = behind
        .client
        .get(behind.url("/broker/"))
        .bearer_auth(&behind.key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        index["_links"]["pb:pacticipants"]["href"],
        "https://pacts.example.org/broker/pacticipants"
    );
}
