//! The broker's rules on a real (SQLite) store: which pacts each selector picks, when a
//! pact is pending or work in progress, what can-i-deploy answers, who may write what,
//! and the limits. Each file holds one of those; this one, what they share.

mod limits;
mod overview;
mod ownership;
mod pact_broker_rules;
mod provider_contracts;
mod retention;
mod selection;
mod undeploy;
mod webhooks;

use std::sync::Arc;

use base64::Engine;
use docintel_backend::store::{SqliteStore, Store};
use docintel_broker::*;
use serde_json::{Value, json};

struct Fixture {
    broker: Broker,
    store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

fn team(n: u128) -> Caller {
    Caller {
        tenant: uuid::Uuid::from_u128(n),
        admin: false,
    }
}

const ADMIN: Caller = Caller {
    tenant: uuid::Uuid::from_u128(99),
    admin: true,
};
/// docintel's CI: docintel is the platform's pacticipant, an admin key's.
const PROVIDER: Caller = Caller {
    tenant: uuid::Uuid::from_u128(7),
    admin: true,
};

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("db.sqlite"))
        .await
        .unwrap();
    let store: Arc<dyn Store> = Arc::new(store);
    Fixture {
        broker: Broker::new(store.clone(), false),
        store,
        _dir: dir,
    }
}

fn pact(consumer: &str, description: &str) -> Value {
    json!({
        "consumer": { "name": consumer },
        "provider": { "name": "docintel" },
        "interactions": [{ "description": description }],
        "metadata": { "pactSpecification": { "version": "3.0.0" } }
    })
}

fn request(consumer: &str, version: &str, branch: Option<&str>, content: &Value) -> PublishRequest {
    serde_json::from_value(json!({
        "pacticipantName": consumer,
        "pacticipantVersionNumber": version,
        "branch": branch,
        "contracts": [{
            "consumerName": consumer,
            "providerName": "docintel",
            "specification": "pact",
            "contentType": "application/json",
            "content": base64::engine::general_purpose::STANDARD.encode(content.to_string()),
        }]
    }))
    .unwrap()
}

impl Fixture {
    /// Publishes `consumer`'s pact (with one interaction named `description`); its sha.
    async fn publish(
        &self,
        who: Caller,
        consumer: &str,
        version: &str,
        branch: &str,
        description: &str,
    ) -> String {
        let published = self
            .broker
            .publish(
                who,
                request(
                    consumer,
                    version,
                    Some(branch),
                    &pact(consumer, description),
                ),
            )
            .await
            .unwrap();
        published.pacts[0].sha.clone()
    }

    /// docintel `version` (on `branch`) verifies the pact with `sha`.
    async fn verify(&self, consumer: &str, sha: &str, version: &str, branch: &str, success: bool) {
        self.broker
            .add_branch(PROVIDER, "docintel", branch, version)
            .await
            .unwrap();
        let request: VerificationRequest = serde_json::from_value(json!({
            "success": success,
            "providerApplicationVersion": version,
        }))
        .unwrap();
        self.broker
            .publish_verification(PROVIDER, consumer, "docintel", sha, request)
            .await
            .unwrap();
    }

    async fn select(&self, request: Value) -> Vec<VerifiablePact> {
        let request: ForVerification = serde_json::from_value(request).unwrap();
        self.broker
            .pacts_for_verification("docintel", &request)
            .await
            .unwrap()
    }

    async fn production(&self) -> String {
        let request: EnvironmentRequest =
            serde_json::from_value(json!({ "name": "production", "production": true })).unwrap();
        self.broker
            .create_environment(ADMIN, request)
            .await
            .unwrap()
            .uuid
    }

    async fn can_i_deploy(&self, pacticipant: &str, version: &str) -> Matrix {
        self.broker
            .matrix(&MatrixQuery {
                selectors: vec![MatrixSelector {
                    pacticipant: pacticipant.to_owned(),
                    version: Some(version.to_owned()),
                    ..MatrixSelector::default()
                }],
                environment: Some("production".to_owned()),
                ..MatrixQuery::default()
            })
            .await
            .unwrap()
    }
}

/// (consumer, the versions) of each selected pact, sorted.
fn picked(pacts: &[VerifiablePact]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<_> = pacts
        .iter()
        .map(|p| (p.consumer.clone(), p.consumer_versions.clone()))
        .collect();
    out.sort();
    out
}

fn of(consumer: &str, versions: &[&str]) -> (String, Vec<String>) {
    (
        consumer.to_owned(),
        versions.iter().map(|v| v.to_string()).collect(),
    )
}

/// A pact of `consumer` with `provider`, as `publish` takes it.
fn contract(consumer: &str, provider: &str, version: &str) -> PublishRequest {
    let content = json!({
        "consumer": { "name": consumer },
        "provider": { "name": provider },
        "interactions": [{ "description": format!("{consumer} asks {provider}") }],
        "metadata": { "pactSpecification": { "version": "3.0.0" } }
    });
    serde_json::from_value(json!({
        "pacticipantName": consumer,
        "pacticipantVersionNumber": version,
        "contracts": [{
            "consumerName": consumer,
            "providerName": provider,
            "specification": "pact",
            "contentType": "application/json",
            "content": base64::engine::general_purpose::STANDARD.encode(content.to_string()),
        }]
    }))
    .unwrap()
}

fn verdict(version: &str, test_results: Value) -> VerificationRequest {
    serde_json::from_value(json!({
        "success": true,
        "providerApplicationVersion": version,
        "testResults": test_results,
    }))
    .unwrap()
}

fn forbidden<T: std::fmt::Debug>(what: &str, r: Result<T>) {
    assert!(matches!(r, Err(BrokerError::Forbidden(_))), "{what}: {r:?}");
}
