//! Webhook subscriptions and their delivery log, per tenant.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::model::TenantId;
use crate::{Backend, Result, webhooks};

impl Backend {
    /// Subscribes `tenant` to events at a checked public URL (or a private one, when the
    /// configuration allows); returns the subscription and its secret, shown only now.
    pub async fn create_webhook(
        &self,
        tenant: TenantId,
        new: webhooks::NewWebhook,
    ) -> Result<(webhooks::Webhook, String)> {
        let url = webhooks::validate(&new)?;
        webhooks::check_target(&url, self.0.config.webhooks.allow_private_targets).await?;
        let mut new = new;
        new.event_types.sort();
        new.event_types.dedup();
        let secret = webhooks::new_secret();
        let hook = self
            .0
            .store
            .create_webhook(tenant, &new, &secret, OffsetDateTime::now_utc())
            .await?;
        Ok((hook, secret))
    }

    pub async fn webhooks(&self, tenant: TenantId) -> Result<Vec<webhooks::Webhook>> {
        self.0.store.list_webhooks(tenant).await
    }

    pub async fn webhook(&self, tenant: TenantId, id: Uuid) -> Result<Option<webhooks::Webhook>> {
        self.0.store.get_webhook(tenant, id).await
    }

    pub async fn delete_webhook(&self, tenant: TenantId, id: Uuid) -> Result<bool> {
        self.0.store.delete_webhook(tenant, id).await
    }

    /// A new secret (shown only now); the old one keeps signing for the grace period.
    pub async fn rotate_webhook_secret(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Option<String>> {
        let secret = webhooks::new_secret();
        let until = OffsetDateTime::now_utc() + self.0.config.webhooks.previous_secret_grace;
        Ok(self
            .0
            .store
            .rotate_webhook_secret(tenant, id, &secret, until)
            .await?
            .then_some(secret))
    }

    pub async fn enable_webhook(&self, tenant: TenantId, id: Uuid) -> Result<bool> {
        self.0.store.enable_webhook(tenant, id).await
    }

    pub async fn webhook_deliveries(
        &self,
        tenant: TenantId,
        id: Uuid,
        limit: u32,
    ) -> Result<Vec<webhooks::Delivery>> {
        self.0.store.webhook_deliveries(tenant, id, limit).await
    }
}
