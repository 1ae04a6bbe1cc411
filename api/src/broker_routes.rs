//! The embedded Pact Broker (`docintel-broker`) as this API serves it: its key check and
//! request budget are the API's, and its links start at the configured public URL.

use async_trait::async_trait;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use docintel_broker::Caller;
use docintel_broker::http::{Authenticate, Authenticated, BrokerState, Denied};

use crate::state::AppState;

/// The broker's state over this API's.
pub fn state(state: &AppState) -> BrokerState {
    BrokerState {
        broker: state.backend.broker().clone(),
        auth: std::sync::Arc::new(Auth(state.clone())),
        prefix: state.broker_path.clone().unwrap_or_default(),
    }
}

struct Auth(AppState);

#[async_trait]
impl Authenticate for Auth {
    async fn authenticate(&self, parts: &Parts) -> Result<Authenticated, Denied> {
        let state = &self.0;
        let key = credential(&parts.headers).ok_or(Denied::Unauthorized)?;
        let hash = docintel_backend::keys::hash(&key);
        let tenant = state
            .keys
            .tenant(state, &hash)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "pact broker: checking a key");
                Denied::KeyCheck
            })?
            .ok_or(Denied::Unauthorized)?;
        tracing::Span::current().record("tenant", tenant.name.as_str());
        // The broker spends the key's requests as the API does (Basic credentials too,
        // which the per-address limit does not recognise as a key).
        crate::auth::spend_request(parts, state, &tenant, &hash)
            .await
            .map_err(|retry_after_secs| Denied::TooManyRequests { retry_after_secs })?;
        let admin = state
            .backend
            .key_is_admin(&key)
            .await
            .map_err(|e| Denied::Store(docintel_broker::StoreError::new(e)))?;
        Ok(Authenticated {
            caller: Caller {
                tenant: tenant.id.0,
                admin,
            },
            tenant_name: tenant.name,
        })
    }

    fn origin(&self, parts: &Parts) -> String {
        match (
            &self.0.public_url,
            parts.extensions.get::<crate::serve::LocalAddr>(),
        ) {
            (Some(url), _) => url.clone(),
            (None, Some(local)) => format!("http://{}", local.0),
            (None, None) => String::new(),
        }
    }
}

/// The key from `Authorization: Bearer <key>` or Basic (the key as the password).
fn credential(headers: &HeaderMap) -> Option<String> {
    crate::auth::bearer_key(headers)
        .map(str::to_owned)
        .or_else(|| crate::auth::basic_key(headers))
}
