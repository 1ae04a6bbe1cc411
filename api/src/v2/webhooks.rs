//! `/webhooks`: subscriptions to document events, their signing secrets and their
//! delivery log. Deliveries are sent by [`crate::deliveries`].

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use docintel_backend::webhooks::{self as hooks, NewWebhook};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::{ApiError, KeyRequired, Problem};
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
}

/// A new subscription.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookCreate {
    /// Where deliveries are POSTed: an `https` (or `http`) URL of a public host.
    #[schema(example = "https://example.com/hooks/docintel", max_length = 2048)]
    pub url: String,
    /// The events to deliver (at least one).
    #[schema(min_items = 1)]
    pub event_types: Vec<WebhookEventType>,
    /// A note for you (at most 500 characters).
    #[schema(max_length = 500)]
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
    pub id: Uuid,
    pub url: String,
    pub event_types: Vec<WebhookEventType>,
    pub description: Option<String>,
    pub status: WebhookState,
    pub disabled_reason: Option<String>,
    /// Failed attempts since the last successful delivery.
    pub consecutive_failures: u32,
    #[serde(with = "time::serde::rfc3339")]
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
            disabled_reason: w.disabled_reason,
            consecutive_failures: w.consecutive_failures,
            created_at: w.created_at,
        }
    }
}

/// A subscription with its signing secret, shown only in this answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WebhookWithSecret {
    pub webhook: WebhookView,
    /// Verifies `Docintel-Signature` (the SDK's `verify_webhook`). Keep it secret.
    #[schema(example = "whsec_6f1c…")]
    pub secret: String,
}

/// A new signing secret, shown only in this answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RotatedSecret {
    pub secret: String,
    /// Until then deliveries carry a signature with the previous secret too.
    #[serde(with = "time::serde::rfc3339")]
    pub previous_secret_expires_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WebhookList {
    pub items: Vec<WebhookView>,
}

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
    pub id: i64,
    /// The `Docintel-Event-Id` of the delivery (the same across retries).
    pub event_id: String,
    pub event_type: WebhookEventType,
    pub document_id: Uuid,
    pub status: DeliveryState,
    pub attempts: u32,
    /// The HTTP status of the last attempt, when the endpoint answered.
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
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
            last_error: d.last_error,
            next_attempt_at: d.next_attempt_at.filter(|_| pending),
            created_at: d.created_at,
            delivered_at: d.delivered_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeliveryList {
    /// Newest first.
    pub items: Vec<DeliveryView>,
}

/// The problems of every operation on one subscription.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // Only read by the OpenAPI derive.
enum WebhookErrors {
    #[response(
        status = 400,
        description = "Malformed id.",
        content_type = "application/problem+json"
    )]
    BadId(Problem),
    #[response(
        status = 401,
        description = "Missing or invalid API key.",
        content_type = "application/problem+json"
    )]
    Unauthorized(Problem),
    #[response(
        status = 404,
        description = "No such subscription for this key.",
        content_type = "application/problem+json"
    )]
    NotFound(Problem),
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
    request_body = WebhookCreate,
    responses(
        (status = 201, description = "Subscribed.", body = WebhookWithSecret,
            headers(("Location" = String, description = "The subscription's URL."))),
        (status = 400, description = "Malformed JSON.", body = Problem, content_type = "application/problem+json"),
        KeyRequired,
        (status = 409, description = "Too many subscriptions.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid URL, target, event type or description.", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn create_webhook(
    State(state): State<AppState>,
    Auth(tenant): Auth,
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
    let location = crate::versions::V2.path(&format!("/webhooks/{}", hook.id));
    let body = WebhookWithSecret {
        webhook: hook.into(),
        secret,
    };
    let mut response = (StatusCode::CREATED, axum::Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// List subscriptions
///
/// Every subscription of this key's tenant (at most 20), without their secrets.
#[utoipa::path(
    get,
    path = "/webhooks",
    tag = "webhooks",
    responses(
        (status = 200, description = "Every subscription of this key's tenant.", body = WebhookList),
        KeyRequired,
    ),
)]
async fn list_webhooks(
    State(state): State<AppState>,
    Auth(tenant): Auth,
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
    params(("id" = uuid::Uuid, Path, description = "The subscription id.")),
    responses(
        (status = 200, description = "The subscription.", body = WebhookView),
        WebhookErrors,
    ),
)]
async fn get_webhook(
    State(state): State<AppState>,
    Auth(tenant): Auth,
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
    params(("id" = uuid::Uuid, Path, description = "The subscription id.")),
    responses(
        (status = 204, description = "Deleted."),
        WebhookErrors,
    ),
)]
async fn delete_webhook(
    State(state): State<AppState>,
    Auth(tenant): Auth,
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
    params(("id" = uuid::Uuid, Path, description = "The subscription id.")),
    responses(
        (status = 200, description = "The new secret.", body = RotatedSecret),
        WebhookErrors,
    ),
)]
async fn rotate_webhook_secret(
    State(state): State<AppState>,
    Auth(tenant): Auth,
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
    params(("id" = uuid::Uuid, Path, description = "The subscription id.")),
    responses(
        (status = 200, description = "The subscription, active.", body = WebhookView),
        WebhookErrors,
    ),
)]
async fn enable_webhook(
    State(state): State<AppState>,
    Auth(tenant): Auth,
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
    #[param(minimum = 1, maximum = 100)]
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
    params(("id" = uuid::Uuid, Path, description = "The subscription id."), DeliveryParams),
    responses(
        (status = 200, description = "The newest deliveries.", body = DeliveryList),
        (status = 400, description = "Malformed id or limit.", body = Problem, content_type = "application/problem+json"),
        KeyRequired,
        (status = 404, description = "No such subscription for this key.", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn list_webhook_deliveries(
    State(state): State<AppState>,
    Auth(tenant): Auth,
    IdPath(id): IdPath,
    Query(params): Query<DeliveryParams>,
) -> Result<axum::Json<DeliveryList>, ApiError> {
    let limit = params.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_parameter",
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
