//! The broker's HAL index: the links clients follow.

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use serde_json::json;

use super::failure::ok;
use super::urls::templated;
use super::{Access, Answer, BrokerState, Failure, pages};

pub(super) fn router() -> Router<BrokerState> {
    Router::new().route("/", get(index))
}

/// The broker's HAL index: the links clients follow; a page for a browser.
pub(super) async fn index(
    State(state): State<BrokerState>,
    headers: HeaderMap,
    access: Result<Access, Failure>,
) -> Answer {
    if pages::wants_html(&headers) {
        return Ok(match access {
            Ok(access) => pages::index_page(&state, &access)
                .await
                .unwrap_or_else(pages::for_browser),
            Err(refused) => pages::for_browser(refused),
        });
    }
    let access = access?;
    let b = &access.base;
    ok(json!({ "_links": {
        "self": { "href": b, "title": "Index", "templated": false },
        "pb:publish-pact": templated(format!("{b}/pacts/provider/{{provider}}/consumer/{{consumer}}/version/{{consumerApplicationVersion}}"), "Publish a pact"),
        "pb:publish-contracts": { "href": format!("{b}/contracts/publish"), "title": "Publish contracts", "templated": false },
        "pb:pacticipants": { "href": format!("{b}/pacticipants"), "title": "Pacticipants", "templated": false },
        "pb:pacticipant": templated(format!("{b}/pacticipants/{{pacticipant}}"), "Fetch pacticipant by name"),
        "pb:latest-pact-versions": { "href": format!("{b}/pacts/latest"), "title": "Latest pact versions", "templated": false },
        "pb:latest-provider-pacts": templated(format!("{b}/pacts/provider/{{provider}}/latest"), "Latest pacts by provider"),
        "pb:provider-pacts-for-verification": templated(format!("{b}/pacts/provider/{{provider}}/for-verification"), "Pact versions to be verified for the specified provider"),
        "pb:latest-version": templated(format!("{b}/pacticipants/{{pacticipant}}/latest-version"), "Latest pacticipant version"),
        "pb:latest-tagged-version": templated(format!("{b}/pacticipants/{{pacticipant}}/latest-version/{{tag}}"), "Latest pacticipant version with the specified tag"),
        "pb:pacticipant-version": templated(format!("{b}/pacticipants/{{pacticipant}}/versions/{{version}}"), "Get a pacticipant version"),
        "pb:pacticipant-version-tag": templated(format!("{b}/pacticipants/{{pacticipant}}/versions/{{version}}/tags/{{tag}}"), "Create a tag for a pacticipant version"),
        "pb:pacticipant-branch": templated(format!("{b}/pacticipants/{{pacticipant}}/branches/{{branch}}"), "Get or delete a pacticipant branch"),
        "pb:pacticipant-branch-version": templated(format!("{b}/pacticipants/{{pacticipant}}/branches/{{branch}}/versions/{{version}}"), "Add a pacticipant version to a branch"),
        "pb:environments": { "href": format!("{b}/environments"), "title": "Environments", "templated": false },
        "pb:environment": templated(format!("{b}/environments/{{uuid}}"), "Environment"),
        "pb:can-i-deploy-pacticipant-version-to-environment": templated(format!("{b}/can-i-deploy?pacticipant={{pacticipant}}&version={{version}}&environment={{environment}}"), "Determine if an application version can be safely deployed to an environment"),
        "pf:publish-provider-contract": templated(format!("{b}/provider-contracts/provider/{{provider}}/publish"), "Publish a provider contract (an OpenAPI document)"),
        "pb:matrix": { "href": format!("{b}/matrix"), "title": "The matrix of verified consumer and provider versions", "templated": false },
        "pb:webhooks": { "href": format!("{b}/webhooks"), "title": "Webhooks", "templated": false },
        "pb:webhook": templated(format!("{b}/webhooks/{{uuid}}"), "Webhook"),
    }}))
}
