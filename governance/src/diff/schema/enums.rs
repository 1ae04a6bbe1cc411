//! Enums and consts: a request may accept more values, a response send fewer (unless
//! `x-extensible-enum` told clients to expect more).

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Differ, Dir};
use crate::rules;

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

impl Differ<'_> {
    pub(super) fn enums(&mut self, pointer: &str, b: &Value, r: &Value, dir: Dir) {
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
}
