//! `docintel openapi`: write or check the committed OpenAPI documents.

use std::path::Path;

use docintel_api::openapi;

pub fn run(out: &Path, check: bool) -> anyhow::Result<()> {
    // The error catalogue's page sits beside the documents' readers, in docs/.
    let errors_page = out
        .parent()
        .unwrap_or(Path::new("."))
        .join("docs/errors.md");
    if !check {
        for file in openapi::write_committed(out)? {
            eprintln!("wrote {}", file.display());
        }
        std::fs::write(&errors_page, docintel_api::problems::markdown())?;
        eprintln!("wrote {}", errors_page.display());
        return Ok(());
    }
    anyhow::ensure!(
        std::fs::read_to_string(&errors_page).ok().as_deref()
            == Some(docintel_api::problems::markdown().as_str()),
        "{} is out of date (run `{}`)",
        errors_page.display(),
        openapi::REGENERATE
    );
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
