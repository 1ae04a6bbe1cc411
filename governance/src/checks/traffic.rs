//! 7. Recorded traffic: every answer a server gave (recorded by `docintel serve
//!    --record-traffic`, or any HAR 1.2 file) is documented by its operation in the
//!    OpenAPI documents: its status, its content type and each of its headers.
//!
//! A response is matched to an operation by its method and raw path against the path
//! templates of every document given (the most literal template wins, as OpenAPI asks;
//! a `servers` URL's path is a prefix the paths may carry). Responses no document has an
//! operation for are counted and skipped: the check proves documents complete for what
//! they describe, not that they describe every route. Transport headers any HTTP
//! response may carry are not looked for (see [`TRANSPORT_HEADERS`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use docintel_api::traffic::Record;
use docintel_contract_check::{PathTemplates, essence};
use serde_json::Value;

use crate::report::{Finding, Section};
use crate::rules;

/// Headers any HTTP response may carry, whatever its operation: not looked for in the
/// documents. `content-type` is checked against the documented media types instead
/// (OpenAPI ignores a `Content-Type` header definition).
pub const TRANSPORT_HEADERS: [&str; 7] = [
    "content-type",
    "content-length",
    "date",
    "connection",
    "transfer-encoding",
    "vary",
    "keep-alive",
];

/// One OpenAPI document, ready to match paths against.
pub struct Spec {
    /// How findings name it (its file).
    pub name: String,
    doc: Value,
    paths: PathTemplates,
}

impl Spec {
    /// Reads the document at `path` (JSON or YAML, external references bundled).
    pub fn load(path: &Path) -> Result<Self, String> {
        let doc = crate::diff::load::spec(path)?;
        Ok(Self::new(path.display().to_string(), doc))
    }

    pub fn new(name: String, doc: Value) -> Self {
        let paths = PathTemplates::new(&doc);
        Self { name, doc, paths }
    }

    /// The path template `path` falls under, if any.
    fn template_of(&self, path: &str) -> Option<&str> {
        self.paths.template_of(path)
    }

    /// Follows `$ref`s (local, as the loader leaves them) to the value they name.
    fn resolve<'a>(&'a self, mut value: &'a Value) -> &'a Value {
        // A bound against reference cycles.
        for _ in 0..32 {
            let Some(pointer) = value["$ref"].as_str().and_then(|r| r.strip_prefix('#')) else {
                return value;
            };
            match self.doc.pointer(pointer) {
                Some(target) => value = target,
                None => return &Value::Null,
            }
        }
        value
    }
}

/// Whether a documented media-type key (maybe `application/*`, `*/*`, with parameters)
/// covers a recorded one.
fn media_type_covers(documented: &str, recorded: &str) -> bool {
    let documented = essence(documented);
    if documented == recorded || documented == "*/*" {
        return true;
    }
    match (documented.split_once('/'), recorded.split_once('/')) {
        (Some((dt, "*")), Some((rt, _))) => dt == rt,
        _ => false,
    }
}

/// What a check of recordings counted, beside its findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Responses read.
    pub recorded: usize,
    /// Of those, matched to an operation of a document.
    pub matched: usize,
    /// Of those, to a path or method no document has.
    pub skipped: usize,
}

/// Everything one check found.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub counts: Counts,
    pub findings: Vec<Finding>,
}

impl Outcome {
    /// One line for a log: what was recorded, matched, skipped and found.
    pub fn summary(&self) -> String {
        format!(
            "traffic: {} responses recorded, {} matched to an operation, {} skipped (no documented operation), {} findings",
            self.counts.recorded,
            self.counts.matched,
            self.counts.skipped,
            self.findings.len()
        )
    }

    pub fn section(&self, subject: String) -> Section {
        Section::new(
            "traffic",
            format!(
                "{subject}: {} responses, {} matched, {} skipped",
                self.counts.recorded, self.counts.matched, self.counts.skipped
            ),
            self.findings.clone(),
        )
    }
}

/// One undocumented thing, seen `count` times.
struct Seen {
    count: usize,
    example: String,
}

/// Checks `records` against `specs`; `unreadable` (problems reading the recordings) are
/// findings too, so a broken recording cannot pass unnoticed.
pub fn judge(specs: &[Spec], records: &[Record], unreadable: Vec<String>) -> Outcome {
    let mut counts = Counts {
        recorded: records.len(),
        ..Counts::default()
    };
    // (rule, location, what) → how often and an example; ordered, for a stable report.
    let mut seen: BTreeMap<(&'static str, String, String), Seen> = BTreeMap::new();
    for record in records {
        // Methods are case-sensitive: `get` is not `GET` (servers answer it 405), and an
        // operation key names the upper-case method.
        let method = record.method.to_ascii_lowercase();
        let standard = record.method == record.method.to_ascii_uppercase();
        let found = standard.then_some(()).and_then(|()| {
            specs.iter().find_map(|spec| {
                let template = spec.template_of(&record.path)?;
                let item = spec.resolve(&spec.doc["paths"][template]);
                let operation = item.get(&method)?;
                Some((spec, template, spec.resolve(operation)))
            })
        });
        let Some((spec, template, operation)) = found else {
            counts.skipped += 1;
            continue;
        };
        counts.matched += 1;
        let operation_name = format!("{} {template}", record.method.to_ascii_uppercase());
        let pointer = format!(
            "{}#/paths/{}/{method}/responses",
            spec.name,
            template.replace('~', "~0").replace('/', "~1")
        );
        let example = format!("{} {}", record.method, record.path);
        let mut note = |rule: &'static str, location: String, what: String| {
            seen.entry((rule, location, what))
                .and_modify(|s| s.count += 1)
                .or_insert_with(|| Seen {
                    count: 1,
                    example: example.clone(),
                });
        };
        let responses = spec.resolve(&operation["responses"]);
        let status = record.status.to_string();
        let range = format!("{}XX", record.status / 100);
        let key = [status.as_str(), range.as_str(), "default"]
            .into_iter()
            .find(|k| {
                responses
                    .as_object()
                    .is_some_and(|r| r.keys().any(|d| d.eq_ignore_ascii_case(k)))
            });
        let Some(key) = key else {
            note(
                rules::TRAFFIC_UNDOCUMENTED_STATUS.id,
                pointer,
                format!("`{operation_name}` answered {status}, which it does not document"),
            );
            continue;
        };
        let response = responses
            .as_object()
            .and_then(|r| r.iter().find(|(d, _)| d.eq_ignore_ascii_case(key)))
            .map_or(&Value::Null, |(_, v)| spec.resolve(v));
        let location = format!("{pointer}/{key}");
        if let Some(content_type) = &record.content_type {
            let recorded = essence(content_type);
            let documented = response["content"]
                .as_object()
                .is_some_and(|c| c.keys().any(|d| media_type_covers(d, &recorded)));
            if !documented {
                note(
                    rules::TRAFFIC_UNDOCUMENTED_CONTENT_TYPE.id,
                    format!("{location}/content"),
                    format!(
                        "`{operation_name}` answered {status} as `{recorded}`, a content type its {key} response does not document"
                    ),
                );
            }
        }
        let headers = response["headers"].as_object();
        for name in &record.headers {
            let name = name.to_ascii_lowercase();
            if TRANSPORT_HEADERS.contains(&name.as_str()) {
                continue;
            }
            let documented =
                headers.is_some_and(|h| h.keys().any(|d| d.eq_ignore_ascii_case(&name)));
            if !documented {
                note(
                    rules::TRAFFIC_UNDOCUMENTED_HEADER.id,
                    format!("{location}/headers"),
                    format!(
                        "`{operation_name}` answered {status} with header `{name}`, which its {key} response does not document"
                    ),
                );
            }
        }
    }
    let fixes = |rule: &str| match rule {
        r if r == rules::TRAFFIC_UNDOCUMENTED_STATUS.id => {
            "document the status (or a 4XX/5XX range, or `default`) on the operation, or stop answering it"
        }
        r if r == rules::TRAFFIC_UNDOCUMENTED_CONTENT_TYPE.id => {
            "add the media type to the response's `content`, or answer with a documented one"
        }
        _ => "add the header to the response's `headers`, or stop sending it",
    };
    let mut findings: Vec<Finding> = unreadable
        .into_iter()
        .map(|problem| {
            Finding::failure(
                rules::TRAFFIC_UNREADABLE.id,
                problem.split(": ").next().unwrap_or_default().to_owned(),
                problem.clone(),
                "record JSON lines (`docintel serve --record-traffic`) or HAR 1.2",
            )
        })
        .collect();
    if counts.recorded == 0 {
        findings.push(Finding::failure(
            rules::TRAFFIC_EMPTY.id,
            "recordings",
            "no response was recorded: there is nothing to prove the documents against",
            "record with `docintel serve --record-traffic FILE` (or DOCINTEL_RECORD_TRAFFIC=DIR for the tests)",
        ));
    }
    findings.extend(seen.into_iter().map(|((rule, location, what), s)| {
        let times = if s.count == 1 {
            "once".to_owned()
        } else {
            format!("{} times", s.count)
        };
        Finding::failure(
            rule,
            location,
            format!("{what} (recorded {times}, e.g. `{}`)", s.example),
            fixes(rule),
        )
    }));
    Outcome { counts, findings }
}

/// Reads every recording at `paths`: JSON-lines files (one [`Record`] a line), HAR 1.2
/// files, or folders of them (`.jsonl`, `.json`, `.har`, not descending). Returns the
/// records and the problems found reading them.
pub fn read(paths: &[PathBuf]) -> (Vec<Record>, Vec<String>) {
    let mut records = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut files: Vec<PathBuf> = match std::fs::read_dir(path) {
                Ok(entries) => entries
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| {
                        p.is_file()
                            && p.extension()
                                .is_some_and(|e| e == "jsonl" || e == "json" || e == "har")
                    })
                    .collect(),
                Err(e) => {
                    problems.push(format!("{}: {e}", path.display()));
                    continue;
                }
            };
            files.sort();
            for file in files {
                read_file(&file, &mut records, &mut problems);
            }
        } else {
            read_file(path, &mut records, &mut problems);
        }
    }
    (records, problems)
}

fn read_file(path: &Path, records: &mut Vec<Record>, problems: &mut Vec<String>) {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            problems.push(format!("{}: {e}", path.display()));
            return;
        }
    };
    // A HAR file is one JSON object with a `log`; a recording is one object a line.
    if let Ok(har) = serde_json::from_str::<Value>(&text)
        && har.get("log").is_some()
    {
        match from_har(&har) {
            Ok(found) => records.extend(found),
            Err(e) => problems.push(format!("{}: {e}", path.display())),
        }
        return;
    }
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(line) {
            Ok(record) => records.push(record),
            // A process killed mid-write leaves its last line cut short: not a finding.
            Err(e) if e.is_eof() && n + 1 == text.lines().count() => {}
            Err(e) => problems.push(format!("{}:{}: {e}", path.display(), n + 1)),
        }
    }
}

/// The responses of a HAR 1.2 log. Entries without a response (status 0: blocked or
/// failed) are left out.
fn from_har(har: &Value) -> Result<Vec<Record>, String> {
    let entries = har["log"]["entries"]
        .as_array()
        .ok_or("not a HAR file: no log.entries")?;
    let mut records = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let request = &entry["request"];
        let response = &entry["response"];
        let (Some(method), Some(url), Some(status)) = (
            request["method"].as_str(),
            request["url"].as_str(),
            response["status"].as_u64(),
        ) else {
            return Err(format!(
                "entry {i}: needs request.method, request.url and response.status"
            ));
        };
        if status == 0 {
            continue;
        }
        let status = u16::try_from(status).map_err(|_| format!("entry {i}: status {status}"))?;
        let path = match reqwest::Url::parse(url) {
            Ok(url) => url.path().to_owned(),
            Err(_) => url.split(['?', '#']).next().unwrap_or_default().to_owned(),
        };
        let header_list: Vec<(String, String)> = response["headers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|h| {
                Some((
                    h["name"].as_str()?.to_ascii_lowercase(),
                    h["value"].as_str().unwrap_or_default().to_owned(),
                ))
            })
            // HTTP/2 pseudo-headers (`:status`) are not headers of the response.
            .filter(|(name, _)| !name.starts_with(':'))
            .collect();
        let mut headers: Vec<String> = header_list.iter().map(|(n, _)| n.clone()).collect();
        headers.sort();
        headers.dedup();
        let content_type = header_list
            .iter()
            .find(|(n, _)| n == "content-type")
            .map(|(_, v)| v.clone())
            .or_else(|| {
                response["content"]["mimeType"]
                    .as_str()
                    .filter(|m| !m.is_empty() && response["content"]["size"].as_i64() != Some(0))
                    .map(str::to_owned)
            });
        records.push(Record {
            method: method.to_ascii_uppercase(),
            path,
            status,
            content_type,
            headers,
        });
    }
    Ok(records)
}

/// The check as the gate runs it: the recordings at `traffic` against every version's
/// committed document in `root/openapi/`.
pub fn check(root: &Path, traffic: &Path) -> (Section, Outcome) {
    let mut unreadable = Vec::new();
    let mut specs = Vec::new();
    for version in docintel_api::versions::VERSIONS {
        let file = format!("openapi/{}.json", version.name);
        match crate::diff::load::spec(&root.join(&file)) {
            Ok(doc) => specs.push(Spec::new(file, doc)),
            Err(e) => unreadable.push(e),
        }
    }
    let (records, problems) = read(&[traffic.to_owned()]);
    unreadable.extend(problems);
    let outcome = judge(&specs, &records, unreadable);
    let section = outcome.section(format!("{} against openapi/*.json", traffic.display()));
    (section, outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_templates_match_whole_segments_and_prefer_literals() {
        let spec = Spec::new(
            "t".into(),
            serde_json::json!({
                "servers": [{"url": "https://api.example.com/api/"}],
                "paths": {
                    "/v2/documents/{id}": {}, "/v2/documents/search": {},
                    "/files/{name}.json": {}
                }
            }),
        );
        assert_eq!(
            spec.template_of("/v2/documents/0192"),
            Some("/v2/documents/{id}")
        );
        assert_eq!(
            spec.template_of("/v2/documents/search"),
            Some("/v2/documents/search")
        );
        assert_eq!(
            spec.template_of("/api/v2/documents/x"),
            Some("/v2/documents/{id}")
        );
        assert_eq!(
            spec.template_of("/files/a.json"),
            Some("/files/{name}.json")
        );
        assert_eq!(spec.template_of("/files/.json"), None);
        assert_eq!(spec.template_of("/v2/documents/"), None);
        assert_eq!(spec.template_of("/v2/documents/a/b"), None);
    }

    #[test]
    fn media_types_match_by_essence_and_wildcards() {
        assert!(media_type_covers("application/json", "application/json"));
        assert!(media_type_covers("text/plain; charset=utf-8", "text/plain"));
        assert!(media_type_covers("image/*", "image/png"));
        assert!(media_type_covers("*/*", "application/pdf"));
        assert!(!media_type_covers(
            "application/json",
            "application/problem+json"
        ));
        assert_eq!(essence("Text/Plain; charset=UTF-8"), "text/plain");
    }
}
