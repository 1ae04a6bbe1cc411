//! The catalogue of oasdiff's ERR rules against docintel's is complete, names only rules
//! that exist, and is what governance/README.md shows; every rule the gate emits is
//! registered, and every registered rule is documented.

use std::collections::BTreeSet;

use std::path::Path;

use docintel_governance::diff::catalogue::{
    Coverage, OASDIFF_ERR, markdown, other_rules_markdown, rules_markdown,
};
use docintel_governance::rules::{self, Family};

#[test]
fn every_oasdiff_err_rule_has_one_row() {
    let listed = include_str!("oasdiff-err-rules.txt");
    let ids: Vec<&str> = listed
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert!(ids.len() > 200, "{} ids", ids.len());
    let rows: Vec<&str> = OASDIFF_ERR.iter().map(|(id, _)| *id).collect();
    assert_eq!(rows, ids, "one row per oasdiff rule, in its order");
}

#[test]
fn every_row_names_a_rule_of_the_gate_or_says_why_not() {
    let ours: BTreeSet<&str> = rules::of(Family::Breaking).map(|r| r.id).collect();
    let mut not_applicable = 0;
    for (id, coverage) in OASDIFF_ERR {
        match coverage {
            Coverage::Rule(rule) => assert!(
                ours.contains(rule.id),
                "{id} → {} is not a breaking rule",
                rule.id
            ),
            Coverage::NotApplicable(why) => {
                assert!(why.len() > 40, "{id}: say why");
                not_applicable += 1;
            }
        }
    }
    // Lifecycle stability levels and one deliberate difference; everything else is covered.
    assert_eq!(not_applicable, 5);
}

#[test]
fn the_readme_shows_the_catalogue() {
    let readme = include_str!("../../README.md");
    assert!(
        readme.contains(&markdown())
            && readme.contains(&rules_markdown())
            && readme.contains(&other_rules_markdown()),
        "governance/README.md's catalogue is stale: replace it with the output of \
         `cargo run -p docintel-governance -- catalogue` (three tables)"
    );
}

#[test]
fn every_registered_rule_is_documented_once() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let page = std::fs::read_to_string(root.join("../docs/governance.md")).unwrap();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let mut ids = BTreeSet::new();
    for rule in rules::ALL {
        assert!(ids.insert(rule.id), "{} is registered twice", rule.id);
        assert!(!rule.meaning.is_empty(), "{}: say what it reports", rule.id);
        let named = format!("`{}`", rule.id);
        assert!(
            page.contains(&named) || readme.contains(&named),
            "{} is in neither docs/governance.md nor governance/README.md",
            rule.id
        );
    }
}

/// Findings name their rule by a registered constant (the diff's helpers only take one):
/// an id written out where a finding is made would escape the registry.
#[test]
fn every_rule_the_gate_emits_is_registered() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![src];
    let mut checked = 0;
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // Unit tests spell the ids out on purpose: they pin what the wire carries.
        let code = text.split("#[cfg(test)]").next().unwrap();
        let squashed: String = code.split_whitespace().collect();
        for making in ["Finding::failure(\"", "Finding::warning(\"", "rule:\""] {
            assert!(
                !squashed.contains(making),
                "{}: a finding names its rule with a string, not a constant of rules.rs",
                path.display()
            );
        }
        checked += 1;
    }
    assert!(checked > 10, "{checked} files");
    for id in [
        "request-constraint-tightened",
        "traffic-undocumented-status",
        "version-not-bumped",
        "lint-unavailable",
        "unclassified-change",
    ] {
        assert!(rules::find(id).is_some(), "{id}");
    }
}
