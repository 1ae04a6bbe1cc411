//! `docintel openapi`: write or check the committed OpenAPI documents.

use std::path::Path;

use docintel_api::openapi;

pub fn run(out: &Path, check: bool) -> anyhow::Result<()> {
    if !check {
        for file in openapi::write_committed(out)? {
            eprintln!("wrote {}", file.display());
        }
        return Ok(());
    }
    let drift = openapi::committed_drift(out);
    anyhow::ensure!(
        drift.is_empty(),
        "out of date (run `{}`): {}",
        openapi::REGENERATE,
        drift
            .iter()
            .map(|d| format!("{} {}", d.file.display(), d.problem))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}
