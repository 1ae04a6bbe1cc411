//! 3. Versions: when a document differs from its newest released baseline, its
//!    `info.version` must say so, by the semantic-versioning step its changes need:
//!
//!    - **major** for a breaking change (in docintel, better: a new path version, a new
//!      row in `api/src/versions.rs`, whose document starts its own baselines);
//!    - **minor** for anything else that changes what requests or responses may hold
//!      (additive changes and the gate's warnings), and for breaking changes that are all
//!      accepted exceptions (`openapi/accepted-breaking-changes.json`);
//!    - **patch** when only the documentation changed (descriptions, summaries, titles,
//!      examples, external docs, `info`: [`crate::diff::docs`]).
//!
//!    A version too low fails; one higher than needed is a warning. A document equal to
//!    its baseline keeps the baseline's version. The changelog (`docs/changelog/`) lists
//!    the same changes, and the gate fails when the committed one is stale.
//!
//!    Both judge the changes as of no particular day (a deprecated operation removed is
//!    listed as retired, with its sunset): the breaking-changes check already fails a
//!    removal before its sunset, and a changelog must not change with the calendar.

use std::fmt;
use std::path::Path;

use serde_json::Value;

use crate::checks::breaking::{ACCEPTED_PATH, Accepted, accepted_or_section, releases};
use crate::diff;
use crate::report::{Finding, Section, Severity};
use crate::rules;

/// The day the changes are judged on: after every sunset (see the module's notes).
pub const JUDGED_ON: &str = "9999-12-31";

/// What one change is to its clients, most serious first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// Breaks clients (a breaking finding of the diff, accepted or not).
    Breaking,
    /// Breaks nobody by the gate's rules, but some clients may notice (an optional
    /// response property gone…).
    Warning,
    /// Adds to what requests or responses may hold, or anything else that is neither
    /// breaking nor documentation.
    Additive,
    /// Words only.
    Docs,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Breaking => "breaking",
            Kind::Warning => "warning",
            Kind::Additive => "additive",
            Kind::Docs => "docs",
        }
    }
}

/// One change between two documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub kind: Kind,
    pub finding: Finding,
    /// Why a breaking change was accepted, when it was.
    pub accepted: Option<String>,
}

/// The release a set of changes needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    None,
    Patch,
    Minor,
    Major,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::None => "no",
            Level::Patch => "a patch",
            Level::Minor => "a minor",
            Level::Major => "a major",
        })
    }
}

/// Everything that changed from a baseline to a revision.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// Whether the documents differ at all (`info.version` aside).
    pub differs: bool,
    /// Most serious first; in the diff's order within a kind.
    pub changes: Vec<Change>,
}

/// When the diff finds nothing while the documents differ beyond their words, the first
/// places that differ are listed under this rule (as additive), at most this many.
pub const UNCLASSIFIED: &str = rules::UNCLASSIFIED_CHANGE.id;
const UNCLASSIFIED_LIMIT: usize = 20;

impl Comparison {
    /// The release these changes need.
    pub fn level(&self) -> Level {
        let need = |c: &Change| match c.kind {
            Kind::Breaking if c.accepted.is_none() => Level::Major,
            Kind::Breaking | Kind::Warning | Kind::Additive => Level::Minor,
            Kind::Docs => Level::Patch,
        };
        let level = self.changes.iter().map(need).max().unwrap_or(Level::None);
        if self.differs {
            level.max(Level::Patch)
        } else {
            level
        }
    }

    /// Whether there are breaking changes and every one is an accepted exception.
    pub fn breaks_all_accepted(&self) -> bool {
        let mut breaking = self.changes.iter().filter(|c| c.kind == Kind::Breaking);
        let first = breaking.next();
        first.is_some_and(|c| c.accepted.is_some()) && breaking.all(|c| c.accepted.is_some())
    }

    /// How many changes of `kind`.
    pub fn count(&self, kind: Kind) -> usize {
        self.changes.iter().filter(|c| c.kind == kind).count()
    }

    /// "minor (1 breaking change, all accepted; 3 additive; 2 docs)".
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        for kind in [Kind::Breaking, Kind::Warning, Kind::Additive, Kind::Docs] {
            let n = self.count(kind);
            if n > 0 {
                let mut part = format!("{n} {}", kind.label());
                if kind == Kind::Breaking && self.breaks_all_accepted() {
                    part.push_str(if n == 1 {
                        ", an accepted exception"
                    } else {
                        ", all accepted exceptions"
                    });
                }
                parts.push(part);
            }
        }
        if parts.is_empty() {
            "no changes".to_owned()
        } else {
            parts.join("; ")
        }
    }
}

/// Compares `base` with `rev`; a breaking change listed in `accepted` (for this version
/// and baseline) is marked with its reason.
pub fn compare(base: &Value, rev: &Value, accepted: &[&Accepted]) -> Comparison {
    let differs = diff::docs::without_version(base) != diff::docs::without_version(rev);
    if !differs {
        return Comparison {
            differs,
            changes: Vec::new(),
        };
    }
    let options = diff::Options {
        today: JUDGED_ON.to_owned(),
        min_sunset_days: 0,
    };
    let found = diff::diff_with(base, rev, &options);
    let mut changes: Vec<Change> = Vec::new();
    let structural = diff::docs::without_docs(base) != diff::docs::without_docs(rev);
    if found.is_empty() && structural {
        // The diff has no rule for what changed: counted as additive, the reading that
        // neither hides the change nor calls it a break without a rule that says so.
        for at in diff::docs::structural(base, rev, UNCLASSIFIED_LIMIT) {
            changes.push(Change {
                kind: Kind::Additive,
                finding: Finding {
                    rule: UNCLASSIFIED.to_owned(),
                    severity: Severity::Info,
                    location: at,
                    message: "changed; the diff has no rule for this change".to_owned(),
                    fix: String::new(),
                },
                accepted: None,
            });
        }
    }
    for f in found {
        let kind = match f.severity {
            Severity::Breaking => Kind::Breaking,
            Severity::Warning => Kind::Warning,
            Severity::Info => Kind::Additive,
        };
        let accepted = (kind == Kind::Breaking)
            .then(|| {
                accepted
                    .iter()
                    .find(|a| a.rule == f.rule && a.location == f.location)
                    .map(|a| a.reason.clone())
            })
            .flatten();
        changes.push(Change {
            kind,
            finding: f,
            accepted,
        });
    }
    changes.extend(diff::docs::changes(base, rev).into_iter().map(|f| Change {
        kind: Kind::Docs,
        finding: f,
        accepted: None,
    }));
    changes.sort_by_key(|c| c.kind);
    Comparison { differs, changes }
}

/// A release number: MAJOR.MINOR.PATCH, numbers only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Semver(pub u64, pub u64, pub u64);

impl Semver {
    pub fn parse(s: &str) -> Option<Self> {
        let mut parts = s.split('.').map(|p| {
            (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse::<u64>().ok())
                .flatten()
        });
        let v = Semver(parts.next()??, parts.next()??, parts.next()??);
        parts.next().is_none().then_some(v)
    }

    /// The next release of `level` after this one.
    pub fn next(self, level: Level) -> Self {
        let Semver(major, minor, patch) = self;
        match level {
            Level::Major => Semver(major + 1, 0, 0),
            Level::Minor => Semver(major, minor + 1, 0),
            Level::Patch => Semver(major, minor, patch + 1),
            Level::None => self,
        }
    }

    /// The step from `self` to `later` (`None` when `later` is not higher).
    pub fn step_to(self, later: Semver) -> Level {
        if later <= self {
            Level::None
        } else if later.0 > self.0 {
            Level::Major
        } else if later.1 > self.1 {
            Level::Minor
        } else {
            Level::Patch
        }
    }
}

impl fmt::Display for Semver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// What the changes need, in words: "a minor release, 2.1.0".
fn needs(baseline: Semver, comparison: &Comparison) -> String {
    let level = comparison.level();
    let mut out = format!("{level} release, {}", baseline.next(level));
    if level == Level::Minor && comparison.breaks_all_accepted() {
        out.push_str(" (a minor suffices: every breaking change is an accepted exception in ");
        out.push_str(ACCEPTED_PATH);
        out.push(')');
    }
    out
}

/// Judges `current` (the document's `info.version`) against `baseline` (its newest
/// release) for `comparison`; `location` names the document's version.
pub fn judge(
    location: &str,
    baseline: Semver,
    current: &str,
    comparison: &Comparison,
) -> Vec<Finding> {
    let Some(current) = Semver::parse(current) else {
        return vec![Finding::failure(
            rules::VERSION_UNREADABLE.id,
            location,
            format!("info.version {current:?} is not MAJOR.MINOR.PATCH"),
            "write it as three numbers, like 2.1.0",
        )];
    };
    let fix = |v: Semver| {
        format!(
            "set `release` in this version's row of api/src/versions.rs to {v} and regenerate (`cargo run -p docintel-api -- openapi`)"
        )
    };
    if !comparison.differs {
        if current == baseline {
            return Vec::new();
        }
        return vec![Finding::failure(
            rules::VERSION_CHANGED_WITHOUT_CHANGES.id,
            location,
            format!("the document equals its baseline {baseline} but says {current}"),
            fix(baseline),
        )];
    }
    let level = comparison.level();
    let wanted = baseline.next(level);
    let step = baseline.step_to(current);
    let what = format!(
        "changed since {baseline} ({}), which needs {}",
        comparison.summary(),
        needs(baseline, comparison)
    );
    if step == Level::None {
        return vec![Finding::failure(
            rules::VERSION_NOT_BUMPED.id,
            location,
            format!("{what}, but info.version is {current}"),
            fix(wanted),
        )];
    }
    if step < level {
        let mut fix = fix(wanted);
        if level == Level::Major {
            fix.push_str(
                "; better, keep this version compatible: put the break in a new path version (a new row in api/src/versions.rs), or, for a deliberate fix, list it in ",
            );
            fix.push_str(ACCEPTED_PATH);
        }
        return vec![Finding::failure(
            rules::VERSION_BUMP_TOO_SMALL.id,
            location,
            format!("{what}, but {current} is {step} release"),
            fix,
        )];
    }
    if current != wanted {
        return vec![Finding::warning(
            rules::VERSION_BUMP_LARGER_THAN_NEEDED.id,
            location,
            format!("{what}; {current} is more than that"),
            "use the next version the changes need, unless the larger step is meant",
        )];
    }
    Vec::new()
}

/// The gate's version check: one section per version with a baseline, and the
/// changelog's drift.
pub fn check(root: &Path) -> Vec<Section> {
    let mut sections = Vec::new();
    let accepted = match accepted_or_section(root, "versions") {
        Ok(a) => a,
        Err(section) => return vec![section],
    };
    for version in docintel_api::versions::VERSIONS {
        let name = version.name;
        let current_path = format!("openapi/{name}.json");
        let Some((release, baseline_path)) = releases(root, name).pop() else {
            // The breaking-changes check already warns about a version without baseline.
            continue;
        };
        let location = format!("{current_path}#/info/version");
        let mine: Vec<&Accepted> = accepted
            .iter()
            .filter(|a| a.version == name && a.baseline == release)
            .collect();
        let loaded = (
            diff::load::spec(&baseline_path),
            diff::load::spec(&root.join(&current_path)),
        );
        let (findings, subject) = match loaded {
            (Ok(base), Ok(current)) => {
                let version = current["info"]["version"].as_str().unwrap_or_default();
                let comparison = compare(&base, &current, &mine);
                let subject = match Semver::parse(&release) {
                    Some(b) if comparison.differs => format!(
                        "{current_path} {version} against released {release}: changed, needs {}",
                        needs(b, &comparison)
                    ),
                    _ => format!("{current_path} {version} against released {release}"),
                };
                let findings = match Semver::parse(&release) {
                    Some(b) => judge(&location, b, version, &comparison),
                    None => vec![Finding::failure(
                        rules::VERSION_UNREADABLE.id,
                        format!("openapi/released/{name}/{release}.json"),
                        format!("the baseline's release {release:?} is not MAJOR.MINOR.PATCH"),
                        "name released baselines like 2.1.0.json",
                    )],
                };
                (findings, subject)
            }
            (Err(e), _) | (_, Err(e)) => (
                vec![Finding::failure(rules::UNUSABLE_INPUT.id, "", e, "")],
                current_path.clone(),
            ),
        };
        sections.push(Section::new("versions", subject, findings));
    }
    let drift: Vec<Finding> = crate::changelog::drift(root)
        .into_iter()
        .map(|(path, problem)| {
            Finding::failure(
                rules::CHANGELOG_DRIFT.id,
                path,
                problem,
                "run `cargo run -p docintel-governance -- changelog` and commit the result",
            )
        })
        .collect();
    sections.push(Section::new(
        "changelog",
        "docs/changelog/*.md = generated",
        drift,
    ));
    sections
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A baseline with one operation answering a `Thing`, at `version`.
    fn doc(version: &str, edit: impl FnOnce(&mut Value)) -> Value {
        let mut d = json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": version},
            "paths": {"/things/{id}": {"get": {
                "operationId": "get_thing",
                "summary": "Get a thing",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "ok", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Thing"}}}}}
            }}},
            "components": {"schemas": {"Thing": {
                "type": "object",
                "required": ["id", "size"],
                "properties": {
                    "id": {"type": "string", "description": "its id"},
                    "size": {"type": "integer", "maximum": 100}
                }
            }}}
        });
        edit(&mut d);
        d
    }

    fn docs_only(d: &mut Value) {
        d["components"]["schemas"]["Thing"]["properties"]["id"]["description"] =
            json!("the thing's id");
    }
    fn additive(d: &mut Value) {
        d["components"]["schemas"]["Thing"]["properties"]["colour"] = json!({"type": "string"});
    }
    fn breaking(d: &mut Value) {
        d["components"]["schemas"]["Thing"]["properties"]["size"]["maximum"] = json!(1000);
    }
    const BREAK_AT: &str = "/paths/~1things~1{id}/get/responses/200/content/application~1json/schema/properties/size/maximum";

    /// The rules `current` (the revision's version after `edit`) fires against 2.0.0.
    fn fired(edit: fn(&mut Value), current: &str, accepted: &[&Accepted]) -> Vec<Finding> {
        let base = doc("2.0.0", |_| {});
        let rev = doc(current, edit);
        let comparison = compare(&base, &rev, accepted);
        judge("v#/info/version", Semver(2, 0, 0), current, &comparison)
    }

    fn rules(findings: &[Finding]) -> Vec<(&str, Severity)> {
        findings
            .iter()
            .map(|f| (f.rule.as_str(), f.severity))
            .collect()
    }

    fn accepted_break() -> Accepted {
        Accepted {
            version: "v".into(),
            baseline: "2.0.0".into(),
            rule: "response-constraint-loosened".into(),
            location: BREAK_AT.into(),
            reason: "bigger things exist".into(),
        }
    }

    #[test]
    fn each_kind_of_change_needs_its_release() {
        let base = doc("2.0.0", |_| {});
        let level = |edit: fn(&mut Value)| compare(&base, &doc("2.0.0", edit), &[]).level();
        assert_eq!(level(|_| {}), Level::None);
        assert_eq!(level(docs_only), Level::Patch);
        assert_eq!(level(additive), Level::Minor);
        assert_eq!(level(breaking), Level::Major);
        // The whole `info` but its version is documentation.
        assert_eq!(
            level(|d| d["info"]["description"] = json!("things")),
            Level::Patch
        );
        // A change the diff has no rule for is additive, and listed where it is.
        let renamed = compare(
            &base,
            &doc("2.0.0", |d| {
                d["paths"]["/things/{id}"]["get"]["operationId"] = json!("thing")
            }),
            &[],
        );
        assert_eq!(renamed.level(), Level::Minor);
        assert_eq!(renamed.changes[0].finding.rule, UNCLASSIFIED);
        assert_eq!(
            renamed.changes[0].finding.location,
            "/paths/~1things~1{id}/get/operationId"
        );
    }

    #[test]
    fn the_right_step_passes() {
        assert!(fired(|_| {}, "2.0.0", &[]).is_empty());
        assert!(fired(docs_only, "2.0.1", &[]).is_empty());
        assert!(fired(additive, "2.1.0", &[]).is_empty());
        assert!(fired(breaking, "3.0.0", &[]).is_empty());
        let accepted = accepted_break();
        assert!(fired(breaking, "2.1.0", &[&accepted]).is_empty());
    }

    #[test]
    fn a_changed_document_without_a_higher_version_fails() {
        assert_eq!(
            rules(&fired(additive, "2.0.0", &[])),
            [("version-not-bumped", Severity::Breaking)]
        );
        assert_eq!(
            rules(&fired(docs_only, "1.9.0", &[])),
            [("version-not-bumped", Severity::Breaking)]
        );
        let f = &fired(additive, "2.0.0", &[])[0];
        assert!(f.message.contains("needs a minor release, 2.1.0"), "{f:?}");
        assert!(f.fix.contains("to 2.1.0"), "{f:?}");
    }

    #[test]
    fn a_step_too_small_fails() {
        assert_eq!(
            rules(&fired(additive, "2.0.1", &[])),
            [("version-bump-too-small", Severity::Breaking)]
        );
        let f = fired(breaking, "2.1.0", &[]);
        assert_eq!(rules(&f), [("version-bump-too-small", Severity::Breaking)]);
        assert!(
            f[0].message.contains("needs a major release, 3.0.0"),
            "{f:?}"
        );
        assert!(f[0].fix.contains("new path version"), "{f:?}");
    }

    #[test]
    fn accepted_breaks_need_a_minor_and_say_so() {
        let accepted = accepted_break();
        let f = fired(breaking, "2.0.1", &[&accepted]);
        assert_eq!(rules(&f), [("version-bump-too-small", Severity::Breaking)]);
        assert!(
            f[0].message
                .contains("a minor suffices: every breaking change is an accepted exception"),
            "{f:?}"
        );
        // Accepted for another baseline, it is a break like any other.
        let mut elsewhere = accepted_break();
        elsewhere.location = "/paths/~1other".into();
        assert_eq!(
            rules(&fired(breaking, "2.1.0", &[&elsewhere])),
            [("version-bump-too-small", Severity::Breaking)]
        );
    }

    #[test]
    fn a_larger_step_than_needed_is_a_warning() {
        assert_eq!(
            rules(&fired(docs_only, "2.1.0", &[])),
            [("version-bump-larger-than-needed", Severity::Warning)]
        );
        assert_eq!(
            rules(&fired(additive, "3.0.0", &[])),
            [("version-bump-larger-than-needed", Severity::Warning)]
        );
        assert_eq!(
            rules(&fired(additive, "2.2.0", &[])),
            [("version-bump-larger-than-needed", Severity::Warning)]
        );
    }

    #[test]
    fn an_unchanged_document_keeps_its_version() {
        assert_eq!(
            rules(&fired(|_| {}, "2.0.1", &[])),
            [("version-changed-without-changes", Severity::Breaking)]
        );
        assert_eq!(
            rules(&fired(|_| {}, "1.0.0", &[])),
            [("version-changed-without-changes", Severity::Breaking)]
        );
        assert_eq!(
            rules(&fired(additive, "2.1", &[])),
            [("version-unreadable", Severity::Breaking)]
        );
    }

    #[test]
    fn semver_steps() {
        let v = |s| Semver::parse(s).unwrap();
        assert_eq!(Semver::parse("2.1"), None);
        assert_eq!(Semver::parse("2.1.0-rc1"), None);
        assert_eq!(Semver::parse("2.1.0.0"), None);
        assert_eq!(Semver::parse("+2.1.0"), None);
        assert_eq!(v("2.0.0").next(Level::Minor), v("2.1.0"));
        assert_eq!(v("2.3.4").next(Level::Major), v("3.0.0"));
        assert_eq!(v("2.3.4").next(Level::Patch), v("2.3.5"));
        assert_eq!(v("2.0.0").step_to(v("2.0.0")), Level::None);
        assert_eq!(v("2.5.1").step_to(v("2.4.9")), Level::None);
        assert_eq!(v("2.5.1").step_to(v("3.0.0")), Level::Major);
        assert_eq!(v("2.5.1").step_to(v("2.6.0")), Level::Minor);
        assert_eq!(v("2.5.1").step_to(v("2.5.2")), Level::Patch);
        // Numbers, not strings: 2.10.0 is after 2.9.0.
        assert_eq!(v("2.9.0").step_to(v("2.10.0")), Level::Minor);
    }
}
