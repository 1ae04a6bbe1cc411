//! Pacts: publication, a consumer version's pact, content by digest, a provider's latest
//! pacts, and the pacts a provider is to verify.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::failure::{Failure, hal, hal_bytes, ok};
use super::urls::{link, named, pact_url, pact_version_url, pacticipant_url, seg, version_url};
use super::{Access, Answer, Body, BrokerState};
use crate::{ConsumerVersions, Pact, PactListing, VerifiablePact};

pub(super) fn router() -> Router<BrokerState> {
    let pact = "/pacts/provider/{provider}/consumer/{consumer}";
    Router::new()
        .route("/contracts/publish", post(publish))
        .route(
            &format!("{pact}/version/{{version}}"),
            get(get_pact).put(put_pact).delete(delete_pact),
        )
        .route(&format!("{pact}/pact-version/{{sha}}"), get(pact_version))
        .route(
            &format!("{pact}/pact-version/{{sha}}/metadata/{{metadata}}"),
            get(pact_version_with_metadata),
        )
        .route(
            "/pacts/provider/{provider}/latest",
            get(latest_provider_pacts),
        )
        .route(
            "/pacts/provider/{provider}/for-verification",
            get(for_verification_resource).post(for_verification),
        )
        .route("/pacts/latest", get(latest_pacts))
        .merge(branch_router())
}

/// A provider's pacts by the consumers' branch, and the provider states they name: what
/// the CLI's `get-pacts` and `provider-states list` ask for.
pub(super) fn branch_router() -> Router<BrokerState> {
    let provider = "/pacts/provider/{provider}";
    let consumer = "/pacts/provider/{provider}/consumer/{consumer}";
    Router::new()
        .route(&format!("{provider}/branch"), get(main_branch_pacts))
        .route(
            &format!("{provider}/branch/latest"),
            get(latest_main_branch_pacts),
        )
        .route(&format!("{provider}/branch/{{branch}}"), get(branch_pacts))
        .route(
            &format!("{provider}/branch/{{branch}}/latest"),
            get(latest_branch_pacts),
        )
        .route(
            &format!("{consumer}/branch"),
            get(consumer_main_branch_pacts),
        )
        .route(
            &format!("{consumer}/branch/latest"),
            get(consumer_latest_main_branch_pacts),
        )
        .route(
            &format!("{consumer}/branch/{{branch}}"),
            get(consumer_branch_pacts),
        )
        .route(
            &format!("{consumer}/branch/{{branch}}/latest"),
            get(consumer_latest_branch_pact),
        )
        .route(&format!("{provider}/provider-states"), get(provider_states))
        .route(
            &format!("{provider}/provider-states/branch/{{branch}}"),
            get(branch_provider_states),
        )
        .route(
            &format!("{provider}/provider-states/environment/{{environment}}"),
            get(environment_provider_states),
        )
}

/// A pact's content with the broker's links merged in, as the Pact Broker serves it.
pub(super) fn pact_view(base: &str, pact: &Pact) -> Value {
    pact_view_with_metadata(base, pact, "")
}

/// The URL of a pact's content carrying how it was selected, as for-verification links
/// it; empty metadata gives the plain content URL.
fn pact_metadata_url(
    base: &str,
    consumer: &str,
    provider: &str,
    sha: &str,
    metadata: &str,
) -> String {
    let url = pact_version_url(base, consumer, provider, sha);
    if metadata.is_empty() {
        url
    } else {
        format!("{url}/metadata/{}", seg(metadata))
    }
}

/// [`pact_view`], whose results link keeps the metadata of the URL it was fetched by, so
/// that the verification published there records how the pact was selected.
fn pact_view_with_metadata(base: &str, pact: &Pact, metadata: &str) -> Value {
    let mut body = pact.content.clone();
    let content_url = pact_version_url(base, &pact.consumer, &pact.provider, &pact.sha);
    let results_url = format!(
        "{}/verification-results",
        pact_metadata_url(base, &pact.consumer, &pact.provider, &pact.sha, metadata)
    );
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
                "pb:publish-verification-results": { "href": results_url, "title": "Publish verification results" },
                "pb:pact-webhooks": { "href": format!("{base}/webhooks/provider/{}/consumer/{}", seg(&pact.provider), seg(&pact.consumer)), "title": format!("Webhooks for the pact between {} and {}", pact.consumer, pact.provider) },
                "pb:consumer-webhooks": { "href": format!("{base}/webhooks/consumer/{}", seg(&pact.consumer)), "title": format!("Webhooks for all pacts with consumer {}", pact.consumer) },
            }),
        );
    }
    body
}

async fn publish(
    State(state): State<BrokerState>,
    access: Access,
    Body(request): Body<crate::PublishRequest>,
) -> Answer {
    let b = &access.base;
    let published = state.broker.publish(access.caller, request).await?;
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

async fn get_pact(
    State(state): State<BrokerState>,
    headers: axum::http::HeaderMap,
    access: Result<Access, super::Failure>,
    Path((provider, consumer, number)): Path<(String, String, String)>,
) -> Answer {
    if super::pages::wants_html(&headers) {
        return Ok(super::pages::version_page(&state, access, &consumer, &provider, &number).await);
    }
    let access = access?;
    let pact = state.broker.pact(&consumer, &provider, &number).await?;
    ok(pact_view(&access.base, &pact))
}

async fn put_pact(
    State(state): State<BrokerState>,
    access: Access,
    Path((provider, consumer, number)): Path<(String, String, String)>,
    Body(content): Body<Value>,
) -> Answer {
    let (pact, created) = state
        .broker
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

async fn delete_pact(
    State(state): State<BrokerState>,
    access: Access,
    Path((provider, consumer, number)): Path<(String, String, String)>,
) -> Answer {
    state
        .broker
        .delete_pact(access.caller, &consumer, &provider, &number)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn pact_version(
    State(state): State<BrokerState>,
    access: Access,
    Path((provider, consumer, sha)): Path<(String, String, String)>,
) -> Answer {
    let pact = state.broker.pact_by_sha(&consumer, &provider, &sha).await?;
    ok(pact_view(&access.base, &pact))
}

async fn pact_version_with_metadata(
    State(state): State<BrokerState>,
    access: Access,
    Path((provider, consumer, sha, metadata)): Path<(String, String, String, String)>,
) -> Answer {
    let pact = state.broker.pact_by_sha(&consumer, &provider, &sha).await?;
    ok(pact_view_with_metadata(&access.base, &pact, &metadata))
}

async fn latest_provider_pacts(
    State(state): State<BrokerState>,
    access: Access,
    Path(provider): Path<String>,
) -> Answer {
    let pacts = state.broker.latest_provider_pacts(&provider).await?;
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
    State(state): State<BrokerState>,
    access: Access,
    Path(provider): Path<String>,
) -> Answer {
    state.broker.pacticipant(&provider).await?;
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
    State(state): State<BrokerState>,
    access: Access,
    Path(provider): Path<String>,
    Body(request): Body<crate::ForVerification>,
) -> Answer {
    let generation = state.broker.records.generation().await?;
    let memo = &state.broker.memos.for_verification_bodies;
    let key = (access.base.clone(), provider, request);
    if let Some(body) = memo.get(generation, &key) {
        return Ok(hal_bytes(StatusCode::OK, body.as_ref().clone()));
    }
    let (b, provider, request) = &key;
    let pacts = state
        .broker
        .select_for_verification(generation, provider, request)
        .await?;
    let views: Vec<Value> = pacts
        .iter()
        .map(|p| verifiable_view(b, provider, p, request))
        .collect();
    let body = axum::body::Bytes::from(
        json!({
            "_embedded": { "pacts": views },
            "_links": { "self": { "href": format!("{b}/pacts/provider/{}/for-verification", seg(provider)), "title": "Pacts to be verified" } }
        })
        .to_string(),
    );
    let weight = body.len() / 256;
    memo.put(generation, key, std::sync::Arc::new(body.clone()), weight);
    Ok(hal_bytes(StatusCode::OK, body))
}

fn verifiable_view(
    base: &str,
    provider: &str,
    p: &VerifiablePact,
    request: &crate::ForVerification,
) -> Value {
    let href = pact_metadata_url(base, &p.consumer, provider, &p.sha, &p.metadata);
    // The notices name the plain content URL, or the WIP one, as the Pact Broker's do.
    let url = if p.wip {
        href.clone()
    } else {
        pact_version_url(base, &p.consumer, provider, &p.sha)
    };
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
            "self": { "href": href, "name": format!("Pact between {} ({versions}) and {provider}", p.consumer) }
        }
    })
}

fn provider_description(provider: &str, request: &crate::ForVerification) -> String {
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

fn listing_url(base: &str, p: &PactListing) -> String {
    format!(
        "{base}/pacts/provider/{}/consumer/{}/version/{}",
        seg(&p.provider),
        seg(&p.consumer),
        seg(&p.consumer_version)
    )
}

fn pact_title(p: &PactListing) -> String {
    format!(
        "Pact between {} ({}) and {}",
        p.consumer, p.consumer_version, p.provider
    )
}

/// `GET /pacts/latest`: the latest pact of each pair, as the Pact Broker's
/// `LatestPactsDecorator` shows them.
async fn latest_pacts(State(state): State<BrokerState>, access: Access) -> Answer {
    let b = &access.base;
    let pacts = state.broker.latest_pacts().await?;
    ok(json!({
        "_links": { "self": link(format!("{b}/pacts/latest")) },
        "pacts": pacts.iter().map(|p| json!({
            "createdAt": p.created_at,
            "_embedded": {
                "consumer": {
                    "name": p.consumer,
                    "_links": { "self": link(pacticipant_url(b, &p.consumer)) },
                    "_embedded": { "version": { "number": p.consumer_version } },
                },
                "provider": {
                    "name": p.provider,
                    "_links": { "self": link(pacticipant_url(b, &p.provider)) },
                },
            },
            "_links": {
                "self": [
                    { "href": format!("{b}/pacts/provider/{}/consumer/{}/latest", seg(&p.provider), seg(&p.consumer)) },
                    { "href": listing_url(b, p) },
                ],
            },
        })).collect::<Vec<_>>(),
    }))
}

/// A list of a provider's pacts, as the Pact Broker's `ProviderPactsDecorator` shows it.
async fn pact_list(
    state: &BrokerState,
    access: &Access,
    provider: &str,
    consumer: Option<&str>,
    which: ConsumerVersions<'_>,
    latest: bool,
    path: &str,
) -> Answer {
    let b = &access.base;
    let pacts = state
        .broker
        .provider_pacts(provider, consumer, which, latest)
        .await?;
    let links: Vec<Value> = pacts
        .iter()
        .map(|p| named(listing_url(b, p), &pact_title(p), &p.consumer))
        .collect();
    ok(json!({
        "_links": {
            "self": { "href": format!("{b}/pacts/provider/{}{path}", seg(provider)), "title": format!("Pacts for provider {provider}") },
            "provider": { "href": pacticipant_url(b, provider), "title": provider, "name": provider },
            "pb:pacts": links,
            "pacts": links,
        }
    }))
}

async fn main_branch_pacts(
    State(state): State<BrokerState>,
    access: Access,
    Path(provider): Path<String>,
) -> Answer {
    let which = ConsumerVersions::MainBranch;
    pact_list(&state, &access, &provider, None, which, false, "/branch").await
}

async fn latest_main_branch_pacts(
    State(state): State<BrokerState>,
    access: Access,
    Path(provider): Path<String>,
) -> Answer {
    let which = ConsumerVersions::MainBranch;
    pact_list(
        &state,
        &access,
        &provider,
        None,
        which,
        true,
        "/branch/latest",
    )
    .await
}

async fn branch_pacts(
    State(state): State<BrokerState>,
    access: Access,
    Path((provider, branch)): Path<(String, String)>,
) -> Answer {
    let path = format!("/branch/{}", seg(&branch));
    let which = ConsumerVersions::Branch(&branch);
    pact_list(&state, &access, &provider, None, which, false, &path).await
}

async fn latest_branch_pacts(
    State(state): State<BrokerState>,
    access: Access,
    Path((provider, branch)): Path<(String, String)>,
) -> Answer {
    let path = format!("/branch/{}/latest", seg(&branch));
    let which = ConsumerVersions::Branch(&branch);
    pact_list(&state, &access, &provider, None, which, true, &path).await
}

async fn consumer_main_branch_pacts(
    State(state): State<BrokerState>,
    access: Access,
    Path((provider, consumer)): Path<(String, String)>,
) -> Answer {
    let path = format!("/consumer/{}/branch", seg(&consumer));
    let which = ConsumerVersions::MainBranch;
    pact_list(
        &state,
        &access,
        &provider,
        Some(&consumer),
        which,
        false,
        &path,
    )
    .await
}

async fn consumer_latest_main_branch_pacts(
    State(state): State<BrokerState>,
    access: Access,
    Path((provider, consumer)): Path<(String, String)>,
) -> Answer {
    let path = format!("/consumer/{}/branch/latest", seg(&consumer));
    let which = ConsumerVersions::MainBranch;
    pact_list(
        &state,
        &access,
        &provider,
        Some(&consumer),
        which,
        true,
        &path,
    )
    .await
}

async fn consumer_branch_pacts(
    State(state): State<BrokerState>,
    access: Access,
    Path((provider, consumer, branch)): Path<(String, String, String)>,
) -> Answer {
    let path = format!("/consumer/{}/branch/{}", seg(&consumer), seg(&branch));
    let which = ConsumerVersions::Branch(&branch);
    pact_list(
        &state,
        &access,
        &provider,
        Some(&consumer),
        which,
        false,
        &path,
    )
    .await
}

/// The latest pact of a consumer's branch: the pact itself, as the Pact Broker answers.
async fn consumer_latest_branch_pact(
    State(state): State<BrokerState>,
    access: Access,
    Path((provider, consumer, branch)): Path<(String, String, String)>,
) -> Answer {
    let broker = &state.broker;
    let latest = broker
        .provider_pacts(&provider, Some(&consumer), ConsumerVersions::Branch(&branch), true)
        .await?
        .pop()
        .ok_or_else(|| {
            Failure::not_found(&format!(
                "No pact found for consumer '{consumer}' on branch '{branch}' and provider '{provider}'"
            ))
        })?;
    let pact = broker
        .pact(&consumer, &provider, &latest.consumer_version)
        .await?;
    ok(pact_view(&access.base, &pact))
}

async fn states_answer(state: &BrokerState, provider: &str, which: ConsumerVersions<'_>) -> Answer {
    let states = state.broker.provider_states(provider, which).await?;
    ok(json!({
        "providerStates": states.iter().map(|s| {
            let mut state = json!({ "name": s.name, "consumers": s.consumers });
            if !s.params.is_null() && let Some(object) = state.as_object_mut() {
                object.insert("params".into(), s.params.clone());
            }
            state
        }).collect::<Vec<_>>()
    }))
}

async fn provider_states(
    State(state): State<BrokerState>,
    _access: Access,
    Path(provider): Path<String>,
) -> Answer {
    states_answer(&state, &provider, ConsumerVersions::MainBranch).await
}

async fn branch_provider_states(
    State(state): State<BrokerState>,
    _access: Access,
    Path((provider, branch)): Path<(String, String)>,
) -> Answer {
    states_answer(&state, &provider, ConsumerVersions::Branch(&branch)).await
}

async fn environment_provider_states(
    State(state): State<BrokerState>,
    _access: Access,
    Path((provider, environment)): Path<(String, String)>,
) -> Answer {
    states_answer(
        &state,
        &provider,
        ConsumerVersions::Environment(&environment),
    )
    .await
}
