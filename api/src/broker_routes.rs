//! The embedded Pact Broker (`docintel-broker`) as this API serves it: its key check and
//! request budget are the API's, and its links start at the configured public URL.

use async_trait::async_trait;
use axum::extract::FromRef;
use axum::http::request::Parts;
use docintel_broker::Caller;
use docintel_broker::http::{Authenticate, Authenticated, BrokerState, Denied};

use crate::auth::{AuthState, Schemes};
use crate::error::ApiError;
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
        // The API's one key check: the key cache, and the key's request budget.
        let found = crate::auth::authenticate(
            &AuthState::from_ref(state),
            &parts.headers,
            &parts.extensions,
            Schemes::BearerOrBasic,
        )
        .await
        .map_err(|e| match e {
            ApiError::Unauthorized(_) => Denied::Unauthorized,
            ApiError::RateLimited(retry_after_secs) => Denied::TooManyRequests { retry_after_secs },
            other => {
                tracing::error!(error = %other, "pact broker: checking a key");
                Denied::KeyCheck
            }
        })?;
        let admin = state
            .backend
            .key_is_admin(&found.key)
            .await
            .map_err(|e| Denied::Store(docintel_broker::StoreError::new(e)))?;
        Ok(Authenticated {
            caller: Caller {
                tenant: found.tenant.id.0,
                admin,
            },
            tenant_name: found.tenant.name,
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
