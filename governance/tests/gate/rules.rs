//! Each breaking-change rule: a small before/after pair that fires it (and only
//! breaking findings of that rule), and a safe twin that stays quiet.

use docintel_governance::checks::versioning;
use docintel_governance::diff::diff;
use docintel_governance::report::Severity;
use docintel_governance::rules::{Family, of};
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
            "webhook-removed",
            |d| {
                d["webhooks"]
                    .as_object_mut()
                    .unwrap()
                    .remove("thingCreated");
            },
            // A new webhook is safe.
            |d| d["webhooks"]["thingDeleted"] = d["webhooks"]["thingCreated"].clone(),
        ),
        (
            "response-property-removed",
            |d| {
                thing(d)["properties"]
                    .as_object_mut()
                    .unwrap()
                    .remove("name");
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
            "response-constraint-loosened",
            |d| thing(d)["properties"]["weight"]["maximum"] = json!(20000),
            // A tighter bound only narrows what clients get.
            |d| thing(d)["properties"]["weight"]["maximum"] = json!(5000),
        ),
        (
            "response-union-widened",
            |d| {
                thing(d)["properties"]["owner"]["oneOf"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"type": "string"}))
            },
            // A branch fewer only narrows what clients get.
            |d| thing(d)["properties"]["owner"] = json!({"$ref": "#/components/schemas/User"}),
        ),
        (
            "request-union-narrowed",
            |d| new_thing(d)["properties"]["target"] = json!({"$ref": "#/components/schemas/User"}),
            // A branch more is a widening.
            |d| {
                new_thing(d)["properties"]["target"]["oneOf"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"type": "integer"}))
            },
        ),
        (
            "response-header-removed",
            |d| {
                headers(d).as_object_mut().unwrap().remove("ETag");
            },
            // An optional header removed was never promised.
            |d| {
                headers(d).as_object_mut().unwrap().remove("X-Rate");
            },
        ),
        (
            "response-header-made-optional",
            |d| headers(d)["ETag"]["required"] = json!(false),
            // An optional one made required is safe.
            |d| headers(d)["X-Rate"]["required"] = json!(true),
        ),
        (
            "request-body-removed",
            |d| {
                d["paths"]["/things"]["post"]
                    .as_object_mut()
                    .unwrap()
                    .remove("requestBody");
            },
            // Making the body optional is safe.
            |d| d["paths"]["/things"]["post"]["requestBody"]["required"] = json!(false),
        ),
        (
            "request-default-changed",
            |d| param(d, "limit")["schema"]["default"] = json!(50),
            // Documenting it is not.
            |d| param(d, "limit")["description"] = json!("page size"),
        ),
        (
            "request-parameter-removed-before-sunset",
            |d| remove_param(d, "legacy"),
            // An optional parameter that was never deprecated: not a break clients see.
            |d| remove_param(d, "fields"),
        ),
        (
            "deprecation-sunset-invalid",
            |d| {
                get_op(d)["deprecated"] = json!(true);
                get_op(d)["x-sunset"] = json!("next spring");
            },
            // A readable sunset.
            |d| {
                get_op(d)["deprecated"] = json!(true);
                get_op(d)["x-sunset"] = json!("2027-12-01");
            },
        ),
        (
            "sunset-moved-earlier",
            |d| d["paths"]["/old"]["get"]["x-sunset"] = json!("2027-01-01"),
            // Later is fine.
            |d| d["paths"]["/old"]["get"]["x-sunset"] = json!("2028-01-01"),
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
            .remove("name");
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

fn only(fired: &[String], rule: &str) -> bool {
    !fired.is_empty() && fired.iter().all(|f| f.starts_with(&format!("{rule} at ")))
}

#[test]
fn a_renamed_path_parameter_is_the_same_operation() {
    let base = doc(|_| {});
    let rename = |d: &mut Value| {
        param(d, "id")["name"] = json!("thing_id");
        let paths = d["paths"].as_object_mut().unwrap();
        let item = paths.remove("/things/{id}").unwrap();
        paths.insert("/things/{thing_id}".into(), item);
    };
    let rev = doc(rename);
    assert_eq!(breaking_rules(&base, &rev), Vec::<String>::new());
    let notes: Vec<_> = diff(&base, &rev, TODAY)
        .into_iter()
        .map(|f| f.rule)
        .collect();
    assert_eq!(notes, ["path-parameter-renamed"]);
    // Matched by position, the parameter is still compared.
    let narrowed = doc(|d| {
        param(d, "id")["schema"] = json!({"type": "integer"});
        rename(d);
    });
    let fired = breaking_rules(&base, &narrowed);
    assert!(only(&fired, "request-property-type-changed"), "{fired:?}");
}

#[test]
fn widened_request_types_break_no_client() {
    let base = doc(|_| {});
    let widenings: [Edit; 6] = [
        |d| new_thing(d)["properties"]["size"]["type"] = json!("number"),
        |d| new_thing(d)["properties"]["size"]["type"] = json!(["integer", "string"]),
        |d| new_thing(d)["properties"]["comment"]["type"] = json!(["string", "integer", "null"]),
        |d| {
            new_thing(d)["properties"]["target"]["oneOf"]
                .as_array_mut()
                .unwrap()
                .push(json!({"$ref": "#/components/schemas/Team"}))
        },
        |d| param(d, "limit")["schema"]["type"] = json!("number"),
        |d| {
            new_thing(d)["properties"]["tags"]["items"] =
                json!({"oneOf": [{"type": "string"}, {"type": "integer"}]})
        },
    ];
    for (i, edit) in widenings.into_iter().enumerate() {
        let fired = breaking_rules(&base, &doc(edit));
        assert!(fired.is_empty(), "widening {i}: {fired:?}");
    }
    // The same changes in a response are breaking.
    let rev = doc(|d| thing(d)["properties"]["size"]["type"] = json!("number"));
    assert!(only(
        &breaking_rules(&base, &rev),
        "response-property-type-changed"
    ));
}

#[test]
fn loosened_response_constraints_are_breaking_and_tightened_ones_are_not() {
    let bounded = |d: &mut Value| {
        let props = &mut thing(d)["properties"];
        props["name"] = json!({"type": "string", "maxLength": 100, "pattern": "^[a-z]+$"});
        props["id"] = json!({"type": "string", "format": "uuid"});
        props["weight"] = json!({"type": "integer", "minimum": 0, "maximum": 10000});
        props["tags"] = json!({"type": "array", "maxItems": 5, "items": {"type": "string"}});
    };
    let base = doc(bounded);
    let loosened: [(&str, Edit); 6] = [
        ("maxLength", |d| {
            thing(d)["properties"]["name"]["maxLength"] = json!(200)
        }),
        ("pattern", |d| {
            thing(d)["properties"]["name"]
                .as_object_mut()
                .unwrap()
                .remove("pattern");
        }),
        ("format", |d| {
            thing(d)["properties"]["id"]
                .as_object_mut()
                .unwrap()
                .remove("format");
        }),
        ("minimum", |d| {
            thing(d)["properties"]["weight"]["minimum"] = json!(-1)
        }),
        ("maximum", |d| {
            thing(d)["properties"]["weight"]
                .as_object_mut()
                .unwrap()
                .remove("maximum");
        }),
        ("maxItems", |d| {
            thing(d)["properties"]["tags"]["maxItems"] = json!(50)
        }),
    ];
    for (keyword, edit) in loosened {
        let rev = doc(|d| {
            bounded(d);
            edit(d)
        });
        let fired = breaking_rules(&base, &rev);
        assert!(
            only(&fired, "response-constraint-loosened"),
            "{keyword}: {fired:?}"
        );
        assert!(fired[0].ends_with(&format!("/{keyword}")), "{fired:?}");
    }
    let tightened = doc(|d| {
        bounded(d);
        thing(d)["properties"]["name"]["maxLength"] = json!(50);
        thing(d)["properties"]["weight"]["minimum"] = json!(1);
        thing(d)["properties"]["tags"]["maxItems"] = json!(3);
    });
    assert!(breaking_rules(&base, &tightened).is_empty());
}

#[test]
fn openapi_3_0_forms_are_read() {
    // 3.0: `nullable`, boolean exclusive bounds.
    let base = doc(|d| {
        d["openapi"] = json!("3.0.3");
        new_thing(d)["properties"]["size"] = json!({"type": "integer", "maximum": 1000});
        thing(d)["properties"]["weight"] =
            json!({"type": "integer", "maximum": 100, "exclusiveMaximum": true});
    });
    let rev = doc(|d| {
        d["openapi"] = json!("3.0.3");
        new_thing(d)["properties"]["size"] =
            json!({"type": "integer", "maximum": 1000, "exclusiveMaximum": true});
        thing(d)["properties"]["weight"] = json!({"type": "integer", "maximum": 100});
    });
    let fired: std::collections::BTreeSet<String> = breaking_rules(&base, &rev)
        .into_iter()
        .map(|f| f.split(" at ").next().unwrap().to_owned())
        .collect();
    assert_eq!(
        fired.into_iter().collect::<Vec<_>>(),
        [
            "request-constraint-tightened",
            "response-constraint-loosened"
        ]
    );
}

#[test]
fn json_schema_keywords_restrict_requests_and_loosen_responses() {
    let base = doc(|d| {
        thing(d)["properties"]["labels"] = json!({
            "type": "object",
            "patternProperties": {"^x-": {"type": "string"}},
            "propertyNames": {"maxLength": 10}
        });
    });
    let request: [(&str, Edit); 4] = [
        ("allOf", |d| {
            new_thing(d)["allOf"] = json!([{"title": "one more schema to satisfy"}]);
        }),
        ("if", |d| {
            new_thing(d)["if"] = json!({"properties": {"kind": {"const": "a"}}});
        }),
        ("contains", |d| {
            new_thing(d)["properties"]["tags"]["contains"] = json!({"const": "x"});
        }),
        ("minContains", |d| {
            new_thing(d)["properties"]["tags"]["minContains"] = json!(2);
        }),
    ];
    for (keyword, edit) in request {
        let rev = doc(|d| {
            d["components"]["schemas"]["Thing"]["properties"]["labels"] =
                base["components"]["schemas"]["Thing"]["properties"]["labels"].clone();
            edit(d);
        });
        let fired = breaking_rules(&base, &rev);
        assert!(
            only(&fired, "request-constraint-tightened"),
            "{keyword}: {fired:?}"
        );
        assert!(
            fired.iter().all(|f| f.ends_with(&format!("/{keyword}"))),
            "{fired:?}"
        );
    }
    let response: [(&str, Edit); 2] = [
        ("patternProperties", |d| {
            thing(d)["properties"]["labels"] = json!({
                "type": "object", "propertyNames": {"maxLength": 10}
            });
        }),
        ("propertyNames", |d| {
            thing(d)["properties"]["labels"] = json!({
                "type": "object", "patternProperties": {"^x-": {"type": "string"}}
            });
        }),
    ];
    for (keyword, edit) in response {
        let fired = breaking_rules(&base, &doc(edit));
        assert!(
            only(&fired, "response-constraint-loosened"),
            "{keyword}: {fired:?}"
        );
        assert!(
            fired.iter().all(|f| f.ends_with(&format!("/{keyword}"))),
            "{fired:?}"
        );
    }
}

/// Shared components are compared once and remembered; every operation that reaches a
/// change still reports it, once, at the first place it reaches it.
#[test]
fn a_change_in_a_shared_recursive_component_is_reported_once_per_operation() {
    let with_ops = |d: &mut Value| {
        thing(d)["properties"]["children"] =
            json!({"type": "array", "items": {"$ref": "#/components/schemas/Thing"}});
        let pair = json!({"type": "object", "properties": {
            "first": {"$ref": "#/components/schemas/Thing"},
            "second": {"$ref": "#/components/schemas/Thing"}
        }});
        for n in 0..3 {
            d["paths"][format!("/pairs/{n}")] = json!({"get": {"responses": {"200": {
                "description": "ok",
                "content": {"application/json": {"schema": pair.clone()}}
            }}}});
        }
    };
    let base = doc(with_ops);
    let rev = doc(|d| {
        with_ops(d);
        thing(d)["properties"]["size"] = json!({"type": "string"});
    });
    let fired = breaking_rules(&base, &rev);
    let at_pairs: Vec<&String> = fired.iter().filter(|f| f.contains("~1pairs~1")).collect();
    assert_eq!(at_pairs.len(), 3, "{fired:?}");
    for (n, f) in at_pairs.iter().enumerate() {
        assert_eq!(
            **f,
            format!(
                "response-property-type-changed at /paths/~1pairs~1{n}/get/responses/200/content/application~1json/schema/properties/first/properties/size"
            )
        );
    }
    // And GET /things/{id}, twice (two media types).
    assert_eq!(fired.len(), 5, "{fired:?}");
}
