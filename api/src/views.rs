//! The document as the API shows it, rendered from backend types: v2's wire shapes,
//! the payload of webhook deliveries, and what v1 adapts from. Shared here so that no
//! version and no sender imports another version.

use docintel_backend::model::{self, Document};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// Where a document is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = DocumentStatus)]
pub enum DocumentStatusView {
    Queued,
    Processing,
    Processed,
    Failed,
}

impl From<model::DocumentStatus> for DocumentStatusView {
    fn from(s: model::DocumentStatus) -> Self {
        match s {
            model::DocumentStatus::Queued => Self::Queued,
            model::DocumentStatus::Processing => Self::Processing,
            model::DocumentStatus::Processed => Self::Processed,
            model::DocumentStatus::Failed => Self::Failed,
        }
    }
}

impl From<DocumentStatusView> for model::DocumentStatus {
    fn from(s: DocumentStatusView) -> Self {
        match s {
            DocumentStatusView::Queued => Self::Queued,
            DocumentStatusView::Processing => Self::Processing,
            DocumentStatusView::Processed => Self::Processed,
            DocumentStatusView::Failed => Self::Failed,
        }
    }
}

/// Facts about the stored bytes and what processing found in them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Metadata {
    /// Detected from the bytes, never from the file name.
    #[schema(example = "application/pdf")]
    pub content_type: String,
    pub size_bytes: u64,
    /// Lower-case hex SHA-256 of the stored bytes.
    pub sha256: String,
    /// Pages of a PDF; null for other types and until processed.
    pub page_count: Option<u32>,
    /// Words in the extracted text; null until processed.
    pub word_count: Option<u64>,
    /// Characters in the extracted text; null until processed.
    pub char_count: Option<u64>,
    /// ISO 639-3 code of the text's language (e.g. `eng`); null when it cannot be told.
    #[schema(example = "eng")]
    pub language: Option<String>,
}

/// What the classifier decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Classification {
    /// The kind of document: `contract`, `form`, `invoice`, `letter`, `receipt`, `report`
    /// or `resume`; `other` when it is none of them. Models may add kinds: treat an
    /// unknown value like `other`.
    #[schema(example = "invoice")]
    pub label: String,
    /// Calibrated probability that `label` is right, between 0 and 1: of the answers
    /// given with confidence 0.8, about eight in ten are right.
    pub confidence: f64,
    #[schema(example = "nb-2026.11")]
    pub model_version: String,
}

/// A document and what docintel knows of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DocumentView {
    pub id: Uuid,
    /// The name the uploader gave; display only.
    pub filename: String,
    pub status: DocumentStatusView,
    /// Why processing failed; set only when `status` is `failed`.
    pub failure: Option<String>,
    pub metadata: Metadata,
    /// The classifier's verdict; null until processed, or when the text has no word the
    /// model knows.
    pub classification: Option<Classification>,
    /// Non-fatal remarks from processing: `ocr_unavailable` (no OCR on this server, so an
    /// image or scan has no text), `thumbnail_unavailable` (no PDF renderer, or the first
    /// page could not be rendered).
    pub warnings: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<Document> for DocumentView {
    fn from(d: Document) -> Self {
        let extracted = d.extracted;
        Self {
            id: d.id,
            filename: d.filename,
            status: d.status.into(),
            failure: d.failure,
            metadata: Metadata {
                content_type: d.content_type.mime().to_owned(),
                size_bytes: d.size_bytes,
                sha256: d.sha256,
                page_count: extracted.as_ref().and_then(|e| e.page_count),
                word_count: extracted.as_ref().map(|e| e.word_count),
                char_count: extracted.as_ref().map(|e| e.char_count),
                language: extracted.as_ref().and_then(|e| e.language.clone()),
            },
            classification: d.classification.map(|c| Classification {
                label: c.label,
                confidence: c.confidence,
                model_version: c.model_version,
            }),
            warnings: d.warnings,
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

/// One page of documents, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DocumentPage {
    pub items: Vec<DocumentView>,
    /// Pass as `page_token` to get the next page; null on the last page.
    pub next_page: Option<String>,
}

/// An event a webhook can receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum WebhookEventType {
    #[serde(rename = "doc.processed")]
    DocProcessed,
    #[serde(rename = "doc.classified")]
    DocClassified,
    #[serde(rename = "doc.failed")]
    DocFailed,
}

impl WebhookEventType {
    pub fn name(self) -> &'static str {
        match self {
            Self::DocProcessed => "doc.processed",
            Self::DocClassified => "doc.classified",
            Self::DocFailed => "doc.failed",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        [Self::DocProcessed, Self::DocClassified, Self::DocFailed]
            .into_iter()
            .find(|t| t.name() == s)
    }
}

/// The body of every delivery (`POST` to the subscription's URL, `application/json`),
/// signed in `Docintel-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WebhookEvent {
    /// The event id, also in `Docintel-Event-Id`; the same on every retry, so receivers
    /// can drop duplicates.
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: WebhookEventType,
    /// When the event happened.
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    /// The document as `GET /v2/documents/{id}` showed it when the event was first sent;
    /// null if it was deleted before.
    pub data: Option<DocumentView>,
}
