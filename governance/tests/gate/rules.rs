//! Each breaking-change rule: a small before/after pair that fires it (and only
//! breaking findings of that rule), and a safe twin that stays quiet. The pairs are in
//! `cases`; what operations and schemas may and may not do is in `operations` and
//! `schemas`, on the same small document.

use docintel_governance::checks::versioning;
use docintel_governance::diff::diff;
use docintel_governance::report::Severity;
use docintel_governance::rules::{Family, of};
use serde_json::{Value, json};

mod cases;
mod operations;
mod schemas;

use cases::cases;

const TODAY: &str = "2026-11-21";

/// One change to the document `doc` builds.
type Edit = fn(&mut Value);

/// A document with one `GET /things/{id}` answering a `Thing` and one `POST /things`
/// taking a `NewThing`; `edit` changes it.
fn doc(edit: impl FnOnce(&mut Value)) -> Value {
    let mut d = json!({
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "security": [{"api_key": []}],
        "components": {
            "securitySchemes": {"api_key": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Thing": {
                    "type": "object",
                    "required": ["id", "name", "size", "kind"],
                    "properties": {
                        "id": {"type": "string", "format": "uuid"},
                        "name": {"type": "string", "description": "its name"},
                        "size": {"type": "integer"},
                        "kind": {"type": "string", "enum": ["a", "b"]},
                        "note": {"type": ["string", "null"]},
                        "weight": {"type": "integer", "maximum": 10000},
                        "owner": {"oneOf": [
                            {"$ref": "#/components/schemas/User"},
                            {"$ref": "#/components/schemas/Team"}
                        ]}
                    }
                },
                "User": {"type": "object", "properties": {"uid": {"type": "string"}}},
                "Team": {"type": "object", "properties": {"tid": {"type": "string"}}},
                "NewThing": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string", "maxLength": 100},
                        "kind": {"type": "string", "enum": ["a", "b"]},
                        "size": {"type": "integer", "maximum": 1000},
                        "tags": {"type": "array", "items": {"type": "string"}},
                        "comment": {"type": ["string", "null"]},
                        "target": {"oneOf": [
                            {"$ref": "#/components/schemas/User"},
                            {"type": "string"}
                        ]}
                    }
                }
            }
        },
        "paths": {
            "/things/{id}": {
                "get": {
                    "operationId": "get_thing",
                    "parameters": [
                        {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                        {"name": "fields", "in": "query", "required": false, "schema": {"type": "string"}},
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 20}},
                        {"name": "legacy", "in": "query", "deprecated": true, "x-sunset": "2027-06-01",
                         "schema": {"type": "string"}}
                    ],
                    "responses": {
                        "200": {
                            "description": "ok",
                            "headers": {
                                "ETag": {"required": true, "schema": {"type": "string"}},
                                "X-Rate": {"schema": {"type": "integer"}}
                            },
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Thing"}},
                                "application/xml": {"schema": {"$ref": "#/components/schemas/Thing"}}
                            }
                        },
                        "404": {"description": "missing"}
                    }
                }
            },
            "/things": {
                "post": {
                    "operationId": "create_thing",
                    "requestBody": {
                        "required": true,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewThing"}}}
                    },
                    "responses": {"201": {"description": "created"}}
                }
            },
            "/old": {
                "get": {
                    "operationId": "old",
                    "deprecated": true,
                    "x-sunset": "2027-06-01",
                    "responses": {"200": {"description": "ok"}}
                }
            }
        },
        "webhooks": {
            "thingCreated": {
                "post": {
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
                    "responses": {"200": {"description": "received"}}
                }
            }
        }
    });
    edit(&mut d);
    d
}

fn thing(d: &mut Value) -> &mut Value {
    &mut d["components"]["schemas"]["Thing"]
}
fn new_thing(d: &mut Value) -> &mut Value {
    &mut d["components"]["schemas"]["NewThing"]
}
fn get_op(d: &mut Value) -> &mut Value {
    &mut d["paths"]["/things/{id}"]["get"]
}
fn param<'a>(d: &'a mut Value, name: &str) -> &'a mut Value {
    get_op(d)["parameters"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|p| p["name"] == name)
        .unwrap()
}
fn remove_param(d: &mut Value, name: &str) {
    get_op(d)["parameters"]
        .as_array_mut()
        .unwrap()
        .retain(|p| p["name"] != name);
}
fn headers(d: &mut Value) -> &mut Value {
    &mut get_op(d)["responses"]["200"]["headers"]
}

fn breaking_rules(base: &Value, rev: &Value) -> Vec<String> {
    diff(base, rev, TODAY)
        .into_iter()
        .filter(|f| f.severity == Severity::Breaking)
        .map(|f| format!("{} at {}", f.rule, f.location))
        .collect()
}

fn only(fired: &[String], rule: &str) -> bool {
    !fired.is_empty() && fired.iter().all(|f| f.starts_with(&format!("{rule} at ")))
}

#[test]
fn every_rule_fires_on_its_fixture_and_stays_quiet_on_its_safe_twin() {
    let base = doc(|_| {});
    assert!(breaking_rules(&base, &base).is_empty());
    let cases = cases();
    for rule in of(Family::Breaking).map(|r| r.id) {
        assert!(
            cases.iter().any(|(r, _, _)| *r == rule),
            "no fixture for {rule}"
        );
    }
    for (rule, breaking, safe) in cases {
        let fired = breaking_rules(&base, &doc(breaking));
        assert!(!fired.is_empty(), "{rule} did not fire");
        assert!(
            fired.iter().all(|f| f.starts_with(&format!("{rule} at "))),
            "{rule}'s fixture fired other rules too: {fired:?}"
        );
        let quiet = breaking_rules(&base, &doc(safe));
        assert!(quiet.is_empty(), "{rule}'s safe twin fired: {quiet:?}");
    }
}

/// What breaks nobody still changes the document: each safe twin is reported under a
/// named rule and needs a minor release (a patch for words only).
#[test]
fn every_safe_twin_is_a_named_change_the_version_check_sees() {
    let base = doc(|_| {});
    for (rule, _, safe) in cases() {
        let comparison = versioning::compare(&base, &doc(safe), &[]);
        let level = comparison.level();
        let only_docs = comparison
            .changes
            .iter()
            .all(|c| c.kind == versioning::Kind::Docs);
        let expected = if only_docs {
            versioning::Level::Patch
        } else {
            versioning::Level::Minor
        };
        assert_eq!(
            level, expected,
            "{rule}'s safe twin: {:?}",
            comparison.changes
        );
        assert!(
            !comparison
                .changes
                .iter()
                .any(|c| c.finding.rule == versioning::UNCLASSIFIED),
            "{rule}'s safe twin is a change no rule names: {:?}",
            comparison.changes
        );
        for c in &comparison.changes {
            let known = of(Family::Note)
                .chain(of(Family::Warning))
                .chain(of(Family::Docs))
                .any(|r| r.id == c.finding.rule);
            assert!(
                known,
                "{rule}'s safe twin: undocumented rule {}",
                c.finding.rule
            );
        }
    }
}
