//! Bi-directional contracts in the embedded broker, as PactFlow's users drive them: a
//! provider publishes its OpenAPI document with the official CLI (`pactflow
//! publish-provider-contract`), consumers publish pacts (`pact-broker publish`), and
//! `can-i-deploy` weighs the broker's comparison of the two. Raw HTTP covers PactFlow's
//! older `PUT /contracts/provider/P/version/V` and what a hostile client sends.

use std::path::{Path, PathBuf};

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::broker::{cli, cli_ok, committed_pact, write_pact};
use crate::common::TestServer;

const PACTFLOW: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/thirdparty/node_modules/.bin/pactflow"
);

fn committed_document(version: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("openapi/{version}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `pactflow publish-provider-contract` for docintel's document, as its CI would.
async fn publish_document(
    s: &TestServer,
    token: &str,
    provider: &str,
    version: &str,
    file: &Path,
) -> (bool, String) {
    assert!(
        Path::new(PACTFLOW).exists(),
        "the pactflow CLI is missing: run `npm ci --prefix tests/thirdparty`"
    );
    let out = tokio::process::Command::new(PACTFLOW)
        .args([
            "publish-provider-contract",
            file.to_str().unwrap(),
            "--provider",
            provider,
            "--provider-app-version",
            version,
            "--branch",
            "main",
            "--content-type",
            "application/json",
            "--verification-success",
            "--verifier",
            "docintel-governance",
        ])
        .env("PACT_DO_NOT_TRACK", "true")
        .env("PACT_BROKER_BASE_URL", s.url("/broker"))
        .env("PACT_BROKER_TOKEN", token)
        .output()
        .await
        .expect("the pactflow CLI runs");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn write_json(dir: &Path, name: &str, value: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec(value).unwrap()).unwrap();
    path
}

async fn can_i_deploy(s: &TestServer, token: &str, who: &str, version: &str) -> (bool, String) {
    cli(
        s,
        token,
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

async fn publish_pact(s: &TestServer, token: &str, path: &Path, version: &str) {
    let printed = cli_ok(
        s,
        token,
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
    assert!(printed.contains("successfully published"), "{printed}");
}

#[tokio::test]
async fn can_i_deploy_weighs_pacts_against_the_providers_openapi_document() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut keys = std::collections::HashMap::new();
    for team in ["analytics-team", "docintel-sdk", "reporting-team"] {
        keys.insert(team, s.backend.create_key(team).await.unwrap());
    }
    cli_ok(
        &s,
        &s.admin_key,
        &["create-environment", "--name", "production", "--production"],
    )
    .await;

    // docintel's document is the platform's: a team's key may not publish it.
    let v2 = write_json(dir.path(), "v2.json", &committed_document("v2"));
    let (ok, printed) =
        publish_document(&s, &keys["analytics-team"], "docintel", "2.0.0", &v2).await;
    assert!(!ok, "a team published docintel's document:\n{printed}");
    assert!(printed.contains("only an admin key"), "{printed}");
    let printed = publish_document(&s, &s.admin_key, "docintel", "2.0.0", &v2).await;
    assert!(printed.0, "{}", printed.1);
    cli_ok(
        &s,
        &s.admin_key,
        &[
            "record-deployment",
            "--pacticipant",
            "docintel",
            "--version",
            "2.0.0",
            "--environment",
            "production",
        ],
    )
    .await;

    // The committed pacts against /v2 are compared as they are published: yes.
    for file in ["analytics-team-docintel.json", "docintel-sdk-docintel.json"] {
        let pact = committed_pact(file);
        let team = pact["consumer"]["name"].as_str().unwrap().to_owned();
        publish_pact(
            &s,
            &keys[team.as_str()],
            &write_pact(dir.path(), &pact),
            "1.0.0",
        )
        .await;
        let (ok, printed) = can_i_deploy(&s, &keys[team.as_str()], &team, "1.0.0").await;
        assert!(ok, "{team}:\n{printed}");
        assert!(printed.contains("Computer says yes"), "{printed}");
    }

    // A pact asking for a field the document does not declare: no, naming it.
    let mut asking = committed_pact("analytics-team-docintel.json");
    asking["consumer"]["name"] = json!("reporting-team");
    asking["interactions"][0]["response"]["body"]["content"]["items"][0]["department"] =
        json!("finance");
    publish_pact(
        &s,
        &keys["reporting-team"],
        &write_pact(dir.path(), &asking),
        "1.0.0",
    )
    .await;
    let (ok, printed) = can_i_deploy(&s, &keys["reporting-team"], "reporting-team", "1.0.0").await;
    assert!(!ok, "{printed}");
    assert!(
        printed.contains(
            "the pact expects `items[].department`, which GET /v2/documents's 200 does not document"
        ) && printed.contains("list processed documents for label statistics"),
        "{printed}"
    );
    // The matrix shows the comparison as the row's result.
    let matrix: Value = s
        .get("/broker/matrix?q[][pacticipant]=reporting-team&q[][version]=1.0.0&q[][pacticipant]=docintel&q[][version]=2.0.0")
        .header("authorization", format!("Bearer {}", keys["reporting-team"]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        matrix["matrix"][0]["verificationResult"]["success"], false,
        "{matrix}"
    );
    assert_eq!(matrix["summary"]["failed"], 1, "{matrix}");

    // docintel documents the field in its next version: publishing the document compares
    // it with the pacts already there, and the team may deploy alongside it.
    let mut next = committed_document("v2");
    next["components"]["schemas"]["DocumentView"]["properties"]["department"] =
        json!({"type": "string"});
    let next = write_json(dir.path(), "v2-next.json", &next);
    let printed = publish_document(&s, &s.admin_key, "docintel", "2.1.0", &next).await;
    assert!(printed.0, "{}", printed.1);
    cli_ok(
        &s,
        &s.admin_key,
        &[
            "record-deployment",
            "--pacticipant",
            "docintel",
            "--version",
            "2.1.0",
            "--environment",
            "production",
        ],
    )
    .await;
    let (ok, printed) = can_i_deploy(&s, &keys["reporting-team"], "reporting-team", "1.0.0").await;
    assert!(ok, "{printed}");

    // A big pact (most of the 2 MiB a pact may be) is compared whole: its last item asks
    // for a field no version documents.
    let mut big = committed_pact("analytics-team-docintel.json");
    let item = big["interactions"][0]["response"]["body"]["content"]["items"][0].clone();
    let one = item.to_string().len();
    let n = 1_900_000 / one;
    let mut items = vec![item; n];
    items[n - 1]["shelf"] = json!("B4");
    big["interactions"][0]["response"]["body"]["content"]["items"] = json!(items);
    let big_path = write_json(dir.path(), "analytics-team-docintel.json", &big);
    assert!(std::fs::metadata(&big_path).unwrap().len() > 1_800_000);
    publish_pact(&s, &keys["analytics-team"], &big_path, "2.0.0").await;
    let (ok, printed) = can_i_deploy(&s, &keys["analytics-team"], "analytics-team", "2.0.0").await;
    assert!(!ok, "{printed}");
    assert!(printed.contains("`items[].shelf`"), "{printed}");
}

#[tokio::test]
async fn the_older_put_shape_is_the_owners_bounded_and_refuses_what_it_cannot_read() {
    let s = TestServer::start().await;
    let billing = s.backend.create_key("billing-team").await.unwrap();
    let other = s.backend.create_key("other-team").await.unwrap();
    let put = |token: String, body: Value| {
        let request = s
            .client
            .put(s.url("/broker/contracts/provider/billing-api/version/1"))
            .header("authorization", format!("Bearer {token}"))
            .json(&body);
        async move { request.send().await.unwrap() }
    };
    let document =
        json!({"openapi": "3.1.0", "info": {"title": "billing", "version": "1"}, "paths": {}});
    let encode = |v: &Value| base64::engine::general_purpose::STANDARD.encode(v.to_string());
    let good = json!({
        "content": encode(&document),
        "contractType": "oas",
        "contentType": "application/json",
        "verificationResults": {"success": true, "verifier": "dredd"}
    });
    let r = put(billing.clone(), good.clone()).await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    // Another team may not publish as billing-api.
    let r = put(other.clone(), good.clone()).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Read back.
    let got: Value = s
        .client
        .get(s.url("/broker/contracts/provider/billing-api/version/1"))
        .header("authorization", format!("Bearer {other}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["selfVerificationResults"]["success"], true, "{got}");

    // What cannot be read is a 400 in the broker's dialect, naming the field.
    for (body, field) in [
        (
            json!({"content": "%%%", "contractType": "oas", "verificationResults": {"success": true}}),
            "content",
        ),
        (
            json!({"content": encode(&json!({"swagger": "2.0"})), "contractType": "oas", "verificationResults": {"success": true}}),
            "content",
        ),
        (
            json!({"content": encode(&document), "contentType": "application/yaml", "verificationResults": {"success": true}}),
            "contentType",
        ),
        (
            json!({"content": encode(&document), "contractType": "wsdl", "verificationResults": {"success": true}}),
            "contractType",
        ),
        (
            json!({"content": encode(&document), "contractType": "oas"}),
            "verificationResults",
        ),
    ] {
        let r = put(billing.clone(), body).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{field}");
        let e: Value = r.json().await.unwrap();
        assert!(e["errors"][field].is_array(), "{field}: {e}");
    }
    // Another document for a published version is a conflict.
    let mut changed = good.clone();
    changed["content"] = json!(encode(&json!({"openapi": "3.1.0", "paths": {"/x": {}}})));
    assert_eq!(
        put(billing.clone(), changed).await.status(),
        StatusCode::CONFLICT
    );
    // Larger than a pact may be: refused before it is read.
    let huge = json!({
        "content": base64::engine::general_purpose::STANDARD.encode(vec![b' '; 2 * 1024 * 1024 + 10]),
        "contractType": "oas",
        "verificationResults": {"success": true}
    });
    let r = put(billing.clone(), huge).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let e: Value = r.json().await.unwrap();
    assert!(
        e["errors"]["content"][0]
            .as_str()
            .unwrap()
            .contains("larger than"),
        "{e}"
    );
}
