//! Tenants, their API keys and request limits, and the secrets the server keeps.

use rand::RngCore;
use time::OffsetDateTime;

use crate::model::{Tenant, TenantId};
use crate::{Backend, DEFAULT_TENANT, Error, Result, keys};

impl Backend {
    /// Creates the default tenant and its first key when the store has no tenant yet;
    /// returns the key, which is never shown again.
    pub async fn ensure_default_tenant(&self) -> Result<Option<String>> {
        if self.0.store.tenant_count().await? > 0 {
            return Ok(None);
        }
        // Processes that start at once on one database all saw no tenant: the one whose
        // claim is stored first creates it, so there is one default tenant and one key.
        let claim = uuid::Uuid::new_v4().to_string();
        let winner = self
            .0
            .store
            .setting_or_init("default_tenant_created_by", &claim)
            .await?;
        if winner != claim {
            return Ok(None);
        }
        self.create_key(DEFAULT_TENANT).await.map(Some)
    }

    /// Issues a new API key for `tenant`, creating the tenant if it does not exist.
    pub async fn create_key(&self, tenant: &str) -> Result<String> {
        self.create_key_with(tenant, false).await
    }

    /// Issues a key that may also administer the platform (schema registry writes).
    pub async fn create_admin_key(&self, tenant: &str) -> Result<String> {
        self.create_key_with(tenant, true).await
    }

    /// The tenant called `name`, created if it does not exist yet.
    async fn tenant_named(&self, name: &str) -> Result<Tenant> {
        match self.0.store.tenant_by_name(name).await? {
            Some(t) => Ok(t),
            None => {
                self.0
                    .store
                    .create_tenant(name, OffsetDateTime::now_utc())
                    .await
            }
        }
    }

    async fn create_key_with(&self, tenant: &str, admin: bool) -> Result<String> {
        let tenant = self.tenant_named(tenant).await?;
        let key = keys::generate();
        self.0
            .store
            .add_api_key(
                tenant.id,
                &keys::hash(&key),
                keys::display_prefix(&key),
                admin,
                OffsetDateTime::now_utc(),
            )
            .await?;
        Ok(key)
    }

    pub async fn authenticate(&self, key: &str) -> Result<Option<Tenant>> {
        self.authenticate_hash(&keys::hash(key)).await
    }

    /// [`Self::authenticate`] for a caller that already has the key's [`keys::hash`].
    pub async fn authenticate_hash(&self, key_hash: &str) -> Result<Option<Tenant>> {
        self.0.store.tenant_for_key(key_hash).await
    }

    pub async fn key_is_admin(&self, key: &str) -> Result<bool> {
        self.0.store.key_is_admin(&keys::hash(key)).await
    }

    /// A random secret persisted under `name`, the same across restarts.
    pub async fn secret(&self, name: &str) -> Result<Vec<u8>> {
        let mut fresh = [0u8; 32];
        rand::rng().fill_bytes(&mut fresh);
        let stored = self
            .0
            .store
            .setting_or_init(&format!("secret.{name}"), &hex::encode(fresh))
            .await?;
        hex::decode(stored).map_err(|e| Error::Corrupt(format!("secret {name}: {e}")))
    }

    /// Tenants with their own request limit: (tenant, quota, window seconds).
    pub async fn rate_limits(&self) -> Result<Vec<(TenantId, u32, u32)>> {
        self.0.store.rate_limits().await
    }

    /// Sets (or with `None` removes) a tenant's own limit; creates the tenant if new.
    pub async fn set_rate_limit(&self, tenant: &str, limit: Option<(u32, u32)>) -> Result<()> {
        let tenant = self.tenant_named(tenant).await?;
        self.0.store.set_rate_limit(tenant.id, limit).await
    }
}
