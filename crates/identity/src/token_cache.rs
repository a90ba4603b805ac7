//! The verified-token cache: `authn` checks an access token's Ed25519 signature once and keeps
//! the claims in Redis, so later requests with the same token skip the signature check (the
//! claims still pass the same rules: [`crate::verifier::Verifier`] is the one verifier, this the
//! entry format and its MAC). Redis is
//! not trusted: every entry carries an HMAC-SHA256, keyed with a secret only the component group
//! holds (`token_cache_key`), over the token's digest, its expiry and the claims. An entry whose
//! MAC does not verify is ignored (the token is verified in full), so whoever can write Redis can
//! neither mint nor extend an identity; deleting entries only costs a re-verification.
//!
//! - The token's digest covers the active public keys (JWKS), issuer, audience and the whole
//!   token, so rotating a key out or changing the issuer or audience strands every entry made
//!   under the old settings.
//! - The Redis key is a MAC of that digest, so it names no token and two deployments (or
//!   component groups) with different secrets never read each other's entries.
//! - An entry expires with its token (`exp` plus the verifier's leeway), in Redis and when read.
//! - Revocation is not cached: the denylist is read on every request, in the same round trip.
//!
//! Entry format: `v1.<base64url claims JSON>.<base64url MAC>`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::token::{Claims, TokenRules, TokenType};

type HmacSha256 = Hmac<Sha256>;

/// Every entry's Redis key starts with this (the ACL namespace in deploy/redis-acl.conf).
pub const KEY_PREFIX: &str = "tokencache:";
/// The shortest accepted `token_cache_key` (characters): 32 random bytes in base64url are 43.
pub const MIN_SECRET_LEN: usize = 32;
const VERSION: &str = "v1";

/// A misconfigured `token_cache_key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeakSecret;

impl std::fmt::Display for WeakSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "token_cache_key must be empty (no cache) or at least {MIN_SECRET_LEN} characters"
        )
    }
}

impl std::error::Error for WeakSecret {}

/// The cache's secret.
pub struct TokenCache {
    mac: HmacSha256,
}

/// Where one token's entry lives and what its MAC binds it to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// The Redis key (`tokencache:<base64url>`).
    pub key: String,
    digest: [u8; 32],
}

impl TokenCache {
    /// From the `token_cache_key` variable: `None` when it is empty (the cache is off).
    pub fn from_secret(secret: &str) -> Result<Option<TokenCache>, WeakSecret> {
        let secret = secret.trim();
        if secret.is_empty() {
            return Ok(None);
        }
        if secret.len() < MIN_SECRET_LEN {
            return Err(WeakSecret);
        }
        let mac = HmacSha256::new_from_slice(secret.as_bytes()).map_err(|_| WeakSecret)?;
        Ok(Some(TokenCache { mac }))
    }

    /// A new random `token_cache_key`: 32 bytes, base64url (`spingraph up --dev`, `spingraph
    /// admin gen-keys`).
    pub fn generate_secret() -> Result<String, getrandom::Error> {
        crate::secret::try_random_urlsafe(32)
    }

    fn tag(&self, parts: &[&[u8]]) -> HmacSha256 {
        let mut mac = self.mac.clone();
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac
    }

    /// The slot of `token` verified with `jwks` under `rules`.
    pub fn slot(&self, jwks: &str, rules: &TokenRules, token: &str) -> Slot {
        let mut digest = Sha256::new();
        for part in [
            VERSION.as_bytes(),
            jwks.as_bytes(),
            rules.issuer.as_bytes(),
            rules.audience.as_bytes(),
            token.as_bytes(),
        ] {
            digest.update((part.len() as u64).to_be_bytes());
            digest.update(part);
        }
        let digest: [u8; 32] = digest.finalize().into();
        let name = self.tag(&[b"key", &digest]).finalize().into_bytes();
        let mut key = String::with_capacity(KEY_PREFIX.len() + 43);
        key.push_str(KEY_PREFIX);
        URL_SAFE_NO_PAD.encode_string(name, &mut key);
        Slot { key, digest }
    }

    fn entry_mac(&self, slot: &Slot, claims_json: &[u8], exp: i64) -> HmacSha256 {
        self.tag(&[
            b"entry",
            VERSION.as_bytes(),
            &slot.digest,
            &exp.to_be_bytes(),
            claims_json,
        ])
    }

    /// The entry to store for `claims`, verified from the slot's token.
    pub fn seal(&self, slot: &Slot, claims: &Claims) -> String {
        let json = serde_json::to_vec(claims).expect("claims serialize");
        let mac = self
            .entry_mac(slot, &json, claims.exp)
            .finalize()
            .into_bytes();
        let mut entry = String::with_capacity(VERSION.len() + 2 + json.len() * 4 / 3 + 48);
        entry.push_str(VERSION);
        entry.push('.');
        URL_SAFE_NO_PAD.encode_string(&json, &mut entry);
        entry.push('.');
        URL_SAFE_NO_PAD.encode_string(mac, &mut entry);
        entry
    }

    /// The claims of `entry` when its MAC verifies for this slot and they pass
    /// [`TokenRules::check`] as an access token at `now`; `None` for anything else (then the
    /// token's signature is checked). Called by [`crate::verifier::Verifier`].
    pub fn open(&self, slot: &Slot, entry: &[u8], rules: &TokenRules, now: i64) -> Option<Claims> {
        let entry = std::str::from_utf8(entry).ok()?;
        let mut parts = entry.split('.');
        let (Some(VERSION), Some(json), Some(mac), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let json = URL_SAFE_NO_PAD.decode(json).ok()?;
        let mac = URL_SAFE_NO_PAD.decode(mac).ok()?;
        let claims: Claims = serde_json::from_slice(&json).ok()?;
        self.entry_mac(slot, &json, claims.exp)
            .verify_slice(&mac)
            .ok()?;
        // The same rules a token whose signature was just checked passes.
        rules.check(&claims, TokenType::Access, now).ok()?;
        Some(claims)
    }

    /// How long an entry for `claims` may live in Redis: until the verifier would refuse the
    /// token (`exp` plus leeway), at least 1 s.
    pub fn ttl(claims: &Claims, rules: &TokenRules, now: i64) -> i64 {
        (claims.exp + rules.leeway as i64 - now).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::principal::Role;
    use crate::token::fixtures::{self, rules};
    use crate::token::now;

    const SECRET: &str = "0123456789abcdef0123456789abcdef-test";
    const JWKS: &str = r#"{"keys":[{"kid":"k1"}]}"#;

    fn cache(secret: &str) -> TokenCache {
        TokenCache::from_secret(secret).unwrap().unwrap()
    }

    fn claims() -> Claims {
        fixtures::claims(TokenType::Access)
    }

    /// The test cache, fresh access claims, and their entry sealed in token `token-a`'s slot.
    fn sealed() -> (TokenCache, Claims, Slot, String) {
        let (c, claims) = (cache(SECRET), claims());
        let slot = c.slot(JWKS, &rules(), "token-a");
        let entry = c.seal(&slot, &claims);
        (c, claims, slot, entry)
    }

    fn parts(entry: &str) -> (String, Vec<u8>, String) {
        let p: Vec<&str> = entry.split('.').collect();
        (
            p[0].to_string(),
            URL_SAFE_NO_PAD.decode(p[1]).unwrap(),
            p[2].to_string(),
        )
    }

    #[test]
    fn empty_secret_is_off_and_a_short_one_is_refused() {
        assert!(TokenCache::from_secret("").unwrap().is_none());
        assert!(TokenCache::from_secret("   ").unwrap().is_none());
        assert_eq!(
            TokenCache::from_secret("short").err(),
            Some(WeakSecret),
            "a guessable MAC key would let a Redis writer mint identities"
        );
    }

    #[test]
    fn generated_secrets_are_accepted_and_differ() {
        let (a, b) = (
            TokenCache::generate_secret().unwrap(),
            TokenCache::generate_secret().unwrap(),
        );
        assert_ne!(a, b);
        assert!(a.len() >= MIN_SECRET_LEN);
        assert!(TokenCache::from_secret(&a).unwrap().is_some());
    }

    #[test]
    fn a_sealed_entry_opens_for_its_own_token_only() {
        let (c, claims, slot, entry) = sealed();
        assert_eq!(
            c.open(&slot, entry.as_bytes(), &rules(), now()),
            Some(claims.clone())
        );
        // The same entry under another token's slot: the digest differs, so the MAC fails.
        let other = c.slot(JWKS, &rules(), "token-b");
        assert_ne!(other.key, slot.key);
        assert_eq!(c.open(&other, entry.as_bytes(), &rules(), now()), None);
    }

    #[test]
    fn edited_claims_expiry_or_mac_are_never_accepted() {
        let (c, claims, slot, entry) = sealed();
        let (version, _, mac) = parts(&entry);
        let mut promoted = claims.clone();
        promoted.role = Role::Admin;
        let mut extended = claims.clone();
        extended.exp += 3600;
        for edited in [promoted, extended] {
            let json = serde_json::to_vec(&edited).unwrap();
            let forged = format!("{version}.{}.{mac}", URL_SAFE_NO_PAD.encode(json));
            assert_eq!(c.open(&slot, forged.as_bytes(), &rules(), now()), None);
        }
        let mut bad_mac = URL_SAFE_NO_PAD.decode(&mac).unwrap();
        bad_mac[0] ^= 1;
        let (_, json, _) = parts(&entry);
        let forged = format!(
            "{version}.{}.{}",
            URL_SAFE_NO_PAD.encode(&json),
            URL_SAFE_NO_PAD.encode(bad_mac)
        );
        assert_eq!(c.open(&slot, forged.as_bytes(), &rules(), now()), None);
        for garbage in ["", "v1", "v2.e30.AA", "v1.!!.!!", "v1.e30.AA.AA"] {
            assert_eq!(c.open(&slot, garbage.as_bytes(), &rules(), now()), None);
        }
    }

    #[test]
    fn another_secret_names_other_keys_and_cannot_open_the_entry() {
        let (a, b) = (cache(SECRET), cache("another-secret-of-at-least-32-chars!"));
        let claims = claims();
        let slot_a = a.slot(JWKS, &rules(), "token-a");
        let slot_b = b.slot(JWKS, &rules(), "token-a");
        assert_ne!(slot_a.key, slot_b.key);
        let entry = a.seal(&slot_a, &claims);
        assert_eq!(b.open(&slot_b, entry.as_bytes(), &rules(), now()), None);
    }

    #[test]
    fn rotated_keys_issuer_or_audience_strand_the_entry() {
        let (c, _, slot, entry) = sealed();
        let rotated = c.slot(r#"{"keys":[{"kid":"k2"}]}"#, &rules(), "token-a");
        assert_ne!(rotated.key, slot.key);
        assert_eq!(c.open(&rotated, entry.as_bytes(), &rules(), now()), None);
        let other_audience = TokenRules::new("spingraph", "elsewhere");
        assert_ne!(c.slot(JWKS, &other_audience, "token-a").key, slot.key);
        assert_eq!(
            c.open(&slot, entry.as_bytes(), &other_audience, now()),
            None
        );
    }

    #[test]
    fn an_entry_expires_with_its_token_and_refresh_tokens_are_not_entries() {
        let (c, claims, slot, entry) = sealed();
        let leeway = rules().leeway as i64;
        assert!(
            c.open(&slot, entry.as_bytes(), &rules(), claims.exp + leeway)
                .is_some()
        );
        assert_eq!(
            c.open(&slot, entry.as_bytes(), &rules(), claims.exp + leeway + 1),
            None
        );
        assert_eq!(
            TokenCache::ttl(&claims, &rules(), claims.exp - 10),
            10 + leeway
        );
        assert_eq!(TokenCache::ttl(&claims, &rules(), claims.exp + 999), 1);
        let mut refresh = claims;
        refresh.typ = TokenType::Refresh;
        let entry = c.seal(&slot, &refresh);
        assert_eq!(c.open(&slot, entry.as_bytes(), &rules(), now()), None);
    }
}
