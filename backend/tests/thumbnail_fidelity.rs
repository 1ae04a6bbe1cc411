//! hayro's thumbnails of the corpus in `benches/thumbnails/corpus/` stay close to
//! pdftoppm's (the renderer they replace): a change of hayro, of its settings or of the
//! thumbnail code that draws a document visibly worse fails here. Needs pdftoppm
//! (poppler-utils), the reference; fails saying so without it. The figures:
//! `cargo run --release -p docintel-backend --example thumbnail_fidelity`.

#[path = "../benches/thumbnails/fidelity.rs"]
#[allow(dead_code)] // this test reads the SSIM only; the example prints the rest
mod fidelity;

/// SSIM against pdftoppm measured per document (docs/performance.md, poppler 22.12 with
/// Debian 12's fonts), rounded down. Dense small text scores lowest: glyph edges
/// differ between any two rasterizers (poppler's own cairo backend scores 0.74 on
/// `gs-report.pdf` against its splash one), while a page drawn blank or misplaced loses
/// far more than the margin.
const MEASURED: &[(&str, f64)] = &[
    ("cairo-charts.pdf", 0.98),
    ("cairo-letter.pdf", 0.81),
    ("gs-report.pdf", 0.76),
    ("gs-vector-drawing.pdf", 0.96),
    ("qpdf-object-streams.pdf", 0.87),
    ("repo-invoice.pdf", 0.98),
    ("repo-warmup.pdf", 0.99),
    ("rl-acroform.pdf", 0.93),
    // No CJK font is embedded nor installed: neither renderer draws its glyphs.
    ("rl-cjk-unembedded.pdf", 0.79),
    ("rl-invoice.pdf", 0.87),
    ("rl-landscape-table.pdf", 0.90),
    ("rl-letter-times.pdf", 0.81),
    ("rl-photo-report.pdf", 0.92),
    ("rl-rotated-90.pdf", 0.87),
    ("rl-scan-jpeg.pdf", 0.88),
    ("rl-transparency.pdf", 0.98),
    ("rl-truetype-accents.pdf", 0.83),
    ("rl-type1-embedded.pdf", 0.83),
    ("rl-vector-charts.pdf", 0.98),
];
/// What a document may lose against its measurement (pdftoppm's substitutes for fonts
/// that are not embedded depend on the machine's fonts) before the test fails.
const MARGIN: f64 = 0.05;
const MEAN_FLOOR: f64 = 0.87;

#[test]
fn hayro_thumbnails_stay_close_to_pdftoppms() {
    let rows = fidelity::compare_corpus(1);
    let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    let expected: Vec<&str> = MEASURED.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names, expected,
        "a corpus document without a measurement, or one missing"
    );
    let report: Vec<String> = rows
        .iter()
        .map(|r| format!("{}: {:.3}", r.name, r.ssim))
        .collect();
    for (r, (_, measured)) in rows.iter().zip(MEASURED) {
        assert!(
            r.ssim >= measured - MARGIN,
            "{} drawn worse: {report:#?}",
            r.name
        );
    }
    let mean = rows.iter().map(|r| r.ssim).sum::<f64>() / rows.len() as f64;
    assert!(mean >= MEAN_FLOOR, "mean SSIM {mean:.3}: {report:#?}");
    // The floor is not vacuous: a blank page in place of the densest one falls below it.
    let dense = &rows[names.iter().position(|n| *n == "gs-report.pdf").unwrap()];
    let reference = image::load_from_memory(&dense.pngs[1]).unwrap().to_luma8();
    let blank =
        image::GrayImage::from_pixel(reference.width(), reference.height(), image::Luma([255]));
    let blank_ssim = fidelity::ssim(&blank, &reference);
    assert!(
        blank_ssim < 0.76 - MARGIN,
        "a blank page scores {blank_ssim:.3}"
    );
}

#[test]
fn ssim_tells_alike_from_different() {
    let page =
        image::GrayImage::from_fn(64, 64, |x, y| image::Luma([((x * 7 + y * 3) % 256) as u8]));
    let blank = image::GrayImage::from_pixel(64, 64, image::Luma([255]));
    assert!((fidelity::ssim(&page, &page) - 1.0).abs() < 1e-9);
    assert!(fidelity::ssim(&page, &blank) < 0.1);
}
