//! The embedded schema registry's REST API: Confluent Schema Registry's paths, bodies,
//! content type and `{error_code, message}` errors, so Confluent's own clients,
//! schema_registry_converter and kafkajs work against it unchanged. Reads are open (as in
//! Confluent's default setup); writes need an admin key (`docintel keys create --admin`),
//! as `Authorization: Bearer <key>` or Basic with the key as the password, through
//! [`crate::auth::authenticate`] (the key cache and the key's request limit).
//!
//! Not part of the OpenAPI documents: this is Confluent's API, documented by Confluent.

use axum::Router;
use axum::body::Bytes;
use axum::extract::FromRef;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use docintel_backend::registry::{
    Candidate, Config, Placement, Registered, RegistryError, VersionRef,
};
use docintel_backend::store::RegistryReference;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::auth::{self, AuthState, Schemes};
use crate::error::ApiError;
use crate::state::AppState;
use docintel_backend::keys::Scope;

pub const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";
/// Request bodies docintel reads (a schema is at most 256 KiB, escaped in JSON).
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The registry's routes, to be nested under its path prefix.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { reply(StatusCode::OK, json!({})) }))
        .route("/subjects", get(subjects))
        .route("/subjects/{subject}", post(lookup).delete(delete_subject))
        .route("/subjects/{subject}/versions", get(versions).post(register))
        .route(
            "/subjects/{subject}/versions/{version}",
            get(version).delete(delete_version),
        )
        .route(
            "/subjects/{subject}/versions/{version}/schema",
            get(version_schema),
        )
        .route(
            "/subjects/{subject}/versions/{version}/referencedby",
            get(referenced_by),
        )
        .route("/schemas/types", get(schema_types))
        .route("/schemas/ids/{id}", get(schema_by_id))
        .route("/schemas/ids/{id}/schema", get(raw_schema_by_id))
        .route("/schemas/ids/{id}/subjects", get(subjects_by_id))
        .route("/schemas/ids/{id}/versions", get(versions_by_id))
        .route(
            "/compatibility/subjects/{subject}/versions/{version}",
            post(compatibility),
        )
        .route(
            "/compatibility/subjects/{subject}/versions",
            post(compatibility_all),
        )
        .route(
            "/mode",
            get(global_mode)
                .put(set_global_mode)
                .delete(delete_global_mode),
        )
        .route(
            "/mode/{subject}",
            get(subject_mode)
                .put(set_subject_mode)
                .delete(delete_subject_mode),
        )
        .route("/config", get(global_config).put(set_global_config))
        .route(
            "/config/{subject}",
            get(subject_config)
                .put(set_subject_config)
                .delete(delete_subject_config),
        )
        .fallback(|| async { Failure::http(StatusCode::NOT_FOUND, "HTTP 404 Not Found") })
        .method_not_allowed_fallback(|| async {
            Failure::http(
                StatusCode::METHOD_NOT_ALLOWED,
                "HTTP 405 Method Not Allowed",
            )
        })
        .layer(axum::middleware::from_fn(negotiate))
}

/// The media types the registry answers in, preferred first (Confluent's, with the
/// same preference: the versioned type, the unversioned one, then plain JSON).
const SERVED: [&str; 3] = [
    CONTENT_TYPE,
    "application/vnd.schemaregistry+json",
    "application/json",
];

/// The served type an `Accept` header asks for: `None` when it accepts none of them.
fn acceptable(accept: &str) -> Option<&'static str> {
    let mut best: Option<(f32, usize)> = None;
    for entry in accept.split(',') {
        let mut parts = entry.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if q <= 0.0 {
            continue;
        }
        let served = match media.as_str() {
            "" => continue,
            "*/*" | "application/*" => Some(0),
            m => SERVED.iter().position(|s| *s == m),
        };
        if let Some(rank) = served
            && best.is_none_or(|(bq, br)| q > bq || (q == bq && rank < br))
        {
            best = Some((q, rank));
        }
    }
    best.map(|(_, rank)| SERVED[rank])
}

/// Content negotiation as Confluent's server does it: a request that accepts none of
/// the registry's media types gets 406, and an answer comes in the type asked for.
async fn negotiate(request: Request, next: Next) -> Response {
    let accept = request
        .headers()
        .get(header::ACCEPT)
        .map(|v| v.to_str().unwrap_or(""))
        .filter(|v| !v.trim().is_empty())
        .map(str::to_owned);
    let chosen = match accept.as_deref() {
        None => CONTENT_TYPE,
        Some(accept) => match acceptable(accept) {
            Some(chosen) => chosen,
            None => {
                return Failure::http(StatusCode::NOT_ACCEPTABLE, "HTTP 406 Not Acceptable")
                    .into_response();
            }
        },
    };
    let mut response = next.run(request).await;
    if chosen != CONTENT_TYPE {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(chosen));
    }
    response
}

/// A Confluent error body with its status.
#[derive(Debug)]
pub struct Failure {
    status: StatusCode,
    error_code: u32,
    message: String,
}

impl Failure {
    fn http(status: StatusCode, message: &str) -> Self {
        Self {
            status,
            error_code: status.as_u16() as u32,
            message: message.to_owned(),
        }
    }
}

impl From<RegistryError> for Failure {
    fn from(e: RegistryError) -> Self {
        let (status, error_code) = e.codes();
        if let RegistryError::Store(inner) = &e {
            tracing::error!(error = %inner, "schema registry store error");
        }
        Self {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            error_code,
            message: e.to_string(),
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut response = reply(
            self.status,
            json!({ "error_code": self.error_code, "message": self.message }),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"docintel-registry\""),
            );
        }
        response
    }
}

fn reply(status: StatusCode, body: Value) -> Response {
    text(status, body.to_string())
}

/// A body already serialized (a stored schema is JSON text) in the registry's type.
fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
        body,
    )
        .into_response()
}

fn ok(body: Value) -> Result<Response, Failure> {
    Ok(reply(StatusCode::OK, body))
}

/// A JSON request body in one of the content types Confluent accepts, size-limited.
pub struct Body<T>(T);

impl<T: DeserializeOwned> FromRequest<AppState> for Body<T> {
    type Rejection = Failure;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Failure> {
        let media = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            });
        match media.as_deref() {
            Some(
                "application/vnd.schemaregistry.v1+json"
                | "application/vnd.schemaregistry+json"
                | "application/json",
            ) => {}
            _ => {
                return Err(Failure::http(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "HTTP 415 Unsupported Media Type",
                ));
            }
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|_| {
            Failure::http(StatusCode::PAYLOAD_TOO_LARGE, "HTTP 413 Payload Too Large")
        })?;
        if bytes.len() > MAX_BODY_BYTES {
            return Err(Failure::http(
                StatusCode::PAYLOAD_TOO_LARGE,
                "HTTP 413 Payload Too Large",
            ));
        }
        serde_json::from_slice(&bytes)
            .map(Body)
            .map_err(|e| Failure {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                error_code: 422,
                message: format!("Unrecognizable request body: {e}"),
            })
    }
}

/// The body of register, look up and compatibility requests.
#[derive(Deserialize)]
struct SchemaBody {
    schema: String,
    #[serde(rename = "schemaType")]
    schema_type: Option<String>,
    /// Clients send `null` as well as `[]` for none.
    #[serde(default)]
    references: Option<Vec<ReferenceBody>>,
    /// An import's id (IMPORT mode only).
    id: Option<i64>,
    /// An import's version (or, otherwise, the version the client expects).
    version: Option<i64>,
}

#[derive(Deserialize)]
struct ReferenceBody {
    name: String,
    subject: String,
    version: i64,
}

impl SchemaBody {
    async fn candidate(&self, state: &AppState) -> Result<Candidate, Failure> {
        let references = self
            .references
            .iter()
            .flatten()
            .map(|r| RegistryReference {
                name: r.name.clone(),
                subject: r.subject.clone(),
                version: r.version,
            })
            .collect();
        Ok(state
            .backend
            .registry()
            .candidate(&self.schema, self.schema_type.as_deref(), references)
            .await?)
    }

    fn placement(&self) -> Placement {
        Placement {
            // Confluent's clients send 0 or -1 for "none".
            id: self.id.filter(|id| *id > 0),
            version: self.version.filter(|v| *v > 0),
        }
    }
}

/// Admits a write: the token the process gave its own relay, or an admin key, which
/// goes through the key cache and spends the key's requests like any keyed request.
async fn require_admin(state: &AppState, parts: &Parts, what: &str) -> Result<(), Failure> {
    let unauthorized = || Failure::http(StatusCode::UNAUTHORIZED, "Unauthorized");
    let key =
        auth::presented_key(&parts.headers, Schemes::BearerOrBasic).map_err(|_| unauthorized())?;
    if state.registry_token.verify(&key) {
        return Ok(());
    }
    let auth_state = AuthState::from_ref(state);
    let found = auth::authenticate(
        &auth_state,
        &parts.headers,
        &parts.extensions,
        Schemes::BearerOrBasic,
    )
    .await;
    let caller = match found {
        Ok(caller) => caller,
        Err(ApiError::Unauthorized(_)) => return Err(unauthorized()),
        Err(ApiError::RateLimited(retry_after_secs)) => {
            return Err(Failure {
                status: StatusCode::TOO_MANY_REQUESTS,
                error_code: 42901,
                message: format!(
                    "Too many requests for this key: retry after {retry_after_secs} s"
                ),
            });
        }
        Err(e) => {
            tracing::error!(error = %e, "schema registry: checking a key");
            return Err(Failure::http(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Error checking the key",
            ));
        }
    };
    let denied = |why: &str| Failure {
        status: StatusCode::FORBIDDEN,
        error_code: 40301,
        message: format!("User is denied operation Write on {what}: {why}"),
    };
    if !caller.admin {
        Err(denied("not an admin key"))
    } else if !caller.scopes.contains(Scope::RegistryWrite) {
        Err(denied("the key does not hold the scope `registry:write`"))
    } else {
        Ok(())
    }
}

#[derive(Deserialize, Default)]
struct Flags {
    #[serde(default, deserialize_with = "boolean")]
    deleted: bool,
    #[serde(default, deserialize_with = "boolean")]
    permanent: bool,
    #[serde(default, deserialize_with = "boolean")]
    verbose: bool,
    #[serde(default, rename = "defaultToGlobal", deserialize_with = "boolean")]
    default_to_global: bool,
    #[serde(default, deserialize_with = "boolean")]
    force: bool,
    subject: Option<String>,
    #[serde(default, deserialize_with = "number")]
    offset: Option<i64>,
    #[serde(default, deserialize_with = "number")]
    limit: Option<i64>,
}

/// A flag as Java reads one: `true` in any case is true, anything else false (Python
/// clients send `True`).
fn boolean<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(String::deserialize(d)?.eq_ignore_ascii_case("true"))
}

/// A number, or unset when it is not one.
fn number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(String::deserialize(d)?.trim().parse().ok())
}

impl Flags {
    /// A page of a list: `offset` items skipped, at most `limit` (negative: all).
    fn page<T>(&self, items: Vec<T>) -> Vec<T> {
        let offset = usize::try_from(self.offset.unwrap_or(0)).unwrap_or(0);
        let limit = self
            .limit
            .and_then(|l| usize::try_from(l).ok())
            .unwrap_or(usize::MAX);
        items.into_iter().skip(offset).take(limit).collect()
    }
}

/// Query strings never fail a request here: unknown parameters (`normalize`, …) are
/// ignored, as Confluent does, and a malformed flag reads as unset.
fn flags(query: Result<Query<Flags>, QueryRejection>) -> Flags {
    query.map(|Query(f)| f).unwrap_or_default()
}

fn version_ref(s: &str) -> Result<VersionRef, Failure> {
    Ok(s.parse::<VersionRef>()?)
}

async fn subjects(
    State(state): State<AppState>,
    q: Result<Query<Flags>, QueryRejection>,
) -> Result<Response, Failure> {
    let flags = flags(q);
    let subjects = state.backend.registry().subjects(flags.deleted).await?;
    ok(json!(flags.page(subjects)))
}

async fn versions(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    q: Result<Query<Flags>, QueryRejection>,
) -> Result<Response, Failure> {
    let flags = flags(q);
    let versions = state
        .backend
        .registry()
        .versions(&subject, flags.deleted)
        .await?;
    ok(json!(flags.page(versions)))
}

/// Confluent's `references` array (left out when empty, as Confluent does).
fn with_references(mut body: Value, references: &[RegistryReference]) -> Value {
    if !references.is_empty() {
        body["references"] = references
            .iter()
            .map(|r| json!({ "name": r.name, "subject": r.subject, "version": r.version }))
            .collect();
    }
    body
}

fn registered_json(r: &Registered) -> Value {
    with_references(
        json!({ "subject": r.subject, "version": r.version, "id": r.id, "schema": r.schema }),
        &r.references,
    )
}

/// The version a `/subjects/{s}/versions/{v}…` path names (a soft-deleted one too, with
/// `?deleted=true`).
async fn find_version(
    state: &AppState,
    (subject, version): (String, String),
    q: Result<Query<Flags>, QueryRejection>,
) -> Result<Registered, Failure> {
    let version = version_ref(&version)?;
    let deleted = flags(q).deleted;
    Ok(state
        .backend
        .registry()
        .version(&subject, version, deleted)
        .await?)
}

async fn version(
    State(state): State<AppState>,
    Path(path): Path<(String, String)>,
    q: Result<Query<Flags>, QueryRejection>,
) -> Result<Response, Failure> {
    ok(registered_json(&find_version(&state, path, q).await?))
}

/// The schema alone, as the bare JSON document.
async fn version_schema(
    State(state): State<AppState>,
    Path(path): Path<(String, String)>,
    q: Result<Query<Flags>, QueryRejection>,
) -> Result<Response, Failure> {
    Ok(text(
        StatusCode::OK,
        find_version(&state, path, q).await?.schema,
    ))
}

async fn referenced_by(
    State(state): State<AppState>,
    Path((subject, version)): Path<(String, String)>,
    q: Result<Query<Flags>, QueryRejection>,
) -> Result<Response, Failure> {
    let version = version_ref(&version)?;
    let flags = flags(q);
    let ids = state
        .backend
        .registry()
        .referenced_by(&subject, version, flags.deleted)
        .await?;
    ok(json!(flags.page(ids)))
}

/// Only Avro schemas are held (see docs/events-and-registry.md).
async fn schema_types() -> Result<Response, Failure> {
    ok(json!(["AVRO"]))
}

/// A `/schemas/ids/{id}` path's id. Confluent's path takes an integer: anything else
/// matches no resource, a plain 404.
fn schema_id(id: &str) -> Result<i64, Failure> {
    let id = id
        .parse::<i32>()
        .map_err(|_| Failure::http(StatusCode::NOT_FOUND, "HTTP 404 Not Found"))?;
    Ok(i64::from(id))
}

/// The schema a `/schemas/ids/{id}…` path names (only if `?subject=` uses it).
async fn find_schema(
    state: &AppState,
    id: &str,
    q: Result<Query<Flags>, QueryRejection>,
) -> Result<docintel_backend::store::RegistrySchema, Failure> {
    let subject = flags(q).subject.filter(|s| !s.is_empty());
    Ok(state
        .backend
        .registry()
        .schema_by_id(schema_id(id)?, subject.as_deref())
        .await?)
}

async fn schema_by_id(
    State(state): State<AppState>,
    Path(id): Path<String>,
    q: Result<Query<Flags>, QueryRejection>,
) -> Result<Response, Failure> {
    let schema = find_schema(&state, &id, q).await?;
    ok(with_references(
        json!({ "schema": schema.text }),
        &schema.references,
    ))
}

/// The schema alone, as the bare JSON document.
async fn raw_schema_by_id(
    State(state): State<AppState>,
    Path(id): Path<String>,
    q: Result<Query<Flags>, QueryRejection>,
) -> Result<Response, Failure> {
    Ok(text(
        StatusCode::OK,
        find_schema(&state, &id, q).await?.text,
    ))
}

/// The versions using a schema id (`?deleted=true`: soft-deleted ones too), optionally
/// only those of `?subject=`.
async fn uses_of(
    state: &AppState,
    id: &str,
    flags: &Flags,
) -> Result<Vec<docintel_backend::store::RegistryUse>, Failure> {
    let subject = flags.subject.as_ref().filter(|s| !s.is_empty());
    let uses = state
        .backend
        .registry()
        .uses(schema_id(id)?, flags.deleted)
        .await?;
    Ok(uses
        .into_iter()
        .filter(|u| subject.is_none_or(|s| *s == u.subject))
        .collect())
}

async fn subjects_by_id(
    State(state): State<AppState>,
    Path(id): Path<String>,
    q: Result<Query<Flags>, QueryRejection>,
) -> Result<Response, Failure> {
    let flags = flags(q);
    let mut subjects: Vec<String> = uses_of(&state, &id, &flags)
        .await?
        .into_iter()
        .map(|u| u.subject)
        .collect();
    subjects.dedup();
    ok(json!(flags.page(subjects)))
}

async fn versions_by_id(
    State(state): State<AppState>,
    Path(id): Path<String>,
    q: Result<Query<Flags>, QueryRejection>,
) -> Result<Response, Failure> {
    let flags = flags(q);
    let versions: Vec<Value> = uses_of(&state, &id, &flags)
        .await?
        .into_iter()
        .map(|u| json!({ "subject": u.subject, "version": u.version }))
        .collect();
    ok(json!(flags.page(versions)))
}

async fn register(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    parts: Parts,
    Body(body): Body<SchemaBody>,
) -> Result<Response, Failure> {
    require_admin(&state, &parts, &format!("subject: {subject}")).await?;
    let candidate = body.candidate(&state).await?;
    let id = state
        .backend
        .registry()
        .register(&subject, &candidate, body.placement())
        .await?;
    ok(json!({ "id": id }))
}

async fn lookup(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    q: Result<Query<Flags>, QueryRejection>,
    Body(body): Body<SchemaBody>,
) -> Result<Response, Failure> {
    let candidate = body.candidate(&state).await?;
    let deleted = flags(q).deleted;
    let r = state
        .backend
        .registry()
        .lookup(&subject, &candidate, deleted)
        .await?;
    ok(registered_json(&r))
}

fn verdict_json(
    verdict: Result<(), Vec<String>>,
    q: Result<Query<Flags>, QueryRejection>,
) -> Result<Response, Failure> {
    let mut answer = json!({ "is_compatible": verdict.is_ok() });
    if flags(q).verbose {
        answer["messages"] = json!(verdict.err().unwrap_or_default());
    }
    ok(answer)
}

async fn compatibility(
    State(state): State<AppState>,
    Path((subject, version)): Path<(String, String)>,
    q: Result<Query<Flags>, QueryRejection>,
    Body(body): Body<SchemaBody>,
) -> Result<Response, Failure> {
    let version = version_ref(&version)?;
    let candidate = body.candidate(&state).await?;
    let verdict = state
        .backend
        .registry()
        .test_compatibility(&subject, version, &candidate)
        .await?;
    verdict_json(verdict, q)
}

/// Against every version the subject's level compares a registration with.
async fn compatibility_all(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    q: Result<Query<Flags>, QueryRejection>,
    Body(body): Body<SchemaBody>,
) -> Result<Response, Failure> {
    let candidate = body.candidate(&state).await?;
    let verdict = state
        .backend
        .registry()
        .test_compatibility_all(&subject, &candidate)
        .await?;
    verdict_json(verdict, q)
}

async fn delete_subject(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    parts: Parts,
    q: Result<Query<Flags>, QueryRejection>,
) -> Result<Response, Failure> {
    require_admin(&state, &parts, &format!("subject: {subject}")).await?;
    let permanent = flags(q).permanent;
    let versions = state
        .backend
        .registry()
        .delete_subject(&subject, permanent)
        .await?;
    ok(json!(versions))
}

async fn delete_version(
    State(state): State<AppState>,
    Path((subject, version)): Path<(String, String)>,
    parts: Parts,
    q: Result<Query<Flags>, QueryRejection>,
) -> Result<Response, Failure> {
    require_admin(&state, &parts, &format!("subject: {subject}")).await?;
    let version = version_ref(&version)?;
    let permanent = flags(q).permanent;
    let deleted = state
        .backend
        .registry()
        .delete_version(&subject, version, permanent)
        .await?;
    ok(json!(deleted))
}

/// A configuration update: Confluent's `compatibility` (also read as
/// `compatibilityLevel`) and docintel's opt-in `refuseBytesAsString`.
#[derive(Deserialize)]
struct ConfigBody {
    #[serde(alias = "compatibilityLevel")]
    compatibility: Option<String>,
    #[serde(rename = "refuseBytesAsString")]
    refuse_bytes_as_string: Option<bool>,
}

fn config_json(config: &Config) -> Value {
    let mut body = json!({ "compatibilityLevel": config.level.as_str() });
    if let Some(refuse) = config.refuse_bytes_as_string {
        body["refuseBytesAsString"] = json!(refuse);
    }
    body
}

/// The update as applied (Confluent echoes the request).
async fn update_config(
    state: &AppState,
    subject: Option<&str>,
    body: ConfigBody,
) -> Result<Response, Failure> {
    let level = state
        .backend
        .registry()
        .set_config(
            subject,
            body.compatibility.as_deref(),
            body.refuse_bytes_as_string,
        )
        .await?;
    let mut answer = json!({});
    if let Some(level) = level {
        answer["compatibility"] = json!(level.as_str());
    }
    if let Some(refuse) = body.refuse_bytes_as_string {
        answer["refuseBytesAsString"] = json!(refuse);
    }
    ok(answer)
}

async fn global_config(State(state): State<AppState>) -> Result<Response, Failure> {
    let config = state.backend.registry().config(None, true).await?;
    ok(config_json(&config))
}

async fn set_global_config(
    State(state): State<AppState>,
    parts: Parts,
    Body(body): Body<ConfigBody>,
) -> Result<Response, Failure> {
    require_admin(&state, &parts, "the global config").await?;
    update_config(&state, None, body).await
}

async fn subject_config(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    q: Result<Query<Flags>, QueryRejection>,
) -> Result<Response, Failure> {
    let default_to_global = flags(q).default_to_global;
    let config = state
        .backend
        .registry()
        .config(Some(&subject), default_to_global)
        .await?;
    ok(config_json(&config))
}

async fn set_subject_config(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    parts: Parts,
    Body(body): Body<ConfigBody>,
) -> Result<Response, Failure> {
    require_admin(&state, &parts, &format!("subject: {subject}")).await?;
    update_config(&state, Some(&subject), body).await
}

async fn delete_subject_config(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    parts: Parts,
) -> Result<Response, Failure> {
    require_admin(&state, &parts, &format!("subject: {subject}")).await?;
    let had = state.backend.registry().delete_config(&subject).await?;
    ok(config_json(&had))
}

#[derive(Deserialize)]
struct ModeBody {
    mode: String,
}

async fn global_mode(State(state): State<AppState>) -> Result<Response, Failure> {
    let mode = state.backend.registry().mode(None, true).await?;
    ok(json!({ "mode": mode.as_str() }))
}

async fn subject_mode(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    q: Result<Query<Flags>, QueryRejection>,
) -> Result<Response, Failure> {
    let default_to_global = flags(q).default_to_global;
    let mode = state
        .backend
        .registry()
        .mode(Some(&subject), default_to_global)
        .await?;
    ok(json!({ "mode": mode.as_str() }))
}

async fn update_mode(
    state: &AppState,
    subject: Option<&str>,
    body: ModeBody,
    q: Result<Query<Flags>, QueryRejection>,
) -> Result<Response, Failure> {
    let force = flags(q).force;
    let mode = state
        .backend
        .registry()
        .set_mode(subject, &body.mode, force)
        .await?;
    ok(json!({ "mode": mode.as_str() }))
}

async fn set_global_mode(
    State(state): State<AppState>,
    parts: Parts,
    q: Result<Query<Flags>, QueryRejection>,
    Body(body): Body<ModeBody>,
) -> Result<Response, Failure> {
    require_admin(&state, &parts, "the global mode").await?;
    update_mode(&state, None, body, q).await
}

async fn set_subject_mode(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    parts: Parts,
    q: Result<Query<Flags>, QueryRejection>,
    Body(body): Body<ModeBody>,
) -> Result<Response, Failure> {
    require_admin(&state, &parts, &format!("subject: {subject}")).await?;
    update_mode(&state, Some(&subject), body, q).await
}

async fn delete_global_mode(
    State(state): State<AppState>,
    parts: Parts,
) -> Result<Response, Failure> {
    require_admin(&state, &parts, "the global mode").await?;
    let had = state.backend.registry().delete_mode(None).await?;
    ok(json!({ "mode": had.as_str() }))
}

async fn delete_subject_mode(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    parts: Parts,
) -> Result<Response, Failure> {
    require_admin(&state, &parts, &format!("subject: {subject}")).await?;
    let had = state.backend.registry().delete_mode(Some(&subject)).await?;
    ok(json!({ "mode": had.as_str() }))
}
