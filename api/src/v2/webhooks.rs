//! `/webhooks`: subscriptions to document events, their signing secrets and their
//! delivery log. Deliveries are sent by [`crate::deliveries`].

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use docintel_backend::webhooks::{self as hooks, NewWebhook};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::answers::EXAMPLE_ID;
use crate::auth::{Auth, WebhooksManage};
use crate::error::{ApiError, ErrorCode};
use crate::extract::{IdPath, Json, Query};
use crate::state::AppState;
use crate::views::WebhookEventType;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_webhook, list_webhooks))
        .routes(routes!(get_webhook, delete_webhook))
        .routes(routes!(rotate_webhook_secret))
        .routes(routes!(enable_webhook))
        .routes(routes!(list_webhook_deliveries))
        .layer(axum::extract::DefaultBodyLimit::max(
            crate::extract::JSON_BODY_LIMIT,
        ))
}

/// A new subscription.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookCreate {
    /// Where deliveries are POSTed: an `https` (or `http`) URL of a public host.
    #[schema(example = "https://example.com/hooks/docintel", max_length = 2048)]
    pub url: String,
    /// The events to deliver (at least one).
    #[schema(min_items = 1, example = json!(["doc.processed", "doc.failed"]))]
    pub event_types: Vec<WebhookEventType>,
    /// A note for you (at most 500 characters).
    #[schema(max_length = 500, example = "Invoices into the ledger")]
    pub description: Option<String>,
}

/// Whether a subscription receives deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookState {
    Active,
    /// Stopped after failing too many attempts in a row; `disabled_reason` says why.
    /// Pending deliveries resume when it is enabled again.
    Disabled,
}

/// A subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WebhookView {
    /// The subscription's id.
    #[schema(example = "0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11", max_length = 36)]
    pub id: Uuid,
    /// Where deliveries are POSTed.
    #[schema(example = "https://example.com/hooks/docintel", max_length = 2048)]
    pub url: String,
    /// The events delivered.
    #[schema(example = json!(["doc.processed", "doc.failed"]), max_items = 3)]
    pub event_types: Vec<WebhookEventType>,
    /// The note given when subscribing.
    #[schema(example = "Invoices into the ledger", max_length = 500)]
    pub description: Option<String>,
    /// Whether it receives deliveries.
    #[schema(example = "active")]
    pub status: WebhookState,
    /// Why it was disabled; null while active.
    #[schema(example = json!(null), max_length = 1024)]
    pub disabled_reason: Option<String>,
    /// Failed attempts since the last successful delivery.
    #[schema(example = 0, maximum = 4_294_967_295_u64)]
    pub consecutive_failures: u32,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(example = "2026-11-21T09:30:00Z", max_length = 40)]
    pub created_at: OffsetDateTime,
}

impl From<hooks::Webhook> for WebhookView {
    fn from(w: hooks::Webhook) -> Self {
        Self {
            id: w.id,
            url: w.url,
            event_types: w
                .event_types
                .iter()
                .filter_map(|t| WebhookEventType::parse(t))
                .collect(),
            description: w.description,
            status: match w.status {
                hooks::WebhookStatus::Active => WebhookState::Active,
                hooks::WebhookStatus::Disabled => WebhookState::Disabled,
            },
            disabled_reason: w
                .disabled_reason
                .map(|r| crate::error::bounded(&r, crate::views::MAX_REASON_CHARS)),
            consecutive_failures: w.consecutive_failures,
            created_at: w.created_at,
        }
    }
}

/// A subscription with its signing secret, shown only in this answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WebhookWithSecret {
    /// The new subscription.
    pub webhook: WebhookView,
    /// Verifies `Docintel-Signature` (the SDK's `verify_webhook`). Keep it secret.
    #[schema(
        example = "whsec_6f1c2b9e4d7a0c3f8e5b1a9d2c7f4e0b6f1c2b9e4d7a0c3f8e5b1a9d2c7f4e0b",
        max_length = 70
    )]
    pub secret: String,
}

/// A new signing secret, shown only in this answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RotatedSecret {
    /// The new signing secret. Keep it secret.
    #[schema(
        example = "whsec_0b4e7f2c9d1a5b8e3f0c6a7d4e9b2f1c0b4e7f2c9d1a5b8e3f0c6a7d4e9b2f1c",
        max_length = 70
    )]
    pub secret: String,
    /// Until then deliveries carry a signature with the previous secret too.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(example = "2026-11-22T09:30:00Z", max_length = 40)]
    pub previous_secret_expires_at: OffsetDateTime,
}

/// Every subscription of the key's tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WebhookList {
    /// At most 20 subscriptions.
    #[schema(max_items = 20)]
    pub items: Vec<WebhookView>,
}

/// Where a delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Not delivered yet; `next_attempt_at` says when it is tried (again).
    Pending,
    Delivered,
    /// Given up after the retry window.
    Failed,
}

/// One event's delivery to a subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeliveryView {
    /// The delivery's number.
    #[schema(example = 4187, minimum = 1, maximum = 9_223_372_036_854_775_807_i64)]
    pub id: i64,
    /// The `Docintel-Event-Id` of the delivery (the same across retries).
    #[schema(example = "0192f0c4-7b21-7d40-9a3e-2c4f5e6a7b8c", max_length = 36)]
    pub event_id: String,
    /// The event's type.
    #[schema(example = "doc.processed")]
    pub event_type: WebhookEventType,
    /// The document the event is about.
    #[schema(example = "0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11", max_length = 36)]
    pub document_id: Uuid,
    /// Where the delivery is.
    #[schema(example = "delivered")]
    pub status: DeliveryState,
    /// Attempts made so far.
    #[schema(example = 2, maximum = 4_294_967_295_u64)]
    pub attempts: u32,
    /// The HTTP status of the last attempt, when the endpoint answered.
    #[schema(example = 200, minimum = 100, maximum = 999)]
    pub last_status_code: Option<u16>,
    /// Why the last attempt failed; null when it succeeded.
    #[schema(example = json!(null), max_length = 1024)]
    pub last_error: Option<String>,
    /// When it is tried next; null unless pending.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(example = json!(null), max_length = 40)]
    pub next_attempt_at: Option<OffsetDateTime>,
    /// When the event was queued for this subscription.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(example = "2026-11-21T10:00:01.25Z", max_length = 40)]
    pub created_at: OffsetDateTime,
    /// When the endpoint accepted it; null until then.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(example = "2026-11-21T10:00:31.9Z", max_length = 40)]
    pub delivered_at: Option<OffsetDateTime>,
}

impl From<hooks::Delivery> for DeliveryView {
    fn from(d: hooks::Delivery) -> Self {
        let pending = d.status == hooks::DeliveryStatus::Pending;
        Self {
            id: d.id,
            event_id: d.event_id,
            event_type: WebhookEventType::parse(&d.event_type)
                .unwrap_or(WebhookEventType::DocProcessed),
            document_id: d.document_id,
            status: match d.status {
                hooks::DeliveryStatus::Pending => DeliveryState::Pending,
                hooks::DeliveryStatus::Delivered => DeliveryState::Delivered,
                hooks::DeliveryStatus::Failed => DeliveryState::Failed,
            },
            attempts: d.attempts,
            last_status_code: d.last_status,
            last_error: d
                .last_error
                .map(|e| crate::error::bounded(&e, crate::views::MAX_REASON_CHARS)),
            next_attempt_at: d.next_attempt_at.filter(|_| pending),
            created_at: d.created_at,
            delivered_at: d.delivered_at,
        }
    }
}

/// A subscription's newest deliveries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeliveryList {
    /// Newest first, at most `limit`.
    #[schema(max_items = 100)]
    pub items: Vec<DeliveryView>,
}

fn not_found(id: Uuid) -> ApiError {
    ApiError::NotFound(format!("no webhook with id {id}"))
}

/// A subscription of `tenant`, as the API shows it.
async fn view(
    state: &AppState,
    tenant: docintel_backend::model::TenantId,
    id: Uuid,
) -> Result<axum::Json<WebhookView>, ApiError> {
    match state.backend.webhook(tenant, id).await? {
        Some(w) => Ok(axum::Json(w.into())),
        None => Err(not_found(id)),
    }
}

/// Subscribe to events
///
/// Creates a subscription and its signing secret, which is shown only in this answer.
/// The URL must be `https` or `http` and resolve to public addresses only.
#[utoipa::path(
    post,
    path = "/webhooks",
    tag = "webhooks",
    security(("api_key" = ["webhooks:manage"])),
    request_body(content((WebhookCreate = "application/json",
        example = json!(WebhookCreate::example())))),
    responses(
        (status = 201, description = "Subscribed.", body = WebhookWithSecret,
            headers(("Location" = String, description = "The subscription's URL.")),
            example = json!(WebhookWithSecret::example())),
    ),
    extensions(("x-problem-codes" = json!([
        "malformed_json", "payload_too_large", "unsupported_media_type", "invalid_body",
        "invalid_webhook", "too_many_webhooks"
    ]))),
)]
async fn create_webhook(
    State(state): State<AppState>,
    Auth(tenant, _): Auth<WebhooksManage>,
    Json(body): Json<WebhookCreate>,
) -> Result<Response, ApiError> {
    let new = NewWebhook {
        url: body.url,
        description: body.description,
        event_types: body
            .event_types
            .iter()
            .map(|t| t.name().to_owned())
            .collect(),
    };
    let (hook, secret) = state.backend.create_webhook(tenant.id, new).await?;
    let path = format!("/webhooks/{}", hook.id);
    let body = WebhookWithSecret {
        webhook: hook.into(),
        secret,
    };
    Ok(super::created(&path, body))
}

/// List subscriptions
///
/// Every subscription of this key's tenant (at most 20), without their secrets.
#[utoipa::path(
    get,
    path = "/webhooks",
    tag = "webhooks",
    security(("api_key" = ["webhooks:manage"])),
    responses(
        (status = 200, description = "Every subscription of this key's tenant.", body = WebhookList,
            example = json!(WebhookList { items: vec![WebhookView::example()] })),
    ),
)]
async fn list_webhooks(
    State(state): State<AppState>,
    Auth(tenant, _): Auth<WebhooksManage>,
) -> Result<axum::Json<WebhookList>, ApiError> {
    let items = state.backend.webhooks(tenant.id).await?;
    Ok(axum::Json(WebhookList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// Get a subscription
///
/// Its status (a disabled one says why), failure count and events; never its secret.
#[utoipa::path(
    get,
    path = "/webhooks/{id}",
    tag = "webhooks",
    security(("api_key" = ["webhooks:manage"])),
    params(("id" = uuid::Uuid, Path, description = "The subscription id.", example = json!(EXAMPLE_ID))),
    responses(
        (status = 200, description = "The subscription.", body = WebhookView,
            example = json!(WebhookView::example())),
    ),
    extensions(("x-problem-codes" = json!(["invalid_id", "not_found"]))),
)]
async fn get_webhook(
    State(state): State<AppState>,
    Auth(tenant, _): Auth<WebhooksManage>,
    IdPath(id): IdPath,
) -> Result<axum::Json<WebhookView>, ApiError> {
    view(&state, tenant.id, id).await
}

/// Delete a subscription
///
/// Its pending deliveries are dropped.
#[utoipa::path(
    delete,
    path = "/webhooks/{id}",
    tag = "webhooks",
    security(("api_key" = ["webhooks:manage"])),
    params(("id" = uuid::Uuid, Path, description = "The subscription id.", example = json!(EXAMPLE_ID))),
    responses((status = 204, description = "Deleted.")),
    extensions(("x-problem-codes" = json!(["invalid_id", "not_found"]))),
)]
async fn delete_webhook(
    State(state): State<AppState>,
    Auth(tenant, _): Auth<WebhooksManage>,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    if state.backend.delete_webhook(tenant.id, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(id))
    }
}

/// Rotate the signing secret
///
/// Returns a new secret (shown only in this answer). For a grace period deliveries are
/// signed with both, so receivers can switch without losing one.
#[utoipa::path(
    post,
    path = "/webhooks/{id}/rotate-secret",
    tag = "webhooks",
    security(("api_key" = ["webhooks:manage"])),
    params(("id" = uuid::Uuid, Path, description = "The subscription id.", example = json!(EXAMPLE_ID))),
    responses(
        (status = 200, description = "The new secret.", body = RotatedSecret,
            example = json!(RotatedSecret::example())),
    ),
    extensions(("x-problem-codes" = json!(["invalid_id", "not_found"]))),
)]
async fn rotate_webhook_secret(
    State(state): State<AppState>,
    Auth(tenant, _): Auth<WebhooksManage>,
    IdPath(id): IdPath,
) -> Result<axum::Json<RotatedSecret>, ApiError> {
    match state.backend.rotate_webhook_secret(tenant.id, id).await? {
        Some(secret) => Ok(axum::Json(RotatedSecret {
            secret,
            previous_secret_expires_at: OffsetDateTime::now_utc()
                + state.backend.config().webhooks.previous_secret_grace,
        })),
        None => Err(not_found(id)),
    }
}

/// Enable a disabled subscription
///
/// Its failure count starts again from zero and its pending deliveries resume.
#[utoipa::path(
    post,
    path = "/webhooks/{id}/enable",
    tag = "webhooks",
    security(("api_key" = ["webhooks:manage"])),
    params(("id" = uuid::Uuid, Path, description = "The subscription id.", example = json!(EXAMPLE_ID))),
    responses(
        (status = 200, description = "The subscription, active.", body = WebhookView,
            example = json!(WebhookView::example())),
    ),
    extensions(("x-problem-codes" = json!(["invalid_id", "not_found"]))),
)]
async fn enable_webhook(
    State(state): State<AppState>,
    Auth(tenant, _): Auth<WebhooksManage>,
    IdPath(id): IdPath,
) -> Result<axum::Json<WebhookView>, ApiError> {
    if !state.backend.enable_webhook(tenant.id, id).await? {
        return Err(not_found(id));
    }
    view(&state, tenant.id, id).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryParams {
    /// How many of the newest deliveries to return, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100, example = 50)]
    pub limit: Option<u32>,
}

/// List a subscription's deliveries
///
/// The delivery log, newest first: each event's status, attempts, the last answer or
/// error, and when it is tried next.
#[utoipa::path(
    get,
    path = "/webhooks/{id}/deliveries",
    tag = "webhooks",
    security(("api_key" = ["webhooks:manage"])),
    params(("id" = uuid::Uuid, Path, description = "The subscription id.", example = json!(EXAMPLE_ID)), DeliveryParams),
    responses(
        (status = 200, description = "The newest deliveries.", body = DeliveryList,
            example = json!(DeliveryList { items: vec![DeliveryView::example()] })),
    ),
    extensions(("x-problem-codes" = json!(["invalid_id", "not_found", "invalid_parameter"]))),
)]
async fn list_webhook_deliveries(
    State(state): State<AppState>,
    Auth(tenant, _): Auth<WebhooksManage>,
    IdPath(id): IdPath,
    Query(params): Query<DeliveryParams>,
) -> Result<axum::Json<DeliveryList>, ApiError> {
    let limit = params.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::new(
            ErrorCode::InvalidParameter,
            format!("limit must be 1 to 100, not {limit}"),
        ));
    }
    if state.backend.webhook(tenant.id, id).await?.is_none() {
        return Err(not_found(id));
    }
    let items = state
        .backend
        .webhook_deliveries(tenant.id, id, limit)
        .await?;
    Ok(axum::Json(DeliveryList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// Examples for the OpenAPI document, as real values of the wire types.
mod examples {
    use time::macros::datetime;

    use super::*;
    use crate::views::examples::ID;

    impl WebhookCreate {
        pub fn example() -> serde_json::Value {
            serde_json::json!({
                "url": "https://example.com/hooks/docintel",
                "event_types": ["doc.processed", "doc.failed"],
                "description": "Invoices into the ledger",
            })
        }
    }

    impl WebhookView {
        pub fn example() -> Self {
            Self {
                id: ID,
                url: "https://example.com/hooks/docintel".to_owned(),
                event_types: vec![WebhookEventType::DocProcessed, WebhookEventType::DocFailed],
                description: Some("Invoices into the ledger".to_owned()),
                status: WebhookState::Active,
                disabled_reason: None,
                consecutive_failures: 0,
                created_at: datetime!(2026-11-21 09:30:00 UTC),
            }
        }
    }

    impl WebhookWithSecret {
        pub fn example() -> Self {
            Self {
                webhook: WebhookView::example(),
                secret: "whsec_6f1c2b9e4d7a0c3f8e5b1a9d2c7f4e0b6f1c2b9e4d7a0c3f8e5b1a9d2c7f4e0b"
                    .to_owned(),
            }
        }
    }

    impl RotatedSecret {
        pub fn example() -> Self {
            Self {
                secret: "whsec_0b4e7f2c9d1a5b8e3f0c6a7d4e9b2f1c0b4e7f2c9d1a5b8e3f0c6a7d4e9b2f1c"
                    .to_owned(),
                previous_secret_expires_at: datetime!(2026-11-22 09:30:00 UTC),
            }
        }
    }

    impl DeliveryView {
        pub fn example() -> Self {
            Self {
                id: 4187,
                event_id: "0192f0c4-7b21-7d40-9a3e-2c4f5e6a7b8c".to_owned(),
                event_type: WebhookEventType::DocProcessed,
                document_id: ID,
                status: DeliveryState::Delivered,
                attempts: 2,
                last_status_code: Some(200),
                last_error: None,
                next_attempt_at: None,
                created_at: datetime!(2026-11-21 10:00:01.25 UTC),
                delivered_at: Some(datetime!(2026-11-21 10:00:31.9 UTC)),
            }
        }
    }
}
