//! The audit trail: table `audit_events`.

use super::*;

crate::store::sql::audit::audit_store!(PgStore);
