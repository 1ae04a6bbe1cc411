//! hayro's first-page thumbnails against pdftoppm's, per document of the corpus in
//! `benches/thumbnails/corpus/` (rebuilt by `benches/thumbnails/build.sh`): SSIM, mean
//! absolute difference and the median time of one render each way (a release build
//! gives the figures in docs/performance.md):
//!
//! ```sh
//! cargo run --release -p docintel-backend --example thumbnail_fidelity
//! cargo run --release -p docintel-backend --example thumbnail_fidelity -- DIR  # and keep both thumbnails
//! ```

#[path = "../benches/thumbnails/fidelity.rs"]
mod fidelity;

fn main() {
    let rows = fidelity::compare_corpus(5);
    if let Some(dir) = std::env::args().nth(1) {
        for r in &rows {
            for (png, by) in r.pngs.iter().zip(["hayro", "pdftoppm"]) {
                std::fs::write(format!("{dir}/{}.{by}.png", r.name), png).unwrap();
            }
        }
    }
    println!(
        "{:<28} {:>6} {:>9} {:>10} {:>12}",
        "document", "SSIM", "mean |Δ|", "hayro ms", "pdftoppm ms"
    );
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    for r in &rows {
        println!(
            "{:<28} {:>6.3} {:>9.1} {:>10.1} {:>12.1}",
            r.name,
            r.ssim,
            r.mean_abs_diff,
            ms(r.hayro),
            ms(r.pdftoppm)
        );
    }
    let n = rows.len() as f64;
    let mean = |f: &dyn Fn(&fidelity::Compared) -> f64| rows.iter().map(f).sum::<f64>() / n;
    println!(
        "{:<28} {:>6.3} {:>9.1} {:>10.1} {:>12.1}",
        format!("mean of {}", rows.len()),
        mean(&|r| r.ssim),
        mean(&|r| r.mean_abs_diff),
        mean(&|r| ms(r.hayro)),
        mean(&|r| ms(r.pdftoppm))
    );
    let worst = rows
        .iter()
        .min_by(|a, b| a.ssim.total_cmp(&b.ssim))
        .expect("a corpus");
    println!("lowest SSIM: {} ({:.3})", worst.name, worst.ssim);
}
