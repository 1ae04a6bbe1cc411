//! Layout quality against the corpus truth (`benches/layout/corpus/`): word boxes from
//! the text layer, and from OCR of the same pages rendered with noise, scored per
//! document; shared by `tests/layout_quality.rs` and `examples/layout_quality.rs`.
//!
//! - **Text layer**: a truth word counts when a word of the layout has its exact text and
//!   a box with IoU ≥ 0.8.
//! - **OCR**: boxes and words scored apart. A truth word's box counts when the OCR word
//!   overlapping it most has IoU ≥ 0.5 (Tesseract's boxes hug the ink, the truth spans
//!   the font's ascent to descent); it is read right when that word's text is the truth's
//!   (word accuracy).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use docintel_backend::layout::{Page, iou};
use docintel_backend::model::ContentType;
use docintel_backend::pipeline::{self, Limits, Tools, searchable};
use serde_json::Value;

pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/layout/corpus")
}

/// A document of the corpus and its truth.
pub struct Doc {
    pub name: String,
    pub pdf: Vec<u8>,
    pub truth: Value,
}

pub fn corpus() -> Vec<Doc> {
    let mut docs: Vec<Doc> = std::fs::read_dir(corpus_dir())
        .expect("the layout corpus")
        .filter_map(|e| {
            let path = e.ok()?.path();
            (path.extension()? == "pdf").then_some(path)
        })
        .map(|path| Doc {
            name: path.file_name().unwrap().to_string_lossy().into_owned(),
            pdf: std::fs::read(&path).unwrap(),
            truth: serde_json::from_str(
                &std::fs::read_to_string(path.with_extension("truth.json")).unwrap(),
            )
            .unwrap(),
        })
        .collect();
    docs.sort_by(|a, b| a.name.cmp(&b.name));
    docs
}

/// A truth word: its text and box.
fn truth_words(page: &Value) -> Vec<(&str, [f32; 4])> {
    page["words"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            let b: Vec<f32> = w["box"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
                .collect();
            (w["text"].as_str().unwrap(), [b[0], b[1], b[2], b[3]])
        })
        .collect()
}

/// Scores of one source over some pages.
#[derive(Debug, Default, Clone, Copy)]
pub struct Score {
    pub words: usize,
    /// Text layer: exact text and IoU ≥ 0.8. OCR: the best-overlapping word's IoU ≥ 0.5.
    pub boxes: usize,
    /// The best-overlapping word has the truth's text.
    pub read: usize,
    pub pages: usize,
    pub elapsed: Duration,
}

impl Score {
    pub fn add(&mut self, other: Score) {
        self.words += other.words;
        self.boxes += other.boxes;
        self.read += other.read;
        self.pages += other.pages;
        self.elapsed += other.elapsed;
    }
    pub fn box_share(&self) -> f64 {
        self.boxes as f64 / self.words.max(1) as f64
    }
    pub fn word_accuracy(&self) -> f64 {
        self.read as f64 / self.words.max(1) as f64
    }
    pub fn ms_per_page(&self) -> f64 {
        self.elapsed.as_secs_f64() * 1e3 / self.pages.max(1) as f64
    }
}

fn score_page(truth: &Value, page: &Page, text_layer: bool) -> Score {
    let got: Vec<_> = page.words().collect();
    let mut s = Score {
        pages: 1,
        ..Score::default()
    };
    for (text, tbox) in truth_words(truth) {
        s.words += 1;
        let best = got
            .iter()
            .map(|w| (iou(w.bbox, tbox), *w))
            .max_by(|a, b| a.0.total_cmp(&b.0));
        if text_layer {
            if got
                .iter()
                .any(|w| w.text == text && iou(w.bbox, tbox) >= 0.8)
            {
                s.boxes += 1;
            }
        } else if best.is_some_and(|(v, _)| v >= 0.5) {
            s.boxes += 1;
        }
        if best.is_some_and(|(v, w)| v > 0.0 && w.text == text) {
            s.read += 1;
        }
    }
    s
}

/// The median of `runs` timings of `f`.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            f();
            started.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

/// The text layer's layout of `doc`, scored; its time is the median of 5 extractions.
pub fn text_layer(doc: &Doc) -> Score {
    let extract = || {
        pipeline::extract(
            &Tools::none(),
            &Limits::default(),
            ContentType::Pdf,
            &doc.pdf,
        )
        .expect("extracts")
    };
    let e = extract();
    let elapsed = median(5, || {
        extract();
    });
    let mut total = Score::default();
    for (truth, page) in doc.truth["pages"].as_array().unwrap().iter().zip(&e.layout) {
        total.add(score_page(truth, page, true));
    }
    total.elapsed = elapsed;
    total
}

/// The baseline of [`text_layer`]'s time: the median of 5 extractions of the text alone
/// (lopdf's own load and pdf-extract's plain text output: no inflated-bytes budget, no
/// word boxes).
pub fn text_only(doc: &Doc) -> Duration {
    median(5, || {
        let pdf = lopdf::Document::load_mem(&doc.pdf).expect("loads");
        let mut text = String::new();
        pdf_extract::output_doc(&pdf, &mut pdf_extract::PlainTextOutput::new(&mut text))
            .expect("extracts");
    })
}

/// Deterministic noise of ±`amplitude` grey levels, as a scanner adds.
fn noisy(png: &[u8], amplitude: i32, seed: u64) -> image::DynamicImage {
    let mut img = image::load_from_memory(png).unwrap().to_luma8();
    let mut state = seed | 1;
    for p in img.pixels_mut() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let n = (state % (2 * amplitude as u64 + 1)) as i32 - amplitude;
        p.0[0] = (i32::from(p.0[0]) + n).clamp(0, 255) as u8;
    }
    image::DynamicImage::ImageLuma8(img)
}

/// What reads a page: Tesseract's library, loaded once (as the server's OCR children
/// do), or its program, started for the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    Library,
    Program,
}

/// The pages `pages` of `doc` rendered at `dpi` with noise, read by OCR and scored; also
/// the time to write their searchable PDF.
pub fn ocr(doc: &Doc, dpi: f32, pages: usize, by: Reader) -> (Score, Duration) {
    let tools = Tools::detect();
    assert!(
        tools.tesseract.is_some() && tools.pdftoppm.is_some(),
        "tesseract and pdftoppm are needed: apt install tesseract-ocr tesseract-ocr-eng poppler-utils"
    );
    // Loaded before the clock starts, as the OCR fork server loads it before any page.
    let engine = (by == Reader::Library)
        .then(|| pipeline::tesseract::load().expect("libtesseract is installed (tesseract-ocr)"));
    let mut total = Score::default();
    let mut writing = Duration::ZERO;
    for (i, truth) in doc.truth["pages"]
        .as_array()
        .unwrap()
        .iter()
        .take(pages)
        .enumerate()
    {
        let (w, h) = (
            truth["width"].as_f64().unwrap(),
            truth["height"].as_f64().unwrap(),
        );
        let longest = (w.max(h) / 72.0 * f64::from(dpi)).round() as u32;
        let n = i as u32 + 1;
        let deadline = Instant::now() + Duration::from_secs(120);
        let rendered = tools
            .render_pdf(&doc.pdf, n, n, longest, deadline)
            .unwrap()
            .unwrap()
            .remove(0);
        let img = noisy(&rendered, 24, u64::from(n) * 7919 + doc.name.len() as u64);
        let mut png = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let started = Instant::now();
        let tsv = match engine {
            Some(engine) => engine
                .tsv(&img, Some(dpi.round() as u32), deadline)
                .expect("OCR"),
            None => tools.ocr_tsv(&png, deadline).unwrap().expect("OCR"),
        };
        let page = pipeline::layout::page_from_tsv(&tsv, n);
        let elapsed = started.elapsed();
        let started = Instant::now();
        let mut pdf = searchable::Builder::new();
        pdf.add_page(&img, &page, w as f32, h as f32).unwrap();
        pdf.finish().unwrap();
        writing += started.elapsed();
        let mut s = score_page(truth, &page, false);
        s.elapsed = elapsed;
        total.add(s);
    }
    (total, writing)
}
