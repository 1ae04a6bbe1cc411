//! 6. Lint: the documents against spectral's `spectral:oas` ruleset
//!    (npm `@stoplight/spectral-cli`, installed by `npm ci --prefix tests/thirdparty`).
//!    Without it the section warns visibly (and fails under `--require-lint`, as in CI).

use std::path::{Path, PathBuf};

use crate::report::{Finding, Section, Severity};

fn spectral(root: &Path) -> Option<PathBuf> {
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
    let subject = "openapi/*.json with spectral:oas".to_owned();
    let Some(bin) = spectral(root) else {
        let finding = Finding::warning(
            "lint-unavailable",
            "spectral",
            "spectral is not installed: the documents were NOT linted",
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
    let ruleset = root.join("governance/spectral.yaml");
    let files: Vec<String> = docintel_api::versions::VERSIONS
        .iter()
        .map(|v| format!("openapi/{}.json", v.name))
        .collect();
    let output = tokio::process::Command::new(&bin)
        .current_dir(root)
        .arg("lint")
        .args(&files)
        .arg("--ruleset")
        .arg(&ruleset)
        .args(["--format", "json", "--quiet", "--fail-severity", "error"])
        .output()
        .await;
    let findings = match output {
        Err(e) => vec![Finding::failure(
            "lint-failed-to-run",
            bin.display().to_string(),
            e.to_string(),
            "",
        )],
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stdout);
            match serde_json::from_str::<serde_json::Value>(text.trim()) {
                Err(_) if out.status.success() && text.trim().is_empty() => Vec::new(),
                Err(e) => vec![Finding::failure(
                    "lint-failed-to-run",
                    "spectral",
                    format!("{e}: {}{}", text, String::from_utf8_lossy(&out.stderr)),
                    "",
                )],
                Ok(results) => results
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|r| {
                        let source = r["source"].as_str().unwrap_or_default();
                        let source = source.rsplit("openapi/").next().unwrap_or(source);
                        let path: Vec<String> = r["path"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|p| p.as_str().map_or(p.to_string(), |s| s.replace('/', "~1")))
                            .collect();
                        let location = format!("openapi/{source}#/{}", path.join("/"));
                        let rule = format!("spectral:{}", r["code"].as_str().unwrap_or("?"));
                        let message = r["message"].as_str().unwrap_or_default().to_owned();
                        // spectral severities: 0 error, 1 warn, 2 info, 3 hint.
                        match r["severity"].as_u64() {
                            Some(0) => Finding::failure(
                                &rule,
                                location,
                                message,
                                "see the spectral:oas rule",
                            ),
                            _ => Finding::warning(
                                &rule,
                                location,
                                message,
                                "see the spectral:oas rule",
                            ),
                        }
                    })
                    .collect(),
            }
        }
    };
    Section::new("lint", subject, findings)
}
