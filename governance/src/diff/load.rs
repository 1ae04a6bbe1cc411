//! Reading another team's spec: OpenAPI 3.0 or 3.1, JSON or YAML, split over files.
//!
//! External `$ref`s (`schemas.yaml#/Thing`, `./common/errors.json`) are bundled into one
//! document the comparison can walk: each referenced file is stored under
//! `x-docintel-external/<n>` and every reference to it (and every local reference inside
//! it) is rewritten to point there. Nothing is inlined, so recursive schemas across files
//! stay finite. References are resolved relative to the file that holds them and must
//! stay inside the main spec's folder: a spec from a pull request must not make the gate
//! read the runner's other files, and nothing is fetched over the network.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Where the bundled files go in the document.
pub const EXTERNAL: &str = "x-docintel-external";
/// A guard against a spec that references without end (each file is read once anyway).
const MAX_FILES: usize = 10_000;

/// Reads the spec at `path` with every external reference bundled.
pub fn document(path: &Path) -> Result<Value, String> {
    let main = path
        .canonicalize()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let root = main
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| format!("{}: no parent folder", path.display()))?;
    let mut doc = parse_file(&main)?;
    let mut bundler = Bundler {
        root,
        main: main.clone(),
        files: HashMap::new(),
        bundled: Vec::new(),
    };
    bundler.rewrite(&mut doc, &main, None)?;
    let mut n = 0;
    while n < bundler.bundled.len() {
        let (file, mut value) = std::mem::take(&mut bundler.bundled[n]);
        bundler.rewrite(&mut value, &file, Some(n))?;
        bundler.bundled[n] = (file, value);
        n += 1;
    }
    if !bundler.bundled.is_empty() {
        let files = bundler.bundled.into_iter().map(|(_, v)| v).collect();
        match doc.as_object_mut() {
            Some(m) => {
                m.insert(EXTERNAL.to_owned(), Value::Array(files));
            }
            None => return Err(format!("{}: not an object", path.display())),
        }
    }
    Ok(doc)
}

/// The OpenAPI document at `path`, references bundled, checked to be OpenAPI 3.x.
pub fn spec(path: &Path) -> Result<Value, String> {
    let doc = document(path)?;
    super::validate(&doc).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(doc)
}

/// One file as JSON or YAML: by its extension, else whichever parses.
pub fn parse_file(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let yaml = |t: &str| serde_norway::from_str::<Value>(t).map_err(|e| e.to_string());
    let json = |t: &str| serde_json::from_str::<Value>(t).map_err(|e| e.to_string());
    let parsed = match ext.as_str() {
        "yaml" | "yml" => yaml(&text),
        "json" => json(&text),
        _ => json(&text).or_else(|_| yaml(&text)),
    };
    parsed.map_err(|e| format!("{}: not valid JSON or YAML: {e}", path.display()))
}

struct Bundler {
    root: PathBuf,
    main: PathBuf,
    /// Canonical path → its index in `bundled`.
    files: HashMap<PathBuf, usize>,
    bundled: Vec<(PathBuf, Value)>,
}

impl Bundler {
    /// Rewrites every `$ref` in `value`, which comes from `file` (bundled as `me`, or the
    /// main document when `None`).
    fn rewrite(&mut self, value: &mut Value, file: &Path, me: Option<usize>) -> Result<(), String> {
        match value {
            Value::Object(map) => {
                for (key, v) in map.iter_mut() {
                    match v {
                        Value::String(r) if key == "$ref" => *r = self.target(r, file, me)?,
                        _ => self.rewrite(v, file, me)?,
                    }
                }
            }
            Value::Array(items) => {
                for v in items {
                    self.rewrite(v, file, me)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn target(
        &mut self,
        reference: &str,
        file: &Path,
        me: Option<usize>,
    ) -> Result<String, String> {
        let (file_part, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let local = |n: Option<usize>| match n {
            None => format!("#{fragment}"),
            Some(n) => format!("#/{EXTERNAL}/{n}{fragment}"),
        };
        if file_part.is_empty() {
            return Ok(local(me));
        }
        if file_part.contains("://") {
            return Err(format!(
                "{}: $ref {reference:?} is remote; the gate does not fetch, put the file beside the spec",
                file.display()
            ));
        }
        let dir = file.parent().unwrap_or(&self.root);
        let canonical = dir
            .join(file_part)
            .canonicalize()
            .map_err(|e| format!("{}: $ref {reference:?}: {e}", file.display()))?;
        if !canonical.starts_with(&self.root) {
            return Err(format!(
                "{}: $ref {reference:?} leaves the spec's folder ({})",
                file.display(),
                self.root.display()
            ));
        }
        if canonical == self.main {
            return Ok(local(None));
        }
        if let Some(&n) = self.files.get(&canonical) {
            return Ok(local(Some(n)));
        }
        if self.bundled.len() >= MAX_FILES {
            return Err(format!("more than {MAX_FILES} referenced files"));
        }
        let value = parse_file(&canonical)?;
        let n = self.bundled.len();
        self.bundled.push((canonical.clone(), value));
        self.files.insert(canonical, n);
        Ok(local(Some(n)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn yaml_with_external_refs_is_bundled_and_resolvable() {
        let dir = tempfile::tempdir().unwrap();
        let main = write(
            dir.path(),
            "api.yaml",
            "openapi: 3.0.3\npaths:\n  /a:\n    get:\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema:\n                $ref: 'schemas/thing.yaml#/Thing'\n",
        );
        // The external file refers to itself locally and to a third file, recursively.
        write(
            dir.path(),
            "schemas/thing.yaml",
            "Thing:\n  type: object\n  properties:\n    child:\n      $ref: '#/Thing'\n    tag:\n      $ref: '../tag.json'\n",
        );
        write(
            dir.path(),
            "tag.json",
            r#"{"type": "string", "maxLength": 3}"#,
        );
        let doc = document(&main).unwrap();
        let r =
            doc["paths"]["/a"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
                ["$ref"]
                .as_str()
                .unwrap();
        assert_eq!(r, "#/x-docintel-external/0/Thing");
        let thing = doc.pointer(&r[1..]).unwrap();
        assert_eq!(thing["properties"]["child"]["$ref"], r);
        let tag = thing["properties"]["tag"]["$ref"].as_str().unwrap();
        assert_eq!(doc.pointer(&tag[1..]).unwrap()["maxLength"], 3);
    }

    #[test]
    fn references_may_not_leave_the_folder_or_the_machine() {
        let outer = tempfile::tempdir().unwrap();
        write(outer.path(), "secret.json", "{}");
        let main = write(
            outer.path(),
            "spec/api.json",
            r#"{"openapi": "3.1.0", "paths": {}, "x": {"$ref": "../secret.json"}}"#,
        );
        let e = document(&main).unwrap_err();
        assert!(e.contains("leaves the spec's folder"), "{e}");
        write(
            outer.path(),
            "spec/api.json",
            r#"{"openapi": "3.1.0", "paths": {}, "x": {"$ref": "https://example.com/s.json"}}"#,
        );
        assert!(document(&main).unwrap_err().contains("remote"));
        write(
            outer.path(),
            "spec/api.json",
            r#"{"openapi": "3.1.0", "paths": {}, "x": {"$ref": "missing.json#/A"}}"#,
        );
        assert!(document(&main).unwrap_err().contains("missing.json"));
    }
}
