//! API version 1, deprecated: the legacy shapes as an adapter over the shared document
//! views. Its dates live in [`crate::versions::V1`].

pub mod documents;
pub mod views;

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::openapi::common::Common;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "docintel API (legacy v1)",
        description = "Deprecated: use v2. Every response carries `Deprecation`, `Sunset` and \
                       `Link` headers; after the sunset every route answers 410 Gone. \
                       See /deprecations.md for the calendar and the v1→v2 mapping.",
        license(name = "Apache-2.0"),
        contact(name = "docintel", url = "https://github.com/docintel/docintel"),
    ),
    servers((url = "/", description = "The server this document is served by.")),
    tags((name = "documents", description = "Legacy document routes.")),
    components(schemas(crate::error::Problem, views::LegacyError)),
    modifiers(&Common),
)]
struct V1Doc;

/// The version's description; its paths come from [`routes`].
pub fn doc() -> utoipa::openapi::OpenApi {
    V1Doc::openapi()
}

/// Every resource's routes, relative to the version's prefix.
pub fn routes() -> OpenApiRouter<AppState> {
    documents::router()
}
