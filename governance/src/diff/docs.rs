//! What changed in the words of a document rather than in what it accepts or sends:
//! descriptions, summaries, titles, examples, external docs and `info` (all but
//! `info.version`, which is what the version check judges). A document whose every
//! difference is here changed its documentation only: a patch release.
//!
//! Keywords are told from names by where they are: under `properties`, `paths`,
//! `responses`, `content` and the other maps of names, `description` is a property (or a
//! header, a media type…) called so, and its changes are real ones.

use serde_json::{Map, Value};

use super::escape;
use crate::report::{Finding, Severity};
use crate::rules;

/// Keywords that document and constrain nothing, with their rule.
const DOC_KEYWORDS: [(&str, rules::Rule); 6] = [
    ("description", rules::DESCRIPTION_CHANGED),
    ("summary", rules::SUMMARY_CHANGED),
    ("title", rules::TITLE_CHANGED),
    ("example", rules::EXAMPLE_CHANGED),
    ("examples", rules::EXAMPLE_CHANGED),
    ("externalDocs", rules::EXTERNAL_DOCS_CHANGED),
];

/// Keywords whose value is a map from names (chosen by the API) to objects. (Those under
/// `components` are maps of names whatever their key; `parameters` elsewhere is a list.)
const NAME_MAPS: [&str; 15] = [
    "paths",
    "webhooks",
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
    "dependentRequired",
    "responses",
    "headers",
    "content",
    "encoding",
    "links",
    "variables",
    "mapping",
];

/// How the keys of the object at hand are read.
#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    /// OpenAPI or JSON Schema keywords.
    Keywords,
    /// Names chosen by the API; their values are keyword objects.
    Names,
    /// Callback names, whose values are maps of expressions to path items.
    Callbacks,
    /// `components`: each key is a kind, whose value is a map of names.
    Components,
}

fn child_ctx(ctx: Ctx, key: &str) -> Ctx {
    match ctx {
        Ctx::Keywords if key == "components" => Ctx::Components,
        Ctx::Keywords if key == "callbacks" => Ctx::Callbacks,
        Ctx::Keywords if NAME_MAPS.contains(&key) => Ctx::Names,
        Ctx::Components => Ctx::Names,
        Ctx::Callbacks => Ctx::Names,
        _ => Ctx::Keywords,
    }
}

fn doc_rule(ctx: Ctx, key: &str) -> Option<rules::Rule> {
    if ctx != Ctx::Keywords {
        return None;
    }
    DOC_KEYWORDS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, rule)| *rule)
}

/// The document without `info.version`: what "the document changed" compares.
pub fn without_version(doc: &Value) -> Value {
    let mut out = doc.clone();
    if let Some(info) = out.get_mut("info").and_then(Value::as_object_mut) {
        info.remove("version");
    }
    out
}

/// The document without its documentation (and without `info`): equal for two
/// documents that differ in their words only.
pub fn without_docs(doc: &Value) -> Value {
    let mut out = strip(doc, Ctx::Keywords);
    if let Some(m) = out.as_object_mut() {
        m.remove("info");
    }
    out
}

fn strip(v: &Value, ctx: Ctx) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| doc_rule(ctx, k).is_none())
                .map(|(k, v)| (k.clone(), strip(v, child_ctx(ctx, k))))
                .collect(),
        ),
        // Array items are whatever their array holds: parameters, `allOf` members, tags…
        Value::Array(items) => Value::Array(items.iter().map(|i| strip(i, ctx)).collect()),
        other => other.clone(),
    }
}

/// The documentation changes from `base` to `rev`, as [`Severity::Info`] findings in
/// document order.
pub fn changes(base: &Value, rev: &Value) -> Vec<Finding> {
    let mut out = Vec::new();
    let info = |d: &Value| {
        let mut i = d["info"].clone();
        if let Some(m) = i.as_object_mut() {
            m.remove("version");
        }
        i
    };
    if info(base) != info(rev) {
        out.push(finding(
            rules::INFO_CHANGED,
            "/info".to_owned(),
            "the API's description changed".to_owned(),
        ));
    }
    walk(
        base,
        rev,
        "",
        Ctx::Keywords,
        &mut |pointer, key, rule, b, r| {
            if pointer.is_empty() && key == "info" {
                return;
            }
            let what = match key {
                "externalDocs" => "the external docs link",
                "examples" => "the examples",
                k => k,
            };
            let message = match (b, r) {
                (None, _) => format!("{what} is new"),
                (_, None) => format!("{what} was removed"),
                _ => format!("{what} changed"),
            };
            out.push(finding(rule, format!("{pointer}/{key}"), message));
        },
    );
    out
}

/// Where `base` and `rev` differ once their documentation is set aside: the first
/// differing position on each branch, at most `limit` of them.
pub fn structural(base: &Value, rev: &Value, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    diverge(&without_docs(base), &without_docs(rev), "", &mut out, limit);
    out
}

fn finding(rule: rules::Rule, location: String, message: String) -> Finding {
    Finding {
        rule: rule.id.to_owned(),
        severity: Severity::Info,
        location,
        message,
        fix: String::new(),
    }
}

/// Told of one documentation keyword that differs: (pointer of its object, keyword,
/// rule, base value, revision value).
type Found<'f> = dyn FnMut(&str, &str, rules::Rule, Option<&Value>, Option<&Value>) + 'f;

/// Calls `found` for every documentation keyword whose value differs, in the positions
/// both documents share.
fn walk(base: &Value, rev: &Value, pointer: &str, ctx: Ctx, found: &mut Found<'_>) {
    match (base, rev) {
        (Value::Object(b), Value::Object(r)) => {
            for key in keys(b, r) {
                let (bv, rv) = (b.get(key), r.get(key));
                if let Some(rule) = doc_rule(ctx, key) {
                    if bv != rv {
                        found(pointer, key, rule, bv, rv);
                    }
                    continue;
                }
                if let (Some(bv), Some(rv)) = (bv, rv) {
                    let here = format!("{pointer}/{}", escape(key));
                    walk(bv, rv, &here, child_ctx(ctx, key), found);
                }
            }
        }
        (Value::Array(b), Value::Array(r)) => {
            for (key, bi, ri) in items(b, r) {
                walk(bi, ri, &format!("{pointer}/{key}"), ctx, found);
            }
        }
        _ => {}
    }
}

/// The keys of both objects: the base's in order, then the revision's new ones.
fn keys<'a>(b: &'a Map<String, Value>, r: &'a Map<String, Value>) -> Vec<&'a str> {
    b.keys()
        .chain(r.keys().filter(|k| !b.contains_key(*k)))
        .map(String::as_str)
        .collect()
}

/// Pairs the items of two arrays: named ones (parameters as `in:name`, like the diff's
/// locations; tags by name) by name, others by position.
fn items<'v>(b: &'v [Value], r: &'v [Value]) -> Vec<(String, &'v Value, &'v Value)> {
    let name = |v: &Value| -> Option<String> {
        let n = v.get("name")?.as_str()?;
        Some(match v.get("in").and_then(Value::as_str) {
            Some(place) => format!("{place}:{}", escape(n)),
            None => escape(n),
        })
    };
    let named = |a: &[Value]| a.iter().all(|v| name(v).is_some());
    if !b.is_empty() && named(b) && named(r) {
        return b
            .iter()
            .filter_map(|bi| {
                let key = name(bi)?;
                let ri = r
                    .iter()
                    .find(|ri| name(ri).as_deref() == Some(key.as_str()))?;
                Some((key, bi, ri))
            })
            .collect();
    }
    b.iter()
        .zip(r)
        .enumerate()
        .map(|(i, (bi, ri))| (i.to_string(), bi, ri))
        .collect()
}

fn diverge(base: &Value, rev: &Value, pointer: &str, out: &mut Vec<String>, limit: usize) {
    if out.len() >= limit || base == rev {
        return;
    }
    match (base, rev) {
        (Value::Object(b), Value::Object(r)) => {
            for key in keys(b, r) {
                let here = format!("{pointer}/{}", escape(key));
                match (b.get(key), r.get(key)) {
                    (Some(bv), Some(rv)) => diverge(bv, rv, &here, out, limit),
                    _ if out.len() < limit => out.push(here),
                    _ => {}
                }
            }
        }
        (Value::Array(b), Value::Array(r)) if b.len() == r.len() => {
            for (i, (bi, ri)) in b.iter().zip(r).enumerate() {
                diverge(bi, ri, &format!("{pointer}/{i}"), out, limit);
            }
        }
        _ => out.push(if pointer.is_empty() {
            "/".to_owned()
        } else {
            pointer.to_owned()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_property_named_like_a_keyword_is_not_documentation() {
        let base = json!({"components": {"schemas": {"A": {"type": "object", "description": "a",
            "properties": {"description": {"type": "string"}}}}}});
        let mut rev = base.clone();
        rev["components"]["schemas"]["A"]["description"] = json!("an A");
        assert_eq!(without_docs(&base), without_docs(&rev));
        assert_eq!(
            changes(&base, &rev)
                .iter()
                .map(|f| (f.rule.as_str(), f.location.as_str()))
                .collect::<Vec<_>>(),
            [("description-changed", "/components/schemas/A/description")]
        );
        rev["components"]["schemas"]["A"]["properties"]["description"] = json!({"type": "integer"});
        assert_ne!(without_docs(&base), without_docs(&rev));
        assert_eq!(
            structural(&base, &rev, 10),
            ["/components/schemas/A/properties/description/type"]
        );
    }

    #[test]
    fn parameters_are_matched_by_name_and_info_version_is_not_documentation() {
        let base = json!({"info": {"title": "t", "version": "1.0.0"}, "paths": {"/a": {"get": {
        "parameters": [
            {"name": "x", "in": "query", "description": "x"},
            {"name": "y", "in": "query"}
        ]}}}});
        let mut rev = base.clone();
        rev["info"]["version"] = json!("1.0.1");
        assert!(changes(&base, &rev).is_empty());
        assert_eq!(without_version(&base), without_version(&rev));
        rev["paths"]["/a"]["get"]["parameters"] = json!([
            {"name": "y", "in": "query", "description": "y"},
            {"name": "x", "in": "query", "description": "x"}
        ]);
        let found = changes(&base, &rev);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].location,
            "/paths/~1a/get/parameters/query:y/description"
        );
        assert_eq!(found[0].message, "description is new");
    }
}
