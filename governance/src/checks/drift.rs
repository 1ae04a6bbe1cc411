//! 1. Spec drift: each committed `openapi/*.json` equals what the code generates, and what
//!    the running server serves.

use std::path::Path;

use docintel_api::openapi;

use crate::report::{Finding, Section};

pub async fn check(root: &Path, served_base: Option<&str>) -> Section {
    let mut findings = Vec::new();
    for version in openapi::VERSIONS {
        let file = format!("openapi/{}.json", version.name);
        let generated = openapi::to_json(&openapi::document(version));
        match std::fs::read_to_string(root.join(&file)) {
            Ok(committed) if committed == generated => {}
            Ok(_) => findings.push(Finding::failure(
                "spec-drift",
                file.clone(),
                "the committed document differs from what the code generates",
                "run `cargo run -p docintel-api -- openapi` and commit the result (then regenerate the SDK: `cargo run -p docintel-sdk-gen`)",
            )),
            Err(e) => findings.push(Finding::failure(
                "spec-drift",
                file.clone(),
                format!("cannot read it: {e}"),
                "run `cargo run -p docintel-api -- openapi`",
            )),
        }
        if let Some(base) = served_base {
            let url = format!("{base}/openapi/{}.json", version.name);
            match reqwest::get(&url).await {
                Ok(r) => match r.text().await {
                    Ok(served) if served == generated => {}
                    _ => findings.push(Finding::failure(
                        "served-spec-drift",
                        url,
                        "the server serves another document than the code generates",
                        "serve the document produced by `openapi::to_json`",
                    )),
                },
                Err(e) => findings.push(Finding::failure(
                    "served-spec-drift",
                    url,
                    format!("cannot fetch it: {e}"),
                    "",
                )),
            }
        }
    }
    Section::new(
        "spec drift",
        "openapi/*.json = generated = served",
        findings,
    )
}
