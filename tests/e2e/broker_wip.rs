//! Work-in-progress pacts through the real verifier: the governance gate verifies what
//! for-verification selects with pact_verifier, which follows the selected pacts' URLs
//! (carrying the Pact Broker's `metadata` segment) and publishes its results there; a
//! WIP pact it verified successfully stays WIP and pending, as with the Pact Broker.

use std::path::Path;

use docintel_governance::checks::contracts;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::broker::{broker_source, cli_ok, committed_pact, write_pact};
use crate::common::{self, TestServer};

async fn for_verification(s: &TestServer) -> Vec<Value> {
    let response = s
        .client
        .post(s.url("/broker/pacts/provider/docintel/for-verification"))
        .bearer_auth(&s.admin_key)
        .json(&json!({
            "providerVersionBranch": "main",
            "includePendingStatus": true,
            "includeWipPactsSince": "2020-01-01",
            "consumerVersionSelectors": [{ "mainBranch": true }]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["_embedded"]["pacts"].as_array().unwrap().clone()
}

fn by_version<'a>(pacts: &'a [Value], version: &str) -> Option<&'a Value> {
    pacts.iter().find(|p| {
        p["_links"]["self"]["name"]
            .as_str()
            .is_some_and(|n| n.contains(&format!("({version})")))
    })
}

#[tokio::test]
async fn a_wip_pact_the_verifier_verified_successfully_stays_wip_and_pending() {
    let s = TestServer::start().await;
    let sdk = s.backend.create_key("docintel-sdk").await.unwrap();
    let pacts = tempfile::tempdir().unwrap();
    let main = write_pact(pacts.path(), &committed_pact("docintel-sdk-docintel.json"));
    cli_ok(
        &s,
        &sdk,
        &[
            "publish",
            main.to_str().unwrap(),
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
        &sdk,
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

    let before = for_verification(&s).await;
    let wip = by_version(&before, "1.1.0-feat").expect("the feature pact is WIP");
    assert_eq!(wip["verificationProperties"]["wip"], json!(true), "{wip:#}");
    let href = wip["_links"]["self"]["href"].as_str().unwrap();
    assert!(href.contains("/metadata/"), "{href}");
    // The pact at that URL links its results back to the same metadata.
    let pact: Value = s
        .client
        .get(href)
        .bearer_auth(&s.admin_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let results = pact["_links"]["pb:publish-verification-results"]["href"]
        .as_str()
        .unwrap();
    assert_eq!(results, format!("{href}/verification-results"));

    // docintel's CI verifies both (they pass) and publishes the results.
    let section = contracts::check(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        common::parser(),
        Some(&broker_source(&s, "abc123", true)),
    )
    .await;
    assert!(section.passed, "{section:#?}");

    // Its success was recorded, through the WIP pact's URL.
    let matrix: Value = s
        .client
        .get(s.url("/broker/matrix"))
        .query(&[
            ("q[][pacticipant]", "docintel-sdk"),
            ("q[][version]", "1.1.0-feat"),
            ("q[][pacticipant]", "docintel"),
            ("q[][version]", "abc123"),
        ])
        .bearer_auth(&s.key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        matrix["matrix"][0]["verificationResult"]["success"],
        json!(true),
        "{matrix:#}"
    );

    let after = for_verification(&s).await;
    let still = by_version(&after, "1.1.0-feat").expect("still WIP after its success");
    assert_eq!(
        still["verificationProperties"]["wip"],
        json!(true),
        "{still:#}"
    );
    assert_eq!(still["verificationProperties"]["pending"], json!(true));
    // The main pact, verified as selected, is no longer pending.
    let selected = by_version(&after, "1.0.0").unwrap();
    assert_eq!(
        selected["verificationProperties"]["pending"],
        json!(false),
        "{selected:#}"
    );
}
