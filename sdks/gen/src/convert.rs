//! Down-converts an OpenAPI 3.1 document (what utoipa writes and the server serves) to
//! OpenAPI 3.0.3 (what progenitor's parser reads). Deterministic; each rule is a
//! function with a before/after test. The committed 3.1 document is never changed.

use serde_json::{Map, Value, json};

/// Applies every rule to a whole document.
pub fn to_openapi_30(mut doc: Value) -> Value {
    set_version(&mut doc);
    drop_license_identifier(&mut doc);
    drop_webhooks(&mut doc);
    walk(&mut doc);
    optional_parameters_not_nullable(&mut doc);
    problem_responses_as_json(&mut doc);
    bodiless_errors_dropped(&mut doc);
    open_error_codes(&mut doc);
    response_bounds_dropped(&mut doc);
    parameter_enums_as_refs(&mut doc);
    doc
}

/// Rule 1: the version field.
fn set_version(doc: &mut Value) {
    if let Some(obj) = doc.as_object_mut() {
        obj.insert("openapi".into(), json!("3.0.3"));
    }
}

/// Rule 1b: `info.license.identifier` (SPDX) is 3.1-only.
fn drop_license_identifier(doc: &mut Value) {
    if let Some(license) = doc
        .pointer_mut("/info/license")
        .and_then(Value::as_object_mut)
    {
        license.remove("identifier");
    }
}

/// Rule 1c: the top-level `webhooks` is 3.1-only. Their payload, `WebhookEvent`, stays
/// a component, so the SDK still has its type.
fn drop_webhooks(doc: &mut Value) {
    if let Some(obj) = doc.as_object_mut() {
        obj.remove("webhooks");
    }
}

/// Visits every object bottom-up and applies the schema rules to each.
fn walk(v: &mut Value) {
    match v {
        Value::Object(obj) => {
            for child in obj.values_mut() {
                walk(child);
            }
            type_array_to_nullable(obj);
            null_alternative_to_nullable(obj);
            content_media_type_to_binary(obj);
            unsigned_formats(obj);
        }
        Value::Array(items) => items.iter_mut().for_each(walk),
        _ => {}
    }
}

/// Rule 2: `type: [T, "null"]` → `type: T, nullable: true`.
fn type_array_to_nullable(obj: &mut Map<String, Value>) {
    let Some(Value::Array(types)) = obj.get("type") else {
        return;
    };
    let non_null: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
    let had_null = non_null.len() < types.len();
    if non_null.len() == 1 {
        obj.insert("type".into(), non_null[0].clone());
        if had_null {
            obj.insert("nullable".into(), json!(true));
        }
    }
}

/// Rule 3: `oneOf`/`anyOf` with a `{type: "null"}` member → the rest, `nullable: true`
/// (a single remaining schema becomes `allOf: [X]`, the 3.0 way to attach siblings).
fn null_alternative_to_nullable(obj: &mut Map<String, Value>) {
    for key in ["oneOf", "anyOf"] {
        let Some(Value::Array(members)) = obj.get(key) else {
            continue;
        };
        let is_null = |m: &Value| {
            m.get("type") == Some(&json!("null")) && m.as_object().is_some_and(|o| o.len() == 1)
        };
        if !members.iter().any(is_null) {
            continue;
        }
        let rest: Vec<Value> = members.iter().filter(|m| !is_null(m)).cloned().collect();
        obj.remove(key);
        if rest.len() == 1 {
            let mut only = rest[0].clone();
            // A description next to a `$ref` is ignored in 3.0; keep it on the wrapper.
            if let Some(desc) = only.as_object_mut().and_then(|o| o.remove("description")) {
                obj.entry("description").or_insert(desc);
            }
            obj.insert("allOf".into(), json!([only]));
        } else {
            obj.insert(key.into(), Value::Array(rest));
        }
        obj.insert("nullable".into(), json!(true));
    }
}

/// Rule 4: binary content described the 3.1 way (`contentMediaType`) → `format: binary`.
fn content_media_type_to_binary(obj: &mut Map<String, Value>) {
    if obj.remove("contentMediaType").is_some() {
        obj.insert("type".into(), json!("string"));
        obj.insert("format".into(), json!("binary"));
        obj.remove("contentEncoding");
    }
}

/// Rule 5: utoipa's `non_strict_integers` formats (`u-int32`) → progenitor's (`uint32`).
fn unsigned_formats(obj: &mut Map<String, Value>) {
    if let Some(Value::String(format)) = obj.get_mut("format")
        && let Some(rest) = format.strip_prefix("u-int")
    {
        *format = format!("uint{rest}");
    }
}

/// Rule 6: an optional parameter is absent rather than null on the wire, so its schema
/// drops `nullable` (3.1's `Option<T>` parameters would become `Option<Option<T>>`).
fn optional_parameters_not_nullable(doc: &mut Value) {
    for p in parameters_mut(doc) {
        if p.get("required") != Some(&json!(true))
            && let Some(schema) = p.get_mut("schema").and_then(Value::as_object_mut)
        {
            schema.remove("nullable");
        }
    }
}

/// Every operation of the document (each value under a path item; path-level fields
/// such as `summary` yield nothing in the walks below).
fn operations_mut(doc: &mut Value) -> impl Iterator<Item = &mut Value> {
    doc.get_mut("paths")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
}

/// Every operation's parameters.
fn parameters_mut(doc: &mut Value) -> impl Iterator<Item = &mut Value> {
    operations_mut(doc)
        .filter_map(|op| op.get_mut("parameters").and_then(Value::as_array_mut))
        .flat_map(|ps| ps.iter_mut())
}

/// Rule 7: progenitor only parses `application/json` bodies; an error response declared
/// as `application/problem+json` (RFC 9457) would reach users as an unread byte stream.
/// Described as JSON, it arrives as `types::Problem`. The wire is unchanged: the
/// generated client parses the body whatever its `Content-Type`.
fn problem_responses_as_json(doc: &mut Value) {
    let responses = operations_mut(doc)
        .filter_map(|op| op.get_mut("responses").and_then(Value::as_object_mut))
        .flat_map(|r| r.values_mut());
    for response in responses {
        if let Some(content) = response.get_mut("content").and_then(Value::as_object_mut)
            && !content.contains_key("application/json")
            && let Some(problem) = content.remove("application/problem+json")
        {
            content.insert("application/json".into(), problem);
        }
    }
}

/// Rule 7b: progenitor gives each operation one error type, so an error response without
/// a body (the connection layer's 431) beside the problem documents cannot be described.
/// Left out, it reaches users as `Error::UnexpectedResponse` with its status.
fn bodiless_errors_dropped(doc: &mut Value) {
    for op in operations_mut(doc) {
        let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
            continue;
        };
        let typed = responses
            .iter()
            .any(|(status, r)| status.starts_with(['4', '5']) && r.get("content").is_some());
        if typed {
            responses
                .retain(|status, r| !status.starts_with(['4', '5']) || r.get("content").is_some());
        }
    }
}

/// Rule 7c: a problem's `code` is an enum the server may extend in a minor release;
/// progenitor's closed enum would refuse a newer server's problem outright. The SDK reads
/// it as a string (`ErrorCode` stays a type to parse it into).
fn open_error_codes(doc: &mut Value) {
    if let Some(code) = doc.pointer_mut("/components/schemas/Problem/properties/code")
        && code.get("$ref").is_some()
    {
        let description = code.get("description").cloned();
        *code = json!({"type": "string"});
        if let Some(d) = description {
            code["description"] = d;
        }
    }
}

/// Rule 7d: the bounds of what the server sends (`maxLength`, `maxItems`, `maximum`…)
/// are its promise, for readers and linters. A client must not refuse what a newer
/// server sends, and typify would make every bounded string a wrapper type: schemas
/// only responses use lose them. What the client sends keeps every bound.
fn response_bounds_dropped(doc: &mut Value) {
    let mut sent: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    let mut todo: Vec<Value> = Vec::new();
    for op in operations_mut(doc) {
        for key in ["requestBody", "parameters"] {
            if let Some(v) = op.get(key) {
                todo.push(v.clone());
            }
        }
    }
    let components = doc
        .pointer("/components/schemas")
        .cloned()
        .unwrap_or_default();
    while let Some(v) = todo.pop() {
        let mut refs = Vec::new();
        collect_refs(&v, &mut refs);
        for name in refs {
            if sent.insert(name.clone())
                && let Some(schema) = components.get(&name)
            {
                todo.push(schema.clone());
            }
        }
    }
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for (name, schema) in schemas.iter_mut() {
        if !sent.contains(name) {
            drop_bounds(schema);
        }
    }
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            if let Some(name) = o
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
            {
                out.push(name.to_owned());
            }
            o.values().for_each(|c| collect_refs(c, out));
        }
        Value::Array(a) => a.iter().for_each(|c| collect_refs(c, out)),
        _ => {}
    }
}

fn drop_bounds(v: &mut Value) {
    match v {
        Value::Object(o) => {
            for k in ["maxLength", "minLength", "pattern", "maxItems", "maximum"] {
                o.remove(k);
            }
            if o.get("minimum").is_some_and(|m| m != &json!(0)) {
                o.remove("minimum");
            }
            o.values_mut().for_each(drop_bounds);
        }
        Value::Array(a) => a.iter_mut().for_each(drop_bounds),
        _ => {}
    }
}

/// Rule 8: utoipa writes an enum parameter inline even when it is a component (the
/// `status` filter is `DocumentStatus`), and progenitor then makes a second, identical
/// enum type (`ListDocumentsStatus`). An inline enum equal to a component becomes a
/// `$ref` to it, so users meet one type.
fn parameter_enums_as_refs(doc: &mut Value) {
    let without_description = |v: &Value| {
        let mut v = v.clone();
        if let Some(o) = v.as_object_mut() {
            o.remove("description");
        }
        v
    };
    let components: Vec<(String, Value)> = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter(|(_, v)| v.get("enum").is_some())
                .map(|(k, v)| (k.clone(), without_description(v)))
                .collect()
        })
        .unwrap_or_default();
    for p in parameters_mut(doc) {
        let Some(schema) = p.get_mut("schema") else {
            continue;
        };
        let bare = without_description(schema);
        if let Some((name, _)) = components.iter().find(|(_, c)| *c == bare) {
            *schema = json!({"$ref": format!("#/components/schemas/{name}")});
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema_rule(before: Value, after: Value) {
        let mut v = before;
        walk(&mut v);
        assert_eq!(v, after);
    }

    #[test]
    fn rule_1_version_and_license() {
        let doc = to_openapi_30(json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1", "license": {"name": "MIT", "identifier": "MIT"}},
            "paths": {}
        }));
        assert_eq!(doc["openapi"], "3.0.3");
        assert_eq!(doc["info"]["license"], json!({"name": "MIT"}));
    }

    #[test]
    fn rule_1c_webhooks_dropped() {
        let doc = to_openapi_30(json!({"openapi": "3.1.0", "paths": {}, "webhooks": {"e": {}}}));
        assert!(doc.get("webhooks").is_none());
    }

    #[test]
    fn rule_7b_bodiless_errors_dropped_beside_typed_ones() {
        let problem = json!({"description": "p", "content": {"application/json": {}}});
        let bare = json!({"description": "no body"});
        let mut doc = json!({"paths": {"/a": {"get": {"responses": {
            "200": {"description": "ok"}, "400": problem, "431": bare
        }}, "post": {"responses": {"204": {"description": "ok"}, "431": bare}}}}});
        bodiless_errors_dropped(&mut doc);
        assert_eq!(
            doc["paths"]["/a"]["get"]["responses"],
            json!({"200": {"description": "ok"}, "400": problem})
        );
        // Without a typed error there is nothing to clash with: kept.
        assert_eq!(doc["paths"]["/a"]["post"]["responses"]["431"], bare);
    }

    #[test]
    fn rule_7c_problem_codes_are_strings() {
        let mut doc = json!({"components": {"schemas": {"Problem": {"properties": {
            "code": {"$ref": "#/components/schemas/ErrorCode", "description": "d"}
        }}}}});
        open_error_codes(&mut doc);
        assert_eq!(
            doc["components"]["schemas"]["Problem"]["properties"]["code"],
            json!({"type": "string", "description": "d"})
        );
    }

    #[test]
    fn rule_7d_response_bounds_dropped_request_bounds_kept() {
        let mut doc = json!({
            "paths": {"/a": {"post": {"requestBody": {"content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/In"}}}}}}},
            "components": {"schemas": {
                "In": {"properties": {"s": {"type": "string", "maxLength": 5},
                                       "n": {"$ref": "#/components/schemas/Nested"}}},
                "Nested": {"type": "integer", "minimum": 1, "maximum": 9},
                "Out": {"properties": {
                    "s": {"type": "string", "maxLength": 5, "pattern": "^a"},
                    "n": {"type": "integer", "minimum": 0, "maximum": 9},
                    "m": {"type": "integer", "minimum": 400},
                    "l": {"type": "array", "maxItems": 3}}}
            }}
        });
        response_bounds_dropped(&mut doc);
        let s = &doc["components"]["schemas"];
        assert_eq!(s["In"]["properties"]["s"]["maxLength"], 5);
        assert_eq!(s["Nested"]["maximum"], 9);
        assert_eq!(
            s["Out"]["properties"],
            json!({"s": {"type": "string"}, "n": {"type": "integer", "minimum": 0},
                   "m": {"type": "integer"}, "l": {"type": "array"}})
        );
    }

    #[test]
    fn rule_2_type_arrays() {
        schema_rule(
            json!({"type": ["string", "null"], "description": "d"}),
            json!({"type": "string", "nullable": true, "description": "d"}),
        );
        schema_rule(json!({"type": ["integer"]}), json!({"type": "integer"}));
        // Not expressible in 3.0 as one type: left alone.
        schema_rule(
            json!({"type": ["integer", "string"]}),
            json!({"type": ["integer", "string"]}),
        );
    }

    #[test]
    fn rule_3_null_alternatives() {
        schema_rule(
            json!({"oneOf": [{"$ref": "#/components/schemas/C", "description": "why"}, {"type": "null"}]}),
            json!({"allOf": [{"$ref": "#/components/schemas/C"}], "nullable": true, "description": "why"}),
        );
        schema_rule(
            json!({"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]}),
            json!({"anyOf": [{"type": "string"}, {"type": "integer"}], "nullable": true}),
        );
        // Without a null member nothing changes.
        schema_rule(
            json!({"oneOf": [{"type": "string"}, {"type": "integer"}]}),
            json!({"oneOf": [{"type": "string"}, {"type": "integer"}]}),
        );
    }

    #[test]
    fn rule_4_binary_content() {
        schema_rule(
            json!({"type": "string", "contentMediaType": "application/octet-stream"}),
            json!({"type": "string", "format": "binary"}),
        );
        schema_rule(
            json!({"type": "string", "format": "binary"}),
            json!({"type": "string", "format": "binary"}),
        );
    }

    #[test]
    fn rule_5_unsigned_formats() {
        schema_rule(
            json!({"type": "integer", "format": "u-int64", "minimum": 0}),
            json!({"type": "integer", "format": "uint64", "minimum": 0}),
        );
        schema_rule(
            json!({"type": "integer", "format": "int32"}),
            json!({"type": "integer", "format": "int32"}),
        );
    }

    #[test]
    fn rule_6_optional_parameters() {
        let doc = to_openapi_30(
            json!({"openapi": "3.1.0", "paths": {"/a": {"post": {"parameters": [
                {"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": ["string", "null"]}},
                {"name": "q", "in": "query", "required": true, "schema": {"type": ["string", "null"]}}
            ]}}}}),
        );
        let params = &doc["paths"]["/a"]["post"]["parameters"];
        assert_eq!(params[0]["schema"], json!({"type": "string"}));
        assert_eq!(
            params[1]["schema"],
            json!({"type": "string", "nullable": true})
        );
    }

    #[test]
    fn rule_7_problem_responses_are_json() {
        let problem = json!({"schema": {"$ref": "#/components/schemas/Problem"}});
        let doc = json!({"paths": {"/x": {"get": {"responses": {
            "200": {"content": {"application/json": {"schema": {"type": "string"}}}},
            "404": {"content": {"application/problem+json": problem.clone()}}
        }}}}});
        let out = to_openapi_30(doc);
        let responses = &out["paths"]["/x"]["get"]["responses"];
        assert_eq!(
            responses["404"]["content"],
            json!({"application/json": problem})
        );
        assert_eq!(
            responses["200"]["content"]["application/json"]["schema"]["type"],
            "string"
        );
    }

    #[test]
    fn rule_8_inline_enums_equal_to_a_component_become_refs() {
        let status = json!({"type": "string", "enum": ["a", "b"]});
        let doc = json!({
            "components": {"schemas": {"Status": status}},
            "paths": {"/x": {"get": {"parameters": [
                {"name": "s", "in": "query", "schema": {"type": "string", "enum": ["a", "b"], "description": "d"}},
                {"name": "t", "in": "query", "schema": {"type": "string", "enum": ["a"]}}
            ]}}}
        });
        let out = to_openapi_30(doc);
        let ps = &out["paths"]["/x"]["get"]["parameters"];
        assert_eq!(
            ps[0]["schema"],
            json!({"$ref": "#/components/schemas/Status"})
        );
        assert_eq!(
            ps[1]["schema"]["enum"],
            json!(["a"]),
            "a different enum stays"
        );
    }

    #[test]
    fn rules_apply_at_any_depth_and_are_deterministic() {
        let before = json!({"components": {"schemas": {"A": {"properties": {
            "x": {"type": ["integer", "null"], "format": "u-int32"}
        }}}}});
        let mut once = before.clone();
        walk(&mut once);
        assert_eq!(
            once["components"]["schemas"]["A"]["properties"]["x"],
            json!({"type": "integer", "format": "uint32", "nullable": true})
        );
        let mut twice = once.clone();
        walk(&mut twice);
        assert_eq!(once, twice, "idempotent");
    }
}
