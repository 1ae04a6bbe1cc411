//! Object properties: required ones added or made optional, properties added, removed
//! and deprecated, each property's schema compared in turn.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Differ, Dir, Seen, escape, resolve};
use crate::rules;

fn required_set(s: &Value) -> BTreeSet<&str> {
    s["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

impl Differ<'_> {
    pub(super) fn properties(
        &mut self,
        pointer: &str,
        b: &Value,
        r: &Value,
        dir: Dir,
        seen: &mut Seen,
    ) {
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
}
