//! Types and nullability: a request may accept more types, formats or null; a response
//! may send fewer.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Differ, Dir, covered, format_within};
use crate::rules;

impl Differ<'_> {
    pub(super) fn nullability(&mut self, pointer: &str, base_null: bool, rev_null: bool, dir: Dir) {
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

    pub(super) fn types(
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
}
