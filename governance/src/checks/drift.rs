//! 1. Spec drift: each committed `openapi/*.json` equals what the code generates, and what
//!    the running server serves.

use std::path::Path;

use docintel_api::openapi;
use docintel_api::versions::VERSIONS;

use crate::report::{Finding, Section};
use crate::rules;

pub async fn check(root: &Path, served_base: Option<&str>) -> Section {
    let mut findings: Vec<Finding> = openapi::committed_drift(&root.join("openapi"))
        .into_iter()
        .map(|d| {
            Finding::failure(
                rules::SPEC_DRIFT.id,
                format!("openapi/{}.json", d.version),
                format!("the committed document {}", d.problem),
                format!(
                    "run `{}` and commit the result (then regenerate the SDK: `cargo run -p docintel-sdk-gen`)",
                    openapi::REGENERATE
                ),
            )
        })
        .collect();
    if let Some(base) = served_base {
        for version in VERSIONS {
            let generated = openapi::to_json(&openapi::document(version));
            let url = format!("{base}/openapi/{}.json", version.name);
            match reqwest::get(&url).await {
                Ok(r) => match r.text().await {
                    Ok(served) if served == generated => {}
                    _ => findings.push(Finding::failure(
                        rules::SERVED_SPEC_DRIFT.id,
                        url,
                        "the server serves another document than the code generates",
                        "serve the document produced by `openapi::to_json`",
                    )),
                },
                Err(e) => findings.push(Finding::failure(
                    rules::SERVED_SPEC_DRIFT.id,
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
