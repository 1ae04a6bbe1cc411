//! The tenant's storage usage and quotas on the [`Client`]. The calling key needs the
//! `documents:read` scope.

use crate::Client;
use crate::error::{Result, answer};
use crate::types::UsageView;

impl Client {
    /// The documents and bytes the tenant stores, and its quotas (`None`: no limit). An
    /// upload past a quota fails with the problem `quota_exceeded` (413), whose `usage`
    /// is this.
    ///
    /// ```no_run
    /// # async fn run(client: docintel_sdk::Client) -> Result<(), docintel_sdk::Error> {
    /// let usage = client.usage().await?;
    /// if let Some(max) = usage.max_documents {
    ///     println!("{} of {max} documents", usage.documents);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn usage(&self) -> Result<UsageView> {
        answer(self.raw().get_usage().send()).await
    }
}
