//! Opaque, signed cursor tokens. A token names the last document of a page, the tenant
//! and filters it was issued for, and when; it is HMAC-signed so a client cannot forge
//! one, and refused when reused with other filters or after it expires.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use docintel_backend::model::{DocumentId, ListFilter, TenantId};

/// How long a page token stays usable.
pub const TOKEN_TTL_SECS: i64 = 24 * 3600;
const MAC_LEN: usize = 16;
const BODY_LEN: usize = 16 + 8 + 8;

pub struct PageTokens {
    key: Vec<u8>,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("page_token is not a token this server issued")]
    Invalid,
    #[error("page_token was issued for different filters; pass the same filters as the first page")]
    OtherQuery,
    #[error("page_token has expired; start again from the first page")]
    Expired,
}

/// Binds a token to the tenant and filters of the listing it continues.
fn fingerprint(tenant: TenantId, filter: &ListFilter) -> [u8; 8] {
    let canonical = format!(
        "{}|{:?}|{:?}|{:?}",
        tenant.0,
        filter.status.map(|s| s.as_str()),
        filter.created_after.map(|t| t.unix_timestamp_nanos()),
        filter.created_before.map(|t| t.unix_timestamp_nanos()),
    );
    let digest = Sha256::digest(canonical.as_bytes());
    let mut out = [0u8; 8];
    out.copy_from_slice(&digest[..8]);
    out
}

impl PageTokens {
    pub fn new(key: &[u8]) -> Self {
        Self { key: key.to_vec() }
    }

    fn mac(&self, body: &[u8]) -> [u8; MAC_LEN] {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any size"));
        mac.update(body);
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; MAC_LEN];
        out.copy_from_slice(&full[..MAC_LEN]);
        out
    }

    pub fn issue(
        &self,
        tenant: TenantId,
        filter: &ListFilter,
        after: DocumentId,
        now: OffsetDateTime,
    ) -> String {
        let mut body = Vec::with_capacity(BODY_LEN + MAC_LEN);
        body.extend_from_slice(after.as_bytes());
        body.extend_from_slice(&fingerprint(tenant, filter));
        body.extend_from_slice(&now.unix_timestamp().to_be_bytes());
        let mac = self.mac(&body);
        body.extend_from_slice(&mac);
        URL_SAFE_NO_PAD.encode(body)
    }

    pub fn verify(
        &self,
        token: &str,
        tenant: TenantId,
        filter: &ListFilter,
        now: OffsetDateTime,
    ) -> Result<DocumentId, TokenError> {
        let raw = URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| TokenError::Invalid)?;
        if raw.len() != BODY_LEN + MAC_LEN {
            return Err(TokenError::Invalid);
        }
        let (body, mac) = raw.split_at(BODY_LEN);
        let mut check = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any size"));
        check.update(body);
        check
            .verify_truncated_left(mac)
            .map_err(|_| TokenError::Invalid)?;
        let mut id = [0u8; 16];
        id.copy_from_slice(&body[..16]);
        if body[16..24] != fingerprint(tenant, filter) {
            return Err(TokenError::OtherQuery);
        }
        let mut issued = [0u8; 8];
        issued.copy_from_slice(&body[24..32]);
        let age = now.unix_timestamp() - i64::from_be_bytes(issued);
        if !(-60..=TOKEN_TTL_SECS).contains(&age) {
            return Err(TokenError::Expired);
        }
        Ok(Uuid::from_bytes(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use docintel_backend::model::DocumentStatus;

    fn setup() -> (PageTokens, TenantId, ListFilter, Uuid, OffsetDateTime) {
        (
            PageTokens::new(b"secret"),
            TenantId(Uuid::now_v7()),
            ListFilter {
                status: Some(DocumentStatus::Processed),
                ..Default::default()
            },
            Uuid::now_v7(),
            OffsetDateTime::now_utc(),
        )
    }

    #[test]
    fn round_trip() {
        let (t, tenant, f, id, now) = setup();
        let tok = t.issue(tenant, &f, id, now);
        assert_eq!(t.verify(&tok, tenant, &f, now), Ok(id));
    }

    #[test]
    fn forged_tampered_or_foreign_tokens_are_invalid() {
        let (t, tenant, f, id, now) = setup();
        let tok = t.issue(tenant, &f, id, now);
        assert_eq!(t.verify("abc", tenant, &f, now), Err(TokenError::Invalid));
        assert_eq!(t.verify("!!!", tenant, &f, now), Err(TokenError::Invalid));
        let mut raw = URL_SAFE_NO_PAD.decode(&tok).unwrap();
        raw[0] ^= 1;
        let tampered = URL_SAFE_NO_PAD.encode(raw);
        assert_eq!(
            t.verify(&tampered, tenant, &f, now),
            Err(TokenError::Invalid)
        );
        let other_server = PageTokens::new(b"other");
        assert_eq!(
            other_server.verify(&tok, tenant, &f, now),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn stale_tokens_are_refused() {
        let (t, tenant, f, id, now) = setup();
        let tok = t.issue(tenant, &f, id, now);
        assert_eq!(
            t.verify(&tok, tenant, &ListFilter::default(), now),
            Err(TokenError::OtherQuery)
        );
        assert_eq!(
            t.verify(&tok, TenantId(Uuid::now_v7()), &f, now),
            Err(TokenError::OtherQuery)
        );
        let later = now + time::Duration::seconds(TOKEN_TTL_SECS + 1);
        assert_eq!(t.verify(&tok, tenant, &f, later), Err(TokenError::Expired));
    }
}
