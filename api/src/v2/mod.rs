//! API version 2, the current one. Each resource module exports its router; this module
//! nests them and describes the version for its OpenAPI document.

pub mod documents;
pub mod idempotency;
pub mod views;
pub mod webhooks;

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::openapi::Common;
use crate::state::AppState;

/// Where this version is mounted; paths inside it never repeat it.
pub const PREFIX: &str = "/v2";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "docintel API",
        version = "2.0.0",
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
    components(schemas(webhooks::WebhookEvent)),
    modifiers(&Common),
)]
struct V2Doc;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(V2Doc::openapi())
        .nest(PREFIX, documents::router().merge(webhooks::router()))
}
