//! Legacy `/documents`: multipart upload, flat documents with inline text, offset pages.
//! Every handler calls the same backend as v2 and renders through the v2 view.

use axum::Json;
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use docintel_backend::model::DocumentStatus;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::views::{LegacyDocument, LegacyDocumentList};
use crate::auth::{Auth, DocumentsRead, DocumentsWrite};
use crate::error::{ApiError, ErrorCode};
use crate::extract::{IdPath, Query, refuse_declared_oversize};
use crate::state::AppState;
use crate::views::DocumentView;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_document, list_documents))
        .routes(routes!(get_document))
        // The upload streams into a size-checked blob; the default 2 MB cap on multipart
        // bodies would otherwise refuse documents v2 accepts.
        .layer(DefaultBodyLimit::disable())
}

/// Room for multipart boundaries and part headers around the file itself.
const MULTIPART_OVERHEAD: u64 = 64 * 1024;

fn multipart_error(e: MultipartError, limit: u64) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge(limit)
    } else {
        ApiError::new(ErrorCode::InvalidMultipart, e.body_text())
    }
}

/// The upload form: one part named `file`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct UploadForm {
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Upload a document (deprecated)
///
/// A `multipart/form-data` body with exactly one part, named `file`, carrying a file name.
#[utoipa::path(
    post,
    path = "/documents",
    tag = "documents",
    security(("api_key" = ["documents:write"])),
    request_body(content((UploadForm = "multipart/form-data"))),
    responses(
        (status = 201, description = "Stored and queued.", body = LegacyDocument,
            headers(("Location" = String, description = "The document's URL."))),
        (status = 400, description = "No `file` part, several, another field, an empty file, or no file name."),
    ),
    extensions(("x-problem-codes" = json!([
        "invalid_multipart", "invalid_filename", "empty_body", "payload_too_large", "quota_exceeded",
        "unsupported_media_type"
    ]))),
)]
async fn upload_document(
    State(state): State<AppState>,
    Auth(tenant, _): Auth<DocumentsWrite>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let mut multipart = multipart.map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidMultipart,
            format!(
                "send a multipart/form-data body with a `file` part ({})",
                e.body_text()
            ),
        )
    })?;
    let limit = state.backend.config().max_upload_bytes;
    refuse_declared_oversize(&headers, limit + MULTIPART_OVERHEAD, limit)?;
    let mut file = None;
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(e, limit))?
    {
        match field.name() {
            Some("file") if file.is_some() => {
                return Err(ApiError::new(
                    ErrorCode::InvalidMultipart,
                    "send exactly one `file` part",
                ));
            }
            Some("file") => {
                let filename = field.file_name().map(str::to_owned).ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::InvalidFilename,
                        "the `file` part has no file name",
                    )
                })?;
                docintel_backend::validate_filename(&filename)?;
                let mut upload = state.backend.begin_upload().await?;
                while let Some(chunk) =
                    field.chunk().await.map_err(|e| multipart_error(e, limit))?
                {
                    upload.write(&chunk).await?;
                }
                file = Some((filename, upload));
            }
            other => {
                return Err(ApiError::new(
                    ErrorCode::InvalidMultipart,
                    format!(
                        "unexpected form field {:?}: send the document as a part named `file`",
                        other.unwrap_or_default()
                    ),
                ));
            }
        }
    }
    let (filename, upload) = file
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidMultipart, "no `file` part in the form"))?;
    // Browsers derive a part's type from the file extension, so v1 never treated it as a
    // claim about the bytes; detection alone decides.
    let doc = state
        .backend
        .submit(tenant.id, &filename, None, upload)
        .await?;
    let id = doc.id;
    let legacy = LegacyDocument::from_v2(DocumentView::from(doc), None);
    let loc = HeaderValue::from_str(&crate::versions::V1.path(&format!("/documents/{id}")))
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok((StatusCode::CREATED, [(header::LOCATION, loc)], Json(legacy)).into_response())
}

/// Characters of text a listed document carries: a page of 100 documents stays a few MB
/// however long their texts are.
pub const LIST_TEXT_CHARS: u32 = 16_384;

/// The legacy view of a document, with its text inline once processed.
async fn legacy(
    state: &AppState,
    doc: docintel_backend::model::Document,
) -> Result<LegacyDocument, ApiError> {
    let text = if doc.status == DocumentStatus::Processed {
        state.backend.text(doc.tenant_id, doc.id).await?
    } else {
        None
    };
    Ok(LegacyDocument::from_v2(DocumentView::from(doc), text))
}

/// Get a document (deprecated)
#[utoipa::path(
    get,
    path = "/documents/{id}",
    tag = "documents",
    security(("api_key" = ["documents:read"])),
    params(("id" = String, Path, description = "The document id.")),
    responses(
        (status = 200, description = "The document, text inline.", body = LegacyDocument),
    ),
    extensions(("x-problem-codes" = json!(["invalid_id", "not_found"]))),
)]
async fn get_document(
    State(state): State<AppState>,
    Auth(tenant, _): Auth<DocumentsRead>,
    IdPath(id): IdPath,
) -> Result<Json<LegacyDocument>, ApiError> {
    let doc = state
        .backend
        .document(tenant.id, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no document with id {id}")))?;
    Ok(Json(legacy(&state, doc).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LegacyListParams {
    /// Page number, from 1 (default 1).
    #[param(minimum = 1)]
    pub page: Option<u64>,
    /// Documents per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
}

/// Documents an offset page may start after, at most: a page's cost is a walk of its
/// offset, so the offset is bounded; `/v2/documents` pages with a key to the end.
pub const MAX_OFFSET: u64 = 10_000;

// The description below names the bound.
const _: () = assert!(MAX_OFFSET == 10_000);

/// List documents (deprecated)
///
/// Offset pagination, newest first, with the total count. Each document carries at most
/// the first 16,384 characters of its text (`text_truncated: true` when there is more).
/// A page starts within the first 10,000 documents (`400` past them): `/v2/documents`
/// pages to the end.
#[utoipa::path(
    get,
    path = "/documents",
    tag = "documents",
    security(("api_key" = ["documents:read"])),
    params(LegacyListParams),
    responses(
        (status = 200, description = "A page of documents.", body = LegacyDocumentList),
    ),
    extensions(("x-problem-codes" = json!(["invalid_parameter"]))),
)]
async fn list_documents(
    State(state): State<AppState>,
    Auth(tenant, _): Auth<DocumentsRead>,
    Query(params): Query<LegacyListParams>,
) -> Result<Json<LegacyDocumentList>, ApiError> {
    let page = params.page.unwrap_or(1);
    let per_page = params.per_page.unwrap_or(20);
    if page == 0 {
        return Err(ApiError::new(
            ErrorCode::InvalidParameter,
            "page starts at 1",
        ));
    }
    if !(1..=100).contains(&per_page) {
        return Err(ApiError::new(
            ErrorCode::InvalidParameter,
            "per_page must be between 1 and 100",
        ));
    }
    let offset = (page - 1)
        .checked_mul(u64::from(per_page))
        .filter(|offset| *offset < MAX_OFFSET)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidParameter,
                format!(
                    "page {page} of {per_page} starts past the first {MAX_OFFSET} documents, where \
                     offset pages stop; GET /v2/documents pages to the end with next_page"
                ),
            )
        })?;
    let (docs, total) = state
        .backend
        .list_offset(tenant.id, offset, per_page)
        .await?;
    // The page's texts, cut at LIST_TEXT_CHARS, in one query.
    let processed: Vec<_> = docs
        .iter()
        .filter(|d| d.status == DocumentStatus::Processed)
        .map(|d| d.id)
        .collect();
    let mut texts = state
        .backend
        .text_prefixes(tenant.id, &processed, LIST_TEXT_CHARS)
        .await?;
    let documents = docs
        .into_iter()
        .map(|doc| {
            let (text, truncated) = match texts.remove(&doc.id) {
                Some((text, truncated)) => (Some(text), truncated),
                None => (None, false),
            };
            let mut view = LegacyDocument::from_v2(DocumentView::from(doc), text);
            view.text_truncated = truncated;
            view
        })
        .collect();
    Ok(Json(LegacyDocumentList {
        documents,
        page,
        per_page,
        total,
    }))
}
