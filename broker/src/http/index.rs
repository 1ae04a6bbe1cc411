//! The broker's HAL index: the links clients follow.

use axum::Router;
use axum::routing::get;
use serde_json::json;

use super::failure::ok;
use super::urls::templated;
use super::{Access, Answer, BrokerState};

pub(super) fn router() -> Router<BrokerState> {
    Router::new().route("/", get(index))
}

/// The broker's HAL index: the links clients follow.
pub(super) async fn index(access: Access) -> Answer {
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
        "pb:webhooks": { "href": format!("{b}/webhooks"), "title": "Webhooks", "templated": false },
        "pb:webhook": templated(format!("{b}/webhooks/{{uuid}}"), "Webhook"),
    }}))
}
