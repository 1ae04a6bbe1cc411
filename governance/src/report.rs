//! Findings and the report: Markdown for people (a CI log, a pull-request comment) and
//! JSON for machines.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Fails the gate.
    Breaking,
    /// Does not fail the gate, but someone should look.
    Warning,
    /// A change worth listing (new operations, deprecations…).
    Info,
}

/// One thing the gate found: which rule, where (a JSON pointer, or subject and version),
/// what, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: String,
    pub severity: Severity,
    pub location: String,
    pub message: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub fix: String,
}

impl Finding {
    pub fn failure(
        rule: &str,
        location: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            rule: rule.to_owned(),
            severity: Severity::Breaking,
            location: location.into(),
            message: message.into(),
            fix: fix.into(),
        }
    }

    pub fn warning(
        rule: &str,
        location: impl Into<String>,
        message: impl Into<String>,
        fix: &str,
    ) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::failure(rule, location, message, fix)
        }
    }
}

/// One check of the gate and what it found.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    pub check: String,
    /// What was looked at ("openapi/v2.json against openapi/released/v2/2.0.0.json").
    pub subject: String,
    pub passed: bool,
    pub findings: Vec<Finding>,
}

impl Section {
    pub fn new(check: &str, subject: impl Into<String>, findings: Vec<Finding>) -> Self {
        Self {
            check: check.to_owned(),
            subject: subject.into(),
            passed: !findings.iter().any(|f| f.severity == Severity::Breaking),
            findings,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub passed: bool,
    pub sections: Vec<Section>,
}

impl Report {
    pub fn new(sections: Vec<Section>) -> Self {
        Self {
            passed: sections.iter().all(|s| s.passed),
            sections,
        }
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub fn markdown(&self) -> String {
        let mut out = format!(
            "## docintel governance: {}\n\n| check | result | subject |\n| --- | --- | --- |\n",
            if self.passed {
                "passed ✅"
            } else {
                "FAILED ❌"
            }
        );
        for s in &self.sections {
            let warnings = s
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Warning)
                .count();
            let result = match (s.passed, warnings) {
                (false, _) => "❌ fail".to_owned(),
                (true, 0) => "✅ pass".to_owned(),
                (true, n) => format!("⚠️ pass, {n} warning(s)"),
            };
            out.push_str(&format!("| {} | {} | {} |\n", s.check, result, s.subject));
        }
        for s in &self.sections {
            let shown: Vec<&Finding> = s
                .findings
                .iter()
                .filter(|f| f.severity != Severity::Info)
                .collect();
            if shown.is_empty() {
                continue;
            }
            out.push_str(&format!("\n### {}\n\n", s.check));
            // One change in a schema every operation uses is found once per operation;
            // a reader wants it once, with where (the JSON report lists every place).
            let mut groups: Vec<(&Finding, Vec<&str>)> = Vec::new();
            for f in shown {
                match groups.iter_mut().find(|(g, _)| {
                    g.rule == f.rule && g.message == f.message && g.severity == f.severity
                }) {
                    Some((_, places)) => places.push(&f.location),
                    None => groups.push((f, vec![&f.location])),
                }
            }
            for (f, places) in groups {
                let mark = if f.severity == Severity::Breaking {
                    "❌"
                } else {
                    "⚠️"
                };
                out.push_str(&format!("- {mark} **{}** at `{}`", f.rule, places[0]));
                match places.len() {
                    1 => {}
                    2 => out.push_str(&format!(" and `{}`", places[1])),
                    n => out.push_str(&format!(" and {} more places", n - 1)),
                }
                out.push_str(&format!(": {}", f.message));
                if !f.fix.is_empty() {
                    out.push_str(&format!(" — *fix:* {}", f.fix));
                }
                out.push('\n');
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_finding_in_many_places_is_one_line_in_markdown_and_every_place_in_json() {
        let at =
            |i: usize| Finding::failure("r", format!("/paths/op{i}"), "`x` is gone", "keep it");
        let mut findings: Vec<Finding> = (0..5).map(at).collect();
        findings.push(Finding::failure(
            "r",
            "/paths/other",
            "`y` is gone",
            "keep it",
        ));
        let report = Report::new(vec![Section::new("breaking changes", "a → b", findings)]);
        let md = report.markdown();
        assert!(
            md.contains("- ❌ **r** at `/paths/op0` and 4 more places: `x` is gone"),
            "{md}"
        );
        assert!(
            md.contains("- ❌ **r** at `/paths/other`: `y` is gone"),
            "{md}"
        );
        assert_eq!(report.json().matches("/paths/op").count(), 5);
    }
}
