//! The OpenAPI documents: the list of API versions, what every version shares, and the
//! one serialization used both to serve a document and to write it to `openapi/`.

use utoipa::Modify;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{HeaderBuilder, OpenApi, RefOr};
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// One published API version.
pub struct ApiVersion {
    /// File stem under `openapi/` and under `/openapi/` on the server.
    pub name: &'static str,
    pub router: fn() -> OpenApiRouter<AppState>,
}

/// Every version the server serves, newest first.
pub const VERSIONS: &[ApiVersion] = &[ApiVersion {
    name: "v2",
    router: crate::v2::router,
}];

/// The OpenAPI document of `version`, exactly as committed and served.
pub fn document(version: &ApiVersion) -> OpenApi {
    split(version).1
}

/// The version's routes and its document, from the one router that yields both.
pub fn split(version: &ApiVersion) -> (axum::Router<AppState>, OpenApi) {
    let (router, mut doc) = (version.router)().split_for_parts();
    add_request_id_headers(&mut doc);
    (router, doc)
}

/// Pretty JSON with a trailing newline: the bytes of `openapi/<name>.json`.
pub fn to_json(doc: &OpenApi) -> String {
    let mut s = serde_json::to_string_pretty(doc).unwrap_or_else(|e| {
        // Serializing a tree of plain structs and maps cannot fail.
        unreachable!("OpenAPI serialization failed: {e}")
    });
    s.push('\n');
    s
}

pub const SECURITY_SCHEME: &str = "api_key";

/// What every version's document shares: bearer API keys on every operation and the
/// `X-Request-Id` header on every response.
pub struct Common;

impl Modify for Common {
    fn modify(&self, openapi: &mut OpenApi) {
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
    let header = HeaderBuilder::new()
        .schema(Some(
            utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::Type::String),
        ))
        .description(Some(
            "Identifies the request: the client's `X-Request-Id` if it sent one, else generated.",
        ))
        .build();
    for item in doc.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            for response in op.responses.responses.values_mut() {
                if let RefOr::T(r) = response {
                    r.headers
                        .insert("X-Request-Id".to_owned(), RefOr::T(header.clone()));
                }
            }
        }
    }
}
