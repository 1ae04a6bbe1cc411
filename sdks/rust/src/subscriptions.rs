//! Webhook subscriptions on the [`Client`]: create, list, get, delete, rotate the secret,
//! enable, and the delivery log. (Checking a delivery in your receiver is
//! [`construct_event`](crate::construct_event).)

use futures::stream::{self, BoxStream, StreamExt};

use crate::Client;
use crate::error::{Error, Result, answer};
use crate::types::{
    DeliveryView, RotatedSecret, WebhookCreate, WebhookCreateUrl, WebhookEventType, WebhookView,
    WebhookWithSecret,
};

impl Client {
    /// Subscribes `url` to `events`. Keep the returned `secret` (`whsec_…`): it is shown
    /// only here, and [`construct_event`](crate::construct_event) needs it.
    ///
    /// ```no_run
    /// # async fn run(client: docintel_sdk::Client) -> Result<(), docintel_sdk::Error> {
    /// use docintel_sdk::types::WebhookEventType;
    /// let created = client
    ///     .create_webhook("https://hooks.example.com/docintel", &[WebhookEventType::DocProcessed])
    ///     .await?;
    /// println!("{} → keep {}", created.webhook.id, created.secret);
    /// # Ok(()) }
    /// ```
    pub async fn create_webhook(
        &self,
        url: &str,
        events: &[WebhookEventType],
    ) -> Result<WebhookWithSecret> {
        let url = WebhookCreateUrl::try_from(url).map_err(|e| Error::Invalid {
            code: "invalid_webhook".into(),
            detail: format!("url {url:?}: {e}"),
        })?;
        let body = WebhookCreate {
            description: None,
            event_types: events.to_vec(),
            url,
        };
        answer(self.raw().create_webhook().body(body).send()).await
    }

    /// Every subscription of this API key's tenant.
    ///
    /// ```no_run
    /// # async fn run(client: docintel_sdk::Client) -> Result<(), docintel_sdk::Error> {
    /// for w in client.webhooks().await? {
    ///     println!("{} {} {:?}", w.id, w.url, w.status);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn webhooks(&self) -> Result<Vec<WebhookView>> {
        Ok(answer(self.raw().list_webhooks().send()).await?.items)
    }

    /// One subscription: its status (a disabled one says why) and failure count.
    ///
    /// ```no_run
    /// # async fn run(client: docintel_sdk::Client, id: docintel_sdk::uuid::Uuid) -> Result<(), docintel_sdk::Error> {
    /// println!("{:?}", client.webhook(id).await?.status);
    /// # Ok(()) }
    /// ```
    pub async fn webhook(&self, id: uuid::Uuid) -> Result<WebhookView> {
        answer(self.raw().get_webhook().id(id).send()).await
    }

    /// Deletes a subscription; its pending deliveries are dropped.
    ///
    /// ```no_run
    /// # async fn run(client: docintel_sdk::Client, id: docintel_sdk::uuid::Uuid) -> Result<(), docintel_sdk::Error> {
    /// client.delete_webhook(id).await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_webhook(&self, id: uuid::Uuid) -> Result<()> {
        answer(self.raw().delete_webhook().id(id).send()).await
    }

    /// A new signing secret. Until `previous_secret_expires_at`, deliveries are signed
    /// with both, so a receiver can switch without losing one.
    ///
    /// ```no_run
    /// # async fn run(client: docintel_sdk::Client, id: docintel_sdk::uuid::Uuid) -> Result<(), docintel_sdk::Error> {
    /// let rotated = client.rotate_webhook_secret(id).await?;
    /// println!("new secret until further notice; old one until {}", rotated.previous_secret_expires_at);
    /// # Ok(()) }
    /// ```
    pub async fn rotate_webhook_secret(&self, id: uuid::Uuid) -> Result<RotatedSecret> {
        answer(self.raw().rotate_webhook_secret().id(id).send()).await
    }

    /// Enables a subscription docintel disabled after repeated failures; its pending
    /// deliveries resume.
    ///
    /// ```no_run
    /// # async fn run(client: docintel_sdk::Client, id: docintel_sdk::uuid::Uuid) -> Result<(), docintel_sdk::Error> {
    /// client.enable_webhook(id).await?;
    /// # Ok(()) }
    /// ```
    pub async fn enable_webhook(&self, id: uuid::Uuid) -> Result<WebhookView> {
        answer(self.raw().enable_webhook().id(id).send()).await
    }

    /// The subscription's delivery log, newest first (the latest 100): each event's
    /// status, attempts and last answer.
    ///
    /// ```no_run
    /// # async fn run(client: docintel_sdk::Client, id: docintel_sdk::uuid::Uuid) -> Result<(), docintel_sdk::Error> {
    /// use docintel_sdk::TryStreamExt;
    /// let mut deliveries = client.webhook_deliveries(id);
    /// while let Some(d) = deliveries.try_next().await? {
    ///     println!("{} {:?} after {} attempts", d.event_id, d.status, d.attempts);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn webhook_deliveries(&self, id: uuid::Uuid) -> BoxStream<'_, Result<DeliveryView>> {
        let page = async move {
            let list = answer(
                self.raw()
                    .list_webhook_deliveries()
                    .id(id)
                    .limit(std::num::NonZeroU32::new(100).unwrap_or(std::num::NonZeroU32::MIN))
                    .send(),
            )
            .await;
            match list {
                Ok(list) => stream::iter(list.items.into_iter().map(Ok)).boxed(),
                Err(e) => stream::once(async move { Err(e) }).boxed(),
            }
        };
        stream::once(page).flatten().boxed()
    }
}
