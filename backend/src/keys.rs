//! API keys: 256 random bits, shown once, stored only as a SHA-256 digest, each with the
//! scopes it may use and an optional expiry.
//!
//! A presented key is found by its digest (an index lookup), never compared with stored
//! secrets: what a lookup's timing could reveal is how a guess's SHA-256 orders among the
//! stored digests, which says nothing of any key's remaining bits.

use std::fmt;

use rand::RngCore;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::model::Tenant;

pub const KEY_PREFIX: &str = "dik_";

/// A fresh key, e.g. `dik_3f9a…` (64 hex digits after the prefix).
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{KEY_PREFIX}{}", hex::encode(bytes))
}

pub fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The part of a key that may be logged or shown in listings.
pub fn display_prefix(key: &str) -> &str {
    &key[..key.len().min(KEY_PREFIX.len() + 8)]
}

/// What a key may do. A key holds a set of these; a request outside it is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Read documents, their text, thumbnail and status.
    DocumentsRead,
    /// Upload, reprocess and delete documents.
    DocumentsWrite,
    /// Create, change, rotate and delete webhooks, and read them.
    WebhooksManage,
    /// Create, list and revoke the tenant's keys.
    KeysManage,
    /// Read the Pact Broker's pacts, versions, matrix and pages.
    BrokerRead,
    /// Publish to the Pact Broker: pacts, verification results, versions, deployments.
    BrokerWrite,
    /// Write to the schema registry (with an admin key).
    RegistryWrite,
    /// Read the tenant's audit trail.
    AuditRead,
}

impl Scope {
    pub const ALL: [Scope; 8] = [
        Scope::DocumentsRead,
        Scope::DocumentsWrite,
        Scope::WebhooksManage,
        Scope::KeysManage,
        Scope::BrokerRead,
        Scope::BrokerWrite,
        Scope::RegistryWrite,
        Scope::AuditRead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::DocumentsRead => "documents:read",
            Scope::DocumentsWrite => "documents:write",
            Scope::WebhooksManage => "webhooks:manage",
            Scope::KeysManage => "keys:manage",
            Scope::BrokerRead => "broker:read",
            Scope::BrokerWrite => "broker:write",
            Scope::RegistryWrite => "registry:write",
            Scope::AuditRead => "audit:read",
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Scope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
                format!("unknown scope {s:?}; the scopes are {}", known.join(", "))
            })
    }
}

/// A set of scopes, stored as their names separated by spaces (as OAuth writes them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Scopes(u16);

impl Scopes {
    /// Every scope: what a key made without naming any holds.
    pub const ALL: Scopes = Scopes((1 << Scope::ALL.len()) - 1);

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// Whether every scope of `other` is in this set.
    pub fn covers(self, other: Scopes) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    /// The stored form: the names, space-separated, in a fixed order.
    pub fn to_text(self) -> String {
        self.iter().map(Scope::as_str).collect::<Vec<_>>().join(" ")
    }

    /// The stored form read back; a name this build does not know is refused.
    pub fn parse_text(text: &str) -> Result<Self, String> {
        text.split_whitespace()
            .map(str::parse::<Scope>)
            .collect::<Result<Vec<_>, _>>()
            .map(Scopes::from_iter)
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Scopes(iter.into_iter().fold(0, |bits, s| bits | s.bit()))
    }
}

/// A key's public identity: what may be shown and logged (never the secret).
pub fn key_id(key_hash: &str) -> String {
    format!("key_{}", &key_hash[..key_hash.len().min(16)])
}

/// The digest digits a [`key_id`] names: `None` unless it is `key_` and 16 lowercase hex
/// digits.
pub fn key_id_digits(id: &str) -> Option<&str> {
    id.strip_prefix("key_")
        .filter(|d| d.len() == 16 && d.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

/// What a valid, unrevoked key grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyGrant {
    pub tenant: Tenant,
    pub id: String,
    pub scopes: Scopes,
    pub admin: bool,
    pub expires_at: Option<OffsetDateTime>,
}

impl KeyGrant {
    pub fn expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

/// A key as listed: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: String,
    pub prefix: String,
    pub scopes: Scopes,
    pub admin: bool,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    pub expires_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

#[cfg(test)]
mod tests {
    use super::{Scope, Scopes};

    #[test]
    fn a_key_id_names_its_digest_digits_and_nothing_else_passes() {
        let hash = super::hash(&super::generate());
        let id = super::key_id(&hash);
        assert_eq!(super::key_id_digits(&id), Some(&hash[..16]));
        for bad in [
            "",
            "key_",
            "nope",
            "key_0123456789ABCDEF",
            "key_0123456789abcdef0",
            "key_0123456789abcde",
        ] {
            assert_eq!(super::key_id_digits(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn scopes_read_back_as_written_and_unknown_names_are_refused() {
        let some: Scopes = [Scope::DocumentsRead, Scope::BrokerRead]
            .into_iter()
            .collect();
        assert_eq!(some.to_text(), "documents:read broker:read");
        assert_eq!(Scopes::parse_text(&some.to_text()), Ok(some));
        assert_eq!(Scopes::parse_text(&Scopes::ALL.to_text()), Ok(Scopes::ALL));
        assert!(Scopes::ALL.covers(some) && !some.covers(Scopes::ALL));
        assert!(!some.contains(Scope::DocumentsWrite));
        let err = Scopes::parse_text("documents:read documents:delete").unwrap_err();
        assert!(
            err.contains("documents:delete") && err.contains("keys:manage"),
            "{err}"
        );
    }

    #[test]
    fn keys_are_unique_and_hash_stably() {
        let a = super::generate();
        let b = super::generate();
        assert_ne!(a, b);
        assert!(a.starts_with("dik_") && a.len() == 68);
        assert_eq!(super::hash(&a), super::hash(&a));
        assert_ne!(super::hash(&a), super::hash(&b));
        assert_eq!(super::display_prefix(&a).len(), 12);
    }
}
