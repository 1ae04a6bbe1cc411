//! An OpenAPI document's path templates, for finding which one a concrete request path
//! falls under: the broker's and the gate's comparison of pacts, and the gate's check of
//! recorded traffic.

use serde_json::Value;

/// The path templates of one document, with the path prefixes its `servers` give.
pub struct PathTemplates {
    /// Path prefixes from `servers` (e.g. `/api`), longest first.
    prefixes: Vec<String>,
    templates: Vec<Template>,
}

struct Template {
    path: String,
    segments: Vec<String>,
    /// Segments without a `{parameter}`: the more, the more specific.
    literal: usize,
}

impl PathTemplates {
    /// The templates of `doc["paths"]` and the prefixes of `doc["servers"]`; a document
    /// without them has none.
    pub fn new(doc: &Value) -> Self {
        let templates = doc["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(path, _)| {
                let segments: Vec<String> = path.split('/').map(str::to_owned).collect();
                let literal = segments.iter().filter(|s| !s.contains('{')).count();
                Template {
                    path: path.clone(),
                    segments,
                    literal,
                }
            })
            .collect();
        let mut prefixes: Vec<String> = doc["servers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["url"].as_str())
            .filter_map(server_path)
            .collect();
        prefixes.sort_by_key(|p| std::cmp::Reverse(p.len()));
        prefixes.dedup();
        Self {
            prefixes,
            templates,
        }
    }

    /// The path template `path` falls under: the most literal one, as OpenAPI asks
    /// (a `servers` URL's path is a prefix it may carry).
    ///
    /// ```
    /// let doc = serde_json::json!({"paths": {"/v2/documents/{id}": {}}});
    /// let paths = docintel_contract_check::PathTemplates::new(&doc);
    /// assert_eq!(paths.template_of("/v2/documents/0192"), Some("/v2/documents/{id}"));
    /// ```
    pub fn template_of(&self, path: &str) -> Option<&str> {
        let mut candidates = vec![path];
        candidates.extend(
            self.prefixes
                .iter()
                .filter_map(|p| path.strip_prefix(p.as_str()))
                .filter(|rest| rest.starts_with('/')),
        );
        candidates.into_iter().find_map(|path| {
            let segments: Vec<&str> = path.split('/').collect();
            self.templates
                .iter()
                .filter(|t| {
                    t.segments.len() == segments.len()
                        && t.segments
                            .iter()
                            .zip(&segments)
                            .all(|(t, s)| segment_matches(t, s))
                })
                .max_by_key(|t| (t.literal, std::cmp::Reverse(t.path.len())))
                .map(|t| t.path.as_str())
        })
    }
}

/// The path part of a `servers` URL, if it has one worth stripping.
fn server_path(url: &str) -> Option<String> {
    let path = match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
        None => url,
    };
    let path = path.trim_end_matches('/');
    (path.starts_with('/') && !path.contains('{')).then(|| path.to_owned())
}

/// Whether one segment of a path template (`{id}`, `{name}.json`, `documents`) matches
/// one segment of a request path; a parameter matches one or more characters.
pub(crate) fn segment_matches(template: &str, segment: &str) -> bool {
    match template.find('{') {
        None => template == segment,
        Some(open) => {
            let Some(rest) = segment.strip_prefix(&template[..open]) else {
                return false;
            };
            let Some(close) = template[open..].find('}') else {
                return template == segment;
            };
            let after = &template[open + close + 1..];
            if !after.contains('{') {
                // The usual case, in one step: the parameter is what precedes the suffix.
                return rest.len() > after.len() && rest.ends_with(after);
            }
            (1..=rest.len())
                .filter(|&n| rest.is_char_boundary(n))
                .any(|n| segment_matches(after, &rest[n..]))
        }
    }
}

/// The media type of a `Content-Type` value: no parameters, lowercase.
///
/// ```
/// assert_eq!(docintel_contract_check::essence("Application/JSON; charset=utf-8"), "application/json");
/// ```
pub fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}
