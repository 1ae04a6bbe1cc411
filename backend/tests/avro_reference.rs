//! Differential test of docintel's Avro compatibility checker against the reference
//! implementations: PyPI `avro` (a port of the Java checker Confluent's registry runs)
//! decides each mode's verdict, fastavro proves that what is judged readable is read.
//! `avro_reference.py` generates the schema histories and the reference's answers; it
//! needs the test environment's Python (`./test` puts it first on PATH).
//!
//! One difference is expected and explained in the script and in `schemas::compat`:
//! relative aliases (the Python port does not qualify them; Java and the specification
//! do, and so does docintel). By default docintel reads bytes as a string as the reference
//! does; its opt-in rule that refuses it (`Rules::refuse_bytes_as_string`) must agree with
//! the reference with that one rule changed, and fastavro fails on such data in this very
//! run (the rule's reason).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use apache_avro::Schema;
use docintel_backend::schemas::{self, Mode};
use serde_json::Value;

const MODES: [(&str, Mode); 7] = [
    ("BACKWARD", Mode::Backward),
    ("BACKWARD_TRANSITIVE", Mode::BackwardTransitive),
    ("FORWARD", Mode::Forward),
    ("FORWARD_TRANSITIVE", Mode::ForwardTransitive),
    ("FULL", Mode::Full),
    ("FULL_TRANSITIVE", Mode::FullTransitive),
    ("NONE", Mode::None),
];

fn reference_cases() -> Vec<Value> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/avro_reference.py");
    let out = Command::new("python3")
        .args([script, "--cases", "400", "--seed", "19"])
        .output()
        .expect("python3 runs (./test installs its environment)");
    assert!(
        out.status.success(),
        "the reference generator failed (needs PyPI avro and fastavro, which ./test installs):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Value>(&out.stdout)
        .expect("the generator prints JSON")
        .as_array()
        .expect("a list of cases")
        .clone()
}

#[test]
fn docintel_judges_every_generated_history_as_the_reference_does() {
    let cases = reference_cases();
    assert!(cases.len() >= 400, "{} cases", cases.len());
    let mut disagreements = Vec::new();
    let mut families: BTreeMap<String, BTreeSet<bool>> = BTreeMap::new();
    let (mut bytes_as_string, mut relative_alias, mut triples) = (0, 0, 0);
    let mut fastavro_failures = Vec::new();
    let mut fastavro_confirms_bytes = 0;
    for (n, case) in cases.iter().enumerate() {
        let history: Vec<Schema> = case["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| Schema::parse(s).unwrap_or_else(|e| panic!("case {n}: {e}\n{s}")))
            .collect();
        if history.len() == 3 {
            triples += 1;
        }
        let (new, earlier) = history.split_last().unwrap();
        let strict = schemas::Rules {
            refuse_bytes_as_string: true,
        };
        let earlier_refs: Vec<schemas::WithRefs<'_>> = earlier.iter().map(Into::into).collect();
        for (rules, verdicts) in [
            (schemas::Rules::default(), "verdicts"),
            (strict, "verdicts_docintel"),
        ] {
            let expected = &case[verdicts];
            for (name, mode) in MODES {
                let ours = schemas::check_with(
                    mode,
                    &earlier_refs,
                    new.into(),
                    rules,
                    &mut Default::default(),
                );
                if Some(ours.is_ok()) != expected[name].as_bool() {
                    disagreements.push(format!(
                        "case {n} {name} {rules:?} ({}): reference {}, docintel {:?}\n{}",
                        case["families"], expected[name], ours, case["history"]
                    ));
                }
            }
        }
        let backward_ok = case["verdicts"]["BACKWARD"].as_bool().unwrap();
        for f in case["families"].as_array().unwrap() {
            families
                .entry(f.as_str().unwrap().to_owned())
                .or_default()
                .insert(backward_ok);
        }
        if case["verdicts"] != case["verdicts_docintel"] {
            bytes_as_string += 1;
        }
        if case["relative_alias"] == true && case["verdicts_unqualified"] != case["verdicts"] {
            relative_alias += 1;
        }
        for f in case["fastavro_failures"].as_array().unwrap() {
            fastavro_failures.push(format!("case {n} {}: {f}", case["families"]));
        }
        if !case["bytes_as_string_failures"]
            .as_array()
            .unwrap()
            .is_empty()
        {
            fastavro_confirms_bytes += 1;
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} disagreements with the reference:\n{}",
        disagreements.len(),
        disagreements.join("\n\n")
    );
    assert!(
        fastavro_failures.is_empty(),
        "fastavro could not read data a compatible writer wrote:\n{}",
        fastavro_failures.join("\n")
    );
    // The opt-in rule changes verdicts in this run, and fastavro shows its reason: data the
    // unmodified reference calls readable fails to read.
    assert!(
        bytes_as_string > 0 && fastavro_confirms_bytes > 0,
        "{bytes_as_string} {fastavro_confirms_bytes}"
    );
    assert!(relative_alias > 0, "no case exercised a relative alias");
    assert!(triples >= 50, "only {triples} three-version histories");
    // Every family of change the generator makes occurs, and the common ones both as a
    // compatible and as an incompatible change (so a checker that always answers one way
    // cannot pass).
    for family in [
        "field added with default",
        "field added without default",
        "field removed without default",
        "field renamed with alias",
        "field renamed without alias",
        "record renamed with relative alias",
        "record renamed with full alias",
        "record renamed without alias",
        "record renamed with a wrong alias",
        "enum renamed with relative alias",
        "enum symbol added",
        "enum default added",
        "fixed resized",
        "type int → long",
        "type long → int",
        "type string → bytes",
        "type bytes → string",
        "union widened",
        "union narrowed",
        "made a union",
        "wrapped in array",
        "wrapped in map",
        "namespace changed",
    ] {
        assert!(families.contains_key(family), "no case of {family:?}");
    }
    let both: Vec<_> = families
        .iter()
        .filter(|(_, v)| v.len() == 2)
        .map(|(k, _)| k.as_str())
        .collect();
    assert!(both.len() >= 10, "families seen both ways: {both:?}");
    eprintln!(
        "{} histories ({triples} of three versions), 7 modes each: 0 disagreements; \
         {bytes_as_string} changed by the opt-in bytes-as-string rule (fastavro failed on \
         {fastavro_confirms_bytes}); explained: {relative_alias} relative-alias",
        cases.len()
    );
}
