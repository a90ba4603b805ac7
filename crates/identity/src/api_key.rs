//! The API-key format: `sgk_<prefix>_<secret>`. The prefix (the last 8 hex digits of the key's
//! id, its random part) lets a user tell keys apart in `GET /api-keys`; the secret is 256 random
//! bits. Only `hash_secret(whole key)` is stored.

use crate::secret::{hash_secret, random_urlsafe};
use uuid::Uuid;

const MARKER: &str = "sgk_";

/// A freshly generated key, shown to its owner exactly once.
#[derive(Debug, Clone)]
pub struct ApiKey {
    pub key: String,
    pub prefix: String,
    pub hash: String,
}

impl ApiKey {
    pub fn generate(id: Uuid) -> ApiKey {
        let prefix = prefix_of(id);
        let key = format!("{MARKER}{prefix}_{}", random_urlsafe(32));
        let hash = hash_secret(&key);
        ApiKey { key, prefix, hash }
    }
}

/// The public prefix of the key with this id.
pub fn prefix_of(id: Uuid) -> String {
    let hex = id.simple().to_string();
    hex[hex.len() - 8..].to_owned()
}

/// Cheap shape check before a database lookup: garbage never costs a query.
pub fn looks_like_api_key(candidate: &str) -> bool {
    let Some(rest) = candidate.strip_prefix(MARKER) else {
        return false;
    };
    let Some((prefix, secret)) = rest.split_once('_') else {
        return false;
    };
    prefix.len() == 8
        && prefix.chars().all(|c| c.is_ascii_hexdigit())
        && secret.len() == 43
        && secret
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_key_has_the_documented_shape_and_hash() {
        let id = Uuid::now_v7();
        let key = ApiKey::generate(id);
        assert!(key.key.starts_with(&format!("sgk_{}_", prefix_of(id))));
        assert!(looks_like_api_key(&key.key));
        assert_eq!(key.hash, hash_secret(&key.key));
        assert_ne!(ApiKey::generate(id).key, key.key);
    }

    #[test]
    fn malformed_keys_are_rejected_before_lookup() {
        assert!(!looks_like_api_key(""));
        assert!(!looks_like_api_key("sgk_"));
        assert!(!looks_like_api_key("sgk_0123abcd"));
        assert!(!looks_like_api_key("sgk_0123abcd_short"));
        assert!(!looks_like_api_key(&format!(
            "xyz_0123abcd_{}",
            "a".repeat(43)
        )));
        assert!(!looks_like_api_key(&format!(
            "sgk_0123abcz_{}",
            "a".repeat(43)
        )));
        assert!(!looks_like_api_key(&format!(
            "sgk_0123abcd_{}",
            "a;".repeat(22)
        )));
        assert!(looks_like_api_key(&format!(
            "sgk_0123abcd_{}",
            "a".repeat(43)
        )));
    }
}
