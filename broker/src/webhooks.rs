//! Webhooks, as the Pact Broker has them: HTTP requests a team describes (method, URL,
//! headers, body, basic auth, with `${pactbroker.…}` template parameters), fired by the
//! broker's events for the consumer and/or provider they name.
//!
//! Firing writes a durable delivery record (what happened, not the request): the host's
//! sender claims due deliveries ([`Broker::claim_webhook_deliveries`]), and each attempt
//! renders the webhook as it is then, sends it through the host ([`WebhookSink`]: its
//! target checks, its HTTP client), logs the execution, and retries on the host's
//! schedule. A webhook belongs to the tenant that created it: only its keys (and admin
//! keys) see, change, run or delete it, and a tenant names only pacticipants it owns.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::names::check_pacticipant_name;
use crate::pacts::Pact;
use crate::records::{self, PactRef, Pacticipant, Stored, Verification, Version, now, pair};
use crate::{Broker, BrokerError, Caller, Result};

/// A webhook (scope `""`, key its uuid).
pub const WEBHOOK: &str = "webhook";
/// A fired webhook waiting to be delivered (scope the owner tenant, key its id).
pub const WEBHOOK_DELIVERY: &str = "webhook-delivery";
/// One attempt's log (scope the webhook's uuid).
pub const WEBHOOK_EXECUTION: &str = "webhook-execution";

/// The events a webhook may fire on, as the Pact Broker names them.
pub const EVENTS: [&str; 6] = [
    CONTRACT_CONTENT_CHANGED,
    CONTRACT_PUBLISHED,
    CONTRACT_REQUIRING_VERIFICATION_PUBLISHED,
    VERIFICATION_PUBLISHED,
    VERIFICATION_SUCCEEDED,
    VERIFICATION_FAILED,
];
pub const CONTRACT_CONTENT_CHANGED: &str = "contract_content_changed";
pub const CONTRACT_PUBLISHED: &str = "contract_published";
pub const CONTRACT_REQUIRING_VERIFICATION_PUBLISHED: &str =
    "contract_requiring_verification_published";
pub const VERIFICATION_PUBLISHED: &str = "provider_verification_published";
pub const VERIFICATION_SUCCEEDED: &str = "provider_verification_succeeded";
pub const VERIFICATION_FAILED: &str = "provider_verification_failed";

/// Webhooks one tenant may hold.
pub const MAX_WEBHOOKS_PER_TENANT: usize = 20;
/// Deliveries of one tenant waiting at once; events beyond are logged, not queued, so a
/// slow endpoint never grows the queue without bound.
pub const MAX_QUEUED_PER_TENANT: u64 = 100;
/// A webhook's request body, as JSON or text.
pub const MAX_WEBHOOK_BODY_BYTES: usize = 64 * 1024;
pub const MAX_HEADERS: usize = 32;
pub const MAX_HEADER_VALUE_BYTES: usize = 8 * 1024;
pub const MAX_URL_BYTES: usize = 2048;
pub const MAX_DESCRIPTION_CHARS: usize = 500;
/// Executions kept per webhook (the newest).
pub const MAX_EXECUTIONS_KEPT: usize = 50;
/// A response body kept in an execution's log.
pub const MAX_LOGGED_RESPONSE_BYTES: usize = 1024;

/// Headers whose values the Pact Broker redacts (`/authorization/i`, `/token/i`).
const REDACTED_HEADER_WORDS: [&str; 2] = ["authorization", "token"];
const REDACTED: &str = "**********";
/// Headers the sender sets itself: a webhook may not forge framing or the target host.
const RESERVED_HEADERS: [&str; 6] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "upgrade",
    "te",
];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WebhookRequest {
    pub method: String,
    pub url: String,
    /// In the order given.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    pub uuid: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub consumer: Option<String>,
    #[serde(default)]
    pub provider: Option<String>,
    pub events: Vec<String>,
    pub enabled: bool,
    pub request: WebhookRequest,
    /// The tenant whose keys created it.
    pub owner: String,
    #[serde(default)]
    pub consecutive_failures: u32,
    /// Unix milliseconds of the first failure in the current run of failures.
    #[serde(default)]
    pub failing_since: Option<i64>,
    #[serde(default)]
    pub disabled_reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl Webhook {
    /// What the Pact Broker shows when there is no description: `POST host`.
    pub fn display_description(&self) -> String {
        match &self.description {
            Some(d) if !d.is_empty() => d.clone(),
            _ => format!(
                "{} {}",
                self.request.method.to_uppercase(),
                host_of(&placeholders(&self.request.url))
            ),
        }
    }

    /// Which pairs it fires for, as the Pact Broker words it.
    pub fn scope_description(&self) -> String {
        match (&self.consumer, &self.provider) {
            (Some(c), Some(p)) => format!("A webhook for the pact between {c} and {p}"),
            (Some(c), None) => format!("A webhook for all pacts with consumer {c}"),
            (None, Some(p)) => format!("A webhook for all pacts with provider {p}"),
            (None, None) => "A webhook for all pacts".to_owned(),
        }
    }

    /// The headers as shown: secrets replaced, unless the value is a template parameter.
    pub fn redacted_headers(&self) -> Vec<(String, String)> {
        redact_headers(&self.request.headers, true)
    }

    /// The password as shown.
    pub fn display_password(&self) -> Option<String> {
        self.request.password.as_ref().map(|p| {
            if p.contains("${pactbroker.") {
                p.clone()
            } else {
                REDACTED.to_owned()
            }
        })
    }

    fn fires_for(&self, event: &str, consumer: &str, provider: &str) -> bool {
        self.enabled
            && self.events.iter().any(|e| e == event)
            && self.consumer.as_deref().is_none_or(|c| c == consumer)
            && self.provider.as_deref().is_none_or(|p| p == provider)
    }
}

/// What an event carries into the template parameters.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Trigger {
    pub event: String,
    pub consumer: String,
    pub provider: String,
    pub consumer_version: String,
    #[serde(default)]
    pub consumer_branch: String,
    #[serde(default)]
    pub consumer_tags: Vec<String>,
    pub sha: String,
    #[serde(default)]
    pub provider_version: String,
    #[serde(default)]
    pub provider_branch: String,
    #[serde(default)]
    pub provider_tags: Vec<String>,
    #[serde(default)]
    pub provider_version_descriptions: Vec<String>,
    /// The verification result's id, and whether it passed.
    #[serde(default)]
    pub verification: Option<(String, bool)>,
    #[serde(default)]
    pub build_url: String,
}

/// A fired webhook waiting for its next attempt.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub webhook: String,
    pub trigger: Trigger,
    pub attempts: u32,
    /// Unix milliseconds.
    pub queued_at: i64,
    pub next_attempt_at: i64,
    /// Held by a sender until then.
    pub lease_until: i64,
}

/// One execution of a webhook, as its log shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    pub uuid: String,
    pub event: String,
    pub consumer: String,
    pub provider: String,
    pub success: bool,
    #[serde(default)]
    pub status: Option<u16>,
    pub attempt: u32,
    /// Secrets redacted.
    pub logs: String,
    pub created_at: String,
}

/// A webhook's request with its parameters filled: what the host sends.
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// What sending came to.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sent {
    pub status: Option<u16>,
    /// At most [`MAX_LOGGED_RESPONSE_BYTES`] of it.
    pub body: Option<String>,
    /// Why no response came (the host has taken secrets out of it).
    pub error: Option<String>,
}

impl Sent {
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// When the host retries and gives up, and when it disables a failing webhook.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryPolicy {
    /// A delivery not made within this long after its event is given up.
    pub retry_window: Duration,
    pub disable_after: u32,
    pub disable_after_failing_for: Duration,
}

/// What the broker needs of its host to deliver webhooks: where a request may go, and
/// how it is sent.
#[async_trait]
pub trait WebhookSink: Send + Sync {
    /// Whether a webhook may target `url` (scheme, no credentials in it, a public address
    /// unless the host allows private ones); why not, when not.
    async fn check_target(&self, url: &str) -> std::result::Result<(), String>;
    /// Sends the request once, checking its target again first.
    async fn send(&self, request: &OutgoingRequest) -> Sent;
    /// The delay before the next attempt after `attempts` failed ones.
    fn backoff(&self, attempts: u32) -> Duration;
    fn policy(&self) -> DeliveryPolicy;
}

/// A webhook as a client sends it (create, or update whole).
#[derive(Debug, Clone)]
pub struct WebhookInput {
    pub description: Option<String>,
    pub consumer: Option<String>,
    pub provider: Option<String>,
    pub events: Vec<String>,
    pub enabled: bool,
    pub request: WebhookRequest,
}

fn millis(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

/// Headers with the values of `Authorization` and `…token…` ones replaced, as the Pact
/// Broker shows them; `keep_parameters`: a value that is only a template parameter is
/// no secret and is shown.
pub fn redact_headers(
    headers: &[(String, String)],
    keep_parameters: bool,
) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let parameter = keep_parameters && value.contains("${pactbroker.");
            let shown = if is_redacted_header(name) && !parameter {
                REDACTED.to_owned()
            } else {
                value.clone()
            };
            (name.clone(), shown)
        })
        .collect()
}

fn is_redacted_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    REDACTED_HEADER_WORDS.iter().any(|w| lower.contains(w))
}

/// The Pact Broker's `Render.render_with_placeholder`: parameters as `placeholder`.
fn placeholders(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${pactbroker.") {
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        out.push_str(&rest[..start]);
        out.push_str("placeholder");
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

/// The host of an absolute URL, as text.
fn host_of(url: &str) -> &str {
    let after = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = after.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.starts_with('[') {
        return host_port
            .split_once(']')
            .map_or(host_port, |(h, _)| h.trim_start_matches('['));
    }
    host_port.split(':').next().unwrap_or_default()
}

/// A URL as logs show it: scheme, host and path; a query or credentials (where tokens
/// travel) never reach a log.
fn loggable_url(url: &str) -> String {
    let cut = url.split(['?', '#']).next().unwrap_or_default();
    match cut.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            format!("{scheme}://{host}{path}")
        }
        None => cut.to_owned(),
    }
}

fn field_error(errors: &mut BTreeMap<String, Vec<String>>, field: &str, message: String) {
    errors.entry(field.to_owned()).or_default().push(message);
}

/// Reads a webhook as the Pact Broker's clients send it. Headers may be an object
/// (the Pact Broker's own shape) or a list of `Name: value` strings (what the Rust
/// `pact-broker` CLI sends); events default to `contract_content_changed`.
pub fn parse_webhook(body: &Value) -> Result<WebhookInput> {
    let mut errors = BTreeMap::new();
    let Some(object) = body.as_object() else {
        return Err(BrokerError::invalid("body", "must be a JSON object"));
    };
    let text = |v: Option<&Value>, field: &str, errors: &mut BTreeMap<String, Vec<String>>| match v
    {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            field_error(errors, field, "must be a string".to_owned());
            None
        }
    };
    let description = text(object.get("description"), "description", &mut errors);
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS)
    {
        field_error(
            &mut errors,
            "description",
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
        );
    }
    let side = |key: &str, errors: &mut BTreeMap<String, Vec<String>>| -> Option<String> {
        match object.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Object(o)) => {
                if o.get("label").is_some_and(|l| !l.is_null()) {
                    field_error(
                        errors,
                        key,
                        "matching pacticipants by label is not supported by this broker; name one"
                            .to_owned(),
                    );
                    return None;
                }
                match o.get("name") {
                    Some(Value::String(n)) => {
                        if let Err(BrokerError::Invalid(e)) = check_pacticipant_name(key, n) {
                            for (f, m) in e {
                                m.into_iter().for_each(|m| field_error(errors, &f, m));
                            }
                            return None;
                        }
                        Some(n.clone())
                    }
                    None | Some(Value::Null) => None,
                    Some(_) => {
                        field_error(errors, key, "name must be a string".to_owned());
                        None
                    }
                }
            }
            Some(_) => {
                field_error(errors, key, "must be an object with a name".to_owned());
                None
            }
        }
    };
    let consumer = side("consumer", &mut errors);
    let provider = side("provider", &mut errors);
    let events = match object.get("events") {
        None | Some(Value::Null) => vec![CONTRACT_CONTENT_CHANGED.to_owned()],
        Some(Value::Array(list)) if list.is_empty() => {
            field_error(
                &mut errors,
                "events",
                "size cannot be less than 1".to_owned(),
            );
            Vec::new()
        }
        Some(Value::Array(list)) => {
            let mut names = Vec::new();
            for e in list {
                match e.get("name").and_then(Value::as_str) {
                    Some(n) if EVENTS.contains(&n) => {
                        if !names.iter().any(|x| x == n) {
                            names.push(n.to_owned());
                        }
                    }
                    _ => field_error(
                        &mut errors,
                        "events",
                        format!(
                            "name must be one of {} ({} given)",
                            EVENTS.join(", "),
                            e.get("name").unwrap_or(&Value::Null)
                        ),
                    ),
                }
            }
            names
        }
        Some(_) => {
            field_error(&mut errors, "events", "must be a list".to_owned());
            Vec::new()
        }
    };
    let enabled = match object.get("enabled") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            field_error(&mut errors, "enabled", "must be true or false".to_owned());
            true
        }
    };
    let request = match object.get("request") {
        Some(Value::Object(r)) => parse_request(r, &mut errors)?,
        _ => {
            field_error(&mut errors, "request", "is missing".to_owned());
            None
        }
    };
    match request {
        Some(request) if errors.is_empty() => Ok(WebhookInput {
            description,
            consumer,
            provider,
            events,
            enabled,
            request,
        }),
        _ => Err(BrokerError::Invalid(errors)),
    }
}

fn parse_request(
    r: &serde_json::Map<String, Value>,
    errors: &mut BTreeMap<String, Vec<String>>,
) -> Result<Option<WebhookRequest>> {
    let method = match r.get("method") {
        None | Some(Value::Null) => "POST".to_owned(),
        Some(Value::String(m)) => m.to_ascii_uppercase(),
        Some(_) => {
            field_error(errors, "request.method", "must be a string".to_owned());
            String::new()
        }
    };
    // The Pact Broker's default `webhook_http_method_whitelist`: POST only, so a webhook
    // cannot be used to read from hosts it can reach.
    if !method.is_empty() && method != "POST" {
        field_error(
            errors,
            "request.method",
            format!("must be POST (the allowed webhook method); {method} given"),
        );
    }
    let url = match r.get("url") {
        Some(Value::String(u)) if !u.is_empty() => u.clone(),
        _ => {
            field_error(errors, "request.url", "is missing".to_owned());
            String::new()
        }
    };
    if url.len() > MAX_URL_BYTES {
        field_error(
            errors,
            "request.url",
            format!("must be at most {MAX_URL_BYTES} bytes"),
        );
    }
    let mut headers = Vec::new();
    match r.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(h)) => {
            for (name, value) in h {
                match value {
                    Value::String(v) => headers.push((name.clone(), v.clone())),
                    other => headers.push((name.clone(), other.to_string())),
                }
            }
        }
        Some(Value::Array(list)) => {
            for item in list {
                match item.as_str().and_then(|s| s.split_once(':')) {
                    Some((n, v)) => headers.push((n.trim().to_owned(), v.trim().to_owned())),
                    None => field_error(
                        errors,
                        "request.headers",
                        format!("{item} is not a \"Name: value\" header"),
                    ),
                }
            }
        }
        Some(_) => field_error(
            errors,
            "request.headers",
            "must be an object of names and values".to_owned(),
        ),
    }
    if headers.len() > MAX_HEADERS {
        return Err(BrokerError::TooLarge(format!(
            "a webhook has at most {MAX_HEADERS} headers; {} given",
            headers.len()
        )));
    }
    for (name, value) in &headers {
        let token = !name.is_empty()
            && name.len() <= 256
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !token {
            field_error(
                errors,
                "request.headers",
                format!("{name:?} is not a valid header name"),
            );
        } else if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            field_error(
                errors,
                "request.headers",
                format!("{name} is set by the broker and may not be given"),
            );
        }
        if value.len() > MAX_HEADER_VALUE_BYTES {
            return Err(BrokerError::TooLarge(format!(
                "header {name} is {} bytes; at most {MAX_HEADER_VALUE_BYTES}",
                value.len()
            )));
        }
        if value.chars().any(|c| c.is_control() && c != '\t') {
            field_error(
                errors,
                "request.headers",
                format!("the value of {name} holds control characters"),
            );
        }
    }
    let body = match r.get("body") {
        None | Some(Value::Null) => None,
        Some(b) => Some(b.clone()),
    };
    if let Some(b) = &body {
        let size = match b {
            Value::String(s) => s.len(),
            other => other.to_string().len(),
        };
        if size > MAX_WEBHOOK_BODY_BYTES {
            return Err(BrokerError::TooLarge(format!(
                "the webhook's request body is {size} bytes; at most {MAX_WEBHOOK_BODY_BYTES}"
            )));
        }
    }
    let mut credential = |key: &str| match r.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.len() <= 1024 && !s.chars().any(char::is_control) => {
            Some(s.clone())
        }
        Some(_) => {
            field_error(
                errors,
                &format!("request.{key}"),
                "must be a string of at most 1024 bytes without control characters".to_owned(),
            );
            None
        }
    };
    let username = credential("username");
    let password = credential("password");
    Ok(errors.is_empty().then_some(WebhookRequest {
        method,
        url,
        headers,
        body,
        username,
        password,
    }))
}

/// A uuid as the Pact Broker accepts one: 16 or more of letters, digits, `_` and `-`.
pub fn check_uuid(uuid: &str) -> Result<()> {
    let ok = (16..=64).contains(&uuid.len())
        && uuid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(BrokerError::invalid(
            "uuid",
            "must be 16 to 64 characters of letters, digits, _ and - (see pact-broker generate-uuid)",
        ))
    }
}

/// The template parameters of a trigger, as the Pact Broker fills them.
pub fn parameters(base: &str, t: &Trigger) -> Vec<(&'static str, String)> {
    let pact_url = if t.consumer.is_empty() {
        String::new()
    } else {
        crate::http::urls::consumer_version_pact_url(
            base,
            &t.consumer,
            &t.provider,
            &t.consumer_version,
        )
    };
    let verification_url = t
        .verification
        .as_ref()
        .map(|(id, _)| {
            crate::http::urls::verification_url(base, &t.consumer, &t.provider, &t.sha, id)
        })
        .unwrap_or_default();
    let status = |pass: &str, fail: &str, pending: &str| match t.verification {
        Some((_, true)) => pass.to_owned(),
        Some((_, false)) => fail.to_owned(),
        None => pending.to_owned(),
    };
    vec![
        ("pactbroker.pactUrl", pact_url),
        ("pactbroker.verificationResultUrl", verification_url),
        ("pactbroker.consumerName", t.consumer.clone()),
        ("pactbroker.providerName", t.provider.clone()),
        (
            "pactbroker.consumerVersionNumber",
            t.consumer_version.clone(),
        ),
        (
            "pactbroker.providerVersionNumber",
            t.provider_version.clone(),
        ),
        (
            "pactbroker.consumerVersionBranch",
            t.consumer_branch.clone(),
        ),
        (
            "pactbroker.providerVersionBranch",
            t.provider_branch.clone(),
        ),
        ("pactbroker.consumerVersionTags", t.consumer_tags.join(", ")),
        ("pactbroker.providerVersionTags", t.provider_tags.join(", ")),
        (
            "pactbroker.providerVersionDescriptions",
            t.provider_version_descriptions.join(", "),
        ),
        ("pactbroker.consumerLabels", String::new()),
        ("pactbroker.providerLabels", String::new()),
        (
            "pactbroker.githubVerificationStatus",
            status("success", "failure", "pending"),
        ),
        (
            "pactbroker.bitbucketVerificationStatus",
            status("SUCCESSFUL", "FAILED", "INPROGRESS"),
        ),
        (
            "pactbroker.azureDevOpsVerificationStatus",
            status("succeeded", "failed", "pending"),
        ),
        (
            "pactbroker.gitlabVerificationStatus",
            status("success", "failed", "pending"),
        ),
        ("pactbroker.eventName", t.event.clone()),
        ("pactbroker.buildUrl", t.build_url.clone()),
        (
            "pactbroker.currentlyDeployedProviderVersionNumber",
            String::new(),
        ),
    ]
}

/// Replaces each `${name}` by its value (`escape`d), in one pass: a value is never
/// itself searched for parameters.
pub fn render(
    template: &str,
    params: &[(&str, String)],
    escape: impl Fn(&str) -> String,
) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}').and_then(|end| {
            params
                .iter()
                .find(|(name, _)| *name == &after[..end])
                .map(|(_, v)| (end, v))
        }) {
            Some((end, value)) => {
                out.push_str(&escape(value));
                rest = &after[end + 1..];
            }
            None => {
                out.push_str("${");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn form_escape(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The webhook's request with the trigger's parameters: escaped in the URL (as the Pact
/// Broker does), as they are in headers and credentials, and inside the strings of a
/// JSON body (so a value cannot change the body's structure).
pub fn build_request(base: &str, request: &WebhookRequest, trigger: &Trigger) -> OutgoingRequest {
    let params = parameters(base, trigger);
    let plain = |s: &str| render(s, &params, str::to_owned);
    let body = request.body.as_ref().map(|b| match b {
        Value::String(s) => plain(s),
        other => fill_json(other, &plain).to_string(),
    });
    OutgoingRequest {
        method: request.method.clone(),
        url: render(&request.url, &params, form_escape),
        headers: request
            .headers
            .iter()
            .map(|(n, v)| (n.clone(), plain(v)))
            .collect(),
        body,
        username: request.username.as_deref().map(plain),
        password: request.password.as_deref().map(plain),
    }
}

fn fill_json(value: &Value, fill: &impl Fn(&str) -> String) -> Value {
    match value {
        Value::String(s) => Value::String(fill(s)),
        Value::Array(items) => Value::Array(items.iter().map(|v| fill_json(v, fill)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (fill(k), fill_json(v, fill)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// An execution's log, as the Pact Broker writes it, with secrets out: the values of
/// `Authorization`/`…token…` headers and the password, wherever they appear, and the
/// URL's query.
pub fn execution_log(uuid: &str, request: &OutgoingRequest, sent: &Sent) -> String {
    let at = now();
    let mut log = format!(
        "[{at}] INFO: HTTP/1.1 {} {}\n",
        request.method,
        loggable_url(&request.url)
    );
    let mut secrets: Vec<&str> = Vec::new();
    for (name, value) in &request.headers {
        if is_redacted_header(name) {
            secrets.push(value);
            log.push_str(&format!("[{at}] INFO: {name}: {REDACTED}\n"));
        } else {
            log.push_str(&format!("[{at}] INFO: {name}: {value}\n"));
        }
    }
    if let Some(user) = &request.username {
        log.push_str(&format!("[{at}] INFO: (basic auth as {user})\n"));
    }
    if let Some(p) = &request.password {
        secrets.push(p);
    }
    if let Some(body) = &request.body {
        log.push_str(&format!("[{at}] INFO: {body}\n"));
    }
    match (sent.status, &sent.error) {
        (Some(status), _) => {
            log.push_str(&format!(
                "[{at}] INFO: Received response for webhook {uuid} status={status}\n"
            ));
            if let Some(b) = &sent.body {
                log.push_str(&format!("[{at}] DEBUG: {b}\n"));
            }
        }
        (None, Some(e)) => log.push_str(&format!(
            "[{at}] ERROR: Error executing webhook {uuid}. {e}\n"
        )),
        (None, None) => {}
    }
    log.push_str(&format!(
        "[{at}] INFO: Webhook {uuid} {}\n",
        if sent.success() {
            "executed successfully"
        } else {
            "execution failed"
        }
    ));
    for s in secrets.into_iter().filter(|s| !s.trim().is_empty()) {
        log = log.replace(s, "********");
    }
    log
}

impl Broker {
    // ---- webhooks: the resources ----

    async fn webhook_records(&self) -> Result<Vec<Stored<Webhook>>> {
        self.records.list(WEBHOOK, Some("")).await
    }

    /// The webhooks `caller` may see (its tenant's; every one for an admin); with
    /// `scope`, those naming exactly that consumer and provider (`None`: naming none), as
    /// the Pact Broker's consumer, provider and pact webhook collections list them.
    pub async fn webhooks(
        &self,
        caller: Caller,
        scope: Option<(Option<&str>, Option<&str>)>,
    ) -> Result<Vec<Webhook>> {
        let tenant = caller.tenant.to_string();
        Ok(self
            .webhook_records()
            .await?
            .into_iter()
            .map(|s| s.value)
            .filter(|w| caller.admin || w.owner == tenant)
            .filter(|w| {
                scope.is_none_or(|(c, p)| w.consumer.as_deref() == c && w.provider.as_deref() == p)
            })
            .collect())
    }

    /// One webhook, if `caller` may see it; another team's is as absent as a missing one.
    pub async fn webhook(&self, caller: Caller, uuid: &str) -> Result<Webhook> {
        self.find_webhook(uuid)
            .await?
            .map(|s| s.value)
            .filter(|w| caller.admin || w.owner == caller.tenant.to_string())
            .ok_or_else(|| BrokerError::NotFound(format!("No webhook with uuid '{uuid}' found")))
    }

    async fn find_webhook(&self, uuid: &str) -> Result<Option<Stored<Webhook>>> {
        self.records.get(WEBHOOK, "", uuid).await
    }

    /// Who may name these pacticipants: an admin key anything (a webhook naming none
    /// fires for every pact); a team only webhooks naming a pacticipant it owns, each
    /// named one existing.
    async fn check_webhook_scope(&self, caller: Caller, input: &WebhookInput) -> Result<()> {
        let tenant = caller.tenant.to_string();
        let mut owns_one = false;
        for (role, name) in [("consumer", &input.consumer), ("provider", &input.provider)] {
            let Some(name) = name else { continue };
            let Some(p) = self.find_pacticipant(name).await? else {
                return Err(BrokerError::NotFound(format!(
                    "No pacticipant with name '{name}' found (the webhook's {role})"
                )));
            };
            owns_one |= p.owner.as_deref() == Some(tenant.as_str());
        }
        if caller.admin || owns_one {
            return Ok(());
        }
        Err(BrokerError::Forbidden(
            if input.consumer.is_none() && input.provider.is_none() {
                "only an admin key may create a webhook for every pact; name a consumer or provider your team owns".to_owned()
            } else {
                "this key may create webhooks only for pacticipants its team owns".to_owned()
            },
        ))
    }

    /// Creates a webhook (`uuid` None: a new one) or replaces one the caller may change.
    /// `Ok((webhook, created))`.
    pub async fn save_webhook(
        &self,
        caller: Caller,
        uuid: Option<&str>,
        input: WebhookInput,
        sink: &dyn WebhookSink,
    ) -> Result<(Webhook, bool)> {
        if let Some(u) = uuid {
            check_uuid(u)?;
        }
        self.check_webhook_scope(caller, &input).await?;
        sink.check_target(&placeholders(&input.request.url))
            .await
            .map_err(|why| BrokerError::invalid("request.url", why))?;
        let tenant = caller.tenant.to_string();
        let existing = match uuid {
            Some(u) => self.find_webhook(u).await?,
            None => None,
        };
        let at = now();
        match existing {
            Some(stored) => {
                if !caller.admin && stored.value.owner != tenant {
                    return Err(BrokerError::Forbidden(format!(
                        "webhook '{}' belongs to another team",
                        stored.key
                    )));
                }
                let mut w = stored.value.clone();
                w.description = input.description;
                w.consumer = input.consumer;
                w.provider = input.provider;
                w.events = input.events;
                w.enabled = input.enabled;
                w.request = input.request;
                w.updated_at = at;
                if w.enabled {
                    w.consecutive_failures = 0;
                    w.failing_since = None;
                    w.disabled_reason = None;
                }
                let body = serde_json::to_string(&w).unwrap_or_default();
                if !self
                    .records
                    .0
                    .broker_replace(WEBHOOK, "", &stored.key, &stored.raw, &body)
                    .await?
                {
                    return Err(BrokerError::Busy);
                }
                Ok((w, false))
            }
            None => {
                if !caller.admin {
                    let held = self
                        .webhook_records()
                        .await?
                        .iter()
                        .filter(|s| s.value.owner == tenant)
                        .count();
                    if held >= MAX_WEBHOOKS_PER_TENANT {
                        return Err(BrokerError::QuotaExceeded(format!(
                            "this team holds {held} webhooks and may hold at most \
                             {MAX_WEBHOOKS_PER_TENANT}; delete one first"
                        )));
                    }
                }
                let uuid = uuid
                    .map(str::to_owned)
                    .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
                let w = Webhook {
                    uuid: uuid.clone(),
                    description: input.description,
                    consumer: input.consumer,
                    provider: input.provider,
                    events: input.events,
                    enabled: input.enabled,
                    request: input.request,
                    owner: tenant,
                    consecutive_failures: 0,
                    failing_since: None,
                    disabled_reason: None,
                    created_at: at.clone(),
                    updated_at: at,
                };
                if !self.records.insert(WEBHOOK, "", &uuid, &w).await? {
                    return Err(BrokerError::Busy);
                }
                // Counted again once written: of concurrent creates that each saw room,
                // those past the cap are taken back.
                if !caller.admin {
                    let mine: Vec<String> = self
                        .webhook_records()
                        .await?
                        .into_iter()
                        .filter(|s| s.value.owner == w.owner)
                        .map(|s| s.key)
                        .collect();
                    if mine.iter().position(|k| *k == uuid) >= Some(MAX_WEBHOOKS_PER_TENANT) {
                        self.records.delete(WEBHOOK, "", Some(&uuid)).await?;
                        return Err(BrokerError::QuotaExceeded(format!(
                            "this team may hold at most {MAX_WEBHOOKS_PER_TENANT} webhooks; \
                             delete one first"
                        )));
                    }
                }
                Ok((w, true))
            }
        }
    }

    pub async fn delete_webhook(&self, caller: Caller, uuid: &str) -> Result<()> {
        let w = self.webhook(caller, uuid).await?;
        self.remove_webhook(&w.uuid).await
    }

    async fn remove_webhook(&self, uuid: &str) -> Result<()> {
        self.records.delete(WEBHOOK, "", Some(uuid)).await?;
        self.records.delete(WEBHOOK_EXECUTION, uuid, None).await?;
        Ok(())
    }

    /// Removes the webhooks naming a deleted pacticipant: a team may later create a
    /// pacticipant of that name, and another team's webhook must never hear its events.
    pub(crate) async fn forget_webhooks_naming(&self, name: &str) -> Result<()> {
        for w in self.webhook_records().await? {
            let w = w.value;
            if w.consumer.as_deref() == Some(name) || w.provider.as_deref() == Some(name) {
                self.remove_webhook(&w.uuid).await?;
            }
        }
        Ok(())
    }

    /// The webhook's executions, newest first.
    pub async fn webhook_executions(&self, caller: Caller, uuid: &str) -> Result<Vec<Execution>> {
        let w = self.webhook(caller, uuid).await?;
        let mut list: Vec<Execution> = self
            .records
            .list::<Execution>(WEBHOOK_EXECUTION, Some(&w.uuid))
            .await?
            .into_iter()
            .map(|s| s.value)
            .collect();
        list.reverse();
        Ok(list)
    }

    /// `POST /webhooks/{uuid}/execute`: runs the webhook now with the latest matching
    /// pact (and, for verification events, its latest result), as `test-webhook` asks.
    pub async fn execute_webhook(
        &self,
        caller: Caller,
        uuid: &str,
        base: &str,
        sink: &dyn WebhookSink,
    ) -> Result<(Webhook, OutgoingRequest, Sent, Execution)> {
        let w = self.webhook(caller, uuid).await?;
        let mut trigger = self.latest_trigger(&w).await?;
        trigger.event = "test".to_owned();
        let request = build_request(base, &w.request, &trigger);
        let sent = sink.send(&request).await;
        let execution = self.log_execution(&w, &trigger, &request, &sent, 1).await?;
        Ok((w, request, sent, execution))
    }

    /// The most recent pact the webhook matches, as a trigger (placeholders without one).
    async fn latest_trigger(&self, w: &Webhook) -> Result<Trigger> {
        let pairs = self
            .records
            .pairs(records::PACT, |c, p| {
                w.consumer.as_deref().is_none_or(|x| x == c)
                    && w.provider.as_deref().is_none_or(|x| x == p)
            })
            .await?;
        let latest = self
            .records
            .list_in::<PactRef>(records::PACT, &pairs)
            .await?
            .into_iter()
            .max_by_key(|s| s.seq);
        let Some(latest) = latest else {
            return Ok(Trigger {
                consumer: w
                    .consumer
                    .clone()
                    .unwrap_or_else(|| "placeholder-consumer".into()),
                provider: w
                    .provider
                    .clone()
                    .unwrap_or_else(|| "placeholder-provider".into()),
                ..Trigger::default()
            });
        };
        let Some((consumer, provider)) = records::split_pair(&latest.scope) else {
            return Ok(Trigger::default());
        };
        let mut trigger = self
            .pact_trigger(consumer, provider, &latest.key, &latest.value.sha)
            .await?;
        if w.events
            .iter()
            .any(|e| e.starts_with("provider_verification"))
            && let Some(v) = self
                .verifications(consumer, provider)
                .await?
                .into_iter()
                .next_back()
        {
            self.add_verification(&mut trigger, &v).await?;
        }
        Ok(trigger)
    }

    async fn pact_trigger(
        &self,
        consumer: &str,
        provider: &str,
        number: &str,
        sha: &str,
    ) -> Result<Trigger> {
        let version = self
            .records
            .get::<Version>(records::VERSION, consumer, number)
            .await?
            .map(|s| s.value);
        Ok(Trigger {
            consumer: consumer.to_owned(),
            provider: provider.to_owned(),
            consumer_version: number.to_owned(),
            consumer_branch: version
                .as_ref()
                .and_then(|v| v.branches.last().cloned())
                .unwrap_or_default(),
            consumer_tags: version.as_ref().map(|v| v.tags.clone()).unwrap_or_default(),
            sha: sha.to_owned(),
            build_url: version.and_then(|v| v.build_url).unwrap_or_default(),
            ..Trigger::default()
        })
    }

    async fn add_verification(&self, t: &mut Trigger, v: &Verification) -> Result<()> {
        let version = self
            .records
            .get::<Version>(records::VERSION, &t.provider, &v.provider_version)
            .await?
            .map(|s| s.value);
        t.provider_version = v.provider_version.clone();
        t.provider_branch = version
            .as_ref()
            .and_then(|v| v.branches.last().cloned())
            .unwrap_or_default();
        t.provider_tags = version.map(|v| v.tags).unwrap_or_default();
        t.verification = Some((v.id.clone(), v.success));
        if let Some(url) = &v.build_url {
            t.build_url = url.clone();
        }
        Ok(())
    }

    async fn log_execution(
        &self,
        w: &Webhook,
        trigger: &Trigger,
        request: &OutgoingRequest,
        sent: &Sent,
        attempt: u32,
    ) -> Result<Execution> {
        let execution = Execution {
            uuid: uuid::Uuid::now_v7().to_string(),
            event: trigger.event.clone(),
            consumer: trigger.consumer.clone(),
            provider: trigger.provider.clone(),
            success: sent.success(),
            status: sent.status,
            attempt,
            logs: execution_log(&w.uuid, request, sent),
            created_at: now(),
        };
        self.keep_execution(&w.uuid, &execution).await?;
        Ok(execution)
    }

    /// Logs an execution, keeping the newest [`MAX_EXECUTIONS_KEPT`].
    async fn keep_execution(&self, webhook: &str, execution: &Execution) -> Result<()> {
        self.records
            .insert(WEBHOOK_EXECUTION, webhook, &execution.uuid, execution)
            .await?;
        let kept = self
            .records
            .0
            .broker_list(WEBHOOK_EXECUTION, Some(webhook))
            .await?;
        for old in kept
            .iter()
            .take(kept.len().saturating_sub(MAX_EXECUTIONS_KEPT))
        {
            self.records
                .delete(WEBHOOK_EXECUTION, webhook, Some(&old.key))
                .await?;
        }
        Ok(())
    }

    // ---- webhooks: firing ----

    /// The enabled webhooks that fire for some event of the pair.
    async fn webhooks_for(&self, consumer: &str, provider: &str) -> Result<Vec<Webhook>> {
        Ok(self
            .webhook_records()
            .await?
            .into_iter()
            .map(|s| s.value)
            .filter(|w| {
                w.enabled
                    && w.consumer.as_deref().is_none_or(|c| c == consumer)
                    && w.provider.as_deref().is_none_or(|p| p == provider)
            })
            .collect())
    }

    /// The sha of the pair's latest pact, before a publication: what tells whether its
    /// content changed. Read only when some webhook could fire.
    pub(crate) async fn before_publication(
        &self,
        consumer: &str,
        provider: &str,
    ) -> Result<Option<Option<String>>> {
        if self.webhooks_for(consumer, provider).await?.is_empty() {
            return Ok(None);
        }
        Ok(Some(
            self.records
                .list::<PactRef>(records::PACT, Some(&pair(consumer, provider)))
                .await?
                .into_iter()
                .max_by_key(|s| s.seq)
                .map(|s| s.value.sha),
        ))
    }

    /// Fires the events of one published pact: `contract_published`; when its content
    /// differs from the pair's latest before, `contract_content_changed`; and
    /// `contract_requiring_verification_published` once per provider version that is to
    /// verify it (the head of the provider's main branch, and each version currently
    /// deployed or released) and has not yet. `previous`: [`Self::before_publication`].
    /// A failure to queue is logged: the pact is published either way.
    pub(crate) async fn pact_published(&self, pact: &Pact, previous: Option<Option<String>>) {
        let Some(previous) = previous else { return };
        if let Err(e) = self.fire_pact_events(pact, previous).await {
            tracing::error!(error = %e, consumer = %pact.consumer, provider = %pact.provider, "pact broker: queueing webhooks");
        }
    }

    async fn fire_pact_events(&self, pact: &Pact, previous: Option<String>) -> Result<()> {
        let base = self
            .pact_trigger(
                &pact.consumer,
                &pact.provider,
                &pact.consumer_version,
                &pact.sha,
            )
            .await?;
        let mut triggers = vec![Trigger {
            event: CONTRACT_PUBLISHED.to_owned(),
            ..base.clone()
        }];
        if previous.as_deref() != Some(pact.sha.as_str()) {
            triggers.push(Trigger {
                event: CONTRACT_CONTENT_CHANGED.to_owned(),
                ..base.clone()
            });
        }
        for (version, branch, descriptions) in self.required_verifications(pact).await? {
            triggers.push(Trigger {
                event: CONTRACT_REQUIRING_VERIFICATION_PUBLISHED.to_owned(),
                provider_version: version,
                provider_branch: branch,
                provider_version_descriptions: descriptions,
                ..base.clone()
            });
        }
        self.fire(triggers).await
    }

    /// The provider versions that are to verify the pact and have not: `(number,
    /// branch, why)`, each once.
    async fn required_verifications(
        &self,
        pact: &Pact,
    ) -> Result<Vec<(String, String, Vec<String>)>> {
        let provider = &pact.provider;
        let mut wanted: Vec<(String, String, Vec<String>)> = Vec::new();
        let mut add = |number: String, branch: String, why: String| match wanted
            .iter_mut()
            .find(|(n, _, _)| *n == number)
        {
            Some((_, _, whys)) => whys.push(why),
            None => wanted.push((number, branch, vec![why])),
        };
        let main = self
            .find_pacticipant(provider)
            .await?
            .and_then(|p: Pacticipant| p.main_branch);
        let versions = self.versions(provider).await?;
        if let Some(main) = &main
            && let Some(head) = versions
                .iter()
                .rev()
                .find(|v| v.value.branches.iter().any(|b| b == main))
        {
            add(
                head.key.clone(),
                main.clone(),
                format!("latest version from main branch {main}"),
            );
        }
        let environments = self.environments().await?;
        for d in self.current(provider, true, true).await? {
            let env = environments
                .iter()
                .find(|e| e.uuid == d.environment)
                .map_or(d.environment.clone(), |e| e.name.clone());
            let branch = versions
                .iter()
                .find(|v| v.key == d.version)
                .and_then(|v| v.value.branches.last().cloned())
                .unwrap_or_default();
            add(
                d.version.clone(),
                branch,
                format!("deployed or released in {env}"),
            );
        }
        let verified: Vec<String> = self
            .verifications(&pact.consumer, provider)
            .await?
            .into_iter()
            .filter(|v| v.sha == pact.sha)
            .map(|v| v.provider_version)
            .collect();
        wanted.retain(|(n, _, _)| !verified.contains(n));
        Ok(wanted)
    }

    /// Fires the events of a published verification result: `provider_verification_published`,
    /// and `…_succeeded` or `…_failed`. Logged when queueing fails.
    pub(crate) async fn verification_published(&self, pact: &Pact, v: &Verification) {
        let result = async {
            if self
                .webhooks_for(&pact.consumer, &pact.provider)
                .await?
                .is_empty()
            {
                return Ok(());
            }
            let mut base = self
                .pact_trigger(
                    &pact.consumer,
                    &pact.provider,
                    &pact.consumer_version,
                    &pact.sha,
                )
                .await?;
            self.add_verification(&mut base, v).await?;
            let outcome = if v.success {
                VERIFICATION_SUCCEEDED
            } else {
                VERIFICATION_FAILED
            };
            self.fire(
                [VERIFICATION_PUBLISHED, outcome]
                    .into_iter()
                    .map(|event| Trigger {
                        event: event.to_owned(),
                        ..base.clone()
                    })
                    .collect(),
            )
            .await
        }
        .await;
        if let Err(e) = result {
            tracing::error!(error = %e, consumer = %pact.consumer, provider = %pact.provider, "pact broker: queueing webhooks");
        }
    }

    /// Queues a delivery per webhook and trigger it fires on, within each owner's bound.
    async fn fire(&self, triggers: Vec<Trigger>) -> Result<()> {
        let Some(first) = triggers.first() else {
            return Ok(());
        };
        let hooks = self.webhooks_for(&first.consumer, &first.provider).await?;
        let at = millis(OffsetDateTime::now_utc());
        for trigger in &triggers {
            for w in hooks
                .iter()
                .filter(|w| w.fires_for(&trigger.event, &trigger.consumer, &trigger.provider))
            {
                let (queued, _) = self
                    .records
                    .0
                    .broker_usage(WEBHOOK_DELIVERY, std::slice::from_ref(&w.owner))
                    .await?;
                if queued >= MAX_QUEUED_PER_TENANT {
                    tracing::warn!(webhook = %w.uuid, queued, "pact broker: webhook not queued, the team's queue is full");
                    let sent = Sent {
                        error: Some(format!(
                            "not queued: {queued} deliveries of this team are waiting already (at most {MAX_QUEUED_PER_TENANT})"
                        )),
                        ..Sent::default()
                    };
                    let request = OutgoingRequest {
                        method: w.request.method.clone(),
                        url: w.request.url.clone(),
                        headers: Vec::new(),
                        body: None,
                        username: None,
                        password: None,
                    };
                    self.log_execution(w, trigger, &request, &sent, 0).await?;
                    continue;
                }
                let delivery = Delivery {
                    webhook: w.uuid.clone(),
                    trigger: trigger.clone(),
                    attempts: 0,
                    queued_at: at,
                    next_attempt_at: at,
                    lease_until: 0,
                };
                self.records
                    .insert(
                        WEBHOOK_DELIVERY,
                        &w.owner,
                        &uuid::Uuid::now_v7().to_string(),
                        &delivery,
                    )
                    .await?;
            }
        }
        Ok(())
    }

    // ---- webhooks: delivery ----

    /// Claims up to `limit` due deliveries until `lease` from now: another sender (in
    /// this process or another sharing the database) skips them meanwhile.
    pub async fn claim_webhook_deliveries(
        &self,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<Stored<Delivery>>> {
        let now = millis(OffsetDateTime::now_utc());
        let mut claimed = Vec::new();
        for d in self
            .records
            .list::<Delivery>(WEBHOOK_DELIVERY, None)
            .await?
        {
            if claimed.len() >= limit {
                break;
            }
            if d.value.next_attempt_at > now || d.value.lease_until > now {
                continue;
            }
            let mut next = d.value.clone();
            next.lease_until = now + lease.as_millis() as i64;
            let body = serde_json::to_string(&next).unwrap_or_default();
            if self
                .records
                .0
                .broker_replace(WEBHOOK_DELIVERY, &d.scope, &d.key, &d.raw, &body)
                .await?
            {
                claimed.push(Stored {
                    value: next,
                    raw: body,
                    ..d
                });
            }
        }
        Ok(claimed)
    }

    /// One attempt of a claimed delivery: the webhook as it is now, sent through the
    /// host, logged; then done, retried later, or given up (and the webhook disabled
    /// once it has failed long enough).
    pub async fn attempt_webhook_delivery(
        &self,
        sink: &dyn WebhookSink,
        base: &str,
        claimed: Stored<Delivery>,
    ) -> Result<()> {
        let d = &claimed.value;
        let Some(w) = self
            .find_webhook(&d.webhook)
            .await?
            .map(|s| s.value)
            .filter(|w| w.enabled)
        else {
            // Deleted or disabled since it fired: nothing to send.
            self.records
                .delete(WEBHOOK_DELIVERY, &claimed.scope, Some(&claimed.key))
                .await?;
            return Ok(());
        };
        let request = build_request(base, &w.request, &d.trigger);
        let sent = sink.send(&request).await;
        let attempts = d.attempts + 1;
        self.log_execution(&w, &d.trigger, &request, &sent, attempts)
            .await?;
        let now = millis(OffsetDateTime::now_utc());
        let policy = sink.policy();
        let retry_at = now + sink.backoff(attempts).as_millis() as i64;
        let retry =
            !sent.success() && retry_at <= d.queued_at + policy.retry_window.as_millis() as i64;
        if retry {
            let next = Delivery {
                attempts,
                next_attempt_at: retry_at,
                lease_until: 0,
                ..d.clone()
            };
            let body = serde_json::to_string(&next).unwrap_or_default();
            self.records
                .0
                .broker_replace(
                    WEBHOOK_DELIVERY,
                    &claimed.scope,
                    &claimed.key,
                    &claimed.raw,
                    &body,
                )
                .await?;
        } else {
            self.records
                .delete(WEBHOOK_DELIVERY, &claimed.scope, Some(&claimed.key))
                .await?;
        }
        let success = sent.success();
        let reason = sent
            .error
            .clone()
            .or_else(|| sent.status.map(|s| format!("the endpoint answered {s}")))
            .unwrap_or_default();
        let placeholder = w.clone();
        self.records
            .upsert(WEBHOOK, "", &w.uuid, placeholder, |w| {
                if success {
                    w.consecutive_failures = 0;
                    w.failing_since = None;
                    return;
                }
                w.consecutive_failures += 1;
                let since = *w.failing_since.get_or_insert(now);
                if w.consecutive_failures >= policy.disable_after
                    && now - since >= policy.disable_after_failing_for.as_millis() as i64
                {
                    w.enabled = false;
                    w.disabled_reason = Some(format!(
                        "disabled after {} failed attempts in a row; last error: {reason}",
                        w.consecutive_failures
                    ));
                }
            })
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn trigger() -> Trigger {
        Trigger {
            event: CONTRACT_CONTENT_CHANGED.into(),
            consumer: "web app".into(),
            provider: "docintel".into(),
            consumer_version: "1.0+b/2".into(),
            consumer_branch: "main".into(),
            sha: "abc".into(),
            ..Trigger::default()
        }
    }

    #[test]
    fn parameters_fill_url_escaped_and_body_strings_only() {
        let request = WebhookRequest {
            method: "POST".into(),
            url: "https://ci.example.com/build?consumer=${pactbroker.consumerName}&v=${pactbroker.consumerVersionNumber}".into(),
            headers: vec![("X-Pact".into(), "${pactbroker.pactUrl}".into())],
            body: Some(json!({ "name": "${pactbroker.consumerName}\", \"injected\": \"1", "branch": "${pactbroker.consumerVersionBranch}", "unknown": "${pactbroker.nope}" })),
            username: None,
            password: None,
        };
        let out = build_request("http://b/broker", &request, &trigger());
        assert_eq!(
            out.url,
            "https://ci.example.com/build?consumer=web+app&v=1.0%2Bb%2F2"
        );
        assert_eq!(
            out.headers[0].1,
            "http://b/broker/pacts/provider/docintel/consumer/web%20app/version/1.0+b%2F2"
        );
        let body: Value = serde_json::from_str(out.body.as_deref().unwrap()).unwrap();
        assert_eq!(body["branch"], "main");
        assert_eq!(body["unknown"], "${pactbroker.nope}");
        assert!(body.get("injected").is_none(), "{body}");
    }

    #[test]
    fn a_value_is_not_searched_for_parameters_again() {
        let params = vec![
            (
                "pactbroker.consumerName",
                "${pactbroker.providerName}".to_owned(),
            ),
            ("pactbroker.providerName", "secret".to_owned()),
        ];
        assert_eq!(
            render("${pactbroker.consumerName}", &params, str::to_owned),
            "${pactbroker.providerName}"
        );
    }

    #[test]
    fn verification_statuses_are_each_services_words() {
        let mut t = trigger();
        let status = |t: &Trigger| {
            parameters("b", t)
                .into_iter()
                .find(|(k, _)| *k == "pactbroker.githubVerificationStatus")
                .unwrap()
                .1
        };
        assert_eq!(status(&t), "pending");
        t.verification = Some(("1".into(), false));
        assert_eq!(status(&t), "failure");
        t.verification = Some(("1".into(), true));
        assert_eq!(status(&t), "success");
    }

    #[test]
    fn logs_hold_no_secret() {
        let request = OutgoingRequest {
            method: "POST".into(),
            url: "https://ci.example.com/hook?token=q-secret".into(),
            headers: vec![
                ("Authorization".into(), "Bearer h-secret".into()),
                ("X-Api-Token".into(), "t-secret".into()),
                ("Accept".into(), "application/json".into()),
            ],
            body: Some("{\"echo\":\"Bearer h-secret p-secret\"}".into()),
            username: Some("ci".into()),
            password: Some("p-secret".into()),
        };
        let sent = Sent {
            status: Some(200),
            body: Some("you sent t-secret".into()),
            error: None,
        };
        let log = execution_log("u", &request, &sent);
        for secret in ["q-secret", "h-secret", "t-secret", "p-secret"] {
            assert!(!log.contains(secret), "{secret} in {log}");
        }
        assert!(log.contains("Authorization: **********"), "{log}");
        assert!(log.contains("Accept: application/json"), "{log}");
        assert!(log.contains("status=200"), "{log}");
    }

    #[test]
    fn webhooks_are_read_in_both_clients_shapes_and_bounded() {
        let cli = json!({
            "events": [{ "name": "contract_content_changed" }],
            "request": { "method": "POST", "url": "https://ci/x", "headers": ["Content-Type: application/json", "X-Token:abc"], "body": "{}" },
            "provider": { "name": "docintel" }
        });
        let w = parse_webhook(&cli).unwrap();
        assert_eq!(
            w.request.headers,
            vec![
                ("Content-Type".to_owned(), "application/json".to_owned()),
                ("X-Token".to_owned(), "abc".to_owned())
            ]
        );
        let defaults = parse_webhook(&json!({ "request": { "url": "https://ci/x" } })).unwrap();
        assert_eq!(defaults.events, vec![CONTRACT_CONTENT_CHANGED]);
        assert_eq!(defaults.request.method, "POST");
        let too_big = json!({ "request": { "url": "https://ci/x", "body": "x".repeat(MAX_WEBHOOK_BODY_BYTES + 1) } });
        assert!(matches!(
            parse_webhook(&too_big),
            Err(BrokerError::TooLarge(_))
        ));
        for bad in [
            json!({ "request": { "url": "https://ci/x", "method": "GET" } }),
            json!({ "request": { "url": "https://ci/x", "headers": { "Host": "internal" } } }),
            json!({ "request": { "url": "https://ci/x", "headers": { "X-A": "a\r\nX-B: b" } } }),
            json!({ "request": { "url": "https://ci/x" }, "events": [{ "name": "pact_deleted" }] }),
            json!({ "request": { "url": "https://ci/x" }, "events": [] }),
            json!({ "request": { "url": "https://ci/x" }, "consumer": { "label": "async" } }),
            json!({ "events": [{ "name": "contract_published" }] }),
        ] {
            assert!(
                matches!(parse_webhook(&bad), Err(BrokerError::Invalid(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn descriptions_hosts_and_uuids() {
        assert_eq!(
            host_of("https://u:p@ci.example.com:8443/x?y"),
            "ci.example.com"
        );
        assert_eq!(host_of("http://[::1]:80/"), "::1");
        assert_eq!(
            loggable_url("https://u:p@ci.example.com/x?token=s#f"),
            "https://ci.example.com/x"
        );
        assert_eq!(
            placeholders("https://${pactbroker.consumerName}.example.com/"),
            "https://placeholder.example.com/"
        );
        assert!(check_uuid("0123456789abcdef").is_ok());
        assert!(check_uuid("short").is_err());
        assert!(check_uuid("0123456789abcdef/..").is_err());
    }
}
