//! The changelog of each API version, `docs/changelog/<version>.md`, written from the
//! released baselines and the current document: the first release's operations, then
//! each later release against the one before, then the current document against the
//! newest release when it differs. Every entry is breaking, warning, additive or docs
//! (as the version check judges it), with its rule and where.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::checks::breaking::{Accepted, accepted, releases};
use crate::checks::versioning::{Change, Comparison, Semver, compare};
use crate::diff;

/// Where the changelog of `version` is committed, relative to the repository.
pub fn path(version: &str) -> PathBuf {
    PathBuf::from(format!("docs/changelog/{version}.md"))
}

const REGENERATE: &str = "cargo run -p docintel-governance -- changelog";

/// The places one entry names before "and N more places".
const PLACES: usize = 4;

/// The changelog of `version` (a row of the versions table) as it should be committed.
pub fn render(root: &Path, version: &str) -> Result<String, String> {
    let accepted = accepted(root)?;
    let current_path = root.join(format!("openapi/{version}.json"));
    let current = diff::load::spec(&current_path)?;
    let mut out = format!(
        "# Changelog: {version}\n\n\
         Written by `{REGENERATE}` from `openapi/released/{version}/` and\n\
         `openapi/{version}.json`; do not edit it by hand (the gate fails when it is stale).\n\
         Releases are listed oldest first. Each entry is **breaking**, **warning** (breaks no\n\
         rule, but some clients may notice), **additive** or **docs**, with its rule and where\n\
         (a JSON pointer into the document); [the governance page](../governance.md#versions-and-the-changelog)\n\
         explains the rules and the release each kind needs.\n"
    );
    let baselines = releases(root, version);
    let mut previous: Option<(String, Value)> = None;
    for (release, file) in &baselines {
        let doc = diff::load::spec(file)?;
        match &previous {
            None => first_release(&mut out, release, &doc),
            Some((before, base)) => {
                let comparison = compare(base, &doc, &mine(&accepted, version, before));
                out.push_str(&format!("\n## {release}\n\n"));
                section(&mut out, before, Some(release), &comparison);
            }
        }
        previous = Some((release.clone(), doc));
    }
    match previous {
        None => out.push_str("\nNo release yet.\n"),
        Some((before, base)) => {
            let comparison = compare(&base, &current, &mine(&accepted, version, &before));
            if comparison.differs {
                let now = current["info"]["version"].as_str().unwrap_or_default();
                let newer = matches!(
                    (Semver::parse(&before), Semver::parse(now)),
                    (Some(b), Some(n)) if n > b
                );
                if newer {
                    out.push_str(&format!("\n## {} (unreleased)\n\n", clean(now)));
                } else {
                    out.push_str(&format!(
                        "\n## Unreleased (info.version is still {}: the gate asks for a higher one)\n\n",
                        clean(now)
                    ));
                }
                section(&mut out, &before, None, &comparison);
            }
        }
    }
    Ok(out)
}

fn mine<'a>(accepted: &'a [Accepted], version: &str, baseline: &str) -> Vec<&'a Accepted> {
    accepted
        .iter()
        .filter(|a| a.version == version && a.baseline == baseline)
        .collect()
}

fn first_release(out: &mut String, release: &str, doc: &Value) {
    out.push_str(&format!("\n## {release}\n\nThe first release:\n\n"));
    let methods = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    for (kind, key) in [("", "paths"), ("webhook ", "webhooks")] {
        for (path, item) in doc[key].as_object().into_iter().flatten() {
            for method in methods {
                if let Some(op) = item.get(method) {
                    let summary = op["summary"].as_str().unwrap_or_default();
                    let mut line = format!("- {kind}`{} {path}`", method.to_uppercase());
                    if !summary.is_empty() {
                        line.push_str(&format!(": {summary}"));
                    }
                    if op["deprecated"] == true && !summary.to_lowercase().contains("deprecated") {
                        line.push_str(" (deprecated)");
                    }
                    out.push_str(&clean(&line));
                    out.push('\n');
                }
            }
        }
    }
}

/// One release's changes against `before` (`release` is `None` for the current document).
fn section(out: &mut String, before: &str, release: Option<&str>, comparison: &Comparison) {
    let step = match (Semver::parse(before), release.and_then(Semver::parse)) {
        (Some(b), Some(r)) => format!(" ({} release)", b.step_to(r)),
        _ => String::new(),
    };
    let needs = comparison.level();
    out.push_str(&format!(
        "Against {before}{step}: {}; needs {needs} release.\n\n",
        comparison.summary()
    ));
    out.push_str(&entries(&comparison.changes, Some(PLACES)));
}

/// The changes as a Markdown list, one line per kind, rule and message (a change in a
/// schema many operations share is one line), naming at most `limit` places each.
pub fn entries(changes: &[Change], limit: Option<usize>) -> String {
    let mut groups: Vec<(&Change, Vec<&str>)> = Vec::new();
    for c in changes {
        match groups.iter_mut().find(|(g, _)| {
            g.kind == c.kind
                && g.finding.rule == c.finding.rule
                && g.finding.message == c.finding.message
                && g.accepted == c.accepted
        }) {
            Some((_, places)) => places.push(&c.finding.location),
            None => groups.push((c, vec![&c.finding.location])),
        }
    }
    let mut out = String::new();
    for (c, places) in groups {
        // A change to a schema many operations share is found in each: in the committed
        // page a few places say where (`changelog --from` lists every one).
        let shown = limit.unwrap_or(usize::MAX);
        let mut at: Vec<String> = places
            .iter()
            .take(shown)
            .map(|p| format!("`{p}`"))
            .collect();
        if places.len() > shown {
            at.push(format!("and {} more places", places.len() - shown));
        }
        let mut line = format!(
            "- **{}** `{}` at {}: {}",
            c.kind.label(),
            c.finding.rule,
            at.join(", "),
            c.finding.message
        );
        if let Some(reason) = &c.accepted {
            line.push_str(&format!(" — accepted exception: {reason}"));
        }
        out.push_str(&clean(&line));
        out.push('\n');
    }
    if out.is_empty() {
        out.push_str("No changes.\n");
    }
    out
}

/// Invisible and direction-changing characters (which the API's own messages quote,
/// e.g. the file names it refuses) written as `U+XXXX`, so the page reads as it is.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            let invisible = (c.is_control() && c != '\n')
                || matches!(c,
                    '\u{00ad}' | '\u{061c}' | '\u{180e}' | '\u{200b}'..='\u{200f}'
                    | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}' | '\u{fffd}');
            if invisible {
                format!("U+{:04X}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Writes the changelog of every version in the versions table.
pub fn write(root: &Path) -> Result<Vec<PathBuf>, String> {
    let mut written = Vec::new();
    for version in docintel_api::versions::VERSIONS {
        let text = render(root, version.name)?;
        let path = root.join(path(version.name));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// The committed changelogs that differ from what [`write`] would write: (file, why).
pub fn drift(root: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for version in docintel_api::versions::VERSIONS {
        let relative = path(version.name).display().to_string();
        let problem = match render(root, version.name) {
            Err(e) => Some(format!("cannot be written: {e}")),
            Ok(expected) => match std::fs::read_to_string(root.join(&relative)) {
                Ok(committed) if committed == expected => None,
                Ok(_) => Some("differs from what the documents say".to_owned()),
                Err(e) => Some(format!("cannot be read: {e}")),
            },
        };
        if let Some(problem) = problem {
            out.push((relative, problem));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_characters_are_spelled_out() {
        assert_eq!(
            clean("invoice\u{202e}fdp.exe\u{200b}"),
            "invoiceU+202Efdp.exeU+200B"
        );
        assert_eq!(clean("a\nb é"), "a\nb é");
    }
}
