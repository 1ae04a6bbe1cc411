//! Unions (oneOf/anyOf): branches matched across the documents; a request must keep every
//! branch, a response must not gain one.

use serde_json::Value;

use super::{Differ, Dir, Doc, Seen, core, covered, resolve, types_of};
use crate::rules;

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

/// Whether a base branch and a revision branch are the same branch.
type SameBranch<'a> = &'a dyn Fn(&Value, &Value) -> bool;

impl Differ<'_> {
    /// Unions: branches are matched by the component they name, then by types and title;
    /// a request must keep every branch, a response must not gain one. A plain schema on
    /// one side is a union of one.
    pub(super) fn unions<'v>(
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
