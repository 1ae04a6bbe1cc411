//! Domain types shared by the store, the pipeline and the façade. No HTTP, no wire format:
//! the façade renders these as v2 (and v1) views.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

pub type DocumentId = Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TenantId(pub Uuid);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
}

/// Lifecycle of a document: `queued` → `processing` → `processed` | `failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentStatus {
    Queued,
    Processing,
    Processed,
    Failed,
}

impl DocumentStatus {
    pub const ALL: [DocumentStatus; 4] = [
        DocumentStatus::Queued,
        DocumentStatus::Processing,
        DocumentStatus::Processed,
        DocumentStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DocumentStatus::Queued => "queued",
            DocumentStatus::Processing => "processing",
            DocumentStatus::Processed => "processed",
            DocumentStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// The content types docintel accepts, detected from the bytes, never from the file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ContentType {
    #[serde(rename = "application/pdf")]
    Pdf,
    #[serde(rename = "image/png")]
    Png,
    #[serde(rename = "image/jpeg")]
    Jpeg,
    #[serde(rename = "text/plain")]
    Text,
    #[serde(rename = "image/tiff")]
    Tiff,
}

impl ContentType {
    pub fn mime(self) -> &'static str {
        match self {
            ContentType::Pdf => "application/pdf",
            ContentType::Png => "image/png",
            ContentType::Jpeg => "image/jpeg",
            ContentType::Text => "text/plain",
            ContentType::Tiff => "image/tiff",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pdf, Self::Png, Self::Jpeg, Self::Text, Self::Tiff]
            .into_iter()
            .find(|c| c.mime() == s)
    }
}

/// What the pipeline learned about a document (beyond what is known at upload).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Extracted {
    /// Pages in a PDF; `None` for other types.
    pub page_count: Option<u32>,
    /// Whitespace-separated words in the extracted text.
    pub word_count: u64,
    /// Characters (Unicode scalar values) in the extracted text.
    pub char_count: u64,
    /// ISO 639-3 code of the text's language, when it can be told reliably.
    #[serde(default)]
    pub language: Option<String>,
    /// Mean OCR confidence of the document and of each OCR'd page, when OCR read words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr: Option<crate::layout::OcrConfidence>,
    /// Whether OCR wrote a searchable PDF (kept beside the document's bytes, see
    /// [`crate::blobs::searchable_key`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub searchable_pdf: bool,
}

/// Why a document failed, for a machine (the `failure` says it for a human).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureCode {
    /// The malware scanner found a signature; the document's bytes were deleted.
    MalwareDetected,
    /// The malware scanner refused the document (larger than it scans).
    ScanFailed,
}

impl FailureCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MalwareDetected => "malware_detected",
            Self::ScanFailed => "scan_failed",
        }
    }
}

/// The classifier's verdict on a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    pub label: String,
    /// Calibrated probability of `label`, 0 to 1.
    pub confidence: f64,
    pub model_version: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub id: DocumentId,
    pub tenant_id: TenantId,
    pub filename: String,
    pub status: DocumentStatus,
    /// Why processing failed; set only when `status == Failed`.
    pub failure: Option<String>,
    /// The failure's kind for a machine ([`FailureCode`]), when it has one.
    pub failure_code: Option<String>,
    pub content_type: ContentType,
    pub size_bytes: u64,
    /// Lower-case hex SHA-256 of the stored bytes.
    pub sha256: String,
    /// Set once processing succeeded.
    pub extracted: Option<Extracted>,
    /// Non-fatal remarks from processing (e.g. `ocr_unavailable`).
    pub warnings: Vec<String>,
    pub classification: Option<Classification>,
    /// Where the thumbnail is stored, if there is one.
    pub thumbnail_key: Option<String>,
    /// Why the thumbnail could not be rendered, once that was tried and failed: it is not
    /// tried again.
    pub thumbnail_failure: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// Filters for listing a tenant's documents. All bounds are optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ListFilter {
    pub status: Option<DocumentStatus>,
    /// Inclusive lower bound on `created_at`.
    pub created_after: Option<OffsetDateTime>,
    /// Exclusive upper bound on `created_at`.
    pub created_before: Option<OffsetDateTime>,
}

impl ListFilter {
    /// Whether it bounds `created_at`, which no index orders a tenant's documents by: a
    /// page then looks at a window of them (see [`CREATED_WINDOW`]).
    pub fn bounds_created(&self) -> bool {
        self.created_after.is_some() || self.created_before.is_some()
    }
}

/// Documents one page of a list that bounds `created_at` looks at, at most, newest first
/// (by status, if it filters on one): a page then holds the matches among them, fewer than
/// asked for or none, and goes on after them when more documents follow. So a bound that
/// matches few of a tenant's many documents costs a walk of this many per request, never
/// of them all.
pub const CREATED_WINDOW: u32 = 10_000;

/// One page of a listing, newest first. `next_after` is the last id of this page when
/// more documents follow.
#[derive(Debug, Clone)]
pub struct Page {
    pub items: Vec<Document>,
    pub next_after: Option<DocumentId>,
}

/// How much a tenant may store: `None` is unlimited. A limit of 0 refuses every upload.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quota {
    /// Sum of the uploaded documents' sizes (thumbnails and extracted text not counted).
    pub max_bytes: Option<u64>,
    pub max_documents: Option<u64>,
}

impl Quota {
    pub const UNLIMITED: Quota = Quota {
        max_bytes: None,
        max_documents: None,
    };
}

/// A change to one of a tenant's own quotas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaSetting {
    /// Keep what is set.
    Keep,
    /// Back to the operator's default.
    Default,
    /// This limit (`None`: unlimited, whatever the default).
    Set(Option<u64>),
}

/// What a tenant stores and may store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub bytes: u64,
    pub documents: u64,
    /// The limits in force (the tenant's own, else the operator's defaults).
    pub limits: Quota,
}

/// A tenant's usage as stored, with the limits it has of its own (`None`: the default;
/// `Some(None)`: unlimited).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoredUsage {
    pub bytes: u64,
    pub documents: u64,
    pub max_bytes: Option<Option<u64>>,
    pub max_documents: Option<Option<u64>>,
}

impl StoredUsage {
    /// The usage with the limits in force under the operator's `defaults`.
    pub fn under(self, defaults: Quota) -> Usage {
        Usage {
            bytes: self.bytes,
            documents: self.documents,
            limits: Quota {
                max_bytes: self.max_bytes.unwrap_or(defaults.max_bytes),
                max_documents: self.max_documents.unwrap_or(defaults.max_documents),
            },
        }
    }
}
