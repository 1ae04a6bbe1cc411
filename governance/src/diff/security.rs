//! Security: an operation that needs other or more credentials breaks its clients; one
//! that names other scopes of the same schemes is listed, as oasdiff lists it (INFO).

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Differ, Doc};
use crate::rules;

impl Differ<'_> {
    pub(super) fn security(&mut self, pointer: &str, label: &str, base_op: &Value, rev_op: &Value) {
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
        // The same schemes in every alternative, with other scopes (or roles): what
        // oasdiff reports as api-security-scope-added/-removed, at INFO.
        let schemes = |alts: &BTreeSet<String>| -> BTreeSet<Vec<String>> {
            alts.iter()
                .filter_map(|a| serde_json::from_str::<Value>(a).ok())
                .filter_map(|a| a.as_object().map(|o| o.keys().cloned().collect()))
                .collect()
        };
        if !base_anonymous && schemes(&base) == schemes(&rev) {
            self.note(
                rules::SECURITY_SCOPES_CHANGED,
                format!("{pointer}/security"),
                format!(
                    "{label} names other scopes: {} → {}",
                    base.iter().cloned().collect::<Vec<_>>().join(" | "),
                    rev.iter().cloned().collect::<Vec<_>>().join(" | ")
                ),
            );
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
}
