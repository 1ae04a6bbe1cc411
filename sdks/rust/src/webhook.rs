//! Checking that a webhook delivery came from docintel.
//!
//! The scheme: each delivery carries `Docintel-Signature: t=<unix seconds>,v1=<hex>`,
//! where the hex is the HMAC-SHA256 of `"<t>.<raw body>"` keyed with the subscription's
//! whole secret string, `whsec_` prefix included. While a rotated secret is still valid
//! the header carries one `v1=` per secret.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Why a delivery was not accepted by [`verify_webhook`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// The `Docintel-Signature` header is not `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`.
    #[error("malformed Docintel-Signature header")]
    Malformed,
    /// The signature's time is further from now than the tolerance (a replay, or a
    /// clock far off).
    #[error("the signature is {age_secs} s away from now; tolerance is {tolerance_secs} s")]
    Stale {
        /// How far the signature's time is from now.
        age_secs: u64,
        /// The tolerance it was checked against.
        tolerance_secs: u64,
    },
    /// No `v1` signature matches this secret and body (tampered, or another secret).
    #[error("no signature matches")]
    Mismatch,
    /// The signature is right but the body is not a docintel event (JSON).
    #[error("the body is not a webhook event: {0}")]
    Payload(String),
}

fn mac(secret: &str, timestamp: u64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length, so this never fails.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `Docintel-Signature` header docintel would send for `body` at `timestamp` (unix
/// seconds): for your own receiver's tests.
///
/// ```
/// let header = docintel_sdk::sign_webhook("whsec_test", 1_700_000_000, b"{}");
/// assert!(header.starts_with("t=1700000000,v1="));
/// ```
pub fn sign_webhook(secret: &str, timestamp: u64, body: &[u8]) -> String {
    let signature = mac(secret, timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", hex::encode(signature))
}

/// Verifies a delivery with [`verify_webhook`] and parses it: one call in your receiver,
/// from the raw body to a typed event.
///
/// ```
/// use std::time::{Duration, SystemTime, UNIX_EPOCH};
/// let secret = "whsec_0123";
/// let body = br#"{"id":"evt_1","type":"doc.processed","created":"2026-12-01T10:00:00Z","data":null}"#;
/// let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
/// let header = docintel_sdk::sign_webhook(secret, now, body); // as docintel sends it
///
/// let event = docintel_sdk::construct_event(secret, &header, body, Duration::from_secs(300)).unwrap();
/// assert_eq!(event.type_, docintel_sdk::types::WebhookEventType::DocProcessed);
/// assert!(docintel_sdk::construct_event("whsec_other", &header, body, Duration::from_secs(300)).is_err());
/// ```
pub fn construct_event(
    secret: &str,
    signature_header: &str,
    body: &[u8],
    tolerance: Duration,
) -> Result<crate::types::WebhookEvent, WebhookError> {
    verify_webhook(secret, signature_header, body, tolerance)?;
    serde_json::from_slice(body).map_err(|e| WebhookError::Payload(e.to_string()))
}

/// Verifies a webhook delivery: `signature_header` is the `Docintel-Signature` header,
/// `body` the raw request body (before any JSON parsing), `secret` the subscription's
/// secret (`whsec_…`). Accepts when one of the `v1` signatures is the HMAC-SHA256 of
/// `"<t>.<body>"` under `secret` (several appear while a rotated secret is still valid),
/// and `t` is within `tolerance` of now. The comparison is constant-time.
///
/// ```
/// use std::time::Duration;
/// let secret = "whsec_0123";
/// let body = br#"{"id":"0192f0c4","type":"doc.processed","data":{}}"#;
/// let now = std::time::SystemTime::now()
///     .duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
/// let header = docintel_sdk::sign_webhook(secret, now, body); // what docintel sends
///
/// assert!(docintel_sdk::verify_webhook(secret, &header, body, Duration::from_secs(300)).is_ok());
/// assert!(docintel_sdk::verify_webhook(secret, &header, b"{}", Duration::from_secs(300)).is_err());
/// ```
pub fn verify_webhook(
    secret: &str,
    signature_header: &str,
    body: &[u8],
    tolerance: Duration,
) -> Result<(), WebhookError> {
    let mut timestamp: Option<u64> = None;
    let mut signatures = Vec::new();
    for part in signature_header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => {
                timestamp = Some(v.parse().map_err(|_| WebhookError::Malformed)?);
            }
            Some(("v1", v)) => {
                signatures.push(hex::decode(v).map_err(|_| WebhookError::Malformed)?)
            }
            // Other schemes may be added later; they are ignored, not refused.
            Some(_) => {}
            None => return Err(WebhookError::Malformed),
        }
    }
    let timestamp = timestamp.ok_or(WebhookError::Malformed)?;
    if signatures.is_empty() {
        return Err(WebhookError::Malformed);
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let age = now.abs_diff(timestamp);
    if age > tolerance.as_secs() {
        return Err(WebhookError::Stale {
            age_secs: age,
            tolerance_secs: tolerance.as_secs(),
        });
    }
    for signature in &signatures {
        if mac(secret, timestamp, body).verify_slice(signature).is_ok() {
            return Ok(());
        }
    }
    Err(WebhookError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &str, t: u64, body: &[u8]) -> String {
        let header = sign_webhook(secret, t, body);
        header.split_once(",v1=").unwrap().1.to_owned()
    }

    #[test]
    fn signatures_match_an_independent_hmac() {
        // RFC 4231-style check through another path: the hmac crate directly.
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(b"whsec_k").unwrap();
        m.update(b"42.body");
        let expected = hex::encode(m.finalize().into_bytes());
        assert_eq!(
            sign_webhook("whsec_k", 42, b"body"),
            format!("t=42,v1={expected}")
        );
    }

    #[test]
    fn construct_event_refuses_what_is_not_an_event() {
        let t = now();
        let five = Duration::from_secs(300);
        let header = sign_webhook("s", t, b"[1,2]");
        assert!(matches!(
            construct_event("s", &header, b"[1,2]", five),
            Err(WebhookError::Payload(_))
        ));
        assert_eq!(
            construct_event("s", &header, b"[1,3]", five).unwrap_err(),
            WebhookError::Mismatch
        );
    }

    fn now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    #[test]
    fn accepts_any_listed_signature_and_refuses_the_rest() {
        let t = now();
        let body = b"{\"a\":1}";
        let five = Duration::from_secs(300);
        let both = format!(
            "t={t},v1={},v1={}",
            sign("old", t, body),
            sign("new", t, body)
        );
        assert_eq!(verify_webhook("new", &both, body, five), Ok(()));
        assert_eq!(verify_webhook("old", &both, body, five), Ok(()));
        assert_eq!(
            verify_webhook("other", &both, body, five),
            Err(WebhookError::Mismatch)
        );
        assert_eq!(
            verify_webhook("new", &both, b"{\"a\":2}", five),
            Err(WebhookError::Mismatch)
        );
        let stale = format!("t={},v1={}", t - 600, sign("new", t - 600, body));
        assert!(matches!(
            verify_webhook("new", &stale, body, five),
            Err(WebhookError::Stale { .. })
        ));
        for bad in [
            "",
            "v1=00",
            &format!("t={t}"),
            "t=x,v1=00",
            &format!("t={t},v1=zz"),
            "garbage",
        ] {
            assert_eq!(
                verify_webhook("new", bad, body, five),
                Err(WebhookError::Malformed),
                "{bad}"
            );
        }
    }
}
