//! Constraints: bounds and restricting keywords (pattern, if/then, patternProperties…)
//! stricter in a request or looser in a response, and allOf members added.

use serde_json::Value;

use super::{Differ, Dir};
use crate::rules;

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
    pub(super) fn constraints(&mut self, pointer: &str, b: &Value, r: &Value, dir: Dir) {
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
    pub(super) fn all_of_added(&mut self, pointer: &str, base: &Value, rev: &Value, dir: Dir) {
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
}
