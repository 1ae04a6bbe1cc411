//! The matrix and can-i-deploy: their query strings and answers.

use std::collections::HashMap;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde_json::{Value, json};

use super::failure::{Failure, ok};
use super::urls::{link, pact_version_url, pacticipant_url, seg, version_url};
use super::{Access, Answer, BrokerState};
use crate::{Matrix, MatrixQuery, MatrixSelector};

/// A matrix query string: room for the most selectors a query may hold.
const MAX_MATRIX_QUERY_BYTES: usize = 16 * 1024;

pub(super) fn router() -> Router<BrokerState> {
    Router::new()
        .route("/matrix", get(matrix))
        .route("/can-i-deploy", get(matrix))
}

/// `q[][pacticipant]=…&q[][version]=…&…&environment=…` (and `/can-i-deploy`'s
/// `pacticipant=…&version=…&environment=…`): each `q[][pacticipant]` starts a selector.
fn matrix_query(raw: &str) -> Result<MatrixQuery, Failure> {
    if raw.len() > MAX_MATRIX_QUERY_BYTES {
        return Err(Failure::invalid(
            "q",
            &format!("the query string is longer than {MAX_MATRIX_QUERY_BYTES} bytes"),
        ));
    }
    let mut query = MatrixQuery::default();
    let mut top: HashMap<String, String> = HashMap::new();
    for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
        let v = v.into_owned();
        if let Some(field) = k.strip_prefix("q[][").and_then(|f| f.strip_suffix(']')) {
            if field == "pacticipant" {
                query.selectors.push(MatrixSelector {
                    pacticipant: v,
                    ..MatrixSelector::default()
                });
                continue;
            }
            if query.selectors.len() > crate::MAX_SELECTORS {
                break;
            }
            let Some(s) = query.selectors.last_mut() else {
                return Err(Failure::invalid(
                    "q",
                    "each selector must start with q[][pacticipant]",
                ));
            };
            match field {
                "version" => s.version = Some(v),
                "branch" => s.branch = Some(v),
                "tag" => s.tag = Some(v),
                "latest" => s.latest = v == "true",
                "mainBranch" => s.main_branch = v == "true",
                _ => {}
            }
        } else {
            top.insert(k.into_owned(), v);
        }
    }
    if query.selectors.is_empty()
        && let Some(p) = top.get("pacticipant")
    {
        query.selectors.push(MatrixSelector {
            pacticipant: p.clone(),
            version: top.get("version").cloned(),
            ..MatrixSelector::default()
        });
    }
    query.environment = top.get("environment").cloned().filter(|e| !e.is_empty());
    query.tag = top
        .get("tag")
        .or_else(|| top.get("to"))
        .cloned()
        .filter(|t| !t.is_empty());
    query.latest = top.get("latest").is_some_and(|l| l == "true");
    query.main_branch = top.get("mainBranch").is_some_and(|m| m == "true");
    for s in &query.selectors {
        crate::check_pacticipant_name("q", &s.pacticipant)?;
    }
    Ok(query)
}

async fn matrix(State(state): State<BrokerState>, access: Access, uri: axum::http::Uri) -> Answer {
    let query = matrix_query(uri.query().unwrap_or(""))?;
    let m = state.broker.matrix(&query).await?;
    ok(matrix_view(&access.base, &m))
}

fn matrix_view(base: &str, m: &Matrix) -> Value {
    let rows: Vec<Value> = m
        .rows
        .iter()
        .map(|r| {
            json!({
                "consumer": {
                    "name": r.consumer,
                    "version": {
                        "number": r.consumer_version.number,
                        "branch": r.consumer_version.branches.last(),
                        "tags": r.consumer_version.tags.iter().map(|t| json!({"name": t})).collect::<Vec<_>>(),
                        "_links": { "self": link(version_url(base, &r.consumer, &r.consumer_version.number)) }
                    },
                    "_links": { "self": link(pacticipant_url(base, &r.consumer)) }
                },
                "provider": {
                    "name": r.provider,
                    "version": r.provider_version.as_ref().map(|v| json!({
                        "number": v.number,
                        "branch": v.branches.last(),
                        "_links": { "self": link(version_url(base, &r.provider, &v.number)) }
                    })),
                    "_links": { "self": link(pacticipant_url(base, &r.provider)) }
                },
                "pact": {
                    "createdAt": r.pact_created_at,
                    "_links": { "self": link(pact_version_url(base, &r.consumer, &r.provider, &r.pact_sha)) }
                },
                "verificationResult": r.verification.as_ref().map(|v| json!({
                    "success": v.success,
                    "verifiedAt": v.created_at,
                    "_links": { "self": link(format!("{}/verification-results/{}", pact_version_url(base, &r.consumer, &r.provider, &v.sha), seg(&v.id))) }
                })),
            })
        })
        .collect();
    let reason = m
        .reasons
        .iter()
        .map(|(_, t)| t.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    json!({
        "summary": {
            "deployable": m.deployable,
            "reason": reason,
            "success": m.success,
            "failed": m.failed,
            "unknown": m.unknown,
        },
        "notices": m.reasons.iter().map(|(kind, text)| json!({ "type": kind, "text": text })).collect::<Vec<_>>(),
        "matrix": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_queries_read_as_the_cli_sends_them() {
        let q = matrix_query(
            "q[][pacticipant]=web%20app&q[][version]=1.2&q[][pacticipant]=docintel&q[][latest]=true&q[][branch]=main&latestby=cvpv&environment=production",
        )
        .unwrap();
        assert_eq!(q.selectors.len(), 2);
        assert_eq!(q.selectors[0].pacticipant, "web app");
        assert_eq!(q.selectors[0].version.as_deref(), Some("1.2"));
        assert!(q.selectors[1].latest);
        assert_eq!(q.selectors[1].branch.as_deref(), Some("main"));
        assert_eq!(q.environment.as_deref(), Some("production"));
        // /can-i-deploy's flat form.
        let q = matrix_query("pacticipant=a&version=3&environment=test").unwrap();
        assert_eq!(q.selectors[0].version.as_deref(), Some("3"));
        // A field before any pacticipant is refused, not guessed.
        assert!(matrix_query("q[][version]=1").is_err());
    }
}
