//! The soak's RSS and p99 over time, as a PNG.

use std::path::Path;

use plotters::prelude::*;

use crate::load::Sample;

pub fn soak(path: &Path, samples: &[Sample], p99: &[(f64, f64)]) -> anyhow::Result<()> {
    docintel_api::plot::register_font()?;
    let end = samples.last().map_or(1.0, |s| s.at).max(1.0);
    let root = BitMapBackend::new(path, (1000, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, bottom) = root.split_vertically(300);

    let rss_max = samples.iter().map(|s| s.rss_mib).fold(1.0, f64::max) * 1.2;
    let mut chart = ChartBuilder::on(&top)
        .caption("server RSS (MiB)", ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..end, 0.0..rss_max)?;
    chart.configure_mesh().x_desc("seconds").draw()?;
    chart.draw_series(LineSeries::new(
        samples.iter().map(|s| (s.at, s.rss_mib)),
        &BLUE,
    ))?;

    let p99_max = p99.iter().map(|(_, p)| *p).fold(1.0, f64::max) * 1.2;
    let mut chart = ChartBuilder::on(&bottom)
        .caption("p99 latency per 10 s (ms)", ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..end, 0.0..p99_max)?;
    chart.configure_mesh().x_desc("seconds").draw()?;
    chart.draw_series(LineSeries::new(p99.iter().copied(), &RED))?;
    root.present()?;
    Ok(())
}
