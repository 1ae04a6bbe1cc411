//! The outbox relay: reads unsent events in outbox order, encodes each with
//! schema_registry_converter (Confluent wire format, subject `<topic>-value`, schema id
//! from the registry), publishes them (Kafka if configured, then in-process
//! subscribers), and only then marks them sent. A failure leaves the batch in the outbox
//! and the relay retries it with backoff: at least once, in order.

use std::sync::Arc;
use std::time::Duration;

use schema_registry_converter::async_impl::avro::AvroEncoder;
use schema_registry_converter::async_impl::schema_registry::SrSettings;
use schema_registry_converter::schema_registry_common::{
    SchemaType, SubjectNameStrategy, SuppliedSchema,
};
use time::OffsetDateTime;
use tokio::sync::{Notify, broadcast};
use tracing::{debug, error, info, warn};

use super::sink::KafkaSink;
use super::{Event, Published, Topic};
use crate::registry::client::Credentials;
use crate::store::{LeaderTask, Leadership, Store};

const BATCH: u32 = 256;
const IDLE_POLL: Duration = Duration::from_millis(250);
/// The pause after a batch that emptied the outbox: events arriving meanwhile go in the
/// next batch together, with one read, one flush and one write for all of them instead
/// of a few each (under load a step would otherwise relay the few events that arrived
/// during the last one). An event waits this much longer at most.
const PACE: Duration = Duration::from_millis(10);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How often a process that does not lead the relay tries to.
const FOLLOWER_RETRY: Duration = Duration::from_secs(1);
/// How often the leader makes sure it still is.
const LEAD_CHECK: Duration = Duration::from_secs(1);
/// Sent events are kept this long (for inspection and replays), then forgotten.
pub const RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// Where the relay finds its registry and publishes.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Base URL of a Confluent-compatible registry (the embedded one by default).
    pub registry_url: String,
    pub registry_auth: Option<Credentials>,
    /// Kafka bootstrap brokers (`host:port`); empty publishes in-process only.
    pub kafka_brokers: Vec<String>,
}

/// Encodes events in the Confluent wire format through a registry.
pub struct Encoder {
    inner: AvroEncoder,
}

#[derive(Debug, thiserror::Error)]
#[error("encoding {topic}: {message}")]
pub struct EncodeError {
    pub topic: &'static str,
    pub message: String,
}

impl Encoder {
    pub fn new(registry_url: &str, auth: Option<&Credentials>) -> Result<Self, EncodeError> {
        let mut builder = SrSettings::new_builder(registry_url.trim_end_matches('/').to_owned());
        builder.set_timeout(Duration::from_secs(5));
        match auth {
            Some(Credentials::Bearer(token)) => {
                builder.set_token_authorization(token);
            }
            Some(Credentials::Basic { user, password }) => {
                builder.set_basic_authorization(user, Some(password));
            }
            None => {}
        }
        let settings = builder.build().map_err(|e| EncodeError {
            topic: "-",
            message: e.to_string(),
        })?;
        Ok(Self {
            inner: AvroEncoder::new(settings),
        })
    }

    /// The subject strategy for a topic, carrying this build's schema: the registry
    /// answers with that schema's id (registering it if it is new and allowed).
    fn strategy(topic: Topic) -> SubjectNameStrategy {
        SubjectNameStrategy::TopicNameStrategyWithSchema(
            topic.name.to_owned(),
            false,
            SuppliedSchema::new(None, SchemaType::Avro, topic.schema.to_owned()),
        )
    }

    /// Byte 0 = 0, 4-byte big-endian schema id, Avro datum.
    pub async fn encode(&self, event: &Event) -> Result<Vec<u8>, EncodeError> {
        let topic = event.topic();
        let strategy = Self::strategy(topic);
        let result = match event {
            Event::Uploaded(e) => self.inner.encode_struct(e, &strategy).await,
            Event::Processed(e) => self.inner.encode_struct(e, &strategy).await,
            Event::Classified(e) => self.inner.encode_struct(e, &strategy).await,
            Event::Failed(e) => self.inner.encode_struct(e, &strategy).await,
            Event::Deleted(e) => self.inner.encode_struct(e, &strategy).await,
        };
        if result.is_err() {
            // Errors are cached by the encoder; a registry that comes back must be asked again.
            self.inner.remove_errors_from_cache();
        }
        result.map_err(|e| EncodeError {
            topic: topic.name,
            message: e.to_string(),
        })
    }
}

pub(crate) struct Relay {
    pub store: Arc<dyn Store>,
    pub encoder: Encoder,
    pub kafka: Option<KafkaSink>,
    pub subscribers: broadcast::Sender<Arc<Published>>,
    pub wake: Arc<Notify>,
    /// Set while this process leads.
    pub leading: Arc<std::sync::atomic::AtomicBool>,
}

impl Relay {
    /// Relays while this process leads the relay; waits its turn otherwise. On a shared
    /// database several processes run this loop and one of them relays: events stay in
    /// order, and when the leader dies a follower takes over within [`FOLLOWER_RETRY`].
    pub async fn run(self) {
        let mut waiting_logged = false;
        loop {
            match self.store.try_lead(LeaderTask::Relay).await {
                Ok(Some(lead)) => {
                    info!("leading the event relay");
                    waiting_logged = false;
                    self.leading
                        .store(true, std::sync::atomic::Ordering::SeqCst);
                    self.lead(lead).await;
                    self.leading
                        .store(false, std::sync::atomic::Ordering::SeqCst);
                    warn!("lost the event relay's lead; another process takes over");
                }
                Ok(None) => {
                    if !waiting_logged {
                        debug!("another process relays the events; standing by");
                        waiting_logged = true;
                    }
                }
                Err(e) => warn!(error = %e, "could not try to lead the event relay"),
            }
            tokio::time::sleep(FOLLOWER_RETRY).await;
        }
    }

    /// Relays until `lead` is lost (checked at most every [`LEAD_CHECK`]; a process that
    /// lost it may publish a batch the new leader publishes again: at least once).
    async fn lead(&self, mut lead: Leadership) {
        let mut backoff = Duration::from_millis(100);
        let mut last_purge: Option<tokio::time::Instant> = None;
        let mut checked = tokio::time::Instant::now();
        loop {
            if checked.elapsed() >= LEAD_CHECK {
                if !lead.still_held().await {
                    return;
                }
                checked = tokio::time::Instant::now();
            }
            match self.step().await {
                Ok(0) => {
                    backoff = Duration::from_millis(100);
                    if last_purge.is_none_or(|t| t.elapsed() >= PURGE_EVERY) {
                        last_purge = Some(tokio::time::Instant::now());
                        match self
                            .store
                            .purge_sent(OffsetDateTime::now_utc() - RETENTION)
                            .await
                        {
                            Ok(0) => {}
                            Ok(n) => debug!(events = n, "forgot old sent events"),
                            Err(e) => warn!(error = %e, "could not purge sent events"),
                        }
                    }
                    tokio::select! {
                        _ = self.wake.notified() => {}
                        _ = tokio::time::sleep(IDLE_POLL) => {}
                    }
                }
                Ok(n) => {
                    backoff = Duration::from_millis(100);
                    debug!(events = n, "relayed");
                    if n < BATCH as usize {
                        tokio::time::sleep(PACE).await;
                    }
                }
                Err(e) => {
                    warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "event relay failed; the events stay in the outbox");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    /// Relays one batch; returns how many events were sent.
    async fn step(&self) -> Result<usize, String> {
        let rows = self
            .store
            .pending_events(BATCH)
            .await
            .map_err(|e| e.to_string())?;
        if rows.is_empty() {
            return Ok(0);
        }
        // Publish only what a power cut cannot take back (one flush per batch).
        self.store
            .make_all_durable()
            .await
            .map_err(|e| e.to_string())?;
        let mut batch = Vec::with_capacity(rows.len());
        for row in &rows {
            let event = match Event::from_json(&row.topic, &row.payload) {
                Ok(event) => event,
                Err(e) => {
                    // Only a damaged database gets here; holding every later event back
                    // for it would be worse than skipping it loudly.
                    error!(seq = row.seq, error = %e, "unreadable outbox row skipped");
                    continue;
                }
            };
            let value = self
                .encoder
                .encode(&event)
                .await
                .map_err(|e| e.to_string())?;
            batch.push(Published {
                seq: row.seq,
                topic: event.topic().name,
                key: event.document_id().to_owned(),
                event_id: event.event_id().to_owned(),
                value,
            });
        }
        if let Some(kafka) = &self.kafka {
            kafka.publish(&batch).await.map_err(|e| e.to_string())?;
        }
        for published in batch {
            // No subscriber is not an error: the event is still sent (to Kafka, or nowhere).
            let _ = self.subscribers.send(Arc::new(published));
        }
        self.store
            // Every row read, unreadable ones included (skipped above, loudly).
            .mark_sent(
                &rows.iter().map(|r| r.seq).collect::<Vec<_>>(),
                OffsetDateTime::now_utc(),
            )
            .await
            .map_err(|e| e.to_string())?;
        Ok(rows.len())
    }
}
