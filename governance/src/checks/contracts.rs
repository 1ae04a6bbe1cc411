//! 4. Contracts: every pact in `contracts/pacts/` (or, with a broker, the pacts it selects
//!    for verification) verified with pact_verifier against a real server this module starts. Provider states are set up through the backend by a
//!    `ProviderStateExecutor` (no state endpoint exists in any binary); message pacts are
//!    answered by a producer hook with the real event the relay published, decoded from
//!    its Confluent-framed Avro bytes through the server's registry.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use docintel_backend::model::{DocumentStatus, TenantId};
use pact_models::http_utils::HttpAuth;
use pact_models::provider_states::ProviderState;
use pact_verifier::callback_executors::NullRequestFilterExecutor as NoFilter;
use pact_verifier::callback_executors::ProviderStateExecutor;
pub use pact_verifier::pact_broker::ConsumerVersionSelector as Selector;
use pact_verifier::verification_result::VerificationExecutionResult;
use pact_verifier::{
    FilterInfo, PactSource, ProviderInfo, ProviderTransport, PublishOptions, VerificationOptions,
    verify_provider_async,
};
use serde_json::Value;

use crate::report::{Finding, Section};
use crate::rules;
use crate::server::Server;
use docintel_backend::pipeline::Isolation;

/// The key pacts send (`Authorization: Bearer …`); the provider registers it.
pub const PACT_KEY: &str = "dik_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// The text of the invoice the provider states upload.
pub const INVOICE_LINES: [&str; 3] = [
    "INVOICE 2026-117",
    "Total due: 1,250.00 EUR",
    "Payment terms: net 30 days",
];

/// [`INVOICE_LINES`] as a real PDF, committed rather than built so the gate needs no test
/// crate at run time; a test keeps it equal to what the testkit builds.
pub const INVOICE_PDF: &[u8] = include_bytes!("invoice.pdf");

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
            up.write(INVOICE_PDF).await?;
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
        Self::start_with(parser, |_| {}).await
    }

    /// A provider whose server `tweak` changed (e.g. a clock past a sunset: the docintel
    /// of a later release).
    pub async fn start_with(
        parser: Isolation,
        tweak: impl FnOnce(&mut docintel_api::Launch),
    ) -> anyhow::Result<Self> {
        let server = Server::start_with(parser, tweak).await?;
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
                docintel_backend::store::NewKey {
                    key_hash: &docintel_backend::keys::hash(PACT_KEY),
                    prefix: "dik_pact",
                    admin: false,
                    scopes: docintel_backend::keys::Scopes::ALL,
                    expires_at: None,
                    now: time::OffsetDateTime::now_utc(),
                },
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
        self.verify_with(source, None).await
    }

    /// Verifies `source` and, with `publish`, reports the results to the broker it came
    /// from (pact_verifier publishes only for pacts fetched from a broker).
    pub async fn verify_with(
        &self,
        source: PactSource,
        publish: Option<&PublishOptions>,
    ) -> anyhow::Result<VerificationExecutionResult> {
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
        let options: VerificationOptions<NoFilter> = VerificationOptions {
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
            publish,
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

/// Where the gate takes the pacts from when not from `contracts/pacts/`: a Pact Broker
/// (docintel's embedded one, or any other), as the provider's CI verifies them.
#[derive(Debug, Clone, Default)]
pub struct BrokerSource {
    /// The broker's base URL, e.g. `http://127.0.0.1:8080/broker`.
    pub url: String,
    /// Sent as `Authorization: Bearer` (a docintel key, for the embedded broker).
    pub token: Option<String>,
    /// docintel's version being verified; needed to publish results.
    pub provider_version: Option<String>,
    /// docintel's branch: decides which pacts are pending, and is recorded with results.
    pub provider_branch: Option<String>,
    /// Consumer version selectors; none means the latest pact of each consumer.
    pub selectors: Vec<Selector>,
    /// Includes work-in-progress pacts published since this date (e.g. `2026-01-01`).
    pub include_wip_pacts_since: Option<String>,
    /// Report the verification results to the broker (needs `provider_version`).
    pub publish: bool,
}

impl BrokerSource {
    pub fn pact_source(&self) -> PactSource {
        PactSource::BrokerWithDynamicConfiguration {
            provider_name: "docintel".into(),
            broker_url: self.url.clone(),
            // The Pact Broker's recommended default: a consumer's new expectation warns
            // until docintel has once verified it, instead of breaking docintel's build.
            enable_pending: true,
            include_wip_pacts_since: self.include_wip_pacts_since.clone(),
            provider_tags: vec![],
            provider_branch: self.provider_branch.clone(),
            selectors: self.selectors.clone(),
            auth: self.token.clone().map(HttpAuth::Token),
            links: vec![],
        }
    }

    pub fn publish_options(&self) -> Option<PublishOptions> {
        self.publish.then(|| PublishOptions {
            provider_version: self.provider_version.clone(),
            provider_branch: self.provider_branch.clone(),
            ..PublishOptions::default()
        })
    }
}

/// The gate's findings for one verification: failures for what a consumer relies on,
/// warnings for failures of pending pacts (they never fail the gate).
fn findings(result: &VerificationExecutionResult, location: &str) -> Vec<Finding> {
    let mut findings: Vec<Finding> = result
        .errors
        .iter()
        .map(|(interaction, mismatch)| {
            Finding::failure(
                rules::PACT_MISMATCH.id,
                interaction.clone(),
                format!("{mismatch:?}"),
                "the provider must keep what the consumer relies on; if the consumer agreed to the change, it republishes its pact",
            )
        })
        .collect();
    if !result.result && findings.is_empty() {
        findings.push(Finding::failure(
            rules::PACT_MISMATCH.id,
            location,
            result.output.join("\n"),
            "",
        ));
    }
    findings.extend(result.pending_errors.iter().map(|(interaction, mismatch)| {
        Finding::warning(
            rules::PACT_PENDING_FAILURE.id,
            interaction.clone(),
            format!("{mismatch:?}"),
            "a pending pact: the consumer's new expectation is not met yet; it fails nobody's build until docintel has verified it once",
        )
    }));
    findings
}

/// Verifies every pact in `contracts/pacts/`, or those `broker` selects.
pub async fn check(root: &Path, parser: Isolation, broker: Option<&BrokerSource>) -> Section {
    let _quiet = StdoutToStderr::new();
    let dir = root.join("contracts/pacts");
    let (subject, location, source, publish) = match broker {
        Some(b) => (
            format!("the pacts {} selects, against a real server", b.url),
            b.url.clone(),
            b.pact_source(),
            b.publish_options(),
        ),
        None => (
            "contracts/pacts/*.json against a real server".to_owned(),
            "contracts/pacts".to_owned(),
            PactSource::Dir(dir.display().to_string()),
            None,
        ),
    };
    let result = async {
        let provider = Provider::start(parser).await?;
        provider.verify_with(source, publish.as_ref()).await
    }
    .await;
    let findings = match result {
        Err(e) => vec![Finding::failure(
            rules::CONTRACTS_UNVERIFIABLE.id,
            location,
            format!("{e:#}"),
            "",
        )],
        Ok(r) => findings(&r, &location),
    };
    Section::new("contracts", subject, findings)
}
