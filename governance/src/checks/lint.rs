//! 6. Lint: the documents against spectral's `spectral:oas` ruleset and the OWASP API
//!    Security ruleset (npm `@stoplight/spectral-cli` and
//!    `@stoplight/spectral-owasp-ruleset`, installed by `npm ci --prefix tests/thirdparty`),
//!    with docintel's exceptions in `governance/spectral.yaml`. Errors fail the gate,
//!    warnings are listed. Without spectral or the OWASP ruleset the section warns
//!    visibly (and fails under `--require-lint`, as in CI).

use std::path::{Path, PathBuf};

use crate::report::{Finding, Section, Severity};
use crate::rules;

/// The gate's ruleset, relative to the repository root.
pub const RULESET: &str = "governance/spectral.yaml";

/// The OWASP ruleset `RULESET` extends, by path (see the comment there).
const OWASP_RULESET: &str =
    "tests/thirdparty/node_modules/@stoplight/spectral-owasp-ruleset/dist/ruleset.mjs";

/// spectral: the one `npm ci --prefix tests/thirdparty` installs, else one on `PATH`.
pub fn spectral(root: &Path) -> Option<PathBuf> {
    let local = root.join("tests/thirdparty/node_modules/.bin/spectral");
    if local.is_file() {
        return Some(local);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("spectral"))
            .find(|p| p.is_file())
    })
}

pub async fn check(root: &Path, require: bool) -> Section {
    let subject = "openapi/*.json with spectral:oas and the OWASP API Security ruleset".to_owned();
    let spectral = spectral(root);
    let missing = match &spectral {
        None => Some("spectral is not installed"),
        Some(_) if !root.join(OWASP_RULESET).is_file() => Some(
            "the OWASP API Security ruleset (@stoplight/spectral-owasp-ruleset) is not installed",
        ),
        Some(_) => None,
    };
    let (Some(bin), None) = (spectral, missing) else {
        let finding = Finding::warning(
            rules::LINT_UNAVAILABLE.id,
            "spectral",
            format!(
                "{}: the documents were NOT linted",
                missing.unwrap_or_default()
            ),
            "npm ci --prefix tests/thirdparty",
        );
        let finding = if require {
            Finding {
                severity: Severity::Breaking,
                ..finding
            }
        } else {
            finding
        };
        return Section::new("lint", subject, vec![finding]);
    };
    let files: Vec<PathBuf> = docintel_api::versions::VERSIONS
        .iter()
        .map(|v| PathBuf::from(format!("openapi/{}.json", v.name)))
        .collect();
    let findings = lint(&bin, root, &root.join(RULESET), &files).await;
    Section::new("lint", subject, findings)
}

/// Lints `files` (relative to `root`, or absolute) with spectral and `ruleset`: one
/// finding per result, located by file and JSON pointer; errors are failures.
pub async fn lint(bin: &Path, root: &Path, ruleset: &Path, files: &[PathBuf]) -> Vec<Finding> {
    let output = tokio::process::Command::new(bin)
        .current_dir(root)
        .arg("lint")
        .args(files)
        .arg("--ruleset")
        .arg(ruleset)
        .args(["--format", "json", "--quiet", "--fail-severity", "error"])
        .output()
        .await;
    let out = match output {
        Err(e) => {
            return vec![Finding::failure(
                rules::LINT_FAILED_TO_RUN.id,
                bin.display().to_string(),
                e.to_string(),
                "",
            )];
        }
        Ok(out) => out,
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let results = match serde_json::from_str::<serde_json::Value>(text.trim()) {
        Err(_) if out.status.success() && text.trim().is_empty() => return Vec::new(),
        Err(e) => {
            return vec![Finding::failure(
                rules::LINT_FAILED_TO_RUN.id,
                "spectral",
                format!("{e}: {}{}", text, String::from_utf8_lossy(&out.stderr)),
                "",
            )];
        }
        Ok(results) => results,
    };
    // spectral reports absolute paths; the repository's own files are named from its root.
    let root = root.canonicalize().unwrap_or_else(|_| root.to_owned());
    results
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let source = Path::new(r["source"].as_str().unwrap_or_default());
            let source = source.strip_prefix(&root).unwrap_or(source);
            let path: Vec<String> = r["path"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    p.as_str().map_or(p.to_string(), |s| {
                        s.replace('~', "~0").replace('/', "~1")
                    })
                })
                .collect();
            let location = format!("{}#/{}", source.display(), path.join("/"));
            let code = r["code"].as_str().unwrap_or("?");
            // The OWASP rules carry their ruleset in their name already.
            let (rule, fix) = if code.starts_with("owasp:") {
                (
                    code.to_owned(),
                    "see the OWASP API Security ruleset's rule (@stoplight/spectral-owasp-ruleset); \
                     docintel's exceptions are in governance/spectral.yaml",
                )
            } else {
                (format!("spectral:{code}"), "see the spectral:oas rule")
            };
            let message = r["message"].as_str().unwrap_or_default().to_owned();
            // spectral severities: 0 error, 1 warn, 2 info, 3 hint.
            match r["severity"].as_u64() {
                Some(0) => Finding::failure(&rule, location, message, fix),
                _ => Finding::warning(&rule, location, message, fix),
            }
        })
        .collect()
}
