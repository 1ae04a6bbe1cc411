//! API version 2, the current one. Each resource module exports its router; this module
//! nests them and describes the version for its OpenAPI document.

pub mod documents;
pub mod webhooks;

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::openapi::Common;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "docintel API",
        description = "Upload documents; docintel stores them, extracts their text and metadata, \
                       and classifies them. Every request needs `Authorization: Bearer <API key>`. \
                       Errors are RFC 9457 problem documents; every response carries `X-Request-Id`.",
        license(name = "Apache-2.0"),
        contact(name = "docintel", url = "https://github.com/docintel/docintel"),
    ),
    servers((url = "/", description = "The server this document is served by.")),
    tags(
        (name = "documents", description = "Upload, read, list and delete documents."),
        (name = "webhooks", description = "Subscribe to document events: signed deliveries, \
                                           retried with backoff, with a delivery log."),
    ),
    components(schemas(crate::views::WebhookEvent)),
    modifiers(&Common),
)]
struct V2Doc;

/// The version's description; its paths come from [`routes`].
pub fn doc() -> utoipa::openapi::OpenApi {
    V2Doc::openapi()
}

/// Every resource's routes, relative to the version's prefix.
pub fn routes() -> OpenApiRouter<AppState> {
    documents::router().merge(webhooks::router())
}
