//! Random secrets and their stored form: API keys, refresh tokens and CSRF tokens are
//! 256-bit random strings, kept in Postgres only as a SHA-256 hex digest. What a client typed
//! reaches the logs only as a keyed pseudonym ([`log_pseudonym`]).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// `bytes` bytes from the OS (wasi:random on wasm32-wasip2), base64url without padding.
pub fn try_random_urlsafe(bytes: usize) -> Result<String, getrandom::Error> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf)?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

/// [`try_random_urlsafe`] inside a request: the OS RNG failing leaves no safe way to continue
/// (every caller issues a credential), so the request traps and is answered 500.
pub fn random_urlsafe(bytes: usize) -> String {
    try_random_urlsafe(bytes).expect("the OS random number generator failed")
}

/// SHA-256 of a high-entropy secret, lowercase hex. Plain SHA-256 (no salt, no work factor)
/// is right for 256-bit random secrets: they cannot be guessed, and a lookup by hash must be
/// one indexed query.
pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest.iter() {
        out.push(char::from_digit((b >> 4) as u32, 16).unwrap_or('0'));
        out.push(char::from_digit((b & 0xf) as u32, 16).unwrap_or('0'));
    }
    out
}

/// Compares two secrets without leaking, through timing, how long their common prefix is.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A stable pseudonym for `value` in logs: HMAC-SHA256 under `key` (a deployment secret), the
/// first 16 hex characters. The same input gives the same pseudonym, so repeated attempts on
/// one address can be told apart and counted, yet the logs never hold what was typed (an email,
/// or a password typed into the email field), and without the key a guessed address cannot be
/// checked against them.
pub fn log_pseudonym(key: &str, value: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(b"spingraph log pseudonym v1\0");
    mac.update(value.as_bytes());
    mac.finalize().into_bytes()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_hex_matches_known_vector() {
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn random_secrets_are_long_and_distinct() {
        let a = random_urlsafe(32);
        let b = random_urlsafe(32);
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }

    #[test]
    fn log_pseudonyms_are_stable_per_key_and_never_the_input() {
        let a = log_pseudonym("key-1", "ada@example.com");
        assert_eq!(a.len(), 16);
        assert_eq!(a, log_pseudonym("key-1", "ada@example.com"));
        assert_ne!(a, log_pseudonym("key-1", "bob@example.com"));
        assert_ne!(a, log_pseudonym("key-2", "ada@example.com"));
        assert!(!a.contains("ada"));
    }

    #[test]
    fn constant_time_eq_compares_exactly() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
        assert!(!constant_time_eq("", "a"));
    }
}
