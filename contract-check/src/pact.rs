//! Reading pacts of specification V1–V4: their HTTP interactions, whatever the version
//! spells them as (V4 bodies wrapped as `{content, contentType, encoded}`, V2 query
//! strings, V2 flat `$.body…` matching rules, V3/V4 rules by category).

use serde_json::Value;

use crate::PactError;

/// One HTTP interaction, normalised.
pub(crate) struct Http {
    pub description: String,
    pub request: Side,
    pub query: Vec<(String, String)>,
    pub method: String,
    pub path: String,
    pub status: Option<u64>,
    pub response: Side,
}

/// A request or a response: headers, body and the body's matching rules.
pub(crate) struct Side {
    headers: Vec<(String, String)>,
    pub body: Body,
    /// Body matching rules that let the example stand for any value of its type.
    pub loose: Vec<Vec<Segment>>,
}

/// A body as the pact gives it.
pub(crate) enum Body {
    None,
    /// JSON, with the content type it was declared with (if any).
    Json(Value, Option<String>),
    /// Anything else (text, base64 bytes): only its media type is compared.
    Other(Option<String>),
}

/// One step of a matching rule's path (`$.items[*].id`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Segment {
    Field(String),
    Index(usize),
    Any,
}

/// What a pact holds: its HTTP interactions and how many message interactions it has
/// (not compared: messages have no OpenAPI operation).
pub(crate) struct Read {
    pub http: Vec<Http>,
    pub messages: usize,
}

pub(crate) fn read(pact: &Value) -> Result<Read, PactError> {
    if !pact.is_object() {
        return Err(PactError("a pact is a JSON object".into()));
    }
    let major = spec_major(pact);
    let messages = pact["messages"].as_array().map_or(0, Vec::len);
    let interactions = match &pact["interactions"] {
        Value::Array(a) => a.as_slice(),
        Value::Null if messages > 0 => &[],
        _ => return Err(PactError("the pact has no `interactions` array".into())),
    };
    let mut read = Read {
        http: Vec::new(),
        messages,
    };
    for (i, interaction) in interactions.iter().enumerate() {
        let kind = interaction["type"].as_str();
        if kind.is_some_and(|k| k != "Synchronous/HTTP") || !interaction["request"].is_object() {
            read.messages += 1;
            continue;
        }
        let description = interaction["description"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("interaction {i}"));
        let request = &interaction["request"];
        let response = &interaction["response"];
        read.http.push(Http {
            description,
            method: request["method"]
                .as_str()
                .unwrap_or("GET")
                .to_ascii_uppercase(),
            path: request["path"].as_str().unwrap_or("/").to_owned(),
            query: query(&request["query"]),
            status: response["status"].as_u64(),
            request: side(request, major),
            response: side(response, major),
        });
    }
    Ok(read)
}

/// The pact specification's major version (2 when the pact does not say).
fn spec_major(pact: &Value) -> u64 {
    let m = &pact["metadata"];
    [
        &m["pactSpecification"]["version"],
        &m["pact-specification"]["version"],
        &m["pactSpecificationVersion"],
    ]
    .into_iter()
    .find_map(Value::as_str)
    .and_then(|v| v.split('.').next()?.parse().ok())
    .unwrap_or(2)
}

fn query(q: &Value) -> Vec<(String, String)> {
    match q {
        Value::String(s) => form_urlencoded::parse(s.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        Value::Object(map) => map
            .iter()
            .flat_map(|(k, v)| match v {
                Value::Array(vs) => vs
                    .iter()
                    .map(|v| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect(),
                v => vec![(k.clone(), v.as_str().unwrap_or_default().to_owned())],
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn side(part: &Value, major: u64) -> Side {
    let headers: Vec<(String, String)> = part["headers"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let value = match v {
                Value::Array(vs) => vs
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
                v => v.as_str().unwrap_or_default().to_owned(),
            };
            (k.to_ascii_lowercase(), value)
        })
        .collect();
    let declared = headers
        .iter()
        .find(|(k, _)| k == "content-type")
        .map(|(_, v)| v.clone());
    let body = match part.get("body") {
        None | Some(Value::Null) => Body::None,
        // V4: `{content, contentType, encoded}`.
        Some(Value::Object(b)) if major >= 4 && b.contains_key("content") => {
            // The header is what travels; the body's own type is Pact's bookkeeping.
            let content_type = declared.or_else(|| {
                b.get("contentType")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            });
            let encoded = b
                .get("encoded")
                .is_some_and(|e| e.as_bool() == Some(true) || e.is_string());
            match (&b["content"], encoded) {
                (_, true) => Body::Other(content_type),
                (Value::String(_), false) if !is_json(content_type.as_deref()) => {
                    Body::Other(content_type)
                }
                (Value::String(s), false) => match serde_json::from_str(s) {
                    Ok(v) => Body::Json(v, content_type),
                    Err(_) => Body::Other(content_type),
                },
                (v, false) => Body::Json(v.clone(), content_type),
            }
        }
        Some(Value::String(_)) if !is_json(declared.as_deref()) => Body::Other(declared),
        Some(v) => Body::Json(v.clone(), declared),
    };
    Side {
        headers,
        body,
        loose: loose_rules(&part["matchingRules"], major),
    }
}

impl Side {
    /// A header's value (names compare case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Whether a media type is JSON (`application/json`, `application/problem+json`…); no
/// content type counts as JSON, as Pact assumes for a JSON body.
pub(crate) fn is_json(content_type: Option<&str>) -> bool {
    content_type.is_none_or(|t| {
        let essence = crate::paths::essence(t);
        essence == "application/json" || essence.ends_with("+json")
    })
}

/// The body rules whose matchers make the example stand for any value of its type:
/// `type` (with or without min/max), and the other type-level matchers.
fn loose_rules(rules: &Value, major: u64) -> Vec<Vec<Segment>> {
    const LOOSE: [&str; 6] = ["type", "number", "integer", "decimal", "boolean", "values"];
    let is_loose = |matcher: &Value| {
        matcher["match"]
            .as_str()
            .is_some_and(|m| LOOSE.contains(&m))
            || (matcher.get("match").is_none()
                && (matcher.get("min").is_some() || matcher.get("max").is_some()))
    };
    let mut out = Vec::new();
    let (entries, prefix): (Option<&serde_json::Map<String, Value>>, &str) = if major >= 3 {
        (rules["body"].as_object(), "$")
    } else {
        (rules.as_object(), "$.body")
    };
    for (path, rule) in entries.into_iter().flatten() {
        let Some(rest) = path.strip_prefix(prefix) else {
            continue;
        };
        let loose = match rule["matchers"].as_array() {
            Some(ms) => ms.iter().any(is_loose),
            None => is_loose(rule),
        };
        if loose && let Some(segments) = parse_path(rest) {
            out.push(segments);
        }
    }
    out
}

/// `.items[*].id`, `['a b'][0].*` → segments; `None` for what it cannot read.
pub(crate) fn parse_path(mut rest: &str) -> Option<Vec<Segment>> {
    let mut out = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let name = &r[..end];
            out.push(if name == "*" {
                Segment::Any
            } else {
                Segment::Field(name.to_owned())
            });
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            let inner = &r[..end];
            out.push(if inner == "*" {
                Segment::Any
            } else if let Ok(n) = inner.parse() {
                Segment::Index(n)
            } else {
                Segment::Field(inner.trim_matches(['\'', '"']).to_owned())
            });
            rest = &r[end + 1..];
        } else {
            return None;
        }
    }
    Some(out)
}

/// Whether a rule covers the value at `tokens` (a JSON pointer's), itself or through an
/// ancestor: Pact's type matching cascades to what the matched value holds.
pub(crate) fn covers(rule: &[Segment], tokens: &[String]) -> bool {
    rule.len() <= tokens.len()
        && rule.iter().zip(tokens).all(|(s, t)| match s {
            Segment::Any => true,
            Segment::Field(f) => f == t,
            Segment::Index(n) => t.parse::<usize>().is_ok_and(|i| i == *n),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_paths_read_as_pact_writes_them() {
        assert_eq!(
            parse_path(".items[*].classification.confidence").unwrap(),
            vec![
                Segment::Field("items".into()),
                Segment::Any,
                Segment::Field("classification".into()),
                Segment::Field("confidence".into())
            ]
        );
        assert_eq!(
            parse_path("['a b'][0].*").unwrap(),
            vec![
                Segment::Field("a b".into()),
                Segment::Index(0),
                Segment::Any
            ]
        );
        assert!(parse_path("items").is_none());
        let rule = parse_path(".items").unwrap();
        assert!(covers(&rule, &["items".into(), "0".into(), "id".into()]));
        assert!(!covers(&rule, &["next_page".into()]));
        let rule = parse_path(".items[1]").unwrap();
        assert!(!covers(&rule, &["items".into(), "0".into()]));
    }
}
