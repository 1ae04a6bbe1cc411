//! Verification results of a pact's content.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::failure::{hal, ok};
use super::urls::{pact_version_url, seg, version_url};
use super::{Access, Answer, Body, BrokerState};
use crate::Verification;

pub(super) fn router() -> Router<BrokerState> {
    let pact = "/pacts/provider/{provider}/consumer/{consumer}";
    Router::new()
        .route(
            &format!("{pact}/pact-version/{{sha}}/verification-results"),
            post(publish_verification),
        )
        .route(
            &format!("{pact}/pact-version/{{sha}}/metadata/{{metadata}}/verification-results"),
            post(publish_selected_verification),
        )
        .route(
            &format!("{pact}/pact-version/{{sha}}/verification-results/{{id}}"),
            get(verification),
        )
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

async fn publish_verification(
    State(state): State<BrokerState>,
    access: Access,
    Path((provider, consumer, sha)): Path<(String, String, String)>,
    Body(request): Body<crate::VerificationRequest>,
) -> Answer {
    let (v, _) = state
        .broker
        .publish_verification(access.caller, &consumer, &provider, &sha, request)
        .await?;
    Ok(hal(
        StatusCode::CREATED,
        verification_view(&access.base, &consumer, &provider, &v),
    ))
}

/// A verification published through a selected pact's URL: its metadata says whether
/// the pact was work in progress or pending.
async fn publish_selected_verification(
    State(state): State<BrokerState>,
    access: Access,
    Path((provider, consumer, sha, metadata)): Path<(String, String, String, String)>,
    Body(request): Body<crate::VerificationRequest>,
) -> Answer {
    let (v, _) = state
        .broker
        .publish_selected_verification(
            access.caller,
            &consumer,
            &provider,
            &sha,
            crate::Selection::from_metadata(&metadata),
            request,
        )
        .await?;
    Ok(hal(
        StatusCode::CREATED,
        verification_view(&access.base, &consumer, &provider, &v),
    ))
}

async fn verification(
    State(state): State<BrokerState>,
    access: Access,
    Path((provider, consumer, _sha, id)): Path<(String, String, String, String)>,
) -> Answer {
    let v = state.broker.verification(&consumer, &provider, &id).await?;
    ok(verification_view(&access.base, &consumer, &provider, &v))
}
