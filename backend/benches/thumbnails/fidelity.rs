//! How close hayro's thumbnails are to pdftoppm's, on the corpus in `corpus/`: shared by
//! `examples/thumbnail_fidelity.rs` (the table) and `tests/thumbnail_fidelity.rs` (the
//! floor a change must not go below).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use docintel_backend::pipeline::{Limits, THUMBNAIL_SIZE, Tools, render};
use image::{GrayImage, RgbImage, imageops::FilterType};

/// One document of the corpus, drawn both ways.
pub struct Compared {
    pub name: String,
    /// Structural similarity of the two thumbnails in grey levels (1 = the same).
    pub ssim: f64,
    /// Mean absolute difference per RGB channel, 0–255.
    pub mean_abs_diff: f64,
    /// Median time of one render.
    pub hayro: Duration,
    pub pdftoppm: Duration,
    /// The two thumbnails, PNG.
    pub pngs: [Vec<u8>; 2],
}

pub fn corpus() -> Vec<PathBuf> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/thumbnails/corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir}: {e} (build it with benches/thumbnails/build.sh)"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pdf"))
        .collect();
    files.sort();
    files
}

/// Renders every document of the corpus `runs` times with each renderer.
pub fn compare_corpus(runs: usize) -> Vec<Compared> {
    let tools = Tools::detect();
    assert!(
        tools.pdftoppm.is_some(),
        "pdftoppm is the reference and is not installed: apt install poppler-utils"
    );
    corpus()
        .iter()
        .map(|path| {
            let bytes = std::fs::read(path).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let deadline = || Instant::now() + Duration::from_secs(60);
            let (hayro, ours) = timed(runs, || {
                render::first_page_png(&bytes, &Limits::default(), deadline())
                    .unwrap_or_else(|e| panic!("{name}: hayro: {e}"))
            });
            let (pdftoppm, reference) = timed(runs, || {
                tools
                    .render_pdf(&bytes, 1, 1, THUMBNAIL_SIZE, deadline())
                    .unwrap()
                    .unwrap_or_else(|e| panic!("{name}: {e}"))
                    .remove(0)
            });
            let pngs = [ours, reference];
            let ours = image::load_from_memory(&pngs[0]).unwrap().to_rgb8();
            let mut reference = image::load_from_memory(&pngs[1]).unwrap().to_rgb8();
            // The two may round the short side differently by a pixel.
            if reference.dimensions() != ours.dimensions() {
                reference = image::imageops::resize(
                    &reference,
                    ours.width(),
                    ours.height(),
                    FilterType::Triangle,
                );
            }
            Compared {
                name,
                ssim: ssim(&gray(&ours), &gray(&reference)),
                mean_abs_diff: mean_abs_diff(&ours, &reference),
                hayro,
                pdftoppm,
                pngs,
            }
        })
        .collect()
}

fn timed<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        last = Some(f());
        times.push(start.elapsed());
    }
    times.sort();
    (times[times.len() / 2], last.unwrap())
}

fn gray(img: &RgbImage) -> GrayImage {
    image::DynamicImage::ImageRgb8(img.clone()).to_luma8()
}

fn mean_abs_diff(a: &RgbImage, b: &RgbImage) -> f64 {
    let total: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    total as f64 / a.as_raw().len() as f64
}

/// Mean SSIM (Wang et al. 2004) over 8×8 windows every 4 pixels, on grey levels.
pub fn ssim(a: &GrayImage, b: &GrayImage) -> f64 {
    const WINDOW: u32 = 8;
    const STEP: u32 = 4;
    let (c1, c2) = ((0.01f64 * 255.0).powi(2), (0.03f64 * 255.0).powi(2));
    let (w, h) = a.dimensions();
    let (mut sum, mut windows) = (0.0, 0u32);
    let mut y = 0;
    while y + WINDOW <= h.max(WINDOW) {
        let mut x = 0;
        while x + WINDOW <= w.max(WINDOW) {
            let pixels: Vec<(f64, f64)> = (y..(y + WINDOW).min(h))
                .flat_map(|j| (x..(x + WINDOW).min(w)).map(move |i| (i, j)))
                .map(|(i, j)| {
                    (
                        f64::from(a.get_pixel(i, j).0[0]),
                        f64::from(b.get_pixel(i, j).0[0]),
                    )
                })
                .collect();
            let n = pixels.len() as f64;
            let (ma, mb) = (
                pixels.iter().map(|p| p.0).sum::<f64>() / n,
                pixels.iter().map(|p| p.1).sum::<f64>() / n,
            );
            let (mut va, mut vb, mut cov) = (0.0, 0.0, 0.0);
            for (pa, pb) in &pixels {
                va += (pa - ma).powi(2);
                vb += (pb - mb).powi(2);
                cov += (pa - ma) * (pb - mb);
            }
            let (va, vb, cov) = (va / n, vb / n, cov / n);
            sum += ((2.0 * ma * mb + c1) * (2.0 * cov + c2))
                / ((ma * ma + mb * mb + c1) * (va + vb + c2));
            windows += 1;
            x += STEP;
        }
        y += STEP;
    }
    sum / f64::from(windows)
}
