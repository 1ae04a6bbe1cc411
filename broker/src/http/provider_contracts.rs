//! Provider contracts: a provider's OpenAPI document for a version, in both of PactFlow's
//! shapes (`POST /provider-contracts/provider/P/publish`, which the index advertises as
//! `pf:publish-provider-contract` and the official CLI's `pactflow
//! publish-provider-contract` uses, and the older `PUT /contracts/provider/P/version/V`).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{post, put};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

use super::failure::{hal, ok};
use super::urls::{link, pacticipant_url, seg, version_url};
use super::{Access, Answer, Body, BrokerState};
use crate::{ProviderContractRequest, PublishedContract};

pub(super) fn router() -> Router<BrokerState> {
    Router::new()
        .route(
            "/provider-contracts/provider/{provider}/publish",
            post(publish),
        )
        .route(
            "/contracts/provider/{provider}/version/{version}",
            put(put_contract).get(get_contract),
        )
}

/// `POST …/publish`'s body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PublishBody {
    pacticipant_version_number: Option<String>,
    #[serde(default)]
    branch: Option<String>,
    #[serde(default)]
    tags: Option<Vec<String>>,
    #[serde(default)]
    build_url: Option<String>,
    contract: Option<ContractBody>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContractBody {
    content: Option<String>,
    #[serde(default)]
    specification: Option<String>,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    self_verification_results: Value,
}

/// `PUT /contracts/provider/P/version/V`'s body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutBody {
    content: Option<String>,
    #[serde(default)]
    contract_type: Option<String>,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    verification_results: Value,
}

async fn publish(
    State(state): State<BrokerState>,
    access: Access,
    Path(provider): Path<String>,
    Body(body): Body<PublishBody>,
) -> Answer {
    let number = body.pacticipant_version_number.unwrap_or_default();
    let contract = body.contract.ok_or_else(|| {
        super::Failure::invalid(
            "contract",
            "is required: the document and its self-verification",
        )
    })?;
    let request = ProviderContractRequest {
        content: contract.content,
        specification: contract.specification,
        content_type: contract.content_type,
        self_verification: contract.self_verification_results,
        branch: body.branch.filter(|b| !b.is_empty()),
        tags: body.tags.unwrap_or_default(),
        build_url: body.build_url,
    };
    let published = state
        .broker
        .publish_provider_contract(access.caller, &provider, &number, request)
        .await?;
    ok(view(&access.base, &published))
}

async fn put_contract(
    State(state): State<BrokerState>,
    access: Access,
    Path((provider, number)): Path<(String, String)>,
    Body(body): Body<PutBody>,
) -> Answer {
    let request = ProviderContractRequest {
        content: body.content,
        specification: body.contract_type,
        content_type: body.content_type,
        self_verification: body.verification_results,
        ..ProviderContractRequest::default()
    };
    let published = state
        .broker
        .publish_provider_contract(access.caller, &provider, &number, request)
        .await?;
    Ok(hal(StatusCode::CREATED, view(&access.base, &published)))
}

async fn get_contract(
    State(state): State<BrokerState>,
    access: Access,
    Path((provider, number)): Path<(String, String)>,
) -> Answer {
    let (contract, document) = state.broker.provider_contract(&provider, &number).await?;
    let b = &access.base;
    ok(json!({
        "providerName": provider,
        "providerVersionNumber": number,
        "contractType": "oas",
        "contentType": contract.content_type,
        "content": base64::engine::general_purpose::STANDARD.encode(document.to_string()),
        "selfVerificationResults": {
            "success": contract.self_verified,
            "verifier": contract.verifier,
            "verifierVersion": contract.verifier_version,
        },
        "createdAt": contract.created_at,
        "_links": {
            "self": link(format!("{b}/contracts/provider/{}/version/{}", seg(&provider), seg(&number))),
            "pb:provider": link(pacticipant_url(b, &provider)),
            "pb:provider-version": link(version_url(b, &provider, &number)),
        }
    }))
}

fn view(base: &str, p: &PublishedContract) -> Value {
    let number = &p.version.number;
    let mut notices = vec![json!({
        "type": "success",
        "text": format!("Successfully published provider contract for {} version {number}", p.provider),
    })];
    for (consumer, version, success) in &p.compared {
        notices.push(json!({
            "type": if *success { "info" } else { "warning" },
            "text": format!(
                "The pact of {consumer} version {version} {} the OpenAPI document",
                if *success { "is compatible with" } else { "asks for what is not in" }
            ),
        }));
    }
    let pacticipant = pacticipant_url(base, &p.provider);
    // The official CLI reads both links (PactFlow's answer always carries them).
    let branch_version = match p.version.branches.last() {
        Some(b) => link(format!(
            "{pacticipant}/branches/{}/versions/{}",
            seg(b),
            seg(number)
        )),
        None => link(version_url(base, &p.provider, number)),
    };
    let tags: Vec<Value> = p
        .version
        .tags
        .iter()
        .map(|t| {
            link(format!(
                "{}/tags/{}",
                version_url(base, &p.provider, number),
                seg(t)
            ))
        })
        .collect();
    json!({
        "notices": notices,
        "_embedded": { "version": { "number": number } },
        "_links": {
            "self": link(format!("{base}/contracts/provider/{}/version/{}", seg(&p.provider), seg(number))),
            "pb:pacticipant-version": link(version_url(base, &p.provider, number)),
            "pb:branch-version": branch_version,
            "pb:pacticipant-version-tags": tags,
        }
    })
}
