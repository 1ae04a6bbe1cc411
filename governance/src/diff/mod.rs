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
mod schema;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use crate::report::{Finding, Severity};
use crate::rules;

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

/// A date at the start of a sunset value (`2027-06-01` or an RFC 3339 timestamp).
fn sunset_date(v: &Value) -> Result<Option<time::Date>, String> {
    let Some(s) = v.as_str() else {
        return if v.is_null() {
            Ok(None)
        } else {
            Err(format!("x-sunset {v} is not a date"))
        };
    };
    date_prefix(s)
        .map(Some)
        .ok_or_else(|| format!("x-sunset {s:?} is not a date (YYYY-MM-DD)"))
}

/// The YYYY-MM-DD date `s` starts with.
fn date_prefix(s: &str) -> Option<time::Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    s.get(..10).and_then(|d| time::Date::parse(d, format).ok())
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

    /// Something (`what`) was deprecated in `rev` and not in `base`: its sunset must be
    /// readable, and with a policy, present and far enough ahead.
    fn new_deprecation(&mut self, pointer: &str, what: &str, rev: &Value) {
        let days = self.options.min_sunset_days;
        match sunset_date(&rev["x-sunset"]) {
            Err(e) => self.push(
                rules::DEPRECATION_SUNSET_INVALID,
                pointer.to_owned(),
                format!("{what} is deprecated, but {e}"),
                "write the sunset as YYYY-MM-DD",
            ),
            Ok(None) if days > 0 => self.push(
                rules::DEPRECATION_SUNSET_INVALID,
                pointer.to_owned(),
                format!("{what} is deprecated without an x-sunset date"),
                &format!("give it an x-sunset at least {days} days ahead"),
            ),
            Ok(Some(date)) if days > 0 => {
                if let Some(today) = self.today
                    && date < today + time::Duration::days(i64::from(days))
                {
                    self.push(
                        rules::DEPRECATION_SUNSET_INVALID,
                        pointer.to_owned(),
                        format!("{what} is deprecated with a sunset ({date}) less than {days} days ahead"),
                        &format!("give it an x-sunset at least {days} days ahead"),
                    );
                }
            }
            Ok(_) => {}
        }
    }

    /// Both sides deprecated: a sunset may move later, never earlier or away.
    fn sunset_kept(&mut self, pointer: &str, what: &str, base: &Value, rev: &Value) {
        let (before, after) = (
            sunset_date(&base["x-sunset"]),
            sunset_date(&rev["x-sunset"]),
        );
        let before = match (before, &after) {
            (Ok(Some(before)), _) => before,
            (Ok(None), Ok(Some(after))) => {
                return self.note(
                    rules::SUNSET_ADDED,
                    pointer.to_owned(),
                    format!("{what} now has a sunset: {after}"),
                );
            }
            _ => return,
        };
        match after {
            Ok(Some(after)) if after > before => self.note(
                rules::SUNSET_MOVED_LATER,
                pointer.to_owned(),
                format!("{what}'s sunset moved from {before} to {after}"),
            ),
            Ok(Some(after)) if after == before => {}
            Ok(Some(after)) => self.push(
                rules::SUNSET_MOVED_EARLIER,
                pointer.to_owned(),
                format!("{what}'s sunset moved from {before} to {after}"),
                "keep the promised sunset (or move it later)",
            ),
            _ => self.push(
                rules::SUNSET_MOVED_EARLIER,
                pointer.to_owned(),
                format!("{what}'s sunset ({before}) was removed"),
                "keep the promised sunset",
            ),
        }
    }

    fn operations(&mut self) {
        let (base_paths, rev_paths) = (by_template(self.base.root), by_template(self.rev.root));
        for (key, (path, base_item)) in &base_paths {
            let (base_item, _) = resolve(&self.base, base_item);
            for method in METHODS {
                let Some(base_op) = base_item.get(method) else {
                    continue;
                };
                let pointer = format!("/paths/{}/{method}", escape(path));
                let label = format!("{} {path}", method.to_uppercase());
                let rev_item = rev_paths
                    .get(key)
                    .map(|(p, i)| (*p, resolve(&self.rev, i).0));
                match rev_item.and_then(|(p, i)| i.get(method).map(|op| (p, i, op))) {
                    None => self.removed_operation(pointer, &label, base_op),
                    Some((rev_path, rev_item, rev_op)) => {
                        if rev_path != *path {
                            self.note(
                                rules::PATH_PARAMETER_RENAMED,
                                pointer.clone(),
                                format!("{label} is now written {rev_path}"),
                            );
                        }
                        let sides = Sides {
                            base: (path, base_item, base_op),
                            rev: (rev_path, rev_item, rev_op),
                        };
                        self.operation(&pointer, &label, &sides)
                    }
                }
            }
        }
        for (key, (path, rev_item)) in &rev_paths {
            for method in METHODS {
                if rev_item.get(method).is_some()
                    && base_paths
                        .get(key)
                        .and_then(|(_, i)| i.get(method))
                        .is_none()
                {
                    self.note(
                        rules::OPERATION_ADDED,
                        format!("/paths/{}/{method}", escape(path)),
                        format!("{} {path} is new", method.to_uppercase()),
                    );
                }
            }
        }
    }

    fn removed_operation(&mut self, pointer: String, label: &str, base_op: &Value) {
        let deprecated = base_op["deprecated"] == true;
        match sunset_date(&base_op["x-sunset"]) {
            Ok(Some(s)) if deprecated && self.today.is_some_and(|t| s <= t) => self.note(
                rules::OPERATION_RETIRED,
                pointer,
                format!("{label} was removed after its sunset ({s})"),
            ),
            Ok(Some(s)) if deprecated => self.push(
                rules::OPERATION_REMOVED_BEFORE_SUNSET,
                pointer,
                format!("{label} is removed before its sunset ({s})"),
                "keep the operation until its sunset date has passed",
            ),
            Err(e) if deprecated => self.push(
                rules::OPERATION_REMOVED_BEFORE_SUNSET,
                pointer,
                format!("{label} is removed, and {e}: its sunset cannot be shown to have passed"),
                "write the sunset as YYYY-MM-DD, and remove the operation after it",
            ),
            _ => self.push(
                rules::OPERATION_REMOVED,
                pointer,
                format!("{label} is removed"),
                "restore it, or deprecate it with a sunset and remove it after; breaking removals belong in a new major version path",
            ),
        }
    }

    fn webhooks(&mut self) {
        let empty = serde_json::Map::new();
        let base = self.base.root["webhooks"].as_object().unwrap_or(&empty);
        let rev = self.rev.root["webhooks"].as_object().unwrap_or(&empty);
        for (name, item) in base {
            let (item, _) = resolve(&self.base, item);
            for method in METHODS {
                if item.get(method).is_none() {
                    continue;
                }
                let kept = rev
                    .get(name)
                    .is_some_and(|i| resolve(&self.rev, i).0.get(method).is_some());
                if !kept {
                    self.push(
                        rules::WEBHOOK_REMOVED,
                        format!("/webhooks/{}/{method}", escape(name)),
                        format!(
                            "the webhook {name} ({}) is no longer sent",
                            method.to_uppercase()
                        ),
                        "keep sending it, or deprecate it first",
                    );
                }
            }
        }
        for (name, item) in rev {
            let (item, _) = resolve(&self.rev, item);
            for method in METHODS {
                let known = base
                    .get(name)
                    .is_some_and(|i| resolve(&self.base, i).0.get(method).is_some());
                if item.get(method).is_some() && !known {
                    self.note(
                        rules::WEBHOOK_ADDED,
                        format!("/webhooks/{}/{method}", escape(name)),
                        format!("the webhook {name} ({}) is new", method.to_uppercase()),
                    );
                }
            }
        }
    }

    fn operation(&mut self, pointer: &str, label: &str, sides: &Sides<'_>) {
        let (_, _, base_op) = sides.base;
        let (_, _, rev_op) = sides.rev;
        if rev_op["deprecated"] == true && base_op["deprecated"] != true {
            self.note(
                rules::OPERATION_DEPRECATED,
                pointer.to_owned(),
                format!("{label} is now deprecated"),
            );
            self.new_deprecation(pointer, label, rev_op);
        } else if rev_op["deprecated"] == true {
            self.sunset_kept(pointer, label, base_op, rev_op);
        }
        self.security(pointer, label, base_op, rev_op);
        self.parameters(pointer, label, sides);
        self.request_body(pointer, base_op, rev_op);
        self.responses(pointer, label, base_op, rev_op);
    }

    fn security(&mut self, pointer: &str, label: &str, base_op: &Value, rev_op: &Value) {
        let effective = |doc: &Doc, op: &Value| -> BTreeSet<String> {
            let reqs = op.get("security").unwrap_or(&doc["security"]);
            reqs.as_array()
                .map(|alts| alts.iter().map(|a| a.to_string()).collect())
                .unwrap_or_default()
        };
        let base = effective(&self.base, base_op);
        let rev = effective(&self.rev, rev_op);
        // Anonymous access (an empty requirement, or none at all) that is still allowed,
        // or every base alternative still accepted: nothing breaks.
        let base_anonymous = base.is_empty() || base.contains("{}");
        let rev_anonymous = rev.is_empty() || rev.contains("{}");
        if rev_anonymous || (!base_anonymous && base.is_subset(&rev)) {
            if base != rev {
                self.note(
                    rules::SECURITY_LOOSENED,
                    format!("{pointer}/security"),
                    format!(
                        "{label} accepts more credentials: {} → {}",
                        base.iter().cloned().collect::<Vec<_>>().join(" | "),
                        rev.iter().cloned().collect::<Vec<_>>().join(" | ")
                    ),
                );
            }
            return;
        }
        self.push(
            rules::SECURITY_CHANGED,
            format!("{pointer}/security"),
            format!(
                "{label} needs other credentials: {} → {}",
                base.iter().cloned().collect::<Vec<_>>().join(" | "),
                rev.iter().cloned().collect::<Vec<_>>().join(" | ")
            ),
            "accept the credentials clients already send; new schemes belong in a new major version",
        );
    }

    /// The operation's parameters (path-level ones overridden by its own), keyed by
    /// location and name; path parameters by their position in the template.
    fn params_of<'v>(doc: &Doc<'v>, side: Side<'v>) -> BTreeMap<(String, String), Param<'v>> {
        let (path, item, op) = side;
        let (_, names) = template(path);
        let mut out = BTreeMap::new();
        for source in [&item["parameters"], &op["parameters"]] {
            for p in source.as_array().into_iter().flatten() {
                let (p, _) = resolve(doc, p);
                let place = p["in"].as_str().unwrap_or_default();
                let name = p["name"].as_str().unwrap_or_default();
                let key = match names.iter().position(|n| *n == name) {
                    Some(i) if place == "path" => format!("#{i}"),
                    // Header names are case-insensitive.
                    _ if place == "header" => name.to_ascii_lowercase(),
                    _ => name.to_owned(),
                };
                out.insert((place.to_owned(), key), Param { name, value: p });
            }
        }
        out
    }

    fn parameters(&mut self, pointer: &str, label: &str, sides: &Sides<'_>) {
        let base = Self::params_of(&self.base, sides.base);
        let rev = Self::params_of(&self.rev, sides.rev);
        for ((place, key), rp) in &rev {
            let required = rp.value["required"] == true || place == "path";
            let before = base.get(&(place.clone(), key.clone()));
            let was_required = before.map(|bp| bp.value["required"] == true || place == "path");
            let where_ = format!("{pointer}/parameters/{place}:{}", rp.name);
            let name = rp.name;
            match was_required {
                None if required => self.push(
                    rules::REQUEST_PARAMETER_REQUIRED_ADDED,
                    where_,
                    format!("{label} needs the new {place} parameter `{name}`"),
                    "make the parameter optional (with a default)",
                ),
                Some(false) if required => self.push(
                    rules::REQUEST_PARAMETER_REQUIRED_ADDED,
                    where_,
                    format!("{label}: the {place} parameter `{name}` became required"),
                    "keep the parameter optional",
                ),
                None => self.note(
                    rules::REQUEST_PARAMETER_ADDED,
                    where_,
                    format!("takes the new optional {place} parameter `{name}`"),
                ),
                Some(true) if !required => self.note(
                    rules::REQUEST_PARAMETER_MADE_OPTIONAL,
                    where_,
                    format!("the {place} parameter `{name}` became optional"),
                ),
                _ => {}
            }
        }
        for (key, bp) in &base {
            let where_ = format!("{pointer}/parameters/{}:{}", key.0, bp.name);
            let Some(rp) = rev.get(key) else {
                let early = match sunset_date(&bp.value["x-sunset"]) {
                    Ok(Some(sunset)) => self.today.is_some_and(|t| t < sunset),
                    Ok(None) => false,
                    // A sunset that cannot be read cannot be shown to have passed.
                    Err(_) => true,
                };
                if bp.value["deprecated"] == true && early {
                    self.push(
                        rules::REQUEST_PARAMETER_REMOVED_BEFORE_SUNSET,
                        where_,
                        format!(
                            "the {} parameter `{}` is removed before its sunset ({})",
                            key.0, bp.name, bp.value["x-sunset"]
                        ),
                        "keep accepting it until its sunset",
                    );
                } else if bp.value["deprecated"] == true && !bp.value["x-sunset"].is_null() {
                    self.note(
                        rules::REQUEST_PARAMETER_RETIRED,
                        where_,
                        format!(
                            "the deprecated {} parameter `{}` was removed after its sunset ({})",
                            key.0, bp.name, bp.value["x-sunset"]
                        ),
                    );
                } else {
                    self.warn(
                        rules::REQUEST_PARAMETER_REMOVED,
                        where_,
                        format!(
                            "the {} parameter `{}` is no longer documented; clients may still send it",
                            key.0, bp.name
                        ),
                        "keep accepting (and ignoring) it, or deprecate it with a sunset first",
                    );
                }
                continue;
            };
            let what = format!("the {} parameter `{}`", key.0, bp.name);
            if rp.value["deprecated"] == true && bp.value["deprecated"] != true {
                self.note(
                    rules::REQUEST_PARAMETER_DEPRECATED,
                    where_.clone(),
                    format!("{what} is now deprecated"),
                );
                self.new_deprecation(&where_, &what, rp.value);
            } else if rp.value["deprecated"] == true {
                self.sunset_kept(&where_, &what, bp.value, rp.value);
            }
            let (b_schema, r_schema) = (param_schema(bp.value), param_schema(rp.value));
            let optional = rp.value["required"] != true && key.0 != "path";
            if optional {
                let (b_default, _) = resolve(&self.base, b_schema);
                let (r_default, _) = resolve(&self.rev, r_schema);
                if b_default["default"] != r_default["default"] {
                    self.push(
                        rules::REQUEST_DEFAULT_CHANGED,
                        format!("{where_}/schema/default"),
                        format!(
                            "{what}'s default {} → {}",
                            b_default["default"], r_default["default"]
                        ),
                        "keep the default: clients that omit the parameter rely on it",
                    );
                }
            }
            let mut seen = schema::Seen::new();
            self.schema(
                &format!("{where_}/schema"),
                b_schema,
                r_schema,
                Dir::Request,
                &mut seen,
            );
        }
    }

    fn request_body(&mut self, pointer: &str, base_op: &Value, rev_op: &Value) {
        let (base_body, _) = resolve(&self.base, &base_op["requestBody"]);
        let (rev_body, _) = resolve(&self.rev, &rev_op["requestBody"]);
        if rev_body.is_null() {
            if !base_body.is_null() {
                self.push(
                    rules::REQUEST_BODY_REMOVED,
                    format!("{pointer}/requestBody"),
                    "the operation no longer takes a request body".to_owned(),
                    "keep accepting the body (and ignore it if it no longer matters)",
                );
            }
            return;
        }
        if base_body.is_null() {
            if rev_body["required"] == true {
                self.push(
                    rules::REQUEST_PROPERTY_REQUIRED_ADDED,
                    format!("{pointer}/requestBody"),
                    "the operation now requires a request body".to_owned(),
                    "make the body optional",
                );
            } else {
                self.note(
                    rules::REQUEST_BODY_MADE_OPTIONAL,
                    format!("{pointer}/requestBody"),
                    "the operation takes a new optional request body".to_owned(),
                );
            }
            return;
        }
        if base_body["required"] == true && rev_body["required"] != true {
            self.note(
                rules::REQUEST_BODY_MADE_OPTIONAL,
                format!("{pointer}/requestBody/required"),
                "the request body became optional".to_owned(),
            );
        }
        if rev_body["required"] == true && base_body["required"] != true {
            self.push(
                rules::REQUEST_PROPERTY_REQUIRED_ADDED,
                format!("{pointer}/requestBody/required"),
                "the request body became required".to_owned(),
                "keep the body optional",
            );
        }
        let empty = serde_json::Map::new();
        let base_content = base_body["content"].as_object().unwrap_or(&empty);
        let rev_content = rev_body["content"].as_object().unwrap_or(&empty);
        for media in rev_content
            .keys()
            .filter(|m| !base_content.contains_key(*m))
        {
            self.note(
                rules::REQUEST_MEDIA_TYPE_ADDED,
                format!("{pointer}/requestBody/content/{}", escape(media)),
                format!("request bodies of type {media} are accepted too"),
            );
        }
        for (media, base_media) in base_content {
            let where_ = format!("{pointer}/requestBody/content/{}", escape(media));
            let Some(rev_media) = rev_content.get(media) else {
                self.push(
                    rules::REQUEST_PROPERTY_TYPE_CHANGED,
                    where_,
                    format!("request bodies of type {media} are no longer accepted"),
                    "keep accepting the media type",
                );
                continue;
            };
            if base_media["schema"].is_null() && !rev_media["schema"].is_null() {
                self.push(
                    rules::REQUEST_CONSTRAINT_TIGHTENED,
                    format!("{where_}/schema"),
                    format!("{media} bodies, unconstrained before, must now match a schema"),
                    "keep accepting any body of this media type",
                );
                continue;
            }
            let mut seen = schema::Seen::new();
            self.schema(
                &format!("{where_}/schema"),
                &base_media["schema"],
                &rev_media["schema"],
                Dir::Request,
                &mut seen,
            );
        }
    }

    fn responses(&mut self, pointer: &str, label: &str, base_op: &Value, rev_op: &Value) {
        let empty = serde_json::Map::new();
        let base = base_op["responses"].as_object().unwrap_or(&empty);
        let rev = rev_op["responses"].as_object().unwrap_or(&empty);
        for status in rev.keys().filter(|s| !base.contains_key(*s)) {
            self.note(
                rules::RESPONSE_STATUS_ADDED,
                format!("{pointer}/responses/{status}"),
                format!("may answer {status}"),
            );
        }
        for (status, base_resp) in base {
            let success = status.starts_with('2');
            let where_ = format!("{pointer}/responses/{status}");
            let Some(rev_resp) = rev.get(status) else {
                if success {
                    let now: Vec<&str> = rev
                        .keys()
                        .filter(|k| k.starts_with('2'))
                        .map(String::as_str)
                        .collect();
                    self.push(
                        rules::SUCCESS_STATUS_REMOVED,
                        where_,
                        format!(
                            "{label} no longer answers {status} (success now: {})",
                            now.join(", ")
                        ),
                        "keep the success status; a different one belongs in a new major version",
                    );
                }
                continue;
            };
            let (base_resp, _) = resolve(&self.base, base_resp);
            let (rev_resp, _) = resolve(&self.rev, rev_resp);
            self.headers(&where_, label, status, base_resp, rev_resp);
            let base_content = base_resp["content"].as_object().unwrap_or(&empty);
            let rev_content = rev_resp["content"].as_object().unwrap_or(&empty);
            for media in rev_content
                .keys()
                .filter(|m| !base_content.contains_key(*m))
            {
                self.note(
                    rules::RESPONSE_MEDIA_TYPE_ADDED,
                    format!("{where_}/content/{}", escape(media)),
                    format!("may answer {media}"),
                );
            }
            for (media, base_media) in base_content {
                let media_ptr = format!("{where_}/content/{}", escape(media));
                match rev_content.get(media) {
                    None => self.push(
                        rules::RESPONSE_MEDIA_TYPE_REMOVED,
                        media_ptr,
                        format!("{label} {status} no longer answers {media}"),
                        "keep answering the media type clients accept",
                    ),
                    Some(rev_media) => {
                        let mut seen = schema::Seen::new();
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

    fn headers(&mut self, pointer: &str, label: &str, status: &str, base: &Value, rev: &Value) {
        let lower = |doc: &Doc, resp: &Value| -> BTreeMap<String, (String, Value)> {
            resp["headers"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| {
                    (
                        k.to_ascii_lowercase(),
                        (k.clone(), resolve(doc, v).0.clone()),
                    )
                })
                .collect()
        };
        let (base_h, rev_h) = (lower(&self.base, base), lower(&self.rev, rev));
        for (key, (name, _)) in &rev_h {
            if !base_h.contains_key(key) {
                self.note(
                    rules::RESPONSE_HEADER_ADDED,
                    format!("{pointer}/headers/{}", escape(name)),
                    format!("sends the new header {name}"),
                );
            }
        }
        for (key, (name, bh)) in &base_h {
            let where_ = format!("{pointer}/headers/{}", escape(name));
            let required = bh["required"] == true;
            match rev_h.get(key) {
                None if required => self.push(
                    rules::RESPONSE_HEADER_REMOVED,
                    where_,
                    format!("{label} {status} no longer sends the required header {name}"),
                    "keep sending the header clients read",
                ),
                None => self.warn(
                    rules::RESPONSE_OPTIONAL_HEADER_REMOVED,
                    where_,
                    format!("no longer sends the optional header {name}; clients that read it when present lose it"),
                    "keep sending it, or deprecate it first",
                ),
                Some((_, rh)) => {
                    if required && rh["required"] != true {
                        self.push(
                            rules::RESPONSE_HEADER_MADE_OPTIONAL,
                            where_.clone(),
                            format!("{label} {status} may now omit the header {name}"),
                            "keep the header required",
                        );
                    } else if !required && rh["required"] == true {
                        self.note(
                            rules::RESPONSE_HEADER_MADE_REQUIRED,
                            where_.clone(),
                            format!("now always sends the header {name}"),
                        );
                    }
                    let mut seen = schema::Seen::new();
                    self.schema(
                        &format!("{where_}/schema"),
                        param_schema(bh),
                        param_schema(rh),
                        Dir::Response,
                        &mut seen,
                    );
                }
            }
        }
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
