//! The layout's word boxes match the corpus truth (`benches/layout/corpus/`): from the
//! text layer, at least 98% of words with their exact text and IoU ≥ 0.8, in every
//! document; from OCR of 300-dpi renderings with noise, at least 90% of words with a box
//! of IoU ≥ 0.5 and a word accuracy measured (the figures of every document at 150 and
//! 300 dpi: `cargo run --release -p docintel-backend --example layout_quality`). Needs
//! Tesseract and pdftoppm for the OCR part; fails saying so without them.

#[path = "../benches/layout/quality.rs"]
#[allow(dead_code)] // the example prints the cost per page; this test holds the shares
mod quality;

// Tesseract's library reads it once, when loaded, as in the server's OCR fork server.
// SAFETY (of running before main): nothing else runs yet to read the environment.
#[ctor::ctor]
fn one_openmp_thread() {
    // SAFETY: as above.
    unsafe { std::env::set_var("OMP_THREAD_LIMIT", "1") };
}

#[test]
fn text_layer_word_boxes_match_the_truth() {
    let docs = quality::corpus();
    assert!(docs.len() >= 6, "{} documents", docs.len());
    for doc in &docs {
        let s = quality::text_layer(doc);
        assert!(s.words > 100, "{}: {} words", doc.name, s.words);
        assert!(
            s.box_share() >= 0.98,
            "{}: {} of {} words match the truth",
            doc.name,
            s.boxes,
            s.words
        );
    }
}

fn ocr_of_300_dpi_scans(by: quality::Reader) -> quality::Score {
    let docs = quality::corpus();
    let mut total = quality::Score::default();
    // The first page of three kinds of page (a table, running text, mixed sizes): the
    // example reads them all.
    for name in ["invoice.pdf", "report-letter.pdf", "mixed-sizes.pdf"] {
        let doc = docs.iter().find(|d| d.name == name).expect(name);
        let (s, _) = quality::ocr(doc, 300.0, 1, by);
        assert!(s.box_share() >= 0.9, "{name} by {by:?}: {s:?}");
        total.add(s);
    }
    assert!(total.box_share() >= 0.9, "{by:?}: {total:?}");
    // Word accuracy is measured, not promised: it is what Tesseract reads.
    assert!(total.word_accuracy() > 0.5, "{by:?}: {total:?}");
    total
}

#[test]
fn ocr_word_boxes_of_300_dpi_scans_match_the_truth() {
    let library = ocr_of_300_dpi_scans(quality::Reader::Library);
    let program = ocr_of_300_dpi_scans(quality::Reader::Program);
    // The library, loaded once, reads what the program reads: within a point either way.
    assert!(
        (library.box_share() - program.box_share()).abs() <= 0.01,
        "{library:?} against {program:?}"
    );
}
