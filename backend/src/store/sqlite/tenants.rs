//! Tenants, API keys, rate limits and settings: tables `tenants`, `api_keys`, `settings`,
//! `tenant_rate_limits`.

use super::*;

crate::store::sql::tenants::tenant_store!(SqliteStore, sqlx::sqlite::SqliteRow);
