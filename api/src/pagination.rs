//! Opaque, signed cursor tokens. A token carries the last document of a page, the
//! filters of the listing and when it was issued, bound to the tenant, and HMAC-signed so
//! a client cannot forge one. As in Dropshot, the next page is asked for with the token
//! alone (the filters travel inside it); filters sent along must be the same ones.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use docintel_backend::model::{DocumentId, DocumentStatus, ListFilter, TenantId};

/// How long a page token stays usable.
pub const TOKEN_TTL_SECS: i64 = 24 * 3600;
const MAC_LEN: usize = 16;
/// after id, tenant fingerprint, issued, status, created_after, created_before.
const BODY_LEN: usize = 16 + 8 + 8 + 1 + 8 + 8;
/// Marks an absent time bound (no real bound is this far in the past).
const NO_BOUND: i64 = i64::MIN;

pub struct PageTokens {
    key: Vec<u8>,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("page_token is not a token this server issued")]
    Invalid,
    #[error(
        "page_token was issued for different filters; pass the same filters as the first page, or none"
    )]
    OtherQuery,
    #[error("page_token has expired; start again from the first page")]
    Expired,
}

fn tenant_fingerprint(tenant: TenantId) -> [u8; 8] {
    let digest = Sha256::digest(tenant.0.as_bytes());
    let mut out = [0u8; 8];
    out.copy_from_slice(&digest[..8]);
    out
}

fn status_byte(s: Option<DocumentStatus>) -> u8 {
    match s {
        None => 0,
        Some(DocumentStatus::Queued) => 1,
        Some(DocumentStatus::Processing) => 2,
        Some(DocumentStatus::Processed) => 3,
        Some(DocumentStatus::Failed) => 4,
    }
}

fn status_from(b: u8) -> Result<Option<DocumentStatus>, TokenError> {
    Ok(match b {
        0 => None,
        1 => Some(DocumentStatus::Queued),
        2 => Some(DocumentStatus::Processing),
        3 => Some(DocumentStatus::Processed),
        4 => Some(DocumentStatus::Failed),
        _ => return Err(TokenError::Invalid),
    })
}

fn bound(t: Option<OffsetDateTime>) -> i64 {
    t.map_or(NO_BOUND, |t| {
        i64::try_from(t.unix_timestamp_nanos()).unwrap_or(NO_BOUND + 1)
    })
}

fn bound_from(v: i64) -> Result<Option<OffsetDateTime>, TokenError> {
    if v == NO_BOUND {
        return Ok(None);
    }
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(v))
        .map(Some)
        .map_err(|_| TokenError::Invalid)
}

fn i64_at(body: &[u8], at: usize) -> i64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&body[at..at + 8]);
    i64::from_be_bytes(b)
}

impl PageTokens {
    pub fn new(key: &[u8]) -> Self {
        Self { key: key.to_vec() }
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC accepts keys of any length, so this cannot fail.
        <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any size"))
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
        body.extend_from_slice(&tenant_fingerprint(tenant));
        body.extend_from_slice(&now.unix_timestamp().to_be_bytes());
        body.push(status_byte(filter.status));
        body.extend_from_slice(&bound(filter.created_after).to_be_bytes());
        body.extend_from_slice(&bound(filter.created_before).to_be_bytes());
        let mut mac = self.mac();
        mac.update(&body);
        body.extend_from_slice(&mac.finalize().into_bytes()[..MAC_LEN]);
        URL_SAFE_NO_PAD.encode(body)
    }

    /// Checks a token and returns where the next page starts and the listing's filters.
    /// `query` is what the request itself asked for: nothing (the token's filters apply)
    /// or exactly the token's filters.
    pub fn verify(
        &self,
        token: &str,
        tenant: TenantId,
        query: &ListFilter,
        now: OffsetDateTime,
    ) -> Result<(DocumentId, ListFilter), TokenError> {
        let raw = URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| TokenError::Invalid)?;
        if raw.len() != BODY_LEN + MAC_LEN {
            return Err(TokenError::Invalid);
        }
        let (body, tag) = raw.split_at(BODY_LEN);
        let mut mac = self.mac();
        mac.update(body);
        mac.verify_truncated_left(tag)
            .map_err(|_| TokenError::Invalid)?;
        if body[16..24] != tenant_fingerprint(tenant) {
            return Err(TokenError::OtherQuery);
        }
        let age = now.unix_timestamp() - i64_at(body, 24);
        if !(-60..=TOKEN_TTL_SECS).contains(&age) {
            return Err(TokenError::Expired);
        }
        let filter = ListFilter {
            status: status_from(body[32])?,
            created_after: bound_from(i64_at(body, 33))?,
            created_before: bound_from(i64_at(body, 41))?,
        };
        if *query != ListFilter::default() && *query != filter {
            return Err(TokenError::OtherQuery);
        }
        let mut id = [0u8; 16];
        id.copy_from_slice(&body[..16]);
        Ok((Uuid::from_bytes(id), filter))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(t.verify(&tok, tenant, &f, now), Ok((id, f.clone())));
        // The filters travel in the token.
        assert_eq!(
            t.verify(&tok, tenant, &ListFilter::default(), now),
            Ok((id, f.clone()))
        );
        let bounded = ListFilter {
            created_after: Some(now - time::Duration::days(3)),
            created_before: Some(now),
            status: None,
        };
        let tok = t.issue(tenant, &bounded, id, now);
        assert_eq!(
            t.verify(&tok, tenant, &ListFilter::default(), now),
            Ok((id, bounded))
        );
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
        let other = ListFilter {
            status: Some(DocumentStatus::Failed),
            ..Default::default()
        };
        assert_eq!(
            t.verify(&tok, tenant, &other, now),
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
