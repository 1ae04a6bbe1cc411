//! API keys: 256 random bits, shown once, stored only as a SHA-256 digest.

use rand::RngCore;
use sha2::{Digest, Sha256};

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

#[cfg(test)]
mod tests {
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
