//! Bi-directional contract checking: does a consumer's pact ask only for what a
//! provider's OpenAPI document promises? Written once, for the governance gate (committed
//! pacts against `openapi/*.json`) and the embedded Pact Broker (published pacts against
//! the provider's published document).
//!
//! For each HTTP interaction of a pact (specification V1–V4; message interactions have
//! no OpenAPI operation and are only counted):
//! - its method and path (matched against the path templates) are an operation;
//! - its response status is documented for the operation (exactly, as `2XX`, or by
//!   `default`);
//! - its response body's media type is documented, and a JSON body validates against
//!   the schema (JSON Schema 2020-12, `$ref`s resolved), with `required` ignored (the
//!   pact asks only for what the consumer reads);
//! - every response field the pact expects is declared by the schema: a schema that lists
//!   `properties` without `additionalProperties` (or with it `false`) declares only those
//!   (“the pact expects `items[].department`, which GET /v2/documents's 200 does not
//!   document”);
//! - its request body is documented and validates against the request schema (in full);
//! - the header and query parameters the operation requires are sent.
//!
//! Pact matchers: the pact's bodies are examples; where a type matcher (`like`,
//! `eachLike`, …) covers a value, the value stands for any value of its type, so value
//! constraints (enum, pattern, format, bounds, array sizes) do not apply to it — its type
//! and its fields still do.
//!
//! Cost: reading the pact and walking its bodies is linear in their size; validators are
//! compiled once per schema per comparison; at most [`MAX_MISMATCHES`] are reported per
//! interaction.

mod openapi;
mod pact;
mod paths;
mod schema;

use std::collections::HashMap;
use std::fmt;

use serde_json::Value;

pub use openapi::Document;
pub use paths::{PathTemplates, essence};

use openapi::{Found, Operation, media_type};
use pact::{Body, Http};

/// The most mismatches reported for one interaction: enough to act on.
pub const MAX_MISMATCHES: usize = 20;

/// A document that cannot be compared against.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unusable OpenAPI document: {0}")]
pub struct DocumentError(pub String);

/// A pact that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unreadable pact: {0}")]
pub struct PactError(pub String);

/// One way an interaction asks for what the document does not promise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The interaction's description.
    pub interaction: String,
    /// `GET /v2/documents/{id}`, or the method and path when no operation matched.
    pub operation: String,
    pub kind: Kind,
    /// What is wrong, naming the operation.
    pub message: String,
}

/// What kind of mismatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// No path template matches.
    Path,
    /// The path is documented, not with this method.
    Method,
    /// The response status is not documented.
    Status,
    /// A body's media type is not documented, or a body where none is documented.
    MediaType,
    /// A response body does not validate against its schema.
    ResponseBody,
    /// A response field the schema does not declare.
    UndeclaredField,
    /// A request body does not validate against its schema, or is missing.
    RequestBody,
    /// A required header or query parameter is not sent.
    Parameter,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "interaction \"{}\": {}", self.interaction, self.message)
    }
}

/// What comparing one pact found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    /// HTTP interactions compared.
    pub compared: usize,
    /// Message interactions, not compared (no OpenAPI operation describes them).
    pub messages: usize,
    pub mismatches: Vec<Mismatch>,
}

impl Comparison {
    pub fn success(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// Compares every HTTP interaction of `pact` with `documents`: each interaction against
/// the first document with a path template matching its path (how `/v1/…` and `/v2/…`
/// find their own document).
pub fn compare(pact: &Value, documents: &[&Document]) -> Result<Comparison, PactError> {
    let read = pact::read(pact)?;
    let mut validators = schema::Validators::default();
    let mut out = Comparison {
        compared: read.http.len(),
        messages: read.messages,
        mismatches: Vec::new(),
    };
    for http in &read.http {
        let path = http.path.split('?').next().unwrap_or_default();
        let document = documents
            .iter()
            .find(|d| d.has_path(path))
            .or(documents.first());
        let mut found = Vec::new();
        match document {
            Some(d) => interaction(d, http, &mut validators, &mut found),
            None => found.push((
                Kind::Path,
                format!("{} {}", http.method, http.path),
                "there is no OpenAPI document to compare with".to_owned(),
            )),
        }
        found.dedup();
        out.mismatches
            .extend(
                found
                    .into_iter()
                    .take(MAX_MISMATCHES)
                    .map(|(kind, operation, message)| Mismatch {
                        interaction: http.description.clone(),
                        operation,
                        kind,
                        message,
                    }),
            );
    }
    Ok(out)
}

/// What one interaction was found to ask for: (kind, operation, message).
type Findings = Vec<(Kind, String, String)>;

fn interaction(
    doc: &Document,
    http: &Http,
    validators: &mut schema::Validators,
    out: &mut Findings,
) {
    let op = match doc.find(&http.method, &http.path) {
        Found::Operation(op) => op,
        Found::NoPath => {
            out.push((
                Kind::Path,
                format!("{} {}", http.method, http.path),
                format!(
                    "{} {} matches no path of the OpenAPI document",
                    http.method, http.path
                ),
            ));
            return;
        }
        Found::NoMethod { template } => {
            out.push((
                Kind::Method,
                format!("{} {template}", http.method),
                format!(
                    "{template} is documented, but not with method {}",
                    http.method
                ),
            ));
            return;
        }
    };
    parameters(doc, &op, http, out);
    request_body(doc, &op, http, validators, out);
    response(doc, &op, http, validators, out);
}

/// The header and query parameters the operation requires are sent.
fn parameters(doc: &Document, op: &Operation, http: &Http, out: &mut Findings) {
    let mut params: HashMap<(String, String), &Value> = HashMap::new();
    for list in [op.path_parameters, &op.value["parameters"]] {
        for p in list.as_array().into_iter().flatten() {
            let p = doc.resolve(p);
            let (Some(name), Some(place)) = (p["name"].as_str(), p["in"].as_str()) else {
                continue;
            };
            let name = if place == "header" {
                name.to_ascii_lowercase()
            } else {
                name.to_owned()
            };
            params.insert((place.to_owned(), name), p);
        }
    }
    let mut missing: Vec<String> = params
        .iter()
        .filter(|(_, p)| p["required"] == Value::Bool(true))
        .filter_map(|((place, name), _)| {
            let sent = match place.as_str() {
                "header" => http.request.header(name).is_some(),
                "query" => http.query.iter().any(|(k, _)| k == name),
                _ => true,
            };
            (!sent).then(|| format!("{place} parameter `{name}`"))
        })
        .collect();
    missing.sort();
    for m in missing {
        out.push((
            Kind::Parameter,
            op.name.clone(),
            format!("{} requires the {m}, which the pact does not send", op.name),
        ));
    }
}

fn request_body(
    doc: &Document,
    op: &Operation,
    http: &Http,
    validators: &mut schema::Validators,
    out: &mut Findings,
) {
    let documented = doc.resolve(&op.value["requestBody"]);
    let content_type = match &http.request.body {
        Body::None => {
            if documented["required"] == Value::Bool(true) {
                out.push((
                    Kind::RequestBody,
                    op.name.clone(),
                    format!(
                        "{} requires a request body, which the pact does not send",
                        op.name
                    ),
                ));
            }
            return;
        }
        Body::Json(_, t) | Body::Other(t) => t.clone().unwrap_or("application/json".into()),
    };
    let Some(content) = documented["content"].as_object() else {
        out.push((
            Kind::MediaType,
            op.name.clone(),
            format!(
                "the pact sends a request body, which {} does not document",
                op.name
            ),
        ));
        return;
    };
    let Some(key) = media_type(content, &content_type) else {
        out.push((
            Kind::MediaType,
            op.name.clone(),
            format!(
                "the pact sends a request body of media type {content_type}, which {} does not document (it takes {})",
                op.name,
                content.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        ));
        return;
    };
    let Body::Json(body, _) = &http.request.body else {
        return;
    };
    if content[key].get("schema").is_none() || !pact::is_json(Some(key)) {
        return;
    }
    let pointer = format!(
        "{}/content/{}/schema",
        request_body_pointer(op),
        openapi::escape(key)
    );
    for e in validators.errors(doc, false, &pointer, body, &http.request.loose) {
        out.push((
            Kind::RequestBody,
            op.name.clone(),
            format!(
                "the pact's request body does not fit {}'s request schema: {e}",
                op.name
            ),
        ));
    }
}

/// Where the request body object is: the operation's own, or what its `$ref` names.
fn request_body_pointer(op: &Operation) -> String {
    match op.value["requestBody"]["$ref"].as_str() {
        Some(r) => r.strip_prefix('#').unwrap_or_default().to_owned(),
        None => format!("{}/requestBody", op.pointer),
    }
}

fn response(
    doc: &Document,
    op: &Operation,
    http: &Http,
    validators: &mut schema::Validators,
    out: &mut Findings,
) {
    let Some(status) = http.status else {
        return;
    };
    let responses = &op.value["responses"];
    let code = status.to_string();
    let range = format!("{}XX", status / 100);
    let key = [code.as_str(), range.as_str(), "default"]
        .into_iter()
        .find(|k| {
            responses.get(*k).is_some() || responses.get(k.to_ascii_lowercase().as_str()).is_some()
        });
    let Some(key) = key else {
        let mut documented: Vec<&str> = responses
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k.as_str())
            .collect();
        documented.sort();
        out.push((
            Kind::Status,
            op.name.clone(),
            format!(
                "the pact expects status {status}, which {} does not document (it documents {})",
                op.name,
                documented.join(", ")
            ),
        ));
        return;
    };
    let key = if responses.get(key).is_some() {
        key.to_owned()
    } else {
        key.to_ascii_lowercase()
    };
    let what = format!("{}'s {status}", op.name);
    let documented = doc.resolve(&responses[&key]);
    let content_type = match &http.response.body {
        Body::None => return,
        Body::Json(_, t) | Body::Other(t) => t.clone().unwrap_or("application/json".into()),
    };
    let Some(content) = documented["content"].as_object().filter(|c| !c.is_empty()) else {
        out.push((
            Kind::MediaType,
            op.name.clone(),
            format!("the pact expects a body, which {what} does not document"),
        ));
        return;
    };
    let Some(media) = media_type(content, &content_type) else {
        out.push((
            Kind::MediaType,
            op.name.clone(),
            format!(
                "the pact expects a body of media type {content_type}, which {what} does not document (it documents {})",
                content.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        ));
        return;
    };
    let Body::Json(body, _) = &http.response.body else {
        return;
    };
    let Some(schema_value) = content[media].get("schema") else {
        return;
    };
    if !pact::is_json(Some(media)) {
        return;
    }
    // The response object may be a `$ref` to components/responses: point where it is.
    let base = match responses[&key]["$ref"].as_str() {
        Some(r) => r.strip_prefix('#').unwrap_or_default().to_owned(),
        None => format!("{}/responses/{}", op.pointer, openapi::escape(&key)),
    };
    let pointer = format!("{base}/content/{}/schema", openapi::escape(media));
    for e in validators.errors(doc, true, &pointer, body, &http.response.loose) {
        out.push((
            Kind::ResponseBody,
            op.name.clone(),
            format!("the pact's {what} body does not fit its schema: {e}"),
        ));
    }
    for field in schema::undeclared(doc, schema_value, body) {
        out.push((
            Kind::UndeclaredField,
            op.name.clone(),
            format!("the pact expects `{field}`, which {what} does not document"),
        ));
    }
}
