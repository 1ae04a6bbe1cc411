//! What every handler shares.

use std::sync::Arc;

use docintel_backend::Backend;

use crate::auth::KeyCache;
use crate::deprecation::{Clock, system_clock};
use crate::pagination::PageTokens;

/// Cloned for every request by axum's `State`, hence one `Arc` inside.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub backend: Backend,
    pub page_tokens: PageTokens,
    pub keys: KeyCache,
    pub idempotency: crate::v2::idempotency::KeyLocks,
    /// Decides when deprecated routes are past their sunset.
    pub clock: Clock,
}

impl AppState {
    /// Builds the state; the page-token signing key is persisted so tokens survive restarts.
    pub async fn new(backend: Backend) -> docintel_backend::Result<Self> {
        let secret = backend.secret("page_tokens").await?;
        Ok(Self(Arc::new(Shared {
            page_tokens: PageTokens::new(&secret),
            keys: KeyCache::default(),
            idempotency: Default::default(),
            clock: system_clock(),
            backend,
        })))
    }

    /// Replaces the clock that decides sunsets (tests use a fixed one).
    pub fn with_clock(self, clock: Clock) -> Self {
        let Shared {
            backend,
            page_tokens,
            keys,
            idempotency,
            ..
        } = Arc::try_unwrap(self.0).unwrap_or_else(|_| unreachable!("state is not shared yet"));
        Self(Arc::new(Shared {
            backend,
            page_tokens,
            keys,
            idempotency,
            clock,
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}
