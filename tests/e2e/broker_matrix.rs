//! can-i-deploy and can-i-merge, asked with the official `pact-broker` CLI, weigh the
//! versions the Pact Broker would: without an environment, the latest version of each
//! integrated pacticipant; for a merge, the latest version of each one's main branch.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::broker::{cli, cli_ok, committed_pact, write_pact};
use crate::common::TestServer;

/// docintel `version` joins `branch` (as the verifier does before publishing).
async fn on_branch(s: &TestServer, branch: &str, version: &str) {
    let response = s
        .client
        .put(s.url(&format!(
            "/broker/pacticipants/docintel/branches/{branch}/versions/{version}"
        )))
        .bearer_auth(&s.admin_key)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
}

/// docintel `version` publishes a successful verification of the SDK's 1.0.0 pact.
async fn verified_by(s: &TestServer, version: &str) {
    let pact: Value = s
        .client
        .get(s.url("/broker/pacts/provider/docintel/consumer/docintel-sdk/version/1.0.0"))
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
    let response = s
        .client
        .post(results)
        .bearer_auth(&s.admin_key)
        .json(&json!({ "success": true, "providerApplicationVersion": version }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn can_i_deploy_and_can_i_merge_weigh_the_latest_and_the_main_branch_versions() {
    let s = TestServer::start().await;
    let sdk = s.backend.create_key("docintel-sdk").await.unwrap();
    let pacts = tempfile::tempdir().unwrap();
    let pact = write_pact(pacts.path(), &committed_pact("docintel-sdk-docintel.json"));
    cli_ok(
        &s,
        &sdk,
        &[
            "publish",
            pact.to_str().unwrap(),
            "--consumer-app-version",
            "1.0.0",
            "--branch",
            "feat-y",
        ],
    )
    .await;
    on_branch(&s, "main", "p1").await;
    verified_by(&s, "p1").await;
    let ask = |command: &'static str| {
        let (s, sdk) = (&s, sdk.clone());
        async move {
            cli(
                s,
                &sdk,
                &[
                    command,
                    "--pacticipant",
                    "docintel-sdk",
                    "--version",
                    "1.0.0",
                ],
            )
            .await
        }
    };
    let (ok, printed) = ask("can-i-deploy").await;
    assert!(ok, "{printed}");
    let (ok, printed) = ask("can-i-merge").await;
    assert!(ok, "{printed}");

    // A newer docintel version on another branch, not verified: can-i-deploy (its latest
    // version) says no, can-i-merge (main's latest) still yes.
    on_branch(&s, "feat-z", "p2").await;
    let (ok, printed) = ask("can-i-deploy").await;
    assert!(!ok, "{printed}");
    assert!(printed.contains("p2"), "{printed}");
    let (ok, printed) = ask("can-i-merge").await;
    assert!(ok, "{printed}");
    // A newer main version that has not verified it: no merge either.
    on_branch(&s, "main", "p3").await;
    let (ok, printed) = ask("can-i-merge").await;
    assert!(!ok, "{printed}");
    verified_by(&s, "p3").await;
    let (ok, printed) = ask("can-i-merge").await;
    assert!(ok, "{printed}");
}
