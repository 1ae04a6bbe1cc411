//! 4b. Contracts against the documents (bi-directional): every pact in `contracts/pacts/`
//!    whose provider is `docintel` asks only for what `openapi/v*.json` promise — each
//!    HTTP interaction against the document with a path template for its path (`/v1/…`
//!    against v1.json, `/v2/…` against v2.json). The comparison is
//!    `docintel-contract-check`'s, the same the embedded broker runs when a pact or a
//!    provider's document is published. Message interactions have no operation and are
//!    only counted (the contracts check verifies them against the real events).

use std::path::Path;

use docintel_contract_check::{Document, compare};
use serde_json::Value;

use crate::report::{Finding, Section};
use crate::rules;

/// The provider whose pacts the documents of this repository answer for.
const PROVIDER: &str = "docintel";

/// Compares the committed pacts of `docintel`'s consumers with its committed documents.
pub fn check(root: &Path) -> Section {
    let mut findings = Vec::new();
    let mut documents = Vec::new();
    let mut names = Vec::new();
    let openapi = root.join("openapi");
    let mut files: Vec<_> = std::fs::read_dir(&openapi)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    for path in files {
        let is_document = path.extension().is_some_and(|e| e == "json")
            && path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('v'));
        if !is_document {
            continue;
        }
        let name = format!(
            "openapi/{}",
            path.file_name().unwrap_or_default().to_string_lossy()
        );
        match read(&path).and_then(|v| Document::new(v).map_err(|e| e.to_string())) {
            Ok(d) => {
                documents.push(d);
                names.push(name);
            }
            Err(e) => findings.push(Finding::failure(
                rules::CONTRACTS_UNVERIFIABLE.id,
                name,
                e,
                "",
            )),
        }
    }
    let documents: Vec<&Document> = documents.iter().collect();
    let dir = root.join("contracts/pacts");
    let mut pacts: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    pacts.sort();
    let (mut compared, mut messages) = (0, 0);
    for path in pacts
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
    {
        let location = format!(
            "contracts/pacts/{}",
            path.file_name().unwrap_or_default().to_string_lossy()
        );
        let pact = match read(path) {
            Ok(p) => p,
            Err(e) => {
                findings.push(Finding::failure(
                    rules::CONTRACTS_UNVERIFIABLE.id,
                    location,
                    e,
                    "",
                ));
                continue;
            }
        };
        if pact["provider"]["name"].as_str() != Some(PROVIDER) {
            continue;
        }
        match compare(&pact, &documents) {
            Ok(c) => {
                compared += c.compared;
                messages += c.messages;
                findings.extend(c.mismatches.iter().map(|m| {
                    Finding::failure(
                        rules::PACT_UNDOCUMENTED.id,
                        format!("{location}: {}", m.operation),
                        m.to_string(),
                        "the consumer asks for what the document does not promise: document it (and serve it), or the consumer stops relying on it",
                    )
                }));
            }
            Err(e) => findings.push(Finding::failure(
                rules::CONTRACTS_UNVERIFIABLE.id,
                location,
                e.to_string(),
                "",
            )),
        }
    }
    Section::new(
        "contracts",
        format!(
            "contracts/pacts/*.json against {} (bi-directional: {compared} HTTP interactions compared, {messages} message interactions left to verification)",
            names.join(", ")
        ),
        findings,
    )
}

fn read(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}
