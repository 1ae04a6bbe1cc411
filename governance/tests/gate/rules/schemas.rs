//! Schemas: components, nullability, recursion, types, constraints, OpenAPI 3.0 forms,
//! JSON Schema keywords and shared components.

use super::*;

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
