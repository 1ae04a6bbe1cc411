//! 2. Breaking changes: the current document of each version against its last released
//!    baseline, `openapi/released/<version>/<release>.json` (the highest release by
//!    semantic version). Cutting a release copies the current document there
//!    (`docintel-governance release`).

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::diff;
use crate::report::{Finding, Section};

/// The newest released baseline of `version`, if any: (release, path).
pub fn latest_baseline(root: &Path, version: &str) -> Option<(String, PathBuf)> {
    let dir = root.join("openapi/released").join(version);
    let mut releases: Vec<(Vec<u64>, String, PathBuf)> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let release = name.strip_suffix(".json")?.to_owned();
            let key = release
                .split('.')
                .map(|p| p.parse::<u64>().ok())
                .collect::<Option<Vec<_>>>()?;
            Some((key, release, e.path()))
        })
        .collect();
    releases.sort();
    releases.pop().map(|(_, r, p)| (r, p))
}

pub fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let doc: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
    diff::validate(&doc).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(doc)
}

pub fn today() -> String {
    time::OffsetDateTime::now_utc().date().to_string()
}

pub fn check(root: &Path) -> Vec<Section> {
    let mut sections = Vec::new();
    for version in docintel_api::openapi::VERSIONS {
        let current_path = root.join(format!("openapi/{}.json", version.name));
        let Some((release, baseline_path)) = latest_baseline(root, version.name) else {
            sections.push(Section::new(
                "breaking changes",
                format!("openapi/{}.json", version.name),
                vec![Finding::warning(
                    "no-baseline",
                    format!("openapi/released/{}", version.name),
                    "no released baseline: nothing to compare against",
                    "cut a release: `cargo run -p docintel-governance -- release --version VERSION --release X.Y.Z`",
                )],
            ));
            continue;
        };
        let subject = format!(
            "openapi/{}.json against openapi/released/{}/{release}.json",
            version.name, version.name
        );
        let findings = match (read_json(&baseline_path), read_json(&current_path)) {
            (Ok(base), Ok(current)) => diff::diff(&base, &current, &today()),
            (Err(e), _) | (_, Err(e)) => vec![Finding::failure("unusable-input", "", e, "")],
        };
        sections.push(Section::new("breaking changes", subject, findings));
    }
    sections
}
