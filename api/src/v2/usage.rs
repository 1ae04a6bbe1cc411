//! `/usage`: what the tenant stores and the storage quotas it has.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Auth, DocumentsRead};
use crate::error::ApiError;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_usage))
}

/// What the tenant stores, and its storage quotas. Also the `usage` of a
/// `quota_exceeded` problem (the usage before the refused upload).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!(UsageView::example()))]
pub struct UsageView {
    /// The documents stored, whatever their status (failed ones count until deleted).
    #[schema(example = 1234, maximum = 9_223_372_036_854_775_807_i64)]
    pub documents: u64,
    /// The sum of the stored documents' sizes as uploaded, in bytes (thumbnails and
    /// extracted text are not counted).
    #[schema(example = 734_003_200_u64, maximum = 9_223_372_036_854_775_807_i64)]
    pub bytes: u64,
    /// The most documents the tenant may store; null: no limit.
    #[schema(example = 100_000, maximum = 9_223_372_036_854_775_806_i64)]
    pub max_documents: Option<u64>,
    /// The most bytes the tenant may store; null: no limit.
    #[schema(example = 10_000_000_000_u64, maximum = 9_223_372_036_854_775_806_i64)]
    pub max_bytes: Option<u64>,
}

impl UsageView {
    pub fn example() -> Self {
        Self {
            documents: 1234,
            bytes: 734_003_200,
            max_documents: Some(100_000),
            max_bytes: Some(10_000_000_000),
        }
    }
}

impl From<docintel_backend::model::Usage> for UsageView {
    fn from(u: docintel_backend::model::Usage) -> Self {
        Self {
            documents: u.documents,
            bytes: u.bytes,
            max_documents: u.limits.max_documents,
            max_bytes: u.limits.max_bytes,
        }
    }
}

/// Get the tenant's usage
///
/// The documents and bytes the tenant stores, and its quotas (null: no limit). An upload
/// that would pass a quota is refused with `413 quota_exceeded`; deleting documents frees
/// their share at once.
#[utoipa::path(
    get,
    path = "/usage",
    tag = "usage",
    security(("api_key" = ["documents:read"])),
    responses(
        (status = 200, description = "The tenant's usage and quotas.", body = UsageView,
            example = json!(UsageView::example())),
    ),
)]
async fn get_usage(
    State(state): State<AppState>,
    Auth(tenant, _): Auth<DocumentsRead>,
) -> Result<axum::Json<UsageView>, ApiError> {
    Ok(axum::Json(state.backend.usage(tenant.id).await?.into()))
}
