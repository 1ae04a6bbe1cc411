//! API version 2, the current one. Each resource module exports its router; this module
//! nests them and describes the version for its OpenAPI document.

pub mod audit;
pub mod documents;
pub mod keys;
pub mod layout;
pub mod usage;
pub mod webhooks;

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::openapi::common::Common;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "docintel API",
        description = "Upload documents; docintel stores them, extracts their text and metadata, \
                       and classifies them. Every request needs `Authorization: Bearer <API key>`. \
                       Errors are RFC 9457 problem documents whose `code` is explained at \
                       `/problems/{code}` (all of them: `/problems`); every response carries \
                       `X-Request-Id`. A method a route does not have answers 405 \
                       `method_not_allowed`. Deliveries to your endpoints are under `webhooks`.",
        license(name = "Apache-2.0"),
        contact(name = "docintel", url = "https://github.com/docintel/docintel"),
    ),
    servers((url = "/", description = "The server this document is served by.")),
    tags(
        (name = "documents", description = "Upload, read, list and delete documents."),
        (name = "webhooks", description = "Subscribe to document events: signed deliveries, \
                                           retried with backoff, with a delivery log."),
        (name = "keys", description = "The tenant's API keys: each with the scopes it \
                                       needs and an optional expiry, revoked at once."),
        (name = "audit", description = "The tenant's audit trail: every change made to its \
                                        data, by which key, from where, when."),
        (name = "usage", description = "What the tenant stores, and its storage quotas."),
    ),
    components(schemas(crate::error::Problem, crate::views::WebhookEvent)),
    modifiers(&Common),
)]
struct V2Doc;

/// The version's description and the webhooks it sends; its paths come from [`routes`].
pub fn doc() -> utoipa::openapi::OpenApi {
    let mut doc = V2Doc::openapi();
    doc.webhooks = Some(webhooks());
    doc
}

/// The OpenAPI `webhooks`: one entry per event type, the request docintel sends to a
/// subscription's URL (see [`crate::deliveries`]).
fn webhooks() -> utoipa::openapi::Paths {
    use utoipa::openapi::path::{OperationBuilder, ParameterBuilder, ParameterIn};
    use utoipa::openapi::request_body::RequestBodyBuilder;
    use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Type};
    use utoipa::openapi::{ContentBuilder, HttpMethod, Ref, Required, ResponseBuilder};

    use crate::views::{WebhookEvent, WebhookEventType};

    let header = |name: &str, description: &str, example: &str| {
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Header)
            .required(Required::True)
            .description(Some(description))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .max_length(Some(1024)),
            ))
            .example(Some(serde_json::json!(example)))
            .build()
    };
    let mut paths = utoipa::openapi::Paths::new();
    for event_type in WebhookEventType::ALL {
        let name = event_type.name();
        let (summary, when) = match event_type {
            WebhookEventType::DocProcessed => (
                "A document was processed",
                "Sent when a document's `status` becomes `processed`: its text, metadata and \
                 thumbnail are ready.",
            ),
            WebhookEventType::DocClassified => (
                "A document was classified",
                "Sent after `doc.processed` when the classifier gave the document a label.",
            ),
            WebhookEventType::DocFailed => (
                "A document failed processing",
                "Sent when a document's `status` becomes `failed`; `data.failure` says why.",
            ),
        };
        let schema = AllOfBuilder::new()
            .item(Ref::from_schema_name("WebhookEvent"))
            .item(
                ObjectBuilder::new().property(
                    "type",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some([name])),
                ),
            );
        let body = RequestBodyBuilder::new()
            .required(Some(Required::True))
            .description(Some("The event, as JSON."))
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(schema))
                    .example(Some(
                        serde_json::to_value(WebhookEvent::example(event_type)).unwrap_or_default(),
                    ))
                    .build(),
            )
            .build();
        let operation = OperationBuilder::new()
            .summary(Some(summary))
            .description(Some(format!(
                "{when} POSTed to every active subscription to `{name}`, retried with \
                 backoff until the endpoint answers 2xx. Verify `Docintel-Signature` before \
                 trusting the body, and drop an `id` seen before (retries repeat it)."
            )))
            .operation_id(Some(name.replace('.', "_")))
            .tag("webhooks")
            .parameter(header(
                "Docintel-Signature",
                "`t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\" with the secret>`; \
                 while a rotated secret is in its grace period, one `v1=` per secret. \
                 Refuse a `t` more than five minutes away from now.",
                "t=1763719201,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd",
            ))
            .parameter(header(
                "Docintel-Event-Id",
                "The event's `id`: the same on every retry of this event.",
                "0192f0c4-7b21-7d40-9a3e-2c4f5e6a7b8c",
            ))
            .request_body(Some(body))
            .response(
                "2XX",
                ResponseBuilder::new()
                    .description("Delivered: any 2xx answer acknowledges the event.")
                    .build(),
            )
            .response(
                "default",
                ResponseBuilder::new()
                    .description(
                        "Any other answer, or none within the timeout, is a failed attempt: \
                         it is retried, and a subscription failing too long is disabled.",
                    )
                    .build(),
            )
            .build();
        // Deliveries are authenticated by their signature, not by an API key.
        let mut operation = operation;
        operation.security = Some(Vec::new());
        paths.add_path_operation(name, vec![HttpMethod::Post], operation);
    }
    paths
}

/// `201 Created` with `body` and the new resource's `Location` (`path` below `/v2`).
pub(crate) fn created(path: &str, body: impl serde::Serialize) -> axum::response::Response {
    use axum::response::IntoResponse;
    let location = crate::versions::V2.path(path);
    let mut response = (axum::http::StatusCode::CREATED, axum::Json(body)).into_response();
    if let Ok(v) = axum::http::HeaderValue::from_str(&location) {
        response
            .headers_mut()
            .insert(axum::http::header::LOCATION, v);
    }
    response
}

/// Every resource's routes, relative to the version's prefix.
pub fn routes() -> OpenApiRouter<AppState> {
    documents::router()
        .merge(layout::router())
        .merge(webhooks::router())
        .merge(keys::router())
        .merge(audit::router())
        .merge(usage::router())
}
