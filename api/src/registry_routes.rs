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
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use docintel_backend::registry::{Candidate, RegistryError, VersionRef};
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
        .route("/schemas/ids/{id}", get(schema_by_id))
        .route("/schemas/ids/{id}/schema", get(raw_schema_by_id))
        .route(
            "/compatibility/subjects/{subject}/versions/{version}",
            post(compatibility),
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
    #[serde(default)]
    references: Vec<Value>,
}

impl SchemaBody {
    fn candidate(&self) -> Result<Candidate, Failure> {
        Ok(Candidate::parse(
            &self.schema,
            self.schema_type.as_deref(),
            !self.references.is_empty(),
        )?)
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
    if !caller.grant.admin {
        Err(denied("not an admin key"))
    } else if !caller.grant.scopes.contains(Scope::RegistryWrite) {
        Err(denied("the key does not hold the scope `registry:write`"))
    } else {
        Ok(())
    }
}

#[derive(Deserialize, Default)]
struct Flags {
    #[serde(default)]
    deleted: bool,
    #[serde(default)]
    permanent: bool,
    #[serde(default)]
    verbose: bool,
    #[serde(default, rename = "defaultToGlobal")]
    default_to_global: bool,
    subject: Option<String>,
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
    let deleted = flags(q).deleted;
    ok(json!(state.backend.registry().subjects(deleted).await?))
}

async fn versions(
    State(state): State<AppState>,
    Path(subject): Path<String>,
) -> Result<Response, Failure> {
    ok(json!(state.backend.registry().versions(&subject).await?))
}

fn registered_json(r: &docintel_backend::registry::Registered) -> Value {
    json!({ "subject": r.subject, "version": r.version, "id": r.id, "schema": r.schema })
}

/// The version a `/subjects/{s}/versions/{v}…` path names.
async fn find_version(
    state: &AppState,
    (subject, version): (String, String),
) -> Result<docintel_backend::registry::Registered, Failure> {
    let version = version_ref(&version)?;
    Ok(state.backend.registry().version(&subject, version).await?)
}

async fn version(
    State(state): State<AppState>,
    Path(path): Path<(String, String)>,
) -> Result<Response, Failure> {
    ok(registered_json(&find_version(&state, path).await?))
}

/// The schema alone, as the bare JSON document.
async fn version_schema(
    State(state): State<AppState>,
    Path(path): Path<(String, String)>,
) -> Result<Response, Failure> {
    Ok(text(
        StatusCode::OK,
        find_version(&state, path).await?.schema,
    ))
}

fn schema_id(id: &str) -> Result<i64, Failure> {
    id.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| RegistryError::SchemaNotFound.into())
}

/// The schema a `/schemas/ids/{id}…` path names (only if `?subject=` uses it).
async fn find_schema(
    state: &AppState,
    id: &str,
    q: Result<Query<Flags>, QueryRejection>,
) -> Result<String, Failure> {
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
    ok(json!({ "schema": find_schema(&state, &id, q).await? }))
}

/// The schema alone, as the bare JSON document.
async fn raw_schema_by_id(
    State(state): State<AppState>,
    Path(id): Path<String>,
    q: Result<Query<Flags>, QueryRejection>,
) -> Result<Response, Failure> {
    Ok(text(StatusCode::OK, find_schema(&state, &id, q).await?))
}

async fn register(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    parts: Parts,
    Body(body): Body<SchemaBody>,
) -> Result<Response, Failure> {
    require_admin(&state, &parts, &format!("subject: {subject}")).await?;
    let candidate = body.candidate()?;
    let id = state
        .backend
        .registry()
        .register(&subject, &candidate)
        .await?;
    ok(json!({ "id": id }))
}

async fn lookup(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    Body(body): Body<SchemaBody>,
) -> Result<Response, Failure> {
    let candidate = body.candidate()?;
    let r = state
        .backend
        .registry()
        .lookup(&subject, &candidate)
        .await?;
    ok(registered_json(&r))
}

async fn compatibility(
    State(state): State<AppState>,
    Path((subject, version)): Path<(String, String)>,
    q: Result<Query<Flags>, QueryRejection>,
    Body(body): Body<SchemaBody>,
) -> Result<Response, Failure> {
    let version = version_ref(&version)?;
    let candidate = body.candidate()?;
    let verdict = state
        .backend
        .registry()
        .test_compatibility(&subject, version, &candidate)
        .await?;
    let mut answer = json!({ "is_compatible": verdict.is_ok() });
    if flags(q).verbose {
        answer["messages"] = json!(verdict.err().unwrap_or_default());
    }
    ok(answer)
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

#[derive(Deserialize)]
struct ConfigBody {
    compatibility: String,
}

async fn global_config(State(state): State<AppState>) -> Result<Response, Failure> {
    let level = state.backend.registry().config(None).await?;
    ok(json!({ "compatibilityLevel": level.as_str() }))
}

async fn set_global_config(
    State(state): State<AppState>,
    parts: Parts,
    Body(body): Body<ConfigBody>,
) -> Result<Response, Failure> {
    require_admin(&state, &parts, "the global config").await?;
    let level = state
        .backend
        .registry()
        .set_config(None, &body.compatibility)
        .await?;
    ok(json!({ "compatibility": level.as_str() }))
}

async fn subject_config(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    q: Result<Query<Flags>, QueryRejection>,
) -> Result<Response, Failure> {
    let registry = state.backend.registry();
    let level = match registry.config(Some(&subject)).await {
        Err(RegistryError::SubjectConfigNotFound(_)) if flags(q).default_to_global => {
            registry.config(None).await?
        }
        other => other?,
    };
    ok(json!({ "compatibilityLevel": level.as_str() }))
}

async fn set_subject_config(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    parts: Parts,
    Body(body): Body<ConfigBody>,
) -> Result<Response, Failure> {
    require_admin(&state, &parts, &format!("subject: {subject}")).await?;
    let level = state
        .backend
        .registry()
        .set_config(Some(&subject), &body.compatibility)
        .await?;
    ok(json!({ "compatibility": level.as_str() }))
}

async fn delete_subject_config(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    parts: Parts,
) -> Result<Response, Failure> {
    require_admin(&state, &parts, &format!("subject: {subject}")).await?;
    let had = state.backend.registry().delete_config(&subject).await?;
    ok(json!({ "compatibilityLevel": had.as_str() }))
}
