//! The embedded Pact Broker's HTTP API: the Pact Broker's paths, HAL bodies
//! (`application/hal+json`, absolute links), `{"errors": {…}}` validation errors and
//! `{"error": …}` not-found errors, so the Pact Foundation's clients (the `pact-broker`
//! CLI, pact_verifier's broker source) work against it unchanged. Every call needs a key
//! (`Authorization: Bearer`, as the clients send `--broker-token`); what a key may write
//! is decided in `docintel_backend::broker`.
//!
//! Not part of the OpenAPI documents: this is the Pact Broker's API, documented by Pact.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use docintel_backend::broker::{
    BrokerError, Caller, Deployment, Environment, Matrix, MatrixQuery, MatrixSelector, Pact,
    Pacticipant, VerifiablePact, Verification, Version,
};
use docintel_backend::model::TenantId;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::state::AppState;

pub const CONTENT_TYPE: &str = "application/hal+json;charset=utf-8";
/// A request body: a pact of `MAX_PACT_BYTES`, base64-encoded, with room to spare.
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// A matrix query string: room for the most selectors a query may hold.
const MAX_MATRIX_QUERY_BYTES: usize = 16 * 1024;

/// The broker's routes, to be nested under its path prefix.
pub fn router() -> Router<AppState> {
    let pact = "/pacts/provider/{provider}/consumer/{consumer}";
    Router::new()
        .route("/", get(index))
        .route("/contracts/publish", post(publish))
        .route("/pacticipants", get(pacticipants))
        .route(
            "/pacticipants/{pacticipant}",
            get(pacticipant)
                .patch(patch_pacticipant)
                .delete(delete_pacticipant),
        )
        .route("/pacticipants/{pacticipant}/versions", get(versions))
        .route(
            "/pacticipants/{pacticipant}/latest-version",
            get(latest_version),
        )
        .route("/pacticipants/{pacticipant}/versions/{version}",
            get(version).delete(delete_version),
        )
        .route(
            "/pacticipants/{pacticipant}/branches/{branch}/versions/{version}",
            put(branch_version),
        )
        .route(
            "/pacticipants/{pacticipant}/versions/{version}/tags/{tag}",
            put(tag_version),
        )
        .route(
            "/pacticipants/{pacticipant}/versions/{version}/deployed-versions/environment/{environment}",
            post(record_deployment),
        )
        .route(
            "/pacticipants/{pacticipant}/versions/{version}/released-versions/environment/{environment}",
            post(record_release),
        )
        .route(&format!("{pact}/version/{{version}}"), get(get_pact).put(put_pact).delete(delete_pact))
        .route(&format!("{pact}/pact-version/{{sha}}"), get(pact_version))
        .route(
            &format!("{pact}/pact-version/{{sha}}/verification-results"),
            post(publish_verification),
        )
        .route(
            &format!("{pact}/pact-version/{{sha}}/verification-results/{{id}}"),
            get(verification),
        )
        .route("/pacts/provider/{provider}/latest", get(latest_provider_pacts))
        .route(
            "/pacts/provider/{provider}/for-verification",
            get(for_verification_resource).post(for_verification),
        )
        .route("/environments", get(environments).post(create_environment))
        .route(
            "/environments/{uuid}",
            get(environment).delete(delete_environment),
        )
        .route("/matrix", get(matrix))
        .route("/can-i-deploy", get(matrix))
        .fallback(|| async { Failure::not_found("No such resource in the Pact Broker API") })
        .method_not_allowed_fallback(|| async {
            Failure::new(StatusCode::METHOD_NOT_ALLOWED, json!({ "error": "Method not allowed" }))
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// An error body with its status, as the Pact Broker words it.
#[derive(Debug)]
pub struct Failure {
    status: StatusCode,
    body: Value,
}

impl Failure {
    fn new(status: StatusCode, body: Value) -> Self {
        Self { status, body }
    }

    fn not_found(message: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, json!({ "error": message }))
    }

    fn invalid(field: &str, message: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            json!({ "errors": { field: [message] } }),
        )
    }
}

impl From<BrokerError> for Failure {
    fn from(e: BrokerError) -> Self {
        match e {
            BrokerError::NotFound(m) => Self::not_found(&m),
            BrokerError::Invalid(errors) => {
                Self::new(StatusCode::BAD_REQUEST, json!({ "errors": errors }))
            }
            BrokerError::Conflict(messages) => Self::new(
                StatusCode::CONFLICT,
                json!({
                    "notices": messages.iter().map(|m| json!({"type": "error", "text": m})).collect::<Vec<_>>(),
                    "errors": { "contracts": messages },
                }),
            ),
            BrokerError::Forbidden(m) => Self::new(StatusCode::FORBIDDEN, json!({ "error": m })),
            BrokerError::TooLarge(m) => {
                Self::new(StatusCode::PAYLOAD_TOO_LARGE, json!({ "error": m }))
            }
            BrokerError::QuotaExceeded(m) => {
                Self::new(StatusCode::INSUFFICIENT_STORAGE, json!({ "error": m }))
            }
            BrokerError::Busy => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({ "error": BrokerError::Busy.to_string() }),
            ),
            BrokerError::Store(inner) => {
                tracing::error!(error = %inner, "pact broker store error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({ "error": "An error has occurred in the broker's store; it has been logged" }),
                )
            }
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut response = hal(self.status, self.body);
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"docintel-broker\""),
            );
        }
        response
    }
}

fn hal(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
        body.to_string(),
    )
        .into_response()
}

pub type Answer = Result<Response, Failure>;

fn ok(body: Value) -> Answer {
    Ok(hal(StatusCode::OK, body))
}

/// A caller with a valid key, and the broker's absolute base URL for links (the Pact
/// Broker links absolutely): the configured public URL, else the address the client
/// connected to.
pub struct Access {
    caller: Caller,
    base: String,
}

impl FromRequestParts<AppState> for Access {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Failure> {
        let unauthorized = || {
            Failure::new(
                StatusCode::UNAUTHORIZED,
                json!({ "error": "Unauthorized: a docintel key is needed (Authorization: Bearer <key>, the CLI's --broker-token)" }),
            )
        };
        let key = credential(&parts.headers).ok_or_else(unauthorized)?;
        let backend = &state.backend;
        let hash = docintel_backend::keys::hash(&key);
        let tenant = state
            .keys
            .tenant(state, &hash)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "pact broker: checking a key");
                Failure::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({ "error": "An error has occurred checking the key; it has been logged" }),
                )
            })?
            .ok_or_else(unauthorized)?;
        tracing::Span::current().record("tenant", tenant.name.as_str());
        // The broker spends the key's requests as the API does (Basic credentials too,
        // which the per-address limit does not recognise as a key).
        crate::auth::spend_request(parts, state, &tenant, &hash)
            .await
            .map_err(|retry_after_secs| {
                Failure::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    json!({ "error": format!("Too many requests for this key: retry after {retry_after_secs} s") }),
                )
            })?;
        let admin = backend
            .key_is_admin(&key)
            .await
            .map_err(|e| Failure::from(BrokerError::Store(e)))?;
        if !backend.broker().admits(&tenant.name, admin) {
            return Err(Failure::from(BrokerError::Forbidden(format!(
                "tenant '{}' may not use this broker (see docintel serve --broker-tenants)",
                tenant.name
            ))));
        }
        let prefix = state.broker_path.as_deref().unwrap_or("");
        // Never from `Host` or `X-Forwarded-*`: those are the client's to write.
        let origin = match (
            &state.public_url,
            parts.extensions.get::<crate::serve::LocalAddr>(),
        ) {
            (Some(url), _) => url.clone(),
            (None, Some(local)) => format!("http://{}", local.0),
            (None, None) => String::new(),
        };
        Ok(Self {
            caller: Caller {
                tenant: tenant.id,
                admin,
            },
            base: format!("{origin}{prefix}"),
        })
    }
}

/// The key from `Authorization: Bearer <key>` or Basic (the key as the password).
fn credential(headers: &HeaderMap) -> Option<String> {
    crate::auth::bearer_key(headers)
        .map(str::to_owned)
        .or_else(|| crate::auth::basic_key(headers))
}

/// A JSON body, size-limited, with the Pact Broker's errors.
pub struct Body<T>(T);

impl<T: DeserializeOwned> FromRequest<AppState> for Body<T> {
    type Rejection = Failure;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Failure> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().contains("json"));
        if !json {
            return Err(Failure::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                json!({ "error": "the request body must be JSON (Content-Type: application/json)" }),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|_| {
            Failure::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({ "error": format!("the request body is larger than the limit of {MAX_BODY_BYTES} bytes") }),
            )
        })?;
        serde_json::from_slice(&bytes)
            .map(Body)
            .map_err(|e| Failure::new(StatusCode::BAD_REQUEST, json!({ "error": format!("{e}") })))
    }
}

// ---- URLs ----

/// What a path segment may hold unescaped.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'\\')
    .add(b'^')
    .add(b'|');

fn seg(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

fn pacticipant_url(base: &str, p: &str) -> String {
    format!("{base}/pacticipants/{}", seg(p))
}

fn version_url(base: &str, p: &str, v: &str) -> String {
    format!("{}/versions/{}", pacticipant_url(base, p), seg(v))
}

fn pact_url(base: &str, pact: &Pact) -> String {
    format!(
        "{base}/pacts/provider/{}/consumer/{}/version/{}",
        seg(&pact.provider),
        seg(&pact.consumer),
        seg(&pact.consumer_version)
    )
}

fn pact_version_url(base: &str, consumer: &str, provider: &str, sha: &str) -> String {
    format!(
        "{base}/pacts/provider/{}/consumer/{}/pact-version/{}",
        seg(provider),
        seg(consumer),
        seg(sha)
    )
}

fn environment_url(base: &str, uuid: &str) -> String {
    format!("{base}/environments/{}", seg(uuid))
}

fn link(href: String) -> Value {
    json!({ "href": href })
}

fn named(href: String, title: &str, name: &str) -> Value {
    json!({ "href": href, "title": title, "name": name })
}

fn templated(href: String, title: &str) -> Value {
    json!({ "href": href, "title": title, "templated": true })
}

// ---- the index ----

/// The broker's HAL index: the links clients follow.
pub async fn index(access: Access) -> Answer {
    let b = &access.base;
    ok(json!({ "_links": {
        "self": { "href": b, "title": "Index", "templated": false },
        "pb:publish-pact": templated(format!("{b}/pacts/provider/{{provider}}/consumer/{{consumer}}/version/{{consumerApplicationVersion}}"), "Publish a pact"),
        "pb:publish-contracts": { "href": format!("{b}/contracts/publish"), "title": "Publish contracts", "templated": false },
        "pb:pacticipants": { "href": format!("{b}/pacticipants"), "title": "Pacticipants", "templated": false },
        "pb:pacticipant": templated(format!("{b}/pacticipants/{{pacticipant}}"), "Fetch pacticipant by name"),
        "pb:latest-provider-pacts": templated(format!("{b}/pacts/provider/{{provider}}/latest"), "Latest pacts by provider"),
        "pb:provider-pacts-for-verification": templated(format!("{b}/pacts/provider/{{provider}}/for-verification"), "Pact versions to be verified for the specified provider"),
        "pb:latest-version": templated(format!("{b}/pacticipants/{{pacticipant}}/latest-version"), "Latest pacticipant version"),
        "pb:pacticipant-version": templated(format!("{b}/pacticipants/{{pacticipant}}/versions/{{version}}"), "Get a pacticipant version"),
        "pb:pacticipant-version-tag": templated(format!("{b}/pacticipants/{{pacticipant}}/versions/{{version}}/tags/{{tag}}"), "Create a tag for a pacticipant version"),
        "pb:pacticipant-branch-version": templated(format!("{b}/pacticipants/{{pacticipant}}/branches/{{branch}}/versions/{{version}}"), "Add a pacticipant version to a branch"),
        "pb:environments": { "href": format!("{b}/environments"), "title": "Environments", "templated": false },
        "pb:environment": templated(format!("{b}/environments/{{uuid}}"), "Environment"),
        "pb:can-i-deploy-pacticipant-version-to-environment": templated(format!("{b}/can-i-deploy?pacticipant={{pacticipant}}&version={{version}}&environment={{environment}}"), "Determine if an application version can be safely deployed to an environment"),
        "pb:matrix": { "href": format!("{b}/matrix"), "title": "The matrix of verified consumer and provider versions", "templated": false },
    }}))
}

// ---- views ----

fn pacticipant_view(base: &str, p: &Pacticipant) -> Value {
    let url = pacticipant_url(base, &p.name);
    json!({
        "name": p.name,
        "displayName": p.name,
        "mainBranch": p.main_branch,
        "createdAt": p.created_at,
        "_links": {
            "self": link(url.clone()),
            "pb:versions": link(format!("{url}/versions")),
            "pb:version": templated(format!("{url}/versions/{{version}}"), "Get, create or delete a pacticipant version"),
            "pb:version-tag": templated(format!("{url}/versions/{{version}}/tags/{{tag}}"), "Get, create or delete a tag for a version of this pacticipant"),
            "pb:branch-version": templated(format!("{url}/branches/{{branch}}/versions/{{version}}"), "Get or add/create a version for a branch of this pacticipant"),
            "pb:latest-version": link(format!("{url}/latest-version")),
        }
    })
}

fn version_view(base: &str, pacticipant: &str, v: &Version, environments: &[Environment]) -> Value {
    let url = version_url(base, pacticipant, &v.number);
    let per_env = |kind: &str| -> Vec<Value> {
        environments
            .iter()
            .map(|e| {
                json!({
                    "title": format!("Record {kind} to {}", e.display_name.as_deref().unwrap_or(&e.name)),
                    "name": e.name,
                    "href": format!("{url}/{kind}-versions/environment/{}", seg(&e.uuid)),
                })
            })
            .collect()
    };
    json!({
        "number": v.number,
        "buildUrl": v.build_url,
        "createdAt": v.created_at,
        "_embedded": {
            "branchVersions": v.branches.iter().map(|b| json!({
                "name": b,
                "latest": Value::Null,
                "_links": { "self": link(format!("{}/branches/{}/versions/{}", pacticipant_url(base, pacticipant), seg(b), seg(&v.number))) }
            })).collect::<Vec<_>>(),
            "tags": v.tags.iter().map(|t| json!({
                "name": t,
                "_links": { "self": link(format!("{url}/tags/{}", seg(t))) }
            })).collect::<Vec<_>>(),
        },
        "_links": {
            "self": { "href": url, "title": "Version", "name": v.number },
            "pb:pacticipant": { "href": pacticipant_url(base, pacticipant), "title": "Pacticipant", "name": pacticipant },
            "pb:tag": templated(format!("{url}/tags/{{tag}}"), "Get, create or delete a tag for this pacticipant version"),
            "pb:record-deployment": per_env("deployed"),
            "pb:record-release": per_env("released"),
        }
    })
}

/// A pact's content with the broker's links merged in, as the Pact Broker serves it.
fn pact_view(base: &str, pact: &Pact) -> Value {
    let mut body = pact.content.clone();
    let content_url = pact_version_url(base, &pact.consumer, &pact.provider, &pact.sha);
    if let Some(object) = body.as_object_mut() {
        object.insert("createdAt".into(), json!(pact.created_at));
        object.insert(
            "_links".into(),
            json!({
                "self": { "href": pact_url(base, pact), "title": "Pact", "name": format!("Pact between {} ({}) and {}", pact.consumer, pact.consumer_version, pact.provider) },
                "pb:consumer": { "href": pacticipant_url(base, &pact.consumer), "title": "Consumer", "name": pact.consumer },
                "pb:provider": { "href": pacticipant_url(base, &pact.provider), "title": "Provider", "name": pact.provider },
                "pb:consumer-version": { "href": version_url(base, &pact.consumer, &pact.consumer_version), "title": "Consumer version", "name": pact.consumer_version },
                "pb:pact-version": { "href": content_url, "title": "Pact content version permalink", "name": pact.sha },
                "pb:publish-verification-results": { "href": format!("{content_url}/verification-results"), "title": "Publish verification results" },
            }),
        );
    }
    body
}

fn verification_view(base: &str, consumer: &str, provider: &str, v: &Verification) -> Value {
    let pact = pact_version_url(base, consumer, provider, &v.sha);
    json!({
        "providerName": provider,
        "providerApplicationVersion": v.provider_version,
        "success": v.success,
        "verificationDate": v.created_at,
        "buildUrl": v.build_url,
        "verifiedBy": v.verified_by,
        "testResults": v.test_results,
        "_links": {
            "self": { "href": format!("{pact}/verification-results/{}", seg(&v.id)), "title": "Verification result" },
            "pb:pact-version": { "href": pact, "title": "Pact" },
            "pb:provider-version": { "href": version_url(base, provider, &v.provider_version), "name": v.provider_version },
        }
    })
}

fn environment_view(base: &str, e: &Environment) -> Value {
    json!({
        "uuid": e.uuid,
        "name": e.name,
        "displayName": e.display_name,
        "production": e.production,
        "createdAt": e.created_at,
        "_links": { "self": { "href": environment_url(base, &e.uuid), "title": "Environment", "name": e.name } }
    })
}

fn deployment_view(
    base: &str,
    pacticipant: &str,
    d: &Deployment,
    e: &Environment,
    release: bool,
) -> Value {
    let mut body = json!({
        "uuid": d.uuid,
        "createdAt": d.created_at,
        "_embedded": {
            "version": { "number": d.version, "_links": { "self": link(version_url(base, pacticipant, &d.version)) } },
            "environment": environment_view(base, e),
        },
        "_links": { "self": link(format!("{base}/{}/{}", if release { "released-versions" } else { "deployed-versions" }, seg(&d.uuid))) }
    });
    if let Some(object) = body.as_object_mut() {
        if release {
            object.insert("currentlySupported".into(), json!(d.current));
        } else {
            object.insert("currentlyDeployed".into(), json!(d.current));
            object.insert("target".into(), json!(d.target));
            object.insert("applicationInstance".into(), json!(d.target));
            object.insert("undeployedAt".into(), json!(d.ended_at));
        }
    }
    body
}

// ---- handlers ----

async fn publish(
    State(state): State<AppState>,
    access: Access,
    Body(request): Body<docintel_backend::broker::PublishRequest>,
) -> Answer {
    let b = &access.base;
    let published = state
        .backend
        .broker()
        .publish(access.caller, request)
        .await?;
    let name = &published.pacticipant;
    let number = &published.version.number;
    let notices: Vec<Value> = published
        .notices
        .iter()
        .map(|(kind, text)| json!({ "type": kind, "text": text }))
        .collect();
    let logs: Vec<Value> = published
        .notices
        .iter()
        .map(|(kind, text)| json!({ "level": kind, "message": text, "deprecationWarning": "Replaced by notices" }))
        .collect();
    ok(json!({
        "notices": notices,
        "logs": logs,
        "_embedded": {
            "pacticipant": { "name": name, "_links": { "self": link(pacticipant_url(b, name)) } },
            "version": {
                "number": number,
                "_links": { "self": { "href": version_url(b, name, number), "name": number, "title": "Version" } }
            },
        },
        "_links": {
            "pb:pacticipant": named(pacticipant_url(b, name), "Pacticipant", name),
            "pb:pacticipant-version": named(version_url(b, name, number), "Pacticipant version", number),
            "pb:pacticipant-version-tags": published.version.tags.iter().map(|t| named(format!("{}/tags/{}", version_url(b, name, number), seg(t)), "Tag", t)).collect::<Vec<_>>(),
            "pb:contracts": published.pacts.iter().map(|p| named(pact_url(b, p), "Pact", &format!("Pact between {} ({}) and {}", p.consumer, p.consumer_version, p.provider))).collect::<Vec<_>>(),
        }
    }))
}

async fn pacticipants(State(state): State<AppState>, access: Access) -> Answer {
    let all = state.backend.broker().pacticipants().await?;
    ok(json!({
        "_embedded": { "pacticipants": all.iter().map(|p| pacticipant_view(&access.base, p)).collect::<Vec<_>>() },
        "_links": { "self": link(format!("{}/pacticipants", access.base)) }
    }))
}

async fn pacticipant(
    State(state): State<AppState>,
    access: Access,
    Path(name): Path<String>,
) -> Answer {
    let p = state.backend.broker().pacticipant(&name).await?;
    ok(pacticipant_view(&access.base, &p))
}

async fn patch_pacticipant(
    State(state): State<AppState>,
    access: Access,
    Path(name): Path<String>,
    Body(body): Body<Value>,
) -> Answer {
    // docintel's own attribute: an admin gives the pacticipant to a team.
    let owner = match body.get("ownerTenant") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => match uuid::Uuid::parse_str(s) {
            Ok(id) => Some(TenantId(id)),
            Err(_) => {
                return Err(Failure::invalid(
                    "ownerTenant",
                    "must be a tenant id (a UUID)",
                ));
            }
        },
        Some(_) => return Err(Failure::invalid("ownerTenant", "must be a string")),
    };
    let main_branch = match body.get("mainBranch") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(Failure::invalid("mainBranch", "must be a string")),
    };
    let broker = state.backend.broker();
    if let Some(tenant) = owner {
        let p = broker.grant(access.caller, &name, tenant).await?;
        if body.get("mainBranch").is_none() {
            return ok(pacticipant_view(&access.base, &p));
        }
    }
    let p = broker
        .set_main_branch(access.caller, &name, main_branch)
        .await?;
    ok(pacticipant_view(&access.base, &p))
}

async fn versions(
    State(state): State<AppState>,
    access: Access,
    Path(name): Path<String>,
) -> Answer {
    let broker = state.backend.broker();
    broker.pacticipant(&name).await?;
    let environments = broker.environments().await?;
    let versions = broker.versions(&name).await?;
    ok(json!({
        "_embedded": { "versions": versions.iter().rev().map(|v| version_view(&access.base, &name, &v.value, &environments)).collect::<Vec<_>>() },
        "_links": { "self": link(format!("{}/versions", pacticipant_url(&access.base, &name))) }
    }))
}

async fn latest_version(
    State(state): State<AppState>,
    access: Access,
    Path(name): Path<String>,
) -> Answer {
    let broker = state.backend.broker();
    broker.pacticipant(&name).await?;
    let latest = broker.versions(&name).await?.pop().ok_or_else(|| {
        Failure::not_found(&format!("No versions found for pacticipant '{name}'"))
    })?;
    ok(version_view(
        &access.base,
        &name,
        &latest.value,
        &broker.environments().await?,
    ))
}

async fn version(
    State(state): State<AppState>,
    access: Access,
    Path((name, number)): Path<(String, String)>,
) -> Answer {
    let broker = state.backend.broker();
    let v = broker.version(&name, &number).await?;
    ok(version_view(
        &access.base,
        &name,
        &v,
        &broker.environments().await?,
    ))
}

async fn branch_version(
    State(state): State<AppState>,
    access: Access,
    Path((name, branch, number)): Path<(String, String, String)>,
) -> Answer {
    let broker = state.backend.broker();
    let v = broker
        .add_branch(access.caller, &name, &branch, &number)
        .await?;
    ok(version_view(
        &access.base,
        &name,
        &v,
        &broker.environments().await?,
    ))
}

async fn tag_version(
    State(state): State<AppState>,
    access: Access,
    Path((name, number, tag)): Path<(String, String, String)>,
) -> Answer {
    let broker = state.backend.broker();
    broker.add_tag(access.caller, &name, &number, &tag).await?;
    let url = format!(
        "{}/tags/{}",
        version_url(&access.base, &name, &number),
        seg(&tag)
    );
    Ok(hal(
        StatusCode::CREATED,
        json!({
            "name": tag,
            "_links": {
                "self": link(url),
                "pb:version": link(version_url(&access.base, &name, &number)),
                "pb:pacticipant": link(pacticipant_url(&access.base, &name)),
            }
        }),
    ))
}

/// An optional JSON body (the CLI sends none without `--application-instance`).
fn optional_json(body: &Bytes) -> Result<Value, Failure> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(body)
        .map_err(|e| Failure::new(StatusCode::BAD_REQUEST, json!({ "error": format!("{e}") })))
}

/// The deployment's target: `applicationInstance` (the newer name) or `target`.
fn target_of(body: &Value) -> Option<String> {
    body.get("applicationInstance")
        .or_else(|| body.get("target"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

async fn record(
    state: &AppState,
    access: &Access,
    path: (String, String, String),
    body: &Value,
    release: bool,
) -> Answer {
    let (name, number, environment) = path;
    let target = target_of(body);
    if let Some(t) = &target {
        docintel_backend::broker::check_name("applicationInstance", t)?;
    }
    let (d, e) = state
        .backend
        .broker()
        .record(access.caller, &name, &number, &environment, target, release)
        .await?;
    Ok(hal(
        StatusCode::CREATED,
        deployment_view(&access.base, &name, &d, &e, release),
    ))
}

async fn record_deployment(
    State(state): State<AppState>,
    access: Access,
    Path(path): Path<(String, String, String)>,
    body: Bytes,
) -> Answer {
    record(&state, &access, path, &optional_json(&body)?, false).await
}

async fn record_release(
    State(state): State<AppState>,
    access: Access,
    Path(path): Path<(String, String, String)>,
    body: Bytes,
) -> Answer {
    record(&state, &access, path, &optional_json(&body)?, true).await
}

async fn get_pact(
    State(state): State<AppState>,
    access: Access,
    Path((provider, consumer, number)): Path<(String, String, String)>,
) -> Answer {
    let pact = state
        .backend
        .broker()
        .pact(&consumer, &provider, &number)
        .await?;
    ok(pact_view(&access.base, &pact))
}

async fn put_pact(
    State(state): State<AppState>,
    access: Access,
    Path((provider, consumer, number)): Path<(String, String, String)>,
    Body(content): Body<Value>,
) -> Answer {
    let (pact, created) = state
        .backend
        .broker()
        .put_pact(access.caller, &consumer, &provider, &number, content)
        .await?;
    Ok(hal(
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        pact_view(&access.base, &pact),
    ))
}

async fn pact_version(
    State(state): State<AppState>,
    access: Access,
    Path((provider, consumer, sha)): Path<(String, String, String)>,
) -> Answer {
    let pact = state
        .backend
        .broker()
        .pact_by_sha(&consumer, &provider, &sha)
        .await?;
    ok(pact_view(&access.base, &pact))
}

async fn publish_verification(
    State(state): State<AppState>,
    access: Access,
    Path((provider, consumer, sha)): Path<(String, String, String)>,
    Body(request): Body<docintel_backend::broker::VerificationRequest>,
) -> Answer {
    let (v, _) = state
        .backend
        .broker()
        .publish_verification(access.caller, &consumer, &provider, &sha, request)
        .await?;
    Ok(hal(
        StatusCode::CREATED,
        verification_view(&access.base, &consumer, &provider, &v),
    ))
}

async fn verification(
    State(state): State<AppState>,
    access: Access,
    Path((provider, consumer, _sha, id)): Path<(String, String, String, String)>,
) -> Answer {
    let v = state
        .backend
        .broker()
        .verification(&consumer, &provider, &id)
        .await?;
    ok(verification_view(&access.base, &consumer, &provider, &v))
}

async fn latest_provider_pacts(
    State(state): State<AppState>,
    access: Access,
    Path(provider): Path<String>,
) -> Answer {
    let pacts = state
        .backend
        .broker()
        .latest_provider_pacts(&provider)
        .await?;
    let links: Vec<Value> = pacts
        .iter()
        .map(|p| named(pact_url(&access.base, p), "Pact", &p.consumer))
        .collect();
    ok(json!({
        "_links": {
            "self": link(format!("{}/pacts/provider/{}/latest", access.base, seg(&provider))),
            "provider": { "href": pacticipant_url(&access.base, &provider), "name": provider },
            "pb:pacts": links,
            "pacts": links,
        }
    }))
}

/// `GET` of the for-verification resource: its links (pact_verifier reads `self` and
/// posts the query there).
async fn for_verification_resource(
    State(state): State<AppState>,
    access: Access,
    Path(provider): Path<String>,
) -> Answer {
    state.backend.broker().pacticipant(&provider).await?;
    let url = format!(
        "{}/pacts/provider/{}/for-verification",
        access.base,
        seg(&provider)
    );
    ok(json!({
        "_links": {
            "self": { "href": url, "title": "Pacts to be verified" },
            "pb:provider": { "href": pacticipant_url(&access.base, &provider), "name": provider },
        }
    }))
}

async fn for_verification(
    State(state): State<AppState>,
    access: Access,
    Path(provider): Path<String>,
    Body(request): Body<docintel_backend::broker::ForVerification>,
) -> Answer {
    let pacts = state
        .backend
        .broker()
        .pacts_for_verification(&provider, &request)
        .await?;
    let b = &access.base;
    let views: Vec<Value> = pacts
        .iter()
        .map(|p| verifiable_view(b, &provider, p, &request))
        .collect();
    ok(json!({
        "_embedded": { "pacts": views },
        "_links": { "self": { "href": format!("{b}/pacts/provider/{}/for-verification", seg(&provider)), "title": "Pacts to be verified" } }
    }))
}

fn verifiable_view(
    base: &str,
    provider: &str,
    p: &VerifiablePact,
    request: &docintel_backend::broker::ForVerification,
) -> Value {
    let url = pact_version_url(base, &p.consumer, provider, &p.sha);
    let versions = p.consumer_versions.join(", ");
    let mut notices = vec![json!({
        "when": "before_verification",
        "text": if p.wip {
            format!("The pact at {url} is being verified because it is a 'work in progress' pact (ie. it is the pact for the {} and it has not yet been successfully verified by {}). Read more at https://docs.pact.io/go/wip", p.reasons.join(", "), provider_description(provider, request))
        } else {
            format!(
                "The pact at {url} is being verified because the pact content belongs to the consumer version{} matching the following criteri{}:\n{}",
                if p.reasons.len() > 1 { "s" } else { "" },
                if p.reasons.len() > 1 { "a" } else { "on" },
                p.reasons.iter().map(|r| format!("    * {r}")).collect::<Vec<_>>().join("\n")
            )
        },
    })];
    if request.include_pending_status {
        notices.push(json!({
            "when": "before_verification",
            "text": if p.pending {
                format!("This pact is in pending state for this version of {provider} because a successful verification result for {} has not yet been published. If this verification fails, it will not cause the overall build to fail. Read more at https://docs.pact.io/go/pending", provider_description(provider, request))
            } else {
                format!("This pact has previously been successfully verified by {}. If this verification fails, it will fail the build. Read more at https://docs.pact.io/go/pending", provider_description(provider, request))
            },
        }));
    }
    let mut properties = Map::new();
    if request.include_pending_status {
        properties.insert("pending".into(), json!(p.pending));
    }
    if p.wip {
        properties.insert("wip".into(), json!(true));
    }
    properties.insert("notices".into(), json!(notices));
    json!({
        "shortDescription": p.short.join(", "),
        "verificationProperties": properties,
        "_links": {
            "self": { "href": url, "name": format!("Pact between {} ({versions}) and {provider}", p.consumer) }
        }
    })
}

fn provider_description(
    provider: &str,
    request: &docintel_backend::broker::ForVerification,
) -> String {
    match (
        &request.provider_version_branch,
        request.provider_version_tags.as_slice(),
    ) {
        (Some(b), _) => format!("a version of {provider} from branch '{b}'"),
        (None, [t]) => format!("a version of {provider} with tag '{t}'"),
        (None, []) => format!("any version of {provider}"),
        (None, tags) => format!("a version of {provider} with tag {}", tags.join(", ")),
    }
}

async fn environments(State(state): State<AppState>, access: Access) -> Answer {
    let all = state.backend.broker().environments().await?;
    ok(json!({
        "_embedded": { "environments": all.iter().map(|e| environment_view(&access.base, e)).collect::<Vec<_>>() },
        "_links": { "self": link(format!("{}/environments", access.base)) }
    }))
}

async fn create_environment(
    State(state): State<AppState>,
    access: Access,
    Body(request): Body<docintel_backend::broker::EnvironmentRequest>,
) -> Answer {
    let e = state
        .backend
        .broker()
        .create_environment(access.caller, request)
        .await?;
    let mut response = hal(StatusCode::CREATED, environment_view(&access.base, &e));
    if let Ok(location) = HeaderValue::from_str(&environment_url(&access.base, &e.uuid)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

async fn environment(
    State(state): State<AppState>,
    access: Access,
    Path(uuid): Path<String>,
) -> Answer {
    let e = state.backend.broker().environment(&uuid).await?;
    ok(environment_view(&access.base, &e))
}

async fn delete_environment(
    State(state): State<AppState>,
    access: Access,
    Path(uuid): Path<String>,
) -> Answer {
    state
        .backend
        .broker()
        .delete_environment(access.caller, &uuid)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn delete_pacticipant(
    State(state): State<AppState>,
    access: Access,
    Path(name): Path<String>,
) -> Answer {
    state
        .backend
        .broker()
        .delete_pacticipant(access.caller, &name)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn delete_version(
    State(state): State<AppState>,
    access: Access,
    Path((name, number)): Path<(String, String)>,
) -> Answer {
    state
        .backend
        .broker()
        .delete_version(access.caller, &name, &number)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn delete_pact(
    State(state): State<AppState>,
    access: Access,
    Path((provider, consumer, number)): Path<(String, String, String)>,
) -> Answer {
    state
        .backend
        .broker()
        .delete_pact(access.caller, &consumer, &provider, &number)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `q[][pacticipant]=…&q[][version]=…&…&environment=…` (and `/can-i-deploy`'s
/// `pacticipant=…&version=…&environment=…`): each `q[][pacticipant]` starts a selector.
fn matrix_query(raw: &str) -> Result<MatrixQuery, Failure> {
    if raw.len() > MAX_MATRIX_QUERY_BYTES {
        return Err(Failure::invalid(
            "q",
            &format!("the query string is longer than {MAX_MATRIX_QUERY_BYTES} bytes"),
        ));
    }
    let mut query = MatrixQuery::default();
    let mut top: HashMap<String, String> = HashMap::new();
    for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
        let v = v.into_owned();
        if let Some(field) = k.strip_prefix("q[][").and_then(|f| f.strip_suffix(']')) {
            if field == "pacticipant" {
                query.selectors.push(MatrixSelector {
                    pacticipant: v,
                    ..MatrixSelector::default()
                });
                continue;
            }
            if query.selectors.len() > docintel_backend::broker::MAX_SELECTORS {
                break;
            }
            let Some(s) = query.selectors.last_mut() else {
                return Err(Failure::invalid(
                    "q",
                    "each selector must start with q[][pacticipant]",
                ));
            };
            match field {
                "version" => s.version = Some(v),
                "branch" => s.branch = Some(v),
                "tag" => s.tag = Some(v),
                "latest" => s.latest = v == "true",
                "mainBranch" => s.main_branch = v == "true",
                _ => {}
            }
        } else {
            top.insert(k.into_owned(), v);
        }
    }
    if query.selectors.is_empty()
        && let Some(p) = top.get("pacticipant")
    {
        query.selectors.push(MatrixSelector {
            pacticipant: p.clone(),
            version: top.get("version").cloned(),
            ..MatrixSelector::default()
        });
    }
    query.environment = top.get("environment").cloned().filter(|e| !e.is_empty());
    query.tag = top
        .get("tag")
        .or_else(|| top.get("to"))
        .cloned()
        .filter(|t| !t.is_empty());
    query.latest = top.get("latest").is_some_and(|l| l == "true");
    for s in &query.selectors {
        docintel_backend::broker::check_pacticipant_name("q", &s.pacticipant)?;
    }
    Ok(query)
}

async fn matrix(State(state): State<AppState>, access: Access, uri: axum::http::Uri) -> Answer {
    let query = matrix_query(uri.query().unwrap_or(""))?;
    let m = state.backend.broker().matrix(&query).await?;
    ok(matrix_view(&access.base, &m))
}

fn matrix_view(base: &str, m: &Matrix) -> Value {
    let rows: Vec<Value> = m
        .rows
        .iter()
        .map(|r| {
            json!({
                "consumer": {
                    "name": r.consumer,
                    "version": {
                        "number": r.consumer_version.number,
                        "branch": r.consumer_version.branches.last(),
                        "tags": r.consumer_version.tags.iter().map(|t| json!({"name": t})).collect::<Vec<_>>(),
                        "_links": { "self": link(version_url(base, &r.consumer, &r.consumer_version.number)) }
                    },
                    "_links": { "self": link(pacticipant_url(base, &r.consumer)) }
                },
                "provider": {
                    "name": r.provider,
                    "version": r.provider_version.as_ref().map(|v| json!({
                        "number": v.number,
                        "branch": v.branches.last(),
                        "_links": { "self": link(version_url(base, &r.provider, &v.number)) }
                    })),
                    "_links": { "self": link(pacticipant_url(base, &r.provider)) }
                },
                "pact": {
                    "createdAt": r.pact_created_at,
                    "_links": { "self": link(pact_version_url(base, &r.consumer, &r.provider, &r.pact_sha)) }
                },
                "verificationResult": r.verification.as_ref().map(|v| json!({
                    "success": v.success,
                    "verifiedAt": v.created_at,
                    "_links": { "self": link(format!("{}/verification-results/{}", pact_version_url(base, &r.consumer, &r.provider, &v.sha), seg(&v.id))) }
                })),
            })
        })
        .collect();
    let reason = m
        .reasons
        .iter()
        .map(|(_, t)| t.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    json!({
        "summary": {
            "deployable": m.deployable,
            "reason": reason,
            "success": m.success,
            "failed": m.failed,
            "unknown": m.unknown,
        },
        "notices": m.reasons.iter().map(|(kind, text)| json!({ "type": kind, "text": text })).collect::<Vec<_>>(),
        "matrix": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_queries_read_as_the_cli_sends_them() {
        let q = matrix_query(
            "q[][pacticipant]=web%20app&q[][version]=1.2&q[][pacticipant]=docintel&q[][latest]=true&q[][branch]=main&latestby=cvpv&environment=production",
        )
        .unwrap();
        assert_eq!(q.selectors.len(), 2);
        assert_eq!(q.selectors[0].pacticipant, "web app");
        assert_eq!(q.selectors[0].version.as_deref(), Some("1.2"));
        assert!(q.selectors[1].latest);
        assert_eq!(q.selectors[1].branch.as_deref(), Some("main"));
        assert_eq!(q.environment.as_deref(), Some("production"));
        // /can-i-deploy's flat form.
        let q = matrix_query("pacticipant=a&version=3&environment=test").unwrap();
        assert_eq!(q.selectors[0].version.as_deref(), Some("3"));
        // A field before any pacticipant is refused, not guessed.
        assert!(matrix_query("q[][version]=1").is_err());
    }

    #[test]
    fn path_segments_are_escaped_in_links() {
        assert_eq!(seg("feat/x y"), "feat%2Fx%20y");
        assert_eq!(seg("1.0.0+build"), "1.0.0+build");
    }
}
