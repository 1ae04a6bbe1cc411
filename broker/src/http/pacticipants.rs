//! Pacticipants, their versions, branches and tags.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, put};
use serde_json::{Value, json};

use super::failure::{Failure, hal, ok};
use super::urls::{link, pacticipant_url, seg, templated, version_url};
use super::{Access, Answer, Body, BrokerState};
use crate::{Broker, Environment, Pacticipant, PacticipantChange, Version};

pub(super) fn router() -> Router<BrokerState> {
    Router::new()
        .route("/pacticipants", get(pacticipants).post(create_pacticipant))
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
        .route(
            "/pacticipants/{pacticipant}/latest-version/{tag}",
            get(latest_tagged_version),
        )
        .route(
            "/pacticipants/{pacticipant}/versions/{version}",
            get(version).delete(delete_version),
        )
        .route("/pacticipants/{pacticipant}/branches", get(branches))
        .route(
            "/pacticipants/{pacticipant}/branches/{branch}",
            get(branch).delete(delete_branch),
        )
        .route(
            "/pacticipants/{pacticipant}/branches/{branch}/versions/{version}",
            put(branch_version),
        )
        .route(
            "/pacticipants/{pacticipant}/versions/{version}/tags/{tag}",
            get(tag).put(tag_version).delete(delete_tag),
        )
}

fn pacticipant_view(base: &str, p: &Pacticipant) -> Value {
    let url = pacticipant_url(base, &p.name);
    json!({
        "name": p.name,
        "displayName": p.display_name.as_deref().unwrap_or(&p.name),
        "mainBranch": p.main_branch,
        "repositoryUrl": p.repository_url,
        "createdAt": p.created_at,
        "updatedAt": p.updated_at,
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

async fn pacticipants(State(state): State<BrokerState>, access: Access) -> Answer {
    let all: Vec<Value> = state
        .broker
        .pacticipants()
        .await?
        .iter()
        .map(|p| pacticipant_view(&access.base, p))
        .collect();
    // Both places, as the Pact Broker's (deprecated) list has them: the CLI reads the
    // top-level one.
    ok(json!({
        "_embedded": { "pacticipants": all },
        "pacticipants": all,
        "_links": { "self": link(format!("{}/pacticipants", access.base)) }
    }))
}

async fn pacticipant(
    State(state): State<BrokerState>,
    access: Access,
    Path(name): Path<String>,
) -> Answer {
    let p = state.broker.pacticipant(&name).await?;
    ok(pacticipant_view(&access.base, &p))
}

/// An optional string attribute of a merge patch: absent leaves it, `null` clears it.
fn attribute(body: &Value, field: &str) -> Result<Option<Option<String>>, Failure> {
    match body.get(field) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
        Some(_) => Err(Failure::invalid(field, "must be a string")),
    }
}

fn change_of(body: &Value) -> Result<PacticipantChange, Failure> {
    if !body.is_object() {
        return Err(Failure::invalid("body", "must be a JSON object"));
    }
    Ok(PacticipantChange {
        main_branch: attribute(body, "mainBranch")?,
        display_name: attribute(body, "displayName")?,
        repository_url: attribute(body, "repositoryUrl")?,
    })
}

/// `POST /pacticipants` (what `create-or-update-pacticipant` sends for a new one).
async fn create_pacticipant(
    State(state): State<BrokerState>,
    access: Access,
    Body(body): Body<Value>,
) -> Answer {
    let change = change_of(&body)?;
    let name = match body.get("name") {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => return Err(Failure::invalid("name", "is missing")),
        Some(_) => return Err(Failure::invalid("name", "must be a string")),
    };
    let (p, created) = state
        .broker
        .update_pacticipant(access.caller, &name, change)
        .await?;
    let url = pacticipant_url(&access.base, &p.name);
    let mut response = hal(
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        pacticipant_view(&access.base, &p),
    );
    if let Ok(location) = HeaderValue::from_str(&url) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

async fn patch_pacticipant(
    State(state): State<BrokerState>,
    access: Access,
    Path(name): Path<String>,
    Body(body): Body<Value>,
) -> Answer {
    let change = change_of(&body)?;
    // docintel's own attribute: an admin gives the pacticipant to a team.
    let owner = match body.get("ownerTenant") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => match uuid::Uuid::parse_str(s) {
            Ok(id) => Some(id),
            Err(_) => {
                return Err(Failure::invalid(
                    "ownerTenant",
                    "must be a tenant id (a UUID)",
                ));
            }
        },
        Some(_) => return Err(Failure::invalid("ownerTenant", "must be a string")),
    };
    let broker = &state.broker;
    if let Some(tenant) = owner {
        broker.grant(access.caller, &name, tenant).await?;
    }
    let (p, _) = broker
        .update_pacticipant(access.caller, &name, change)
        .await?;
    ok(pacticipant_view(&access.base, &p))
}

async fn versions(
    State(state): State<BrokerState>,
    access: Access,
    Path(name): Path<String>,
) -> Answer {
    let broker = &state.broker;
    broker.pacticipant(&name).await?;
    let environments = broker.environments().await?;
    let versions = broker.versions(&name).await?;
    ok(json!({
        "_embedded": { "versions": versions.iter().rev().map(|v| version_view(&access.base, &name, &v.value, &environments)).collect::<Vec<_>>() },
        "_links": { "self": link(format!("{}/versions", pacticipant_url(&access.base, &name))) }
    }))
}

/// A version as its own resource answers it, with the environments it is in.
async fn version_answer(broker: &Broker, base: &str, pacticipant: &str, v: &Version) -> Answer {
    ok(version_view(
        base,
        pacticipant,
        v,
        &broker.environments().await?,
    ))
}

async fn latest_version(
    State(state): State<BrokerState>,
    access: Access,
    Path(name): Path<String>,
) -> Answer {
    let broker = &state.broker;
    broker.pacticipant(&name).await?;
    let latest = broker.versions(&name).await?.pop().ok_or_else(|| {
        Failure::not_found(&format!("No versions found for pacticipant '{name}'"))
    })?;
    version_answer(broker, &access.base, &name, &latest.value).await
}

async fn latest_tagged_version(
    State(state): State<BrokerState>,
    access: Access,
    Path((name, tag)): Path<(String, String)>,
) -> Answer {
    let broker = &state.broker;
    broker.pacticipant(&name).await?;
    let latest = broker
        .versions(&name)
        .await?
        .into_iter()
        .rfind(|v| v.value.tags.contains(&tag))
        .ok_or_else(|| {
            Failure::not_found(&format!(
                "No version with tag '{tag}' found for pacticipant '{name}'"
            ))
        })?;
    version_answer(broker, &access.base, &name, &latest.value).await
}

async fn version(
    State(state): State<BrokerState>,
    access: Access,
    Path((name, number)): Path<(String, String)>,
) -> Answer {
    let broker = &state.broker;
    let v = broker.version(&name, &number).await?;
    version_answer(broker, &access.base, &name, &v).await
}

async fn branch_version(
    State(state): State<BrokerState>,
    access: Access,
    Path((name, branch, number)): Path<(String, String, String)>,
) -> Answer {
    let broker = &state.broker;
    let v = broker
        .add_branch(access.caller, &name, &branch, &number)
        .await?;
    version_answer(broker, &access.base, &name, &v).await
}

async fn tag_version(
    State(state): State<BrokerState>,
    access: Access,
    Path((name, number, tag)): Path<(String, String, String)>,
) -> Answer {
    let broker = &state.broker;
    broker.add_tag(access.caller, &name, &number, &tag).await?;
    Ok(hal(
        StatusCode::CREATED,
        tag_view(&access.base, &name, &number, &tag),
    ))
}

fn branch_view(base: &str, name: &str, branch: &str) -> Value {
    let url = format!("{}/branches/{}", pacticipant_url(base, name), seg(branch));
    json!({
        "name": branch,
        "_links": {
            "self": { "href": url, "title": "Branch" },
            "pb:pacticipant": link(pacticipant_url(base, name)),
        }
    })
}

async fn branches(
    State(state): State<BrokerState>,
    access: Access,
    Path(name): Path<String>,
) -> Answer {
    let branches = state.broker.branches(&name).await?;
    ok(json!({
        "_embedded": { "branches": branches.iter().map(|b| branch_view(&access.base, &name, b)).collect::<Vec<_>>() },
        "_links": { "self": link(format!("{}/branches", pacticipant_url(&access.base, &name))) }
    }))
}

async fn branch(
    State(state): State<BrokerState>,
    access: Access,
    Path((name, branch)): Path<(String, String)>,
) -> Answer {
    state.broker.branch(&name, &branch).await?;
    ok(branch_view(&access.base, &name, &branch))
}

async fn delete_branch(
    State(state): State<BrokerState>,
    access: Access,
    Path((name, branch)): Path<(String, String)>,
) -> Answer {
    state
        .broker
        .delete_branch(access.caller, &name, &branch)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn tag_view(base: &str, name: &str, number: &str, tag: &str) -> Value {
    json!({
        "name": tag,
        "_links": {
            "self": link(format!("{}/tags/{}", version_url(base, name, number), seg(tag))),
            "pb:version": link(version_url(base, name, number)),
            "pb:pacticipant": link(pacticipant_url(base, name)),
        }
    })
}

async fn tag(
    State(state): State<BrokerState>,
    access: Access,
    Path((name, number, tag)): Path<(String, String, String)>,
) -> Answer {
    state.broker.tag(&name, &number, &tag).await?;
    ok(tag_view(&access.base, &name, &number, &tag))
}

async fn delete_tag(
    State(state): State<BrokerState>,
    access: Access,
    Path((name, number, tag)): Path<(String, String, String)>,
) -> Answer {
    state
        .broker
        .remove_tag(access.caller, &name, &number, &tag)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn delete_pacticipant(
    State(state): State<BrokerState>,
    access: Access,
    Path(name): Path<String>,
) -> Answer {
    state
        .broker
        .delete_pacticipant(access.caller, &name)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn delete_version(
    State(state): State<BrokerState>,
    access: Access,
    Path((name, number)): Path<(String, String)>,
) -> Answer {
    state
        .broker
        .delete_version(access.caller, &name, &number)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
