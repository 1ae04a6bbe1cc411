//! Webhook subscriptions and their deliveries: the rules (which events, which targets,
//! the retry schedule, when an endpoint is disabled) and the signature. Sending is the
//! façade's job (it renders the v2 document a delivery carries).

use std::net::IpAddr;
use std::time::Duration;

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::model::TenantId;

/// The events a subscription may ask for.
pub const EVENT_TYPES: [&str; 3] = ["doc.processed", "doc.classified", "doc.failed"];

#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// First retry delay; doubles per attempt (with jitter) up to `max_backoff`.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// A delivery not made within this long after its event is given up.
    pub retry_window: Duration,
    /// An endpoint is disabled once this many attempts in a row failed *and* it has been
    /// failing for [`Self::disable_after_failing_for`]: an outage of minutes, with many
    /// events retried meanwhile, must not disable it.
    pub disable_after: u32,
    pub disable_after_failing_for: Duration,
    /// Allow loopback and private-range targets (tests, private deployments).
    pub allow_private_targets: bool,
    /// How long a rotated-out secret keeps signing.
    pub previous_secret_grace: Duration,
    pub request_timeout: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            initial_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(3600),
            retry_window: Duration::from_secs(3 * 24 * 3600),
            disable_after: 50,
            disable_after_failing_for: Duration::from_secs(3 * 24 * 3600),
            allow_private_targets: false,
            previous_secret_grace: Duration::from_secs(24 * 3600),
            request_timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookStatus {
    Active,
    Disabled,
}

impl WebhookStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookStatus::Active => "active",
            WebhookStatus::Disabled => "disabled",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub url: String,
    pub description: Option<String>,
    pub event_types: Vec<String>,
    pub status: WebhookStatus,
    pub disabled_reason: Option<String>,
    pub consecutive_failures: u32,
    pub created_at: OffsetDateTime,
}

/// A new subscription, checked.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub url: String,
    pub description: Option<String>,
    pub event_types: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Failed]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// One (subscription, event) delivery as its log shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    pub webhook_id: Uuid,
    pub event_id: String,
    pub event_type: String,
    pub document_id: Uuid,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub delivered_at: Option<OffsetDateTime>,
}

/// A delivery claimed for an attempt, with what sending needs.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub delivery: Delivery,
    pub tenant_id: TenantId,
    pub url: String,
    /// Secrets that sign: the current one first, then a rotated-out one still in grace.
    pub secrets: Vec<String>,
    /// The event record (JSON), for rendering the body at the first attempt.
    pub event: String,
    /// The body rendered at an earlier attempt, sent again unchanged.
    pub body: Option<String>,
}

/// What an attempt came to.
#[derive(Debug, Clone)]
pub enum Outcome {
    Delivered { status: u16 },
    Failed { status: Option<u16>, error: String },
}

/// `text` with every URL cut to scheme, host and path: queries, fragments and credentials
/// (where webhook URLs carry secrets) never reach a log or an error message.
pub fn redact_urls(text: &str) -> String {
    const OPEN: &[char] = &['(', '[', '<', '\'', '"'];
    const CLOSE: &[char] = &[')', ']', '>', '\'', '"', ',', ';', ':', '.'];
    text.split_inclusive(char::is_whitespace)
        .map(|word| {
            let body = word.trim_start_matches(OPEN);
            let lead = &word[..word.len() - body.len()];
            let core = body.trim_end_matches(|c: char| c.is_whitespace() || CLOSE.contains(&c));
            let tail = &body[core.len()..];
            match reqwest::Url::parse(core) {
                Ok(url) if url.has_host() => {
                    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
                    format!(
                        "{lead}{}://{}{port}{}{tail}",
                        url.scheme(),
                        url.host_str().unwrap_or_default(),
                        url.path()
                    )
                }
                _ => word.to_owned(),
            }
        })
        .collect()
}

/// Subscriptions one tenant may hold.
pub const MAX_PER_TENANT: u32 = 20;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebhookError {
    #[error("url: {0}")]
    Url(String),
    #[error("a tenant may hold {MAX_PER_TENANT} subscriptions; delete one first")]
    TooMany,
    #[error("event_types: {0}")]
    EventTypes(String),
    #[error("description: at most 500 characters")]
    Description,
}

/// A new signing secret: `whsec_` and 256 random bits in hex.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("whsec_{}", hex::encode(bytes))
}

/// `Docintel-Signature`: `t=<unix>,v1=<hex HMAC-SHA256 of "t.body">` per secret.
pub fn signature_header(secrets: &[String], timestamp: i64, body: &[u8]) -> String {
    let mut header = format!("t={timestamp}");
    for secret in secrets {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
            continue;
        };
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        header.push_str(",v1=");
        header.push_str(&hex::encode(mac.finalize().into_bytes()));
    }
    header
}

/// The delay before the next attempt after `attempts` failed ones: exponential, capped,
/// with "equal jitter" (half fixed, half random) so retries of many deliveries spread out.
pub fn backoff(config: &WebhookConfig, attempts: u32) -> Duration {
    let exp = config
        .initial_backoff
        .saturating_mul(1u32 << attempts.saturating_sub(1).min(20));
    let capped = exp.min(config.max_backoff);
    let half = capped / 2;
    let jitter = rand::random::<f64>();
    half + half.mul_f64(jitter)
}

/// Checks a subscription request. Target addresses are checked separately
/// ([`check_target`]), as they need name resolution.
pub fn validate(new: &NewWebhook) -> Result<reqwest::Url, WebhookError> {
    if new
        .description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 500)
    {
        return Err(WebhookError::Description);
    }
    if new.event_types.is_empty() {
        return Err(WebhookError::EventTypes("name at least one event".into()));
    }
    for t in &new.event_types {
        if !EVENT_TYPES.contains(&t.as_str()) {
            return Err(WebhookError::EventTypes(format!(
                "unknown event {t:?}; known: {}",
                EVENT_TYPES.join(", ")
            )));
        }
    }
    validate_url(&new.url)
}

/// Checks a target URL's form: http(s), a host, no credentials, at most 2048 characters.
pub fn validate_url(url: &str) -> Result<reqwest::Url, WebhookError> {
    if url.len() > 2048 {
        return Err(WebhookError::Url("at most 2048 characters".into()));
    }
    let url = reqwest::Url::parse(url).map_err(|e| WebhookError::Url(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(WebhookError::Url("the scheme must be https or http".into()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(WebhookError::Url(
            "credentials in the URL are not allowed".into(),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(WebhookError::Url("a host is required".into()));
    }
    Ok(url)
}

/// Resolves the URL's host; refuses it when any address is loopback, private, link-local
/// or otherwise not public (unless allowed). Returns the addresses to connect to, so the
/// sender connects to what was checked (no DNS rebinding in between).
pub async fn check_target(
    url: &reqwest::Url,
    allow_private: bool,
) -> Result<Vec<std::net::SocketAddr>, WebhookError> {
    let host = url
        .host_str()
        .ok_or_else(|| WebhookError::Url("a host is required".into()))?
        .trim_start_matches('[')
        .trim_end_matches(']');
    let port = url.port_or_known_default().unwrap_or(443);
    resolve_checked(host, port, allow_private).await
}

/// Resolves `host` (a name or a literal address) and refuses it when any address is not
/// public (unless allowed): the check of [`check_target`], for a resolver of its own.
pub async fn resolve_checked(
    host: &str,
    port: u16,
    allow_private: bool,
) -> Result<Vec<std::net::SocketAddr>, WebhookError> {
    let addrs: Vec<_> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| WebhookError::Url(format!("cannot resolve {host}: {e}")))?
        .collect();
    if addrs.is_empty() {
        return Err(WebhookError::Url(format!("{host} has no address")));
    }
    // Which address is not said: a tenant must not learn what internal names resolve to.
    if !allow_private && addrs.iter().any(|a| !is_public(a.ip())) {
        return Err(WebhookError::Url(format!(
            "{host} resolves to a loopback, private or reserved address; \
             webhooks go to public endpoints only"
        )));
    }
    Ok(addrs)
}

/// Whether an address is on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1])) // shared address space (CGNAT)
                || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
                || (o[0] == 198 && (18..20).contains(&o[1])) // benchmarking
                || o[0] >= 240) // reserved
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let embedded = |hi: u16, lo: u16| {
                let [a, b] = hi.to_be_bytes();
                let [c, d] = lo.to_be_bytes();
                is_public(IpAddr::V4(std::net::Ipv4Addr::new(a, b, c, d)))
            };
            // Allow-list: only global unicast (2000::/3) is public. That alone refuses
            // every form that embeds an IPv4 address in ::/8 (IPv4-compatible `::a.b.c.d`,
            // mapped `::ffff:a.b.c.d`, translated `::ffff:0:a.b.c.d`), site-local
            // fec0::/10, unique-local, link-local and multicast.
            if s[0] == 0x0064 && s[1] == 0xff9b {
                // NAT64 (64:ff9b::/96): the IPv4 address it reaches is what counts. The
                // local-use 64:ff9b:1::/48 is never a public path.
                return s[2..6] == [0, 0, 0, 0] && embedded(s[6], s[7]);
            }
            if s[0] & 0xe000 != 0x2000 {
                return false;
            }
            if s[0] == 0x2002 {
                // 6to4: the tunnel endpoint is the IPv4 address in bits 16..48.
                return embedded(s[1], s[2]);
            }
            let ietf = s[0] == 0x2001 && s[1] < 0x0200; // IETF assignments, Teredo (embeds IPv4)
            let documentation = (s[0] == 0x2001 && s[1] == 0x0db8) || (s[0] & 0xfff0) == 0x3ff0;
            !ietf && !documentation
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_reserved_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            // IPv4 inside IPv6, every form: compatible, NAT64 (both prefixes), 6to4,
            // translated (SIIT), Teredo; and site-local, documentation.
            "::127.0.0.1",
            "::10.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::7f00:1",
            "2002:7f00:1::1",
            "2002:c0a8:0101::1",
            "::ffff:0:7f00:1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "fec0::1",
            "2001:db8::1",
            "3fff::1",
            "ff02::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "172.32.0.1",
            "2a00:1450:4001:80b::200e",
            // NAT64 and 6to4 forms of a public address reach that public address.
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn urls_in_messages_lose_their_query_and_credentials() {
        let text = "error sending request for url (https://u:p@hooks.example.com:8443/in?token=s3cret#frag): refused";
        let shown = redact_urls(text);
        assert!(
            !shown.contains("s3cret") && !shown.contains("u:p") && !shown.contains("frag"),
            "{shown}"
        );
        assert!(
            shown.contains("https://hooks.example.com:8443/in"),
            "{shown}"
        );
        assert_eq!(redact_urls("plain words, no url"), "plain words, no url");
    }

    #[test]
    fn subscriptions_are_validated() {
        let ok = NewWebhook {
            url: "https://example.com/hook".into(),
            description: None,
            event_types: vec!["doc.processed".into()],
        };
        assert!(validate(&ok).is_ok());
        let bad = |f: &dyn Fn(&mut NewWebhook)| {
            let mut n = ok.clone();
            f(&mut n);
            validate(&n).unwrap_err()
        };
        assert!(matches!(
            bad(&|n| n.url = "ftp://x/".into()),
            WebhookError::Url(_)
        ));
        assert!(matches!(
            bad(&|n| n.url = "not a url".into()),
            WebhookError::Url(_)
        ));
        assert!(matches!(
            bad(&|n| n.url = "https://u:p@example.com/".into()),
            WebhookError::Url(_)
        ));
        assert!(matches!(
            bad(&|n| n.event_types = vec![]),
            WebhookError::EventTypes(_)
        ));
        assert!(matches!(
            bad(&|n| n.event_types = vec!["doc.uploaded".into()]),
            WebhookError::EventTypes(_)
        ));
        assert_eq!(
            bad(&|n| n.description = Some("x".repeat(501))),
            WebhookError::Description
        );
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let c = WebhookConfig {
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            ..WebhookConfig::default()
        };
        for attempts in 1..30 {
            let full = Duration::from_secs(1u64 << (attempts - 1).min(20)).min(c.max_backoff);
            let d = backoff(&c, attempts);
            assert!(
                d >= full / 2 && d <= full,
                "attempt {attempts}: {d:?} vs {full:?}"
            );
        }
    }

    #[test]
    fn the_signature_covers_timestamp_and_body_with_every_secret() {
        let h = signature_header(&["a".into(), "b".into()], 1_700_000_000, b"{}");
        let parts: Vec<&str> = h.split(',').collect();
        assert_eq!(parts[0], "t=1700000000");
        assert_eq!(parts.len(), 3);
        assert_ne!(parts[1], parts[2]);
        assert_ne!(
            h,
            signature_header(&["a".into(), "b".into()], 1_700_000_001, b"{}")
        );
        assert_ne!(
            h,
            signature_header(&["a".into(), "b".into()], 1_700_000_000, b"{ }")
        );
    }
}
