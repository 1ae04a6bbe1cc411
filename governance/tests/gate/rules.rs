//! Each breaking-change rule: a small before/after pair that fires it (and only
//! breaking findings of that rule), and a safe twin that stays quiet.

use docintel_governance::diff::{RULES, diff};
use docintel_governance::report::Severity;
use serde_json::{Value, json};

const TODAY: &str = "2026-11-21";

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
                        "note": {"type": ["string", "null"]}
                    }
                },
                "NewThing": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string", "maxLength": 100},
                        "kind": {"type": "string", "enum": ["a", "b"]},
                        "size": {"type": "integer", "maximum": 1000},
                        "tags": {"type": "array", "items": {"type": "string"}},
                        "comment": {"type": ["string", "null"]}
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
                        {"name": "fields", "in": "query", "required": false, "schema": {"type": "string"}}
                    ],
                    "responses": {
                        "200": {
                            "description": "ok",
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

/// (rule, the breaking change, its safe twin)
type Edit = fn(&mut Value);
fn cases() -> Vec<(&'static str, Edit, Edit)> {
    vec![
        (
            "operation-removed",
            |d| {
                d["paths"].as_object_mut().unwrap().remove("/things");
            },
            // Adding an operation is safe.
            |d| d["paths"]["/more"] = json!({"get": {"responses": {"200": {"description": "ok"}}}}),
        ),
        (
            "operation-removed-before-sunset",
            |d| {
                d["paths"].as_object_mut().unwrap().remove("/old");
            },
            // Deprecating another operation is safe.
            |d| get_op(d)["deprecated"] = json!(true),
        ),
        (
            "response-property-removed",
            |d| {
                thing(d)["properties"]
                    .as_object_mut()
                    .unwrap()
                    .remove("note");
            },
            // Adding a response property is safe.
            |d| thing(d)["properties"]["extra"] = json!({"type": "string"}),
        ),
        (
            "response-property-type-changed",
            |d| thing(d)["properties"]["size"] = json!({"type": "string"}),
            // A description change is not.
            |d| thing(d)["properties"]["size"]["description"] = json!("how big"),
        ),
        (
            "response-property-made-optional",
            |d| thing(d)["required"] = json!(["id", "size", "kind"]),
            // Making an optional one required is safe in responses.
            |d| thing(d)["required"] = json!(["id", "name", "size", "kind", "note"]),
        ),
        (
            "response-property-made-nullable",
            |d| thing(d)["properties"]["name"] = json!({"type": ["string", "null"]}),
            // A nullable one made non-null only narrows a response.
            |d| thing(d)["properties"]["note"] = json!({"type": "string"}),
        ),
        (
            "request-property-required-added",
            |d| new_thing(d)["required"] = json!(["name", "kind"]),
            // A new optional property is safe.
            |d| new_thing(d)["properties"]["color"] = json!({"type": "string"}),
        ),
        (
            "request-parameter-required-added",
            |d| get_op(d)["parameters"][1]["required"] = json!(true),
            // A new optional parameter is safe.
            |d| {
                get_op(d)["parameters"].as_array_mut().unwrap().push(
                    json!({"name": "lang", "in": "header", "required": false, "schema": {"type": "string"}}),
                )
            },
        ),
        (
            "request-property-type-changed",
            |d| new_thing(d)["properties"]["size"] = json!({"type": "string"}),
            // Widening a request type is safe.
            |d| {
                new_thing(d)["properties"]["size"] =
                    json!({"type": ["integer", "string"], "maximum": 1000})
            },
        ),
        (
            "request-enum-narrowed",
            |d| new_thing(d)["properties"]["kind"]["enum"] = json!(["a"]),
            // Widening a request enum is safe.
            |d| new_thing(d)["properties"]["kind"]["enum"] = json!(["a", "b", "c"]),
        ),
        (
            "response-enum-widened",
            |d| thing(d)["properties"]["kind"]["enum"] = json!(["a", "b", "c"]),
            // …unless the enum says clients must expect new values.
            |d| {
                thing(d)["properties"]["kind"] =
                    json!({"type": "string", "enum": ["a", "b", "c"], "x-extensible-enum": true})
            },
        ),
        (
            "request-constraint-tightened",
            |d| new_thing(d)["properties"]["name"]["maxLength"] = json!(50),
            // Loosening is safe.
            |d| new_thing(d)["properties"]["name"]["maxLength"] = json!(200),
        ),
        (
            "success-status-removed",
            |d| {
                let r = d["paths"]["/things"]["post"]["responses"]
                    .as_object_mut()
                    .unwrap();
                let v = r.remove("201").unwrap();
                r.insert("200".into(), v);
            },
            // Adding an error status is safe.
            |d| {
                d["paths"]["/things"]["post"]["responses"]["409"] =
                    json!({"description": "conflict"})
            },
        ),
        (
            "response-media-type-removed",
            |d| {
                get_op(d)["responses"]["200"]["content"]
                    .as_object_mut()
                    .unwrap()
                    .remove("application/xml");
            },
            // Adding one is safe.
            |d| {
                get_op(d)["responses"]["200"]["content"]["text/csv"] =
                    json!({"schema": {"type": "string"}})
            },
        ),
        (
            "security-changed",
            |d| get_op(d)["security"] = json!([{"oauth": ["read"]}]),
            // Allowing anonymous access too is safe.
            |d| get_op(d)["security"] = json!([{"api_key": []}, {}]),
        ),
    ]
}

fn breaking_rules(base: &Value, rev: &Value) -> Vec<String> {
    diff(base, rev, TODAY)
        .into_iter()
        .filter(|f| f.severity == Severity::Breaking)
        .map(|f| format!("{} at {}", f.rule, f.location))
        .collect()
}

#[test]
fn every_rule_fires_on_its_fixture_and_stays_quiet_on_its_safe_twin() {
    let base = doc(|_| {});
    assert!(breaking_rules(&base, &base).is_empty());
    let cases = cases();
    for (rule, _) in RULES {
        assert!(
            cases.iter().any(|(r, _, _)| r == rule),
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

#[test]
fn findings_point_at_the_change() {
    let base = doc(|_| {});
    let rev = doc(|d| {
        thing(d)["properties"]
            .as_object_mut()
            .unwrap()
            .remove("note");
    });
    let f = &diff(&base, &rev, TODAY)[0];
    assert_eq!(
        f.location,
        "/paths/~1things~1{id}/get/responses/200/content/application~1json/schema/properties/note"
    );
    assert!(!f.fix.is_empty());
}

#[test]
fn a_renamed_component_of_the_same_shape_is_not_breaking() {
    let base = doc(|_| {});
    let rev = doc(|d| {
        let schemas = d["components"]["schemas"].as_object_mut().unwrap();
        let t = schemas.remove("Thing").unwrap();
        schemas.insert("Item".into(), t);
        for media in ["application/json", "application/xml"] {
            get_op(d)["responses"]["200"]["content"][media]["schema"] =
                json!({"$ref": "#/components/schemas/Item"});
        }
    });
    assert!(breaking_rules(&base, &rev).is_empty());
    // And inlining the component is the same shape too.
    let inlined = doc(|d| {
        let t = thing(d).clone();
        get_op(d)["responses"]["200"]["content"]["application/json"]["schema"] = t;
    });
    assert!(breaking_rules(&base, &inlined).is_empty());
}

#[test]
fn the_nullable_forms_of_openapi_3_1_and_3_0_are_one_thing() {
    let base = doc(|_| {});
    // note: ["string","null"] written as oneOf with a null variant, or 3.0's nullable.
    for form in [
        json!({"oneOf": [{"type": "string"}, {"type": "null"}]}),
        json!({"anyOf": [{"type": "string"}, {"type": "null"}]}),
        json!({"type": "string", "nullable": true}),
    ] {
        let rev = doc(|d| thing(d)["properties"]["note"] = form.clone());
        assert!(breaking_rules(&base, &rev).is_empty(), "{form}");
    }
    // In requests: accepting null no more is breaking; starting to is not.
    let rev = doc(|d| new_thing(d)["properties"]["comment"] = json!({"type": "string"}));
    assert_eq!(breaking_rules(&base, &rev).len(), 1);
    let rev = doc(|d| {
        new_thing(d)["properties"]["kind"] =
            json!({"type": ["string", "null"], "enum": ["a", "b", null]})
    });
    assert!(
        breaking_rules(&base, &rev).is_empty(),
        "{:?}",
        breaking_rules(&base, &rev)
    );
    // In responses: a oneOf-with-null wrapping a $ref is the referenced type, nullable.
    let rev = doc(|d| {
        get_op(d)["responses"]["200"]["content"]["application/json"]["schema"] =
            json!({"oneOf": [{"$ref": "#/components/schemas/Thing"}, {"type": "null"}]})
    });
    assert_eq!(
        breaking_rules(&base, &rev),
        [
            "response-property-made-nullable at /paths/~1things~1{id}/get/responses/200/content/application~1json/schema"
        ]
    );
}

#[test]
fn descriptions_examples_and_deprecation_are_not_breaking() {
    let base = doc(|_| {});
    let rev = doc(|d| {
        thing(d)["description"] = json!("a thing");
        thing(d)["properties"]["name"]["example"] = json!("x");
        get_op(d)["deprecated"] = json!(true);
        get_op(d)["description"] = json!("now documented");
        d["info"]["description"] = json!("changed");
    });
    assert!(breaking_rules(&base, &rev).is_empty());
    let infos: Vec<_> = diff(&base, &rev, TODAY)
        .into_iter()
        .map(|f| f.rule)
        .collect();
    assert_eq!(infos, ["operation-deprecated"]);
}

#[test]
fn an_operation_removed_after_its_sunset_is_not_breaking() {
    let base = doc(|_| {});
    let rev = doc(|d| {
        d["paths"].as_object_mut().unwrap().remove("/old");
    });
    let after = diff(&base, &rev, "2027-06-02");
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].rule, "operation-retired");
    assert_eq!(after[0].severity, Severity::Info);
}

#[test]
fn recursive_schemas_terminate() {
    let tree = |d: &mut Value| {
        thing(d)["properties"]["children"] =
            json!({"type": "array", "items": {"$ref": "#/components/schemas/Thing"}});
    };
    let base = doc(tree);
    let rev = doc(|d| {
        tree(d);
        thing(d)["properties"]
            .as_object_mut()
            .unwrap()
            .remove("note");
    });
    let fired = breaking_rules(&base, &rev);
    assert!(
        fired
            .iter()
            .all(|f| f.starts_with("response-property-removed")),
        "{fired:?}"
    );
    assert!(!fired.is_empty());
}
