//! PNG charts the commands write (`docintel model eval --diagram`, the bench harness's soak
//! plot): plotters' bitmap backend, text through a system TrueType font.

use anyhow::Context;
use docintel_backend::classify::Evaluation;
use plotters::prelude::*;

/// Where fonts usually are on Debian (`fonts-dejavu-core`).
const FONTS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
];

/// Makes "sans-serif" usable in charts (plotters draws no text without a font).
pub fn register_font() -> anyhow::Result<()> {
    let bytes = FONTS
        .iter()
        .find_map(|p| std::fs::read(p).ok())
        .context("no TrueType font for the plot's labels: install fonts-dejavu-core")?;
    plotters::style::register_font(
        "sans-serif",
        FontStyle::Normal,
        Box::leak(bytes.into_boxed_slice()),
    )
    .map_err(|_| anyhow::anyhow!("the font could not be read"))?;
    Ok(())
}

/// A reliability diagram: per confidence bin, the share of answers that were right
/// (bars), against the diagonal a calibrated model would follow.
pub fn reliability(path: &std::path::Path, title: &str, eval: &Evaluation) -> anyhow::Result<()> {
    register_font()?;
    let root = BitMapBackend::new(path, (700, 640)).into_drawing_area();
    root.fill(&WHITE)?;
    let caption = format!(
        "{title}: ECE {:.3}, accuracy {:.3}, {} answers",
        eval.ece(),
        eval.accuracy(),
        eval.outcomes.len()
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 18))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..1.0, 0.0..1.0)?;
    chart
        .configure_mesh()
        .x_desc("confidence")
        .y_desc("accuracy")
        .draw()?;
    let bins: Vec<_> = eval.bins(10).into_iter().filter(|b| b.count > 0).collect();
    chart.draw_series(bins.iter().map(|b| {
        Rectangle::new(
            [(b.lower + 0.005, 0.0), (b.upper - 0.005, b.accuracy)],
            BLUE.mix(0.6).filled(),
        )
    }))?;
    // How many answers each bar stands for: a bar of two answers says little.
    chart.draw_series(bins.iter().map(|b| {
        Text::new(
            format!("n={}", b.count),
            (b.lower + 0.02, (b.accuracy + 0.04).min(0.97)),
            ("sans-serif", 14),
        )
    }))?;
    chart.draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], &RED))?;
    root.present()?;
    Ok(())
}
