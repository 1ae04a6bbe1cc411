//! The bi-directional contracts check: the committed pacts pass against the committed
//! documents, and copies of a pact with one defect each fail, naming the interaction.

use std::path::{Path, PathBuf};

use docintel_governance::checks::bidirectional;
use docintel_governance::report::{Section, Severity};
use serde_json::{Value, json};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A copy of the documents and pacts, with the analytics pact changed by `f`.
fn repo_with(f: impl FnOnce(&mut Value)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for part in ["openapi", "contracts/pacts"] {
        std::fs::create_dir_all(dir.path().join(part)).unwrap();
        for e in std::fs::read_dir(root().join(part)).unwrap() {
            let e = e.unwrap();
            if e.path().is_file() {
                std::fs::copy(e.path(), dir.path().join(part).join(e.file_name())).unwrap();
            }
        }
    }
    let path = dir
        .path()
        .join("contracts/pacts/analytics-team-docintel.json");
    let mut pact: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    f(&mut pact);
    std::fs::write(&path, serde_json::to_vec_pretty(&pact).unwrap()).unwrap();
    dir
}

fn failures(section: &Section) -> Vec<String> {
    section
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Breaking)
        .map(|f| format!("{} at {}: {}", f.rule, f.location, f.message))
        .collect()
}

/// A defect: what it is, how it is made, what the finding says.
type Case = (&'static str, fn(&mut Value), &'static str);

const INTERACTION: &str = "interaction \"list processed documents for label statistics\"";

#[test]
fn the_committed_pacts_ask_only_for_what_the_documents_promise() {
    let section = bidirectional::check(&root());
    assert!(section.passed, "{:#?}", failures(&section));
    assert!(
        section.subject.contains("19 HTTP interactions compared")
            && section.subject.contains("openapi/v1.json, openapi/v2.json"),
        "{}",
        section.subject
    );
}

#[test]
fn each_defect_fails_naming_the_interaction() {
    let cases: [Case; 4] = [
        (
            "an undocumented field",
            |p| {
                p["interactions"][0]["response"]["body"]["content"]["items"][0]["department"] =
                    json!("finance")
            },
            "the pact expects `items[].department`, which GET /v2/documents's 200 does not document",
        ),
        (
            "an undocumented status",
            |p| p["interactions"][0]["response"]["status"] = json!(418),
            "the pact expects status 418, which GET /v2/documents does not document",
        ),
        (
            "a wrong path",
            |p| p["interactions"][0]["request"]["path"] = json!("/v2/document"),
            "GET /v2/document matches no path of the OpenAPI document",
        ),
        (
            "a body violating the schema",
            |p| p["interactions"][0]["response"]["body"]["content"]["next_page"] = json!(7),
            "the pact's GET /v2/documents's 200 body does not fit its schema: `next_page`",
        ),
    ];
    for (what, mutate, expected) in cases {
        let repo = repo_with(mutate);
        let section = bidirectional::check(repo.path());
        assert!(!section.passed, "{what}: passed");
        let found = failures(&section);
        assert_eq!(found.len(), 1, "{what}: {found:#?}");
        assert!(
            found[0]
                .starts_with("pact-undocumented at contracts/pacts/analytics-team-docintel.json: ")
                && found[0].contains(INTERACTION)
                && found[0].contains(expected),
            "{what}: {}",
            found[0]
        );
    }
}

#[test]
fn a_pact_for_another_provider_is_not_compared_and_an_unreadable_one_fails() {
    let repo = repo_with(|p| {
        p["provider"]["name"] = json!("billing");
        p["interactions"][0]["request"]["path"] = json!("/elsewhere");
    });
    assert!(bidirectional::check(repo.path()).passed);
    let repo = repo_with(|p| *p = json!({"provider": {"name": "docintel"}}));
    let section = bidirectional::check(repo.path());
    assert_eq!(
        failures(&section),
        vec![
            "contracts-unverifiable at contracts/pacts/analytics-team-docintel.json: unreadable pact: the pact has no `interactions` array"
        ]
    );
}
