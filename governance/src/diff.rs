//! Breaking-change rules for two OpenAPI 3.x documents (3.1 first: `type` arrays and
//! `{type: null}` variants are nullability; 3.0's `nullable: true` too). `$ref`s are
//! resolved, so a component renamed with the same shape changes nothing. Descriptions,
//! examples and `deprecated: true` are never breaking.
//!
//! Oxide's `drift` crate was the first choice, but it parses with `openapiv3`, which reads
//! OpenAPI 3.0 only; docintel's documents are 3.1.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde_json::Value;

use crate::report::{Finding, Severity};

/// Every rule, with what it means; the ids are stable (reports and docs use them).
pub const RULES: &[(&str, &str)] = &[
    ("operation-removed", "an operation of the base is gone"),
    (
        "operation-removed-before-sunset",
        "a deprecated operation is gone before its sunset",
    ),
    ("response-property-removed", "a response property is gone"),
    (
        "response-property-type-changed",
        "a response property's type or format changed",
    ),
    (
        "response-property-made-optional",
        "a required response property became optional",
    ),
    (
        "response-property-made-nullable",
        "a response property may now be null",
    ),
    (
        "request-property-required-added",
        "a new required request body property",
    ),
    (
        "request-parameter-required-added",
        "a new required query, header or path parameter (or an optional one made required)",
    ),
    (
        "request-property-type-changed",
        "a request property or parameter changed type or format",
    ),
    (
        "request-enum-narrowed",
        "a request enum lost values (or gained an enum)",
    ),
    (
        "response-enum-widened",
        "a response enum gained values without x-extensible-enum",
    ),
    (
        "request-constraint-tightened",
        "a request constraint is stricter (maxLength, maximum, pattern, minItems…)",
    ),
    (
        "success-status-removed",
        "a success status code of an operation is gone",
    ),
    (
        "response-media-type-removed",
        "a response media type is gone",
    ),
    (
        "security-changed",
        "an operation needs other or more credentials",
    ),
];

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Compares `base` (what clients use) with `rev` (the candidate). `today` (YYYY-MM-DD)
/// decides whether a removed operation was past its sunset.
pub fn diff(base: &Value, rev: &Value, today: &str) -> Vec<Finding> {
    let mut d = Differ {
        base,
        rev,
        findings: Vec::new(),
    };
    d.operations(today);
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
    if !doc["paths"].is_object() {
        return Err("the document has no `paths` object".to_owned());
    }
    Ok(())
}

struct Differ<'a> {
    base: &'a Value,
    rev: &'a Value,
    findings: Vec<Finding>,
}

/// Which side of the wire a schema is on: requests may widen, responses may narrow.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    Request,
    Response,
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn resolve<'v>(doc: &'v Value, schema: &'v Value) -> (&'v Value, Option<String>) {
    let mut current = schema;
    let mut name = None;
    for _ in 0..32 {
        let Some(r) = current.get("$ref").and_then(Value::as_str) else {
            break;
        };
        let Some(pointer) = r.strip_prefix('#') else {
            break;
        };
        match doc.pointer(pointer) {
            Some(target) => {
                name = Some(r.to_owned());
                current = target;
            }
            None => break,
        }
    }
    (current, name)
}

/// A schema's non-null types and whether it admits null, across 3.0 and 3.1 forms.
fn types_of(doc: &Value, schema: &Value) -> (BTreeSet<String>, bool) {
    let (s, _) = resolve(doc, schema);
    let mut types = BTreeSet::new();
    let mut nullable = s["nullable"].as_bool().unwrap_or(false);
    match &s["type"] {
        Value::String(t) => {
            types.insert(t.clone());
        }
        Value::Array(ts) => {
            for t in ts.iter().filter_map(Value::as_str) {
                types.insert(t.to_owned());
            }
        }
        _ => {}
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(variants) = s[key].as_array() {
            for v in variants {
                let (vt, vn) = types_of(doc, v);
                nullable |= vn;
                types.extend(vt);
            }
        }
    }
    if let Some(all) = s["allOf"].as_array() {
        for v in all {
            let (vt, _) = types_of(doc, v);
            types.extend(vt);
        }
    }
    if s.get("const").is_some_and(Value::is_null) {
        nullable = true;
    }
    if types.remove("null") {
        nullable = true;
    }
    if s.get("enum")
        .and_then(Value::as_array)
        .is_some_and(|e| e.contains(&Value::Null))
    {
        nullable = true;
    }
    (types, nullable)
}

/// The one non-null schema inside a nullable wrapper (`oneOf: [X, {type: null}]`), or the
/// schema itself; `allOf` members are merged into one object view.
fn core<'v>(doc: &'v Value, schema: &'v Value) -> Value {
    let (s, _) = resolve(doc, schema);
    for key in ["oneOf", "anyOf"] {
        if let Some(variants) = s[key].as_array() {
            let non_null: Vec<&Value> = variants
                .iter()
                .filter(|v| !is_null_schema(doc, v))
                .collect();
            if non_null.len() == 1 {
                return core(doc, non_null[0]);
            }
        }
    }
    if let Some(all) = s["allOf"].as_array() {
        let mut merged = s.clone();
        if let Some(m) = merged.as_object_mut() {
            m.remove("allOf");
        }
        for part in all {
            let part = core(doc, part);
            if let (Some(m), Some(p)) = (merged.as_object_mut(), part.as_object()) {
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
        }
        return merged;
    }
    s.clone()
}

fn is_null_schema(doc: &Value, v: &Value) -> bool {
    let (s, _) = resolve(doc, v);
    s["type"] == "null" || s.get("const").is_some_and(Value::is_null)
}

fn required_set(s: &Value) -> BTreeSet<String> {
    s["required"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn enum_set(s: &Value) -> Option<BTreeSet<String>> {
    s["enum"].as_array().map(|e| {
        e.iter()
            .filter(|v| !v.is_null())
            .map(|v| v.to_string())
            .collect()
    })
}

impl Differ<'_> {
    fn push(&mut self, rule: &'static str, pointer: String, message: String, fix: &str) {
        self.findings.push(Finding {
            rule: rule.to_owned(),
            severity: Severity::Breaking,
            location: pointer,
            message,
            fix: fix.to_owned(),
        });
    }

    fn note(&mut self, rule: &'static str, pointer: String, message: String) {
        self.findings.push(Finding {
            rule: rule.to_owned(),
            severity: Severity::Info,
            location: pointer,
            message,
            fix: String::new(),
        });
    }

    fn operations(&mut self, today: &str) {
        let empty = serde_json::Map::new();
        let base_paths = self.base["paths"].as_object().unwrap_or(&empty);
        let rev_paths = self.rev["paths"].as_object().unwrap_or(&empty);
        for (path, base_item) in base_paths {
            for method in METHODS {
                let Some(base_op) = base_item.get(method) else {
                    continue;
                };
                let pointer = format!("/paths/{}/{method}", escape(path));
                let label = format!("{} {path}", method.to_uppercase());
                match rev_paths.get(path).and_then(|i| i.get(method)) {
                    None => {
                        let sunset = base_op["x-sunset"].as_str();
                        match sunset {
                            Some(s) if base_op["deprecated"] == true && s <= today => self.note(
                                "operation-retired",
                                pointer,
                                format!("{label} was removed after its sunset ({s})"),
                            ),
                            Some(s) if base_op["deprecated"] == true => self.push(
                                "operation-removed-before-sunset",
                                pointer,
                                format!("{label} is removed before its sunset ({s})"),
                                "keep the operation until its sunset date has passed",
                            ),
                            _ => self.push(
                                "operation-removed",
                                pointer,
                                format!("{label} is removed"),
                                "restore it, or deprecate it with a sunset and remove it after; breaking removals belong in a new major version path",
                            ),
                        }
                    }
                    Some(rev_op) => {
                        let rev_item = &rev_paths[path];
                        self.operation(&pointer, &label, base_item, base_op, rev_item, rev_op)
                    }
                }
            }
        }
        for (path, rev_item) in rev_paths {
            for method in METHODS {
                if rev_item.get(method).is_some()
                    && base_paths.get(path).and_then(|i| i.get(method)).is_none()
                {
                    self.note(
                        "operation-added",
                        format!("/paths/{}/{method}", escape(path)),
                        format!("{} {path} is new", method.to_uppercase()),
                    );
                }
            }
        }
    }

    fn operation(
        &mut self,
        pointer: &str,
        label: &str,
        base_item: &Value,
        base_op: &Value,
        rev_item: &Value,
        rev_op: &Value,
    ) {
        if rev_op["deprecated"] == true && base_op["deprecated"] != true {
            self.note(
                "operation-deprecated",
                pointer.to_owned(),
                format!("{label} is now deprecated"),
            );
        }
        self.security(pointer, label, base_op, rev_op);
        self.parameters(pointer, label, base_item, base_op, rev_item, rev_op);
        self.request_body(pointer, base_op, rev_op);
        self.responses(pointer, label, base_op, rev_op);
    }

    fn security(&mut self, pointer: &str, label: &str, base_op: &Value, rev_op: &Value) {
        let effective = |doc: &Value, op: &Value| -> BTreeSet<String> {
            let reqs = op.get("security").unwrap_or(&doc["security"]);
            reqs.as_array()
                .map(|alts| alts.iter().map(|a| a.to_string()).collect())
                .unwrap_or_default()
        };
        let base = effective(self.base, base_op);
        let rev = effective(self.rev, rev_op);
        // Anonymous access (an empty requirement, or none at all) that is still allowed,
        // or every base alternative still accepted: nothing breaks.
        let base_anonymous = base.is_empty() || base.contains("{}");
        let rev_anonymous = rev.is_empty() || rev.contains("{}");
        if rev_anonymous || (!base_anonymous && base.is_subset(&rev)) {
            return;
        }
        self.push(
            "security-changed",
            format!("{pointer}/security"),
            format!(
                "{label} needs other credentials: {} → {}",
                base.iter().cloned().collect::<Vec<_>>().join(" | "),
                rev.iter().cloned().collect::<Vec<_>>().join(" | ")
            ),
            "accept the credentials clients already send; new schemes belong in a new major version",
        );
    }

    fn params_of(doc: &Value, item: &Value, op: &Value) -> BTreeMap<(String, String), Value> {
        let mut out = BTreeMap::new();
        for source in [&item["parameters"], &op["parameters"]] {
            for p in source.as_array().into_iter().flatten() {
                let (p, _) = resolve(doc, p);
                let key = (
                    p["in"].as_str().unwrap_or_default().to_owned(),
                    p["name"].as_str().unwrap_or_default().to_ascii_lowercase(),
                );
                out.insert(key, p.clone());
            }
        }
        out
    }

    fn parameters(
        &mut self,
        pointer: &str,
        label: &str,
        base_item: &Value,
        base_op: &Value,
        rev_item: &Value,
        rev_op: &Value,
    ) {
        let base = Self::params_of(self.base, base_item, base_op);
        let rev = Self::params_of(self.rev, rev_item, rev_op);
        for ((place, name), rp) in &rev {
            let required = rp["required"] == true || place == "path";
            let was_required = base
                .get(&(place.clone(), name.clone()))
                .map(|bp| bp["required"] == true || place == "path");
            let where_ = format!("{pointer}/parameters/{place}:{name}");
            match was_required {
                None if required => self.push(
                    "request-parameter-required-added",
                    where_,
                    format!("{label} needs the new {place} parameter `{name}`"),
                    "make the parameter optional (with a default)",
                ),
                Some(false) if required => self.push(
                    "request-parameter-required-added",
                    where_,
                    format!("{label}: the {place} parameter `{name}` became required"),
                    "keep the parameter optional",
                ),
                _ => {}
            }
        }
        for (key, bp) in &base {
            if let Some(rp) = rev.get(key) {
                let where_ = format!("{pointer}/parameters/{}:{}", key.0, key.1);
                let empty = Value::Null;
                let mut seen = HashSet::new();
                self.schema(
                    &where_,
                    bp.get("schema").unwrap_or(&empty),
                    rp.get("schema").unwrap_or(&empty),
                    Dir::Request,
                    &mut seen,
                );
            }
        }
    }

    fn request_body(&mut self, pointer: &str, base_op: &Value, rev_op: &Value) {
        let (base_body, _) = resolve(self.base, &base_op["requestBody"]);
        let (rev_body, _) = resolve(self.rev, &rev_op["requestBody"]);
        if rev_body.is_null() {
            return;
        }
        if base_body.is_null() {
            if rev_body["required"] == true {
                self.push(
                    "request-property-required-added",
                    format!("{pointer}/requestBody"),
                    "the operation now requires a request body".to_owned(),
                    "make the body optional",
                );
            }
            return;
        }
        let empty = serde_json::Map::new();
        let base_content = base_body["content"].as_object().unwrap_or(&empty);
        let rev_content = rev_body["content"].as_object().unwrap_or(&empty);
        for (media, base_media) in base_content {
            if let Some(rev_media) = rev_content.get(media) {
                let where_ = format!("{pointer}/requestBody/content/{}/schema", escape(media));
                let mut seen = HashSet::new();
                self.schema(
                    &where_,
                    &base_media["schema"],
                    &rev_media["schema"],
                    Dir::Request,
                    &mut seen,
                );
            } else {
                // A request media type clients send is no longer accepted.
                self.push(
                    "request-property-type-changed",
                    format!("{pointer}/requestBody/content/{}", escape(media)),
                    format!("request bodies of type {media} are no longer accepted"),
                    "keep accepting the media type",
                );
            }
        }
    }

    fn responses(&mut self, pointer: &str, label: &str, base_op: &Value, rev_op: &Value) {
        let empty = serde_json::Map::new();
        let base = base_op["responses"].as_object().unwrap_or(&empty);
        let rev = rev_op["responses"].as_object().unwrap_or(&empty);
        for (status, base_resp) in base {
            let success = status.starts_with('2') || status == "2XX";
            let where_ = format!("{pointer}/responses/{status}");
            let Some(rev_resp) = rev.get(status) else {
                if success {
                    let now: Vec<&String> = rev.keys().filter(|k| k.starts_with('2')).collect();
                    self.push(
                        "success-status-removed",
                        where_,
                        format!(
                            "{label} no longer answers {status} (success now: {})",
                            now.iter()
                                .map(|s| s.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        "keep the success status; a different one belongs in a new major version",
                    );
                }
                continue;
            };
            let (base_resp, _) = resolve(self.base, base_resp);
            let (rev_resp, _) = resolve(self.rev, rev_resp);
            let base_content = base_resp["content"].as_object().unwrap_or(&empty);
            let rev_content = rev_resp["content"].as_object().unwrap_or(&empty);
            for (media, base_media) in base_content {
                let media_ptr = format!("{where_}/content/{}", escape(media));
                match rev_content.get(media) {
                    None => self.push(
                        "response-media-type-removed",
                        media_ptr,
                        format!("{label} {status} no longer answers {media}"),
                        "keep answering the media type clients accept",
                    ),
                    Some(rev_media) => {
                        let mut seen = HashSet::new();
                        self.schema(
                            &format!("{media_ptr}/schema"),
                            &base_media["schema"],
                            &rev_media["schema"],
                            Dir::Response,
                            &mut seen,
                        );
                    }
                }
            }
        }
    }

    /// Compares one schema position. `seen` holds the `$ref` pairs on the way here, so a
    /// recursive schema is walked once.
    fn schema(
        &mut self,
        pointer: &str,
        base: &Value,
        rev: &Value,
        dir: Dir,
        seen: &mut HashSet<(String, String)>,
    ) {
        if base.is_null() || rev.is_null() {
            return;
        }
        let (_, base_ref) = resolve(self.base, base);
        let (_, rev_ref) = resolve(self.rev, rev);
        if let (Some(b), Some(r)) = (&base_ref, &rev_ref)
            && !seen.insert((b.clone(), r.clone()))
        {
            return;
        }
        let (base_types, base_null) = types_of(self.base, base);
        let (rev_types, rev_null) = types_of(self.rev, rev);
        let b = core(self.base, base);
        let r = core(self.rev, rev);

        match dir {
            Dir::Response => {
                if rev_null && !base_null {
                    self.push(
                        "response-property-made-nullable",
                        pointer.to_owned(),
                        "may now be null in responses".to_owned(),
                        "keep it non-null, or add a new property",
                    );
                }
                if !base_types.is_empty() && !rev_types.is_subset(&base_types) {
                    self.push(
                        "response-property-type-changed",
                        pointer.to_owned(),
                        format!("type {base_types:?} → {rev_types:?}"),
                        "keep the type; add a new property for the new one",
                    );
                } else if b["format"] != r["format"] && !b["format"].is_null() {
                    self.push(
                        "response-property-type-changed",
                        pointer.to_owned(),
                        format!("format {} → {}", b["format"], r["format"]),
                        "keep the format",
                    );
                }
                if let Some(rev_enum) = enum_set(&r) {
                    let extensible = r["x-extensible-enum"] == true;
                    match enum_set(&b) {
                        Some(base_enum) if !extensible && !rev_enum.is_subset(&base_enum) => {
                            let added: Vec<_> = rev_enum.difference(&base_enum).cloned().collect();
                            self.push(
                                "response-enum-widened",
                                pointer.to_owned(),
                                format!("new values clients may not handle: {}", added.join(", ")),
                                "mark the enum `x-extensible-enum: true` (and tell clients to expect new values) before adding values",
                            );
                        }
                        _ => {}
                    }
                }
            }
            Dir::Request => {
                if base_null && !rev_null {
                    self.push(
                        "request-property-type-changed",
                        pointer.to_owned(),
                        "no longer accepts null".to_owned(),
                        "keep accepting null",
                    );
                }
                if !rev_types.is_empty() && !base_types.is_subset(&rev_types) {
                    self.push(
                        "request-property-type-changed",
                        pointer.to_owned(),
                        format!("type {base_types:?} → {rev_types:?}"),
                        "keep accepting the old type",
                    );
                } else if b["format"] != r["format"] && !r["format"].is_null() {
                    self.push(
                        "request-property-type-changed",
                        pointer.to_owned(),
                        format!("format {} → {}", b["format"], r["format"]),
                        "keep the format (or drop it, which only widens)",
                    );
                }
                if let Some(rev_enum) = enum_set(&r) {
                    let narrowed = match enum_set(&b) {
                        Some(base_enum) => base_enum.difference(&rev_enum).cloned().collect(),
                        None => vec!["(any value, before)".to_owned()],
                    };
                    if !narrowed.is_empty() {
                        self.push(
                            "request-enum-narrowed",
                            pointer.to_owned(),
                            format!("no longer accepted: {}", narrowed.join(", ")),
                            "keep accepting every value clients may send",
                        );
                    }
                }
                self.constraints(pointer, &b, &r);
            }
        }

        // Objects.
        let empty = serde_json::Map::new();
        let base_props = b["properties"].as_object().unwrap_or(&empty);
        let rev_props = r["properties"].as_object().unwrap_or(&empty);
        let base_required = required_set(&b);
        let rev_required = required_set(&r);
        match dir {
            Dir::Response => {
                for (name, bp) in base_props {
                    let where_ = format!("{pointer}/properties/{}", escape(name));
                    match rev_props.get(name) {
                        None => self.push(
                            "response-property-removed",
                            where_,
                            format!("`{name}` is no longer sent"),
                            "keep sending it (deprecate it in its description first)",
                        ),
                        Some(rp) => {
                            if base_required.contains(name) && !rev_required.contains(name) {
                                self.push(
                                    "response-property-made-optional",
                                    where_.clone(),
                                    format!("`{name}` may now be absent"),
                                    "keep it required",
                                );
                            }
                            self.schema(&where_, bp, rp, dir, seen);
                        }
                    }
                }
                for name in rev_props.keys().filter(|n| !base_props.contains_key(*n)) {
                    self.note(
                        "response-property-added",
                        format!("{pointer}/properties/{}", escape(name)),
                        format!("`{name}` is new"),
                    );
                }
            }
            Dir::Request => {
                for name in &rev_required {
                    if !base_required.contains(name) {
                        self.push(
                            "request-property-required-added",
                            format!("{pointer}/properties/{}", escape(name)),
                            format!("`{name}` is now required in requests"),
                            "make it optional (with a default)",
                        );
                    }
                }
                for (name, bp) in base_props {
                    if let Some(rp) = rev_props.get(name) {
                        let where_ = format!("{pointer}/properties/{}", escape(name));
                        self.schema(&where_, bp, rp, dir, seen);
                    }
                }
            }
        }
        // Arrays.
        if b.get("items").is_some() && r.get("items").is_some() {
            self.schema(
                &format!("{pointer}/items"),
                &b["items"],
                &r["items"],
                dir,
                seen,
            );
        }
    }

    fn constraints(&mut self, pointer: &str, b: &Value, r: &Value) {
        // (keyword, true when a larger value is stricter)
        const LIMITS: [(&str, bool); 10] = [
            ("maxLength", false),
            ("maximum", false),
            ("exclusiveMaximum", false),
            ("maxItems", false),
            ("maxProperties", false),
            ("minLength", true),
            ("minimum", true),
            ("exclusiveMinimum", true),
            ("minItems", true),
            ("minProperties", true),
        ];
        for (keyword, larger_is_stricter) in LIMITS {
            let (Some(new), old) = (r[keyword].as_f64(), b[keyword].as_f64()) else {
                continue;
            };
            let tighter = match old {
                None => true,
                Some(old) if larger_is_stricter => new > old,
                Some(old) => new < old,
            };
            if tighter {
                self.push(
                    "request-constraint-tightened",
                    format!("{pointer}/{keyword}"),
                    format!(
                        "{keyword} {} → {new}",
                        old.map_or("none".to_owned(), |o| o.to_string())
                    ),
                    "keep accepting what was valid before",
                );
            }
        }
        if let Some(pattern) = r["pattern"].as_str()
            && b["pattern"].as_str() != Some(pattern)
        {
            self.push(
                "request-constraint-tightened",
                format!("{pointer}/pattern"),
                format!("pattern {} → {pattern:?}", b["pattern"]),
                "keep the pattern (a new one may refuse values that were valid)",
            );
        }
        if r["uniqueItems"] == true && b["uniqueItems"] != true {
            self.push(
                "request-constraint-tightened",
                format!("{pointer}/uniqueItems"),
                "items must now be unique".to_owned(),
                "keep accepting repeated items",
            );
        }
    }
}
