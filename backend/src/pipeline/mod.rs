//! The processing pipeline: bytes of a stored document in, extracted text, metadata,
//! thumbnail and classification out. Synchronous and CPU-bound: the job runner calls it
//! on a blocking thread and decides where bytes come from and results go.

mod images;
pub mod layout;
mod pdf;
pub mod privileges;
pub mod render;
pub mod sandbox;
pub mod searchable;
pub mod sniff;
pub mod tesseract;
mod tiff;
pub mod tools;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::classify::Model;
use crate::layout::{OcrConfidence, Page, Unit};
use crate::model::{Classification, ContentType, Extracted};
pub use images::{MAX_PIXELS, THUMBNAIL_SIZE};
pub use tools::Tools;

/// OCR reads at most this many pages of a scanned PDF or a TIFF.
pub const MAX_OCR_PAGES: u32 = 20;
/// An image of unknown resolution is taken to be scanned at this many dots per inch
/// (the size of its page in a searchable PDF).
pub const ASSUMED_DPI: f32 = 150.0;

/// What parsing one document may consume. The parser process gets `memory_bytes` as its
/// address-space limit from the kernel; the budgets below are checked by the parsers, so
/// that the usual bombs fail with a precise reason well before the kernel steps in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Address space of the parser process (`RLIMIT_AS`), and of the OCR and rendering
    /// programs it starts.
    pub memory_bytes: u64,
    /// Total bytes a document's compressed parts may inflate to: PDF streams, decoded
    /// image pixels.
    pub max_inflated_bytes: u64,
    /// Longest text a document may yield.
    pub max_text_bytes: u64,
    /// Time rendering a PDF's first page as its thumbnail may take, hayro and the
    /// pdftoppm fallback together (pdftoppm is stopped past it; hayro cannot be, and its
    /// parser process is killed). A page can be small in bytes and very slow to draw;
    /// rendering time is what such a page costs.
    pub max_render_ms: u64,
}

impl Limits {
    /// [`Self::max_render_ms`] as a duration.
    pub fn max_render(&self) -> Duration {
        Duration::from_millis(self.max_render_ms)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_bytes: 1024 << 20,
            max_inflated_bytes: 256 << 20,
            max_text_bytes: 64 << 20,
            max_render_ms: 10_000,
        }
    }
}

/// Where untrusted bytes are parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Isolation {
    /// In a short-lived child process (`program __parse …`) under kernel limits, killed at
    /// the deadline: a crash, a hang or a bomb fails that one document and nothing else.
    /// `program` must be a binary that hands `__parse` to [`sandbox::child_main`], as the
    /// `docintel` binary does.
    Process { program: PathBuf },
    /// On a thread of this process: no protection from hostile documents (a stack
    /// overflow kills the process). For tests of the pipeline itself and for trusted
    /// input only. A job interrupted by a process death is failed, not run again here.
    InProcess,
}

impl Isolation {
    /// Parsing in child processes of the running executable.
    pub fn this_program() -> std::io::Result<Self> {
        Ok(Self::Process {
            program: std::env::current_exe()?,
        })
    }
}

/// What the pipeline may use.
#[derive(Debug, Clone)]
pub struct Context {
    pub tools: Tools,
    pub model: Option<Arc<Model>>,
    /// Deadline for one document's processing (OCR and rendering are killed past it).
    pub timeout: Duration,
    pub limits: Limits,
    pub isolation: Isolation,
    /// The fork server of parser children (with [`Isolation::Process`]).
    pub zygote: Arc<sandbox::Zygote>,
}

impl Context {
    /// Only what is built in: no external tools, no classifier, parsing in this process.
    pub fn bare() -> Self {
        Self {
            tools: Tools::none(),
            model: None,
            timeout: Duration::from_secs(60),
            limits: Limits::default(),
            isolation: Isolation::InProcess,
            zygote: Arc::new(sandbox::Zygote::none()),
        }
    }
}

/// The result of processing one document.
#[derive(Debug, Clone, PartialEq)]
// One per job, moved a few times: boxing the large variant would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Outcome {
    Processed {
        text: String,
        extracted: Extracted,
        warnings: Vec<String>,
        thumbnail: Option<Vec<u8>>,
        classification: Option<Classification>,
        /// Every page, with its words (none for a text document).
        layout: Vec<Page>,
        /// For images and scans that OCR read: the pages with their words searchable.
        searchable_pdf: Option<Vec<u8>>,
    },
    /// The document could not be processed; the reason is shown to its owner.
    Failed { reason: String },
}

pub const OCR_UNAVAILABLE: &str = "ocr_unavailable";
pub const THUMBNAIL_UNAVAILABLE: &str = "thumbnail_unavailable";

/// What the parsers made of a document's bytes: everything that touches untrusted
/// input, and what runs in the parser process.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Extraction {
    pub text: String,
    pub pages: Option<u32>,
    pub thumbnail: Option<Vec<u8>>,
    pub warnings: Vec<String>,
    /// OCR still to do, by a process allowed to run Tesseract: the pages of a scanned PDF
    /// to read (an image: 1).
    pub ocr: Option<u32>,
    /// The walls the parser child worked behind.
    pub walls: sandbox::Walls,
    /// Every page with its words (for a scan, once OCR has read them).
    pub layout: Vec<Page>,
    /// The searchable PDF OCR wrote, for images and scans.
    pub searchable_pdf: Option<Vec<u8>>,
}

impl Limits {
    /// The most bytes a document's layout may take (as JSON; about eight times its
    /// text): past it, pages keep their size but no words.
    pub fn max_layout_bytes(&self) -> u64 {
        self.max_text_bytes
    }
}

fn pdf_stages(tools: &Tools, limits: &Limits, bytes: &[u8]) -> Result<Extraction, String> {
    let pdf = pdf::extract(bytes, limits.max_inflated_bytes, limits.max_layout_bytes())?;
    let mut warnings = Vec::new();
    let mut ocr = None;
    if pdf.text.trim().is_empty() {
        // No text layer: a scan. Its pages are read by OCR if the tools are here.
        if tools.tesseract.is_some() && tools.pdftoppm.is_some() {
            ocr = Some(pdf.pages.min(MAX_OCR_PAGES));
        } else {
            warnings.push(OCR_UNAVAILABLE.to_owned());
        }
    }
    // Otherwise a PDF's thumbnail is rendered on first request (by hayro in this
    // process, else pdftoppm): `processed` does not wait for a page to be drawn.
    Ok(Extraction {
        text: pdf.text,
        pages: Some(pdf.pages),
        warnings,
        ocr,
        layout: pdf.layout,
        ..Extraction::default()
    })
}

/// OCR of an image, of the first `pages` pages of a TIFF, or of a scanned PDF (whose first
/// page is then also the thumbnail): what runs Tesseract and pdftoppm, in a child allowed
/// to. Gives the pages' words, their text, and a searchable PDF of them.
pub fn ocr(
    tools: &Tools,
    limits: &Limits,
    content_type: ContentType,
    pages: u32,
    bytes: &[u8],
    deadline: Instant,
) -> Result<Extraction, String> {
    if tools.tesseract.is_none() {
        return Err("OCR is not available here".to_owned());
    }
    let budget = limits.max_inflated_bytes;
    let at_dpi = |img: &image::DynamicImage| {
        let scale = 72.0 / ASSUMED_DPI;
        (img.width() as f32 * scale, img.height() as f32 * scale)
    };
    let mut pdf = searchable::Builder::new();
    let mut layout = Vec::new();
    let mut thumbnail = None;
    // Reads one page's picture (`image`, decoded, as the engine takes it; `encoded`, as the
    // Tesseract program does, when there is an encoding) and adds it to the searchable PDF
    // at `size` points (`None`: an image, whose resolution is not known).
    let mut read = |number: u32,
                    image: &image::DynamicImage,
                    encoded: Option<&[u8]>,
                    size: Option<(f32, f32)>|
     -> Result<(), String> {
        let tsv = match tools.ocr_engine() {
            Some(engine) => {
                // A page is rendered with its longest side a known number of pixels.
                let dpi = size.map(|(w, h)| {
                    (image.width().max(image.height()) as f32 * 72.0 / w.max(h).max(1.0)).round()
                        as u32
                });
                engine.tsv(image, dpi, deadline)?
            }
            None => {
                let png;
                let encoded = match encoded {
                    Some(bytes) => bytes,
                    None => {
                        png = images::png(image)?;
                        &png
                    }
                };
                tools
                    .ocr_tsv(encoded, deadline)
                    .unwrap_or_else(|| Err("OCR is not available here".to_owned()))?
            }
        };
        let size = size.unwrap_or_else(|| at_dpi(image));
        let page = layout::page_from_tsv(&tsv, number);
        pdf.add_page(image, &page, size.0, size.1)?;
        layout.push(page);
        Ok(())
    };
    match content_type {
        ContentType::Png | ContentType::Jpeg => {
            let img = images::decode(bytes, budget)?;
            read(1, &img, Some(bytes), None)?;
        }
        ContentType::Tiff => {
            tiff::for_each_page(bytes, pages, budget, |n, img| read(n, &img, None, None))?
        }
        ContentType::Pdf => {
            let sizes = pdf::page_sizes(bytes, budget)?;
            let rendered = tools
                .render_pdf(bytes, 1, pages, 2000, deadline)
                .unwrap_or_else(|| Err("PDF rendering (pdftoppm) is not installed".to_owned()))?;
            let mut left = budget;
            for (i, png) in rendered.iter().enumerate() {
                let img = images::decode(png, left)?;
                left = left.saturating_sub(u64::from(img.width()) * u64::from(img.height()));
                if i == 0 {
                    // The first page is rendered anyway: its thumbnail comes for free.
                    thumbnail = images::thumbnail(&img).ok();
                }
                read(i as u32 + 1, &img, Some(png), sizes.get(i).copied())?;
            }
        }
        ContentType::Text => return Err("a text document has nothing to read".to_owned()),
    }
    let text = layout
        .iter()
        .map(Page::text)
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n");
    let searchable_pdf = Some(pdf.finish()?);
    within_text_limit(
        Extraction {
            text,
            thumbnail,
            layout,
            searchable_pdf,
            ..Extraction::default()
        },
        limits,
    )
}

/// The first page of a PDF as a thumbnail PNG: drawn by hayro in this process, else by
/// pdftoppm when it is installed (hayro refuses or fails on the document); an error says
/// why each renderer tried failed. Rendering stops at `deadline` or past the render
/// budget, whichever comes first.
pub fn pdf_thumbnail(
    tools: &Tools,
    limits: &Limits,
    bytes: &[u8],
    deadline: Instant,
) -> Result<Vec<u8>, String> {
    let deadline = deadline.min(Instant::now() + limits.max_render());
    let built_in = match render::first_page_png(bytes, limits, deadline) {
        Ok(png) => return Ok(png),
        Err(e) => e,
    };
    let Some(fallback) = first_page_by_pdftoppm(tools, limits, bytes, deadline) else {
        return Err(built_in);
    };
    tracing::info!(error = %built_in, "hayro could not render a PDF; trying pdftoppm");
    fallback.map_err(|e| format!("{built_in}; {e}"))
}

/// The first page of a PDF as a thumbnail PNG drawn by pdftoppm (`None`: not installed).
pub fn first_page_by_pdftoppm(
    tools: &Tools,
    limits: &Limits,
    bytes: &[u8],
    deadline: Instant,
) -> Option<Result<Vec<u8>, String>> {
    let deadline = deadline.min(Instant::now() + limits.max_render());
    tools
        .render_pdf(bytes, 1, 1, THUMBNAIL_SIZE, deadline)
        .map(|r| r.and_then(|mut pages| pages.pop().ok_or_else(|| "no page rendered".to_owned())))
}

fn image_stages(
    tools: &Tools,
    limits: &Limits,
    content_type: ContentType,
    bytes: &[u8],
) -> Result<Extraction, String> {
    let img = images::decode(bytes, limits.max_inflated_bytes)?;
    let thumbnail = Some(images::thumbnail(&img)?);
    let (w, h) = (img.width(), img.height());
    drop(img);
    let (pages, layout) = if content_type == ContentType::Tiff {
        let sizes = tiff::page_sizes(bytes, limits.max_inflated_bytes)?;
        let layout = sizes
            .iter()
            .zip(1..)
            .map(|(&(w, h), n)| Page::empty(n, w as f32, h as f32, Unit::Px, 0))
            .collect();
        (sizes.len() as u32, layout)
    } else {
        (1, vec![Page::empty(1, w as f32, h as f32, Unit::Px, 0)])
    };
    let (ocr, warnings) = match tools.tesseract {
        Some(_) => (Some(pages.min(MAX_OCR_PAGES)), Vec::new()),
        None => (None, vec![OCR_UNAVAILABLE.to_owned()]),
    };
    Ok(Extraction {
        thumbnail,
        warnings,
        ocr,
        pages: (content_type == ContentType::Tiff).then_some(pages),
        layout,
        ..Extraction::default()
    })
}

/// Parses one document's bytes: the part of processing that reads untrusted input, and
/// what the parser child runs behind its strictest walls. OCR, which runs Tesseract, is
/// left to [`ocr`] (the `ocr` field says what to read).
pub fn extract(
    tools: &Tools,
    limits: &Limits,
    content_type: ContentType,
    bytes: &[u8],
) -> Result<Extraction, String> {
    let extraction = match content_type {
        ContentType::Pdf => pdf_stages(tools, limits, bytes),
        ContentType::Png | ContentType::Jpeg | ContentType::Tiff => {
            image_stages(tools, limits, content_type, bytes)
        }
        ContentType::Text => std::str::from_utf8(bytes)
            .map(|s| Extraction {
                text: s.to_owned(),
                ..Extraction::default()
            })
            .map_err(|e| format!("text is not valid UTF-8: {e}")),
    }?;
    within_text_limit(extraction, limits)
}

fn within_text_limit(extraction: Extraction, limits: &Limits) -> Result<Extraction, String> {
    if extraction.text.len() as u64 > limits.max_text_bytes {
        return Err(format!(
            "the document could not be parsed: its text is longer than the {} MiB limit",
            limits.max_text_bytes / (1024 * 1024)
        ));
    }
    Ok(extraction)
}

/// What OCR read, added to what parsing found: the text, and each OCR'd page's words in
/// place of the page that had none (keeping its size as the document states it; a page
/// shown rotated by a quarter turn is described as shown, as OCR read it).
fn with_ocr(mut extraction: Extraction, ocr: Extraction) -> Extraction {
    extraction.text = ocr.text;
    extraction.thumbnail = extraction.thumbnail.or(ocr.thumbnail);
    extraction.ocr = None;
    extraction.searchable_pdf = ocr.searchable_pdf;
    for read in ocr.layout {
        let Some(page) = extraction
            .layout
            .iter_mut()
            .find(|p| p.number == read.number)
        else {
            continue;
        };
        let (w, h) = if page.rotation % 180 == 90 {
            (page.height, page.width)
        } else {
            (page.width, page.height)
        };
        *page = Page {
            width: w,
            height: h,
            unit: page.unit,
            rotation: 0,
            ..read
        };
    }
    extraction
}

/// Characters of a text its language is detected from.
const LANGUAGE_SAMPLE_CHARS: usize = 2_000;

/// Language and classification of extracted text: our own code over a bounded string,
/// run in the server.
pub fn finish(ctx: &Context, extraction: Extraction) -> Outcome {
    let Extraction {
        text,
        pages,
        thumbnail,
        warnings,
        layout,
        searchable_pdf,
        ..
    } = extraction;
    // A few thousand characters tell the language as well as the whole text does, and
    // the server's cost stays the same for a page and for a book.
    let sample = text
        .char_indices()
        .nth(LANGUAGE_SAMPLE_CHARS)
        .map_or(text.as_str(), |(end, _)| &text[..end]);
    let language = whatlang::detect(sample)
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
        ocr: OcrConfidence::of(&layout),
        // Set once the PDF is stored.
        searchable_pdf: false,
    };
    Outcome::Processed {
        text,
        extracted,
        warnings,
        thumbnail,
        classification,
        layout,
        searchable_pdf,
    }
}

/// Runs every stage for one document on this thread, whatever `ctx.isolation` says.
pub fn process(ctx: &Context, content_type: ContentType, bytes: &[u8]) -> Outcome {
    let deadline = Instant::now() + ctx.timeout;
    let extracted =
        extract(&ctx.tools, &ctx.limits, content_type, bytes).and_then(|e| match e.ocr {
            Some(pages) => ocr(
                &ctx.tools,
                &ctx.limits,
                content_type,
                pages,
                bytes,
                deadline,
            )
            .map(|read| with_ocr(e, read)),
            None => Ok(e),
        });
    match extracted {
        Ok(extraction) => finish(ctx, extraction),
        Err(reason) => Outcome::Failed { reason },
    }
}

/// Parses a document in forked children: one behind the strictest walls, and, for a scan or
/// an image, a second one allowed to run the OCR tools, within the job's time together.
async fn extract_in_children(
    program: &std::path::Path,
    ctx: &Context,
    content_type: ContentType,
    bytes: Vec<u8>,
) -> Result<Extraction, String> {
    let started = tokio::time::Instant::now();
    let task = sandbox::Task::Extract { content_type };
    // The bytes go to the first child and, for OCR, again to the second (not copied).
    let bytes = bytes::Bytes::from(bytes);
    let extraction = sandbox::run(program, ctx, task, bytes.clone()).await?;
    let Some(pages) = extraction.ocr else {
        return Ok(extraction);
    };
    let ctx = Context {
        timeout: ctx.timeout.saturating_sub(started.elapsed()),
        ..ctx.clone()
    };
    let task = sandbox::Task::Ocr {
        content_type,
        pages,
    };
    let read = sandbox::run(program, &ctx, task, bytes).await?;
    Ok(with_ocr(extraction, read))
}

/// Processes one document where `ctx.isolation` says, within `ctx.timeout`.
pub async fn run(ctx: Arc<Context>, content_type: ContentType, bytes: Vec<u8>) -> Outcome {
    let limit = ctx.timeout;
    match &ctx.isolation {
        Isolation::Process { program } => {
            match extract_in_children(program, &ctx, content_type, bytes).await {
                Ok(extraction) => {
                    let ctx = ctx.clone();
                    tokio::task::spawn_blocking(move || finish(&ctx, extraction))
                        .await
                        .unwrap_or_else(|e| Outcome::Failed {
                            reason: format!("classification failed: {e}"),
                        })
                }
                Err(reason) => Outcome::Failed { reason },
            }
        }
        Isolation::InProcess => {
            let run = tokio::task::spawn_blocking(move || process(&ctx, content_type, &bytes));
            // Subprocesses stop at the pipeline's own deadline; this one also bounds
            // pure-Rust parsing, whose thread cannot be stopped but whose result is then
            // ignored.
            match tokio::time::timeout(limit + Duration::from_secs(1), run).await {
                Ok(Ok(outcome)) => outcome,
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "pipeline panicked");
                    Outcome::Failed {
                        reason: sandbox::CRASHED.to_owned(),
                    }
                }
                Err(_) => Outcome::Failed {
                    reason: sandbox::too_slow(limit),
                },
            }
        }
    }
}

/// Why a thumbnail was not rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderFailure {
    /// The document's page cannot be rendered within the limits: trying again would fail
    /// the same way.
    Document(String),
    /// The server could not try (no parser process could be started).
    Server(String),
}

/// A PDF's first page as a thumbnail PNG, rendered where `ctx.isolation` says, within
/// the render budget.
pub async fn render_thumbnail(ctx: Arc<Context>, bytes: Vec<u8>) -> Result<Vec<u8>, RenderFailure> {
    // Rendering is all a thumbnail's parser does: it gets the render budget, not the
    // whole job's time.
    let timeout = ctx.timeout.min(ctx.limits.max_render());
    match &ctx.isolation {
        Isolation::Process { program } => {
            let started = tokio::time::Instant::now();
            let ctx = Context {
                timeout,
                ..Context::clone(&ctx)
            };
            let bytes = bytes::Bytes::from(bytes);
            // hayro, behind the strictest walls; pdftoppm (a program to run) in a second
            // child allowed to, only for what hayro could not draw.
            let task = sandbox::Task::Thumbnail;
            let built_in = match drawn_in_child(program, &ctx, task, bytes.clone()).await? {
                Ok(png) => return Ok(png),
                Err(e) => e,
            };
            let left = timeout.saturating_sub(started.elapsed());
            if ctx.tools.pdftoppm.is_none() || left.is_zero() {
                return Err(RenderFailure::Document(built_in));
            }
            tracing::info!(error = %built_in, "hayro could not render a PDF; trying pdftoppm");
            let ctx = Context {
                timeout: left,
                ..ctx.clone()
            };
            let task = sandbox::Task::RenderFirstPage;
            drawn_in_child(program, &ctx, task, bytes)
                .await?
                .map_err(|e| RenderFailure::Document(format!("{built_in}; {e}")))
        }
        Isolation::InProcess => tokio::task::spawn_blocking(move || {
            pdf_thumbnail(&ctx.tools, &ctx.limits, &bytes, Instant::now() + timeout)
        })
        .await
        .map_err(|e| format!("thumbnail rendering crashed: {e}"))
        .and_then(|r| r)
        .map_err(RenderFailure::Document),
    }
}

/// The thumbnail `task` draws in a parser child; `Err` when no child could be started.
async fn drawn_in_child(
    program: &std::path::Path,
    ctx: &Context,
    task: sandbox::Task,
    bytes: bytes::Bytes,
) -> Result<Result<Vec<u8>, String>, RenderFailure> {
    let outcome = sandbox::run_started(program, ctx, task, bytes)
        .await
        .map_err(RenderFailure::Server)?;
    Ok(outcome.and_then(|e| e.thumbnail.ok_or_else(|| "no page rendered".to_owned())))
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
                ..
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
    fn the_language_is_told_by_the_texts_start() {
        // English for the first 2,000 characters, then ten times as much German: the
        // whole text would read as German.
        let english = "Payment is due within thirty days of the invoice date. ".repeat(40);
        let german = "Die Zahlung ist innerhalb von dreißig Tagen nach dem Rechnungsdatum fällig. "
            .repeat(300);
        let text = format!("{english}{german}");
        assert!(english.chars().count() >= LANGUAGE_SAMPLE_CHARS);
        let language = |text: &str| {
            processed(process(
                &Context::bare(),
                ContentType::Text,
                text.as_bytes(),
            ))
            .1
            .language
        };
        assert_eq!(language(&text).as_deref(), Some("eng"));
        assert_eq!(language(&german).as_deref(), Some("deu"));
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
        assert!(c.model_version.starts_with("lr-2-"));
    }

    #[test]
    fn a_thumbnail_render_stops_at_the_render_budget() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let slow = dir.path().join("pdftoppm.sh");
        std::fs::write(&slow, "#!/bin/sh\nexec sleep 30\n").unwrap();
        std::fs::set_permissions(&slow, std::fs::Permissions::from_mode(0o755)).unwrap();
        let tools = Tools {
            tesseract: None,
            pdftoppm: Some(slow),
            ocr_library: false,
        };
        let limits = Limits {
            max_render_ms: 100,
            ..Limits::default()
        };
        // The job's deadline is far off; the render budget is what stops it.
        let far = Instant::now() + Duration::from_secs(3600);
        let e = pdf_thumbnail(&tools, &limits, b"%PDF-1.4", far).unwrap_err();
        // hayro refused it first; pdftoppm was the fallback, and was stopped.
        assert_eq!(
            e,
            "PDF rendering (hayro) failed: unreadable PDF (Invalid); \
             PDF rendering (pdftoppm) did not finish in time and was stopped"
        );
    }

    #[test]
    fn hayro_draws_first_and_pdftoppm_is_only_the_fallback() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("ran");
        let fake = dir.path().join("pdftoppm.sh");
        std::fs::write(
            &fake,
            format!(
                "#!/bin/sh
touch {}
exit 1
",
                marker.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let tools = Tools {
            tesseract: None,
            pdftoppm: Some(fake),
            ocr_library: false,
        };
        let soon = Instant::now() + Duration::from_secs(30);
        let png = pdf_thumbnail(
            &tools,
            &Limits::default(),
            include_bytes!("warmup.pdf"),
            soon,
        )
        .unwrap();
        assert!(image::load_from_memory(&png).is_ok());
        assert!(
            !marker.exists(),
            "pdftoppm was started for a page hayro drew"
        );
        let refused = render::tests::refused_by_hayro();
        let e = pdf_thumbnail(&tools, &Limits::default(), &refused, soon).unwrap_err();
        assert!(
            marker.exists(),
            "pdftoppm was not tried after hayro refused"
        );
        assert!(e.starts_with("PDF rendering (hayro) refused it"), "{e}");
        // Without pdftoppm, hayro's reason is the whole answer.
        let e = pdf_thumbnail(&Tools::none(), &Limits::default(), &refused, soon).unwrap_err();
        assert!(!e.contains("pdftoppm"), "{e}");
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
