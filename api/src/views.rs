//! The document as the API shows it, rendered from backend types: v2's wire shapes,
//! the payload of webhook deliveries, and what v1 adapts from. Shared here so that no
//! version and no sender imports another version.

use docintel_backend::layout;
use docintel_backend::model::{self, Document};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// The most characters of a reason (`failure`, a delivery's `last_error`) shown: enough
/// to say what went wrong, bounded whatever a parser or an endpoint said.
pub const MAX_REASON_CHARS: usize = 1024;

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
    #[schema(example = "application/pdf", max_length = 64)]
    pub content_type: String,
    /// Size of the stored bytes.
    #[schema(example = 48213, maximum = 1_099_511_627_776_u64)]
    pub size_bytes: u64,
    /// Lower-case hex SHA-256 of the stored bytes.
    #[schema(
        example = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        min_length = 64,
        max_length = 64,
        pattern = "^[0-9a-f]{64}$"
    )]
    pub sha256: String,
    /// Pages of a PDF; null for other types and until processed.
    #[schema(example = 2, maximum = 4_294_967_295_u64)]
    pub page_count: Option<u32>,
    /// Words in the extracted text; null until processed.
    #[schema(example = 312, maximum = 1_099_511_627_776_u64)]
    pub word_count: Option<u64>,
    /// Characters in the extracted text; null until processed.
    #[schema(example = 1874, maximum = 1_099_511_627_776_u64)]
    pub char_count: Option<u64>,
    /// ISO 639-3 code of the text's language (e.g. `eng`); null when it cannot be told.
    #[schema(example = "eng", max_length = 3)]
    pub language: Option<String>,
    /// Mean OCR confidence of the document's words, from 0 to 1, when OCR read words
    /// (images and scans): route a low one to a person. Null otherwise.
    #[serde(default)]
    #[schema(example = 0.91, minimum = 0, maximum = 1)]
    pub ocr_confidence: Option<f64>,
    /// Each OCR'd page's mean confidence (OCR reads at most 20 pages); empty when OCR read
    /// nothing.
    #[serde(default)]
    #[schema(max_items = 20, example = json!([]))]
    pub ocr_pages: Vec<OcrPageConfidence>,
    /// Whether `GET /v2/documents/{id}/searchable.pdf` has a searchable PDF of the
    /// document (images and scans that OCR read).
    #[serde(default)]
    #[schema(example = false)]
    pub searchable_pdf: bool,
}

/// One OCR'd page's mean word confidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OcrPageConfidence {
    /// 1-based page number.
    #[schema(example = 1, minimum = 1, maximum = 4_294_967_295_u64)]
    pub page: u32,
    /// From 0 to 1.
    #[schema(example = 0.91, minimum = 0, maximum = 1)]
    pub confidence: f64,
}

/// What the classifier decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Classification {
    /// The kind of document: `contract`, `form`, `invoice`, `letter`, `receipt`, `report`
    /// or `resume`; `other` when it is none of them. Models may add kinds: treat an
    /// unknown value like `other`.
    #[schema(example = "invoice", max_length = 64)]
    pub label: String,
    /// Calibrated probability that `label` is right, between 0 and 1: of the answers
    /// given with confidence 0.8, about eight in ten are right.
    #[schema(example = 0.93, minimum = 0, maximum = 1)]
    pub confidence: f64,
    /// The model that decided: its kind and a digest of its weights.
    #[schema(example = "lr-2-8862529d", max_length = 64)]
    pub model_version: String,
}

/// A document and what docintel knows of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DocumentView {
    /// The document's id.
    #[schema(example = "0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11", max_length = 36)]
    pub id: Uuid,
    /// The name the uploader gave; display only.
    #[schema(example = "invoice-2026-11.pdf", max_length = 255)]
    pub filename: String,
    /// Where it is in its lifecycle: poll until `processed` or `failed`.
    #[schema(example = "processed")]
    pub status: DocumentStatusView,
    /// Why processing failed; set only when `status` is `failed`.
    #[schema(example = json!(null), max_length = 1024)]
    pub failure: Option<String>,
    /// The failure's kind for a machine, when it has one (see `FailureCode`); absent
    /// otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<FailureCode>)]
    pub failure_code: Option<String>,
    /// Facts about the stored bytes and what processing found in them.
    pub metadata: Metadata,
    /// The classifier's verdict; null until processed, or when the text has no word the
    /// model knows.
    #[schema(example = json!({"label": "invoice", "confidence": 0.93, "model_version": "lr-2-8862529d"}))]
    pub classification: Option<Classification>,
    /// Non-fatal remarks from processing: `ocr_unavailable` (no OCR on this server, so an
    /// image or scan has no text), `thumbnail_unavailable` (the first page of a PDF could
    /// not be rendered), `not_scanned` (the malware scanner did not answer and
    /// this server processes documents unscanned then).
    #[schema(example = json!([]), max_items = 16, value_type = Vec<Warning>)]
    pub warnings: Vec<String>,
    /// When it was uploaded.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(example = "2026-11-21T10:00:00Z", max_length = 40)]
    pub created_at: OffsetDateTime,
    /// When its status last changed.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(example = "2026-11-21T10:00:01.25Z", max_length = 40)]
    pub updated_at: OffsetDateTime,
}

impl From<Document> for DocumentView {
    fn from(d: Document) -> Self {
        let extracted = d.extracted;
        let ocr = extracted.as_ref().and_then(|e| e.ocr.as_ref());
        Self {
            id: d.id,
            filename: d.filename,
            status: d.status.into(),
            failure: d
                .failure
                .map(|f| crate::error::bounded(&f, MAX_REASON_CHARS)),
            failure_code: d.failure_code.map(|c| crate::error::bounded(&c, 64)),
            metadata: Metadata {
                content_type: d.content_type.mime().to_owned(),
                size_bytes: d.size_bytes,
                sha256: d.sha256,
                page_count: extracted.as_ref().and_then(|e| e.page_count),
                word_count: extracted.as_ref().map(|e| e.word_count),
                char_count: extracted.as_ref().map(|e| e.char_count),
                language: extracted.as_ref().and_then(|e| e.language.clone()),
                ocr_confidence: ocr.map(|o| layout::wide(o.mean)),
                ocr_pages: ocr
                    .iter()
                    .flat_map(|o| &o.pages)
                    .take(docintel_backend::pipeline::MAX_OCR_PAGES as usize)
                    .map(|p| OcrPageConfidence {
                        page: p.page,
                        confidence: layout::wide(p.confidence),
                    })
                    .collect(),
                searchable_pdf: extracted.as_ref().is_some_and(|e| e.searchable_pdf),
            },
            classification: d.classification.map(|c| Classification {
                label: c.label,
                confidence: c.confidence,
                model_version: c.model_version,
            }),
            warnings: d
                .warnings
                .into_iter()
                .take(16)
                .map(|w| crate::error::bounded(&w, 64))
                .collect(),
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

/// Why a document failed, for a machine: `malware_detected` (the malware scanner found a
/// signature, named in `failure`; the document's bytes were deleted) or `scan_failed`
/// (the malware scanner refused the document, e.g. larger than it scans). More may come:
/// treat an unknown code as a failure without a code.
#[derive(ToSchema)]
#[schema(value_type = String, max_length = 64, example = "malware_detected")]
pub struct FailureCode(#[allow(dead_code)] String);

/// A processing remark's name (`ocr_unavailable`, `thumbnail_unavailable`,
/// `not_scanned`: the malware scanner did not answer and scanning is optional; more may
/// come: show an unknown one as it is).
#[derive(ToSchema)]
#[schema(value_type = String, max_length = 64, example = "ocr_unavailable")]
pub struct Warning(#[allow(dead_code)] String);

/// One page of documents, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DocumentPage {
    /// At most `limit` documents.
    #[schema(max_items = 100)]
    pub items: Vec<DocumentView>,
    /// Pass as `page_token` to get the next page; null on the last page.
    #[schema(
        example = "eyJhIjoiMDE5MmYwYzQtNWQ3ZS03YzFhIn0.Ks1u0mWq4yD1",
        max_length = 1024
    )]
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
    /// Every event type.
    pub const ALL: [Self; 3] = [Self::DocProcessed, Self::DocClassified, Self::DocFailed];

    pub fn name(self) -> &'static str {
        match self {
            Self::DocProcessed => "doc.processed",
            Self::DocClassified => "doc.classified",
            Self::DocFailed => "doc.failed",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == s)
    }
}

/// The body of every delivery (`POST` to the subscription's URL, `application/json`),
/// signed in `Docintel-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WebhookEvent {
    /// The event id, also in `Docintel-Event-Id`; the same on every retry, so receivers
    /// can drop duplicates.
    #[schema(example = "0192f0c4-7b21-7d40-9a3e-2c4f5e6a7b8c", max_length = 36)]
    pub id: String,
    /// What happened: the event type the subscription asked for.
    #[serde(rename = "type")]
    #[schema(example = "doc.processed")]
    pub event_type: WebhookEventType,
    /// When the event happened.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(example = "2026-11-21T10:00:01.25Z", max_length = 40)]
    pub created: OffsetDateTime,
    /// The document as `GET /v2/documents/{id}` showed it when the event was first sent;
    /// null if it was deleted before.
    pub data: Option<DocumentView>,
}

/// Examples for the OpenAPI document, built as real values of the wire types so that
/// they cannot drift from what the server sends.
pub mod examples {
    use time::macros::datetime;

    use super::*;

    pub const ID: Uuid = uuid::uuid!("0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11");

    impl DocumentView {
        /// A processed, classified invoice.
        pub fn example() -> Self {
            Self {
                id: ID,
                filename: "invoice-2026-11.pdf".to_owned(),
                status: DocumentStatusView::Processed,
                failure: None,
                failure_code: None,
                metadata: Metadata {
                    content_type: "application/pdf".to_owned(),
                    size_bytes: 48_213,
                    sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
                        .to_owned(),
                    page_count: Some(2),
                    word_count: Some(312),
                    char_count: Some(1_874),
                    language: Some("eng".to_owned()),
                    ocr_confidence: None,
                    ocr_pages: Vec::new(),
                    searchable_pdf: false,
                },
                classification: Some(Classification {
                    label: "invoice".to_owned(),
                    confidence: 0.93,
                    model_version: "lr-2-8862529d".to_owned(),
                }),
                warnings: Vec::new(),
                created_at: datetime!(2026-11-21 10:00:00 UTC),
                updated_at: datetime!(2026-11-21 10:00:01.25 UTC),
            }
        }

        /// The same document just after its upload.
        pub fn example_queued() -> Self {
            let processed = Self::example();
            Self {
                status: DocumentStatusView::Queued,
                metadata: Metadata {
                    page_count: None,
                    word_count: None,
                    char_count: None,
                    language: None,
                    ..processed.metadata
                },
                classification: None,
                updated_at: processed.created_at,
                ..processed
            }
        }
    }

    impl DocumentPage {
        pub fn example() -> Self {
            Self {
                items: vec![DocumentView::example()],
                next_page: Some("eyJhIjoiMDE5MmYwYzQtNWQ3ZS03YzFhIn0.Ks1u0mWq4yD1".to_owned()),
            }
        }
    }

    impl WebhookEvent {
        /// The delivery of an event of type `event_type` about the example document.
        pub fn example(event_type: WebhookEventType) -> Self {
            let doc = match event_type {
                WebhookEventType::DocFailed => DocumentView {
                    status: DocumentStatusView::Failed,
                    failure: Some("the PDF is encrypted".to_owned()),
                    classification: None,
                    ..DocumentView::example()
                },
                _ => DocumentView::example(),
            };
            Self {
                id: "0192f0c4-7b21-7d40-9a3e-2c4f5e6a7b8c".to_owned(),
                event_type,
                created: doc.updated_at,
                data: Some(doc),
            }
        }
    }
}
