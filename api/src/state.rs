//! What every handler shares.

use std::sync::Arc;

use docintel_backend::Backend;

use crate::auth::KeyCache;
use crate::deprecation::{Clock, system_clock};
use crate::pagination::PageTokens;

#[derive(Clone)]
pub struct AppState {
    pub backend: Backend,
    pub page_tokens: Arc<PageTokens>,
    pub keys: Arc<KeyCache>,
    /// Decides when deprecated routes are past their sunset.
    pub clock: Clock,
}

impl AppState {
    /// Builds the state; the page-token signing key is persisted so tokens survive restarts.
    pub async fn new(backend: Backend) -> docintel_backend::Result<Self> {
        let secret = backend.secret("page_tokens").await?;
        Ok(Self {
            page_tokens: Arc::new(PageTokens::new(&secret)),
            keys: Arc::new(KeyCache::default()),
            clock: system_clock(),
            backend,
        })
    }
}
