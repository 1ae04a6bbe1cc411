//! One schema position of the base against the same position of the revision. Requests
//! may accept more and responses may send less; everything else is a finding.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use super::{Differ, Dir, Doc, escape, resolve};
use crate::report::Finding;
use crate::rules;

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

/// What a union branch is, for matching branches across the two documents: the
/// component it names, else its types and title.
fn branch_name(doc: &Doc, v: &Value) -> Option<String> {
    resolve(doc, v)
        .1
        .map(|r| r.rsplit('/').next().unwrap_or(r).to_owned())
}
fn branch_shape(doc: &Doc, v: &Value) -> String {
    let (types, _) = types_of(doc, v);
    format!("{types:?} {}", core(doc, v)["title"])
}

fn required_set(s: &Value) -> BTreeSet<&str> {
    s["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// The values a schema is limited to (`enum`, `const`; in requests also a Zalando-style
/// `x-extensible-enum` list, which a server still validates against), without null.
fn enum_set(s: &Value, dir: Dir) -> Option<BTreeSet<String>> {
    let listed = s["enum"]
        .as_array()
        .or(match (dir, &s["x-extensible-enum"]) {
            (Dir::Request, Value::Array(values)) => Some(values),
            _ => None,
        });
    let mut values: Option<BTreeSet<String>> = listed.map(|e| {
        e.iter()
            .filter(|v| !v.is_null())
            .map(Value::to_string)
            .collect()
    });
    if let Some(c) = s.get("const").filter(|c| !c.is_null()) {
        values
            .get_or_insert_with(BTreeSet::new)
            .insert(c.to_string());
    }
    values
}

/// Whether a base branch and a revision branch are the same branch.
type SameBranch<'a> = &'a dyn Fn(&Value, &Value) -> bool;

/// Numeric bounds: (keyword, true when a larger value is stricter).
const LIMITS: [(&str, bool); 12] = [
    ("maxLength", false),
    ("maximum", false),
    ("exclusiveMaximum", false),
    ("maxItems", false),
    ("maxProperties", false),
    ("maxContains", false),
    ("minLength", true),
    ("minimum", true),
    ("exclusiveMinimum", true),
    ("minItems", true),
    ("minProperties", true),
    ("minContains", true),
];

/// Boolean restrictions (3.0's exclusive bounds are booleans; 3.1's are numbers, in LIMITS).
const FLAGS: [&str; 3] = ["uniqueItems", "exclusiveMaximum", "exclusiveMinimum"];

/// Keywords that only ever restrict what is valid (JSON Schema 2020-12): present or
/// changed in a request is stricter, removed or changed in a response is looser.
const RESTRICTING: [&str; 16] = [
    "pattern",
    "multipleOf",
    "if",
    "then",
    "else",
    "not",
    "contains",
    "dependentRequired",
    "dependentSchemas",
    "patternProperties",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "contentSchema",
    "contentMediaType",
    "contentEncoding",
];

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

    fn nullability(&mut self, pointer: &str, base_null: bool, rev_null: bool, dir: Dir) {
        match dir {
            Dir::Response if rev_null && !base_null => self.push(
                rules::RESPONSE_PROPERTY_MADE_NULLABLE,
                pointer.to_owned(),
                "may now be null in responses".to_owned(),
                "keep it non-null, or add a new property",
            ),
            Dir::Request if base_null && !rev_null => self.push(
                rules::REQUEST_PROPERTY_TYPE_CHANGED,
                pointer.to_owned(),
                "no longer accepts null".to_owned(),
                "keep accepting null",
            ),
            Dir::Response if base_null && !rev_null => self.note(
                rules::RESPONSE_TYPE_NARROWED,
                pointer.to_owned(),
                "is no longer null in responses".to_owned(),
            ),
            Dir::Request if rev_null && !base_null => self.note(
                rules::REQUEST_TYPE_WIDENED,
                pointer.to_owned(),
                "accepts null too".to_owned(),
            ),
            _ => {}
        }
    }

    fn types(
        &mut self,
        pointer: &str,
        (base_types, b): (&BTreeSet<String>, &Value),
        (rev_types, r): (&BTreeSet<String>, &Value),
        dir: Dir,
    ) {
        match dir {
            Dir::Response => {
                if !base_types.is_empty() && !rev_types.iter().all(|t| covered(t, base_types)) {
                    self.push(
                        rules::RESPONSE_PROPERTY_TYPE_CHANGED,
                        pointer.to_owned(),
                        format!("type {base_types:?} → {rev_types:?}"),
                        "keep the type; add a new property for the new one",
                    );
                } else if !b["format"].is_null() && r["format"].is_null() {
                    self.push(
                        rules::RESPONSE_CONSTRAINT_LOOSENED,
                        format!("{pointer}/format"),
                        format!("format {} is no longer promised", b["format"]),
                        "keep the format",
                    );
                } else if !b["format"].is_null() && !format_within(&r["format"], &b["format"]) {
                    self.push(
                        rules::RESPONSE_PROPERTY_TYPE_CHANGED,
                        pointer.to_owned(),
                        format!("format {} → {}", b["format"], r["format"]),
                        "keep the format",
                    );
                } else if base_types != rev_types || b["format"] != r["format"] {
                    self.note(
                        rules::RESPONSE_TYPE_NARROWED,
                        pointer.to_owned(),
                        format!(
                            "type {base_types:?} {} → {rev_types:?} {}",
                            b["format"], r["format"]
                        ),
                    );
                }
            }
            Dir::Request => {
                if !rev_types.is_empty() && !base_types.iter().all(|t| covered(t, rev_types)) {
                    self.push(
                        rules::REQUEST_PROPERTY_TYPE_CHANGED,
                        pointer.to_owned(),
                        format!("type {base_types:?} → {rev_types:?}"),
                        "keep accepting the old type",
                    );
                } else if !format_within(&b["format"], &r["format"]) {
                    self.push(
                        rules::REQUEST_PROPERTY_TYPE_CHANGED,
                        pointer.to_owned(),
                        format!("format {} → {}", b["format"], r["format"]),
                        "keep the format (or drop it, which only widens)",
                    );
                } else if base_types != rev_types || b["format"] != r["format"] {
                    self.note(
                        rules::REQUEST_TYPE_WIDENED,
                        pointer.to_owned(),
                        format!(
                            "type {base_types:?} {} → {rev_types:?} {}",
                            b["format"], r["format"]
                        ),
                    );
                }
            }
        }
    }

    fn enums(&mut self, pointer: &str, b: &Value, r: &Value, dir: Dir) {
        let (base_enum, rev_enum) = (enum_set(b, dir), enum_set(r, dir));
        match dir {
            Dir::Response => {
                let extensible =
                    r["x-extensible-enum"] == true || r["x-extensible-enum"].is_array();
                if let Some(rev_enum) = &rev_enum {
                    let removed: Vec<String> = match &base_enum {
                        Some(base_enum) => base_enum.difference(rev_enum).cloned().collect(),
                        None => vec!["(any other value, before)".to_owned()],
                    };
                    if !removed.is_empty() {
                        self.note(
                            rules::RESPONSE_ENUM_NARROWED,
                            pointer.to_owned(),
                            format!("no longer sent: {}", removed.join(", ")),
                        );
                    }
                }
                if extensible && let (Some(base_enum), Some(rev_enum)) = (&base_enum, &rev_enum) {
                    let added: Vec<String> = rev_enum.difference(base_enum).cloned().collect();
                    if !added.is_empty() {
                        self.note(
                            rules::RESPONSE_ENUM_VALUE_ADDED,
                            pointer.to_owned(),
                            format!("new values (the enum is extensible): {}", added.join(", ")),
                        );
                    }
                }
                let Some(base_enum) = base_enum.filter(|_| !extensible) else {
                    return;
                };
                let added: Vec<String> = match &rev_enum {
                    Some(rev_enum) => rev_enum.difference(&base_enum).cloned().collect(),
                    None => vec!["(any value)".to_owned()],
                };
                if !added.is_empty() {
                    self.push(
                        rules::RESPONSE_ENUM_WIDENED,
                        pointer.to_owned(),
                        format!("new values clients may not handle: {}", added.join(", ")),
                        "mark the enum `x-extensible-enum: true` (and tell clients to expect new values) before adding values",
                    );
                }
            }
            Dir::Request => {
                if let Some(base_enum) = &base_enum {
                    let added: Vec<String> = match &rev_enum {
                        Some(rev_enum) => rev_enum.difference(base_enum).cloned().collect(),
                        None => vec!["(any value)".to_owned()],
                    };
                    if !added.is_empty() {
                        self.note(
                            rules::REQUEST_ENUM_WIDENED,
                            pointer.to_owned(),
                            format!("now accepted: {}", added.join(", ")),
                        );
                    }
                }
                let Some(rev_enum) = rev_enum else {
                    return;
                };
                let narrowed: Vec<String> = match base_enum {
                    Some(base_enum) => base_enum.difference(&rev_enum).cloned().collect(),
                    None => vec!["(any value, before)".to_owned()],
                };
                if !narrowed.is_empty() {
                    self.push(
                        rules::REQUEST_ENUM_NARROWED,
                        pointer.to_owned(),
                        format!("no longer accepted: {}", narrowed.join(", ")),
                        "keep accepting every value clients may send",
                    );
                }
            }
        }
    }

    fn constraints(&mut self, pointer: &str, b: &Value, r: &Value, dir: Dir) {
        let (rule, fix, safe_rule) = match dir {
            Dir::Request => (
                rules::REQUEST_CONSTRAINT_TIGHTENED,
                "keep accepting what was valid before",
                rules::REQUEST_CONSTRAINT_LOOSENED,
            ),
            Dir::Response => (
                rules::RESPONSE_CONSTRAINT_LOOSENED,
                "keep the bound clients rely on; a wider value belongs in a new property",
                rules::RESPONSE_CONSTRAINT_TIGHTENED,
            ),
        };
        // Only the keywords either side has: a handful, not every keyword there is.
        let empty = serde_json::Map::new();
        let (bm, rm) = (
            b.as_object().unwrap_or(&empty),
            r.as_object().unwrap_or(&empty),
        );
        let keys = bm.keys().chain(rm.keys().filter(|k| !bm.contains_key(*k)));
        for keyword in keys.map(String::as_str) {
            let (old, new) = (&b[keyword], &r[keyword]);
            let changed = if let Some(&(_, larger_is_stricter)) =
                LIMITS.iter().find(|(k, _)| *k == keyword)
                && (old.is_number() || new.is_number())
            {
                match (dir, old.as_f64(), new.as_f64()) {
                    (Dir::Request, None, Some(_)) | (Dir::Response, Some(_), None) => true,
                    (_, Some(old), Some(new)) => {
                        let grew = new > old;
                        let shrank = new < old;
                        let stricter = if larger_is_stricter { grew } else { shrank };
                        let looser = if larger_is_stricter { shrank } else { grew };
                        (dir == Dir::Request && stricter) || (dir == Dir::Response && looser)
                    }
                    _ => false,
                }
            } else if FLAGS.contains(&keyword) {
                match dir {
                    Dir::Request => *new == true && *old != true,
                    Dir::Response => *old == true && *new != true,
                }
            } else if RESTRICTING.contains(&keyword) {
                match dir {
                    Dir::Request => !new.is_null() && old != new,
                    Dir::Response => !old.is_null() && old != new,
                }
            } else {
                // Positional item schemas re-type the first items whichever way they change.
                keyword == "prefixItems" && old != new
            };
            // What is not a break in this direction is the safe one (or a no-op).
            let safe = !changed
                && old != new
                && (LIMITS.iter().any(|(k, _)| *k == keyword)
                    || FLAGS.contains(&keyword)
                    || RESTRICTING.contains(&keyword));
            if changed || safe {
                let show = |v: &Value| {
                    if v.is_null() {
                        "none".to_owned()
                    } else {
                        v.to_string()
                    }
                };
                let message = if keyword == "prefixItems" {
                    "the schemas of the first items changed".to_owned()
                } else {
                    format!("{keyword} {} → {}", show(old), show(new))
                };
                if changed {
                    self.push(rule, format!("{pointer}/{keyword}"), message, fix);
                } else {
                    self.note(safe_rule, format!("{pointer}/{keyword}"), message);
                }
            }
        }
    }

    /// One more allOf member is one more schema every request must satisfy (`base` and
    /// `rev` as written, before their allOf members are merged).
    fn all_of_added(&mut self, pointer: &str, base: &Value, rev: &Value, dir: Dir) {
        let all_of = |v: &Value| v["allOf"].as_array().map_or(0, Vec::len);
        if dir == Dir::Request && all_of(rev) > all_of(base) {
            self.push(
                rules::REQUEST_CONSTRAINT_TIGHTENED,
                format!("{pointer}/allOf"),
                format!("allOf has {} members, {} before", all_of(rev), all_of(base)),
                "keep accepting what was valid before",
            );
        }
    }

    fn properties(&mut self, pointer: &str, b: &Value, r: &Value, dir: Dir, seen: &mut Seen) {
        let empty = serde_json::Map::new();
        let base_props = b["properties"].as_object().unwrap_or(&empty);
        let rev_props = r["properties"].as_object().unwrap_or(&empty);
        let base_required = required_set(b);
        let rev_required = required_set(r);
        for (name, bp) in base_props {
            let where_ = format!("{pointer}/properties/{}", escape(name));
            let Some(rp) = rev_props.get(name) else {
                match dir {
                    Dir::Response if base_required.contains(name.as_str()) => self.push(
                        rules::RESPONSE_PROPERTY_REMOVED,
                        where_,
                        format!("`{name}` is no longer sent"),
                        "keep sending it (deprecate it in its description first)",
                    ),
                    Dir::Response => self.warn(
                        rules::RESPONSE_OPTIONAL_PROPERTY_REMOVED,
                        where_,
                        format!("the optional `{name}` is no longer sent; clients that use it when present lose it"),
                        "keep sending it, or deprecate it first",
                    ),
                    Dir::Request => self.warn(
                        rules::REQUEST_PROPERTY_REMOVED,
                        where_,
                        format!("`{name}` is no longer documented in requests; clients may still send it"),
                        "keep accepting (and ignoring) it",
                    ),
                }
                continue;
            };
            let (bp_resolved, rp_resolved) = (resolve(&self.base, bp).0, resolve(&self.rev, rp).0);
            if rp_resolved["deprecated"] == true && bp_resolved["deprecated"] != true {
                self.note(
                    rules::PROPERTY_DEPRECATED,
                    where_.clone(),
                    format!("`{name}` is now deprecated"),
                );
                self.new_deprecation(&where_, &format!("`{name}`"), rp_resolved);
            }
            if dir == Dir::Response
                && base_required.contains(name.as_str())
                && !rev_required.contains(name.as_str())
            {
                self.push(
                    rules::RESPONSE_PROPERTY_MADE_OPTIONAL,
                    where_.clone(),
                    format!("`{name}` may now be absent"),
                    "keep it required",
                );
            }
            let was_required = base_required.contains(name.as_str());
            let is_required = rev_required.contains(name.as_str());
            match dir {
                Dir::Response if is_required && !was_required => self.note(
                    rules::RESPONSE_PROPERTY_MADE_REQUIRED,
                    where_.clone(),
                    format!("`{name}` is now always sent"),
                ),
                Dir::Request if was_required && !is_required => self.note(
                    rules::REQUEST_PROPERTY_MADE_OPTIONAL,
                    where_.clone(),
                    format!("`{name}` may now be omitted"),
                ),
                _ => {}
            }
            self.schema(&where_, bp, rp, dir, seen);
        }
        match dir {
            Dir::Response => {
                for name in rev_props.keys().filter(|n| !base_props.contains_key(*n)) {
                    self.note(
                        rules::RESPONSE_PROPERTY_ADDED,
                        format!("{pointer}/properties/{}", escape(name)),
                        format!("`{name}` is new"),
                    );
                }
            }
            Dir::Request => {
                for name in rev_props
                    .keys()
                    .filter(|n| !base_props.contains_key(*n) && !rev_required.contains(n.as_str()))
                {
                    self.note(
                        rules::REQUEST_PROPERTY_ADDED,
                        format!("{pointer}/properties/{}", escape(name)),
                        format!("`{name}` is new and optional"),
                    );
                }
                for name in rev_required.difference(&base_required) {
                    self.push(
                        rules::REQUEST_PROPERTY_REQUIRED_ADDED,
                        format!("{pointer}/properties/{}", escape(name)),
                        format!("`{name}` is now required in requests"),
                        "make it optional (with a default)",
                    );
                }
            }
        }
    }

    /// Unions: branches are matched by the component they name, then by types and title;
    /// a request must keep every branch, a response must not gain one. A plain schema on
    /// one side is a union of one.
    fn unions<'v>(
        &mut self,
        pointer: &str,
        (base, bb): (&'v Value, Option<(&'static str, Vec<&'v Value>)>),
        (rev, rb): (&'v Value, Option<(&'static str, Vec<&'v Value>)>),
        dir: Dir,
        seen: &mut Seen,
    ) {
        let rev_key = rb.as_ref().map(|(k, _)| *k);
        let bb = bb.map_or_else(|| vec![base], |(_, v)| v);
        let rb = rb.map_or_else(|| vec![rev], |(_, v)| v);
        let mut rev_matched = vec![false; rb.len()];
        let mut base_matched = vec![false; bb.len()];
        let mut pairs = Vec::new();
        let passes: [SameBranch<'_>; 2] = [
            &|b, r| {
                let name = branch_name(&self.base, b);
                name.is_some() && name == branch_name(&self.rev, r)
            },
            &|b, r| branch_shape(&self.base, b) == branch_shape(&self.rev, r),
        ];
        for same in passes {
            for (i, b) in bb.iter().enumerate() {
                if base_matched[i] {
                    continue;
                }
                if let Some(j) = (0..rb.len()).find(|&j| !rev_matched[j] && same(b, rb[j])) {
                    base_matched[i] = true;
                    rev_matched[j] = true;
                    pairs.push((i, j));
                }
            }
        }
        // Left over: a branch is still covered by one whose types include its own (an
        // integer branch by a number one), if it has no structure of its own.
        let scalar = |doc: &Doc, v: &Value| core(doc, v)["properties"].is_null();
        let covers = |inner: (&Doc, &Value), outer: (&Doc, &Value)| {
            let (it, _) = types_of(inner.0, inner.1);
            let (ot, _) = types_of(outer.0, outer.1);
            scalar(inner.0, inner.1) && !it.is_empty() && it.iter().all(|t| covered(t, &ot))
        };
        match dir {
            Dir::Request => {
                for (i, b) in bb.iter().enumerate().filter(|(i, _)| !base_matched[*i]) {
                    if rb.iter().any(|r| covers((&self.base, b), (&self.rev, r))) {
                        continue;
                    }
                    self.push(
                        rules::REQUEST_UNION_NARROWED,
                        pointer.to_owned(),
                        format!(
                            "branch {} ({}) is no longer accepted",
                            i,
                            branch_name(&self.base, b)
                                .unwrap_or_else(|| branch_shape(&self.base, b))
                        ),
                        "keep accepting every branch clients may send",
                    );
                }
            }
            Dir::Response => {
                for (j, r) in rb.iter().enumerate().filter(|(j, _)| !rev_matched[*j]) {
                    if bb.iter().any(|b| covers((&self.rev, r), (&self.base, b))) {
                        continue;
                    }
                    self.push(
                        rules::RESPONSE_UNION_WIDENED,
                        pointer.to_owned(),
                        format!(
                            "branch {} ({}) is new: clients do not know it",
                            j,
                            branch_name(&self.rev, r).unwrap_or_else(|| branch_shape(&self.rev, r))
                        ),
                        "keep the response's shapes; a new one belongs in a new property or version",
                    );
                }
            }
        }
        // The other side's leftovers are the safe direction: listed, not failed.
        let (leftover, matched, doc, rule, what) = match dir {
            Dir::Request => (
                &rb,
                &rev_matched,
                &self.rev,
                rules::REQUEST_UNION_WIDENED,
                "is accepted too",
            ),
            Dir::Response => (
                &bb,
                &base_matched,
                &self.base,
                rules::RESPONSE_UNION_NARROWED,
                "is no longer sent",
            ),
        };
        let notes: Vec<String> = leftover
            .iter()
            .enumerate()
            .filter(|(k, _)| !matched[*k])
            .map(|(k, v)| {
                let name = branch_name(doc, v).unwrap_or_else(|| branch_shape(doc, v));
                format!("branch {k} ({name}) {what}")
            })
            .collect();
        for message in notes {
            self.note(rule, pointer.to_owned(), message);
        }
        for (i, j) in pairs {
            let at = match rev_key {
                Some(key) => format!("{pointer}/{key}/{j}"),
                None => pointer.to_owned(),
            };
            self.schema(&at, bb[i], rb[j], dir, seen);
        }
    }
}
