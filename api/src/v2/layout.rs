//! `/documents/{id}/layout` and `/documents/{id}/searchable.pdf`: where each word is on
//! its page, and a scan with its words searchable.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use docintel_backend::layout;
use docintel_backend::model::ContentType;
use docintel_backend::pipeline::MAX_OCR_PAGES;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::documents::processed_document;
use crate::answers::EXAMPLE_ID;
use crate::auth::{Auth, DocumentsRead};
use crate::error::{ApiError, ErrorCode};
use crate::extract::{IdPath, Query};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_document_layout))
        .routes(routes!(get_searchable_pdf))
}

/// The most pages one request returns.
pub const MAX_PAGES_PER_REQUEST: u32 = 100;
/// Pages returned when `pages` is not given.
pub const DEFAULT_PAGES: u32 = 20;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LayoutParams {
    /// The pages to return: one page (`3`) or a range (`1-20`), at most 100 pages; the
    /// first 20 when omitted. Follow `next_pages` for the rest.
    #[param(
        example = "1-20",
        max_length = 21,
        pattern = r"^[1-9][0-9]{0,9}(-[1-9][0-9]{0,9})?$"
    )]
    pub pages: Option<String>,
}

/// Where a page's words came from: `text_layer` (the PDF's own text), `ocr` (read from
/// the page's image) or `none` (no words: OCR unavailable on this server, the page past
/// the OCR page limit, or past the layout size limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PageSource {
    TextLayer,
    Ocr,
    None,
}

/// The unit of a page's `width` and `height`: `pt` (PDF points, 1/72 inch) or `px`
/// (image pixels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PageUnit {
    Pt,
    Px,
}

/// A box on the page: `[x0, y0, x1, y1]`, each from 0 to 1 of the page's width (x) or
/// height (y), from the page's top-left corner, y growing downwards. Multiply by the
/// page's `width` and `height` for its own unit, or by a rendering's size in pixels.
#[derive(ToSchema)]
#[schema(value_type = Vec<f32>, min_items = 4, max_items = 4, example = json!([0.1176, 0.0712, 0.3468, 0.0871]))]
pub struct BoundingBox(#[allow(dead_code)] [f32; 4]);

/// A word and where it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WordView {
    #[schema(example = "INVOICE", max_length = 65_536)]
    pub text: String,
    #[schema(value_type = BoundingBox)]
    pub bbox: [f32; 4],
    /// Tesseract's confidence in the word, from 0 to 1; null for words of a PDF's text
    /// layer.
    #[schema(example = 0.96, minimum = 0, maximum = 1)]
    pub confidence: Option<f32>,
}

/// A line of words, left to right.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LineView {
    #[schema(value_type = BoundingBox)]
    pub bbox: [f32; 4],
    /// Bounded by the layout's size limit, as every list of a layout.
    #[schema(max_items = 10_000_000)]
    pub words: Vec<WordView>,
}

/// Lines that belong together: a paragraph, a heading, a list item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BlockView {
    #[schema(value_type = BoundingBox)]
    pub bbox: [f32; 4],
    #[schema(max_items = 10_000_000)]
    pub lines: Vec<LineView>,
}

/// One page: its size, where its words came from, and its blocks in reading order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PageView {
    /// 1-based.
    #[schema(example = 1, minimum = 1, maximum = 4_294_967_295_u64)]
    pub number: u32,
    #[schema(example = 595.28)]
    pub width: f32,
    #[schema(example = 841.89)]
    pub height: f32,
    pub unit: PageUnit,
    /// Clockwise degrees the page is shown turned by (0, 90, 180 or 270); boxes are on
    /// the page before that turn. OCR'd pages are described as shown (0).
    #[schema(example = 0, maximum = 270)]
    pub rotation: u16,
    pub source: PageSource,
    /// Mean confidence of the page's OCR'd words, from 0 to 1; null for other pages.
    #[schema(example = json!(null), minimum = 0, maximum = 1)]
    pub confidence: Option<f32>,
    /// In reading order.
    #[schema(max_items = 10_000_000)]
    pub blocks: Vec<BlockView>,
}

/// Pages of a document with their words and boxes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DocumentLayout {
    #[schema(example = "0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11", max_length = 36)]
    pub document_id: uuid::Uuid,
    /// Pages in the document (those returned are `pages`).
    #[schema(example = 2, maximum = 4_294_967_295_u64)]
    pub page_count: u32,
    /// The pages asked for, in order.
    #[schema(max_items = 100)]
    pub pages: Vec<PageView>,
    /// OCR reads at most this many pages of a scan (the first ones); later pages have
    /// `source` `none`.
    #[schema(example = 20, minimum = 1, maximum = 4_294_967_295_u64)]
    pub ocr_page_limit: u32,
    /// The `pages` value of the next range; null after the last page.
    #[schema(example = json!(null), max_length = 21)]
    pub next_pages: Option<String>,
}

fn word(w: layout::Word) -> WordView {
    WordView {
        text: w.text,
        bbox: w.bbox,
        confidence: w.confidence,
    }
}

impl From<layout::Page> for PageView {
    fn from(p: layout::Page) -> Self {
        Self {
            number: p.number,
            width: p.width,
            height: p.height,
            unit: match p.unit {
                layout::Unit::Pt => PageUnit::Pt,
                layout::Unit::Px => PageUnit::Px,
            },
            rotation: p.rotation,
            source: match p.source {
                layout::Source::TextLayer => PageSource::TextLayer,
                layout::Source::Ocr => PageSource::Ocr,
                layout::Source::None => PageSource::None,
            },
            confidence: p.confidence,
            blocks: p
                .blocks
                .into_iter()
                .map(|b| BlockView {
                    bbox: b.bbox,
                    lines: b
                        .lines
                        .into_iter()
                        .map(|l| LineView {
                            bbox: l.bbox,
                            words: l.words.into_iter().map(word).collect(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

impl DocumentLayout {
    pub fn example() -> Self {
        let w = |text: &str, bbox: [f32; 4]| WordView {
            text: text.to_owned(),
            bbox,
            confidence: None,
        };
        let line = |words: Vec<WordView>, bbox| LineView { bbox, words };
        Self {
            document_id: uuid::Uuid::parse_str(EXAMPLE_ID).unwrap_or_default(),
            page_count: 2,
            pages: vec![PageView {
                number: 1,
                width: 595.28,
                height: 841.89,
                unit: PageUnit::Pt,
                rotation: 0,
                source: PageSource::TextLayer,
                confidence: None,
                blocks: vec![BlockView {
                    bbox: [0.1176, 0.0712, 0.3468, 0.0871],
                    lines: vec![line(
                        vec![
                            w("INVOICE", [0.1176, 0.0712, 0.2471, 0.0871]),
                            w("2026-117", [0.2578, 0.0712, 0.3468, 0.0871]),
                        ],
                        [0.1176, 0.0712, 0.3468, 0.0871],
                    )],
                }],
            }],
            ocr_page_limit: MAX_OCR_PAGES,
            next_pages: Some("2-2".to_owned()),
        }
    }
}

/// The range `pages` asks for, within a document of `count` pages.
fn page_range(pages: Option<&str>, count: u32) -> Result<(u32, u32), ApiError> {
    let bad = |detail: String| ApiError::new(ErrorCode::InvalidParameter, detail);
    let (first, last) = match pages {
        None => (1, DEFAULT_PAGES.min(count.max(1))),
        Some(raw) => {
            let number = |s: &str| {
                s.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                    bad(format!("pages: {raw:?} is not a page or a range like 1-20"))
                })
            };
            match raw.split_once('-') {
                Some((a, b)) => (number(a)?, number(b)?),
                None => {
                    let n = number(raw)?;
                    (n, n)
                }
            }
        }
    };
    if first > last {
        return Err(bad(format!(
            "pages: the range {first}-{last} ends before it starts"
        )));
    }
    if last - first >= MAX_PAGES_PER_REQUEST {
        return Err(bad(format!(
            "pages: at most {MAX_PAGES_PER_REQUEST} pages at once ({first}-{last} asks for {})",
            last - first + 1
        )));
    }
    if first > count.max(1) {
        return Err(bad(format!(
            "pages: the document has {count} page{}",
            if count == 1 { "" } else { "s" }
        )));
    }
    Ok((first, last.min(count.max(1))))
}

/// Get a document's layout
///
/// Its pages, and on each the blocks, lines and words of its text in reading order, every
/// one with its box on the page; for words read by OCR, Tesseract's confidence. From the
/// PDF's text layer, or from OCR for images, TIFF pages and scanned PDFs. Text documents
/// have none. Long documents come a range of pages at a time (`pages`).
#[utoipa::path(
    get,
    path = "/documents/{id}/layout",
    tag = "documents",
    security(("api_key" = ["documents:read"])),
    params(("id" = uuid::Uuid, Path, description = "The document id.", example = json!(EXAMPLE_ID), max_length = 36), LayoutParams),
    responses(
        (status = 200, description = "The pages asked for.", body = DocumentLayout,
            example = json!(DocumentLayout::example())),
        (status = 404, description = "No such document, or it has no layout (the detail says why)."),
    ),
    extensions(("x-problem-codes" = json!([
        "invalid_id", "invalid_parameter", "not_found", "not_processed", "processing_failed"
    ]))),
)]
async fn get_document_layout(
    State(state): State<AppState>,
    Auth(tenant, _): Auth<DocumentsRead>,
    IdPath(id): IdPath,
    Query(params): Query<LayoutParams>,
) -> Result<Json<DocumentLayout>, ApiError> {
    let doc = processed_document(&state, &tenant, id).await?;
    if doc.content_type == ContentType::Text {
        return Err(ApiError::NotFound(format!(
            "document {id} is text; text documents have no layout"
        )));
    }
    let count = doc
        .extracted
        .as_ref()
        .and_then(|e| e.page_count)
        .unwrap_or(1);
    let (first, last) = page_range(params.pages.as_deref(), count)?;
    let pages = state.backend.layout(tenant.id, id, first, last).await?;
    if pages.is_empty() {
        return Err(ApiError::NotFound(format!(
            "document {id} has no layout: it was processed before layouts were kept"
        )));
    }
    Ok(Json(DocumentLayout {
        document_id: id,
        page_count: count,
        pages: pages.into_iter().map(PageView::from).collect(),
        ocr_page_limit: MAX_OCR_PAGES,
        next_pages: (last < count).then(|| {
            let next = last + 1;
            format!("{next}-{}", count.min(next + (last - first)))
        }),
    }))
}

/// A PDF's bytes.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary, content_media_type = "application/pdf")]
pub struct PdfFile(#[allow(dead_code)] Vec<u8>);

/// Get a document's searchable PDF
///
/// For an image, a TIFF or a scanned PDF that OCR read: its pages as pictures with the
/// words OCR read laid over them as invisible text, so that a viewer's search, copy and
/// `pdftotext` find them. The document's `metadata.searchable_pdf` says whether it has
/// one.
#[utoipa::path(
    get,
    path = "/documents/{id}/searchable.pdf",
    tag = "documents",
    security(("api_key" = ["documents:read"])),
    params(("id" = uuid::Uuid, Path, description = "The document id.", example = json!(EXAMPLE_ID), max_length = 36)),
    responses(
        (status = 200, description = "The searchable PDF.", body = inline(PdfFile),
            content_type = "application/pdf"),
        (status = 404, description = "No such document, or it has no searchable PDF (the detail says why)."),
    ),
    extensions(("x-problem-codes" = json!([
        "invalid_id", "not_found", "not_processed", "processing_failed"
    ]))),
)]
async fn get_searchable_pdf(
    State(state): State<AppState>,
    Auth(tenant, _): Auth<DocumentsRead>,
    IdPath(id): IdPath,
) -> Result<Response, ApiError> {
    let doc = processed_document(&state, &tenant, id).await?;
    match state.backend.searchable_pdf(&doc).await? {
        Some(pdf) => Ok((
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            )],
            pdf,
        )
            .into_response()),
        None => Err(ApiError::NotFound(format!(
            "document {id} has no searchable PDF: only images and scans that OCR read have one{}",
            match doc.content_type {
                ContentType::Text => " (it is text)",
                ContentType::Pdf => " (its pages have a text layer, or OCR is unavailable)",
                _ => " (OCR is unavailable on this server)",
            }
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_ranges() {
        assert_eq!(page_range(None, 3).unwrap(), (1, 3));
        assert_eq!(page_range(None, 500).unwrap(), (1, 20));
        assert_eq!(page_range(Some("2"), 3).unwrap(), (2, 2));
        assert_eq!(page_range(Some("2-9"), 3).unwrap(), (2, 3));
        assert_eq!(page_range(Some("101-200"), 500).unwrap(), (101, 200));
        for (bad, says) in [
            ("0", "not a page"),
            ("3-2", "ends before it starts"),
            ("1-101", "at most 100 pages"),
            ("4", "has 3 pages"),
            ("1-", "not a page"),
            ("-1", "not a page"),
            ("a-b", "not a page"),
            ("99999999999", "not a page"),
        ] {
            let e = page_range(Some(bad), 3).unwrap_err();
            assert!(format!("{e:?}").contains(says), "{bad}: {e:?}");
        }
    }
}
