//! The traffic check on small fixtures (`governance/tests/fixtures/traffic/`): a spec of
//! another team's shape (YAML, OpenAPI 3.0, a `servers` prefix, `$ref`ed responses and
//! headers), recordings that pass, recordings that fire each rule, as JSON lines and as
//! a browser's HAR, and the `traffic` command's exit codes.

use std::path::{Path, PathBuf};
use std::process::Command;

use docintel_governance::checks::traffic::{self, Counts, Spec};
use docintel_governance::report::Finding;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/traffic")
}

fn judge(recordings: &[&str]) -> traffic::Outcome {
    let spec = Spec::load(&fixtures().join("pets.yaml")).unwrap();
    let paths: Vec<PathBuf> = recordings.iter().map(|r| fixtures().join(r)).collect();
    let (records, unreadable) = traffic::read(&paths);
    traffic::judge(&[spec], &records, unreadable)
}

/// `rule at location` of each finding, the location without the spec's file.
fn fired(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .map(|f| {
            let location = f.location.split('#').nth(1).unwrap_or(&f.location);
            format!("{} at {location}", f.rule)
        })
        .collect()
}

#[test]
fn documented_answers_pass_and_unknown_routes_and_methods_are_counted_not_failed() {
    let outcome = judge(&["documented.jsonl"]);
    assert_eq!(fired(&outcome.findings), Vec::<String>::new());
    assert_eq!(
        outcome.counts,
        Counts {
            recorded: 7,
            matched: 4,
            skipped: 3
        }
    );
    assert!(
        outcome
            .summary()
            .contains("7 responses recorded, 4 matched")
    );
}

#[test]
fn each_rule_fires_on_an_undocumented_status_content_type_and_header() {
    let outcome = judge(&["undocumented.jsonl"]);
    assert_eq!(
        fired(&outcome.findings),
        [
            "traffic-undocumented-content-type at /paths/~1pets~1{petId}/get/responses/200/content",
            "traffic-undocumented-header at /paths/~1pets~1mine/get/responses/204/headers",
            "traffic-undocumented-header at /paths/~1pets~1{petId}/get/responses/404/headers",
            "traffic-undocumented-status at /paths/~1pets~1{petId}/get/responses",
        ]
    );
    let status = &outcome.findings[3].message;
    assert!(
        status.contains("`GET /pets/{petId}` answered 429") && status.contains("recorded 2 times"),
        "{status}"
    );
    assert!(outcome.findings[0].message.contains("`text/html`"));
    assert!(outcome.findings[1].message.contains("`ratelimit`"));
    assert!(outcome.findings[2].message.contains("`www-authenticate`"));
    assert_eq!(outcome.counts.matched, 5);
}

#[test]
fn a_har_file_is_read_as_a_browser_recorded_it() {
    let outcome = judge(&["browser.har"]);
    // The blocked request (status 0) got no answer: it is not a response.
    assert_eq!(
        outcome.counts,
        Counts {
            recorded: 3,
            matched: 3,
            skipped: 0
        }
    );
    // HTTP/2's `:status` is no header; the query is no part of the path.
    assert_eq!(
        fired(&outcome.findings),
        [
            "traffic-undocumented-header at /paths/~1pets~1{petId}/get/responses/200/headers",
            "traffic-undocumented-status at /paths/~1pets/get/responses",
        ]
    );
    assert!(outcome.findings[0].message.contains("`set-cookie`"));
}

#[test]
fn unreadable_or_empty_recordings_fail() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.jsonl");
    std::fs::write(&broken, "{\"method\":\"GET\"}\nnot json\n").unwrap();
    let spec = Spec::load(&fixtures().join("pets.yaml")).unwrap();
    let (records, unreadable) = traffic::read(&[broken]);
    let outcome = traffic::judge(&[spec], &records, unreadable);
    let rules: Vec<&str> = outcome.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(
        rules,
        ["traffic-unreadable", "traffic-unreadable", "traffic-empty"]
    );
    // A last line cut short (a server killed mid-write) is no finding.
    let cut = dir.path().join("cut.jsonl");
    let line = std::fs::read_to_string(fixtures().join("documented.jsonl")).unwrap();
    let first = line.lines().next().unwrap();
    std::fs::write(&cut, format!("{first}\n{}", &first[..40])).unwrap();
    let (records, unreadable) = traffic::read(&[cut]);
    assert_eq!((records.len(), unreadable.len()), (1, 0));
}

fn run(args: &[&Path]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_docintel-governance"))
        .arg("traffic")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn the_command_exits_1_on_findings_0_without_and_2_on_an_unusable_spec() {
    let spec = fixtures().join("pets.yaml");
    let spec_arg = Path::new("--spec");
    let (code, out) = run(&[spec_arg, &spec, &fixtures().join("documented.jsonl")]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("7 responses recorded"), "{out}");
    // The whole folder: both recordings and the HAR file (not the spec beside them).
    let (code, out) = run(&[spec_arg, &spec, &fixtures()]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("15 responses recorded"), "{out}");
    assert!(out.contains("traffic-undocumented-status"), "{out}");
    let (code, out) = run(&[spec_arg, &fixtures().join("missing.yaml"), &fixtures()]);
    assert_eq!(code, Some(2), "{out}");
}
