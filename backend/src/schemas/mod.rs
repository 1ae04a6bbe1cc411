//! Avro event schemas and their evolution rules. Whether one schema reads another's data
//! is decided in [`compat`] (the Java checker's rules); this module adds the registry's
//! modes on top:
//! BACKWARD (the new schema reads data written with the old), FORWARD (the old reads the
//! new), FULL (both), their `_TRANSITIVE` forms (against every earlier version, not only
//! the latest), and NONE.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use apache_avro::Schema;

pub mod compat;

pub use compat::{Rules, WithRefs};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Backward,
    BackwardTransitive,
    Forward,
    ForwardTransitive,
    Full,
    FullTransitive,
    None,
}

impl FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.to_ascii_uppercase().as_str() {
            "BACKWARD" => Mode::Backward,
            "BACKWARD_TRANSITIVE" => Mode::BackwardTransitive,
            "FORWARD" => Mode::Forward,
            "FORWARD_TRANSITIVE" => Mode::ForwardTransitive,
            "FULL" => Mode::Full,
            "FULL_TRANSITIVE" => Mode::FullTransitive,
            "NONE" => Mode::None,
            other => return Err(format!("unknown compatibility mode {other:?}")),
        })
    }
}

impl Mode {
    /// The registry's name for the mode.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Backward => "BACKWARD",
            Mode::BackwardTransitive => "BACKWARD_TRANSITIVE",
            Mode::Forward => "FORWARD",
            Mode::ForwardTransitive => "FORWARD_TRANSITIVE",
            Mode::Full => "FULL",
            Mode::FullTransitive => "FULL_TRANSITIVE",
            Mode::None => "NONE",
        }
    }

    fn transitive(self) -> bool {
        matches!(
            self,
            Mode::BackwardTransitive | Mode::ForwardTransitive | Mode::FullTransitive
        )
    }
    fn backward(self) -> bool {
        matches!(
            self,
            Mode::Backward | Mode::BackwardTransitive | Mode::Full | Mode::FullTransitive
        )
    }
    fn forward(self) -> bool {
        matches!(
            self,
            Mode::Forward | Mode::ForwardTransitive | Mode::Full | Mode::FullTransitive
        )
    }
}

/// Why a schema may not follow the earlier ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The problems found, each naming the version (1-based) it is against.
    #[error("{}", .0.join("; "))]
    Incompatible(Vec<String>),
    /// The question costs more than a check may spend: neither yes nor no.
    #[error(transparent)]
    TooComplex(#[from] compat::TooComplex),
}

/// Whether data written with `writer` can always be read with `reader`: `Ok(None)` yes,
/// `Ok(Some(reasons))` no.
fn reads(
    writer: WithRefs<'_>,
    reader: WithRefs<'_>,
    rules: Rules,
    budget: &mut compat::Budget,
) -> Result<Option<String>, compat::TooComplex> {
    let found = compat::incompatibilities_with(writer, reader, rules, budget)?;
    Ok((!found.is_empty()).then(|| {
        found
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    }))
}

/// Checks that `new` may follow `earlier` (oldest first) under `mode`, within
/// [`compat::DEFAULT_BUDGET`] steps in all.
pub fn check(mode: Mode, earlier: &[Schema], new: &Schema) -> Result<(), Refusal> {
    check_within(mode, earlier, new, &mut compat::Budget::default())
}

/// [`check`] with a given budget, spent over every version compared.
pub fn check_within(
    mode: Mode,
    earlier: &[Schema],
    new: &Schema,
    budget: &mut compat::Budget,
) -> Result<(), Refusal> {
    let earlier: Vec<WithRefs<'_>> = earlier.iter().map(WithRefs::from).collect();
    check_with(mode, &earlier, new.into(), Rules::default(), budget)
}

/// [`check_within`] for schemas with references, under `rules`.
pub fn check_with(
    mode: Mode,
    earlier: &[WithRefs<'_>],
    new: WithRefs<'_>,
    rules: Rules,
    budget: &mut compat::Budget,
) -> Result<(), Refusal> {
    if mode == Mode::None || earlier.is_empty() {
        return Ok(());
    }
    let against: Vec<(usize, WithRefs<'_>)> = if mode.transitive() {
        earlier
            .iter()
            .enumerate()
            .map(|(i, s)| (i + 1, *s))
            .collect()
    } else {
        vec![(earlier.len(), earlier[earlier.len() - 1])]
    };
    let mut problems = Vec::new();
    for (version, old) in against {
        if mode.backward()
            && let Some(e) = reads(old, new, rules, budget)?
        {
            problems.push(format!(
                "cannot read data written with version {version}: {e}"
            ));
        }
        if mode.forward()
            && let Some(e) = reads(new, old, rules, budget)?
        {
            problems.push(format!("version {version} cannot read data it writes: {e}"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Refusal::Incompatible(problems))
    }
}

/// One subject's versions, as found in the repository.
#[derive(Debug)]
pub struct Subject {
    pub name: String,
    pub mode: Mode,
    /// (version number, file, schema), oldest first.
    pub versions: Vec<(u32, PathBuf, Schema)>,
}

/// A problem with the repository's schemas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub subject: String,
    pub version: u32,
    pub message: String,
}

pub fn parse_file(path: &Path) -> Result<Schema, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Schema::parse_str(&text)
        .map_err(|e| format!("{}: not a valid Avro schema: {e}", path.display()))
}

/// Reads `dir/<subject>/v<N>.avsc` and the modes in `dir/compatibility.json`
/// (`{"default": MODE, "subjects": {subject: MODE}}`; default BACKWARD_TRANSITIVE).
pub fn load(dir: &Path) -> Result<Vec<Subject>, String> {
    let config_path = dir.join("compatibility.json");
    let (default, mut per_subject) = match std::fs::read_to_string(&config_path) {
        Ok(s) => parse_modes(&s).map_err(|e| format!("{}: {e}", config_path.display()))?,
        Err(_) => parse_modes("{}")?,
    };
    let mut subjects = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .collect();
    dirs.sort_by_key(|e| e.file_name());
    for d in dirs {
        let name = d.file_name().to_string_lossy().into_owned();
        let mut versions = Vec::new();
        for f in std::fs::read_dir(d.path())
            .map_err(|e| e.to_string())?
            .filter_map(Result::ok)
        {
            let file = f.file_name().to_string_lossy().into_owned();
            let Some(n) = file.strip_prefix('v').and_then(|r| r.strip_suffix(".avsc")) else {
                continue;
            };
            let n: u32 = n
                .parse()
                .map_err(|_| format!("{name}/{file}: expected v<N>.avsc"))?;
            versions.push((n, f.path(), parse_file(&f.path())?));
        }
        versions.sort_by_key(|v| v.0);
        for (i, v) in versions.iter().enumerate() {
            if v.0 != i as u32 + 1 {
                return Err(format!("{name}: versions must be v1, v2, … without gaps"));
            }
        }
        let mode = per_subject.remove(&name).unwrap_or(default);
        subjects.push(Subject {
            name,
            mode,
            versions,
        });
    }
    if let Some(unknown) = per_subject.keys().next() {
        return Err(format!(
            "compatibility.json names {unknown:?}, which has no folder"
        ));
    }
    Ok(subjects)
}

/// The default mode and the per-subject modes of a `compatibility.json`.
pub fn parse_modes(json: &str) -> Result<(Mode, BTreeMap<String, Mode>), String> {
    let config: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let default: Mode = config["default"]
        .as_str()
        .unwrap_or("BACKWARD_TRANSITIVE")
        .parse()?;
    let mut per_subject = BTreeMap::new();
    if let Some(map) = config["subjects"].as_object() {
        for (k, v) in map {
            let mode: Mode = v
                .as_str()
                .ok_or(format!("mode of {k} must be a string"))?
                .parse()?;
            per_subject.insert(k.clone(), mode);
        }
    }
    Ok((default, per_subject))
}

/// Every version of every subject against the earlier ones, under the subject's mode.
pub fn check_history(subjects: &[Subject]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for s in subjects {
        let schemas: Vec<Schema> = s.versions.iter().map(|v| v.2.clone()).collect();
        for (i, (n, _, schema)) in s.versions.iter().enumerate() {
            let problems = match check(s.mode, &schemas[..i], schema) {
                Ok(()) => continue,
                Err(Refusal::Incompatible(problems)) => problems,
                Err(e @ Refusal::TooComplex(_)) => vec![e.to_string()],
            };
            findings.extend(problems.into_iter().map(|message| Finding {
                subject: s.name.clone(),
                version: *n,
                message,
            }));
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(fields: &str) -> Schema {
        Schema::parse_str(&format!(
            r#"{{"type":"record","name":"E","namespace":"t","fields":[{fields}]}}"#
        ))
        .unwrap()
    }

    fn incompatible(verdict: Result<(), Refusal>) -> Vec<String> {
        match verdict {
            Err(Refusal::Incompatible(problems)) => problems,
            other => panic!("expected incompatible, got {other:?}"),
        }
    }

    fn v1() -> Schema {
        record(r#"{"name":"id","type":"string"}"#)
    }
    /// v1 + a field with a default.
    fn with_default() -> Schema {
        record(r#"{"name":"id","type":"string"},{"name":"n","type":"int","default":0}"#)
    }
    /// v1 + a required field (no default).
    fn with_required() -> Schema {
        record(r#"{"name":"id","type":"string"},{"name":"n","type":"int"}"#)
    }
    /// v1 without `id`.
    fn without_id() -> Schema {
        record(r#"{"name":"other","type":"string","default":""}"#)
    }

    #[test]
    fn backward_means_the_new_schema_reads_old_data() {
        assert!(check(Mode::Backward, &[v1()], &with_default()).is_ok());
        assert!(check(Mode::Backward, &[v1()], &with_required()).is_err());
    }

    #[test]
    fn forward_means_old_readers_read_new_data() {
        // Old readers ignore the added field.
        assert!(check(Mode::Forward, &[v1()], &with_required()).is_ok());
        // Old readers need `id`, which the new schema no longer writes.
        assert!(check(Mode::Forward, &[v1()], &without_id()).is_err());
    }

    #[test]
    fn full_needs_both() {
        assert!(check(Mode::Full, &[v1()], &with_default()).is_ok());
        assert!(check(Mode::Full, &[v1()], &with_required()).is_err());
        assert!(check(Mode::Full, &[v1()], &without_id()).is_err());
    }

    #[test]
    fn none_allows_anything_and_a_first_version_is_always_fine() {
        assert!(check(Mode::None, &[v1()], &without_id()).is_ok());
        assert!(check(Mode::FullTransitive, &[], &v1()).is_ok());
    }

    #[test]
    fn transitive_modes_check_every_earlier_version() {
        // FORWARD chain: `n` is an int in v1 and a long from v2 on (int → long is a
        // promotion, long → int is not), so v3 is fine for v2 but not for v1 readers.
        let v1 = record(r#"{"name":"n","type":"int"}"#);
        let v2 = record(r#"{"name":"n","type":"long"}"#);
        let v3 = record(r#"{"name":"n","type":"long"},{"name":"m","type":"int","default":0}"#);
        // v3 against v2 alone: fine for BACKWARD.
        assert!(check(Mode::Backward, &[v1.clone(), v2.clone()], &v3).is_ok());
        // FORWARD: v2 reads v3 data (ignores m): fine against the latest…
        assert!(check(Mode::Forward, &[v1.clone(), v2.clone()], &v3).is_ok());
        // …but v1 (int) cannot read v3's long: FORWARD_TRANSITIVE fails, naming v1.
        let e = incompatible(check(
            Mode::ForwardTransitive,
            &[v1.clone(), v2.clone()],
            &v3,
        ));
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].contains("version 1"), "{e:?}");
        // The same chain under FULL vs FULL_TRANSITIVE.
        assert!(check(Mode::Full, &[v1.clone(), v2.clone()], &v3).is_ok());
        assert!(check(Mode::FullTransitive, &[v1.clone(), v2.clone()], &v3).is_err());
        // BACKWARD chain: v3 requires `k`, which v2 data has (v2 defaults it) but v1
        // data lacks.
        let b1 = record(r#"{"name":"s","type":"string"}"#);
        let b2 = record(
            r#"{"name":"s","type":"string","default":"x"},{"name":"k","type":"int","default":1}"#,
        );
        let b3 = record(r#"{"name":"k","type":"int"}"#);
        assert!(check(Mode::Backward, &[b1.clone(), b2.clone()], &b3).is_ok());
        let e = incompatible(check(Mode::BackwardTransitive, &[b1, b2], &b3));
        assert!(e.iter().all(|m| m.contains("version 1")), "{e:?}");
    }

    #[test]
    fn modes_parse_like_the_registry_writes_them() {
        assert_eq!("FULL_TRANSITIVE".parse::<Mode>(), Ok(Mode::FullTransitive));
        assert_eq!("backward".parse::<Mode>(), Ok(Mode::Backward));
        assert!("SIDEWAYS".parse::<Mode>().is_err());
    }

    #[test]
    fn the_repository_schemas_obey_their_modes() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/avro");
        let subjects = load(&dir).unwrap();
        let names: Vec<_> = subjects.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "doc.classified",
                "doc.deleted",
                "doc.failed",
                "doc.processed",
                "doc.uploaded"
            ]
        );
        let classified = &subjects[0];
        assert_eq!(classified.mode, Mode::FullTransitive);
        assert_eq!(classified.versions.len(), 2, "doc.classified evolved once");
        assert_eq!(check_history(&subjects), vec![]);
    }
}
