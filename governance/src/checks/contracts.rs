//! 4. Contracts: every pact in `contracts/pacts/` verified with pact_verifier against a
//!    real server this module starts. Provider states are set up through the backend by a
//!    `ProviderStateExecutor` (no state endpoint exists in any binary); message pacts are
//!    answered by a producer hook with the real event the relay published, decoded from
//!    its Confluent-framed Avro bytes through the server's registry.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use docintel_backend::model::{DocumentStatus, TenantId};
use pact_models::provider_states::ProviderState;
use pact_verifier::callback_executors::{NullRequestFilterExecutor, ProviderStateExecutor};
use pact_verifier::verification_result::VerificationExecutionResult;
use pact_verifier::{
    FilterInfo, PactSource, ProviderInfo, ProviderTransport, VerificationOptions,
    verify_provider_async,
};
use serde_json::Value;

use crate::report::{Finding, Section};
use crate::server::Server;
use docintel_backend::pipeline::Isolation;

/// The key pacts send (`Authorization: Bearer …`); the provider registers it.
pub const PACT_KEY: &str = "dik_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

pub struct States {
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
            up.write(&docintel_testkit::pdf(&[
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
async fn producer_hook(s: &Server) -> anyhow::Result<u16> {
    use axum::Json;
    use axum::extract::State;
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    use base64::Engine;

    let seen: Published = Default::default();
    let mut rx = s.backend().subscribe();
    let collector = seen.clone();
    tokio::spawn(async move {
        while let Ok(p) = rx.recv().await {
            let key = (p.topic.to_owned(), p.key.clone());
            if let Ok(mut seen) = collector.lock() {
                seen.insert(key, p);
            }
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
                    .ok()
                    .and_then(|m| m.get(&(topic.to_string(), document.clone())).cloned());
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
            let view = match decoder.decode(Some(&published.value)).await {
                Ok(decoded) => Value::try_from(decoded.value).unwrap_or_default(),
                Err(e) => {
                    return (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        format!("undecodable event: {e}"),
                    )
                        .into_response();
                }
            };
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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(port)
}

/// A running provider: the server, its pact tenant and the producer hook.
pub struct Provider {
    pub server: Server,
    pub states: Arc<States>,
    hook_port: u16,
}

impl Provider {
    pub async fn start(parser: Isolation) -> anyhow::Result<Self> {
        let server = Server::start(parser).await?;
        let key = server.backend().create_key("pact").await?;
        let tenant = server
            .backend()
            .authenticate(&key)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the pact tenant's key does not authenticate"))?;
        server
            .backend()
            .store()
            .add_api_key(
                tenant.id,
                &docintel_backend::keys::hash(PACT_KEY),
                "dik_pact",
                false,
                time::OffsetDateTime::now_utc(),
            )
            .await?;
        let states = Arc::new(States {
            backend: server.backend().clone(),
            tenant: tenant.id,
        });
        let hook_port = producer_hook(&server).await?;
        Ok(Self {
            server,
            states,
            hook_port,
        })
    }

    /// Verifies `source` (HTTP interactions against the server, messages through the hook).
    pub async fn verify(&self, source: PactSource) -> anyhow::Result<VerificationExecutionResult> {
        let info = ProviderInfo {
            name: "docintel".into(),
            host: "127.0.0.1".into(),
            transports: vec![
                ProviderTransport {
                    transport: "http".into(),
                    port: Some(self.server.addr.port()),
                    path: None,
                    scheme: Some("http".into()),
                },
                ProviderTransport {
                    transport: "message".into(),
                    port: Some(self.hook_port),
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
            &self.states,
            None,
        )
        .await
    }
}

/// Sends what the process writes to stdout to stderr while alive. pact_verifier prints
/// its progress on stdout, which must carry only the gate's report (JSON for machines).
struct StdoutToStderr {
    saved: i32,
}

impl StdoutToStderr {
    fn new() -> Option<Self> {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        // SAFETY: dup/dup2 on the process's own standard descriptors; restored on drop.
        let saved = unsafe { libc::dup(1) };
        if saved < 0 || unsafe { libc::dup2(2, 1) } < 0 {
            return None;
        }
        Some(Self { saved })
    }
}

impl Drop for StdoutToStderr {
    fn drop(&mut self) {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        // SAFETY: puts back the descriptor saved in `new`.
        unsafe {
            libc::dup2(self.saved, 1);
            libc::close(self.saved);
        }
    }
}

/// Verifies every pact in `contracts/pacts/`.
pub async fn check(root: &Path, parser: Isolation) -> Section {
    let _quiet = StdoutToStderr::new();
    let dir = root.join("contracts/pacts");
    let subject = "contracts/pacts/*.json against a real server".to_owned();
    let result = async {
        let provider = Provider::start(parser).await?;
        provider
            .verify(PactSource::Dir(dir.display().to_string()))
            .await
    }
    .await;
    let findings = match result {
        Err(e) => vec![Finding::failure(
            "contracts-unverifiable",
            "contracts/pacts",
            e.to_string(),
            "",
        )],
        Ok(r) if r.result => Vec::new(),
        Ok(r) => {
            let mut findings: Vec<Finding> = r
                .errors
                .iter()
                .map(|(interaction, mismatch)| {
                    Finding::failure(
                        "pact-mismatch",
                        interaction.clone(),
                        format!("{mismatch:?}"),
                        "the provider must keep what the consumer relies on; if the consumer agreed to the change, it republishes its pact",
                    )
                })
                .collect();
            if findings.is_empty() {
                findings.push(Finding::failure(
                    "pact-mismatch",
                    "contracts/pacts",
                    r.output.join("\n"),
                    "",
                ));
            }
            findings
        }
    };
    Section::new("contracts", subject, findings)
}
