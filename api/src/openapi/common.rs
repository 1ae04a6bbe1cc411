//! What every version's OpenAPI document shares (security, the `X-Request-Id` header) and
//! the small helpers that edit a document; below the versions, which use it.

use utoipa::Modify;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Header, HeaderBuilder, HttpMethod, OpenApi, RefOr};

pub const SECURITY_SCHEME: &str = "api_key";

/// What every version's document shares: bearer API keys on every operation and the
/// `X-Request-Id` header on every response.
pub struct Common;

impl Modify for Common {
    fn modify(&self, openapi: &mut OpenApi) {
        // Every server serves the API to its clients: none is internal-only.
        for server in openapi.servers.iter_mut().flatten() {
            let mut ext = Extensions::default();
            ext.insert("x-internal".to_owned(), false.into());
            server
                .extensions
                .get_or_insert_with(Default::default)
                .merge(ext);
        }
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            SECURITY_SCHEME,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key: `Authorization: Bearer dik_…`."))
                    .build(),
            ),
        );
        openapi.security = Some(vec![SecurityRequirement::new(
            SECURITY_SCHEME,
            Vec::<String>::new(),
        )]);
    }
}

/// Adds the `X-Request-Id` response header to every response of `doc`. Runs on the
/// assembled document (route modifiers run before the routes are added).
pub fn add_request_id_headers(doc: &mut OpenApi) {
    let header = string_header(
        "Identifies the request: the client's `X-Request-Id` if it sent one, else generated.",
    );
    for (_, _, op) in operations(doc) {
        for response in op.responses.responses.values_mut() {
            if let RefOr::T(r) = response {
                r.headers.insert("X-Request-Id".to_owned(), header.clone());
            }
        }
    }
}

pub(crate) fn operations(
    doc: &mut OpenApi,
) -> impl Iterator<Item = (&String, HttpMethod, &mut Operation)> {
    doc.paths.paths.iter_mut().flat_map(|(path, item)| {
        [
            (HttpMethod::Get, &mut item.get),
            (HttpMethod::Post, &mut item.post),
            (HttpMethod::Put, &mut item.put),
            (HttpMethod::Delete, &mut item.delete),
            (HttpMethod::Patch, &mut item.patch),
        ]
        .into_iter()
        .filter_map(move |(method, op)| op.as_mut().map(|op| (path, method, op)))
    })
}

pub(crate) fn string_header(description: &str) -> RefOr<Header> {
    RefOr::T(
        HeaderBuilder::new()
            .schema(Some(
                utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::Type::String),
            ))
            .description(Some(description))
            .build(),
    )
}
