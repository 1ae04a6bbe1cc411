//! Where the relay publishes: in-process subscribers always, Kafka when configured.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rskafka::BackoffConfig;
use rskafka::client::error::{Error as KafkaError, ProtocolError};
use rskafka::client::partition::{Compression, PartitionClient, UnknownTopicHandling};
use rskafka::client::{Client, ClientBuilder};
use rskafka::record::Record;
use tokio::sync::Mutex;

use super::{Published, TOPICS};

#[derive(Debug, thiserror::Error)]
#[error("kafka: {0}")]
pub struct SinkError(String);

impl From<KafkaError> for SinkError {
    fn from(e: KafkaError) -> Self {
        SinkError(e.to_string())
    }
}

/// Publishes to Kafka topics named after the event topics, partition 0, keyed by document
/// id (so one document's events stay in order). rskafka is used rather than rdkafka: it
/// is pure Rust (no librdkafka C build in CI, no OpenSSL), async on tokio, and maintained
/// by InfluxData for IOx; docintel needs only produce, metadata and topic creation.
pub struct KafkaSink {
    brokers: Vec<String>,
    /// The connection and one client per topic, made on first use and dropped after an
    /// error so a broker that comes back is reconnected.
    state: Mutex<Option<Connected>>,
    partitions: i32,
}

struct Connected {
    /// Kept for the connection's lifetime; the partition clients share its brokers.
    _client: Client,
    topics: HashMap<&'static str, Arc<PartitionClient>>,
}

/// A broker that does not answer fails a call after this long (the relay then retries
/// the same batch later), instead of rskafka's default of retrying forever.
const CALL_DEADLINE: Duration = Duration::from_secs(3);

impl KafkaSink {
    pub fn new(brokers: Vec<String>) -> Self {
        Self {
            brokers,
            state: Mutex::new(None),
            partitions: 1,
        }
    }

    async fn connect(&self) -> Result<Connected, SinkError> {
        let client = ClientBuilder::new(self.brokers.clone())
            .client_id("docintel")
            .backoff_config(BackoffConfig {
                init_backoff: Duration::from_millis(50),
                max_backoff: Duration::from_secs(1),
                base: 2.0,
                deadline: Some(CALL_DEADLINE),
            })
            .build()
            .await?;
        let controller = client.controller_client()?;
        let existing: Vec<String> = client
            .list_topics()
            .await?
            .into_iter()
            .map(|t| t.name)
            .collect();
        let mut topics = HashMap::new();
        for topic in TOPICS {
            if !existing.iter().any(|t| t == topic.name) {
                match controller
                    .create_topic(topic.name, self.partitions, 1, 5_000)
                    .await
                {
                    Ok(()) => {}
                    Err(KafkaError::ServerError {
                        protocol_error: ProtocolError::TopicAlreadyExists,
                        ..
                    }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            let partition = client
                .partition_client(topic.name, 0, UnknownTopicHandling::Retry)
                .await?;
            topics.insert(topic.name, Arc::new(partition));
        }
        Ok(Connected {
            _client: client,
            topics,
        })
    }

    /// Produces `batch` in order; on error nothing is assumed sent.
    pub async fn publish(&self, batch: &[Published]) -> Result<(), SinkError> {
        let mut state = self.state.lock().await;
        if state.is_none() {
            *state = Some(self.connect().await?);
        }
        let Some(connected) = state.as_ref() else {
            return Err(SinkError("not connected".to_owned()));
        };
        // Consecutive records of one topic go in one produce call; order across the
        // batch is kept because calls are made in batch order.
        let mut start = 0;
        while start < batch.len() {
            let topic = batch[start].topic;
            let end = batch[start..]
                .iter()
                .position(|p| p.topic != topic)
                .map_or(batch.len(), |n| start + n);
            let Some(partition) = connected.topics.get(topic) else {
                return Err(SinkError(format!("no partition client for {topic}")));
            };
            let records = batch[start..end]
                .iter()
                .map(|p| Record {
                    key: Some(p.key.clone().into_bytes()),
                    value: Some(p.value.clone()),
                    headers: [("event_id".to_owned(), p.event_id.clone().into_bytes())].into(),
                    timestamp: chrono::Utc::now(),
                })
                .collect();
            if let Err(e) = partition.produce(records, Compression::NoCompression).await {
                *state = None;
                return Err(e.into());
            }
            start = end;
        }
        Ok(())
    }
}
