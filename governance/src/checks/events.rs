//! 3. Event schemas: every subject's history in `schemas/avro/` obeys its declared mode
//!    (offline); with a registry, the schema each topic is written with may be registered
//!    there.

use std::path::Path;

use docintel_backend::{events, schemas};
use serde_json::json;

use crate::report::{Finding, Section};
use crate::rules;

pub async fn check(root: &Path, registry: Option<&str>) -> Vec<Section> {
    let dir = root.join("schemas/avro");
    let findings = match schemas::load(&dir) {
        Err(e) => vec![Finding::failure(
            rules::SCHEMA_UNREADABLE.id,
            "schemas/avro",
            e,
            "fix the file named",
        )],
        Ok(subjects) => schemas::check_history(&subjects)
            .into_iter()
            .map(|f| {
                Finding::failure(
                    rules::SCHEMA_INCOMPATIBLE.id,
                    format!("{} v{}", f.subject, f.version),
                    f.message,
                    "make the change compatible under the subject's mode (e.g. give new fields defaults), or declare another mode in schemas/avro/compatibility.json",
                )
            })
            .collect(),
    };
    let mut sections = vec![Section::new(
        "event schemas",
        "schemas/avro history, offline",
        findings,
    )];
    if let Some(url) = registry {
        sections.push(against_registry(url).await);
    }
    sections
}

async fn against_registry(url: &str) -> Section {
    let client = reqwest::Client::new();
    let mut findings = Vec::new();
    for topic in events::TOPICS {
        let subject = topic.subject();
        let base = url.trim_end_matches('/');
        // A subject with no live version: Confluent's registry calls any schema compatible
        // with `latest` there, so whether it is new is asked first.
        let versions = client
            .get(format!("{base}/subjects/{subject}/versions"))
            .send()
            .await;
        let answer = match versions {
            Ok(r) if r.status() == 404 => Ok(r),
            Ok(_) => {
                client
                    .post(format!(
                        "{base}/compatibility/subjects/{subject}/versions/latest?verbose=true"
                    ))
                    .header("content-type", "application/vnd.schemaregistry.v1+json")
                    .body(json!({ "schema": topic.schema }).to_string())
                    .send()
                    .await
            }
            Err(e) => Err(e),
        };
        match answer {
            Err(e) => findings.push(Finding::failure(
                rules::REGISTRY_UNREACHABLE.id,
                url.to_owned(),
                e.to_string(),
                "check --registry",
            )),
            Ok(r) if r.status() == 404 => findings.push(Finding {
                severity: crate::report::Severity::Info,
                ..Finding::warning(
                    rules::SUBJECT_NEW.id,
                    format!("{subject} v{}", topic.version),
                    "not registered there yet; it will be at first start",
                    "",
                )
            }),
            Ok(r) => {
                let body: serde_json::Value = r.json().await.unwrap_or_default();
                if body["is_compatible"] != true {
                    findings.push(Finding::failure(
                        rules::REGISTRY_INCOMPATIBLE.id,
                        format!("{subject} v{}", topic.version),
                        format!("the registry refuses it: {}", body["messages"]),
                        "make the schema compatible with what the registry holds",
                    ));
                }
            }
        }
    }
    Section::new("event schemas", format!("against {url}"), findings)
}
