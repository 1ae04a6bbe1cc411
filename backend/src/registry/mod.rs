//! The embedded schema registry: the rules of Confluent's Schema Registry (subjects,
//! versions, global schema ids, compatibility levels, soft deletes) over the store. The
//! façade serves it under Confluent's REST API; [`client`] talks to any such registry.

pub mod client;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use apache_avro::Schema;
use tokio::sync::{Mutex, Semaphore};

/// Attempts to add a version while other processes keep adding to the same subject.
const REGISTER_RETRIES: usize = 8;

use crate::schemas::{self, Mode, Rules, WithRefs};
use crate::store::{RegistryReference, RegistrySchema, RegistryUse, RegistryVersion, Store};

/// Confluent's default level for a registry nobody configured.
pub const DEFAULT_LEVEL: Mode = Mode::Backward;
/// Largest schema accepted (Avro schemas are small; this bounds the work a request buys).
pub const MAX_SCHEMA_BYTES: usize = 256 * 1024;
/// Most schemas one schema may depend on through its references, directly or through
/// theirs: each is read and parsed whenever the schema is, so this bounds that work.
pub const MAX_REFERENCES: usize = 100;
/// Longest chain of references (a schema referring to one that refers to another…).
pub const MAX_REFERENCE_DEPTH: usize = 16;
/// Most text the referenced schemas of one schema may hold in all.
pub const MAX_REFERENCED_BYTES: usize = 1024 * 1024;
/// The setting that opts into the stricter string/bytes rule ([`Rules`]).
pub const REFUSE_BYTES_AS_STRING: &str = "refuseBytesAsString";
const MODE: &str = "mode";

/// Confluent's name for the default context, in messages that name one.
const CONTEXT: &str = ".";

/// The registry's errors, each with Confluent's HTTP status and `error_code`.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("Subject '{0}' not found.")]
    SubjectNotFound(String),
    #[error("Version {0} not found.")]
    VersionNotFound(VersionRef),
    #[error("Schema not found")]
    SchemaNotFound,
    #[error("Schema {0} not found")]
    SchemaIdNotFound(i64),
    #[error("Subject '{0}' was soft deleted.Set permanent=true to delete permanently")]
    SubjectSoftDeleted(String),
    #[error("Subject '{0}' was not deleted first before being permanently deleted")]
    SubjectNotSoftDeleted(String),
    #[error("Subject '{0}' Version {1} was soft deleted.Set permanent=true to delete permanently")]
    VersionSoftDeleted(String, i64),
    #[error("Subject '{0}' Version {1} was not deleted first before being permanently deleted")]
    VersionNotSoftDeleted(String, i64),
    #[error("Subject '{0}' does not have subject-level compatibility configured")]
    SubjectConfigNotFound(String),
    #[error("Subject '{0}' does not have subject-level mode configured")]
    SubjectModeNotFound(String),
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
    #[error("Invalid mode. Valid values are READWRITE, READONLY and IMPORT.")]
    InvalidMode,
    #[error("{0}")]
    NotPermitted(String),
    #[error(
        "One or more references exist to the schema {{magic=1,keytype=SCHEMA,subject={0},version={1}}}."
    )]
    ReferenceExists(String, i64),
    #[error("Schema already registered with id {existing} instead of input id {given}")]
    IdDoesNotMatch { existing: i64, given: i64 },
    #[error("The specified subject '{0}' is not a valid.")]
    InvalidSubject(String),
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
            RegistryError::SchemaNotFound | RegistryError::SchemaIdNotFound(_) => (404, 40403),
            RegistryError::SubjectSoftDeleted(_) => (404, 40404),
            RegistryError::SubjectNotSoftDeleted(_) => (404, 40405),
            RegistryError::VersionSoftDeleted(..) => (404, 40406),
            RegistryError::VersionNotSoftDeleted(..) => (404, 40407),
            RegistryError::SubjectConfigNotFound(_) => (404, 40408),
            RegistryError::SubjectModeNotFound(_) => (404, 40409),
            RegistryError::Incompatible { .. } => (409, 409),
            RegistryError::InvalidSchema(_) | RegistryError::TooComplex(_) => (422, 42201),
            RegistryError::InvalidVersion(_) => (422, 42202),
            RegistryError::InvalidLevel => (422, 42203),
            RegistryError::InvalidMode => (422, 42204),
            RegistryError::NotPermitted(_) => (422, 42205),
            RegistryError::ReferenceExists(..) => (422, 42206),
            RegistryError::IdDoesNotMatch { .. } => (422, 42207),
            RegistryError::InvalidSubject(_) => (422, 42208),
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
    pub references: Vec<RegistryReference>,
}

/// A registry's mode: whether it takes writes, and whether registrations bring their own
/// ids and versions (an import).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryMode {
    ReadWrite,
    ReadOnly,
    Import,
}

impl std::str::FromStr for RegistryMode {
    type Err = RegistryError;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_uppercase().as_str() {
            "READWRITE" => Ok(RegistryMode::ReadWrite),
            "READONLY" => Ok(RegistryMode::ReadOnly),
            "IMPORT" => Ok(RegistryMode::Import),
            _ => Err(RegistryError::InvalidMode),
        }
    }
}

impl RegistryMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RegistryMode::ReadWrite => "READWRITE",
            RegistryMode::ReadOnly => "READONLY",
            RegistryMode::Import => "IMPORT",
        }
    }
}

/// A subject's configuration: its compatibility level and the opt-in string/bytes rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    pub level: Mode,
    /// `None`: not set at this level.
    pub refuse_bytes_as_string: Option<bool>,
}

/// A schema a client sent: checked, with its references resolved. `text` is kept as
/// submitted; `identity` (its JSON without spacing, keys sorted, and its references)
/// decides whether two submissions are the same schema.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub text: String,
    pub identity: String,
    pub parsed: Schema,
    /// The schemas its references bring, resolved (their own references included).
    pub refs: Vec<Schema>,
    pub references: Vec<RegistryReference>,
}

/// The identity of a schema: its JSON without spacing and keys sorted, followed by its
/// references when it has any.
fn identity(json: &serde_json::Value, references: &[RegistryReference]) -> String {
    let mut identity = String::new();
    canonical(json, &mut identity);
    if !references.is_empty() {
        let refs: Vec<_> = references
            .iter()
            .map(|r| serde_json::json!([r.name, r.subject, r.version]))
            .collect();
        identity.push('\n');
        identity.push_str(&serde_json::Value::Array(refs).to_string());
    }
    identity
}

/// Writes `value` without spacing and with object keys sorted, whatever order the map
/// keeps (serde_json's `preserve_order` feature would keep the submitted one). Parsed JSON
/// is at most 128 levels deep, so the recursion is bounded.
fn canonical(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String(key.clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(key) {
                    canonical(v, out);
                }
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Parses `text` with the texts of the schemas it references (in dependency order).
fn parse_with(text: &str, dependencies: &[String]) -> Result<(Schema, Vec<Schema>)> {
    if dependencies.is_empty() {
        return Schema::parse_str(text)
            .map(|s| (s, Vec::new()))
            .map_err(|e| RegistryError::InvalidSchema(e.to_string()));
    }
    Schema::parse_str_with_list(text, dependencies)
        .map_err(|e| RegistryError::InvalidSchema(e.to_string()))
}

/// Whether a subject name is one Confluent accepts: no control characters, not one of its
/// reserved names.
pub fn valid_subject(subject: &str) -> bool {
    !subject.chars().any(char::is_control) && !matches!(subject, "__GLOBAL" | "__EMPTY")
}

/// What a registration asks for beyond the schema: an import's id and version.
#[derive(Debug, Clone, Copy, Default)]
pub struct Placement {
    pub id: Option<i64>,
    pub version: Option<i64>,
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

    /// Checks a submitted schema and resolves its references. `schema_type` is the
    /// request's field; only Avro schemas are held.
    pub async fn candidate(
        &self,
        text: &str,
        schema_type: Option<&str>,
        references: Vec<RegistryReference>,
    ) -> Result<Candidate> {
        if let Some(t) = schema_type.filter(|t| !t.eq_ignore_ascii_case("AVRO")) {
            return Err(RegistryError::InvalidSchema(format!(
                "schema type {t} is not supported; this registry holds AVRO schemas"
            )));
        }
        if text.len() > MAX_SCHEMA_BYTES {
            return Err(RegistryError::InvalidSchema(format!(
                "the schema is {} bytes; the limit is {MAX_SCHEMA_BYTES}",
                text.len()
            )));
        }
        if references.len() > MAX_REFERENCES {
            return Err(RegistryError::InvalidSchema(format!(
                "the schema has {} references; the limit is {MAX_REFERENCES}",
                references.len()
            )));
        }
        let json: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| RegistryError::InvalidSchema(format!("not JSON: {e}")))?;
        let dependencies = self
            .dependencies(&references, &mut HashMap::new(), true)
            .await?;
        let (parsed, refs) = parse_with(text, &dependencies)?;
        Ok(Candidate {
            text: text.to_owned(),
            identity: identity(&json, &references),
            parsed,
            refs,
            references,
        })
    }

    /// The texts of the schemas `references` bring, each once, those a schema needs
    /// before it: the schemas its references name, theirs, and so on, within
    /// [`MAX_REFERENCES`], [`MAX_REFERENCE_DEPTH`] and [`MAX_REFERENCED_BYTES`].
    /// `texts` caches what was read for other schemas of the same request. A reference
    /// that names no version is refused when `submitted` (a client's mistake), and is
    /// store corruption otherwise.
    async fn dependencies(
        &self,
        references: &[RegistryReference],
        texts: &mut HashMap<(String, i64), (String, Vec<RegistryReference>)>,
        submitted: bool,
    ) -> Result<Vec<String>> {
        let invalid = |message: String| {
            if submitted {
                RegistryError::InvalidSchema(message)
            } else {
                RegistryError::Store(crate::Error::Corrupt(message))
            }
        };
        // Depth-first, emitting a schema after everything it refers to; a schema met
        // again (a diamond) is emitted once. References only ever name versions that
        // existed before the schema naming them, so they cannot form a cycle; the path
        // check keeps even a corrupt store from looping.
        struct Frame {
            key: (String, i64),
            children: Vec<RegistryReference>,
            next: usize,
        }
        let mut order = Vec::new();
        let mut done: HashSet<(String, i64)> = HashSet::new();
        let mut bytes = 0usize;
        let mut stack: Vec<Frame> = vec![Frame {
            key: (String::new(), 0),
            children: references.to_vec(),
            next: 0,
        }];
        while let Some(top) = stack.last_mut() {
            let Some(r) = top.children.get(top.next).cloned() else {
                let finished = stack.pop().map(|f| f.key);
                if let Some(key) = finished.filter(|_| !stack.is_empty()) {
                    if let Some((text, _)) = texts.get(&key) {
                        order.push(text.clone());
                    }
                    done.insert(key);
                }
                continue;
            };
            top.next += 1;
            if r.version < 1 {
                return Err(invalid(format!(
                    "reference {} names version {} of subject {}; versions start at 1",
                    r.name, r.version, r.subject
                )));
            }
            let key = (r.subject.clone(), r.version);
            if done.contains(&key) {
                continue;
            }
            if stack.iter().any(|f| f.key == key) {
                return Err(invalid(format!(
                    "references form a cycle through version {} of subject {}",
                    r.version, r.subject
                )));
            }
            if stack.len() > MAX_REFERENCE_DEPTH {
                return Err(invalid(format!(
                    "references are nested more than {MAX_REFERENCE_DEPTH} deep"
                )));
            }
            if done.len() + stack.len() > MAX_REFERENCES {
                return Err(invalid(format!(
                    "the schema depends on more than {MAX_REFERENCES} referenced schemas"
                )));
            }
            if !texts.contains_key(&key) {
                let versions = self.store.registry_versions(&r.subject).await?;
                let Some(v) = versions.into_iter().find(|v| v.version == r.version) else {
                    return Err(invalid(format!(
                        "reference {} names version {} of subject {}, which does not exist",
                        r.name, r.version, r.subject
                    )));
                };
                texts.insert(key.clone(), (v.schema, v.references));
            }
            let Some((text, children)) = texts.get(&key) else {
                continue;
            };
            bytes += text.len();
            if bytes > MAX_REFERENCED_BYTES {
                return Err(invalid(format!(
                    "the referenced schemas hold more than {MAX_REFERENCED_BYTES} bytes"
                )));
            }
            let children = children.clone();
            stack.push(Frame {
                key,
                children,
                next: 0,
            });
        }
        Ok(order)
    }

    /// Parses the stored versions and checks `schema` against them under `mode`, on a
    /// blocking thread so that a large check never holds up the server's other requests.
    /// `Ok(Err(messages))` says incompatible.
    async fn check(
        &self,
        mode: Mode,
        rules: Rules,
        against: Vec<RegistryVersion>,
        schema: &Candidate,
    ) -> Result<std::result::Result<(), Vec<String>>> {
        let _permit = self.checks.acquire().await.map_err(|_| {
            RegistryError::Store(crate::Error::Unavailable {
                service: "registry",
                detail: "shutting down".to_owned(),
            })
        })?;
        // NONE compares with nothing: nothing to read or parse.
        let against = if mode == Mode::None {
            Vec::new()
        } else {
            against
        };
        let mut texts = HashMap::new();
        let mut earlier = Vec::with_capacity(against.len());
        for v in against {
            let dependencies = self.dependencies(&v.references, &mut texts, false).await?;
            earlier.push((v.schema_id, v.schema, dependencies));
        }
        let new = schema.clone();
        let verdict = tokio::task::spawn_blocking(move || {
            let parsed = earlier
                .iter()
                .map(|(id, text, dependencies)| {
                    parse_with(text, dependencies).map_err(|e| {
                        RegistryError::Store(crate::Error::Corrupt(format!(
                            "stored schema {id}: {e}"
                        )))
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let earlier: Vec<WithRefs<'_>> = parsed
                .iter()
                .map(|(schema, refs)| WithRefs { schema, refs })
                .collect();
            let new = WithRefs {
                schema: &new.parsed,
                refs: &new.refs,
            };
            Ok::<_, RegistryError>(schemas::check_with(
                mode,
                &earlier,
                new,
                rules,
                &mut schemas::compat::Budget::default(),
            ))
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

    /// A subject's versions (soft-deleted ones too with `deleted`), oldest first;
    /// `SubjectNotFound` when there is none.
    async fn listed(&self, subject: &str, deleted: bool) -> Result<Vec<RegistryVersion>> {
        let listed: Vec<RegistryVersion> = self
            .store
            .registry_versions(subject)
            .await?
            .into_iter()
            .filter(|v| deleted || !v.deleted)
            .collect();
        if listed.is_empty() {
            return Err(RegistryError::SubjectNotFound(subject.to_owned()));
        }
        Ok(listed)
    }

    pub async fn versions(&self, subject: &str, deleted: bool) -> Result<Vec<i64>> {
        Ok(self
            .listed(subject, deleted)
            .await?
            .iter()
            .map(|v| v.version)
            .collect())
    }

    pub async fn version(
        &self,
        subject: &str,
        version: VersionRef,
        deleted: bool,
    ) -> Result<Registered> {
        let listed = self.listed(subject, deleted).await?;
        let found = match version {
            VersionRef::Latest => listed.last(),
            VersionRef::Number(n) => listed.iter().find(|v| v.version == n),
        };
        let v = found.ok_or(RegistryError::VersionNotFound(version))?;
        Ok(registered(subject, v))
    }

    /// The schema with a global id; with `subject`, only if a live version of that
    /// subject uses it.
    pub async fn schema_by_id(&self, id: i64, subject: Option<&str>) -> Result<RegistrySchema> {
        if let Some(subject) = subject {
            let versions = self.store.registry_versions(subject).await?;
            if !versions.iter().any(|v| v.schema_id == id && !v.deleted) {
                return Err(RegistryError::SchemaIdNotFound(id));
            }
        }
        self.store
            .registry_schema(id)
            .await?
            .ok_or(RegistryError::SchemaIdNotFound(id))
    }

    /// The versions that use schema `id` (soft-deleted ones too with `deleted`); an id no
    /// version uses, even a soft-deleted one, is not found.
    pub async fn uses(&self, id: i64, deleted: bool) -> Result<Vec<RegistryUse>> {
        let uses = self.store.registry_uses(id).await?;
        if uses.is_empty() {
            return Err(RegistryError::SchemaNotFound);
        }
        Ok(uses.into_iter().filter(|u| deleted || !u.deleted).collect())
    }

    /// The ids of the schemas that refer to `version` of `subject` (those only
    /// soft-deleted versions use too, with `deleted`).
    pub async fn referenced_by(
        &self,
        subject: &str,
        version: VersionRef,
        deleted: bool,
    ) -> Result<Vec<i64>> {
        let v = self.version(subject, version, true).await?;
        Ok(self
            .store
            .registry_referenced_by(subject, v.version)
            .await?
            .into_iter()
            .filter(|(_, live)| deleted || *live)
            .map(|(id, _)| id)
            .collect())
    }

    /// Whether `subject` holds `schema`, and as which version (soft-deleted ones too with
    /// `deleted`).
    pub async fn lookup(
        &self,
        subject: &str,
        schema: &Candidate,
        deleted: bool,
    ) -> Result<Registered> {
        let listed = self.listed(subject, deleted).await?;
        listed
            .iter()
            .rev()
            .find(|v| v.identity == schema.identity)
            .map(|v| registered(subject, v))
            .ok_or(RegistryError::SchemaNotFound)
    }

    /// Refuses a write to `subject` (`None`: a global setting) in read-only mode.
    async fn writable(&self, subject: Option<&str>) -> Result<()> {
        if self.mode_in_scope(subject.unwrap_or("")).await? == RegistryMode::ReadOnly {
            return Err(RegistryError::NotPermitted(format!(
                "Subject {} in context {CONTEXT} is in read-only mode",
                subject.unwrap_or("null")
            )));
        }
        Ok(())
    }

    /// Registers `schema` under `subject` (a no-op returning the existing id when the
    /// subject already holds it); refused when the subject's level forbids it. In IMPORT
    /// mode the registration brings its id (and may bring its version) and is not checked
    /// for compatibility.
    pub async fn register(
        &self,
        subject: &str,
        schema: &Candidate,
        placement: Placement,
    ) -> Result<i64> {
        if !valid_subject(subject) {
            return Err(RegistryError::InvalidSubject(subject.to_owned()));
        }
        let _guard = self.writes.lock().await;
        self.writable(Some(subject)).await?;
        let mode = self.mode_in_scope(subject).await?;
        match (placement.id, mode) {
            (Some(id), RegistryMode::Import) => {
                return self.import(subject, schema, id, placement.version).await;
            }
            (Some(_), _) => {
                return Err(RegistryError::NotPermitted(format!(
                    "Subject {subject} in context {CONTEXT} is not in import mode"
                )));
            }
            (None, RegistryMode::ReadWrite) => {}
            (None, _) => {
                return Err(RegistryError::NotPermitted(format!(
                    "Subject {subject} in context {CONTEXT} is not in read-write mode"
                )));
            }
        }
        // Another process on the same database may register between our read and our
        // write: the write only lands on the history that was checked, else we re-read.
        for _ in 0..REGISTER_RETRIES {
            let all = self.store.registry_versions(subject).await?;
            let after = all.iter().map(|v| v.version).max().unwrap_or(0);
            let live: Vec<RegistryVersion> = all.into_iter().filter(|v| !v.deleted).collect();
            if let Some(same) = live.iter().find(|v| v.identity == schema.identity) {
                return Ok(same.schema_id);
            }
            if let Some(v) = placement.version.filter(|v| *v != after + 1) {
                return Err(RegistryError::InvalidSchema(format!(
                    "Version is not one more than previous version: {v} given, {} next",
                    after + 1
                )));
            }
            let level = self.level(subject).await?;
            let rules = self.rules(subject).await?;
            self.check(level, rules, live, schema)
                .await?
                .map_err(|messages| RegistryError::Incompatible {
                    subject: subject.to_owned(),
                    messages,
                })?;
            let id = self
                .store
                .registry_add_schema(&schema.identity, &stored(schema), None)
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

    /// An import's registration: the schema under the id given (the same schema may
    /// already hold it), at the version given or the next one, unchecked.
    async fn import(
        &self,
        subject: &str,
        schema: &Candidate,
        id: i64,
        version: Option<i64>,
    ) -> Result<i64> {
        if id < 1 || id > i64::from(i32::MAX) {
            return Err(RegistryError::InvalidSchema(format!(
                "schema id {id} is out of range [1, 2^31-1]"
            )));
        }
        match self
            .store
            .registry_add_schema(&schema.identity, &stored(schema), Some(id))
            .await?
        {
            Some(found) if found == id => {}
            Some(existing) => {
                return Err(RegistryError::IdDoesNotMatch {
                    existing,
                    given: id,
                });
            }
            None => {
                return Err(RegistryError::NotPermitted(format!(
                    "Overwrite new schema with id {id} in context {CONTEXT} is not permitted."
                )));
            }
        }
        let all = self.store.registry_versions(subject).await?;
        if version.is_none()
            && let Some(same) = all.iter().find(|v| v.schema_id == id && !v.deleted)
        {
            return Ok(same.schema_id);
        }
        let version = match version.filter(|v| *v > 0) {
            Some(v) if v > i64::from(i32::MAX) => {
                return Err(RegistryError::InvalidVersion(v.to_string()));
            }
            Some(v) => v,
            None => all.iter().map(|v| v.version).max().unwrap_or(0) + 1,
        };
        if !self
            .store
            .registry_import_version(subject, version, id)
            .await?
            && !all
                .iter()
                .any(|v| v.version == version && v.schema_id == id)
        {
            return Err(RegistryError::NotPermitted(format!(
                "Overwrite version {version} of subject {subject} in context {CONTEXT} with \
                 another schema is not permitted."
            )));
        }
        Ok(id)
    }

    /// Whether `schema` could follow `version` of `subject` under the subject's level.
    /// `Latest` compares with the latest live version, and a subject without one accepts
    /// anything; a numbered version must be live. `Ok(Err(messages))` says no.
    pub async fn test_compatibility(
        &self,
        subject: &str,
        version: VersionRef,
        schema: &Candidate,
    ) -> Result<std::result::Result<(), Vec<String>>> {
        let live = self.live_versions(subject).await?;
        let against: Vec<RegistryVersion> = match version {
            VersionRef::Latest => live.into_iter().last().into_iter().collect(),
            VersionRef::Number(n) => vec![
                live.into_iter()
                    .find(|v| v.version == n)
                    .ok_or(RegistryError::VersionNotFound(version))?,
            ],
        };
        let level = self.level(subject).await?;
        let rules = self.rules(subject).await?;
        self.check(level, rules, against, schema).await
    }

    /// Whether `schema` could be registered under `subject`: against every live version
    /// the subject's level looks at.
    pub async fn test_compatibility_all(
        &self,
        subject: &str,
        schema: &Candidate,
    ) -> Result<std::result::Result<(), Vec<String>>> {
        let live = self.live_versions(subject).await?;
        let level = self.level(subject).await?;
        let rules = self.rules(subject).await?;
        self.check(level, rules, live, schema).await
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

    /// The optional rules that apply to `subject`: its own setting, else the global one.
    pub async fn rules(&self, subject: &str) -> Result<Rules> {
        let own = self.option(subject).await?;
        let refuse = match own {
            Some(v) => v,
            None => self.option("").await?.unwrap_or(false),
        };
        Ok(Rules {
            refuse_bytes_as_string: refuse,
        })
    }

    async fn option(&self, subject: &str) -> Result<Option<bool>> {
        Ok(self
            .store
            .registry_setting(subject, REFUSE_BYTES_AS_STRING)
            .await?
            .map(|v| v == "true"))
    }

    /// The configuration of `subject` (`None`: the global one). A subject with nothing
    /// of its own is not found, unless `default_to_global`.
    pub async fn config(&self, subject: Option<&str>, default_to_global: bool) -> Result<Config> {
        let Some(s) = subject else {
            return Ok(Config {
                level: self.level("").await?,
                refuse_bytes_as_string: self.option("").await?,
            });
        };
        let own_level = self.store.registry_config(s).await?;
        let own_option = self.option(s).await?;
        if own_level.is_none() && own_option.is_none() && !default_to_global {
            return Err(RegistryError::SubjectConfigNotFound(s.to_owned()));
        }
        let level = match own_level {
            Some(level) => level.parse().map_err(|_| RegistryError::InvalidLevel)?,
            None => self.level("").await?,
        };
        let refuse_bytes_as_string = match own_option {
            Some(v) => Some(v),
            None if default_to_global => self.option("").await?,
            None => None,
        };
        Ok(Config {
            level,
            refuse_bytes_as_string,
        })
    }

    /// Sets the level and/or the option of `subject` (`None`: globally); at least one.
    pub async fn set_config(
        &self,
        subject: Option<&str>,
        level: Option<&str>,
        refuse_bytes_as_string: Option<bool>,
    ) -> Result<Option<Mode>> {
        if let Some(s) = subject
            && !valid_subject(s)
        {
            return Err(RegistryError::InvalidSubject(s.to_owned()));
        }
        let level: Option<Mode> = match level {
            Some(l) => Some(l.parse().map_err(|_| RegistryError::InvalidLevel)?),
            None if refuse_bytes_as_string.is_none() => return Err(RegistryError::InvalidLevel),
            None => None,
        };
        self.writable(subject).await?;
        let key = subject.unwrap_or("");
        if let Some(mode) = level {
            self.store
                .registry_set_config(key, Some(mode.as_str()))
                .await?;
        }
        if let Some(v) = refuse_bytes_as_string {
            self.store
                .registry_set_setting(
                    key,
                    REFUSE_BYTES_AS_STRING,
                    Some(if v { "true" } else { "false" }),
                )
                .await?;
        }
        Ok(level)
    }

    /// Removes a subject's own configuration; returns what it had.
    pub async fn delete_config(&self, subject: &str) -> Result<Config> {
        let had = self.config(Some(subject), false).await?;
        self.writable(Some(subject)).await?;
        self.store.registry_set_config(subject, None).await?;
        self.store
            .registry_set_setting(subject, REFUSE_BYTES_AS_STRING, None)
            .await?;
        Ok(had)
    }

    /// The mode that applies to `subject` ("": the global one): its own, else the
    /// global one, else READWRITE.
    pub async fn mode_in_scope(&self, subject: &str) -> Result<RegistryMode> {
        if let Some(m) = self.store.registry_setting(subject, MODE).await? {
            return m.parse();
        }
        match self.store.registry_setting("", MODE).await? {
            Some(m) => m.parse(),
            None => Ok(RegistryMode::ReadWrite),
        }
    }

    /// The mode of `subject` (`None`: the global one). A subject without its own is not
    /// found, unless `default_to_global`.
    pub async fn mode(
        &self,
        subject: Option<&str>,
        default_to_global: bool,
    ) -> Result<RegistryMode> {
        match subject {
            None => self.mode_in_scope("").await,
            Some(s) if default_to_global => self.mode_in_scope(s).await,
            Some(s) => match self.store.registry_setting(s, MODE).await? {
                Some(m) => m.parse(),
                None => Err(RegistryError::SubjectModeNotFound(s.to_owned())),
            },
        }
    }

    /// Sets the mode of `subject` (`None`: globally). Entering IMPORT needs every subject
    /// it covers to be empty (their soft-deleted versions are then removed for good, as
    /// imported versions take their numbers), unless `force`.
    pub async fn set_mode(
        &self,
        subject: Option<&str>,
        mode: &str,
        force: bool,
    ) -> Result<RegistryMode> {
        if let Some(s) = subject
            && !valid_subject(s)
        {
            return Err(RegistryError::InvalidSubject(s.to_owned()));
        }
        let mode: RegistryMode = mode.parse()?;
        let _guard = self.writes.lock().await;
        let key = subject.unwrap_or("");
        if mode == RegistryMode::Import
            && self.mode_in_scope(key).await? != RegistryMode::Import
            && !force
        {
            let covered = match subject {
                Some(s) => vec![s.to_owned()],
                None => self.store.registry_subjects(true).await?,
            };
            let mut purge = Vec::new();
            for s in &covered {
                let versions = self.store.registry_versions(s).await?;
                if versions.iter().any(|v| !v.deleted) {
                    return Err(RegistryError::NotPermitted(
                        "Cannot import since found existing subjects".to_owned(),
                    ));
                }
                for v in versions {
                    if !self
                        .store
                        .registry_referenced_by(s, v.version)
                        .await?
                        .is_empty()
                    {
                        return Err(RegistryError::ReferenceExists(s.clone(), v.version));
                    }
                }
                purge.push(s);
            }
            for s in purge {
                self.store.registry_delete(s, None, true).await?;
            }
        }
        self.store
            .registry_set_setting(key, MODE, Some(mode.as_str()))
            .await?;
        Ok(mode)
    }

    /// Removes the mode of `subject` (`None`: the global one, back to READWRITE);
    /// returns the mode it had.
    pub async fn delete_mode(&self, subject: Option<&str>) -> Result<RegistryMode> {
        let had = match subject {
            None => self.mode_in_scope("").await?,
            Some(s) => match self.store.registry_setting(s, MODE).await? {
                Some(m) => m.parse()?,
                None => return Err(RegistryError::SubjectNotFound(s.to_owned())),
            },
        };
        self.store
            .registry_set_setting(subject.unwrap_or(""), MODE, None)
            .await?;
        Ok(had)
    }

    /// Refuses to delete `version` of `subject` while schemas outside the subject refer
    /// to it (with `permanent`, even schemas only soft-deleted versions use).
    async fn unreferenced(&self, subject: &str, version: i64, permanent: bool) -> Result<()> {
        for (id, live) in self.store.registry_referenced_by(subject, version).await? {
            if !(live || permanent) {
                continue;
            }
            let elsewhere = self
                .store
                .registry_uses(id)
                .await?
                .iter()
                .any(|u| u.subject != subject && (permanent || !u.deleted));
            if elsewhere {
                return Err(RegistryError::ReferenceExists(subject.to_owned(), version));
            }
        }
        Ok(())
    }

    /// Soft-deletes a subject (its versions stay readable by id), or with `permanent`
    /// removes a subject soft-deleted before (and its own configuration and mode).
    /// Returns the versions affected. Refused while other subjects' schemas refer to it.
    pub async fn delete_subject(&self, subject: &str, permanent: bool) -> Result<Vec<i64>> {
        let _guard = self.writes.lock().await;
        let all = self.store.registry_versions(subject).await?;
        if all.is_empty() {
            return Err(RegistryError::SubjectNotFound(subject.to_owned()));
        }
        self.writable(Some(subject)).await?;
        let live: Vec<i64> = all
            .iter()
            .filter(|v| !v.deleted)
            .map(|v| v.version)
            .collect();
        if permanent {
            if !live.is_empty() {
                return Err(RegistryError::SubjectNotSoftDeleted(subject.to_owned()));
            }
            for v in &all {
                self.unreferenced(subject, v.version, true).await?;
            }
            self.store.registry_delete(subject, None, true).await?;
            self.forget(subject).await?;
            return Ok(all.iter().map(|v| v.version).collect());
        }
        if live.is_empty() {
            return Err(RegistryError::SubjectSoftDeleted(subject.to_owned()));
        }
        for v in &live {
            self.unreferenced(subject, *v, false).await?;
        }
        self.store.registry_delete(subject, None, false).await?;
        Ok(live)
    }

    /// A subject removed for good loses its own configuration and mode too.
    async fn forget(&self, subject: &str) -> Result<()> {
        self.store.registry_set_config(subject, None).await?;
        self.store
            .registry_set_setting(subject, REFUSE_BYTES_AS_STRING, None)
            .await?;
        self.store.registry_set_setting(subject, MODE, None).await?;
        Ok(())
    }

    /// Soft-deletes one version, or with `permanent` removes one soft-deleted before.
    /// Refused while other schemas refer to it.
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
        if v.deleted && !permanent {
            return Err(RegistryError::VersionSoftDeleted(
                subject.to_owned(),
                v.version,
            ));
        }
        self.writable(Some(subject)).await?;
        self.unreferenced(subject, v.version, permanent).await?;
        if permanent && !v.deleted {
            return Err(RegistryError::VersionNotSoftDeleted(
                subject.to_owned(),
                v.version,
            ));
        }
        self.store
            .registry_delete(subject, Some(v.version), permanent)
            .await?;
        if permanent && all.len() == 1 {
            self.forget(subject).await?;
        }
        Ok(v.version)
    }
}

fn stored(schema: &Candidate) -> RegistrySchema {
    RegistrySchema {
        text: schema.text.clone(),
        references: schema.references.clone(),
    }
}

fn registered(subject: &str, v: &RegistryVersion) -> Registered {
    Registered {
        subject: subject.to_owned(),
        version: v.version,
        id: v.schema_id,
        schema: v.schema.clone(),
        references: v.references.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_ignores_spacing_and_key_order_but_not_references() {
        let a: serde_json::Value = serde_json::from_str(
            r#"{"type":"record","name":"R","fields":[{"name":"x","type":"int"}]}"#,
        )
        .unwrap();
        let b: serde_json::Value = serde_json::from_str(
            r#"{ "fields": [ {"type": "int", "name": "x"} ], "name": "R", "type": "record" }"#,
        )
        .unwrap();
        assert_eq!(identity(&a, &[]), identity(&b, &[]));
        // As stored before identities were computed here: serde_json's sorted map.
        assert_eq!(identity(&a, &[]), a.to_string());
        let r = RegistryReference {
            name: "n.T".to_owned(),
            subject: "t".to_owned(),
            version: 1,
        };
        assert_ne!(identity(&a, &[]), identity(&a, std::slice::from_ref(&r)));
        let other = RegistryReference {
            version: 2,
            ..r.clone()
        };
        assert_ne!(identity(&a, &[r]), identity(&a, &[other]));
    }
}
