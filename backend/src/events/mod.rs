//! Domain events. Every state change writes its event to the outbox in the transaction
//! that makes the change ([`crate::store`]); the [`relay`] publishes them, Avro-encoded in
//! the Confluent wire format, to in-process subscribers and, when configured, to Kafka.
//!
//! The Rust types here mirror the newest schema of each subject in `schemas/avro/`; a test
//! encodes each one with that schema, so the two cannot drift apart silently.

pub mod relay;
pub mod sink;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::model::{Classification, DocumentId, Extracted, TenantId};
use crate::store::{ClaimedJob, JobResult};

/// One event subject: its topic (the Kafka topic, and the schema subject `<topic>-value`)
/// and the schema this build writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Topic {
    pub name: &'static str,
    /// The newest `schemas/avro/<name>/vN.avsc`, embedded at build time.
    pub schema: &'static str,
    pub version: u32,
}

impl Topic {
    /// The registry subject under the topic-name strategy.
    pub fn subject(&self) -> String {
        format!("{}-value", self.name)
    }
}

pub const UPLOADED: Topic = Topic {
    name: "doc.uploaded",
    schema: include_str!("../../../schemas/avro/doc.uploaded/v1.avsc"),
    version: 1,
};
pub const PROCESSED: Topic = Topic {
    name: "doc.processed",
    schema: include_str!("../../../schemas/avro/doc.processed/v2.avsc"),
    version: 2,
};
pub const CLASSIFIED: Topic = Topic {
    name: "doc.classified",
    schema: include_str!("../../../schemas/avro/doc.classified/v2.avsc"),
    version: 2,
};
pub const FAILED: Topic = Topic {
    name: "doc.failed",
    schema: include_str!("../../../schemas/avro/doc.failed/v2.avsc"),
    version: 2,
};
pub const DELETED: Topic = Topic {
    name: "doc.deleted",
    schema: include_str!("../../../schemas/avro/doc.deleted/v1.avsc"),
    version: 1,
};

/// Every topic docintel writes.
pub const TOPICS: [Topic; 5] = [UPLOADED, PROCESSED, CLASSIFIED, FAILED, DELETED];

/// The compatibility modes declared in `schemas/avro/compatibility.json`.
pub const COMPATIBILITY_JSON: &str = include_str!("../../../schemas/avro/compatibility.json");

/// The fields every event starts with, in this order, in every schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Head {
    pub event_id: String,
    /// Unix milliseconds (`timestamp-millis`).
    pub occurred_at: i64,
    pub document_id: String,
    pub tenant_id: String,
}

impl Head {
    pub fn new(document: DocumentId, tenant: TenantId, at: OffsetDateTime) -> Self {
        Self {
            event_id: Uuid::now_v7().to_string(),
            occurred_at: (at.unix_timestamp_nanos() / 1_000_000) as i64,
            document_id: document.to_string(),
            tenant_id: tenant.0.to_string(),
        }
    }
}

/// A record type: the [`Head`] fields, then its own, serialized in schema order (the
/// Avro serializer writes fields positionally, so no `#[serde(flatten)]`).
macro_rules! event_record {
    ($(#[$doc:meta])* $name:ident { $($field:ident : $ty:ty),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        pub struct $name {
            pub event_id: String,
            pub occurred_at: i64,
            pub document_id: String,
            pub tenant_id: String,
            $(pub $field: $ty,)*
        }

        impl $name {
            pub fn new(head: Head, $($field: $ty),*) -> Self {
                Self {
                    event_id: head.event_id,
                    occurred_at: head.occurred_at,
                    document_id: head.document_id,
                    tenant_id: head.tenant_id,
                    $($field,)*
                }
            }
        }
    };
}

event_record!(
    /// `doc.uploaded` v1.
    DocUploaded { filename: String, content_type: String, size_bytes: i64, sha256: String }
);
event_record!(
    /// `doc.processed` v2.
    DocProcessed {
        page_count: Option<i32>,
        word_count: i64,
        language: Option<String>,
        warnings: Vec<String>,
        ocr_confidence: Option<f64>,
        ocr_pages: Vec<OcrPage>,
    }
);

/// One OCR'd page's mean confidence, in `doc.processed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OcrPage {
    pub page: i32,
    pub confidence: f64,
}
event_record!(
    /// `doc.classified` v2.
    DocClassified { label: String, confidence: f64, model_version: String }
);
event_record!(
    /// `doc.failed` v2.
    DocFailed { reason: String, code: Option<String> }
);
event_record!(
    /// `doc.deleted` v1.
    DocDeleted {}
);

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Uploaded(DocUploaded),
    Processed(DocProcessed),
    Classified(DocClassified),
    Failed(DocFailed),
    Deleted(DocDeleted),
}

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("unknown topic {0:?} in the outbox")]
    UnknownTopic(String),
    #[error("outbox payload for {topic}: {source}")]
    Payload {
        topic: String,
        source: serde_json::Error,
    },
}

impl Event {
    #[allow(clippy::too_many_arguments)]
    pub fn uploaded(
        document: DocumentId,
        tenant: TenantId,
        at: OffsetDateTime,
        filename: &str,
        content_type: &str,
        size_bytes: u64,
        sha256: &str,
    ) -> Self {
        Event::Uploaded(DocUploaded::new(
            Head::new(document, tenant, at),
            filename.to_owned(),
            content_type.to_owned(),
            size_bytes as i64,
            sha256.to_owned(),
        ))
    }

    /// `doc.processed`, followed by `doc.classified` when the classifier decided.
    pub fn processed(
        document: DocumentId,
        tenant: TenantId,
        at: OffsetDateTime,
        extracted: &Extracted,
        warnings: &[String],
        classification: Option<&Classification>,
    ) -> Vec<Self> {
        let mut events = vec![Event::Processed(DocProcessed::new(
            Head::new(document, tenant, at),
            extracted.page_count.map(|n| n as i32),
            extracted.word_count as i64,
            extracted.language.clone(),
            warnings.to_vec(),
            extracted.ocr.as_ref().map(|o| crate::layout::wide(o.mean)),
            extracted
                .ocr
                .iter()
                .flat_map(|o| &o.pages)
                .map(|p| OcrPage {
                    page: p.page as i32,
                    confidence: crate::layout::wide(p.confidence),
                })
                .collect(),
        ))];
        if let Some(c) = classification {
            events.push(Event::Classified(DocClassified::new(
                Head::new(document, tenant, at),
                c.label.clone(),
                c.confidence,
                c.model_version.clone(),
            )));
        }
        events
    }

    pub fn failed(
        document: DocumentId,
        tenant: TenantId,
        at: OffsetDateTime,
        reason: &str,
        code: Option<crate::model::FailureCode>,
    ) -> Self {
        Event::Failed(DocFailed::new(
            Head::new(document, tenant, at),
            reason.to_owned(),
            code.map(|c| c.as_str().to_owned()),
        ))
    }

    pub fn deleted(document: DocumentId, tenant: TenantId, at: OffsetDateTime) -> Self {
        Event::Deleted(DocDeleted::new(Head::new(document, tenant, at)))
    }

    /// What a finished job publishes: `doc.processed` (and `doc.classified` when it was
    /// classified), or `doc.failed`.
    pub fn of_job(job: &ClaimedJob, result: &JobResult, at: OffsetDateTime) -> Vec<Self> {
        match result {
            JobResult::Processed {
                extracted,
                warnings,
                classification,
                ..
            } => Event::processed(
                job.document_id,
                job.tenant_id,
                at,
                extracted,
                warnings,
                classification.as_ref(),
            ),
            JobResult::Failed { reason, code } => {
                vec![Event::failed(
                    job.document_id,
                    job.tenant_id,
                    at,
                    reason,
                    *code,
                )]
            }
        }
    }

    pub fn topic(&self) -> Topic {
        match self {
            Event::Uploaded(_) => UPLOADED,
            Event::Processed(_) => PROCESSED,
            Event::Classified(_) => CLASSIFIED,
            Event::Failed(_) => FAILED,
            Event::Deleted(_) => DELETED,
        }
    }

    pub fn event_id(&self) -> &str {
        match self {
            Event::Uploaded(e) => &e.event_id,
            Event::Processed(e) => &e.event_id,
            Event::Classified(e) => &e.event_id,
            Event::Failed(e) => &e.event_id,
            Event::Deleted(e) => &e.event_id,
        }
    }

    pub fn document_id(&self) -> &str {
        match self {
            Event::Uploaded(e) => &e.document_id,
            Event::Processed(e) => &e.document_id,
            Event::Classified(e) => &e.document_id,
            Event::Failed(e) => &e.document_id,
            Event::Deleted(e) => &e.document_id,
        }
    }

    pub fn tenant_id(&self) -> &str {
        match self {
            Event::Uploaded(e) => &e.tenant_id,
            Event::Processed(e) => &e.tenant_id,
            Event::Classified(e) => &e.tenant_id,
            Event::Failed(e) => &e.tenant_id,
            Event::Deleted(e) => &e.tenant_id,
        }
    }

    /// The JSON kept in the outbox (the record's fields, by their Avro names).
    pub fn to_json(&self) -> String {
        let json = match self {
            Event::Uploaded(e) => serde_json::to_string(e),
            Event::Processed(e) => serde_json::to_string(e),
            Event::Classified(e) => serde_json::to_string(e),
            Event::Failed(e) => serde_json::to_string(e),
            Event::Deleted(e) => serde_json::to_string(e),
        };
        // Plain structs of strings and numbers always serialize.
        json.unwrap_or_default()
    }

    pub fn from_json(topic: &str, json: &str) -> Result<Self, EventError> {
        let err = |source| EventError::Payload {
            topic: topic.to_owned(),
            source,
        };
        Ok(match topic {
            "doc.uploaded" => Event::Uploaded(serde_json::from_str(json).map_err(err)?),
            "doc.processed" => Event::Processed(serde_json::from_str(json).map_err(err)?),
            "doc.classified" => Event::Classified(serde_json::from_str(json).map_err(err)?),
            "doc.failed" => Event::Failed(serde_json::from_str(json).map_err(err)?),
            "doc.deleted" => Event::Deleted(serde_json::from_str(json).map_err(err)?),
            other => return Err(EventError::UnknownTopic(other.to_owned())),
        })
    }
}

/// An event as it leaves the relay: Confluent-framed Avro, keyed by document id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The outbox position (increasing; one relay publishes in this order).
    pub seq: i64,
    pub topic: &'static str,
    pub key: String,
    pub event_id: String,
    /// Byte 0 = 0, bytes 1–4 = big-endian schema id, then the Avro datum.
    pub value: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schemas;

    #[test]
    fn each_topic_writes_the_newest_schema_in_the_repository() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/avro");
        let subjects = schemas::load(&dir).expect("schemas load");
        assert_eq!(subjects.len(), TOPICS.len(), "one topic per subject");
        for topic in TOPICS {
            let subject = subjects
                .iter()
                .find(|s| s.name == topic.name)
                .unwrap_or_else(|| panic!("no schemas/avro/{}", topic.name));
            let (n, path, _) = subject.versions.last().expect("a version");
            assert_eq!(
                topic.version, *n,
                "{}: embed the newest version",
                topic.name
            );
            assert_eq!(topic.schema, std::fs::read_to_string(path).unwrap());
        }
    }

    #[test]
    fn events_survive_the_outbox_json_and_keep_their_identity() {
        let doc = Uuid::now_v7();
        let tenant = TenantId(Uuid::now_v7());
        let at = OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap();
        let extracted = Extracted {
            page_count: Some(3),
            word_count: 42,
            char_count: 200,
            language: Some("eng".into()),
            ocr: Some(crate::layout::OcrConfidence {
                mean: 0.5,
                pages: vec![crate::layout::PageConfidence {
                    page: 2,
                    confidence: 0.5,
                }],
            }),
            searchable_pdf: false,
        };
        let classification = Classification {
            label: "invoice".into(),
            confidence: 0.9,
            model_version: "nb-1".into(),
        };
        let mut events = Event::processed(doc, tenant, at, &extracted, &[], Some(&classification));
        events.push(Event::uploaded(
            doc,
            tenant,
            at,
            "a.pdf",
            "application/pdf",
            10,
            "ab",
        ));
        events.push(Event::failed(
            doc,
            tenant,
            at,
            "broken",
            Some(crate::model::FailureCode::MalwareDetected),
        ));
        events.push(Event::deleted(doc, tenant, at));
        let topics: Vec<_> = events.iter().map(|e| e.topic().name).collect();
        assert_eq!(
            topics,
            [
                "doc.processed",
                "doc.classified",
                "doc.uploaded",
                "doc.failed",
                "doc.deleted"
            ]
        );
        for e in &events {
            let back = Event::from_json(e.topic().name, &e.to_json()).unwrap();
            assert_eq!(&back, e);
            assert_eq!(e.document_id(), doc.to_string());
            assert_eq!(e.tenant_id(), tenant.0.to_string());
        }
        let ids: std::collections::HashSet<_> = events.iter().map(|e| e.event_id()).collect();
        assert_eq!(ids.len(), events.len(), "every event has its own id");
        assert!(matches!(
            Event::from_json("doc.nope", "{}"),
            Err(EventError::UnknownTopic(_))
        ));
        assert!(Event::from_json("doc.failed", "{}").is_err());
    }
}
