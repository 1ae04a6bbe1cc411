//! `/documents`: upload, read, list and delete documents.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use docintel_backend::model::{ContentType, DocumentStatus, ListFilter};
use futures_util::StreamExt;
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::answers::EXAMPLE_ID;
use crate::auth::{Auth, DocumentsRead, DocumentsWrite};
use crate::error::{ApiError, ErrorCode};
use crate::extract::{IdPath, Query, refuse_declared_oversize};
use crate::idempotency;
use crate::state::AppState;
use crate::views::{DocumentPage, DocumentStatusView, DocumentView};
use docintel_backend::model::Document;
use docintel_backend::store::StoredResponse;
use docintel_backend::{Submitted, Thumbnail};
use sha2::{Digest, Sha256};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_document, list_documents))
        .routes(routes!(get_document, delete_document))
        .routes(routes!(get_document_text))
        .routes(routes!(get_document_thumbnail))
}

fn location(id: uuid::Uuid) -> String {
    crate::versions::V2.path(&format!("/documents/{id}"))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// The document's file name, for display: 1 to 255 characters with at least one
    /// visible one; no path separators, control or bidirectional-control characters, no
    /// U+FFFD; not `.` or `..`.
    #[param(
        example = "invoice-2026-11.pdf",
        min_length = 1,
        max_length = 255,
        pattern = r"^(?!\.\.?$)[^/\\\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufffd]*[^/\\\x00-\x1f\x7f-\x9f\s\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufffd\u00ad\u180e\u200b-\u200d\u2060\ufeff][^/\\\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufffd]*$"
    )]
    pub filename: String,
}

/// The declared type, when it is one docintel knows; anything else (curl's default
/// form encoding, octet-stream) means "detect it".
fn declared_type(headers: &HeaderMap) -> Option<ContentType> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next()?.trim().to_ascii_lowercase();
    ContentType::parse(&essence)
}

/// Upload a document
///
/// The body is the raw file (PDF, PNG, JPEG, TIFF or UTF-8 text). Its type is detected from
/// the bytes; a `Content-Type` naming another supported type is refused as a mismatch.
/// Processing starts at once; poll the `Location` until `status` is `processed` or
/// `failed`.
#[utoipa::path(
    post,
    path = "/documents",
    tag = "documents",
    security(("api_key" = ["documents:write"])),
    params(
        UploadParams,
        ("Idempotency-Key" = Option<String>, Header,
            description = "Makes retries safe: a retry with the same key and the same request \
                           gets the first response again (marked `Idempotent-Replayed: true`) \
                           instead of creating a second document; the same key with another \
                           request is refused with 422. Keys are kept 24 hours.",
            min_length = 1, max_length = 255, pattern = "^[!-~]+$",
            example = "upload-invoice-2026-11-attempt-1"),
    ),
    request_body(
        description = "The file's bytes.",
        content((inline(UploadBody) = "application/octet-stream",
            example = json!("INVOICE 2026-11\nAcme Corp, 1 Main Street\nTotal due: 1,250.00 EUR\n"))),
    ),
    responses(
        (status = 202, description = "Stored and queued for processing (or, with an \
            `Idempotency-Key` sent before, the first answer again).", body = DocumentView,
            headers(
                ("Location" = String, description = "The document's URL."),
                ("Idempotent-Replayed" = String,
                    description = "`true` when this is the answer to an earlier request with \
                                   the same `Idempotency-Key`; absent otherwise."),
            ),
            example = json!(DocumentView::example_queued())),
    ),
    extensions(("x-problem-codes" = json!([
        "invalid_parameter", "invalid_filename", "empty_body", "invalid_idempotency_key",
        "payload_too_large", "quota_exceeded", "unsupported_media_type", "idempotency_key_reused"
    ]))),
)]
async fn upload_document(
    State(state): State<AppState>,
    Auth(tenant, _): Auth<DocumentsWrite>,
    Query(params): Query<UploadParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    docintel_backend::validate_filename(&params.filename)?;
    let idempotency_key = idempotency::key(&headers)?;
    let _serial = match &idempotency_key {
        Some(k) => Some(state.idempotency.lock(tenant.id, k).await),
        None => None,
    };
    let limit = state.backend.config().max_upload_bytes;
    refuse_declared_oversize(&headers, limit, limit)?;
    let mut upload = state.backend.begin_upload().await?;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::new(
                ErrorCode::BodyReadFailed,
                format!("could not read the body: {e}"),
            )
        })?;
        upload.write(&chunk).await?;
    }
    let declared = declared_type(&headers);
    let Some(key) = idempotency_key else {
        let doc = state
            .backend
            .submit(tenant.id, &params.filename, declared, upload)
            .await?;
        let response =
            created_response(&doc, String::new()).map_err(|e| ApiError::Internal(e.into()))?;
        return Ok(idempotency::render(response));
    };
    // What identifies the request behind the key: same name, declared type and bytes.
    let request_hash = {
        let facts = upload.facts();
        let declared = declared.map_or("", |d| d.mime());
        hex::encode(Sha256::digest(
            format!(
                "POST /v2/documents\n{}\n{declared}\n{}",
                params.filename, facts.sha256
            )
            .as_bytes(),
        ))
    };
    // A retry answered before: no need to store the bytes again.
    if let Some(earlier) = state.backend.idempotent_response(tenant.id, &key).await? {
        return replay(earlier, &request_hash);
    }
    // The response is kept with the document in one transaction, so a key stands for
    // one document even across processes and crashes.
    let submitted = state
        .backend
        .submit_keeping_response(tenant.id, &params.filename, declared, upload, &key, |doc| {
            created_response(doc, request_hash.clone())
                .map_err(|e| docintel_backend::Error::Render(e.to_string()))
        })
        .await?;
    match submitted {
        Submitted::Created(response) => Ok(idempotency::render(response)),
        Submitted::Earlier(earlier) => replay(earlier, &request_hash),
    }
}

/// The 202 answer to an upload that created `doc`, as kept for its Idempotency-Key.
fn created_response(
    doc: &Document,
    request_hash: String,
) -> Result<StoredResponse, serde_json::Error> {
    let view = DocumentView::from(doc.clone());
    Ok(StoredResponse {
        request_hash,
        status: StatusCode::ACCEPTED.as_u16(),
        location: Some(location(view.id)),
        body: serde_json::to_string(&view)?,
    })
}

/// The response kept for the key, if it answered this same request.
fn replay(earlier: StoredResponse, request_hash: &str) -> Result<Response, ApiError> {
    if earlier.request_hash != request_hash {
        return Err(ApiError::new(
            ErrorCode::IdempotencyKeyReused,
            "this Idempotency-Key was already used for a different upload; \
             use a new key for a new document",
        ));
    }
    Ok(idempotency::replay(earlier))
}

/// The upload body: the file's bytes.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct UploadBody(#[allow(dead_code)] Vec<u8>);

/// A document's extracted text: processing refuses a document with more than 64 MiB of
/// it, so it has fewer characters than that.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, max_length = 67_108_864)]
pub struct DocumentText(#[allow(dead_code)] String);

/// A PNG image's bytes.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary, content_media_type = "image/png")]
pub struct PngImage(#[allow(dead_code)] Vec<u8>);

/// Get a document
///
/// The document's status, metadata, classification and warnings. Poll it after an
/// upload until `status` is `processed` or `failed` (or subscribe to a webhook).
#[utoipa::path(
    get,
    path = "/documents/{id}",
    tag = "documents",
    security(("api_key" = ["documents:read"])),
    params(("id" = uuid::Uuid, Path, description = "The document id.", example = json!(EXAMPLE_ID))),
    responses(
        (status = 200, description = "The document.", body = DocumentView,
            example = json!(DocumentView::example())),
    ),
    extensions(("x-problem-codes" = json!(["invalid_id", "not_found"]))),
)]
async fn get_document(
    State(state): State<AppState>,
    Auth(tenant, _): Auth<DocumentsRead>,
    IdPath(id): IdPath,
) -> Result<Json<DocumentView>, ApiError> {
    match state.backend.document(tenant.id, id).await? {
        Some(doc) => Ok(Json(doc.into())),
        None => Err(not_found(id)),
    }
}

fn not_found(id: uuid::Uuid) -> ApiError {
    ApiError::NotFound(format!("no document with id {id}"))
}

/// Delete a document
///
/// Removes the document, its text and its stored bytes.
#[utoipa::path(
    delete,
    path = "/documents/{id}",
    tag = "documents",
    security(("api_key" = ["documents:write"])),
    params(("id" = uuid::Uuid, Path, description = "The document id.", example = json!(EXAMPLE_ID))),
    responses((status = 204, description = "Deleted.")),
    extensions(("x-problem-codes" = json!(["invalid_id", "not_found"]))),
)]
async fn delete_document(
    State(state): State<AppState>,
    Auth(tenant, _): Auth<DocumentsWrite>,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    if state.backend.delete(tenant.id, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(id))
    }
}

/// How a document's text is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TextFormat {
    /// Plain UTF-8 text.
    Text,
    /// Markdown: headings, list items and paragraphs recovered from the layout where
    /// the signals are clear, plain paragraphs otherwise.
    Markdown,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TextParams {
    /// `text` (the default) or `markdown`; `Accept: text/markdown` asks for Markdown too.
    #[param(inline, example = "markdown")]
    pub format: Option<TextFormat>,
}

/// Whether the request asks for Markdown: `format=markdown`, or an `Accept` that names
/// `text/markdown` and not `text/plain` (`format` wins).
fn wants_markdown(params: &TextParams, headers: &HeaderMap) -> bool {
    if let Some(format) = params.format {
        return format == TextFormat::Markdown;
    }
    let accept = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|m| {
            m.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .collect::<Vec<_>>();
    accept.iter().any(|m| m == "text/markdown") && !accept.iter().any(|m| m == "text/plain")
}

/// Get a document's text
///
/// The text extracted from the document, as UTF-8 plain text, or as Markdown with
/// `format=markdown` (or `Accept: text/markdown`). Empty for an image when OCR is
/// unavailable (the document's `warnings` say so).
#[utoipa::path(
    get,
    path = "/documents/{id}/text",
    tag = "documents",
    security(("api_key" = ["documents:read"])),
    params(("id" = uuid::Uuid, Path, description = "The document id.", example = json!(EXAMPLE_ID)), TextParams),
    responses(
        (status = 200, description = "The extracted text (at most 64 MiB), plain or Markdown.",
            content(
                (inline(DocumentText) = "text/plain; charset=utf-8",
                    example = json!("INVOICE 2026-11\nAcme Corp, 1 Main Street\nTotal due: 1,250.00 EUR\n")),
                (inline(DocumentText) = "text/markdown; charset=utf-8",
                    example = json!("# INVOICE 2026-11\n\nAcme Corp, 1 Main Street\n\nTotal due: 1,250.00 EUR\n")),
            )),
    ),
    extensions(("x-problem-codes" = json!([
        "invalid_id", "invalid_parameter", "not_found", "not_processed", "processing_failed"
    ]))),
)]
async fn get_document_text(
    State(state): State<AppState>,
    Auth(tenant, _): Auth<DocumentsRead>,
    IdPath(id): IdPath,
    Query(params): Query<TextParams>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let doc = processed_document(&state, &tenant, id).await?;
    let (text, content_type) = if wants_markdown(&params, &headers) {
        (
            state.backend.markdown(&doc).await?,
            "text/markdown; charset=utf-8",
        )
    } else {
        (
            state.backend.text(tenant.id, id).await?,
            "text/plain; charset=utf-8",
        )
    };
    let text = text.ok_or_else(|| not_found(id))?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::VARY, HeaderValue::from_static("Accept")),
        ],
        text,
    )
        .into_response())
}

/// The document, if processed; 409 while it is not (or when it failed).
pub(crate) async fn processed_document(
    state: &AppState,
    tenant: &docintel_backend::model::Tenant,
    id: uuid::Uuid,
) -> Result<docintel_backend::model::Document, ApiError> {
    let doc = state
        .backend
        .document(tenant.id, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    match doc.status {
        DocumentStatus::Queued | DocumentStatus::Processing => Err(ApiError::new(
            ErrorCode::NotProcessed,
            format!(
                "document {id} is still {}; try again shortly",
                doc.status.as_str()
            ),
        )),
        DocumentStatus::Failed => Err(ApiError::new(
            ErrorCode::ProcessingFailed,
            format!(
                "document {id} failed: {}",
                doc.failure.as_deref().unwrap_or_default()
            ),
        )),
        DocumentStatus::Processed => Ok(doc),
    }
}

/// Get a document's thumbnail
///
/// A PNG whose longest side is 256 pixels, for images and (where the server can render
/// PDFs) the first page of a PDF. Text documents have none.
#[utoipa::path(
    get,
    path = "/documents/{id}/thumbnail",
    tag = "documents",
    security(("api_key" = ["documents:read"])),
    params(("id" = uuid::Uuid, Path, description = "The document id.", example = json!(EXAMPLE_ID))),
    responses(
        (status = 200, description = "The thumbnail, a PNG image.", body = inline(PngImage),
            content_type = "image/png"),
        (status = 404, description = "No such document, or it has no thumbnail (the detail says why)."),
    ),
    extensions(("x-problem-codes" = json!([
        "invalid_id", "not_found", "not_processed", "processing_failed"
    ]))),
)]
async fn get_document_thumbnail(
    State(state): State<AppState>,
    Auth(tenant, _): Auth<DocumentsRead>,
    IdPath(id): IdPath,
) -> Result<Response, ApiError> {
    let doc = processed_document(&state, &tenant, id).await?;
    match state.backend.thumbnail(&doc).await? {
        Thumbnail::Png(png) => Ok((
            [(header::CONTENT_TYPE, HeaderValue::from_static("image/png"))],
            png,
        )
            .into_response()),
        Thumbnail::Failed(reason) => Err(ApiError::NotFound(format!(
            "document {id} has no thumbnail: its first page could not be rendered ({reason})"
        ))),
        Thumbnail::None => Err(ApiError::NotFound(match doc.content_type {
            ContentType::Text => format!("document {id} is text; text documents have no thumbnail"),
            _ => format!("document {id} has no thumbnail"),
        })),
    }
}

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100, example = 20)]
    pub limit: Option<u32>,
    /// The `next_page` of the previous page; omit for the first page.
    #[param(example = "eyJhIjoiMDE5MmYwYzQtNWQ3ZS03YzFhIn0.Ks1u0mWq4yD1")]
    pub page_token: Option<String>,
    /// Only documents with this status.
    #[param(inline, example = "processed")]
    pub status: Option<DocumentStatusView>,
    /// Only documents created at or after this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime, example = "2026-11-01T00:00:00Z")]
    pub created_after: Option<String>,
    /// Only documents created before this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime, example = "2026-12-01T00:00:00Z")]
    pub created_before: Option<String>,
}

pub(crate) fn instant(name: &str, value: Option<&str>) -> Result<Option<OffsetDateTime>, ApiError> {
    value
        .map(|v| {
            OffsetDateTime::parse(v, &Rfc3339).map_err(|e| {
                ApiError::new(
                    ErrorCode::InvalidParameter,
                    format!(
                        "{name} must be an RFC 3339 date-time such as 2026-11-21T10:00:00Z: {e}"
                    ),
                )
            })
        })
        .transpose()
}

// The description below names the window.
const _: () = assert!(docintel_backend::model::CREATED_WINDOW == 10_000);

/// List documents
///
/// Newest first, in pages. Follow `next_page` until it is null: pass it as `page_token`,
/// with the same filters or none (the token carries them). Tokens last 24 hours. With
/// `created_after` or `created_before`, a page looks at 10,000 documents at most, so it
/// may hold fewer than `limit`, or none, and still have a `next_page`.
#[utoipa::path(
    get,
    path = "/documents",
    tag = "documents",
    security(("api_key" = ["documents:read"])),
    params(ListParams),
    responses(
        (status = 200, description = "A page of documents.", body = DocumentPage,
            example = json!(DocumentPage::example())),
    ),
    extensions(
        ("x-dropshot-pagination" = json!({"required": []})),
        ("x-problem-codes" = json!(["invalid_parameter", "invalid_page_token"])),
    ),
)]
async fn list_documents(
    State(state): State<AppState>,
    Auth(tenant, _): Auth<DocumentsRead>,
    Query(params): Query<ListParams>,
) -> Result<Json<DocumentPage>, ApiError> {
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::new(
            ErrorCode::InvalidParameter,
            format!("limit must be between 1 and {MAX_LIMIT}, not {limit}"),
        ));
    }
    let filter = ListFilter {
        status: params.status.map(Into::into),
        created_after: instant("created_after", params.created_after.as_deref())?,
        created_before: instant("created_before", params.created_before.as_deref())?,
    };
    let now = OffsetDateTime::now_utc();
    let (after, filter) = match params.page_token.as_deref() {
        Some(token) => state
            .page_tokens
            .verify(token, tenant.id, &filter, now)
            .map(|(after, filter)| (Some(after), filter))
            .map_err(|e| ApiError::new(ErrorCode::InvalidPageToken, e.to_string()))?,
        None => (None, filter),
    };
    let page = state.backend.list(tenant.id, &filter, after, limit).await?;
    Ok(Json(DocumentPage {
        next_page: page
            .next_after
            .map(|last| state.page_tokens.issue(tenant.id, &filter, last, now)),
        items: page.items.into_iter().map(Into::into).collect(),
    }))
}
