//! A pair's matrix page (`/matrix/provider/P/consumer/C`, as the Pact Broker's UI has it):
//! which consumer versions' pacts each provider version verified, filtered by a GET form.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, html};

use super::index::latest_url;
use super::{PageAccess, for_browser, page, status, when};
use crate::http::BrokerState;
use crate::http::Failure;
use crate::http::urls::{seg, version_url};
use crate::{MatrixSelector, PairRow, Version};

/// Lines shown: the newest; the filters narrow the rest down.
const MAX_ROWS_SHOWN: usize = 100;
/// The form's query: a few short fields.
const MAX_QUERY_BYTES: usize = 4 * 1024;

pub(super) fn router() -> Router<BrokerState> {
    Router::new().route(
        "/matrix/provider/{provider}/consumer/{consumer}",
        get(matrix_page),
    )
}

/// A consumer version's pact (its page, for a browser).
fn version_pact_url(base: &str, consumer: &str, provider: &str, number: &str) -> String {
    format!(
        "{base}/pacts/provider/{}/consumer/{}/version/{}",
        seg(provider),
        seg(consumer),
        seg(number)
    )
}

/// One side's filter, as the form names its fields (`consumer_branch`, …).
fn side(
    pacticipant: &str,
    prefix: &str,
    query: &[(String, String)],
) -> Result<MatrixSelector, Failure> {
    let mut s = MatrixSelector {
        pacticipant: pacticipant.to_owned(),
        ..MatrixSelector::default()
    };
    for (k, v) in query {
        let Some(field) = k.strip_prefix(prefix).and_then(|f| f.strip_prefix('_')) else {
            continue;
        };
        if field == "latest" {
            s.latest = !v.is_empty();
            continue;
        }
        if v.is_empty() {
            continue;
        }
        let slot = match field {
            "version" => &mut s.version,
            "branch" => &mut s.branch,
            "tag" => &mut s.tag,
            _ => continue,
        };
        crate::check_name(k, v)?;
        *slot = Some(v.clone());
    }
    Ok(s)
}

async fn matrix_page(
    State(state): State<BrokerState>,
    PageAccess(access): PageAccess,
    Path((provider, consumer)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Response {
    let answer = async {
        let raw = raw.unwrap_or_default();
        if raw.len() > MAX_QUERY_BYTES {
            return Err(Failure::invalid(
                "q",
                &format!("the query string is longer than {MAX_QUERY_BYTES} bytes"),
            ));
        }
        let query: Vec<(String, String)> = form_urlencoded::parse(raw.as_bytes())
            .into_owned()
            .collect();
        let c = side(&consumer, "consumer", &query)?;
        let p = side(&provider, "provider", &query)?;
        let (rows, more) = state.broker.pair_matrix(&c, &p, MAX_ROWS_SHOWN).await?;
        Ok(render(&access.base, &c, &p, &rows, more))
    }
    .await;
    answer.unwrap_or_else(for_browser)
}

fn render(
    base: &str,
    c: &MatrixSelector,
    p: &MatrixSelector,
    shown: &[PairRow],
    more: bool,
) -> Response {
    let (consumer, provider) = (&c.pacticipant, &p.pacticipant);
    page(
        base,
        &format!("Matrix of {consumer} and {provider}"),
        html! {
            p { a href=(latest_url(base, consumer, provider)) { "The latest pact of " (consumer) " with " (provider) } }
            form method="get" aria-label="Filter the matrix" {
                (filter("consumer", consumer, c))
                (filter("provider", provider, p))
                button type="submit" { "Filter" }
            }
            @if more {
                p class="note" { "Showing the newest " (shown.len()) " lines only; filter by version, branch or tag for others." }
            }
            @if shown.is_empty() {
                p { "No pacts between these versions." }
            } @else {
                table {
                    caption { "Pacts of " (consumer) " and their verifications by " (provider) ", newest first" }
                    thead { tr {
                        th scope="col" { (consumer) " version" }
                        th scope="col" { "Pact published" }
                        th scope="col" { (provider) " version" }
                        th scope="col" { "Verification" }
                        th scope="col" { "Verified" }
                    } }
                    tbody {
                        @for r in shown {
                            tr {
                                td { a href=(version_url(base, consumer, &r.consumer_version.number)) { (r.consumer_version.number) } (labels(&r.consumer_version)) }
                                td { a href=(version_pact_url(base, consumer, provider, &r.consumer_version.number)) { (when(&r.pact_created_at)) } }
                                td {
                                    @if let Some(v) = &r.provider_version {
                                        a href=(version_url(base, provider, &v.number)) { (v.number) } (labels(v))
                                    } @else { "—" }
                                }
                                td { (status(r.status())) }
                                td { @if let Some(v) = &r.verification { (when(&v.created_at)) } @else { "—" } }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// A side's fields, filled with what it was filtered by.
fn filter(prefix: &str, name: &str, s: &MatrixSelector) -> Markup {
    let field = |f: &str| format!("{prefix}_{f}");
    html! {
        fieldset {
            legend { (name) " (" (prefix) ")" }
            label { "Version " input type="text" name=(field("version")) value=(s.version.as_deref().unwrap_or("")); }
            label { "Branch " input type="text" name=(field("branch")) value=(s.branch.as_deref().unwrap_or("")); }
            label { "Tag " input type="text" name=(field("tag")) value=(s.tag.as_deref().unwrap_or("")); }
            label { input type="checkbox" name=(field("latest")) value="true" checked[s.latest]; " Latest only" }
        }
    }
}

fn labels(v: &Version) -> Markup {
    html! {
        @for b in &v.branches { " " small { "branch " (b) } }
        @for t in &v.tags { " " small { "tag " (t) } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_reads_into_one_selector_per_side() {
        let q: Vec<(String, String)> = form_urlencoded::parse(
            b"consumer_branch=main&consumer_latest=true&provider_tag=prod&provider_version=&other=x",
        )
        .into_owned()
        .collect();
        let c = side("web", "consumer", &q).unwrap();
        assert_eq!(c.branch.as_deref(), Some("main"));
        assert!(c.latest);
        let p = side("api", "provider", &q).unwrap();
        assert_eq!(p.tag.as_deref(), Some("prod"));
        assert_eq!(p.version, None);
        assert!(!p.latest);
        let bad: Vec<(String, String)> = vec![("consumer_tag".into(), "a\nb".into())];
        assert!(side("web", "consumer", &bad).is_err());
    }
}
