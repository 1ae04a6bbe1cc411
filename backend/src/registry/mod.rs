//! The embedded schema registry: the rules of Confluent's Schema Registry (subjects,
//! versions, global schema ids, compatibility levels, soft deletes) over the store. The
//! façade serves it under Confluent's REST API; [`client`] talks to any such registry.

pub mod client;

use std::sync::Arc;

use apache_avro::Schema;
use tokio::sync::{Mutex, Semaphore};

/// Attempts to add a version while other processes keep adding to the same subject.
const REGISTER_RETRIES: usize = 8;

use crate::schemas::{self, Mode};
use crate::store::{RegistryVersion, Store};

/// Confluent's default level for a registry nobody configured.
pub const DEFAULT_LEVEL: Mode = Mode::Backward;
/// Largest schema accepted (Avro schemas are small; this bounds the work a request buys).
pub const MAX_SCHEMA_BYTES: usize = 256 * 1024;

/// The registry's errors, each with Confluent's HTTP status and `error_code`.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("Subject '{0}' not found.")]
    SubjectNotFound(String),
    #[error("Version {0} not found.")]
    VersionNotFound(VersionRef),
    #[error("Schema not found")]
    SchemaNotFound,
    #[error("Subject '{0}' was soft deleted. Set permanent=true to delete permanently")]
    SubjectSoftDeleted(String),
    #[error("Subject '{0}' was not deleted first before being permanently deleted")]
    SubjectNotSoftDeleted(String),
    #[error("Version {0} was not deleted first before being permanently deleted")]
    VersionNotSoftDeleted(i64),
    #[error("Subject '{0}' does not have subject-level compatibility configured")]
    SubjectConfigNotFound(String),
    #[error(
        "Schema being registered is incompatible with an earlier schema for subject \"{subject}\", details: [{}]",
        .messages.join(", ")
    )]
    Incompatible {
        subject: String,
        messages: Vec<String>,
    },
    #[error("Invalid schema: {0}")]
    InvalidSchema(String),
    #[error(
        "The specified version '{0}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\""
    )]
    InvalidVersion(String),
    #[error(
        "Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive"
    )]
    InvalidLevel,
    #[error("Invalid schema: {0}")]
    TooComplex(#[from] schemas::compat::TooComplex),
    #[error("Error in the backend data store: {0}")]
    Store(#[from] crate::Error),
}

impl RegistryError {
    /// (HTTP status, Confluent `error_code`).
    pub fn codes(&self) -> (u16, u32) {
        match self {
            RegistryError::SubjectNotFound(_) => (404, 40401),
            RegistryError::VersionNotFound(_) => (404, 40402),
            RegistryError::SchemaNotFound => (404, 40403),
            RegistryError::SubjectSoftDeleted(_) => (404, 40404),
            RegistryError::SubjectNotSoftDeleted(_) => (404, 40405),
            RegistryError::VersionNotSoftDeleted(_) => (404, 40407),
            RegistryError::SubjectConfigNotFound(_) => (404, 40408),
            RegistryError::Incompatible { .. } => (409, 409),
            RegistryError::InvalidSchema(_) | RegistryError::TooComplex(_) => (422, 42201),
            RegistryError::InvalidVersion(_) => (422, 42202),
            RegistryError::InvalidLevel => (422, 42203),
            RegistryError::Store(_) => (500, 50001),
        }
    }
}

pub type Result<T, E = RegistryError> = std::result::Result<T, E>;

/// A version request: a number or `latest` (`-1` is Confluent's alias for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionRef {
    Latest,
    Number(i64),
}

impl std::fmt::Display for VersionRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VersionRef::Latest => f.write_str("latest"),
            VersionRef::Number(n) => write!(f, "{n}"),
        }
    }
}

impl std::str::FromStr for VersionRef {
    type Err = RegistryError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "latest" | "-1" => Ok(VersionRef::Latest),
            _ => match s.parse::<i64>() {
                Ok(n) if (1..=i32::MAX as i64).contains(&n) => Ok(VersionRef::Number(n)),
                _ => Err(RegistryError::InvalidVersion(s.to_owned())),
            },
        }
    }
}

/// A registered version, as the REST API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub subject: String,
    pub version: i64,
    pub id: i64,
    pub schema: String,
}

/// A schema a client sent: checked, and in the compact JSON form that is stored (so the
/// same schema sent with other spacing or key order gets the same id).
#[derive(Debug, Clone)]
pub struct Candidate {
    pub text: String,
    pub parsed: Schema,
}

impl Candidate {
    /// `schema_type` and `references` are the request's fields; only self-contained Avro
    /// schemas are supported.
    pub fn parse(text: &str, schema_type: Option<&str>, has_references: bool) -> Result<Self> {
        if let Some(t) = schema_type.filter(|t| !t.eq_ignore_ascii_case("AVRO")) {
            return Err(RegistryError::InvalidSchema(format!(
                "schema type {t} is not supported; this registry holds AVRO schemas"
            )));
        }
        if has_references {
            return Err(RegistryError::InvalidSchema(
                "schema references are not supported".to_owned(),
            ));
        }
        if text.len() > MAX_SCHEMA_BYTES {
            return Err(RegistryError::InvalidSchema(format!(
                "the schema is {} bytes; the limit is {MAX_SCHEMA_BYTES}",
                text.len()
            )));
        }
        let json: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| RegistryError::InvalidSchema(format!("not JSON: {e}")))?;
        let parsed =
            Schema::parse(&json).map_err(|e| RegistryError::InvalidSchema(e.to_string()))?;
        Ok(Self {
            text: json.to_string(),
            parsed,
        })
    }
}

/// The embedded registry. Writes are serialized (a check-then-add must not interleave
/// with another); one process owns the embedded store.
#[derive(Clone)]
pub struct Registry {
    store: Arc<dyn Store>,
    writes: Arc<Mutex<()>>,
    /// Compatibility checks run at once: each is bounded, but they are CPU work that
    /// requests without a key can ask for, so they never take more than these threads.
    checks: Arc<Semaphore>,
}

/// Compatibility checks that may run at once (a fair share of a small machine).
const CONCURRENT_CHECKS: usize = 2;

impl Registry {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            writes: Arc::new(Mutex::new(())),
            checks: Arc::new(Semaphore::new(CONCURRENT_CHECKS)),
        }
    }

    /// Parses the stored versions and checks `schema` against them under `mode`, on a
    /// blocking thread so that a large check never holds up the server's other requests.
    /// `Ok(Err(messages))` says incompatible.
    async fn check(
        &self,
        mode: Mode,
        against: Vec<RegistryVersion>,
        schema: &Candidate,
    ) -> Result<std::result::Result<(), Vec<String>>> {
        let _permit = self.checks.acquire().await.map_err(|_| {
            RegistryError::Store(crate::Error::Unavailable {
                service: "registry",
                detail: "shutting down".to_owned(),
            })
        })?;
        let new = schema.parsed.clone();
        let verdict = tokio::task::spawn_blocking(move || {
            let earlier = parse_all(&against)?;
            Ok::<_, RegistryError>(schemas::check(mode, &earlier, &new))
        })
        .await
        .map_err(|e| {
            RegistryError::Store(crate::Error::Corrupt(format!(
                "the compatibility check failed: {e}"
            )))
        })??;
        match verdict {
            Ok(()) => Ok(Ok(())),
            Err(schemas::Refusal::Incompatible(messages)) => Ok(Err(messages)),
            Err(schemas::Refusal::TooComplex(e)) => Err(e.into()),
        }
    }

    pub async fn subjects(&self, deleted: bool) -> Result<Vec<String>> {
        Ok(self.store.registry_subjects(deleted).await?)
    }

    /// Versions not soft-deleted, oldest first (none for an unknown subject).
    async fn live_versions(&self, subject: &str) -> Result<Vec<RegistryVersion>> {
        Ok(self
            .store
            .registry_versions(subject)
            .await?
            .into_iter()
            .filter(|v| !v.deleted)
            .collect())
    }

    /// Live versions, oldest first; `SubjectNotFound` when there is none.
    async fn live(&self, subject: &str) -> Result<Vec<RegistryVersion>> {
        let live = self.live_versions(subject).await?;
        if live.is_empty() {
            return Err(RegistryError::SubjectNotFound(subject.to_owned()));
        }
        Ok(live)
    }

    pub async fn versions(&self, subject: &str) -> Result<Vec<i64>> {
        Ok(self
            .live(subject)
            .await?
            .iter()
            .map(|v| v.version)
            .collect())
    }

    pub async fn version(&self, subject: &str, version: VersionRef) -> Result<Registered> {
        let live = self.live(subject).await?;
        let found = match version {
            VersionRef::Latest => live.last(),
            VersionRef::Number(n) => live.iter().find(|v| v.version == n),
        };
        let v = found.ok_or(RegistryError::VersionNotFound(version))?;
        Ok(registered(subject, v))
    }

    /// The schema with a global id; with `subject`, only if that subject uses it.
    pub async fn schema_by_id(&self, id: i64, subject: Option<&str>) -> Result<String> {
        if let Some(subject) = subject {
            let versions = self.store.registry_versions(subject).await?;
            if !versions.iter().any(|v| v.schema_id == id && !v.deleted) {
                return Err(RegistryError::SchemaNotFound);
            }
        }
        self.store
            .registry_schema(id)
            .await?
            .ok_or(RegistryError::SchemaNotFound)
    }

    /// Whether `subject` holds `schema`, and as which version.
    pub async fn lookup(&self, subject: &str, schema: &Candidate) -> Result<Registered> {
        let live = self.live(subject).await?;
        live.iter()
            .rev()
            .find(|v| v.schema == schema.text)
            .map(|v| registered(subject, v))
            .ok_or(RegistryError::SchemaNotFound)
    }

    /// Registers `schema` under `subject` (a no-op returning the existing id when the
    /// subject already holds it); refused when the subject's level forbids it.
    pub async fn register(&self, subject: &str, schema: &Candidate) -> Result<i64> {
        let _guard = self.writes.lock().await;
        // Another process on the same database may register between our read and our
        // write: the write only lands on the history that was checked, else we re-read.
        for _ in 0..REGISTER_RETRIES {
            let all = self.store.registry_versions(subject).await?;
            let after = all.iter().map(|v| v.version).max().unwrap_or(0);
            let live: Vec<RegistryVersion> = all.into_iter().filter(|v| !v.deleted).collect();
            if let Some(same) = live.iter().find(|v| v.schema == schema.text) {
                return Ok(same.schema_id);
            }
            let mode = self.level(subject).await?;
            self.check(mode, live, schema).await?.map_err(|messages| {
                RegistryError::Incompatible {
                    subject: subject.to_owned(),
                    messages,
                }
            })?;
            let id = self
                .store
                .registry_schema_id(&schema.text, true)
                .await?
                .ok_or_else(|| crate::Error::Corrupt("registered schema has no id".to_owned()))?;
            if self
                .store
                .registry_add_version(subject, id, after)
                .await?
                .is_some()
            {
                return Ok(id);
            }
        }
        Err(crate::Error::Unavailable {
            service: "database",
            detail: format!("subject {subject} kept changing while registering; try again"),
        }
        .into())
    }

    /// Whether `schema` could follow `version` (with `Latest`, every live version the
    /// subject's level looks at) under the subject's level. `Ok(Err(messages))` says no.
    pub async fn test_compatibility(
        &self,
        subject: &str,
        version: VersionRef,
        schema: &Candidate,
    ) -> Result<std::result::Result<(), Vec<String>>> {
        let live = self.live(subject).await?;
        let mode = self.level(subject).await?;
        let against: Vec<RegistryVersion> = match version {
            VersionRef::Latest => live,
            VersionRef::Number(n) => vec![
                live.into_iter()
                    .find(|v| v.version == n)
                    .ok_or(RegistryError::VersionNotFound(version))?,
            ],
        };
        self.check(mode, against, schema).await
    }

    /// The level that applies to `subject`: its own, else the global one, else BACKWARD.
    pub async fn level(&self, subject: &str) -> Result<Mode> {
        let stored = match self.store.registry_config(subject).await? {
            Some(level) => Some(level),
            None => self.store.registry_config("").await?,
        };
        match stored {
            Some(level) => level.parse().map_err(|_| RegistryError::InvalidLevel),
            None => Ok(DEFAULT_LEVEL),
        }
    }

    /// The level configured for `subject` (`None`: the global level).
    pub async fn config(&self, subject: Option<&str>) -> Result<Mode> {
        match subject {
            None => self.level("").await,
            Some(s) => match self.store.registry_config(s).await? {
                Some(level) => level.parse().map_err(|_| RegistryError::InvalidLevel),
                None => Err(RegistryError::SubjectConfigNotFound(s.to_owned())),
            },
        }
    }

    pub async fn set_config(&self, subject: Option<&str>, level: &str) -> Result<Mode> {
        let mode: Mode = level.parse().map_err(|_| RegistryError::InvalidLevel)?;
        self.store
            .registry_set_config(subject.unwrap_or(""), Some(mode.as_str()))
            .await?;
        Ok(mode)
    }

    /// Removes a subject's own level; returns the level it had.
    pub async fn delete_config(&self, subject: &str) -> Result<Mode> {
        let had = self.config(Some(subject)).await?;
        self.store.registry_set_config(subject, None).await?;
        Ok(had)
    }

    /// Soft-deletes a subject (its versions stay readable by id), or with `permanent`
    /// removes a subject soft-deleted before. Returns the versions affected.
    pub async fn delete_subject(&self, subject: &str, permanent: bool) -> Result<Vec<i64>> {
        let _guard = self.writes.lock().await;
        let all = self.store.registry_versions(subject).await?;
        if all.is_empty() {
            return Err(RegistryError::SubjectNotFound(subject.to_owned()));
        }
        let live: Vec<i64> = all
            .iter()
            .filter(|v| !v.deleted)
            .map(|v| v.version)
            .collect();
        if permanent {
            if !live.is_empty() {
                return Err(RegistryError::SubjectNotSoftDeleted(subject.to_owned()));
            }
            self.store.registry_delete(subject, None, true).await?;
            return Ok(all.iter().map(|v| v.version).collect());
        }
        if live.is_empty() {
            return Err(RegistryError::SubjectSoftDeleted(subject.to_owned()));
        }
        self.store.registry_delete(subject, None, false).await?;
        Ok(live)
    }

    /// Soft-deletes one version, or with `permanent` removes one soft-deleted before.
    pub async fn delete_version(
        &self,
        subject: &str,
        version: VersionRef,
        permanent: bool,
    ) -> Result<i64> {
        let _guard = self.writes.lock().await;
        let all = self.store.registry_versions(subject).await?;
        if all.is_empty() {
            return Err(RegistryError::SubjectNotFound(subject.to_owned()));
        }
        let target = match version {
            VersionRef::Latest => all.iter().rev().find(|v| !v.deleted),
            VersionRef::Number(n) => all.iter().find(|v| v.version == n),
        };
        let v = target.ok_or(RegistryError::VersionNotFound(version))?;
        if permanent {
            if !v.deleted {
                return Err(RegistryError::VersionNotSoftDeleted(v.version));
            }
        } else if v.deleted {
            return Err(RegistryError::VersionNotFound(version));
        }
        self.store
            .registry_delete(subject, Some(v.version), permanent)
            .await?;
        Ok(v.version)
    }
}

fn registered(subject: &str, v: &RegistryVersion) -> Registered {
    Registered {
        subject: subject.to_owned(),
        version: v.version,
        id: v.schema_id,
        schema: v.schema.clone(),
    }
}

fn parse_all(versions: &[RegistryVersion]) -> Result<Vec<Schema>> {
    versions
        .iter()
        .map(|v| {
            Schema::parse_str(&v.schema).map_err(|e| {
                RegistryError::Store(crate::Error::Corrupt(format!(
                    "stored schema {}: {e}",
                    v.schema_id
                )))
            })
        })
        .collect()
}
