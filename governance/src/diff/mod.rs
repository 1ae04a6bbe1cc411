//! Breaking-change rules for two OpenAPI 3.x documents (3.1 first: `type` arrays and
//! `{type: null}` variants are nullability; 3.0's `nullable: true` too). `$ref`s are
//! resolved, so a component renamed with the same shape changes nothing. Descriptions,
//! examples and `deprecated: true` are never breaking by themselves.
//!
//! Operations are matched by method and path template: `/documents/{id}` and
//! `/documents/{document_id}` are one operation (a client sends the same request), and
//! path parameters are matched by position, not by name.
//!
//! Oxide's `drift` crate was the first choice, but it parses with `openapiv3`, which reads
//! OpenAPI 3.0 only; docintel's documents are 3.1. oasdiff's rules are the reference for
//! what counts as breaking: [`catalogue`] maps each of its ERR rules to one of ours.

pub mod catalogue;
pub mod docs;
pub mod load;

mod deprecation;
mod parameters;
mod paths;
mod request_body;
mod responses;
mod schema;
mod security;

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::report::{Finding, Severity};
use crate::rules;
use deprecation::date_prefix;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// What the comparison needs besides the two documents.
#[derive(Debug, Clone)]
pub struct Options {
    /// YYYY-MM-DD: decides whether a removed operation was past its sunset.
    pub today: String,
    /// The least notice a new deprecation must give (0: a sunset is optional, as in
    /// oasdiff without a deprecation policy).
    pub min_sunset_days: u32,
}

/// Compares `base` (what clients use) with `rev` (the candidate). `today` (YYYY-MM-DD)
/// decides whether a removed operation was past its sunset.
pub fn diff(base: &Value, rev: &Value, today: &str) -> Vec<Finding> {
    diff_with(
        base,
        rev,
        &Options {
            today: today.to_owned(),
            min_sunset_days: 0,
        },
    )
}

/// [`diff`] with every option.
pub fn diff_with(base: &Value, rev: &Value, options: &Options) -> Vec<Finding> {
    let mut d = Differ {
        base: Doc::new(base),
        rev: Doc::new(rev),
        options,
        today: date_prefix(&options.today),
        findings: Vec::new(),
        memo: HashMap::new(),
    };
    d.operations();
    d.webhooks();
    d.findings
}

/// Whether a document looks like OpenAPI 3.x.
pub fn validate(doc: &Value) -> Result<(), String> {
    let version = doc["openapi"]
        .as_str()
        .ok_or("not an OpenAPI document: no `openapi` version")?;
    if !version.starts_with("3.") {
        return Err(format!(
            "OpenAPI {version} is not supported (3.0 and 3.1 are)"
        ));
    }
    if !doc["paths"].is_object() && !doc["webhooks"].is_object() {
        return Err("the document has no `paths` object".to_owned());
    }
    Ok(())
}

struct Differ<'a> {
    base: Doc<'a>,
    rev: Doc<'a>,
    options: &'a Options,
    /// `options.today`, read once.
    today: Option<time::Date>,
    findings: Vec<Finding>,
    /// What each pair of components was found to break, by direction (see `schema`).
    memo: HashMap<(schema::Pair, Dir), schema::Remembered>,
}

/// Which side of the wire a schema is on: requests may widen, responses may narrow.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Dir {
    Request,
    Response,
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// A document with every local `$ref` it contains resolved once: following references is
/// most of the work on a large spec, and a JSON pointer walk allocates per segment.
struct Doc<'a> {
    root: &'a Value,
    targets: HashMap<&'a str, &'a Value>,
}

impl<'a> Doc<'a> {
    fn new(root: &'a Value) -> Self {
        let mut targets = HashMap::new();
        let mut stack = vec![root];
        while let Some(v) = stack.pop() {
            match v {
                Value::Object(m) => {
                    if let Some(Value::String(r)) = m.get("$ref")
                        && let Some(target) = r.strip_prefix('#').and_then(|p| root.pointer(p))
                    {
                        targets.entry(r.as_str()).or_insert(target);
                    }
                    stack.extend(m.values());
                }
                Value::Array(items) => stack.extend(items),
                _ => {}
            }
        }
        Self { root, targets }
    }
}

impl std::ops::Index<&str> for Doc<'_> {
    type Output = Value;
    fn index(&self, key: &str) -> &Value {
        &self.root[key]
    }
}

/// `$ref`s followed to their target, with the last reference's name.
fn resolve<'v>(doc: &Doc<'v>, schema: &'v Value) -> (&'v Value, Option<&'v str>) {
    let mut current = schema;
    let mut name = None;
    for _ in 0..32 {
        let Some(r) = current.get("$ref").and_then(Value::as_str) else {
            break;
        };
        match doc.targets.get(r) {
            Some(target) => {
                name = Some(r);
                current = target;
            }
            None => break,
        }
    }
    (current, name)
}

/// A path with its parameter names replaced by `{}`, and the names in order.
fn template(path: &str) -> (String, Vec<&str>) {
    let mut out = String::with_capacity(path.len());
    let mut names = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        out.push_str(&rest[..open]);
        out.push_str("{}");
        names.push(&rest[open + 1..open + close]);
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    (out, names)
}

impl Differ<'_> {
    fn push(&mut self, rule: rules::Rule, pointer: String, message: String, fix: &str) {
        debug_assert_eq!(rule.family, rules::Family::Breaking, "{}", rule.id);
        self.findings.push(Finding {
            rule: rule.id.to_owned(),
            severity: Severity::Breaking,
            location: pointer,
            message,
            fix: fix.to_owned(),
        });
    }

    fn note(&mut self, rule: rules::Rule, pointer: String, message: String) {
        debug_assert_eq!(rule.family, rules::Family::Note, "{}", rule.id);
        self.findings.push(Finding {
            rule: rule.id.to_owned(),
            severity: Severity::Info,
            location: pointer,
            message,
            fix: String::new(),
        });
    }

    fn warn(&mut self, rule: rules::Rule, pointer: String, message: String, fix: &str) {
        debug_assert_eq!(rule.family, rules::Family::Warning, "{}", rule.id);
        self.findings.push(Finding {
            rule: rule.id.to_owned(),
            severity: Severity::Warning,
            location: pointer,
            message,
            fix: fix.to_owned(),
        });
    }
}

/// A document's path items keyed by template (the first of two that differ only in
/// parameter names, which OpenAPI forbids anyway).
fn by_template(doc: &Value) -> BTreeMap<String, (&str, &Value)> {
    let mut out = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        out.entry(template(path).0).or_insert((path.as_str(), item));
    }
    out
}

/// One side of an operation: its path as written, its path item and the operation.
type Side<'v> = (&'v str, &'v Value, &'v Value);

struct Sides<'v> {
    base: Side<'v>,
    rev: Side<'v>,
}

struct Param<'v> {
    name: &'v str,
    value: &'v Value,
}

/// A parameter's or header's schema: `schema`, or the one in its `content`.
fn param_schema(p: &Value) -> &Value {
    if !p["schema"].is_null() {
        return &p["schema"];
    }
    p["content"]
        .as_object()
        .and_then(|c| c.values().next())
        .map_or(&Value::Null, |m| &m["schema"])
}
