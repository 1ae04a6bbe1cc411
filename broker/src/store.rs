//! What the broker needs of a database: JSON records by kind, scope and key, in creation
//! order. The rules are written once over these few calls; each store implements them.

use async_trait::async_trait;

/// A store's failure, kept whole for the log (the client sees only that it happened).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct StoreError(pub Box<dyn std::error::Error + Send + Sync>);

impl StoreError {
    pub fn new(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Box::new(e))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// One record, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Creation order across every kind.
    pub seq: i64,
    pub scope: String,
    pub key: String,
    pub body: String,
}

/// The embedded Pact Broker's records.
#[async_trait]
pub trait RecordStore: Send + Sync {
    /// Creates the record; false (and nothing written) when it exists already.
    async fn broker_insert(
        &self,
        kind: &str,
        scope: &str,
        key: &str,
        body: &str,
    ) -> StoreResult<bool>;
    /// Replaces the body only if it is still `expected` (another writer may have changed
    /// it since it was read); false when it is not, or the record is gone.
    async fn broker_replace(
        &self,
        kind: &str,
        scope: &str,
        key: &str,
        expected: &str,
        body: &str,
    ) -> StoreResult<bool>;
    async fn broker_get(&self, kind: &str, scope: &str, key: &str) -> StoreResult<Option<Record>>;
    /// The records of `kind` (within `scope`, when given), oldest first.
    async fn broker_list(&self, kind: &str, scope: Option<&str>) -> StoreResult<Vec<Record>>;
    /// The records of `kind` within any of `scopes`, oldest first: a query per thousand
    /// scopes for what a read needs, instead of every record of the kind.
    async fn broker_list_in(&self, kind: &str, scopes: &[String]) -> StoreResult<Vec<Record>>;
    /// A number that changes whenever any record is inserted, replaced or deleted (by
    /// any replica): what was computed from the records at one generation holds while
    /// it is current.
    async fn broker_generation(&self) -> StoreResult<i64>;
    /// The scopes holding records of `kind`, without their bodies.
    async fn broker_scopes(&self, kind: &str) -> StoreResult<Vec<String>>;
    /// How many records of `kind` are within `scopes`, and their bodies' bytes.
    async fn broker_usage(&self, kind: &str, scopes: &[String]) -> StoreResult<(u64, u64)>;
    /// Removes one record, or (`key` None) every record of the scope; returns how many.
    async fn broker_delete(&self, kind: &str, scope: &str, key: Option<&str>) -> StoreResult<u64>;
}
