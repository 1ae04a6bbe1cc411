//! Bodies against schemas: validation with the `jsonschema` crate (validators compiled
//! once per schema per comparison), and the walk that finds the fields a pact expects
//! but a schema does not declare.

use std::collections::{HashMap, HashSet};

use jsonschema::error::ValidationErrorKind as E;
use jsonschema::{Draft, Validator};
use serde_json::Value;

use crate::openapi::{Document, resolve_in};
use crate::pact::{Segment, covers};

/// The base URI the document is registered under, so that its `#/components/…`
/// references resolve.
pub(crate) const BASE: &str = "urn:docintel:openapi";

/// Errors looked at per body: beyond, the body is wrong enough to act on already.
const MAX_ERRORS_EXAMINED: usize = 1000;

/// Schemas considered at once for one value by [`undeclared`]: a bound on documents
/// that compose hundreds of branches.
const MAX_BRANCHES: usize = 256;

/// Schema applications one comparison's validations may take, all bodies together. A
/// hostile document can make validation exponential in a body's depth (`anyOf` branches
/// that each recurse); the work is counted first, within this budget, and a body beyond
/// it is not validated. An honest 2 MiB pact takes about a tenth of it.
pub const MAX_EVALUATIONS: u64 = 4_000_000;

/// Distinct schemas one comparison compiles validators for: a pact naming more
/// operations than that is not worth compiling a document's every schema for.
pub const MAX_VALIDATORS: usize = 256;

/// Characters escaped when a JSON pointer becomes a URI fragment.
const FRAGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'~')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.');

/// Compiled validators, by (response?, schema pointer), and the validation work left.
pub(crate) struct Validators {
    compiled: HashMap<(bool, String), Result<Validator, String>>,
    fuel: u64,
}

impl Default for Validators {
    fn default() -> Self {
        Self {
            compiled: HashMap::new(),
            fuel: MAX_EVALUATIONS,
        }
    }
}

impl Validators {
    /// Why `body` does not fit the schema at `pointer` (in the response or request copy
    /// of the document), leaving out value constraints on values that `loose` rules
    /// cover.
    pub fn errors(
        &mut self,
        doc: &Document,
        response: bool,
        pointer: &str,
        body: &Value,
        loose: &[Vec<Segment>],
    ) -> Vec<String> {
        let key = (response, pointer.to_owned());
        if !self.compiled.contains_key(&key) && self.compiled.len() >= MAX_VALIDATORS {
            return vec![format!(
                "the body was not validated: the pact names more than {MAX_VALIDATORS} schemas"
            )];
        }
        let compiled = self
            .compiled
            .entry(key)
            .or_insert_with(|| compile(doc, response, pointer));
        let validator = match compiled {
            Ok(v) => v,
            Err(e) => return vec![format!("the document's schema cannot be used: {e}")],
        };
        let copy = if response {
            &doc.response_doc
        } else {
            &doc.request_doc
        };
        let root = copy.pointer(pointer).unwrap_or(&Value::Null);
        if !affordable(copy, root, body, &mut self.fuel) {
            return vec![format!(
                "the body was not validated: its schema would take more than {MAX_EVALUATIONS} evaluations for it (the document composes schemas too deeply)"
            )];
        }
        let mut out = Vec::new();
        for e in validator.iter_errors(body).take(MAX_ERRORS_EXAMINED) {
            let tokens: Vec<String> = e
                .instance_path()
                .as_str()
                .split('/')
                .skip(1)
                .map(|t| t.replace("~1", "/").replace("~0", "~"))
                .collect();
            if value_constraint(e.kind()) && loose.iter().any(|r| covers(r, &tokens)) {
                continue;
            }
            let at = if tokens.is_empty() {
                "the body".to_owned()
            } else {
                format!("`{}`", display(&tokens))
            };
            out.push(format!("{at}: {e}"));
            if out.len() >= crate::MAX_MISMATCHES {
                break;
            }
        }
        out
    }
}

/// Counts, against `fuel`, the schema applications validating `value` takes: every
/// branch of every composition, as a validator may try them all. False when it runs out.
fn affordable(doc: &Value, schema: &Value, value: &Value, fuel: &mut u64) -> bool {
    if *fuel == 0 {
        return false;
    }
    *fuel -= 1;
    let s = resolve_in(doc, schema);
    let Some(o) = s.as_object() else {
        return true;
    };
    for key in ["allOf", "anyOf", "oneOf"] {
        for branch in o.get(key).and_then(Value::as_array).into_iter().flatten() {
            if !affordable(doc, branch, value, fuel) {
                return false;
            }
        }
    }
    for key in ["not", "if", "then", "else"] {
        if let Some(sub) = o.get(key)
            && !affordable(doc, sub, value, fuel)
        {
            return false;
        }
    }
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let mut applied = false;
                if let Some(sub) = o.get("properties").and_then(|p| p.get(k)) {
                    applied = true;
                    if !affordable(doc, sub, v, fuel) {
                        return false;
                    }
                }
                for sub in o
                    .get("patternProperties")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flat_map(|p| p.values())
                {
                    applied = true;
                    if !affordable(doc, sub, v, fuel) {
                        return false;
                    }
                }
                if let Some(sub) = o.get("additionalProperties").filter(|_| !applied)
                    && !affordable(doc, sub, v, fuel)
                {
                    return false;
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let sub = o
                    .get("prefixItems")
                    .and_then(|p| p.get(i))
                    .or_else(|| o.get("items"));
                if let Some(sub) = sub
                    && !affordable(doc, sub, v, fuel)
                {
                    return false;
                }
                if let Some(sub) = o.get("contains")
                    && !affordable(doc, sub, v, fuel)
                {
                    return false;
                }
            }
        }
        _ => {}
    }
    true
}

fn compile(doc: &Document, response: bool, pointer: &str) -> Result<Validator, String> {
    let registry = if response {
        &doc.response_registry
    } else {
        &doc.request_registry
    };
    let fragment = percent_encoding::utf8_percent_encode(pointer, FRAGMENT);
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .with_registry(registry.clone())
        .build(&serde_json::json!({ "$ref": format!("{BASE}#{fragment}") }))
        .map_err(|e| e.to_string())
}

/// Constraints on a value rather than on its type or shape: what a type matcher lets the
/// provider choose.
fn value_constraint(kind: &E) -> bool {
    matches!(
        kind,
        E::Constant { .. }
            | E::Enum { .. }
            | E::Format { .. }
            | E::Pattern { .. }
            | E::MaxLength { .. }
            | E::MinLength { .. }
            | E::Maximum { .. }
            | E::Minimum { .. }
            | E::ExclusiveMaximum { .. }
            | E::ExclusiveMinimum { .. }
            | E::MultipleOf { .. }
            | E::MaxItems { .. }
            | E::MinItems { .. }
            | E::UniqueItems
            | E::Contains
    )
}

/// `items[0].id` from pointer tokens.
fn display(tokens: &[String]) -> String {
    let mut out = String::new();
    for t in tokens {
        if t.parse::<usize>().is_ok() {
            out.push_str(&format!("[{t}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(t);
        }
    }
    out
}

/// The fields of `body` that `schema` does not declare (`items[].department`), each once.
/// A schema declares the `properties` it lists; with `additionalProperties` (other than
/// `false`) or `patternProperties` it declares any field, and so does an object schema
/// listing no properties at all (a free-form object).
pub(crate) fn undeclared(doc: &Document, schema: &Value, body: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    walk(doc.value(), vec![schema], body, "", &mut out, &mut seen);
    out
}

fn walk<'a>(
    doc: &'a Value,
    schemas: Vec<&'a Value>,
    value: &Value,
    path: &str,
    out: &mut Vec<String>,
    seen: &mut HashSet<String>,
) {
    let flat = expand(doc, schemas);
    match value {
        Value::Object(map) => {
            let mut declared: HashSet<&str> = HashSet::new();
            let mut extra: Vec<&Value> = Vec::new();
            let mut open = false;
            let mut any_object_schema = false;
            for s in &flat {
                let Some(o) = s.as_object() else {
                    open |= **s == Value::Bool(true);
                    continue;
                };
                if !admits_object(s) {
                    continue;
                }
                any_object_schema = true;
                let props = o.get("properties").and_then(Value::as_object);
                let additional = o.get("additionalProperties");
                if o.contains_key("patternProperties") {
                    open = true;
                }
                match additional {
                    Some(Value::Bool(false)) => {}
                    Some(Value::Bool(true)) => open = true,
                    Some(a) => extra.push(a),
                    None if props.is_none() => open = true,
                    None => {}
                }
                declared.extend(props.into_iter().flatten().map(|(k, _)| k.as_str()));
            }
            if !any_object_schema {
                // Nothing here describes an object: validation reports the type.
                open = true;
            }
            for (k, v) in map {
                let child = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                if declared.contains(k.as_str()) {
                    let next: Vec<&Value> = flat
                        .iter()
                        .filter_map(|s| resolve_in(doc, s)["properties"].get(k))
                        .collect();
                    walk(doc, next, v, &child, out, seen);
                } else if !extra.is_empty() {
                    walk(doc, extra.clone(), v, &child, out, seen);
                } else if !open && seen.insert(child.clone()) {
                    out.push(child);
                }
            }
        }
        Value::Array(items) => {
            let child = format!("{path}[]");
            for (i, item) in items.iter().enumerate() {
                let next: Vec<&Value> = flat
                    .iter()
                    .filter_map(|s| {
                        s["prefixItems"]
                            .get(i)
                            .or_else(|| s.get("items").filter(|i| !i.is_array()))
                    })
                    .collect();
                if next.is_empty() {
                    continue;
                }
                walk(doc, next, item, &child, out, seen);
            }
        }
        _ => {}
    }
}

/// Whether a schema may describe an object (no `type`, or one including `object`).
fn admits_object(s: &Value) -> bool {
    match &s["type"] {
        Value::Null => true,
        Value::String(t) => t == "object",
        Value::Array(ts) => ts.iter().any(|t| t == "object"),
        _ => true,
    }
}

/// The schemas that apply to a value: references followed, and `allOf`, `anyOf`, `oneOf`,
/// `then` and `else` branches taken together (a field declared by any branch is
/// declared); each schema once.
fn expand<'a>(doc: &'a Value, start: Vec<&'a Value>) -> Vec<&'a Value> {
    let mut out: Vec<&Value> = Vec::new();
    let mut seen: HashSet<*const Value> = HashSet::new();
    let mut queue = start;
    while let Some(s) = queue.pop() {
        if out.len() >= MAX_BRANCHES {
            break;
        }
        let s = resolve_in(doc, s);
        if !seen.insert(s as *const Value) {
            continue;
        }
        let mut composed = false;
        for key in ["allOf", "anyOf", "oneOf"] {
            if let Some(branches) = s[key].as_array() {
                composed = true;
                queue.extend(branches.iter());
            }
        }
        for key in ["then", "else"] {
            if let Some(b) = s.get(key) {
                composed = true;
                queue.push(b);
            }
        }
        let own = [
            "properties",
            "additionalProperties",
            "patternProperties",
            "items",
            "prefixItems",
        ]
        .iter()
        .any(|k| s.get(*k).is_some());
        if !composed || own {
            out.push(s);
        }
    }
    out
}
