//! Provider verification: every pact in `contracts/pacts/` against the real docintel
//! server (embedded SQLite, temp folder, loopback). Provider states are set up by a
//! `ProviderStateExecutor` in this test, directly through the backend, so the shipped
//! binary has no state-changing endpoint at all.
//!
//! Message pacts are verified through a producer hook in this test: the verifier asks it
//! for a message by description, and it answers with the real event the relay published
//! for the state's document — decoded from its Confluent-framed Avro bytes through the
//! server's registry into the record's JSON view.
//!
//! The gate can fail: a mutated copy of a pact must be reported with exactly its defect.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::{TestServer, pdf};
use docintel_backend::model::{DocumentStatus, TenantId};
use pact_models::provider_states::ProviderState;
use pact_verifier::callback_executors::{NullRequestFilterExecutor, ProviderStateExecutor};
use pact_verifier::verification_result::VerificationExecutionResult;
use pact_verifier::{
    FilterInfo, PactSource, ProviderInfo, ProviderTransport, VerificationOptions,
    verify_provider_async,
};
use serde_json::Value;

const PACT_KEY: &str = "dik_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

struct States {
    backend: docintel_backend::Backend,
    tenant: TenantId,
}

impl std::fmt::Debug for States {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("States")
            .field("tenant", &self.tenant)
            .finish()
    }
}

impl States {
    /// Leaves the tenant with exactly one processed invoice, with id `id`.
    async fn only_invoice(&self, id: uuid::Uuid) -> anyhow::Result<()> {
        self.clear_except(Some(id)).await?;
        if self.backend.document(self.tenant, id).await?.is_none() {
            let mut up = self.backend.begin_upload().await?;
            up.write(&pdf(&[
                "INVOICE 2026-117",
                "Total due: 1,250.00 EUR",
                "Payment terms: net 30 days",
            ]))
            .await?;
            self.backend
                .submit_with_id(self.tenant, id, "invoice.pdf", None, up)
                .await?;
        }
        for _ in 0..1000 {
            let d = self.backend.document(self.tenant, id).await?;
            if d.is_some_and(|d| d.status == DocumentStatus::Processed) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        anyhow::bail!("the invoice was not processed in time")
    }

    async fn clear_except(&self, keep: Option<uuid::Uuid>) -> anyhow::Result<()> {
        let page = self
            .backend
            .list(self.tenant, &Default::default(), None, 100)
            .await?;
        for d in page.items {
            if Some(d.id) != keep {
                self.backend.delete(self.tenant, d.id).await?;
            }
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl ProviderStateExecutor for States {
    async fn call(
        self: Arc<Self>,
        _interaction_id: Option<String>,
        state: &ProviderState,
        setup: bool,
        _client: Option<&reqwest::Client>,
    ) -> anyhow::Result<HashMap<String, Value>> {
        if !setup {
            return Ok(HashMap::new());
        }
        let name = state.name.as_str();
        let id_in = |prefix: &str| -> Option<uuid::Uuid> {
            name.strip_prefix(prefix)
                .and_then(|id| id.trim().parse().ok())
        };
        if let Some(id) = id_in("a processed invoice document exists with id") {
            self.only_invoice(id).await?;
        } else if let Some(id) = id_in("no document with id") {
            let _ = self.backend.delete(self.tenant, id).await?;
        } else if name == "the API key is valid" {
            self.clear_except(None).await?;
        } else if name == "an expired key" {
            // `dik_expired` was never issued: nothing to do but make sure of it.
            anyhow::ensure!(self.backend.authenticate("dik_expired").await?.is_none());
        } else {
            anyhow::bail!("unknown provider state {name:?}");
        }
        Ok(HashMap::new())
    }

    fn teardown(&self) -> bool {
        false
    }
}

/// Message descriptions the producer hook knows, and the topic each one is about.
const MESSAGES: &[(&str, &str)] = &[(
    "a doc.classified event for a processed invoice",
    "doc.classified",
)];

/// The latest event per (topic, document), as the relay published them.
type Published =
    Arc<std::sync::Mutex<HashMap<(String, String), Arc<docintel_backend::events::Published>>>>;

/// Starts the producer hook on a loopback port; returns the port.
async fn producer_hook(s: &TestServer) -> u16 {
    use axum::Json;
    use axum::extract::State;
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    use base64::Engine;

    let seen: Published = Default::default();
    let mut rx = s.backend.subscribe();
    let collector = seen.clone();
    tokio::spawn(async move {
        while let Ok(p) = rx.recv().await {
            let key = (p.topic.to_owned(), p.key.clone());
            collector.lock().unwrap().insert(key, p);
        }
    });
    let registry = s.url("/registry");
    let produce = move |State(seen): State<Published>, Json(req): Json<Value>| {
        let registry = registry.clone();
        async move {
            let description = req["description"].as_str().unwrap_or_default();
            let Some((_, topic)) = MESSAGES.iter().find(|(d, _)| *d == description) else {
                return (StatusCode::NOT_FOUND, format!("no message {description:?}"))
                    .into_response();
            };
            let document = req["providerStates"][0]["name"]
                .as_str()
                .and_then(|n| n.rsplit(' ').next())
                .unwrap_or_default()
                .to_owned();
            let mut published = None;
            for _ in 0..500 {
                published = seen
                    .lock()
                    .unwrap()
                    .get(&(topic.to_string(), document.clone()))
                    .cloned();
                if published.is_some() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let Some(published) = published else {
                return (
                    StatusCode::NOT_FOUND,
                    format!("no {topic} event for {document}"),
                )
                    .into_response();
            };
            let decoder = schema_registry_converter::async_impl::avro::AvroDecoder::new(
                schema_registry_converter::async_impl::schema_registry::SrSettings::new(registry),
            );
            let record = decoder
                .decode(Some(&published.value))
                .await
                .expect("decodes")
                .value;
            let view = Value::try_from(record).expect("a JSON view");
            let metadata = serde_json::json!({
                "contentType": "application/json",
                "topic": topic,
                "schema_subject": format!("{topic}-value"),
            });
            (
                [
                    ("content-type", "application/json".to_owned()),
                    (
                        "pact-message-metadata",
                        base64::engine::general_purpose::STANDARD.encode(metadata.to_string()),
                    ),
                ],
                view.to_string(),
            )
                .into_response()
        }
    };
    let app = axum::Router::new()
        .route("/", axum::routing::post(produce))
        .with_state(seen);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

async fn provider() -> (TestServer, Arc<States>) {
    let s = TestServer::start().await;
    let tenant = s.backend.create_key("pact").await.unwrap();
    let tenant = s.backend.authenticate(&tenant).await.unwrap().unwrap();
    s.backend
        .store()
        .add_api_key(
            tenant.id,
            &docintel_backend::keys::hash(PACT_KEY),
            "dik_pact",
            false,
        )
        .await
        .unwrap();
    let states = Arc::new(States {
        backend: s.backend.clone(),
        tenant: tenant.id,
    });
    (s, states)
}

async fn verify(
    s: &TestServer,
    states: &Arc<States>,
    source: PactSource,
) -> VerificationExecutionResult {
    let port = s.base.rsplit(':').next().unwrap().parse().unwrap();
    let hook = producer_hook(s).await;
    let info = ProviderInfo {
        name: "docintel".into(),
        host: "127.0.0.1".into(),
        transports: vec![
            ProviderTransport {
                transport: "http".into(),
                port: Some(port),
                path: None,
                scheme: Some("http".into()),
            },
            ProviderTransport {
                transport: "message".into(),
                port: Some(hook),
                path: None,
                scheme: Some("http".into()),
            },
        ],
        ..ProviderInfo::default()
    };
    let options: VerificationOptions<NullRequestFilterExecutor> = VerificationOptions {
        no_pacts_is_error: true,
        coloured_output: false,
        request_timeout: 10_000,
        ..VerificationOptions::default()
    };
    verify_provider_async(
        info,
        vec![source],
        FilterInfo::None,
        vec![],
        &options,
        None,
        states,
        None,
    )
    .await
    .unwrap()
}

fn pacts_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("contracts/pacts")
}

#[tokio::test]
async fn every_committed_pact_verifies_against_the_real_server() {
    let (s, states) = provider().await;
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
        &s,
        &states,
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
    let (s, states) = provider().await;
    let mut pact: Value =
        serde_json::from_str(&std::fs::read_to_string(pacts_dir().join(file)).unwrap()).unwrap();
    mutate(&mut pact);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mutated.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&pact).unwrap()).unwrap();
    verify(&s, &states, PactSource::File(file.display().to_string())).await
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
