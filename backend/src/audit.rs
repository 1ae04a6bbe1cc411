//! The audit trail: who (a key, or the operator's CLI) changed what, on which resource,
//! when, from which address, under which request id.
//!
//! Each store write appends its entry in the same transaction as the change, so the
//! trail can neither miss a change that happened nor show one that was rolled back. The
//! store names the action and the resource (it alone knows what it changed); who asked
//! comes from the [`Caller`] of the task making the call, set by the HTTP layer for each
//! request (address and request id first, the key once authenticated) or by the CLI for
//! an operator's command. Writes made by no caller (workers, relays, sweeps, schema
//! registration at start) are the system's own and are not recorded.
//!
//! Nothing secret is recorded: keys appear by id, webhooks by id, never a secret or URL.

use std::future::Future;
use std::sync::{Arc, Mutex};

use time::OffsetDateTime;

use crate::model::TenantId;

/// The actor recorded for changes made by the operator's CLI.
pub const OPERATOR: &str = "operator";

/// Who is making the current call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    /// Whose data the call may change; unknown until authenticated.
    pub tenant: Option<TenantId>,
    /// The key's id, or [`OPERATOR`].
    pub actor: Option<String>,
    pub address: Option<String>,
    pub request_id: Option<String>,
}

tokio::task_local! {
    static CALLER: Arc<Mutex<Caller>>;
}

/// Runs `f` as a call from `address` under `request_id`, not yet identified.
pub async fn within<F: Future>(
    address: Option<String>,
    request_id: Option<String>,
    f: F,
) -> F::Output {
    let caller = Caller {
        address,
        request_id,
        ..Caller::default()
    };
    CALLER.scope(Arc::new(Mutex::new(caller)), f).await
}

/// Runs `f` as the operator's command on `tenant`'s data.
pub async fn as_operator<F: Future>(tenant: TenantId, f: F) -> F::Output {
    let caller = Caller {
        tenant: Some(tenant),
        actor: Some(OPERATOR.to_owned()),
        ..Caller::default()
    };
    CALLER.scope(Arc::new(Mutex::new(caller)), f).await
}

/// Records that the current call is made with key `key_id` of `tenant` (no effect
/// outside [`within`]).
pub fn identify(tenant: TenantId, key_id: &str) {
    let _ = CALLER.try_with(|c| {
        if let Ok(mut c) = c.lock() {
            c.tenant = Some(tenant);
            c.actor = Some(key_id.to_owned());
        }
    });
}

/// The identified caller of the current task, if any.
pub fn current() -> Option<Caller> {
    CALLER
        .try_with(|c| c.lock().ok().map(|c| c.clone()))
        .ok()
        .flatten()
        .filter(|c| c.tenant.is_some() && c.actor.is_some())
}

/// A change, as the store names it.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    /// `document.upload`, `webhook.rotate_secret`, `broker.pact.create`, …
    pub action: &'a str,
    /// `document`, `webhook`, `key`, `tenant`, `registry.subject`, `broker.pact`, …
    pub resource_type: &'a str,
    pub resource_id: &'a str,
}

impl<'a> Change<'a> {
    pub fn of(action: &'a str, resource_type: &'a str, resource_id: &'a str) -> Self {
        Self {
            action,
            resource_type,
            resource_id,
        }
    }
}

/// The longest resource id kept (broker and registry names are the callers' own).
pub const MAX_RESOURCE_CHARS: usize = 256;

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Increases with every entry; the listing's cursor.
    pub seq: i64,
    pub at: OffsetDateTime,
    pub tenant: TenantId,
    pub actor: String,
    pub action: String,
    pub resource_type: String,
    pub resource_id: String,
    pub address: Option<String>,
    pub request_id: Option<String>,
}

/// Which entries to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only this action (`document.delete`), or every action under a prefix ending in
    /// `.` (`webhook.`).
    pub action: Option<String>,
    /// Recorded at or after.
    pub since: Option<OffsetDateTime>,
    /// Recorded before.
    pub until: Option<OffsetDateTime>,
}

/// How long entries are kept unless the operator says otherwise.
pub const DEFAULT_RETENTION_DAYS: u32 = 400;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_caller_is_known_only_once_identified_and_only_within_its_call() {
        let tenant = TenantId(uuid::Uuid::now_v7());
        assert_eq!(current(), None, "outside any call");
        within(Some("10.0.0.1".into()), Some("req-1".into()), async {
            assert_eq!(current(), None, "before authentication");
            identify(tenant, "key_0123456789abcdef");
            let c = current().expect("identified");
            assert_eq!(c.tenant, Some(tenant));
            assert_eq!(c.actor.as_deref(), Some("key_0123456789abcdef"));
            assert_eq!(c.address.as_deref(), Some("10.0.0.1"));
            assert_eq!(c.request_id.as_deref(), Some("req-1"));
        })
        .await;
        identify(tenant, "key_0123456789abcdef");
        assert_eq!(current(), None, "identify outside a call has no effect");
        as_operator(tenant, async {
            assert_eq!(current().and_then(|c| c.actor).as_deref(), Some(OPERATOR));
        })
        .await;
    }
}
