//! Webhooks: the collection (all, or those of a consumer and/or provider), one webhook
//! (create-or-update by uuid), its execution (`pb:execute`, what `test-webhook` posts)
//! and its execution log, in the Pact Broker's shapes.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::failure::{Failure, hal, ok};
use super::urls::{link, pacticipant_url, seg, webhook_url};
use super::{Access, Answer, Body, BrokerState};
use crate::webhooks::{
    Execution, OutgoingRequest, Sent, Webhook, WebhookSink, parse_webhook, redact_headers,
};

pub(super) fn router() -> Router<BrokerState> {
    Router::new()
        .route("/webhooks", get(all_webhooks).post(create_webhook))
        .route(
            "/webhooks/{uuid}",
            get(webhook).put(put_webhook).delete(delete_webhook),
        )
        .route("/webhooks/{uuid}/execute", post(execute))
        .route("/webhooks/{uuid}/executions", get(executions))
        .route(
            "/webhooks/provider/{provider}/consumer/{consumer}",
            get(pair_webhooks).post(create_pair_webhook),
        )
        .route(
            "/pacts/provider/{provider}/consumer/{consumer}/webhooks",
            get(pair_webhooks).post(create_pair_webhook),
        )
        .route(
            "/webhooks/provider/{provider}",
            get(provider_webhooks).post(create_provider_webhook),
        )
        .route(
            "/webhooks/consumer/{consumer}",
            get(consumer_webhooks).post(create_consumer_webhook),
        )
}

fn sink(state: &BrokerState) -> Result<&dyn WebhookSink, Failure> {
    state.webhooks.as_deref().ok_or_else(|| {
        Failure::not_found("Webhooks are not enabled on this broker (its host sends none)")
    })
}

fn headers_view(headers: &[(String, String)]) -> Value {
    if headers.is_empty() {
        return Value::Null;
    }
    Value::Object(
        headers
            .iter()
            .map(|(n, v)| (n.clone(), Value::String(v.clone())))
            .collect::<Map<_, _>>(),
    )
}

fn webhook_view(base: &str, w: &Webhook) -> Value {
    let url = webhook_url(base, &w.uuid);
    let side = |name: &Option<String>| name.as_ref().map(|n| json!({ "name": n }));
    let mut links = json!({
        "self": { "title": w.display_description(), "href": url },
        "pb:execute": { "title": "Test the execution of the webhook with the latest matching pact or verification by sending a POST request to this URL", "href": format!("{url}/execute") },
        "pb:executions": { "title": "The webhook's executions, newest first", "href": format!("{url}/executions") },
        "pb:webhooks": { "title": "All webhooks", "href": format!("{base}/webhooks") },
    });
    if let Some(c) = &w.consumer {
        links["pb:consumer"] =
            json!({ "title": "Consumer", "name": c, "href": pacticipant_url(base, c) });
    }
    if let Some(p) = &w.provider {
        links["pb:provider"] =
            json!({ "title": "Provider", "name": p, "href": pacticipant_url(base, p) });
    }
    if let (Some(c), Some(p)) = (&w.consumer, &w.provider) {
        links["pb:pact-webhooks"] = json!({
            "title": format!("All webhooks for consumer {c} and provider {p}"),
            "href": format!("{base}/webhooks/provider/{}/consumer/{}", seg(p), seg(c)),
        });
    }
    let mut view = json!({
        "uuid": w.uuid,
        "description": w.display_description(),
        "consumer": side(&w.consumer),
        "provider": side(&w.provider),
        "enabled": w.enabled,
        "request": {
            "method": w.request.method,
            "url": w.request.url,
            "headers": headers_view(&w.redacted_headers()),
            "body": w.request.body,
            "username": w.request.username,
            "password": w.display_password(),
        },
        "events": w.events.iter().map(|e| json!({ "name": e })).collect::<Vec<_>>(),
        "createdAt": w.created_at,
        "updatedAt": w.updated_at,
        "_links": links,
    });
    if let Some(reason) = &w.disabled_reason {
        view["disabledReason"] = json!(reason);
    }
    view
}

fn webhooks_view(base: &str, self_url: String, title: &str, hooks: &[Webhook]) -> Value {
    json!({
        "_links": {
            "self": { "title": title, "href": self_url },
            "pb:create": { "title": "POST to create a webhook", "href": self_url },
            "pb:webhooks": hooks.iter().map(|w| json!({
                "title": w.scope_description(),
                "name": w.display_description(),
                "href": webhook_url(base, &w.uuid),
            })).collect::<Vec<_>>(),
        }
    })
}

async fn list(
    state: &BrokerState,
    access: &Access,
    scope: Option<(Option<&str>, Option<&str>)>,
    self_url: String,
) -> Answer {
    if let Some((consumer, provider)) = scope {
        for name in consumer.into_iter().chain(provider) {
            state.broker.pacticipant(name).await?;
        }
    }
    let hooks = state.broker.webhooks(access.caller, scope).await?;
    ok(webhooks_view(&access.base, self_url, "Webhooks", &hooks))
}

async fn all_webhooks(State(state): State<BrokerState>, access: Access) -> Answer {
    let url = format!("{}/webhooks", access.base);
    list(&state, &access, None, url).await
}

async fn pair_webhooks(
    State(state): State<BrokerState>,
    access: Access,
    Path((provider, consumer)): Path<(String, String)>,
) -> Answer {
    let url = format!(
        "{}/webhooks/provider/{}/consumer/{}",
        access.base,
        seg(&provider),
        seg(&consumer)
    );
    list(
        &state,
        &access,
        Some((Some(&consumer), Some(&provider))),
        url,
    )
    .await
}

async fn provider_webhooks(
    State(state): State<BrokerState>,
    access: Access,
    Path(provider): Path<String>,
) -> Answer {
    let url = format!("{}/webhooks/provider/{}", access.base, seg(&provider));
    list(&state, &access, Some((None, Some(&provider))), url).await
}

async fn consumer_webhooks(
    State(state): State<BrokerState>,
    access: Access,
    Path(consumer): Path<String>,
) -> Answer {
    let url = format!("{}/webhooks/consumer/{}", access.base, seg(&consumer));
    list(&state, &access, Some((Some(&consumer), None)), url).await
}

/// Creates a webhook; a path naming pacticipants sets them over the body's.
async fn create(
    state: &BrokerState,
    access: &Access,
    body: Value,
    consumer: Option<String>,
    provider: Option<String>,
) -> Answer {
    let sink = sink(state)?;
    let mut input = parse_webhook(&body)?;
    if consumer.is_some() {
        input.consumer = consumer;
    }
    if provider.is_some() {
        input.provider = provider;
    }
    let (w, _) = state
        .broker
        .save_webhook(access.caller, None, input, sink)
        .await?;
    Ok(created(&access.base, &w))
}

fn created(base: &str, w: &Webhook) -> Response {
    let mut response = hal(StatusCode::CREATED, webhook_view(base, w));
    if let Ok(location) = HeaderValue::from_str(&webhook_url(base, &w.uuid)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

async fn create_webhook(
    State(state): State<BrokerState>,
    access: Access,
    Body(body): Body<Value>,
) -> Answer {
    create(&state, &access, body, None, None).await
}

async fn create_pair_webhook(
    State(state): State<BrokerState>,
    access: Access,
    Path((provider, consumer)): Path<(String, String)>,
    Body(body): Body<Value>,
) -> Answer {
    create(&state, &access, body, Some(consumer), Some(provider)).await
}

async fn create_provider_webhook(
    State(state): State<BrokerState>,
    access: Access,
    Path(provider): Path<String>,
    Body(body): Body<Value>,
) -> Answer {
    create(&state, &access, body, None, Some(provider)).await
}

async fn create_consumer_webhook(
    State(state): State<BrokerState>,
    access: Access,
    Path(consumer): Path<String>,
    Body(body): Body<Value>,
) -> Answer {
    create(&state, &access, body, Some(consumer), None).await
}

async fn webhook(
    State(state): State<BrokerState>,
    access: Access,
    Path(uuid): Path<String>,
) -> Answer {
    let w = state.broker.webhook(access.caller, &uuid).await?;
    ok(webhook_view(&access.base, &w))
}

/// `PUT /webhooks/{uuid}`: creates it under the client's uuid, or replaces it whole.
async fn put_webhook(
    State(state): State<BrokerState>,
    access: Access,
    Path(uuid): Path<String>,
    Body(body): Body<Value>,
) -> Answer {
    let sink = sink(&state)?;
    let input = parse_webhook(&body)?;
    let (w, was_created) = state
        .broker
        .save_webhook(access.caller, Some(&uuid), input, sink)
        .await?;
    if was_created {
        Ok(created(&access.base, &w))
    } else {
        ok(webhook_view(&access.base, &w))
    }
}

async fn delete_webhook(
    State(state): State<BrokerState>,
    access: Access,
    Path(uuid): Path<String>,
) -> Answer {
    state.broker.delete_webhook(access.caller, &uuid).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn sent_view(request: &OutgoingRequest, sent: &Sent) -> (Value, Value) {
    let parse = |b: &Option<String>| {
        b.as_ref()
            .map(|b| serde_json::from_str(b).unwrap_or_else(|_| Value::String(b.clone())))
    };
    let shown = json!({
        "headers": headers_view(&redact_headers(&request.headers, false)),
        "body": parse(&request.body),
        // Without its query, where tokens travel.
        "url": request.url.split(['?', '#']).next().unwrap_or_default(),
    });
    let response = match sent.status {
        Some(status) => json!({ "status": status, "body": parse(&sent.body) }),
        None => Value::Null,
    };
    (shown, response)
}

/// `POST /webhooks/{uuid}/execute`: the result of running it now, with its log.
async fn execute(
    State(state): State<BrokerState>,
    access: Access,
    Path(uuid): Path<String>,
) -> Answer {
    let sink = sink(&state)?;
    let (w, request, sent, execution) = state
        .broker
        .execute_webhook(access.caller, &uuid, &access.base, sink)
        .await?;
    let (request, response) = sent_view(&request, &sent);
    let url = webhook_url(&access.base, &w.uuid);
    let mut body = json!({
        "request": request,
        "logs": execution.logs,
        "success": sent.success(),
        "_links": {
            "webhook": link(url.clone()),
            "try-again": { "title": "Execute the webhook again", "href": format!("{url}/execute") },
        }
    });
    if !response.is_null() {
        body["response"] = response;
    }
    if let Some(e) = &sent.error {
        body["error"] = json!({ "message": e });
    }
    ok(body)
}

fn execution_view(e: &Execution) -> Value {
    json!({
        "uuid": e.uuid,
        "eventName": e.event,
        "consumerName": e.consumer,
        "providerName": e.provider,
        "success": e.success,
        "status": e.status,
        "attempt": e.attempt,
        "logs": e.logs,
        "createdAt": e.created_at,
    })
}

/// `GET /webhooks/{uuid}/executions`: what each attempt sent and got, newest first.
async fn executions(
    State(state): State<BrokerState>,
    access: Access,
    Path(uuid): Path<String>,
) -> Answer {
    let list = state
        .broker
        .webhook_executions(access.caller, &uuid)
        .await?;
    let url = webhook_url(&access.base, &uuid);
    ok(json!({
        "executions": list.iter().map(execution_view).collect::<Vec<_>>(),
        "_links": {
            "self": { "title": "Webhook executions", "href": format!("{url}/executions") },
            "pb:webhook": { "title": "Webhook", "href": url },
        }
    }))
}
