//! Pacticipants, their versions, branches and tags.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, put};
use serde_json::{Value, json};

use super::failure::{Failure, hal, ok};
use super::urls::{link, pacticipant_url, seg, templated, version_url};
use super::{Access, Answer, Body, BrokerState};
use crate::{Broker, Environment, Pacticipant, Version};

pub(super) fn router() -> Router<BrokerState> {
    Router::new()
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
        .route(
            "/pacticipants/{pacticipant}/versions/{version}",
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
}

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

async fn pacticipants(State(state): State<BrokerState>, access: Access) -> Answer {
    let all = state.broker.pacticipants().await?;
    ok(json!({
        "_embedded": { "pacticipants": all.iter().map(|p| pacticipant_view(&access.base, p)).collect::<Vec<_>>() },
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

async fn patch_pacticipant(
    State(state): State<BrokerState>,
    access: Access,
    Path(name): Path<String>,
    Body(body): Body<Value>,
) -> Answer {
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
    let main_branch = match body.get("mainBranch") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(Failure::invalid("mainBranch", "must be a string")),
    };
    let broker = &state.broker;
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
