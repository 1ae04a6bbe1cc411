//! Layout quality per document of the corpus in `benches/layout/corpus/` (rebuilt by
//! `benches/layout/build.sh`): word boxes and words from the PDF's text layer, and from
//! OCR of every page rendered at 150 and 300 dpi with noise (by Tesseract's library, as
//! the server reads, and at 300 dpi also by its program, started per page); the cost per
//! page of each, and of writing the searchable PDF of an OCR'd page (a release build gives
//! the figures in docs/performance.md):
//!
//! ```sh
//! cargo run --release -p docintel-backend --example layout_quality
//! ```

#[path = "../benches/layout/quality.rs"]
mod quality;

use quality::{Reader, Score};

fn main() {
    // Tesseract's library reads it once, when loaded, as in the server's OCR fork server.
    // SAFETY: set before any thread starts.
    unsafe { std::env::set_var("OMP_THREAD_LIMIT", "1") };
    let docs = quality::corpus();
    println!(
        "{:<20} {:<16} {:>6} {:>6} {:>12} {:>14} {:>10}",
        "document", "source", "pages", "words", "boxes ok", "word accuracy", "ms/page"
    );
    let row = |name: &str, source: &str, s: &Score| {
        println!(
            "{:<20} {:<16} {:>6} {:>6} {:>11.1}% {:>13.1}% {:>10.1}",
            name,
            source,
            s.pages,
            s.words,
            100.0 * s.box_share(),
            100.0 * s.word_accuracy(),
            s.ms_per_page()
        )
    };
    let mut text = Score::default();
    let mut baseline = std::time::Duration::ZERO;
    let mut ocr = [Score::default(); 3];
    let mut writing = std::time::Duration::ZERO;
    for doc in &docs {
        let s = quality::text_layer(doc);
        baseline += quality::text_only(doc);
        row(&doc.name, "text layer", &s);
        text.add(s);
        let runs = [
            (150.0, Reader::Library, "OCR 150 dpi"),
            (300.0, Reader::Library, "OCR 300 dpi"),
            (300.0, Reader::Program, "program 300 dpi"),
        ];
        for (i, (dpi, by, source)) in runs.into_iter().enumerate() {
            let (s, w) = quality::ocr(doc, dpi, usize::MAX, by);
            row(&doc.name, source, &s);
            ocr[i].add(s);
            if by == Reader::Library {
                writing += w;
            }
        }
    }
    row("all", "text layer", &text);
    println!(
        "text layer with its budget and layout: {:.2}× the time of the text alone ({:.1} against {:.1} ms per page)",
        text.elapsed.as_secs_f64() / baseline.as_secs_f64(),
        text.ms_per_page(),
        baseline.as_secs_f64() * 1e3 / text.pages.max(1) as f64
    );
    row("all", "OCR 150 dpi", &ocr[0]);
    row("all", "OCR 300 dpi", &ocr[1]);
    row("all", "program 300 dpi", &ocr[2]);
    println!(
        "OCR by the library loaded once: {:.2}× the time of the program started per page (300 dpi)",
        ocr[1].elapsed.as_secs_f64() / ocr[2].elapsed.as_secs_f64()
    );
    let pages = ocr[0].pages + ocr[1].pages;
    println!(
        "searchable PDF: {:.1} ms per OCR'd page (writing only, {pages} pages)",
        writing.as_secs_f64() * 1e3 / pages.max(1) as f64
    );
}
