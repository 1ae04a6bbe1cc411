//! The gate on this repository (it must pass), and on copies of it with one defect each
//! (the check that owns the defect must fail, naming it). `diff` exit codes through the
//! binary.

use std::path::{Path, PathBuf};
use std::process::Command;

use docintel_governance::checks;
use docintel_governance::report::{Section, Severity};
use serde_json::Value;

/// The gate's own binary parses documents for servers these tests start.
fn parser() -> docintel_backend::pipeline::Isolation {
    docintel_backend::pipeline::Isolation::Process {
        program: env!("CARGO_BIN_EXE_docintel-governance").into(),
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A copy of what the checks read, to break.
fn copy_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for part in ["openapi", "schemas", "contracts/pacts", "deprecations.md"] {
        copy(&root().join(part), &dir.path().join(part));
    }
    dir
}

fn copy(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            copy(&e.path(), &to.join(e.file_name()));
        }
    } else {
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from, to).unwrap();
    }
}

fn edit_json(path: &Path, f: impl FnOnce(&mut Value)) {
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    f(&mut v);
    std::fs::write(path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

fn failures(section: &Section) -> Vec<String> {
    section
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Breaking)
        .map(|f| format!("{} at {}", f.rule, f.location))
        .collect()
}

#[tokio::test]
async fn the_gate_passes_on_this_repository() {
    let report = docintel_governance::check(
        &root(),
        &docintel_governance::CheckOptions {
            registry: None,
            require_lint: false,
            parser: parser(),
            broker: None,
            traffic: None,
        },
    )
    .await
    .unwrap();
    assert!(report.passed, "{}", report.markdown());
    let checks: Vec<&str> = report.sections.iter().map(|s| s.check.as_str()).collect();
    for check in [
        "spec drift",
        "breaking changes",
        "versions",
        "changelog",
        "event schemas",
        "contracts",
        "deprecations",
        "lint",
    ] {
        assert!(checks.contains(&check), "{check} missing from {checks:?}");
    }
    let json: Value = serde_json::from_str(&report.json()).unwrap();
    assert_eq!(json["passed"], true);
}

/// A deliberate break passes only while it is listed, with its reason, against the
/// baseline it breaks.
#[test]
fn an_accepted_breaking_change_is_a_warning_and_only_for_its_baseline() {
    let repo = copy_repo();
    let accepted = repo.path().join(checks::breaking::ACCEPTED_PATH);
    let v2 = |sections: &[Section]| {
        sections
            .iter()
            .find(|s| s.subject.starts_with("openapi/v2.json"))
            .unwrap()
            .clone()
    };
    // As committed: the filename pattern was tightened on purpose.
    let section = v2(&checks::breaking::check(repo.path()));
    assert!(section.passed, "{section:?}");
    assert!(
        section
            .findings
            .iter()
            .any(|f| f.rule == "request-constraint-tightened"
                && f.message.starts_with("accepted (security fix")),
        "{section:?}"
    );
    // Without the acceptance, the same change fails the gate.
    let text = std::fs::read_to_string(&accepted).unwrap();
    std::fs::remove_file(&accepted).unwrap();
    let section = v2(&checks::breaking::check(repo.path()));
    assert_eq!(
        failures(&section),
        [
            "request-constraint-tightened at /paths/~1v2~1documents/post/parameters/query:filename/schema/pattern"
        ]
    );
    // An acceptance that matches nothing is reported, without failing.
    let mut entries: Value = serde_json::from_str(&text).unwrap();
    let mut stale = entries[0].clone();
    stale["location"] = serde_json::json!("/paths/~1v2~1gone");
    entries.as_array_mut().unwrap().push(stale);
    std::fs::write(&accepted, entries.to_string()).unwrap();
    let section = v2(&checks::breaking::check(repo.path()));
    assert!(section.passed, "{section:?}");
    assert!(
        section
            .findings
            .iter()
            .any(|f| f.rule == "accepted-change-unused" && f.location == "/paths/~1v2~1gone"),
        "{section:?}"
    );
    // A malformed file fails rather than accepting anything.
    std::fs::write(&accepted, r#"[{"rule": "x"}]"#).unwrap();
    let sections = checks::breaking::check(repo.path());
    assert!(sections.iter().any(|s| !s.passed), "{sections:?}");
}

/// The contracts check uploads a committed PDF (the gate does not depend on the testkit):
/// it stays the one the testkit builds from the same lines.
#[test]
fn the_contracts_invoice_is_what_the_testkit_builds() {
    let built = docintel_testkit::pdf(&checks::contracts::INVOICE_LINES);
    assert!(
        checks::contracts::INVOICE_PDF == built.as_slice(),
        "governance/src/checks/invoice.pdf is stale: write docintel_testkit::pdf(&INVOICE_LINES) there"
    );
}

/// Like the committed OpenAPI documents, the committed changelogs are generated.
#[test]
fn the_committed_changelogs_are_what_the_documents_say() {
    let drift = docintel_governance::changelog::drift(&root());
    assert!(
        drift.is_empty(),
        "{drift:?}: run `cargo run -p docintel-governance -- changelog` and commit the result"
    );
}

/// The governance page names every rule of the version check and of the documentation diff.
#[test]
fn the_governance_page_names_the_version_rules() {
    let page = std::fs::read_to_string(root().join("docs/governance.md")).unwrap();
    use docintel_governance::rules::{Family, of};
    let rules = of(Family::Version)
        .chain(of(Family::Docs))
        .chain(of(Family::Warning));
    for rule in rules {
        let id = rule.id;
        assert!(
            page.contains(&format!("`{id}`")),
            "docs/governance.md: {id}"
        );
    }
}

/// A change to v2 needs its version raised by the right step, and a changelog that says so;
/// cutting the release moves the change into the release's own section.
#[test]
fn a_change_needs_a_new_version_and_a_new_changelog() {
    let repo = copy_repo();
    copy(
        &root().join("docs/changelog"),
        &repo.path().join("docs/changelog"),
    );
    let v2 = repo.path().join("openapi/v2.json");
    let v2_section = |sections: &[Section]| {
        sections
            .iter()
            .find(|s| s.check == "versions" && s.subject.starts_with("openapi/v2.json"))
            .unwrap()
            .clone()
    };
    let changelog_section = |sections: &[Section]| {
        sections
            .iter()
            .find(|s| s.check == "changelog")
            .unwrap()
            .clone()
    };
    // The baselines as the current documents: nothing to say.
    copy(&repo.path().join("openapi/released/v2/2.0.0.json"), &v2);
    copy(
        &repo.path().join("openapi/released/v1/1.0.0.json"),
        &repo.path().join("openapi/v1.json"),
    );
    docintel_governance::changelog::write(repo.path()).unwrap();
    let sections = checks::versioning::check(repo.path());
    assert!(sections.iter().all(|s| s.passed), "{sections:?}");
    let text = std::fs::read_to_string(repo.path().join("docs/changelog/v2.md")).unwrap();
    assert!(text.contains("## 2.0.0\n\nThe first release:"), "{text}");
    assert!(
        !text.contains("Unreleased") && !text.contains("unreleased"),
        "{text}"
    );

    // A new response property without a new version, and a changelog not rewritten.
    edit_json(&v2, |d| {
        d["components"]["schemas"]["DocumentView"]["properties"]["pages"] =
            serde_json::json!({"type": "integer"});
    });
    let sections = checks::versioning::check(repo.path());
    assert_eq!(
        failures(&v2_section(&sections)),
        ["version-not-bumped at openapi/v2.json#/info/version"]
    );
    assert_eq!(
        failures(&changelog_section(&sections)),
        ["changelog-drift at docs/changelog/v2.md"]
    );
    assert!(
        v2_section(&sections)
            .subject
            .contains("needs a minor release, 2.1.0")
    );

    // 2.0.1 is too small a step; 2.1.0 and the rewritten changelog pass.
    edit_json(&v2, |d| d["info"]["version"] = "2.0.1".into());
    assert_eq!(
        failures(&v2_section(&checks::versioning::check(repo.path()))),
        ["version-bump-too-small at openapi/v2.json#/info/version"]
    );
    edit_json(&v2, |d| d["info"]["version"] = "2.1.0".into());
    docintel_governance::changelog::write(repo.path()).unwrap();
    let sections = checks::versioning::check(repo.path());
    assert!(sections.iter().all(|s| s.passed), "{sections:?}");
    let text = std::fs::read_to_string(repo.path().join("docs/changelog/v2.md")).unwrap();
    assert!(
        text.contains("## 2.1.0 (unreleased)\n\nAgainst 2.0.0:"),
        "{text}"
    );
    assert!(
        text.contains("- **additive** `response-property-added` at `/paths/~1v2~1documents/get/"),
        "{text}"
    );

    // Released: 2.1.0 is its own section, against 2.0.0, and nothing is unreleased.
    copy(&v2, &repo.path().join("openapi/released/v2/2.1.0.json"));
    docintel_governance::changelog::write(repo.path()).unwrap();
    let text = std::fs::read_to_string(repo.path().join("docs/changelog/v2.md")).unwrap();
    assert!(
        text.contains("## 2.1.0\n\nAgainst 2.0.0 (a minor release):"),
        "{text}"
    );
    assert!(!text.contains("unreleased"), "{text}");
    let sections = checks::versioning::check(repo.path());
    assert!(sections.iter().all(|s| s.passed), "{sections:?}");
}

#[tokio::test]
async fn a_stale_committed_spec_fails_drift() {
    let repo = copy_repo();
    let path = repo.path().join("openapi/v2.json");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text = text.replacen("Upload a document", "Upload one document", 1);
    std::fs::write(&path, text).unwrap();
    let section = checks::drift::check(repo.path(), None).await;
    assert_eq!(failures(&section), ["spec-drift at openapi/v2.json"]);
}

#[test]
fn a_breaking_change_against_the_baseline_fails() {
    let repo = copy_repo();
    // The released v2 had a required response property the current one no longer sends.
    edit_json(&repo.path().join("openapi/released/v2/2.0.0.json"), |d| {
        let view = &mut d["components"]["schemas"]["DocumentView"];
        view["properties"]["pages"] = serde_json::json!({"type": "integer"});
        view["required"]
            .as_array_mut()
            .unwrap()
            .push("pages".into());
    });
    let sections = checks::breaking::check(repo.path());
    let v2 = sections
        .iter()
        .find(|s| s.subject.starts_with("openapi/v2.json"))
        .unwrap();
    let fired = failures(v2);
    assert!(!fired.is_empty());
    assert!(
        fired
            .iter()
            .all(|f| f.starts_with("response-property-removed at ")
                && f.ends_with("/properties/pages")),
        "{fired:?}"
    );
    // A newer release is the baseline: cut one and the same change passes.
    copy(
        &repo.path().join("openapi/v2.json"),
        &repo.path().join("openapi/released/v2/2.1.0.json"),
    );
    let sections = checks::breaking::check(repo.path());
    assert!(sections.iter().all(|s| s.passed), "{sections:?}");
}

#[tokio::test]
async fn an_incompatible_schema_version_fails_event_schemas() {
    let repo = copy_repo();
    let v1 =
        std::fs::read_to_string(repo.path().join("schemas/avro/doc.uploaded/v1.avsc")).unwrap();
    let mut schema: Value = serde_json::from_str(&v1).unwrap();
    schema["fields"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"name": "pages", "type": "int"}));
    std::fs::write(
        repo.path().join("schemas/avro/doc.uploaded/v2.avsc"),
        schema.to_string(),
    )
    .unwrap();
    let sections = checks::events::check(repo.path(), None).await;
    assert_eq!(
        failures(&sections[0]),
        ["schema-incompatible at doc.uploaded v2"]
    );
}

#[tokio::test]
async fn a_pact_the_provider_breaks_fails_contracts() {
    let repo = copy_repo();
    edit_json(
        &repo
            .path()
            .join("contracts/pacts/legacy-portal-docintel.json"),
        |p| {
            p["interactions"][0]["response"]["status"] = serde_json::json!(201);
        },
    );
    let section = checks::contracts::check(repo.path(), parser(), None).await;
    let fired = failures(&section);
    assert_eq!(fired.len(), 1, "{fired:?}");
    assert!(fired[0].starts_with("pact-mismatch"));
    assert!(
        section.findings[0].message.contains("201"),
        "{:?}",
        section.findings[0]
    );
}

#[test]
fn the_deprecation_policy_is_enforced() {
    use docintel_api::deprecation::{self, Deprecation};
    let table = deprecation::all();
    use time::macros::date;
    let calendar = std::fs::read_to_string(root().join("deprecations.md")).unwrap();
    let spec: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("openapi/v1.json")).unwrap())
            .unwrap();
    let specs = vec![("openapi/v1.json".to_owned(), spec.clone())];
    assert!(checks::deprecations::static_findings(&table, &calendar, &specs).is_empty());

    let short = [Deprecation {
        sunset: date!(2026 - 09 - 01),
        ..table[0]
    }];
    let rules: Vec<String> = checks::deprecations::static_findings(&short, &calendar, &specs)
        .into_iter()
        .map(|f| f.rule)
        .collect();
    assert!(
        rules.contains(&"deprecation-notice-too-short".to_owned()),
        "{rules:?}"
    );
    assert!(
        rules.contains(&"deprecation-calendar-mismatch".to_owned()),
        "{rules:?}"
    );
    assert!(
        rules.contains(&"deprecation-sunset-mismatch".to_owned()),
        "{rules:?}"
    );

    let rules: Vec<String> = checks::deprecations::static_findings(&table, "no table", &specs)
        .into_iter()
        .map(|f| f.rule)
        .collect();
    assert_eq!(rules, ["deprecation-not-in-calendar"]);

    // A deprecated operation nobody scheduled.
    let mut v2: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("openapi/v2.json")).unwrap())
            .unwrap();
    v2["paths"]["/v2/documents"]["get"]["deprecated"] = serde_json::json!(true);
    let rules: Vec<String> =
        checks::deprecations::static_findings(&table, &calendar, &[("openapi/v2.json".into(), v2)])
            .into_iter()
            .map(|f| f.rule)
            .collect();
    assert_eq!(rules, ["deprecated-without-calendar"]);
}

#[test]
fn diff_exits_0_1_2() {
    let bin = env!("CARGO_BIN_EXE_docintel-governance");
    let dir = tempfile::tempdir().unwrap();
    let base = root().join("openapi/v2.json");
    let broken = dir.path().join("broken.json");
    edit_json(
        &{
            copy(&base, &broken);
            broken.clone()
        },
        |d| {
            d["paths"]
                .as_object_mut()
                .unwrap()
                .remove("/v2/documents/{id}/text");
        },
    );
    let run = |a: &Path, b: &Path, extra: &[&str]| {
        Command::new(bin)
            .arg("diff")
            .arg(a)
            .arg(b)
            .args(extra)
            .output()
            .unwrap()
    };
    let same = run(&base, &base, &[]);
    assert_eq!(same.status.code(), Some(0));
    let out = run(&base, &broken, &[]);
    assert_eq!(out.status.code(), Some(1));
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(
        md.contains("operation-removed") && md.contains("/v2/documents/{id}/text"),
        "{md}"
    );
    let out = run(&base, &broken, &["--format", "json"]);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["passed"], false);
    assert_eq!(
        json["sections"][0]["findings"][0]["rule"],
        "operation-removed"
    );
    // The other direction only adds an operation.
    assert_eq!(run(&broken, &base, &[]).status.code(), Some(0));
    let not_json = dir.path().join("x.json");
    std::fs::write(&not_json, "{").unwrap();
    assert_eq!(run(&base, &not_json, &[]).status.code(), Some(2));
    let swagger2 = dir.path().join("s.json");
    std::fs::write(&swagger2, r#"{"swagger":"2.0","paths":{}}"#).unwrap();
    assert_eq!(run(&swagger2, &base, &[]).status.code(), Some(2));
    assert_eq!(
        run(&base, &dir.path().join("missing.json"), &[])
            .status
            .code(),
        Some(2)
    );

    // The changelog marks the breaking change.
    let out = Command::new(bin)
        .args(["changelog", "--from"])
        .arg(&base)
        .arg("--to")
        .arg(&broken)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "- **breaking** `operation-removed` at `/paths/~1v2~1documents~1{id}~1text/get`"
        ),
        "{text}"
    );
    assert!(text.contains("needs a major release"), "{text}");
}

#[tokio::test]
async fn event_schemas_are_checked_against_a_live_registry() {
    let server = docintel_governance::server::Server::start(parser())
        .await
        .unwrap();
    let registry = server.url("/registry");
    let sections = checks::events::check(&root(), Some(&registry)).await;
    assert_eq!(sections.len(), 2);
    assert!(sections[1].passed, "{:?}", sections[1]);

    // Someone replaces doc.failed-value with an unrelated schema under NONE, then BACKWARD.
    let admin = server.backend().create_admin_key("ops").await.unwrap();
    let client = reqwest::Client::new();
    let ct = "application/vnd.schemaregistry.v1+json";
    let call = |method: reqwest::Method, path: &str, body: Value| {
        client
            .request(method, format!("{registry}{path}"))
            .bearer_auth(&admin)
            .header("content-type", ct)
            .body(body.to_string())
            .send()
    };
    let delete_failed = || {
        call(
            reqwest::Method::DELETE,
            "/subjects/doc.failed-value",
            Value::Null,
        )
    };
    delete_failed().await.unwrap();
    call(
        reqwest::Method::PUT,
        "/config/doc.failed-value",
        serde_json::json!({"compatibility": "NONE"}),
    )
    .await
    .unwrap();
    let foreign = r#"{"type":"record","name":"X","fields":[{"name":"n","type":"int"}]}"#;
    let r = call(
        reqwest::Method::POST,
        "/subjects/doc.failed-value/versions",
        serde_json::json!({"schema": foreign}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    call(
        reqwest::Method::PUT,
        "/config/doc.failed-value",
        serde_json::json!({"compatibility": "BACKWARD"}),
    )
    .await
    .unwrap();
    let sections = checks::events::check(&root(), Some(&registry)).await;
    assert_eq!(
        failures(&sections[1]),
        ["registry-incompatible at doc.failed-value v2"]
    );

    // With no live version the subject is new there: listed, not a failure.
    delete_failed().await.unwrap();
    let sections = checks::events::check(&root(), Some(&registry)).await;
    assert!(sections[1].passed, "{:?}", sections[1]);
    let listed: Vec<String> = sections[1]
        .findings
        .iter()
        .map(|f| format!("{} at {}", f.rule, f.location))
        .collect();
    assert_eq!(listed, ["subject-new at doc.failed-value v2"]);
}
