//! oasdiff's ERR-level breaking-change rules, each against the docintel rule that covers
//! it or the reason it does not apply. oasdiff is the most complete open catalogue of
//! OpenAPI breaking changes; its ids are fine-grained (one per keyword and location),
//! docintel's are one per kind of break, so many of its rows share one of ours.
//!
//! The list of ids is kept in `governance/tests/gate/oasdiff-err-rules.txt` (extracted
//! from oasdiff's `checker/rules.go`); a test requires one row per id, every rule named
//! here to exist, and the table in `governance/README.md` to be [`markdown`]'s output
//! (`cargo run -p docintel-governance -- catalogue` prints it).

mod keywords;
mod lifecycle;
mod requests;
mod responses;

use Coverage::{NotApplicable, Rule};

use crate::report::Severity;
use crate::rules::{self, Family};

/// How docintel covers one oasdiff rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    /// The docintel rule id that reports it.
    Rule(rules::Rule),
    /// Why it does not apply to OpenAPI 3.1 or to this gate.
    NotApplicable(&'static str),
}

const NA_STABILITY: &str = "`x-stability-level` is oasdiff's own extension; docintel marks lifecycle with `deprecated`, `x-sunset` and version paths, which the rules here check";
const NA_WRAPPED: &str = "a deliberate difference: wrapping a request schema in oneOf keeps every old value valid unless the new branches overlap it, and an added request branch is a widening; a branch removed is `request-union-narrowed`";

/// (oasdiff rule id, how docintel covers it), in oasdiff's order: its lifecycle rules,
/// then request, response and JSON Schema keyword rules, one file each.
pub const OASDIFF_ERR: &[(&str, Coverage)] = &concat::<ROWS>([
    lifecycle::ROWS,
    requests::ROWS,
    responses::ROWS,
    keywords::ROWS,
]);

const ROWS: usize =
    lifecycle::ROWS.len() + requests::ROWS.len() + responses::ROWS.len() + keywords::ROWS.len();

/// The parts one after another, at compile time (a const slice cannot be joined otherwise).
const fn concat<const N: usize>(
    parts: [&[(&'static str, Coverage)]; 4],
) -> [(&'static str, Coverage); N] {
    let mut out = [("", NotApplicable("")); N];
    let (mut part, mut n) = (0, 0);
    while part < parts.len() {
        let mut i = 0;
        while i < parts[part].len() {
            out[n] = parts[part][i];
            n += 1;
            i += 1;
        }
        part += 1;
    }
    out
}
/// The gate's own rules as a Markdown table (for governance/README.md).
pub fn rules_markdown() -> String {
    let mut out = String::from("| rule | breaks when |\n|---|---|\n");
    for rule in rules::of(Family::Breaking) {
        out.push_str(&format!("| `{}` | {} |\n", rule.id, rule.meaning));
    }
    out
}

/// Every other rule of the gate (what the diff warns of or lists, and the other checks'
/// rules) as a Markdown table (for governance/README.md).
pub fn other_rules_markdown() -> String {
    let mut out = String::from("| rule | check | level | reports |\n|---|---|---|---|\n");
    for rule in rules::ALL.iter().filter(|r| r.family != Family::Breaking) {
        let level = match rule.level {
            Severity::Breaking => "fails",
            Severity::Warning => "warns",
            Severity::Info => "lists",
        };
        out.push_str(&format!(
            "| `{}` | {} | {level} | {} |\n",
            rule.id,
            rule.family.check(),
            rule.meaning
        ));
    }
    out
}

/// The catalogue as a Markdown table (for governance/README.md).
pub fn markdown() -> String {
    let mut out = String::from("| oasdiff rule (ERR) | docintel |\n|---|---|\n");
    for (id, coverage) in OASDIFF_ERR {
        let cell = match coverage {
            Rule(rule) => format!("`{}`", rule.id),
            NotApplicable(why) => format!("n/a: {why}"),
        };
        out.push_str(&format!("| `{id}` | {cell} |\n"));
    }
    out
}
