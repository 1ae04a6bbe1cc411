//! What the broker stores, one serde type per record kind, and the typed reads and
//! writes over [`RecordStore`].

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::store::{Record, RecordStore, StoreError};
use crate::{BrokerError, Result};

pub const PACTICIPANT: &str = "pacticipant";
pub const VERSION: &str = "version";
pub const PACT: &str = "pact";
pub const PACT_CONTENT: &str = "pact-content";
pub const VERIFICATION: &str = "verification";
/// A verification's `testResults`, apart: reads that choose or judge pacts never load them.
pub const TEST_RESULTS: &str = "test-results";
pub const ENVIRONMENT: &str = "environment";
pub const DEPLOYMENT: &str = "deployment";
pub const RELEASE: &str = "release";
/// Which pacticipant a deployment or release belongs to, by its uuid (scope: the record's
/// kind): the Pact Broker addresses them as `/deployed-versions/{uuid}` alone.
pub const DEPLOYMENT_OWNER: &str = "deployment-owner";

/// The scope of what belongs to one consumer–provider pair. Names never hold control
/// characters ([`crate::check_name`]), so the separator cannot be forged.
pub fn pair(consumer: &str, provider: &str) -> String {
    format!("{consumer}\u{1f}{provider}")
}

pub fn split_pair(scope: &str) -> Option<(&str, &str)> {
    scope.split_once('\u{1f}')
}

pub fn now() -> String {
    timestamp(OffsetDateTime::now_utc())
}

pub fn timestamp(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Pacticipant {
    pub name: String,
    #[serde(default)]
    pub main_branch: Option<String>,
    /// The tenant whose keys may publish as this pacticipant: the first to publish as
    /// it. `None` for one created only as the other side of a pact.
    #[serde(default)]
    pub owner: Option<String>,
    /// The tenant whose pact first named it, for an unowned one: what it counts against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub named_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository_url: Option<String>,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

impl Pacticipant {
    /// A new pacticipant with nothing but its name.
    pub(crate) fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            main_branch: None,
            owner: None,
            named_by: None,
            display_name: None,
            repository_url: None,
            created_at: now(),
            updated_at: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Version {
    pub number: String,
    #[serde(default)]
    pub branches: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub build_url: Option<String>,
    pub created_at: String,
}

/// A consumer version's pact with one provider: which content (by digest) it published.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PactRef {
    pub sha: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    pub id: String,
    /// The pact content verified (every consumer version that published it shares it).
    pub sha: String,
    pub provider_version: String,
    pub success: bool,
    #[serde(default)]
    pub build_url: Option<String>,
    #[serde(default)]
    pub verified_by: Value,
    /// Filled only where a result is shown on its own; stored as [`TEST_RESULTS`].
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub test_results: Value,
    pub created_at: String,
    /// Published through a work-in-progress pact's URL: it ends the pact's pending
    /// status, never its WIP status.
    #[serde(default)]
    pub wip: bool,
    /// Whether the pact was pending for this verification, as its URL said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Environment {
    pub uuid: String,
    pub name: String,
    #[serde(default)]
    pub display_name: Option<String>,
    pub production: bool,
    /// Who to ask about it: the Pact Broker's `contacts`, as sent.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub contacts: Value,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

/// A recorded deployment (kind [`DEPLOYMENT`]) or release (kind [`RELEASE`]).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    pub uuid: String,
    pub version: String,
    pub environment: String,
    #[serde(default)]
    pub target: Option<String>,
    /// Currently deployed (a deployment) or currently supported (a release).
    pub current: bool,
    pub created_at: String,
    #[serde(default)]
    pub ended_at: Option<String>,
}

/// The pacticipant a deployment or release (by uuid) belongs to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentOwner {
    pub pacticipant: String,
}

/// A record read back: its creation order and value.
#[derive(Debug, Clone)]
pub struct Stored<T> {
    pub seq: i64,
    pub scope: String,
    pub key: String,
    pub value: T,
    /// The body as stored, for a compare-and-swap update.
    pub raw: String,
}

/// A record that does not decode, as the store's failure.
#[derive(Debug, thiserror::Error)]
#[error("corrupt broker record {scope} {key}: {source}")]
struct Corrupt {
    scope: String,
    key: String,
    source: serde_json::Error,
}

fn decode<T: DeserializeOwned>(r: Record) -> Result<Stored<T>> {
    let value = serde_json::from_str(&r.body).map_err(|source| {
        BrokerError::Store(StoreError::new(Corrupt {
            scope: r.scope.clone(),
            key: r.key.clone(),
            source,
        }))
    })?;
    Ok(Stored {
        seq: r.seq,
        scope: r.scope,
        key: r.key,
        value,
        raw: r.body,
    })
}

fn encode<T: Serialize>(value: &T) -> String {
    // Serializing these plain structs cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

/// Typed access to the records.
#[derive(Clone)]
pub struct Records(pub std::sync::Arc<dyn RecordStore>);

impl Records {
    /// The store's generation: see [`RecordStore::broker_generation`].
    pub async fn generation(&self) -> Result<i64> {
        Ok(self.0.broker_generation().await?)
    }

    pub async fn get<T: DeserializeOwned>(
        &self,
        kind: &str,
        scope: &str,
        key: &str,
    ) -> Result<Option<Stored<T>>> {
        self.0
            .broker_get(kind, scope, key)
            .await?
            .map(decode)
            .transpose()
    }

    pub async fn list<T: DeserializeOwned>(
        &self,
        kind: &str,
        scope: Option<&str>,
    ) -> Result<Vec<Stored<T>>> {
        self.0
            .broker_list(kind, scope)
            .await?
            .into_iter()
            .map(decode)
            .collect()
    }

    /// The records of `kind` in any of `scopes`, oldest first.
    pub async fn list_in<T: DeserializeOwned>(
        &self,
        kind: &str,
        scopes: &[String],
    ) -> Result<Vec<Stored<T>>> {
        self.0
            .broker_list_in(kind, scopes)
            .await?
            .into_iter()
            .map(decode)
            .collect()
    }

    /// The consumer–provider pairs with a record of `kind` where `which(consumer,
    /// provider)`, read from the scopes alone.
    pub async fn pairs(
        &self,
        kind: &str,
        which: impl Fn(&str, &str) -> bool,
    ) -> Result<Vec<String>> {
        Ok(self
            .0
            .broker_scopes(kind)
            .await?
            .into_iter()
            .filter(|scope| split_pair(scope).is_some_and(|(c, p)| which(c, p)))
            .collect())
    }

    pub async fn insert<T: Serialize>(
        &self,
        kind: &str,
        scope: &str,
        key: &str,
        value: &T,
    ) -> Result<bool> {
        Ok(self
            .0
            .broker_insert(kind, scope, key, &encode(value))
            .await?)
    }

    /// Writes `change(current)` over the record, retrying while other writers change it
    /// meanwhile; creates it from `initial` when absent. Returns the value written.
    pub async fn upsert<T, F>(
        &self,
        kind: &str,
        scope: &str,
        key: &str,
        initial: T,
        change: F,
    ) -> Result<T>
    where
        T: Serialize + DeserializeOwned + Clone,
        F: Fn(&mut T),
    {
        for _ in 0..16 {
            match self.get::<T>(kind, scope, key).await? {
                None => {
                    let mut value = initial.clone();
                    change(&mut value);
                    if self.insert(kind, scope, key, &value).await? {
                        return Ok(value);
                    }
                }
                Some(stored) => {
                    let mut value = stored.value.clone();
                    change(&mut value);
                    let body = encode(&value);
                    if body == stored.raw
                        || self
                            .0
                            .broker_replace(kind, scope, key, &stored.raw, &body)
                            .await?
                    {
                        return Ok(value);
                    }
                }
            }
        }
        Err(BrokerError::Busy)
    }

    pub async fn delete(&self, kind: &str, scope: &str, key: Option<&str>) -> Result<u64> {
        Ok(self.0.broker_delete(kind, scope, key).await?)
    }
}
