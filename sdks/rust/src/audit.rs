//! The tenant's audit trail on the [`Client`]: every change made to its data, by which
//! key, from which address, under which request id. The calling key needs the
//! `audit:read` scope.

use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};

use crate::Client;
use crate::error::{Error, Result, answer};
use crate::types::{AuditEventPage, AuditEventView};

/// Filters for [`Client::audit_events`]. All optional.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this action (`document.delete`), or, ending in `.`, every action it starts
    /// (`webhook.`).
    pub action: Option<String>,
    /// Only entries recorded at or after this instant.
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Only entries recorded before this instant.
    pub until: Option<chrono::DateTime<chrono::Utc>>,
}

/// Entries asked for per request.
const PAGE: u32 = 100;

impl Client {
    /// One page of the audit trail, newest first; pass its `next_page` to get the next.
    ///
    /// ```no_run
    /// # async fn run(client: docintel_sdk::Client) -> Result<(), docintel_sdk::Error> {
    /// let page = client.audit_events_page(&Default::default(), None).await?;
    /// println!("{} entries, more: {}", page.items.len(), page.next_page.is_some());
    /// # Ok(()) }
    /// ```
    pub async fn audit_events_page(
        &self,
        filter: &AuditFilter,
        page_token: Option<&str>,
    ) -> Result<AuditEventPage> {
        let invalid = |detail: String| Error::Invalid {
            code: "invalid_parameter".into(),
            detail,
        };
        let mut req = self.raw().list_audit_events().limit(PAGE);
        if let Some(action) = &filter.action {
            let action = crate::types::ListAuditEventsAction::try_from(action.as_str())
                .map_err(|e| invalid(format!("action {action:?}: {e}")))?;
            req = req.action(action);
        }
        if let Some(t) = filter.since {
            req = req.since(t);
        }
        if let Some(t) = filter.until {
            req = req.until(t);
        }
        if let Some(token) = page_token {
            let token = crate::types::ListAuditEventsPageToken::try_from(token).map_err(|e| {
                Error::Invalid {
                    code: "invalid_page_token".into(),
                    detail: format!("page_token {token:?}: {e}"),
                }
            })?;
            req = req.page_token(token);
        }
        answer(req.send()).await
    }

    /// Every entry of the audit trail matching `filter`, newest first, fetching pages
    /// as the stream is read.
    ///
    /// ```no_run
    /// # async fn run(client: docintel_sdk::Client) -> Result<(), docintel_sdk::Error> {
    /// use docintel_sdk::TryStreamExt;
    /// let filter = docintel_sdk::AuditFilter {
    ///     action: Some("document.delete".into()),
    ///     ..Default::default()
    /// };
    /// let mut entries = client.audit_events(filter);
    /// while let Some(e) = entries.try_next().await? {
    ///     println!("{} {} deleted {} from {:?}", e.at, e.actor, e.resource_id, e.address);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn audit_events(&self, filter: AuditFilter) -> BoxStream<'_, Result<AuditEventView>> {
        crate::client::pages(
            move |token| {
                let filter = filter.clone();
                async move { self.audit_events_page(&filter, token.as_deref()).await }
            },
            |page: &AuditEventPage| page.next_page.clone(),
        )
        .map_ok(|page| stream::iter(page.items.into_iter().map(Ok)))
        .try_flatten()
        .boxed()
    }
}
