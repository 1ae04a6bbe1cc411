//! The fixtures: for each breaking-change rule, a change that fires it and a safe twin.

use super::*;

/// (rule, the breaking change, its safe twin)
pub(super) fn cases() -> Vec<(&'static str, Edit, Edit)> {
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
        (
            "security-changed",
            |d| get_op(d)["security"] = json!([{"api_key": [], "oauth": []}]),
            // The same scheme naming a scope: listed, as oasdiff lists it (INFO).
            |d| get_op(d)["security"] = json!([{"api_key": ["things:read"]}]),
        ),
    ]
}
