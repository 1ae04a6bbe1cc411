//! Paths and operations: operations and webhooks removed, retired or added, matched by
//! method and path template, and each matched operation compared part by part.

use serde_json::Value;

use super::deprecation::sunset_date;
use super::{Differ, METHODS, Sides, by_template, escape, resolve};
use crate::rules;

impl Differ<'_> {
    pub(super) fn operations(&mut self) {
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

    pub(super) fn removed_operation(&mut self, pointer: String, label: &str, base_op: &Value) {
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

    pub(super) fn webhooks(&mut self) {
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

    pub(super) fn operation(&mut self, pointer: &str, label: &str, sides: &Sides<'_>) {
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
}
