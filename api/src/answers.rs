//! Every answer an operation gives that its handler does not describe: its problem
//! responses, built from the error catalogue ([`crate::problems`]) and the operation's
//! `x-problem-codes`, and the headers the request middleware sets on every response
//! (rate limits, `Retry-After`, `WWW-Authenticate`). Handlers describe their successes;
//! what can go wrong is derived here from the same tables the server answers from, so
//! the document cannot forget a status the server sends.

use std::collections::BTreeMap;

use serde_json::json;
use utoipa::openapi::path::Operation;
use utoipa::openapi::{
    ContentBuilder, HttpMethod, OpenApi, Ref, RefOr, Response, ResponseBuilder,
    example::ExampleBuilder,
};

use crate::openapi::common::{operations, string_header};
use crate::problems::{ErrorCode, Scope};
use crate::versions::ApiVersion;

/// The operation extension listing the codes its own handling can answer with.
pub const PROBLEM_CODES: &str = "x-problem-codes";

/// The request id every example problem carries.
pub const EXAMPLE_REQUEST_ID: &str = "0192f0c4-6a10-7c3e-8a45-0f4d5b6c7d8e";
/// The id example paths and bodies use.
pub const EXAMPLE_ID: &str = "0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11";

/// Adds every operation's problem responses and the shared headers to `doc`.
///
/// Panics when an operation lists a code the catalogue does not have: the document is
/// built when the server starts, and every test builds it.
pub fn document(doc: &mut OpenApi, version: &ApiVersion) {
    describe_codes(doc);
    for (path, method, op) in operations(doc) {
        operation(path, &method, op, version);
    }
}

/// The `ErrorCode` schema with each code's status and meaning, for readers and for
/// generators that name enum values (`x-enum-descriptions`).
fn describe_codes(doc: &mut OpenApi) {
    let Some(RefOr::T(utoipa::openapi::Schema::Object(schema))) = doc
        .components
        .as_mut()
        .and_then(|c| c.schemas.get_mut("ErrorCode"))
    else {
        return;
    };
    let rows: Vec<String> = ErrorCode::ALL
        .iter()
        .map(|c| format!("| `{c}` | {} | {} |", c.status().as_u16(), c.meaning()))
        .collect();
    let intro = schema.description.take().unwrap_or_default();
    schema.description = Some(format!(
        "{intro} Each code has one status; `{}/{{code}}` explains it.\n\n\
         | code | status | meaning |\n|---|---|---|\n{}",
        crate::problems::PATH,
        rows.join("\n")
    ));
    let meanings: Vec<serde_json::Value> =
        ErrorCode::ALL.iter().map(|c| json!(c.meaning())).collect();
    let mut ext = utoipa::openapi::extensions::Extensions::default();
    ext.insert("x-enum-descriptions".to_owned(), json!(meanings));
    schema
        .extensions
        .get_or_insert_with(Default::default)
        .merge(ext);
}

/// The codes `op` can answer with: its own, and those of every request it is.
fn codes(method: &HttpMethod, op: &Operation, version: &ApiVersion) -> Vec<ErrorCode> {
    let own: Vec<ErrorCode> = op
        .extensions
        .as_ref()
        .and_then(|e| e.get(PROBLEM_CODES))
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .map(|v| {
            let name = v.as_str().unwrap_or_default();
            ErrorCode::parse(name).unwrap_or_else(|| {
                panic!(
                    "{PROBLEM_CODES} of {:?} names an unknown code {name:?}",
                    op.operation_id
                )
            })
        })
        .collect();
    let authenticated = op.security.as_ref().is_none_or(|s| !s.is_empty());
    ErrorCode::ALL
        .iter()
        .copied()
        .filter(|code| match code.scope() {
            Scope::Operation => own.contains(code),
            Scope::Authenticated => authenticated,
            Scope::Connection | Scope::Any => true,
            Scope::Writes => !matches!(method, HttpMethod::Get),
            Scope::Body => op.request_body.is_some(),
            Scope::Retired => version.retirement.is_some(),
            Scope::Router => false,
        })
        .collect()
}

/// How a version renders a code's problem: v2 (and the connection layer, and a retired
/// version's 410) as RFC 9457 documents; v1's own errors in its legacy shape.
fn legacy_shape(code: ErrorCode, version: &ApiVersion) -> bool {
    version.retirement.is_some() && !matches!(code.scope(), Scope::Connection | Scope::Retired)
}

fn operation(path: &str, method: &HttpMethod, op: &mut Operation, version: &ApiVersion) {
    let mut by_status: BTreeMap<u16, Vec<ErrorCode>> = BTreeMap::new();
    for code in codes(method, op, version) {
        by_status
            .entry(code.status().as_u16())
            .or_default()
            .push(code);
    }
    let instance = path.replace("{id}", EXAMPLE_ID);
    for (status, codes) in by_status {
        let written = match op.responses.responses.get(&status.to_string()) {
            Some(RefOr::T(r)) => Some(r.description.clone()),
            _ => None,
        };
        let response = problem_response(&codes, written, &instance, version);
        op.responses
            .responses
            .insert(status.to_string(), RefOr::T(response));
    }
    // What the rate limiter decided, on every answer it decided for.
    for response in op.responses.responses.values_mut() {
        if let RefOr::T(r) = response {
            r.headers.insert(
                "RateLimit".to_owned(),
                string_header(
                    "The budget left (draft-ietf-httpapi-ratelimit-headers): \
                     `\"<policy>\";r=<remaining>;t=<seconds until it refills>`. Absent when \
                     the server does not limit the request.",
                ),
            );
            r.headers.insert(
                "RateLimit-Policy".to_owned(),
                string_header(
                    "The budget the request was counted against: \
                     `\"<policy>\";q=<requests>;w=<window seconds>`; `default` is the API \
                     key's, `address` the client address's.",
                ),
            );
        }
    }
}

/// The longest value of each header the documents declare: what the server writes is
/// bounded, and saying so lets clients and proxies size their buffers.
const HEADER_MAX_LENGTH: &[(&str, usize)] = &[
    ("X-Request-Id", 128),
    ("RateLimit", 128),
    ("RateLimit-Policy", 128),
    ("WWW-Authenticate", 64),
    ("Location", 2048),
    ("Idempotent-Replayed", 4),
    ("Deprecation", 32),
    ("Sunset", 64),
    ("Link", 512),
];

/// Sets `maxLength` on every string header of `doc` from [`HEADER_MAX_LENGTH`].
///
/// Panics on a header the table does not have: the document is built at start-up and
/// by every test.
pub fn bound_headers(doc: &mut OpenApi) {
    use utoipa::openapi::schema::{Object, Schema, Type};
    for (_, _, op) in operations(doc) {
        for response in op.responses.responses.values_mut() {
            let RefOr::T(r) = response else { continue };
            for (name, header) in r.headers.iter_mut() {
                let RefOr::T(header) = header else { continue };
                let Some(RefOr::T(Schema::Object(Object {
                    schema_type,
                    max_length,
                    ..
                }))) = &mut header.schema
                else {
                    continue;
                };
                if *schema_type != Type::String.into() {
                    continue;
                }
                let bound = HEADER_MAX_LENGTH
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, max)| *max)
                    .unwrap_or_else(|| panic!("no maximum length for the header {name}"));
                *max_length = Some(bound);
            }
        }
    }
}

/// The 431 hyper answers, before the request reaches the server's code: no body and
/// none of the headers the middleware sets.
pub fn headers_too_large(doc: &mut OpenApi) {
    for (_, _, op) in operations(doc) {
        op.responses.responses.insert(
            "431".to_owned(),
            RefOr::T(
                ResponseBuilder::new()
                    .description(
                        "The request's header section is larger than the server reads (about \
                         400 KiB); the answer has no body and the connection is closed.",
                    )
                    .build(),
            ),
        );
    }
}

fn problem_response(
    codes: &[ErrorCode],
    written: Option<String>,
    instance: &str,
    version: &ApiVersion,
) -> Response {
    let listed: Vec<String> = codes
        .iter()
        .map(|c| format!("- `{c}`: {}", c.meaning()))
        .collect();
    let description = match written {
        Some(d) if !d.is_empty() => format!("{d}\n\n{}", listed.join("\n")),
        _ => listed.join("\n"),
    };
    let mut builder = ResponseBuilder::new().description(description);
    let (legacy, problems): (Vec<ErrorCode>, Vec<ErrorCode>) =
        codes.iter().partition(|c| legacy_shape(**c, version));
    if !problems.is_empty() {
        let mut content =
            ContentBuilder::new().schema(Some(RefOr::Ref(Ref::from_schema_name("Problem"))));
        for code in &problems {
            content = content.examples_from_iter([(
                code.as_str(),
                ExampleBuilder::new()
                    .summary(code.as_str())
                    .value(Some(example_problem(*code, instance))),
            )]);
        }
        builder = builder.content(crate::error::PROBLEM_JSON, content.build());
    }
    if !legacy.is_empty() {
        let mut content =
            ContentBuilder::new().schema(Some(RefOr::Ref(Ref::from_schema_name("LegacyError"))));
        for code in &legacy {
            content = content.examples_from_iter([(
                code.as_str(),
                ExampleBuilder::new()
                    .summary(code.as_str())
                    .value(Some(json!({ "error": code.meaning() }))),
            )]);
        }
        builder = builder.content("application/json", content.build());
    }
    if codes.iter().any(|c| c.retry_after()) {
        builder = builder.header(
            "Retry-After",
            utoipa::openapi::HeaderBuilder::new()
                .schema(Some(
                    utoipa::openapi::ObjectBuilder::new()
                        .schema_type(utoipa::openapi::Type::Integer)
                        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                            utoipa::openapi::KnownFormat::Int32,
                        )))
                        .minimum(Some(0))
                        .maximum(Some(86_400)),
                ))
                .description(Some("Seconds to wait before sending the request again."))
                .build(),
        );
    }
    if codes.contains(&ErrorCode::Unauthorized) {
        builder = builder.header(
            "WWW-Authenticate",
            utoipa::openapi::HeaderBuilder::new()
                .schema(Some(
                    utoipa::openapi::ObjectBuilder::new()
                        .schema_type(utoipa::openapi::Type::String)
                        .examples([json!("Bearer realm=\"docintel\"")]),
                ))
                .description(Some("How to authenticate: `Bearer realm=\"docintel\"`."))
                .build(),
        );
    }
    builder.build()
}

/// A problem with `code`, as the server renders it for a request to `instance`.
pub fn example_problem(code: ErrorCode, instance: &str) -> serde_json::Value {
    let mut problem = json!({
        "type": code.type_uri(),
        "title": code.title(),
        "status": code.status().as_u16(),
        "detail": code.meaning(),
        "instance": instance,
        "code": code.as_str(),
        "request_id": EXAMPLE_REQUEST_ID,
    });
    if code == ErrorCode::QuotaExceeded {
        problem["usage"] = json!(crate::v2::usage::UsageView {
            documents: 100_000,
            ..crate::v2::usage::UsageView::example()
        });
    }
    problem
}
