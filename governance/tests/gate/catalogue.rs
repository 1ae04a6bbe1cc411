//! The catalogue of oasdiff's ERR rules against docintel's is complete, names only rules
//! that exist, and is what governance/README.md shows.

use std::collections::BTreeSet;

use docintel_governance::diff::RULES;
use docintel_governance::diff::catalogue::{Coverage, OASDIFF_ERR, markdown, rules_markdown};

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
    let ours: BTreeSet<&str> = RULES.iter().map(|(id, _)| *id).collect();
    let mut not_applicable = 0;
    for (id, coverage) in OASDIFF_ERR {
        match coverage {
            Coverage::Rule(rule) => assert!(ours.contains(rule), "{id} → unknown rule {rule}"),
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
        readme.contains(&markdown()) && readme.contains(&rules_markdown()),
        "governance/README.md's catalogue is stale: replace it with the output of \
         `cargo run -p docintel-governance -- catalogue` (two tables)"
    );
}
