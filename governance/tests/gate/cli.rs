//! `docintel-governance diff` as another team runs it: their spec in YAML, OpenAPI 3.0,
//! split over files, compared from the command line with the exit code as the verdict.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const API: &str = r##"openapi: 3.0.3
info: {title: Pets, version: "1"}
paths:
  /pets/{petId}:
    get:
      parameters:
        - {name: petId, in: path, required: true, schema: {type: string}}
      responses:
        "200":
          description: a pet
          content:
            application/json:
              schema: {$ref: "schemas/pet.yaml#/Pet"}
"##;

const PET: &str = r##"Pet:
  type: object
  required: [id, name]
  properties:
    id: {type: string}
    name: {type: string, maxLength: 50}
    nickname: {type: string, nullable: true}
    parent: {$ref: "#/Pet"}
    tag: {$ref: "../common.yaml#/Tag"}
"##;

const COMMON: &str = "Tag: {type: string, enum: [cat, dog]}\n";

/// A spec folder: api.yaml, schemas/pet.yaml, common.yaml, each edited by `edit`.
fn spec(dir: &Path, name: &str, edit: impl Fn(&str, String) -> String) -> PathBuf {
    let root = dir.join(name);
    std::fs::create_dir_all(root.join("schemas")).unwrap();
    for (file, text) in [
        ("api.yaml", API),
        ("schemas/pet.yaml", PET),
        ("common.yaml", COMMON),
    ] {
        std::fs::write(root.join(file), edit(file, text.to_owned())).unwrap();
    }
    root.join("api.yaml")
}

fn diff(base: &Path, rev: &Path, extra: &[&str]) -> (Option<i32>, Value) {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_docintel-governance"))
        .arg("diff")
        .arg(base)
        .arg(rev)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code(), report)
}

fn rules(report: &Value) -> Vec<(String, String)> {
    report["sections"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_split_yaml_3_0_spec_is_compared_through_its_external_refs() {
    let dir = tempfile::tempdir().unwrap();
    let base = spec(dir.path(), "base", |_, t| t);
    assert_eq!(diff(&base, &base, &[]).0, Some(0));

    // A change deep in a referenced file of a referenced file is found.
    let narrowed = spec(dir.path(), "enum-widened", |f, t| {
        if f == "common.yaml" {
            t.replace("[cat, dog]", "[cat, dog, bird]")
        } else {
            t
        }
    });
    let (code, report) = diff(&base, &narrowed, &[]);
    assert_eq!(code, Some(1), "{report}");
    assert_eq!(
        rules(&report),
        [("response-enum-widened".into(), "breaking".into())]
    );
    let at = report["sections"][0]["findings"][0]["location"]
        .as_str()
        .unwrap();
    assert!(at.ends_with("/properties/tag"), "{at}");

    // 3.0's nullable, in the recursive schema: made nullable is breaking.
    let nullable = spec(dir.path(), "nullable", |f, t| {
        if f == "schemas/pet.yaml" {
            t.replace(
                "name: {type: string, maxLength: 50}",
                "name: {type: string, maxLength: 50, nullable: true}",
            )
        } else {
            t
        }
    });
    let (code, report) = diff(&base, &nullable, &[]);
    assert_eq!(code, Some(1), "{report}");
    assert!(
        rules(&report)
            .iter()
            .all(|(r, _)| r == "response-property-made-nullable")
    );

    // A renamed path parameter and a tightened response bound: nothing breaks.
    let safe = spec(dir.path(), "safe", |f, t| match f {
        "api.yaml" => t.replace("petId", "id"),
        "schemas/pet.yaml" => t.replace("maxLength: 50", "maxLength: 40"),
        _ => t,
    });
    assert_eq!(diff(&base, &safe, &[]).0, Some(0));
}

#[test]
fn fail_on_warning_and_the_sunset_policy_are_the_callers_choice() {
    let dir = tempfile::tempdir().unwrap();
    let base = spec(dir.path(), "base", |_, t| t);
    // An optional response property removed: a warning, not a break.
    let warned = spec(dir.path(), "warned", |f, t| {
        if f == "schemas/pet.yaml" {
            t.replace("    nickname: {type: string, nullable: true}\n", "")
        } else {
            t
        }
    });
    let (code, report) = diff(&base, &warned, &[]);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(
        rules(&report),
        [(
            "response-optional-property-removed".into(),
            "warning".into()
        )]
    );
    let (code, report) = diff(&base, &warned, &["--fail-on", "warning"]);
    assert_eq!(code, Some(1));
    assert_eq!(report["passed"], false);

    // Deprecated without a sunset: fine by default, breaking under a 90-day policy.
    let deprecated = spec(dir.path(), "deprecated", |f, t| {
        if f == "api.yaml" {
            t.replace("    get:\n", "    get:\n      deprecated: true\n")
        } else {
            t
        }
    });
    assert_eq!(diff(&base, &deprecated, &[]).0, Some(0));
    let (code, report) = diff(&base, &deprecated, &["--min-sunset-days", "90"]);
    assert_eq!(code, Some(1));
    assert_eq!(
        rules(&report)
            .into_iter()
            .filter(|(_, s)| s == "breaking")
            .collect::<Vec<_>>(),
        [("deprecation-sunset-invalid".into(), "breaking".into())]
    );
}

#[test]
fn unusable_input_exits_2_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let base = spec(dir.path(), "base", |_, t| t);
    let escaping = spec(dir.path(), "escaping", |f, t| {
        if f == "api.yaml" {
            t.replace("schemas/pet.yaml#/Pet", "../../etc/passwd#/Pet")
        } else {
            t
        }
    });
    let out = Command::new(env!("CARGO_BIN_EXE_docintel-governance"))
        .arg("diff")
        .arg(&base)
        .arg(&escaping)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("leaves the spec's folder") || err.contains("No such file"),
        "{err}"
    );
    let broken_yaml = spec(dir.path(), "broken", |f, t| {
        if f == "api.yaml" {
            format!("{t}\n  : [")
        } else {
            t
        }
    });
    assert_eq!(diff(&base, &broken_yaml, &[]).0, Some(2));
}

#[test]
fn broker_options_that_cannot_work_are_refused_before_the_gate_runs() {
    let check = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_docintel-governance"))
            .arg("check")
            .args(args)
            .env_remove("PACT_BROKER_BASE_URL")
            .env_remove("PACT_BROKER_TOKEN")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // Results need a provider version to be recorded against.
    let (code, err) = check(&[
        "--broker-url",
        "http://127.0.0.1:9/broker",
        "--publish-verification-results",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--provider-version"), "{err}");
    let (code, err) = check(&[
        "--broker-url",
        "http://127.0.0.1:9/broker",
        "--consumer-version-selectors",
        "{\"mainBranch\": true}",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("not a JSON array of consumer version selectors"),
        "{err}"
    );
}
