//! Wiring the backend's events at start: which registry (the embedded one, served under
//! a path prefix, or an external Confluent-compatible one), registering the schemas this
//! build writes, and starting the outbox relay.

use std::net::SocketAddr;

use docintel_backend::RelayHandle;
use docintel_backend::events::relay::{EncodeError, RelayConfig};
use docintel_backend::registry::client::{Credentials, RegisterError, Target};

use crate::state::AppState;

pub use crate::state::{DEFAULT_BROKER_PATH, DEFAULT_REGISTRY_PATH};

#[derive(Debug, Clone)]
pub enum RegistryChoice {
    /// Served by this process under `path` (e.g. `/registry`).
    Embedded { path: String },
    External {
        url: String,
        auth: Option<Credentials>,
    },
}

#[derive(Debug, Clone)]
pub struct EventsConfig {
    pub registry: RegistryChoice,
    /// Kafka bootstrap brokers; empty publishes to in-process subscribers only.
    pub kafka_brokers: Vec<String>,
}

impl Default for EventsConfig {
    fn default() -> Self {
        Self {
            registry: RegistryChoice::Embedded {
                path: DEFAULT_REGISTRY_PATH.to_owned(),
            },
            kafka_brokers: Vec::new(),
        }
    }
}

impl EventsConfig {
    /// The embedded registry's path prefix, when it is the one in use.
    pub fn embedded_path(&self) -> Option<&str> {
        match &self.registry {
            RegistryChoice::Embedded { path } => Some(path),
            RegistryChoice::External { .. } => None,
        }
    }
}

/// Registers the schemas this build writes; an error means docintel must not start.
pub async fn register_schemas(
    state: &AppState,
    config: &EventsConfig,
) -> Result<Vec<(String, i64)>, RegisterError> {
    let target = match &config.registry {
        RegistryChoice::Embedded { .. } => Target::Embedded(state.backend.registry().clone()),
        RegistryChoice::External { url, auth } => Target::remote(url, auth.clone()),
    };
    state.backend.register_schemas(&target).await
}

/// Starts the relay; `listening` is where this process serves (for the embedded
/// registry, which the relay reaches over HTTP like any other client).
pub fn start_relay(
    state: &AppState,
    config: &EventsConfig,
    listening: SocketAddr,
) -> Result<RelayHandle, EncodeError> {
    let (registry_url, registry_auth) = match &config.registry {
        RegistryChoice::Embedded { path } => {
            let host = if listening.ip().is_unspecified() {
                SocketAddr::new([127, 0, 0, 1].into(), listening.port())
            } else {
                listening
            };
            (
                format!("http://{host}{path}"),
                Some(Credentials::Bearer(state.registry_token.value().to_owned())),
            )
        }
        RegistryChoice::External { url, auth } => (url.clone(), auth.clone()),
    };
    state.backend.start_relay(RelayConfig {
        registry_url,
        registry_auth,
        kafka_brokers: config.kafka_brokers.clone(),
    })
}
