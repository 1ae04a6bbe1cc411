//! The index page: the pacticipants, and each integration's latest pact with its
//! verification state, linking to the pact and the pair's matrix.

use axum::response::Response;
use maud::html;

use super::super::urls::{pacticipant_url, seg};
use super::{page, status, when};
use crate::http::{Access, BrokerState, Failure};

/// Integrations shown: a page a person reads, and a bound on what one request reads
/// (the shown pairs' pacts and verifications, never their content).
const MAX_INTEGRATIONS: usize = 200;
/// Pacticipants listed.
const MAX_PACTICIPANTS: usize = 500;

/// The URL of a pair's latest pact (its page, for a browser).
pub(super) fn latest_url(base: &str, consumer: &str, provider: &str) -> String {
    format!(
        "{base}/pacts/provider/{}/consumer/{}/latest",
        seg(provider),
        seg(consumer)
    )
}

/// The URL of a pair's matrix page.
pub(super) fn matrix_url(base: &str, consumer: &str, provider: &str) -> String {
    format!(
        "{base}/matrix/provider/{}/consumer/{}",
        seg(provider),
        seg(consumer)
    )
}

pub(in crate::http) async fn index_page(
    state: &BrokerState,
    access: &Access,
) -> Result<Response, Failure> {
    let b = &access.base;
    let (integrations, total) = state.broker.integrations(MAX_INTEGRATIONS).await?;
    let mut pacticipants = state.broker.pacticipants().await?;
    pacticipants.sort_by(|a, b| a.name.cmp(&b.name));
    let all_pacticipants = pacticipants.len();
    pacticipants.truncate(MAX_PACTICIPANTS);
    Ok(page(
        b,
        "Pacts",
        html! {
            h2 { "Integrations" }
            @if integrations.is_empty() {
                p { "No pacts have been published yet." }
            } @else {
                @if total > integrations.len() {
                    p class="note" { "Showing the first " (integrations.len()) " of " (total) " integrations, by consumer name." }
                }
                table {
                    caption { "The latest pact of each consumer and provider" }
                    thead { tr {
                        th scope="col" { "Consumer" }
                        th scope="col" { "Provider" }
                        th scope="col" { "Latest pact" }
                        th scope="col" { "Published" }
                        th scope="col" { "Verification" }
                        th scope="col" { "Matrix" }
                    } }
                    tbody {
                        @for i in &integrations {
                            tr {
                                td { (i.consumer) }
                                td { (i.provider) }
                                td { a href=(latest_url(b, &i.consumer, &i.provider)) { "Pact of " (i.consumer) " version " (i.consumer_version) } }
                                td { (when(&i.created_at)) }
                                td {
                                    (status(i.status))
                                    @if let Some(v) = &i.verification {
                                        " by " (i.provider) " version " (v.provider_version) ", " (when(&v.created_at))
                                    }
                                }
                                td { a href=(matrix_url(b, &i.consumer, &i.provider)) { "Matrix of " (i.consumer) " and " (i.provider) } }
                            }
                        }
                    }
                }
            }
            h2 { "Pacticipants" }
            @if pacticipants.is_empty() {
                p { "None yet." }
            } @else {
                @if all_pacticipants > pacticipants.len() {
                    p class="note" { "Showing the first " (pacticipants.len()) " of " (all_pacticipants) " pacticipants, by name." }
                }
                table {
                    caption { "Applications that publish or verify pacts" }
                    thead { tr {
                        th scope="col" { "Name" }
                        th scope="col" { "Main branch" }
                        th scope="col" { "Created" }
                    } }
                    tbody {
                        @for p in &pacticipants {
                            tr {
                                td { a href=(pacticipant_url(b, &p.name)) { (p.name) } }
                                td { (p.main_branch.as_deref().unwrap_or("—")) }
                                td { (when(&p.created_at)) }
                            }
                        }
                    }
                }
            }
        },
    ))
}
