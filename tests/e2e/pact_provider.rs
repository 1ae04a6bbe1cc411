//! Provider verification: every pact in `contracts/pacts/` against the real docintel
//! server (embedded SQLite, temp folder, loopback). Provider states are set up by a
//! `ProviderStateExecutor` (in `governance/src/checks/contracts.rs`, shared with the gate),
//! directly through the backend, so the shipped binary has no state-changing endpoint.
//!
//! Message pacts are verified through the gate's producer hook: the verifier asks it
//! for a message by description, and it answers with the real event the relay published
//! for the state's document — decoded from its Confluent-framed Avro bytes through the
//! server's registry into the record's JSON view.
//!
//! The gate can fail: a mutated copy of a pact must be reported with exactly its defect.

use std::path::Path;

use crate::common;

use docintel_governance::checks::contracts::Provider;
use pact_verifier::PactSource;
use pact_verifier::verification_result::VerificationExecutionResult;
use serde_json::Value;

/// The provider (server, states, producer hook) is the governance gate's, so CI's gate and
/// these tests verify the same way.
async fn provider() -> Provider {
    Provider::start(common::parser()).await.expect("provider")
}

async fn verify(provider: &Provider, source: PactSource) -> VerificationExecutionResult {
    provider.verify(source).await.expect("verification runs")
}

fn pacts_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("contracts/pacts")
}

#[tokio::test]
async fn every_committed_pact_verifies_against_the_real_server() {
    let provider = provider().await;
    let files: Vec<_> = std::fs::read_dir(pacts_dir())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .collect();
    assert!(
        files.len() >= 2,
        "expected the committed pacts, found {}",
        files.len()
    );
    let result = verify(
        &provider,
        PactSource::Dir(pacts_dir().display().to_string()),
    )
    .await;
    assert!(
        result.result,
        "pact verification failed:\n{}\n{:#?}",
        result.output.join("\n"),
        result.errors
    );
    // Every consumer's pact was verified, not only loaded.
    let output = result.output.join("\n");
    for f in &files {
        let pact: Value =
            serde_json::from_str(&std::fs::read_to_string(f.path()).unwrap()).unwrap();
        let consumer = pact["consumer"]["name"].as_str().unwrap();
        assert!(
            output.contains(&format!("Verifying a pact between {consumer} and docintel")),
            "{consumer}'s pact was not verified:\n{output}"
        );
    }
    assert!(result.interaction_results.len() >= 9);
}

/// A copy of the SDK pact with one defect, verified on its own.
async fn verify_mutated(mutate: impl FnOnce(&mut Value)) -> VerificationExecutionResult {
    verify_mutated_file("docintel-sdk-docintel.json", mutate).await
}

/// A copy of a committed pact with one defect, verified on its own.
async fn verify_mutated_file(
    file: &str,
    mutate: impl FnOnce(&mut Value),
) -> VerificationExecutionResult {
    let provider = provider().await;
    let mut pact: Value =
        serde_json::from_str(&std::fs::read_to_string(pacts_dir().join(file)).unwrap()).unwrap();
    mutate(&mut pact);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mutated.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&pact).unwrap()).unwrap();
    verify(&provider, PactSource::File(file.display().to_string())).await
}

fn interaction<'a>(pact: &'a mut Value, description: &str) -> &'a mut Value {
    pact["interactions"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|i| i["description"] == description)
        .unwrap()
}

#[tokio::test]
async fn a_field_the_provider_does_not_send_fails_verification() {
    let result = verify_mutated(|p| {
        let i = interaction(p, "get a processed invoice");
        i["response"]["body"]["content"]["author"] = Value::String("someone".into());
        p["interactions"]
            .as_array_mut()
            .unwrap()
            .retain(|i| i["description"] == "get a processed invoice");
    })
    .await;
    assert!(!result.result, "a missing field must fail the gate");
    let output = result.output.join("\n");
    assert_eq!(result.errors.len(), 1, "{output}");
    assert!(
        output.contains("author"),
        "the failure names the field:\n{output}"
    );
}

#[tokio::test]
async fn a_status_the_provider_does_not_return_fails_verification() {
    let result = verify_mutated(|p| {
        let i = interaction(p, "delete a document");
        i["response"]["status"] = Value::from(200);
        p["interactions"]
            .as_array_mut()
            .unwrap()
            .retain(|i| i["description"] == "delete a document");
    })
    .await;
    assert!(!result.result, "a wrong status must fail the gate");
    let output = result.output.join("\n");
    assert_eq!(result.errors.len(), 1, "{output}");
    assert!(output.contains("200") && output.contains("204"), "{output}");
}

#[tokio::test]
async fn a_message_field_docintel_does_not_publish_fails_verification() {
    let result = verify_mutated_file("notification-service-docintel.json", |p| {
        p["interactions"][0]["contents"]["content"]["priority"] = Value::String("high".into());
    })
    .await;
    assert!(!result.result, "a field the event lacks must fail the gate");
    let output = result.output.join("\n");
    assert_eq!(result.errors.len(), 1, "{output}");
    assert!(
        output.contains("priority"),
        "the failure names the field:\n{output}"
    );
}

#[tokio::test]
async fn a_wrong_schema_subject_in_message_metadata_fails_verification() {
    let result = verify_mutated_file("notification-service-docintel.json", |p| {
        p["interactions"][0]["metadata"]["schema_subject"] = Value::String("doc.classified".into());
    })
    .await;
    assert!(!result.result);
    let output = result.output.join("\n");
    assert_eq!(result.errors.len(), 1, "{output}");
    assert!(output.contains("schema_subject"), "{output}");
}
