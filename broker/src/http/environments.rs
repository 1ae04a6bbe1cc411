//! Environments, and the deployments and releases recorded to them.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::failure::{Failure, hal, ok};
use super::urls::{environment_url, link, pacticipant_url, seg, version_url};
use super::{Access, Answer, Body, BrokerState};
use crate::{Environment, Recorded};

pub(super) fn router() -> Router<BrokerState> {
    Router::new()
        .route("/environments", get(environments).post(create_environment))
        .route(
            "/environments/{uuid}",
            get(environment)
                .put(update_environment)
                .delete(delete_environment),
        )
        .route(
            "/environments/{uuid}/deployed-versions/currently-deployed",
            get(currently_deployed),
        )
        .route(
            "/environments/{uuid}/released-versions/currently-supported",
            get(currently_supported),
        )
        .route(
            "/deployed-versions/{uuid}",
            get(deployed_version).patch(patch_deployed_version),
        )
        .route(
            "/released-versions/{uuid}",
            get(released_version).patch(patch_released_version),
        )
        .route(
            "/pacticipants/{pacticipant}/versions/{version}/deployed-versions/environment/{environment}",
            post(record_deployment),
        )
        .route(
            "/pacticipants/{pacticipant}/versions/{version}/released-versions/environment/{environment}",
            post(record_release),
        )
}

fn environment_view(base: &str, e: &Environment) -> Value {
    let url = environment_url(base, &e.uuid);
    let display = e.display_name.as_deref().unwrap_or(&e.name);
    let mut body = json!({
        "uuid": e.uuid,
        "name": e.name,
        "displayName": e.display_name,
        "production": e.production,
        "createdAt": e.created_at,
        "_links": {
            "self": { "href": url, "title": "Environment", "name": e.name },
            "pb:currently-deployed-deployed-versions": { "href": format!("{url}/deployed-versions/currently-deployed"), "title": format!("Versions currently deployed to {display} environment") },
            "pb:currently-supported-released-versions": { "href": format!("{url}/released-versions/currently-supported"), "title": format!("Versions released and supported in {display} environment") },
            "pb:environments": { "href": format!("{base}/environments"), "title": "Environments" },
        }
    });
    if let Some(object) = body.as_object_mut() {
        if !e.contacts.is_null() {
            object.insert("contacts".into(), e.contacts.clone());
        }
        if let Some(updated) = &e.updated_at {
            object.insert("updatedAt".into(), json!(updated));
        }
    }
    body
}

/// A deployment (or release) as the Pact Broker's `DeployedVersionDecorator` (or
/// `ReleasedVersionDecorator`) shows it.
fn deployment_view(base: &str, r: &Recorded, release: bool) -> Value {
    let (d, pacticipant) = (&r.deployment, &r.pacticipant);
    let mut body = json!({
        "uuid": d.uuid,
        "createdAt": d.created_at,
        "_embedded": {
            "pacticipant": { "name": pacticipant, "_links": { "self": link(pacticipant_url(base, pacticipant)) } },
            "version": { "number": d.version, "_links": { "self": link(version_url(base, pacticipant, &d.version)) } },
            "environment": environment_view(base, &r.environment),
        },
        "_links": { "self": link(format!("{base}/{}/{}", if release { "released-versions" } else { "deployed-versions" }, seg(&d.uuid))) }
    });
    if let Some(object) = body.as_object_mut() {
        if release {
            object.insert("currentlySupported".into(), json!(d.current));
            object.insert("supportEndedAt".into(), json!(d.ended_at));
        } else {
            object.insert("currentlyDeployed".into(), json!(d.current));
            object.insert("target".into(), json!(d.target));
            object.insert("applicationInstance".into(), json!(d.target));
            object.insert("undeployedAt".into(), json!(d.ended_at));
        }
    }
    body
}

async fn environments(State(state): State<BrokerState>, access: Access) -> Answer {
    let all = state.broker.environments().await?;
    ok(json!({
        "_embedded": { "environments": all.iter().map(|e| environment_view(&access.base, e)).collect::<Vec<_>>() },
        "_links": { "self": link(format!("{}/environments", access.base)) }
    }))
}

async fn create_environment(
    State(state): State<BrokerState>,
    access: Access,
    Body(request): Body<crate::EnvironmentRequest>,
) -> Answer {
    let e = state
        .broker
        .create_environment(access.caller, request)
        .await?;
    let mut response = hal(StatusCode::CREATED, environment_view(&access.base, &e));
    if let Ok(location) = HeaderValue::from_str(&environment_url(&access.base, &e.uuid)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

async fn update_environment(
    State(state): State<BrokerState>,
    access: Access,
    Path(uuid): Path<String>,
    Body(request): Body<crate::EnvironmentRequest>,
) -> Answer {
    let e = state
        .broker
        .update_environment(access.caller, &uuid, request)
        .await?;
    ok(environment_view(&access.base, &e))
}

async fn environment(
    State(state): State<BrokerState>,
    access: Access,
    Path(uuid): Path<String>,
) -> Answer {
    let e = state.broker.environment(&uuid).await?;
    ok(environment_view(&access.base, &e))
}

async fn delete_environment(
    State(state): State<BrokerState>,
    access: Access,
    Path(uuid): Path<String>,
) -> Answer {
    state
        .broker
        .delete_environment(access.caller, &uuid)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
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
    state: &BrokerState,
    access: &Access,
    path: (String, String, String),
    body: &Value,
    release: bool,
) -> Answer {
    let (name, number, environment) = path;
    let target = target_of(body);
    if let Some(t) = &target {
        crate::check_name("applicationInstance", t)?;
    }
    let (deployment, environment) = state
        .broker
        .record(access.caller, &name, &number, &environment, target, release)
        .await?;
    let recorded = Recorded {
        pacticipant: name,
        deployment,
        environment,
    };
    Ok(hal(
        StatusCode::CREATED,
        deployment_view(&access.base, &recorded, release),
    ))
}

async fn record_deployment(
    State(state): State<BrokerState>,
    access: Access,
    Path(path): Path<(String, String, String)>,
    body: Bytes,
) -> Answer {
    record(&state, &access, path, &optional_json(&body)?, false).await
}

async fn record_release(
    State(state): State<BrokerState>,
    access: Access,
    Path(path): Path<(String, String, String)>,
    body: Bytes,
) -> Answer {
    record(&state, &access, path, &optional_json(&body)?, true).await
}

/// `?pacticipant=…&applicationInstance=…` of the currently-deployed and
/// currently-supported lists (the last of a repeated key counts).
#[derive(Debug, Default)]
struct Currently {
    pacticipant: Option<String>,
    application_instance: Option<String>,
}

impl Currently {
    fn parse(raw: Option<String>) -> Self {
        let mut query = Self::default();
        for (k, v) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            match k.as_ref() {
                "pacticipant" => query.pacticipant = Some(v.into_owned()),
                "applicationInstance" | "target" => {
                    query.application_instance = Some(v.into_owned());
                }
                _ => {}
            }
        }
        query
    }
}

async fn currently(
    state: &BrokerState,
    access: &Access,
    uuid: &str,
    query: &Currently,
    release: bool,
) -> Answer {
    let mut listed = state
        .broker
        .currently_in(uuid, query.pacticipant.as_deref(), release)
        .await?;
    if let Some(instance) = &query.application_instance {
        // An empty instance asks for the deployments without one, as in the Pact Broker.
        let wanted = (!instance.is_empty()).then_some(instance);
        listed.retain(|r| r.deployment.target.as_ref() == wanted);
    }
    let environment = state.broker.environment(uuid).await?;
    let display = environment
        .display_name
        .as_deref()
        .unwrap_or(&environment.name);
    let (collection, path, title) = if release {
        (
            "releasedVersions",
            "released-versions/currently-supported",
            "Currently supported versions released to",
        )
    } else {
        (
            "deployedVersions",
            "deployed-versions/currently-deployed",
            "Currently deployed versions for",
        )
    };
    ok(json!({
        "_embedded": { collection: listed.iter().map(|r| deployment_view(&access.base, r, release)).collect::<Vec<_>>() },
        "_links": { "self": { "href": format!("{}/{path}", environment_url(&access.base, uuid)), "title": format!("{title} {display}") } }
    }))
}

async fn currently_deployed(
    State(state): State<BrokerState>,
    access: Access,
    Path(uuid): Path<String>,
    RawQuery(query): RawQuery,
) -> Answer {
    currently(&state, &access, &uuid, &Currently::parse(query), false).await
}

async fn currently_supported(
    State(state): State<BrokerState>,
    access: Access,
    Path(uuid): Path<String>,
    RawQuery(query): RawQuery,
) -> Answer {
    currently(&state, &access, &uuid, &Currently::parse(query), true).await
}

async fn deployed_version(
    State(state): State<BrokerState>,
    access: Access,
    Path(uuid): Path<String>,
) -> Answer {
    let r = state.broker.deployment(&uuid, false).await?;
    ok(deployment_view(&access.base, &r, false))
}

async fn released_version(
    State(state): State<BrokerState>,
    access: Access,
    Path(uuid): Path<String>,
) -> Answer {
    let r = state.broker.deployment(&uuid, true).await?;
    ok(deployment_view(&access.base, &r, true))
}

/// A merge patch of a deployment or release: `false` in `field` ends it; `true` cannot
/// bring it back (422, as in the Pact Broker); anything else changes nothing.
async fn patch_recorded(
    state: &BrokerState,
    access: &Access,
    uuid: &str,
    body: &Value,
    release: bool,
) -> Answer {
    let field = if release {
        "currentlySupported"
    } else {
        "currentlyDeployed"
    };
    if !body.is_object() {
        return Err(Failure::invalid("body", "must be a JSON object"));
    }
    let r = match body.get(field) {
        Some(Value::Bool(false)) => state.broker.end(access.caller, uuid, release).await?,
        Some(Value::Bool(true)) => {
            return Err(Failure::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({ "errors": { field: [format!("{field} cannot be set back to true: record the {} again", if release { "release" } else { "deployment" })] } }),
            ));
        }
        None | Some(Value::Null) => state.broker.deployment(uuid, release).await?,
        Some(_) => return Err(Failure::invalid(field, "must be a boolean")),
    };
    ok(deployment_view(&access.base, &r, release))
}

async fn patch_deployed_version(
    State(state): State<BrokerState>,
    access: Access,
    Path(uuid): Path<String>,
    Body(body): Body<Value>,
) -> Answer {
    patch_recorded(&state, &access, &uuid, &body, false).await
}

async fn patch_released_version(
    State(state): State<BrokerState>,
    access: Access,
    Path(uuid): Path<String>,
    Body(body): Body<Value>,
) -> Answer {
    patch_recorded(&state, &access, &uuid, &body, true).await
}
