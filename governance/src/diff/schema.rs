//! One schema position of the base against the same position of the revision. Requests
//! may accept more and responses may send less; everything else is a finding.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use super::{Differ, Dir, Doc, escape, resolve};
use crate::report::Finding;

mod constraints;
mod enums;
mod properties;
mod types;
mod unions;

/// A pair of referenced schemas, by address (the documents do not change during a
/// comparison).
pub(super) type Pair = (*const Value, *const Value);

/// The pairs of referenced schemas walked from one operation (a pair is walked once per
/// operation, so recursive schemas end and each change is reported once per operation).
#[derive(Default)]
pub(super) struct Seen {
    /// Each pair's position in `order`.
    at: HashMap<Pair, usize>,
    order: Vec<Pair>,
    /// The earliest pair skipped (as seen before) since the current pair began: when it
    /// is older than the current pair, what the current pair found depends on where it
    /// was reached from.
    earliest_skip: usize,
}

impl Seen {
    pub(super) fn new() -> Self {
        Self {
            earliest_skip: usize::MAX,
            ..Self::default()
        }
    }

    fn add(&mut self, pair: Pair) -> usize {
        let n = self.order.len();
        self.at.insert(pair, n);
        self.order.push(pair);
        n
    }
}

/// What one pair of components was found to break, wherever it is reached from first:
/// findings with locations relative to the pair, and the pairs walked under it.
pub(super) struct Remembered {
    findings: Vec<Finding>,
    footprint: Vec<Pair>,
}

/// A schema's non-null types and whether it admits null, across 3.0 and 3.1 forms.
fn types_of(doc: &Doc, schema: &Value) -> (BTreeSet<String>, bool) {
    let (s, _) = resolve(doc, schema);
    let mut types = BTreeSet::new();
    let mut nullable = s["nullable"].as_bool().unwrap_or(false);
    match &s["type"] {
        Value::String(t) => {
            types.insert(t.clone());
        }
        Value::Array(ts) => {
            types.extend(ts.iter().filter_map(Value::as_str).map(str::to_owned));
        }
        _ => {}
    }
    for key in ["oneOf", "anyOf"] {
        for v in s[key].as_array().into_iter().flatten() {
            let (vt, vn) = types_of(doc, v);
            nullable |= vn;
            types.extend(vt);
        }
    }
    for v in s["allOf"].as_array().into_iter().flatten() {
        types.extend(types_of(doc, v).0);
    }
    if s.get("const").is_some_and(Value::is_null)
        || s["enum"]
            .as_array()
            .is_some_and(|e| e.contains(&Value::Null))
    {
        nullable = true;
    }
    if types.remove("null") {
        nullable = true;
    }
    (types, nullable)
}

/// Whether every value of type `ty` is valid for `set` (an integer is a number).
fn covered(ty: &str, set: &BTreeSet<String>) -> bool {
    set.contains(ty) || (ty == "integer" && set.contains("number"))
}

/// Whether every value valid under `inner` (a `format`, or none) is valid under `outer`.
fn format_within(inner: &Value, outer: &Value) -> bool {
    if outer.is_null() || inner == outer {
        return true;
    }
    matches!(
        (inner.as_str(), outer.as_str()),
        (Some("int32"), Some("int64" | "float" | "double"))
            | (Some("int64" | "float"), Some("double"))
    )
}

/// The one non-null schema inside a nullable wrapper (`oneOf: [X, {type: null}]`), or the
/// schema itself; `allOf` members are merged into one object view.
fn core<'v>(doc: &Doc<'v>, schema: &'v Value) -> Cow<'v, Value> {
    let (s, _) = resolve(doc, schema);
    for key in ["oneOf", "anyOf"] {
        if let Some(variants) = s[key].as_array() {
            let mut non_null = variants.iter().filter(|v| !is_null_schema(doc, v));
            if let (Some(only), None) = (non_null.next(), non_null.next()) {
                return core(doc, only);
            }
        }
    }
    let Some(all) = s["allOf"].as_array() else {
        return Cow::Borrowed(s);
    };
    let mut merged = s.clone();
    if let Some(m) = merged.as_object_mut() {
        m.remove("allOf");
    }
    for part in all {
        let part = core(doc, part);
        let (Some(m), Some(p)) = (merged.as_object_mut(), part.as_object()) else {
            continue;
        };
        for (k, v) in p {
            match (k.as_str(), m.get_mut(k)) {
                ("properties", Some(Value::Object(mine))) => {
                    if let Some(theirs) = v.as_object() {
                        mine.extend(theirs.clone());
                    }
                }
                ("required", Some(Value::Array(mine))) => {
                    if let Some(theirs) = v.as_array() {
                        mine.extend(theirs.clone());
                    }
                }
                (_, None) => {
                    m.insert(k.clone(), v.clone());
                }
                _ => {}
            }
        }
    }
    Cow::Owned(merged)
}

fn is_null_schema(doc: &Doc, v: &Value) -> bool {
    let (s, _) = resolve(doc, v);
    s["type"] == "null" || s.get("const").is_some_and(Value::is_null)
}

/// The non-null branches of a `oneOf`/`anyOf` with at least two of them, and which.
fn branches<'v>(doc: &Doc<'v>, schema: &'v Value) -> Option<(&'static str, Vec<&'v Value>)> {
    let (s, _) = resolve(doc, schema);
    for key in ["oneOf", "anyOf"] {
        if let Some(variants) = s[key].as_array() {
            let non_null: Vec<&Value> = variants
                .iter()
                .filter(|v| !is_null_schema(doc, v))
                .collect();
            if non_null.len() >= 2 {
                return Some((key, non_null));
            }
        }
    }
    None
}

impl Differ<'_> {
    /// Compares one schema position.
    pub(super) fn schema(
        &mut self,
        pointer: &str,
        base: &Value,
        rev: &Value,
        dir: Dir,
        seen: &mut Seen,
    ) {
        if base.is_null() || rev.is_null() {
            return;
        }
        // The references themselves name a union's branches.
        let (named_base, named_rev) = (base, rev);
        let (base, base_ref) = resolve(&self.base, base);
        let (rev, rev_ref) = resolve(&self.rev, rev);
        if base_ref.is_none() || rev_ref.is_none() {
            return self.schema_here(pointer, (named_base, base), (named_rev, rev), dir, seen);
        }
        let pair: Pair = (base, rev);
        if let Some(&n) = seen.at.get(&pair) {
            seen.earliest_skip = seen.earliest_skip.min(n);
            return;
        }
        // Large APIs reach the same components from hundreds of operations: a pair
        // compared before, whose walk does not overlap this one's so far, found the same.
        if let Some(known) = self.memo.get(&(pair, dir))
            && !known.footprint.iter().any(|p| seen.at.contains_key(p))
        {
            let found: Vec<Finding> = known
                .findings
                .iter()
                .map(|f| Finding {
                    location: format!("{pointer}{}", f.location),
                    ..f.clone()
                })
                .collect();
            for p in known.footprint.clone() {
                seen.add(p);
            }
            self.findings.extend(found);
            return;
        }
        let first = seen.add(pair);
        let outer_skip = std::mem::replace(&mut seen.earliest_skip, usize::MAX);
        let start = self.findings.len();
        self.schema_here(pointer, (named_base, base), (named_rev, rev), dir, seen);
        let inner_skip = seen.earliest_skip;
        seen.earliest_skip = outer_skip.min(inner_skip);
        if inner_skip < first {
            return;
        }
        let relative: Option<Vec<Finding>> = self.findings[start..]
            .iter()
            .map(|f| {
                Some(Finding {
                    location: f.location.strip_prefix(pointer)?.to_owned(),
                    ..f.clone()
                })
            })
            .collect();
        if let Some(findings) = relative {
            let footprint = seen.order[first..].to_vec();
            self.memo.insert(
                (pair, dir),
                Remembered {
                    findings,
                    footprint,
                },
            );
        }
    }

    /// One schema position, `$ref`s resolved (each side: as written, and resolved).
    fn schema_here(
        &mut self,
        pointer: &str,
        (named_base, base): (&Value, &Value),
        (named_rev, rev): (&Value, &Value),
        dir: Dir,
        seen: &mut Seen,
    ) {
        let (base_types, base_null) = types_of(&self.base, base);
        let (rev_types, rev_null) = types_of(&self.rev, rev);
        self.nullability(pointer, base_null, rev_null, dir);
        let (bb, rb) = (branches(&self.base, base), branches(&self.rev, rev));
        if bb.is_some() || rb.is_some() {
            self.unions(pointer, (named_base, bb), (named_rev, rb), dir, seen);
            return;
        }
        self.all_of_added(pointer, base, rev, dir);
        let b = core(&self.base, base);
        let r = core(&self.rev, rev);
        self.types(pointer, (&base_types, &b), (&rev_types, &r), dir);
        self.enums(pointer, &b, &r, dir);
        self.constraints(pointer, &b, &r, dir);
        self.properties(pointer, &b, &r, dir, seen);
        for key in ["items", "additionalProperties"] {
            if b[key].is_object() && r[key].is_object() {
                self.schema(&format!("{pointer}/{key}"), &b[key], &r[key], dir, seen);
            }
        }
    }
}
