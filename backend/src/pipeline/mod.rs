//! The processing pipeline: bytes of a stored document in, extracted text, metadata,
//! thumbnail and classification out. Synchronous and CPU-bound: the job runner calls it
//! on a blocking thread and decides where bytes come from and results go.

mod images;
mod pdf;
pub mod sniff;
pub mod tools;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::classify::Model;
use crate::model::{Classification, ContentType, Extracted};
pub use images::{MAX_PIXELS, THUMBNAIL_SIZE};
pub use tools::Tools;

/// OCR reads at most this many pages of a scanned PDF.
pub const MAX_OCR_PAGES: u32 = 20;

/// What the pipeline may use.
#[derive(Debug, Clone)]
pub struct Context {
    pub tools: Tools,
    pub model: Option<Arc<Model>>,
    /// Deadline for one document's processing (OCR and rendering are killed past it).
    pub timeout: Duration,
}

impl Context {
    /// Only what is built in: no external tools, no classifier.
    pub fn bare() -> Self {
        Self {
            tools: Tools::none(),
            model: None,
            timeout: Duration::from_secs(60),
        }
    }
}

/// The result of processing one document.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Processed {
        text: String,
        extracted: Extracted,
        warnings: Vec<String>,
        thumbnail: Option<Vec<u8>>,
        classification: Option<Classification>,
    },
    /// The document could not be processed; the reason is shown to its owner.
    Failed { reason: String },
}

pub const OCR_UNAVAILABLE: &str = "ocr_unavailable";
pub const THUMBNAIL_UNAVAILABLE: &str = "thumbnail_unavailable";

struct Stages {
    text: String,
    pages: Option<u32>,
    thumbnail: Option<Vec<u8>>,
    warnings: Vec<String>,
}

fn pdf_stages(ctx: &Context, bytes: &[u8], deadline: Instant) -> Result<Stages, String> {
    let pdf = pdf::extract(bytes)?;
    let mut warnings = Vec::new();
    let mut text = pdf.text;
    let mut thumbnail = None;
    if text.trim().is_empty() {
        // No text layer: a scan. OCR its pages if the tools are here.
        let last = pdf.pages.min(MAX_OCR_PAGES);
        match (
            ctx.tools.tesseract.is_some(),
            ctx.tools.render_pdf(bytes, 1, last, 2000, deadline),
        ) {
            (true, Some(pages)) => {
                let pages = pages?;
                // The first page is rendered anyway: its thumbnail comes for free.
                if let Some(first) = pages.first() {
                    thumbnail = images::decode(first)
                        .and_then(|i| images::thumbnail(&i))
                        .ok();
                }
                let mut parts = Vec::new();
                for page in pages {
                    if let Some(r) = ctx.tools.ocr(&page, deadline) {
                        parts.push(r?);
                    }
                }
                text = parts.join("\n").trim().to_owned();
            }
            _ => warnings.push(OCR_UNAVAILABLE.to_owned()),
        }
    }
    // Otherwise a PDF's thumbnail is rendered on first request (rendering costs a
    // subprocess, ~25 ms, which `processed` should not wait for).
    if ctx.tools.pdftoppm.is_none() {
        warnings.push(THUMBNAIL_UNAVAILABLE.to_owned());
    }
    Ok(Stages {
        text,
        pages: Some(pdf.pages),
        thumbnail,
        warnings,
    })
}

/// The first page of a PDF as a thumbnail PNG, `None` when PDFs cannot be rendered here.
pub fn render_pdf_thumbnail(ctx: &Context, bytes: &[u8]) -> Option<Result<Vec<u8>, String>> {
    let deadline = Instant::now() + ctx.timeout;
    ctx.tools
        .render_pdf(bytes, 1, 1, THUMBNAIL_SIZE, deadline)
        .map(|r| r.and_then(|mut pages| pages.pop().ok_or_else(|| "no page rendered".to_owned())))
}

fn image_stages(ctx: &Context, bytes: &[u8], deadline: Instant) -> Result<Stages, String> {
    let img = images::decode(bytes)?;
    let thumbnail = Some(images::thumbnail(&img)?);
    drop(img);
    let mut warnings = Vec::new();
    let text = match ctx.tools.ocr(bytes, deadline) {
        Some(r) => r?.trim().to_owned(),
        None => {
            warnings.push(OCR_UNAVAILABLE.to_owned());
            String::new()
        }
    };
    Ok(Stages {
        text,
        pages: None,
        thumbnail,
        warnings,
    })
}

/// Runs every stage for one document.
pub fn process(ctx: &Context, content_type: ContentType, bytes: &[u8]) -> Outcome {
    let deadline = Instant::now() + ctx.timeout;
    let stages = match content_type {
        ContentType::Pdf => pdf_stages(ctx, bytes, deadline),
        ContentType::Png | ContentType::Jpeg => image_stages(ctx, bytes, deadline),
        ContentType::Text => std::str::from_utf8(bytes)
            .map(|s| Stages {
                text: s.to_owned(),
                pages: None,
                thumbnail: None,
                warnings: Vec::new(),
            })
            .map_err(|e| format!("text is not valid UTF-8: {e}")),
    };
    let Stages {
        text,
        pages,
        thumbnail,
        warnings,
    } = match stages {
        Ok(s) => s,
        Err(reason) => return Outcome::Failed { reason },
    };
    let language = whatlang::detect(&text)
        .filter(|info| info.is_reliable())
        .map(|info| info.lang().code().to_owned());
    let classification =
        ctx.model
            .as_ref()
            .and_then(|m| m.classify(&text))
            .map(|p| Classification {
                label: p.label,
                confidence: p.confidence,
                model_version: p.model_version,
            });
    let extracted = Extracted {
        page_count: pages,
        word_count: text.split_whitespace().count() as u64,
        char_count: text.chars().count() as u64,
        language,
    };
    Outcome::Processed {
        text,
        extracted,
        warnings,
        thumbnail,
        classification,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn processed(
        o: Outcome,
    ) -> (
        String,
        Extracted,
        Vec<String>,
        Option<Vec<u8>>,
        Option<Classification>,
    ) {
        match o {
            Outcome::Processed {
                text,
                extracted,
                warnings,
                thumbnail,
                classification,
            } => (text, extracted, warnings, thumbnail, classification),
            Outcome::Failed { reason } => panic!("failed: {reason}"),
        }
    }

    #[test]
    fn text_documents_count_words_and_detect_language() {
        let (text, extracted, _, thumb, _) = processed(process(
            &Context::bare(),
            ContentType::Text,
            "Invoice  no. 42\nTotal: 10 €. Payment is due within thirty days of the invoice date."
                .as_bytes(),
        ));
        assert!(text.starts_with("Invoice  no. 42"));
        assert_eq!(extracted.word_count, 16);
        assert_eq!(extracted.page_count, None);
        assert_eq!(extracted.language.as_deref(), Some("eng"));
        assert!(thumb.is_none());
    }

    #[test]
    fn without_tools_images_warn_instead_of_silently_returning_nothing() {
        let mut png = Vec::new();
        image::DynamicImage::new_rgb8(600, 300)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let (text, _, warnings, thumb, _) =
            processed(process(&Context::bare(), ContentType::Png, &png));
        assert_eq!(text, "");
        assert_eq!(warnings, vec![OCR_UNAVAILABLE.to_owned()]);
        let thumb = image::load_from_memory(&thumb.unwrap()).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (256, 128));
    }

    #[test]
    fn the_default_model_classifies() {
        let ctx = Context {
            model: Some(Arc::new(Model::default_model().unwrap())),
            ..Context::bare()
        };
        let (_, _, _, _, c) = processed(process(
            &ctx,
            ContentType::Text,
            b"INVOICE\nInvoice number: INV-1\nTotal due: 120.00 EUR\nPayment terms: net 30 days",
        ));
        let c = c.unwrap();
        assert_eq!(c.label, "invoice");
        assert!(c.confidence > 0.5 && c.confidence <= 1.0);
        assert!(c.model_version.starts_with("nb-1-"));
    }

    #[test]
    fn hostile_images_fail_with_a_reason() {
        for bytes in [
            &b""[..],
            b"\x89PNG\r\n\x1a\n\0\0",
            b"\xFF\xD8\xFF\xE0\0\x10JFIF\0garbage",
        ] {
            match process(&Context::bare(), ContentType::Png, bytes) {
                Outcome::Failed { reason } => assert!(reason.contains("image"), "{reason}"),
                other => panic!("expected failure, got {other:?}"),
            }
        }
    }
}
