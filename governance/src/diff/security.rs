//! Security: an operation that needs other or more credentials breaks its clients.

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
