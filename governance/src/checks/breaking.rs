//! 2. Breaking changes: the current document of each version against its last released
//!    baseline, `openapi/released/<version>/<release>.json` (the highest release by
//!    semantic version). Cutting a release copies the current document there
//!    (`docintel-governance release`).
//!
//!    A break made on purpose (a security fix that refuses input once accepted) is listed
//!    in `openapi/accepted-breaking-changes.json` with its reason, against the baseline
//!    it breaks: it is then reported as a warning. An acceptance lapses when a new
//!    baseline is cut, and one that matches nothing is reported so it gets removed.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::report::Severity;
use crate::rules;

pub const ACCEPTED_PATH: &str = "openapi/accepted-breaking-changes.json";

/// One deliberate breaking change, accepted against one baseline.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Accepted {
    pub version: String,
    pub baseline: String,
    pub rule: String,
    pub location: String,
    /// Why clients are better off with the break (shown in the report).
    pub reason: String,
}

/// The accepted breaking changes of the repository at `root` (none without the file).
pub fn accepted(root: &Path) -> Result<Vec<Accepted>, String> {
    let path = root.join(ACCEPTED_PATH);
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| format!("{ACCEPTED_PATH}: {e}")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("{ACCEPTED_PATH}: {e}")),
    }
}

/// Turns the accepted ones among `findings` (of `version` against `baseline`) into
/// warnings, and reports acceptances for this baseline that matched nothing.
pub fn apply_accepted(
    findings: Vec<Finding>,
    accepted: &[Accepted],
    version: &str,
    baseline: &str,
) -> Vec<Finding> {
    let mine: Vec<&Accepted> = accepted
        .iter()
        .filter(|a| a.version == version && a.baseline == baseline)
        .collect();
    let mut used = vec![false; mine.len()];
    let mut out: Vec<Finding> = findings
        .into_iter()
        .map(|mut f| {
            let hit = mine.iter().position(|a| {
                f.severity == Severity::Breaking && a.rule == f.rule && a.location == f.location
            });
            if let Some(i) = hit {
                used[i] = true;
                f.severity = Severity::Warning;
                f.message = format!("accepted ({}): {}", mine[i].reason, f.message);
            }
            f
        })
        .collect();
    for (a, used) in mine.iter().zip(used) {
        if !used {
            out.push(Finding::warning(
                rules::ACCEPTED_CHANGE_UNUSED.id,
                a.location.clone(),
                format!(
                    "{ACCEPTED_PATH} accepts {} here, which no longer happens",
                    a.rule
                ),
                "remove the entry",
            ));
        }
    }
    out
}

use crate::diff;
use crate::report::{Finding, Section};

/// The newest released baseline of `version`, if any: (release, path).
pub fn latest_baseline(root: &Path, version: &str) -> Option<(String, PathBuf)> {
    releases(root, version).pop()
}

/// Every released baseline of `version`, oldest first by semantic version: (release, path).
pub fn releases(root: &Path, version: &str) -> Vec<(String, PathBuf)> {
    let dir = root.join("openapi/released").join(version);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut releases: Vec<(Vec<u64>, String, PathBuf)> = entries
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
    releases.into_iter().map(|(_, r, p)| (r, p)).collect()
}

pub fn today() -> String {
    time::OffsetDateTime::now_utc().date().to_string()
}

/// The accepted breaking changes, or the section `check` (named so) reports instead
/// when the file cannot be used.
pub fn accepted_or_section(root: &Path, check: &str) -> Result<Vec<Accepted>, Section> {
    accepted(root).map_err(|e| {
        Section::new(
            check,
            ACCEPTED_PATH.to_owned(),
            vec![Finding::failure(
                rules::UNUSABLE_INPUT.id,
                ACCEPTED_PATH,
                e,
                "",
            )],
        )
    })
}

pub fn check(root: &Path) -> Vec<Section> {
    let mut sections = Vec::new();
    let accepted = match accepted_or_section(root, "breaking changes") {
        Ok(a) => a,
        Err(section) => return vec![section],
    };
    for version in docintel_api::versions::VERSIONS {
        let current_path = root.join(format!("openapi/{}.json", version.name));
        let Some((release, baseline_path)) = latest_baseline(root, version.name) else {
            sections.push(Section::new(
                "breaking changes",
                format!("openapi/{}.json", version.name),
                vec![Finding::warning(
                    rules::NO_BASELINE.id,
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
        let findings = match (
            diff::load::spec(&baseline_path),
            diff::load::spec(&current_path),
        ) {
            (Ok(base), Ok(current)) => apply_accepted(
                diff::diff(&base, &current, &today()),
                &accepted,
                version.name,
                &release,
            ),
            (Err(e), _) | (_, Err(e)) => {
                vec![Finding::failure(rules::UNUSABLE_INPUT.id, "", e, "")]
            }
        };
        sections.push(Section::new("breaking changes", subject, findings));
    }
    sections
}
