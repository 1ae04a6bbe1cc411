//! `/keys`: the tenant's API keys — created with the scopes they need and an optional
//! expiry, listed without their secrets, revoked at once.

use axum::Extension;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use docintel_backend::KeySpec;
use docintel_backend::keys::{ApiKey, KeyGrant, Scope, Scopes};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Auth, KeysManage};
use crate::error::{ApiError, ErrorCode};
use crate::extract::Json;
use crate::state::AppState;

/// The most unrevoked keys a tenant may hold.
pub const MAX_KEYS: usize = 100;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_key, list_keys))
        .routes(routes!(revoke_key))
        .layer(axum::extract::DefaultBodyLimit::max(
            crate::extract::JSON_BODY_LIMIT,
        ))
}

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum KeyScope {
    /// Read documents, their text, thumbnail and status.
    #[serde(rename = "documents:read")]
    DocumentsRead,
    /// Upload and delete documents.
    #[serde(rename = "documents:write")]
    DocumentsWrite,
    /// Create, read, rotate, enable and delete webhooks.
    #[serde(rename = "webhooks:manage")]
    WebhooksManage,
    /// Create, list and revoke the tenant's keys.
    #[serde(rename = "keys:manage")]
    KeysManage,
    /// Read the Pact Broker.
    #[serde(rename = "broker:read")]
    BrokerRead,
    /// Publish to the Pact Broker.
    #[serde(rename = "broker:write")]
    BrokerWrite,
    /// Write to the schema registry (admin keys only).
    #[serde(rename = "registry:write")]
    RegistryWrite,
    /// Read the tenant's audit trail.
    #[serde(rename = "audit:read")]
    AuditRead,
}

impl KeyScope {
    fn scope(self) -> Scope {
        match self {
            KeyScope::DocumentsRead => Scope::DocumentsRead,
            KeyScope::DocumentsWrite => Scope::DocumentsWrite,
            KeyScope::WebhooksManage => Scope::WebhooksManage,
            KeyScope::KeysManage => Scope::KeysManage,
            KeyScope::BrokerRead => Scope::BrokerRead,
            KeyScope::BrokerWrite => Scope::BrokerWrite,
            KeyScope::RegistryWrite => Scope::RegistryWrite,
            KeyScope::AuditRead => Scope::AuditRead,
        }
    }

    fn of(scope: Scope) -> Self {
        match scope {
            Scope::DocumentsRead => KeyScope::DocumentsRead,
            Scope::DocumentsWrite => KeyScope::DocumentsWrite,
            Scope::WebhooksManage => KeyScope::WebhooksManage,
            Scope::KeysManage => KeyScope::KeysManage,
            Scope::BrokerRead => KeyScope::BrokerRead,
            Scope::BrokerWrite => KeyScope::BrokerWrite,
            Scope::RegistryWrite => KeyScope::RegistryWrite,
            Scope::AuditRead => KeyScope::AuditRead,
        }
    }
}

/// A new key.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyCreate {
    /// What it may do: at least one scope, each once, each held by the key that creates it.
    #[schema(min_items = 1, max_items = 8, example = json!(["documents:read"]))]
    pub scopes: Vec<KeyScope>,
    /// When it stops working (in the future); null or absent: never.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(example = "2027-06-30T00:00:00Z", max_length = 40)]
    pub expires_at: Option<OffsetDateTime>,
}

/// A key, without its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct KeyView {
    /// Names the key in `/v2/keys/{id}` and in logs.
    #[schema(example = "key_4f2a9c1e7b3d5a08", max_length = 20)]
    pub id: String,
    /// The key's first characters, to recognise it by.
    #[schema(example = "dik_3f9a1c0e", max_length = 12)]
    pub prefix: String,
    /// What it may do.
    #[schema(example = json!(["documents:read"]), max_items = 8)]
    pub scopes: Vec<KeyScope>,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(example = "2026-11-21T09:30:00Z", max_length = 40)]
    pub created_at: OffsetDateTime,
    /// When it was last used (to the minute); null if never.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(example = "2026-11-21T10:02:00Z", max_length = 40)]
    pub last_used_at: Option<OffsetDateTime>,
    /// When it stops working; null: never.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(example = json!(null), max_length = 40)]
    pub expires_at: Option<OffsetDateTime>,
}

impl From<ApiKey> for KeyView {
    fn from(k: ApiKey) -> Self {
        Self {
            id: k.id,
            prefix: k.prefix,
            scopes: k.scopes.iter().map(KeyScope::of).collect(),
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            expires_at: k.expires_at,
        }
    }
}

impl KeyView {
    fn example() -> Self {
        Self {
            id: "key_4f2a9c1e7b3d5a08".to_owned(),
            prefix: "dik_3f9a1c0e".to_owned(),
            scopes: vec![KeyScope::DocumentsRead],
            created_at: time::macros::datetime!(2026-11-21 09:30 UTC),
            last_used_at: None,
            expires_at: None,
        }
    }
}

/// A new key with its secret, shown only in this answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct KeyWithSecret {
    pub key: KeyView,
    /// The key to send as `Authorization: Bearer …`. Keep it secret.
    #[schema(
        example = "dik_3f9a1c0e4d7a0c3f8e5b1a9d2c7f4e0b6f1c2b9e4d7a0c3f8e5b1a9d2c7f4e0b",
        max_length = 68
    )]
    pub secret: String,
}

/// The tenant's unrevoked keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct KeyList {
    /// Oldest first, at most 100.
    #[schema(max_items = 100)]
    pub items: Vec<KeyView>,
}

/// A `{id}` path segment that must be a key id: `key_` and 16 hex digits.
struct KeyIdPath(String);

impl<S: Send + Sync> FromRequestParts<S> for KeyIdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::new(ErrorCode::InvalidId, e.body_text()))?;
        if docintel_backend::keys::key_id_digits(&raw).is_some() {
            Ok(KeyIdPath(raw))
        } else {
            Err(ApiError::new(
                ErrorCode::InvalidId,
                format!(
                    "{:?} is not a key id (`key_` and 16 hex digits, as key_4f2a9c1e7b3d5a08)",
                    crate::error::bounded(&raw, 64)
                ),
            ))
        }
    }
}

/// Create a key
///
/// A key with the given scopes (each held by the calling key: a key never makes a more
/// powerful one) and an optional expiry. Its secret is shown only in this answer.
#[utoipa::path(
    post,
    path = "/keys",
    tag = "keys",
    security(("api_key" = ["keys:manage"])),
    request_body(content((KeyCreate = "application/json",
        example = json!({ "scopes": ["documents:read"], "expires_at": "2027-06-30T00:00:00Z" })))),
    responses(
        (status = 201, description = "Created.", body = KeyWithSecret,
            headers(("Location" = String, description = "The key's URL.")),
            example = json!(KeyWithSecret {
                key: KeyView::example(),
                secret: "dik_3f9a1c0e4d7a0c3f8e5b1a9d2c7f4e0b6f1c2b9e4d7a0c3f8e5b1a9d2c7f4e0b".to_owned(),
            })),
    ),
    extensions(("x-problem-codes" = json!([
        "malformed_json", "payload_too_large", "unsupported_media_type", "invalid_body",
        "too_many_keys"
    ]))),
)]
async fn create_key(
    State(state): State<AppState>,
    Auth(tenant, _): Auth<KeysManage>,
    Extension(caller): Extension<KeyGrant>,
    Json(body): Json<KeyCreate>,
) -> Result<Response, ApiError> {
    if body.scopes.is_empty() {
        return Err(ApiError::new(
            ErrorCode::InvalidBody,
            "scopes: a key needs at least one scope",
        ));
    }
    let scopes: Scopes = body.scopes.iter().map(|s| s.scope()).collect();
    if scopes.iter().count() != body.scopes.len() {
        return Err(ApiError::new(
            ErrorCode::InvalidBody,
            "scopes: each scope may be named once",
        ));
    }
    if let Some(missing) = scopes.iter().find(|s| !caller.scopes.contains(*s)) {
        return Err(ApiError::new(
            ErrorCode::InvalidBody,
            format!("scopes: `{missing}` is not held by the key making this one"),
        ));
    }
    if body
        .expires_at
        .is_some_and(|at| at <= OffsetDateTime::now_utc())
    {
        return Err(ApiError::new(
            ErrorCode::InvalidBody,
            "expires_at: must be in the future",
        ));
    }
    let held = state.backend.api_keys(tenant.id).await?;
    if held.iter().filter(|k| k.revoked_at.is_none()).count() >= MAX_KEYS {
        return Err(ApiError::new(
            ErrorCode::TooManyKeys,
            format!("the tenant already has {MAX_KEYS} keys; revoke one first"),
        ));
    }
    let spec = KeySpec {
        admin: false,
        scopes,
        expires_at: body.expires_at,
    };
    let (secret, key) = state.backend.issue_key_for(tenant.id, spec).await?;
    let path = format!("/keys/{}", key.id);
    let body = KeyWithSecret {
        key: key.into(),
        secret,
    };
    Ok(super::created(&path, body))
}

/// List keys
///
/// The tenant's unrevoked keys (at most 100): their ids, prefixes, scopes, when they were
/// created and last used, and when they expire; never their secrets.
#[utoipa::path(
    get,
    path = "/keys",
    tag = "keys",
    security(("api_key" = ["keys:manage"])),
    responses(
        (status = 200, description = "The tenant's unrevoked keys.", body = KeyList,
            example = json!(KeyList { items: vec![KeyView::example()] })),
    ),
)]
async fn list_keys(
    State(state): State<AppState>,
    Auth(tenant, _): Auth<KeysManage>,
) -> Result<axum::Json<KeyList>, ApiError> {
    let keys = state.backend.api_keys(tenant.id).await?;
    Ok(axum::Json(KeyList {
        items: keys
            .into_iter()
            .filter(|k| k.revoked_at.is_none())
            .map(Into::into)
            .collect(),
    }))
}

/// Revoke a key
///
/// The key stops working at once, on every server.
#[utoipa::path(
    delete,
    path = "/keys/{id}",
    tag = "keys",
    security(("api_key" = ["keys:manage"])),
    params(("id" = String, Path, description = "The key's id.", example = "key_4f2a9c1e7b3d5a08",
        max_length = 20, pattern = "^key_[0-9a-f]{16}$")),
    responses((status = 204, description = "Revoked.")),
    extensions(("x-problem-codes" = json!(["invalid_id", "not_found"]))),
)]
async fn revoke_key(
    State(state): State<AppState>,
    Auth(tenant, _): Auth<KeysManage>,
    KeyIdPath(id): KeyIdPath,
) -> Result<StatusCode, ApiError> {
    if !state.backend.revoke_key(tenant.id, &id).await? {
        return Err(ApiError::NotFound(format!("no key with id {id}")));
    }
    // This process forgets its cached keys now; the others when they see the change.
    state.keys.observe(state.backend.key_generation().await?);
    Ok(StatusCode::NO_CONTENT)
}
