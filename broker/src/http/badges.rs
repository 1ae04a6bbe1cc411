//! Verification badges, at the Pact Broker's URLs, as SVG images for READMEs: a pair's
//! latest pact (optionally of a consumer tag, verified by a provider tag) and
//! can-i-deploy for a pacticipant's latest version of a branch or tag.
//!
//! Who may see one: like every read, a key's holder, unless the operator made badges
//! public (`docintel serve --broker-public-badges`, the Pact Broker's
//! `enable_public_badge_access`), since a README cannot send a key. A badge never shows
//! a stored name or version: only the state ("verified", "failed", "unknown") and the
//! words of its own URL, so a public badge tells no more than whether the pact the URL
//! names is verified, and a missing pact reads "unknown", like an unverified one.

use axum::Router;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::html;

use super::pages::for_browser;
use super::{BrokerState, Denied, Failure, denied};
use crate::{BrokerError, MatrixQuery, MatrixSelector, PactStatus};

pub(super) fn router() -> Router<BrokerState> {
    let pair = "/pacts/provider/{provider}/consumer/{consumer}";
    Router::new()
        .route(&format!("{pair}/latest/badge"), get(latest_badge))
        .route(&format!("{pair}/latest/{{tag}}/badge"), get(latest_tagged_badge))
        .route(
            "/matrix/provider/{provider}/latest/{provider_tag}/consumer/{consumer}/latest/{tag}/badge",
            get(matrix_badge),
        )
        .route(
            "/pacticipants/{pacticipant}/branches/{branch}/latest-version/can-i-deploy/to-environment/{environment}/badge",
            get(can_i_deploy_branch_badge),
        )
        .route(
            "/pacticipants/{pacticipant}/latest-version/{tag}/can-i-deploy/to/{to}/badge",
            get(can_i_deploy_tag_badge),
        )
}

/// A badge's reader: a key's holder, or anyone when badges are public. A key that is
/// sent is checked (and spends its requests) even then.
struct BadgeAccess;

impl FromRequestParts<BrokerState> for BadgeAccess {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &BrokerState) -> Result<Self, Response> {
        match state.auth.authenticate(parts).await {
            Ok(who) if state.broker.admits(&who.tenant_name, who.caller.admin) => Ok(Self),
            Ok(who) => Err(for_browser(Failure::from(BrokerError::Forbidden(format!(
                "tenant '{}' may not use this broker (see docintel serve --broker-tenants)",
                who.tenant_name
            ))))),
            Err(Denied::Unauthorized) if state.broker.public_badges() => Ok(Self),
            Err(d) => Err(for_browser(denied(d))),
        }
    }
}

/// The broker's 400 for the first name that is not one.
fn refused(names: &[(&str, &str)]) -> Option<Response> {
    names.iter().find_map(|(field, value)| {
        crate::check_name(field, value)
            .err()
            .map(|e| for_browser(Failure::from(e)))
    })
}

async fn latest_badge(
    State(state): State<BrokerState>,
    _: BadgeAccess,
    Path((provider, consumer)): Path<(String, String)>,
) -> Response {
    pact_badge(&state, &consumer, &provider, None, None).await
}

async fn latest_tagged_badge(
    State(state): State<BrokerState>,
    _: BadgeAccess,
    Path((provider, consumer, tag)): Path<(String, String, String)>,
) -> Response {
    pact_badge(&state, &consumer, &provider, Some(&tag), None).await
}

async fn matrix_badge(
    State(state): State<BrokerState>,
    _: BadgeAccess,
    Path((provider, provider_tag, consumer, tag)): Path<(String, String, String, String)>,
) -> Response {
    pact_badge(
        &state,
        &consumer,
        &provider,
        Some(&tag),
        Some(&provider_tag),
    )
    .await
}

async fn pact_badge(
    state: &BrokerState,
    consumer: &str,
    provider: &str,
    tag: Option<&str>,
    provider_tag: Option<&str>,
) -> Response {
    let mut fields = vec![("consumer", consumer), ("provider", provider)];
    fields.extend(tag.map(|t| ("tag", t)));
    fields.extend(provider_tag.map(|t| ("provider_tag", t)));
    if let Some(refused) = refused(&fields) {
        return refused;
    }
    match state
        .broker
        .latest_pact(consumer, provider, tag, provider_tag)
        .await
    {
        Ok(found) => {
            let status = found.map_or(PactStatus::Unknown, |p| p.status);
            let color = match status {
                PactStatus::Verified => GREEN,
                PactStatus::Failed => RED,
                PactStatus::Unknown => GREY,
            };
            svg("pact", status.label(), color)
        }
        Err(e) => for_browser(Failure::from(e)),
    }
}

async fn can_i_deploy_branch_badge(
    State(state): State<BrokerState>,
    _: BadgeAccess,
    Path((pacticipant, branch, environment)): Path<(String, String, String)>,
) -> Response {
    if let Some(refused) = refused(&[
        ("pacticipant", &pacticipant),
        ("branch", &branch),
        ("environment", &environment),
    ]) {
        return refused;
    }
    let query = MatrixQuery {
        selectors: vec![MatrixSelector {
            pacticipant,
            branch: Some(branch.clone()),
            latest: true,
            ..MatrixSelector::default()
        }],
        environment: Some(environment.clone()),
        ..MatrixQuery::default()
    };
    can_i_deploy_badge(&state, &query, &format!("{branch} to {environment}")).await
}

async fn can_i_deploy_tag_badge(
    State(state): State<BrokerState>,
    _: BadgeAccess,
    Path((pacticipant, tag, to)): Path<(String, String, String)>,
) -> Response {
    if let Some(refused) = refused(&[("pacticipant", &pacticipant), ("tag", &tag), ("to", &to)]) {
        return refused;
    }
    let query = MatrixQuery {
        selectors: vec![MatrixSelector {
            pacticipant,
            tag: Some(tag.clone()),
            latest: true,
            ..MatrixSelector::default()
        }],
        tag: Some(to.clone()),
        ..MatrixQuery::default()
    };
    can_i_deploy_badge(&state, &query, &format!("{tag} to {to}")).await
}

/// The Pact Broker's can-i-deploy badge: "{branch} to {environment}", green when the
/// latest version may be deployed, red when not; grey "unknown" when there is nothing
/// to decide on (no such pacticipant, version or environment).
async fn can_i_deploy_badge(state: &BrokerState, query: &MatrixQuery, words: &str) -> Response {
    let unknown = || svg("can-i-deploy", "unknown", GREY);
    let Some(s) = query.selectors.first() else {
        return unknown();
    };
    let versions = match state.broker.versions(&s.pacticipant).await {
        Ok(versions) => versions,
        Err(e) => return for_browser(Failure::from(e)),
    };
    let picked = versions.iter().any(|v| {
        s.branch
            .as_ref()
            .is_none_or(|b| v.value.branches.contains(b))
            && s.tag.as_ref().is_none_or(|t| v.value.tags.contains(t))
    });
    if !picked {
        return unknown();
    }
    match state.broker.matrix(query).await {
        Ok(m) => svg(
            "can-i-deploy",
            words,
            if m.deployable { GREEN } else { RED },
        ),
        Err(BrokerError::Invalid(_) | BrokerError::NotFound(_)) => unknown(),
        Err(e) => for_browser(Failure::from(e)),
    }
}

const GREEN: &str = "#2e7d32";
const RED: &str = "#c62828";
const GREY: &str = "#616161";

/// Roughly how wide `text` is in 11px Verdana: badges need no exact metrics.
fn width(text: &str) -> usize {
    text.chars().count() * 7 + 10
}

/// A flat two-part badge in the shields.io style, as the Pact Broker serves it.
fn svg(left: &str, right: &str, color: &str) -> Response {
    let mut response = (StatusCode::OK, svg_text(left, right, color)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("image/svg+xml;charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // Opened on its own rather than as an image, it may still run nothing.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn svg_text(left: &str, right: &str, color: &str) -> String {
    let (lw, rw) = (width(left), width(right));
    let label = format!("{left}: {right}");
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(lw + rw) height="20" role="img" aria-label=(label) {
            title { (label) }
            rect width=(lw) height="20" fill="#555" {}
            rect x=(lw) width=(rw) height="20" fill=(color) {}
            g fill="#fff" text-anchor="middle" font-family="DejaVu Sans,Verdana,Geneva,sans-serif" font-size="11" {
                text x=(lw / 2) y="14" { (left) }
                text x=(lw + rw / 2) y="14" { (right) }
            }
        }
    }
    .into_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn badge_text_is_escaped() {
        let body = svg_text("pact", "<script>x</script> & \"", RED);
        assert!(!body.contains("<script>"), "{body}");
        assert!(
            body.contains("&lt;script&gt;x&lt;/script&gt; &amp;"),
            "{body}"
        );
        assert!(body.contains(r##"fill="#c62828""##), "{body}");
    }
}
