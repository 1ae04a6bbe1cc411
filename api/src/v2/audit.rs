//! `/audit-events`: the tenant's audit trail — every change made with its keys (and by
//! the operator on its data), who made it, from where, under which request id.

use axum::Json;
use axum::extract::State;
use docintel_backend::audit::{AuditEvent, AuditFilter};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{AuditRead, Auth};
use crate::error::{ApiError, ErrorCode};
use crate::extract::Query;
use crate::state::AppState;
use crate::v2::documents::instant;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 100;
/// The longest `action` filter: longer than every action docintel records.
const MAX_ACTION_CHARS: usize = 64;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit_events))
}

/// One change, as recorded in the same transaction as the change itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEventView {
    /// Increases with every entry.
    #[schema(example = 4211, minimum = 1, maximum = 9_223_372_036_854_775_807_i64)]
    pub id: i64,
    /// When the change was made.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(example = "2026-11-21T10:00:00.125Z", max_length = 40)]
    pub at: OffsetDateTime,
    /// Who made it: the id of the key used (as in `/v2/keys`), or `operator` for a
    /// change made with the server's command line.
    #[schema(example = "key_4f2a9c1e7b3d5a08", max_length = 20)]
    pub actor: String,
    /// What was done: `document.upload`, `document.delete`, `webhook.create`,
    /// `webhook.rotate_secret`, `webhook.enable`, `webhook.delete`, `key.create`,
    /// `key.revoke`, `tenant.rate_limit`, `tenant.quota`, `registry.register`, `registry.config`,
    /// `registry.mode`, `registry.delete_subject`, `registry.delete_version` (and their
    /// `_permanently` forms), `broker.<record>.create|update|delete`.
    #[schema(example = "document.delete", max_length = 64)]
    pub action: String,
    /// The kind of resource changed: `document`, `webhook`, `key`, `tenant`,
    /// `registry.subject`, `registry.version`, `broker.<record>`.
    #[schema(example = "document", max_length = 64)]
    pub resource_type: String,
    /// The resource's id (a document or webhook id, a key id, a registry subject, a
    /// broker record's names).
    #[schema(example = "0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11", max_length = 256)]
    pub resource_id: String,
    /// The client's address as the server saw it; null for the operator's changes.
    #[schema(example = "203.0.113.7", max_length = 45)]
    pub address: Option<String>,
    /// The request's `X-Request-Id`; null for the operator's changes.
    #[schema(example = "0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b12", max_length = 128)]
    pub request_id: Option<String>,
}

impl From<AuditEvent> for AuditEventView {
    fn from(e: AuditEvent) -> Self {
        Self {
            id: e.seq,
            at: e.at,
            actor: e.actor,
            action: e.action,
            resource_type: e.resource_type,
            resource_id: e.resource_id,
            address: e.address,
            request_id: e.request_id,
        }
    }
}

/// One page of audit entries, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEventPage {
    /// At most `limit` entries.
    #[schema(max_items = 100)]
    pub items: Vec<AuditEventView>,
    /// Pass as `page_token` (with the same filters) to get the next page; null on the
    /// last page.
    #[schema(example = "4161", max_length = 18)]
    pub next_page: Option<String>,
}

impl AuditEventPage {
    fn example() -> Self {
        Self {
            items: vec![AuditEventView {
                id: 4211,
                at: time::macros::datetime!(2026-11-21 10:00:00.125 UTC),
                actor: "key_4f2a9c1e7b3d5a08".to_owned(),
                action: "document.delete".to_owned(),
                resource_type: "document".to_owned(),
                resource_id: "0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11".to_owned(),
                address: Some("203.0.113.7".to_owned()),
                request_id: Some("0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b12".to_owned()),
            }],
            next_page: None,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Page size, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100, example = 50)]
    pub limit: Option<u32>,
    /// The `next_page` of the previous page; omit for the first page.
    #[param(example = "4161", max_length = 18, pattern = "^[1-9][0-9]{0,17}$")]
    pub page_token: Option<String>,
    /// Only this action (`document.delete`), or, ending in `.`, every action it starts
    /// (`webhook.`).
    #[param(
        example = "document.delete",
        max_length = 64,
        pattern = "^[a-z0-9_.-]+$"
    )]
    pub action: Option<String>,
    /// Only entries recorded at or after this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime, max_length = 40,
        example = "2026-11-01T00:00:00Z")]
    pub since: Option<String>,
    /// Only entries recorded before this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime, max_length = 40,
        example = "2026-12-01T00:00:00Z")]
    pub until: Option<String>,
}

fn invalid(message: String) -> ApiError {
    ApiError::new(ErrorCode::InvalidParameter, message)
}

/// List audit events
///
/// Every change made to the tenant's data — uploads, deletions, webhook and key changes,
/// limits, registry and broker writes — newest first, with the key that made it, the
/// client's address and the request id. Follow `next_page` until it is null. Entries
/// are kept as long as the server's retention says (400 days by default).
#[utoipa::path(
    get,
    path = "/audit-events",
    tag = "audit",
    security(("api_key" = ["audit:read"])),
    params(AuditParams),
    responses(
        (status = 200, description = "A page of audit entries.", body = AuditEventPage,
            example = json!(AuditEventPage::example())),
    ),
    extensions(("x-problem-codes" = json!(["invalid_parameter", "invalid_page_token"]))),
)]
async fn list_audit_events(
    State(state): State<AppState>,
    Auth(tenant, _): Auth<AuditRead>,
    Query(params): Query<AuditParams>,
) -> Result<Json<AuditEventPage>, ApiError> {
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(invalid(format!(
            "limit must be between 1 and {MAX_LIMIT}, not {limit}"
        )));
    }
    if let Some(action) = &params.action
        && (action.is_empty()
            || action.len() > MAX_ACTION_CHARS
            || !action
                .bytes()
                .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-')))
    {
        return Err(invalid(format!(
            "action must be 1 to {MAX_ACTION_CHARS} of a-z, 0-9, `_`, `.` and `-`, \
             such as document.delete or webhook."
        )));
    }
    let before = params
        .page_token
        .as_deref()
        .map(|t| {
            t.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidPageToken,
                    "page_token is not a next_page this server returned",
                )
            })
        })
        .transpose()?;
    let filter = AuditFilter {
        action: params.action,
        since: instant("since", params.since.as_deref())?,
        until: instant("until", params.until.as_deref())?,
    };
    let events = state
        .backend
        .audit_events(Some(tenant.id), &filter, before, limit)
        .await?;
    let next_page = (events.len() == limit as usize)
        .then(|| events.last().map(|e| e.seq.to_string()))
        .flatten();
    Ok(Json(AuditEventPage {
        items: events.into_iter().map(Into::into).collect(),
        next_page,
    }))
}
