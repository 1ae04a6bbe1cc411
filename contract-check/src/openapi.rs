//! An OpenAPI 3.x document ready to compare against: its path templates, its operations,
//! and two copies of it for validation (see [`Document::new`]).

use serde_json::{Map, Value};

use crate::DocumentError;
use crate::paths::{PathTemplates, essence};

/// One OpenAPI document.
pub struct Document {
    doc: Value,
    /// For request bodies: the document as written (3.0's `nullable` turned into 3.1's
    /// `type: [.., "null"]`).
    pub(crate) request_doc: Value,
    /// For response bodies: also without `required` (a pact asks for the fields it
    /// uses, not for all), and `oneOf` read as `anyOf` (a partial example may fit more
    /// than one branch).
    pub(crate) response_doc: Value,
    /// Each copy registered once, so that compiling a validator for one of its schemas
    /// does not copy the document again.
    pub(crate) request_registry: jsonschema::Registry,
    pub(crate) response_registry: jsonschema::Registry,
    paths: PathTemplates,
}

/// The operation an interaction's method and path fall under.
pub(crate) struct Operation<'a> {
    /// `GET /v2/documents/{id}`.
    pub name: String,
    /// JSON pointer to the operation object.
    pub pointer: String,
    pub value: &'a Value,
    /// The path item's parameters (the operation's own override them).
    pub path_parameters: &'a Value,
}

/// Where a method and path led.
pub(crate) enum Found<'a> {
    Operation(Operation<'a>),
    /// The path is documented, not with this method.
    NoMethod {
        template: String,
    },
    NoPath,
}

impl Document {
    /// An OpenAPI 3.0 or 3.1 document (JSON, as a value; references within it).
    pub fn new(doc: Value) -> Result<Self, DocumentError> {
        let version = doc["openapi"].as_str().unwrap_or_default();
        if !version.starts_with("3.") {
            return Err(DocumentError(
                "not an OpenAPI 3.x document (no `openapi: 3.…`)".into(),
            ));
        }
        if !doc["paths"].is_object() {
            return Err(DocumentError("the document has no `paths` object".into()));
        }
        let paths = PathTemplates::new(&doc);
        let mut request_doc = doc.clone();
        rewrite(&mut request_doc, false, 0);
        let mut response_doc = doc.clone();
        rewrite(&mut response_doc, true, 0);
        let register = |copy: &Value| {
            let resource = jsonschema::Draft::Draft202012.create_resource(copy.clone());
            jsonschema::Registry::try_new(crate::schema::BASE, resource)
                .map_err(|e| DocumentError(format!("its schemas cannot be read: {e}")))
        };
        let request_registry = register(&request_doc)?;
        let response_registry = register(&response_doc)?;
        Ok(Self {
            doc,
            request_doc,
            response_doc,
            request_registry,
            response_registry,
            paths,
        })
    }

    /// The document as given.
    pub fn value(&self) -> &Value {
        &self.doc
    }

    /// Whether some path template of the document matches `path`.
    pub fn has_path(&self, path: &str) -> bool {
        self.template_of(path).is_some()
    }

    /// The path template `path` falls under: the most literal one, as OpenAPI asks
    /// (a `servers` URL's path is a prefix it may carry).
    pub fn template_of(&self, path: &str) -> Option<&str> {
        self.paths.template_of(path)
    }

    pub(crate) fn find(&self, method: &str, path: &str) -> Found<'_> {
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let Some(template) = self.template_of(path) else {
            return Found::NoPath;
        };
        let item_pointer = format!("/paths/{}", escape(template));
        let item = self.resolve(&self.doc["paths"][template]);
        let lower = method.to_ascii_lowercase();
        match item.get(&lower) {
            Some(op) => Found::Operation(Operation {
                name: format!("{method} {template}"),
                pointer: format!("{item_pointer}/{lower}"),
                value: self.resolve(op),
                path_parameters: &item["parameters"],
            }),
            None => Found::NoMethod {
                template: template.to_owned(),
            },
        }
    }

    /// Follows local `$ref`s to the value they name (`Null` when one points nowhere).
    pub(crate) fn resolve<'a>(&'a self, value: &'a Value) -> &'a Value {
        resolve_in(&self.doc, value)
    }
}

pub(crate) fn resolve_in<'a>(doc: &'a Value, mut value: &'a Value) -> &'a Value {
    // A bound against reference cycles.
    for _ in 0..32 {
        let Some(pointer) = value["$ref"].as_str().and_then(|r| r.strip_prefix('#')) else {
            return value;
        };
        match doc.pointer(&unescape_fragment(pointer)) {
            Some(target) => value = target,
            None => return &Value::Null,
        }
    }
    value
}

/// A `$ref` fragment is percent-encoded.
fn unescape_fragment(fragment: &str) -> String {
    percent_encoding::percent_decode_str(fragment)
        .decode_utf8_lossy()
        .into_owned()
}

/// A JSON pointer token.
pub(crate) fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Rewrites schema keywords for validation (see [`Document`]). Keywords are told from
/// property names by their values: `required` and `oneOf` are arrays, properties objects.
fn rewrite(value: &mut Value, response: bool, depth: usize) {
    // serde_json's parser nests at most 128 deep; this is that bound made explicit.
    if depth > 256 {
        return;
    }
    match value {
        Value::Object(map) => {
            nullable(map);
            if response {
                if map.get("required").is_some_and(Value::is_array) {
                    map.remove("required");
                }
                if let Some(one_of) = map.remove("oneOf").filter(Value::is_array) {
                    if map.contains_key("anyOf") {
                        let all = map
                            .entry("allOf")
                            .or_insert_with(|| Value::Array(Vec::new()));
                        if let Value::Array(all) = all {
                            all.push(serde_json::json!({ "anyOf": one_of }));
                        }
                    } else {
                        map.insert("anyOf".into(), one_of);
                    }
                }
            }
            for v in map.values_mut() {
                rewrite(v, response, depth + 1);
            }
        }
        Value::Array(items) => {
            for v in items {
                rewrite(v, response, depth + 1);
            }
        }
        _ => {}
    }
}

/// OpenAPI 3.0's `nullable: true` as 3.1 writes it.
fn nullable(map: &mut Map<String, Value>) {
    if map.get("nullable") != Some(&Value::Bool(true)) {
        return;
    }
    map.remove("nullable");
    match map.get_mut("type") {
        Some(Value::String(t)) => {
            let t = std::mem::take(t);
            map.insert("type".into(), serde_json::json!([t, "null"]));
        }
        Some(Value::Array(ts)) if !ts.iter().any(|t| t == "null") => ts.push("null".into()),
        _ => {}
    }
}

/// The documented media type (a key of `content`) that covers `actual`: the exact one
/// first, then `type/*`, then `*/*`; a consumer taking `application/json` also takes a
/// narrower `application/…+json` (RFC 6839's structured suffix).
pub(crate) fn media_type<'a>(content: &'a Map<String, Value>, actual: &str) -> Option<&'a str> {
    let actual = essence(actual);
    let major = actual.split('/').next().unwrap_or_default();
    let keys = || content.keys().map(String::as_str);
    keys()
        .find(|k| essence(k) == actual)
        .or_else(|| keys().find(|k| essence(k) == format!("{major}/*")))
        .or_else(|| keys().find(|k| essence(k) == "*/*"))
        .or_else(|| {
            (actual == "application/json").then_some(())?;
            keys().find(|k| {
                let k = essence(k);
                k.starts_with("application/") && k.ends_with("+json")
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::segment_matches;
    use serde_json::json;

    #[test]
    fn templates_match_concrete_paths() {
        assert!(segment_matches("{id}", "0192f0c4"));
        assert!(segment_matches("{name}.json", "v2.json"));
        assert!(!segment_matches("{name}.json", ".json"));
        assert!(!segment_matches("documents", "document"));
        let doc = Document::new(json!({
            "openapi": "3.1.0",
            "servers": [{"url": "https://example.com/api"}],
            "paths": {"/v2/documents/{id}": {"get": {}}, "/v2/documents/latest": {"get": {}}}
        }))
        .unwrap();
        assert_eq!(
            doc.template_of("/v2/documents/42"),
            Some("/v2/documents/{id}")
        );
        assert_eq!(
            doc.template_of("/v2/documents/latest"),
            Some("/v2/documents/latest")
        );
        assert_eq!(
            doc.template_of("/api/v2/documents/42"),
            Some("/v2/documents/{id}")
        );
        assert_eq!(doc.template_of("/v2/documents"), None);
    }

    #[test]
    fn response_copies_drop_required_and_read_one_of_as_any_of() {
        let doc = Document::new(json!({
            "openapi": "3.0.3",
            "paths": {},
            "components": {"schemas": {"A": {
                "type": "object",
                "required": ["required"],
                "properties": {"required": {"type": "string", "nullable": true}},
                "oneOf": [{"type": "object"}]
            }}}
        }))
        .unwrap();
        let a = &doc.response_doc["components"]["schemas"]["A"];
        assert!(a.get("required").is_none());
        assert!(
            a["properties"]["required"].is_object(),
            "a property named required stays"
        );
        assert_eq!(
            a["properties"]["required"]["type"],
            json!(["string", "null"])
        );
        assert!(a.get("oneOf").is_none() && a["anyOf"].is_array());
        let a = &doc.request_doc["components"]["schemas"]["A"];
        assert_eq!(a["required"], json!(["required"]));
        assert!(Document::new(json!({"swagger": "2.0", "paths": {}})).is_err());
    }
}
