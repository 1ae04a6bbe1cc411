//! Events: in-process subscribers, the schema registry, the relay to it and to Kafka.

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::{Alive, Backend, RelayHandle, Result, events, registry, schemas};

impl Backend {
    /// The embedded Pact Broker.
    pub fn broker(&self) -> &docintel_broker::Broker {
        &self.0.broker
    }

    /// The embedded schema registry.
    pub fn registry(&self) -> &registry::Registry {
        &self.0.registry
    }

    /// Events as the relay publishes them (from now on).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<events::Published>> {
        self.0.subscribers.subscribe()
    }

    /// Registers the schema each topic is written with (and the subject's declared
    /// compatibility level) in `target`. An error means the registry refuses one of them:
    /// docintel must not start writing events it could not register.
    pub async fn register_schemas(
        &self,
        target: &registry::client::Target,
    ) -> std::result::Result<Vec<(String, i64)>, registry::client::RegisterError> {
        let (default, modes) = schemas::parse_modes(events::COMPATIBILITY_JSON).map_err(|e| {
            registry::client::RegisterError::Invalid {
                subject: "compatibility.json".to_owned(),
                message: e,
            }
        })?;
        let mut ids = Vec::new();
        for topic in events::TOPICS {
            let subject = topic.subject();
            let mode = modes.get(topic.name).copied().unwrap_or(default);
            target.set_level(&subject, mode).await?;
            ids.push((
                subject.clone(),
                target.register(&subject, topic.schema).await?,
            ));
        }
        Ok(ids)
    }

    /// Starts the outbox relay.
    pub fn start_relay(
        &self,
        config: events::relay::RelayConfig,
    ) -> std::result::Result<RelayHandle, events::relay::EncodeError> {
        let relay = events::relay::Relay {
            store: self.0.store.clone(),
            encoder: events::relay::Encoder::new(
                &config.registry_url,
                config.registry_auth.as_ref(),
            )?,
            kafka: (!config.kafka_brokers.is_empty())
                .then(|| events::sink::KafkaSink::new(config.kafka_brokers.clone())),
            subscribers: self.0.subscribers.clone(),
            wake: self.0.wakes.events.clone(),
            leading: self.0.relay_leading.clone(),
        };
        let alive = Alive::new(&self.0.relay_alive);
        Ok(RelayHandle {
            task: tokio::spawn(async move {
                let _alive = alive;
                relay.run().await
            }),
        })
    }

    /// Unsent events, and the creation time (unix ms) of the oldest.
    pub async fn outbox_lag(&self) -> Result<(u64, Option<i64>)> {
        self.0.store.outbox_lag().await
    }
}
