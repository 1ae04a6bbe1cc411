//! Environments, and the deployments and releases recorded to them.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::failure::{Failure, hal, ok};
use super::urls::{environment_url, link, seg, version_url};
use super::{Access, Answer, Body, BrokerState};
use crate::{Deployment, Environment};

pub(super) fn router() -> Router<BrokerState> {
    Router::new()
        .route("/environments", get(environments).post(create_environment))
        .route(
            "/environments/{uuid}",
            get(environment).delete(delete_environment),
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
    let (d, e) = state
        .broker
        .record(access.caller, &name, &number, &environment, target, release)
        .await?;
    Ok(hal(
        StatusCode::CREATED,
        deployment_view(&access.base, &name, &d, &e, release),
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
