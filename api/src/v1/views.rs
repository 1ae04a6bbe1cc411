//! The legacy v1 shapes: flat transformations of the v2 views, never built from the
//! backend directly.

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use crate::views::{DocumentStatusView, DocumentView};

/// A document in the legacy flat shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LegacyDocument {
    #[schema(max_length = 36)]
    pub id: String,
    #[schema(max_length = 255)]
    pub filename: String,
    /// `queued`, `processing`, `processed` or `failed`.
    #[schema(max_length = 10)]
    pub status: String,
    /// The classifier's label; null until classified, and for a document of none of the
    /// known kinds (v2 says `other`).
    #[schema(max_length = 64)]
    pub label: Option<String>,
    /// The classifier's confidence, 0 to 1; null whenever `label` is.
    pub confidence: Option<f64>,
    /// The extracted text, inline; null until processed. In a list, at most the first
    /// 16,384 characters (see `text_truncated`).
    #[schema(max_length = 67_108_864)]
    pub text: Option<String>,
    /// Present and true when `text` is only the start of the document's text (lists
    /// carry at most 16,384 characters per document; get the document for all of it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub text_truncated: bool,
    /// RFC 3339.
    #[schema(max_length = 40)]
    pub created_at: String,
}

impl LegacyDocument {
    pub fn from_v2(view: DocumentView, text: Option<String>) -> Self {
        let status = match view.status {
            DocumentStatusView::Queued => "queued",
            DocumentStatusView::Processing => "processing",
            DocumentStatusView::Processed => "processed",
            DocumentStatusView::Failed => "failed",
        };
        // v1 knew seven labels and null; `other` (v2 only) is v1's null.
        let known = view
            .classification
            .as_ref()
            .filter(|c| c.label != docintel_backend::classify::OTHER);
        Self {
            id: view.id.to_string(),
            filename: view.filename,
            status: status.to_owned(),
            label: known.map(|c| c.label.clone()),
            confidence: known.map(|c| c.confidence),
            text,
            text_truncated: false,
            created_at: view.created_at.format(&Rfc3339).unwrap_or_default(),
        }
    }
}

/// A page of the legacy offset listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LegacyDocumentList {
    #[schema(max_items = 100)]
    pub documents: Vec<LegacyDocument>,
    #[schema(minimum = 1, maximum = 9_007_199_254_740_991_u64)]
    pub page: u64,
    #[schema(minimum = 1, maximum = 100)]
    pub per_page: u32,
    /// All of the caller's documents, across pages.
    #[schema(maximum = 9_007_199_254_740_991_u64)]
    pub total: u64,
}

/// The legacy error body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LegacyError {
    #[schema(max_length = 2048)]
    pub error: String,
}
