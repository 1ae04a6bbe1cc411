//! Tenants, their API keys and request limits, and the secrets the server keeps.

use rand::RngCore;
use time::OffsetDateTime;

use crate::keys::{ApiKey, KeyGrant, Scopes};
use crate::model::{QuotaSetting, StoredUsage, Tenant, TenantId};
use crate::store::NewKey;
use crate::{Backend, DEFAULT_TENANT, Error, Result, keys};

/// What a new key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    pub admin: bool,
    pub scopes: Scopes,
    pub expires_at: Option<OffsetDateTime>,
}

impl Default for KeySpec {
    fn default() -> Self {
        Self {
            admin: false,
            scopes: Scopes::ALL,
            expires_at: None,
        }
    }
}

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
        Ok(self.issue_key(tenant, KeySpec::default()).await?.0)
    }

    /// Issues a key that may also administer the platform (schema registry writes).
    pub async fn create_admin_key(&self, tenant: &str) -> Result<String> {
        let spec = KeySpec {
            admin: true,
            ..KeySpec::default()
        };
        Ok(self.issue_key(tenant, spec).await?.0)
    }

    /// The tenant called `name`, created if it does not exist yet.
    pub async fn tenant_named(&self, name: &str) -> Result<Tenant> {
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

    /// Issues a key for the tenant called `tenant` (created if new): the key, shown only
    /// now, and how it is listed.
    pub async fn issue_key(&self, tenant: &str, spec: KeySpec) -> Result<(String, ApiKey)> {
        let tenant = self.tenant_named(tenant).await?;
        self.issue_key_for(tenant.id, spec).await
    }

    /// [`Self::issue_key`] for a tenant known by id.
    pub async fn issue_key_for(&self, tenant: TenantId, spec: KeySpec) -> Result<(String, ApiKey)> {
        let key = keys::generate();
        let key_hash = keys::hash(&key);
        // Stored to the millisecond, as listed.
        let now = OffsetDateTime::from_unix_timestamp_nanos(
            OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000 * 1_000_000,
        )
        .unwrap_or_else(|_| OffsetDateTime::now_utc());
        self.0
            .store
            .add_api_key(
                tenant,
                NewKey {
                    key_hash: &key_hash,
                    prefix: keys::display_prefix(&key),
                    admin: spec.admin,
                    scopes: spec.scopes,
                    expires_at: spec.expires_at,
                    now,
                },
            )
            .await?;
        let listed = ApiKey {
            id: keys::key_id(&key_hash),
            prefix: keys::display_prefix(&key).to_owned(),
            scopes: spec.scopes,
            admin: spec.admin,
            created_at: now,
            last_used_at: None,
            expires_at: spec.expires_at,
            revoked_at: None,
        };
        Ok((key, listed))
    }

    /// The tenant called `name`, if there is one (nothing is created).
    pub async fn existing_tenant(&self, name: &str) -> Result<Option<Tenant>> {
        self.0.store.tenant_by_name(name).await
    }

    /// The keys of the tenant called `tenant` (none if there is no such tenant).
    pub async fn keys_of(&self, tenant: &str) -> Result<Option<(TenantId, Vec<ApiKey>)>> {
        match self.existing_tenant(tenant).await? {
            Some(t) => Ok(Some((t.id, self.0.store.api_keys(t.id).await?))),
            None => Ok(None),
        }
    }

    pub async fn api_keys(&self, tenant: TenantId) -> Result<Vec<ApiKey>> {
        self.0.store.api_keys(tenant).await
    }

    /// Revokes the tenant's key `id` at once; false when it has no such unrevoked key.
    pub async fn revoke_key(&self, tenant: TenantId, id: &str) -> Result<bool> {
        self.0
            .store
            .revoke_api_key(tenant, id, OffsetDateTime::now_utc())
            .await
    }

    pub async fn touch_key(&self, key_hash: &str) -> Result<()> {
        self.0
            .store
            .touch_api_key(key_hash, OffsetDateTime::now_utc())
            .await
    }

    /// See [`crate::store::TenantStore::key_generation`].
    pub async fn key_generation(&self) -> Result<i64> {
        self.0.store.key_generation().await
    }

    pub async fn authenticate(&self, key: &str) -> Result<Option<Tenant>> {
        Ok(self
            .authenticate_hash(&keys::hash(key))
            .await?
            .map(|g| g.tenant))
    }

    /// What the key with this [`keys::hash`] grants, if it is a valid, unrevoked key
    /// (expiry is the caller's to judge, to say why it refuses).
    pub async fn authenticate_hash(&self, key_hash: &str) -> Result<Option<KeyGrant>> {
        self.0.store.key_grant(key_hash).await
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

    /// Changes a tenant's own storage quotas; creates the tenant if new. Applies to the
    /// next upload of every process: the limits are read in the insert's transaction.
    pub async fn set_storage_quota(
        &self,
        tenant: &str,
        max_bytes: QuotaSetting,
        max_documents: QuotaSetting,
    ) -> Result<()> {
        let tenant = self.tenant_named(tenant).await?;
        self.0
            .store
            .set_storage_quota(tenant.id, max_bytes, max_documents)
            .await
    }

    /// What the tenant stores, with the quotas it has of its own.
    pub async fn stored_usage(&self, tenant: TenantId) -> Result<StoredUsage> {
        self.0.store.tenant_usage(tenant).await
    }

    /// Sets (or with `None` removes) a tenant's own limit; creates the tenant if new.
    pub async fn set_rate_limit(&self, tenant: &str, limit: Option<(u32, u32)>) -> Result<()> {
        let tenant = self.tenant_named(tenant).await?;
        self.0.store.set_rate_limit(tenant.id, limit).await
    }
}
