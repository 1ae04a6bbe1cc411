//! API keys on the [`Client`]: create one with only the scopes it needs, list them
//! (never their secrets), revoke one. The calling key needs the `keys:manage` scope.

use crate::Client;
use crate::error::{Error, Result, answer};
use crate::types::{KeyCreate, KeyScope, KeyView, KeyWithSecret, RevokeKeyId};

impl Client {
    /// A new key of this key's tenant, holding `scopes` (each one this key holds) and
    /// expiring at `expires_at` (never, with `None`). Keep the returned `secret`: it is
    /// shown only here.
    ///
    /// ```no_run
    /// # async fn run(client: docintel_sdk::Client) -> Result<(), docintel_sdk::Error> {
    /// use docintel_sdk::types::KeyScope;
    /// let made = client.create_key(&[KeyScope::DocumentsRead], None).await?;
    /// println!("{} ({}) → give {} to the dashboard", made.key.id, made.key.prefix, made.secret);
    /// # Ok(()) }
    /// ```
    pub async fn create_key(
        &self,
        scopes: &[KeyScope],
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<KeyWithSecret> {
        let body = KeyCreate {
            expires_at,
            scopes: scopes.to_vec(),
        };
        answer(self.raw().create_key().body(body).send()).await
    }

    /// The tenant's unrevoked keys, oldest first: id, prefix, scopes, when each was
    /// created and last used, and when it expires.
    ///
    /// ```no_run
    /// # async fn run(client: docintel_sdk::Client) -> Result<(), docintel_sdk::Error> {
    /// for k in client.keys().await? {
    ///     println!("{} {} {:?} last used {:?}", k.id, k.prefix, k.scopes, k.last_used_at);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn keys(&self) -> Result<Vec<KeyView>> {
        Ok(answer(self.raw().list_keys().send()).await?.items)
    }

    /// Revokes the key `id` (`key_…`, as [`Client::keys`] lists it): it stops working at
    /// once.
    ///
    /// ```no_run
    /// # async fn run(client: docintel_sdk::Client) -> Result<(), docintel_sdk::Error> {
    /// client.revoke_key("key_4f2a9c1e7b3d5a08").await?;
    /// # Ok(()) }
    /// ```
    pub async fn revoke_key(&self, id: &str) -> Result<()> {
        let id = RevokeKeyId::try_from(id).map_err(|e| Error::Invalid {
            code: "invalid_id".into(),
            detail: format!("key id {id:?}: {e}"),
        })?;
        answer(self.raw().revoke_key().id(id).send()).await
    }
}
