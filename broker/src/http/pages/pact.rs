//! A pact's page (`/pacts/provider/P/consumer/C/latest[/TAG]`, for a browser): who, which
//! versions, whether it is verified, and each interaction readable. HAL clients get the
//! pact itself from the same URLs, as from the Pact Broker.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, html};
use serde_json::Value;

use super::index::matrix_url;
use super::{clip, for_browser, page, status, wants_html, when};
use crate::http::failure::ok;
use crate::http::urls::{pact_version_url, seg};
use crate::http::{Access, BrokerState, Failure};
use crate::{BrokerError, LatestPact, Pact};

/// Interactions shown on one page.
const MAX_INTERACTIONS: usize = 200;
/// The most text one request, response or message shows.
const MAX_BLOCK_BYTES: usize = 16 * 1024;
/// The most text of interactions one page shows, whatever the pact's size.
const MAX_PAGE_BYTES: usize = 512 * 1024;

pub(super) fn router() -> Router<BrokerState> {
    let latest = "/pacts/provider/{provider}/consumer/{consumer}/latest";
    Router::new()
        .route(latest, get(latest_pact))
        .route(&format!("{latest}/{{tag}}"), get(latest_tagged_pact))
}

/// Which of a pair's pacts a URL names.
enum Which<'a> {
    Latest(Option<&'a str>),
    Version(&'a str),
}

async fn latest_pact(
    State(state): State<BrokerState>,
    headers: HeaderMap,
    access: Result<Access, Failure>,
    Path((provider, consumer)): Path<(String, String)>,
) -> Response {
    let html = wants_html(&headers);
    show(
        &state,
        html,
        access,
        &consumer,
        &provider,
        Which::Latest(None),
    )
    .await
}

async fn latest_tagged_pact(
    State(state): State<BrokerState>,
    headers: HeaderMap,
    access: Result<Access, Failure>,
    Path((provider, consumer, tag)): Path<(String, String, String)>,
) -> Response {
    let html = wants_html(&headers);
    show(
        &state,
        html,
        access,
        &consumer,
        &provider,
        Which::Latest(Some(&tag)),
    )
    .await
}

/// A consumer version's pact as a page (its HAL is `pacts::get_pact`'s).
pub(in crate::http) async fn version_page(
    state: &BrokerState,
    access: Result<Access, Failure>,
    consumer: &str,
    provider: &str,
    number: &str,
) -> Response {
    show(
        state,
        true,
        access,
        consumer,
        provider,
        Which::Version(number),
    )
    .await
}

async fn show(
    state: &BrokerState,
    html: bool,
    access: Result<Access, Failure>,
    consumer: &str,
    provider: &str,
    which: Which<'_>,
) -> Response {
    let answer = async {
        let access = access?;
        let found = match which {
            Which::Latest(tag) => state.broker.latest_pact(consumer, provider, tag, None).await?,
            Which::Version(number) => state.broker.version_pact(consumer, provider, number).await?,
        };
        let latest = found.ok_or_else(|| {
            BrokerError::NotFound(match which {
                Which::Latest(Some(t)) => format!("No pact with tag '{t}' found for consumer '{consumer}' and provider '{provider}'"),
                Which::Latest(None) => format!("No pact found for consumer '{consumer}' and provider '{provider}'"),
                Which::Version(n) => format!("No pact found for consumer '{consumer}' version '{n}' and provider '{provider}'"),
            })
        })?;
        let pact = state.broker.latest_pact_content(&latest).await?;
        if html {
            let tag = match which {
                Which::Latest(tag) => tag,
                Which::Version(_) => None,
            };
            Ok(pact_page(&access.base, &latest, &pact, tag))
        } else {
            ok(crate::http::pacts::pact_view(&access.base, &pact))
        }
    }
    .await;
    match answer {
        Ok(response) => response,
        Err(failure) if html => for_browser(failure),
        Err(failure) => axum::response::IntoResponse::into_response(failure),
    }
}

fn pact_page(base: &str, latest: &LatestPact, pact: &Pact, tag: Option<&str>) -> Response {
    let interactions = interactions(&pact.content);
    let shown = interactions.len().min(MAX_INTERACTIONS);
    let badge = match tag {
        Some(t) => format!(
            "{}/pacts/provider/{}/consumer/{}/latest/{}/badge",
            base,
            seg(&pact.provider),
            seg(&pact.consumer),
            seg(t)
        ),
        None => format!(
            "{}/pacts/provider/{}/consumer/{}/latest/badge",
            base,
            seg(&pact.provider),
            seg(&pact.consumer)
        ),
    };
    let mut budget = MAX_PAGE_BYTES;
    let mut cut_short = None;
    let mut sections = Vec::new();
    for (n, i) in interactions.iter().take(shown).enumerate() {
        if budget == 0 {
            cut_short = Some(n);
            break;
        }
        sections.push(interaction(n + 1, i, &mut budget));
    }
    let title = format!("Pact between {} and {}", pact.consumer, pact.provider);
    page(
        base,
        &title,
        html! {
            dl {
                dt { "Consumer" } dd { (pact.consumer) " version " (pact.consumer_version) }
                @if let Some(t) = tag { dt { "Tag" } dd { (t) } }
                dt { "Provider" } dd { (pact.provider) }
                dt { "Published" } dd { (when(&pact.created_at)) }
                dt { "Verification" } dd {
                    (status(latest.status))
                    @if let Some(v) = &latest.verification {
                        " by " (pact.provider) " version " (v.provider_version) ", " (when(&v.created_at))
                    }
                }
                dt { "Badge" } dd { img src=(badge) alt={ "Pact verification badge: " (latest.status.label()) } height="20"; }
            }
            p {
                a href=(pact_version_url(base, &pact.consumer, &pact.provider, &pact.sha)) { "The pact as JSON" }
                " · "
                a href=(matrix_url(base, &pact.consumer, &pact.provider)) { "Matrix of " (pact.consumer) " and " (pact.provider) }
            }
            h2 { "Interactions (" (interactions.len()) ")" }
            @if shown < interactions.len() || cut_short.is_some() {
                p class="note" {
                    "This page shows the first " (cut_short.unwrap_or(shown)) " of " (interactions.len())
                    " interactions; the whole pact is in its JSON."
                }
            }
            @for s in &sections { (s) }
        },
    )
}

/// The pact's interactions (V2–V4) or messages (V3), whatever the specification.
fn interactions(content: &Value) -> &[Value] {
    ["interactions", "messages"]
        .iter()
        .find_map(|k| content.get(*k).and_then(Value::as_array))
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn interaction(n: usize, i: &Value, budget: &mut usize) -> Markup {
    let description = i
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("(no description)");
    let states = provider_states(i);
    let mut blocks = Vec::new();
    if let Some(request) = i.get("request") {
        // A V4 synchronous message asks with a message, not an HTTP request.
        let text = if request.get("method").is_none() && request.get("contents").is_some() {
            message_text(request)
        } else {
            request_text(request)
        };
        blocks.push(("Request", text));
    }
    if let Some(response) = i.get("response") {
        // V4 synchronous messages answer with a list of messages.
        match response.as_array() {
            Some(list) => {
                for r in list {
                    blocks.push(("Response", message_text(r)));
                }
            }
            None => blocks.push(("Response", response_text(response))),
        }
    }
    if i.get("request").is_none()
        && (i.get("contents").is_some()
            || i.get("metaData").is_some()
            || i.get("metadata").is_some())
    {
        blocks.push(("Message", message_text(i)));
    }
    let id = format!("interaction-{n}");
    html! {
        section class="interaction" aria-labelledby=(id) {
            h3 id=(id) { (n) ". " (description) }
            @if !states.is_empty() {
                p { "Given " (states.join("; ")) }
            }
            @for (heading, text) in &blocks {
                h4 { (heading) }
                @let (shown, cut) = take(text, budget);
                pre { (shown) }
                @if cut { p class="note" { "Cut short: the whole " (heading.to_lowercase()) " is in the pact's JSON." } }
            }
        }
    }
}

/// What is left of the page's budget, at most a block's worth, is shown.
fn take<'a>(text: &'a str, budget: &mut usize) -> (&'a str, bool) {
    let (shown, cut) = clip(text, MAX_BLOCK_BYTES.min(*budget));
    *budget = budget.saturating_sub(shown.len());
    (shown, cut)
}

fn provider_states(i: &Value) -> Vec<String> {
    let mut states: Vec<String> = i
        .get("providerStates")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|s| s.get("name").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if let Some(s) = i.get("providerState").and_then(Value::as_str) {
        states.push(s.to_owned());
    }
    states
}

fn request_text(r: &Value) -> String {
    let method = r.get("method").and_then(Value::as_str).unwrap_or("GET");
    let path = r.get("path").and_then(Value::as_str).unwrap_or("/");
    let query = match r.get("query") {
        Some(Value::String(q)) if !q.is_empty() => format!("?{q}"),
        Some(Value::Object(q)) if !q.is_empty() => {
            let mut form = form_urlencoded::Serializer::new(String::new());
            for (k, values) in q {
                match values {
                    Value::Array(list) => {
                        for v in list {
                            form.append_pair(k, v.as_str().unwrap_or(&v.to_string()));
                        }
                    }
                    other => {
                        form.append_pair(k, other.as_str().unwrap_or(&other.to_string()));
                    }
                }
            }
            format!("?{}", form.finish())
        }
        _ => String::new(),
    };
    let mut text = format!("{method} {path}{query}\n");
    headers_and_body(r, &mut text);
    text
}

fn response_text(r: &Value) -> String {
    let mut text = match r.get("status") {
        Some(s) => format!("{s}\n"),
        None => String::new(),
    };
    headers_and_body(r, &mut text);
    text
}

fn message_text(m: &Value) -> String {
    let mut text = String::new();
    if let Some(meta) = m
        .get("metadata")
        .or_else(|| m.get("metaData"))
        .and_then(Value::as_object)
    {
        for (k, v) in meta {
            text.push_str(&format!("{k}: {}\n", v.as_str().unwrap_or(&v.to_string())));
        }
    }
    if let Some(contents) = m.get("contents") {
        text.push('\n');
        text.push_str(&body_text(contents));
    }
    text
}

fn headers_and_body(r: &Value, text: &mut String) {
    if let Some(headers) = r.get("headers").and_then(Value::as_object) {
        for (k, v) in headers {
            let value = match v {
                Value::Array(list) => list
                    .iter()
                    .map(|x| x.as_str().map(str::to_owned).unwrap_or(x.to_string()))
                    .collect::<Vec<_>>()
                    .join(", "),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            text.push_str(&format!("{k}: {value}\n"));
        }
    }
    if let Some(body) = r.get("body") {
        text.push('\n');
        text.push_str(&body_text(body));
    }
}

/// A body as a person reads it: V4's `{"content": …}` unwrapped, JSON indented.
fn body_text(body: &Value) -> String {
    let body = match body.get("content") {
        Some(content) if body.get("contentType").is_some() || body.get("encoded").is_some() => {
            content
        }
        _ => body,
    };
    match body {
        Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn interactions_read_as_http() {
        let i = json!({
            "description": "a list",
            "providerStates": [{"name": "a key"}],
            "request": {"method": "GET", "path": "/v2/documents", "query": {"limit": ["1"]}, "headers": {"Accept": "application/json"}},
            "response": {"status": 200, "body": {"items": []}}
        });
        assert_eq!(provider_states(&i), vec!["a key"]);
        let r = request_text(&i["request"]);
        assert!(
            r.starts_with("GET /v2/documents?limit=1\nAccept: application/json\n"),
            "{r}"
        );
        let r = response_text(&i["response"]);
        assert!(r.starts_with("200\n\n{\n  \"items\": []"), "{r}");
    }

    #[test]
    fn messages_read_as_metadata_and_contents() {
        let m = json!({
            "description": "doc.classified",
            "contents": {"id": "d1"},
            "metadata": {"topic": "docs"}
        });
        assert_eq!(message_text(&m), "topic: docs\n\n{\n  \"id\": \"d1\"\n}");
        let sync = json!({
            "request": {"contents": {"content": "ping", "contentType": "text/plain"}},
            "response": [{"contents": {"content": "pong", "contentType": "text/plain"}}]
        });
        let mut budget = MAX_PAGE_BYTES;
        let html = interaction(1, &sync, &mut budget).into_string();
        assert!(
            html.contains("<pre>\nping</pre>") && html.contains("<pre>\npong</pre>"),
            "{html}"
        );
    }

    #[test]
    fn a_page_shows_a_bounded_amount_of_a_huge_pact() {
        let big = "x".repeat(100_000);
        let mut budget = MAX_PAGE_BYTES;
        let (shown, cut) = take(&big, &mut budget);
        assert!(cut);
        assert_eq!(shown.len(), MAX_BLOCK_BYTES);
        assert_eq!(budget, MAX_PAGE_BYTES - MAX_BLOCK_BYTES);
        let mut empty = 0;
        assert_eq!(take(&big, &mut empty), ("", true));
    }
}
