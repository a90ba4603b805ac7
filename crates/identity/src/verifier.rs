//! The one token verifier: every token `auth` and `authn` accept passes [`Verifier::verify`].
//! Its claims come from a verified-token cache entry that vouches for this very token, or else
//! from the token once its signature verifies; either way they then pass the same rules
//! ([`TokenRules::check`]).

use std::fmt;

use crate::keys::{KeyError, PublicKeys};
use crate::token::{Claims, TokenError, TokenRules, TokenType};
use crate::token_cache::{Slot, TokenCache};

/// The keys signatures are checked with.
enum Keys<'a> {
    /// The `jwt_public_keys` document, parsed only when a signature has to be checked: a cache
    /// hit needs only its text (part of every slot, so rotating a key strands old entries).
    Jwks(&'a str),
    Parsed(&'a PublicKeys),
}

/// Verifies tokens under one set of rules and keys, with the verified-token cache when it is on.
pub struct Verifier<'a> {
    rules: &'a TokenRules,
    keys: Keys<'a>,
    cache: Option<&'a TokenCache>,
}

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// The token is refused (the client sees a 401).
    Token(TokenError),
    /// The configured public keys are unusable: a deployment problem, not the client's.
    Keys(KeyError),
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::Token(e) => e.fmt(f),
            VerifyError::Keys(e) => write!(f, "jwt_public_keys: {e}"),
        }
    }
}

impl std::error::Error for VerifyError {}

impl From<TokenError> for VerifyError {
    fn from(e: TokenError) -> VerifyError {
        VerifyError::Token(e)
    }
}

/// An accepted token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub claims: Claims,
    /// The entry to store in the token's slot: set when the signature was checked because no
    /// entry vouched for the token, and a slot was given.
    pub new_entry: Option<String>,
}

impl<'a> Verifier<'a> {
    /// Checks signatures with `keys`, without a cache (`auth`'s refresh tokens).
    pub fn new(rules: &'a TokenRules, keys: &'a PublicKeys) -> Verifier<'a> {
        Verifier {
            rules,
            keys: Keys::Parsed(keys),
            cache: None,
        }
    }

    /// Checks signatures with the keys of the JWKS document `jwks` (parsed only when a token is
    /// not in the cache) and keeps verified access tokens in `cache` when it is on (`authn`).
    pub fn with_jwks(
        rules: &'a TokenRules,
        jwks: &'a str,
        cache: Option<&'a TokenCache>,
    ) -> Verifier<'a> {
        Verifier {
            rules,
            keys: Keys::Jwks(jwks),
            cache,
        }
    }

    pub fn rules(&self) -> &TokenRules {
        self.rules
    }

    /// The cache slot of `token`: where its entry is read and stored. `None` when the cache is
    /// off.
    pub fn slot(&self, token: &str) -> Option<Slot> {
        match (self.cache, &self.keys) {
            (Some(cache), Keys::Jwks(jwks)) => Some(cache.slot(jwks, self.rules, token)),
            _ => None,
        }
    }

    /// The claims of `token` if it is a valid token of type `expected` at `now`.
    ///
    /// `cached` is the token's slot (from [`Verifier::slot`]) and the entry read from it (none:
    /// the slot is empty). An entry vouches for the token only when its MAC verifies for this
    /// slot and its claims pass the rules; otherwise the signature is checked and, with a slot
    /// given, [`Verified::new_entry`] is the entry to store. Pass no `cached` when the cache
    /// could not be read: nothing is looked up and nothing is sealed.
    pub fn verify(
        &self,
        token: &str,
        expected: TokenType,
        cached: Option<(&Slot, Option<&[u8]>)>,
        now: i64,
    ) -> Result<Verified, VerifyError> {
        // Only access tokens are cached: a refresh token is presented once, to be rotated.
        let cache = self
            .cache
            .filter(|_| expected == TokenType::Access)
            .zip(cached);
        if let Some((cache, (slot, Some(entry)))) = cache
            && let Some(claims) = cache.open(slot, entry, self.rules, now)
        {
            return Ok(Verified {
                claims,
                new_entry: None,
            });
        }
        let claims = match &self.keys {
            Keys::Parsed(keys) => self.rules.verify_signature(keys, token, expected, now)?,
            Keys::Jwks(jwks) => {
                let keys = PublicKeys::from_jwks(jwks).map_err(VerifyError::Keys)?;
                self.rules.verify_signature(&keys, token, expected, now)?
            }
        };
        let new_entry = cache.map(|(cache, (slot, _))| cache.seal(slot, &claims));
        Ok(Verified { claims, new_entry })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SigningKey;
    use crate::principal::Role;
    use crate::token::fixtures::{claims, rules};
    use crate::token::now;

    const KEY: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    const SECRET: &str = "0123456789abcdef0123456789abcdef-test";

    /// A signing key, its JWKS document and a cache.
    struct Setup {
        key: SigningKey,
        jwks: String,
        cache: TokenCache,
        rules: TokenRules,
    }

    fn setup() -> Setup {
        let key = SigningKey::parse(KEY).unwrap();
        let jwks = key.public_keys().to_jwks().to_string();
        Setup {
            key,
            jwks,
            cache: TokenCache::from_secret(SECRET).unwrap().unwrap(),
            rules: rules(),
        }
    }

    impl Setup {
        fn verifier(&self) -> Verifier<'_> {
            Verifier::with_jwks(&self.rules, &self.jwks, Some(&self.cache))
        }

        fn sign(&self, claims: &Claims) -> String {
            self.rules.sign(&self.key, claims).unwrap()
        }

        /// Verifies `token` as an access token with whatever its slot holds (`entry`).
        fn verify(&self, token: &str, entry: Option<&str>) -> Result<Verified, VerifyError> {
            let v = self.verifier();
            let slot = v.slot(token).unwrap();
            v.verify(
                token,
                TokenType::Access,
                Some((&slot, entry.map(str::as_bytes))),
                now(),
            )
        }

        /// `claims`, signed, are refused with `error` whether their sealed cache entry is read or
        /// the signature checked; the token and its slot.
        fn refused_from_the_cache_and_by_signature(
            &self,
            claims: &Claims,
            error: TokenError,
        ) -> (String, Slot) {
            let token = self.sign(claims);
            let slot = self.verifier().slot(&token).unwrap();
            let entry = self.cache.seal(&slot, claims);
            for entry in [Some(entry.as_str()), None] {
                assert_eq!(
                    self.verify(&token, entry),
                    Err(VerifyError::Token(error.clone()))
                );
            }
            (token, slot)
        }
    }

    #[test]
    fn cache_miss_checks_the_signature_and_hands_back_the_entry_to_store() {
        let s = setup();
        let c = claims(TokenType::Access);
        let token = s.sign(&c);
        let verified = s.verify(&token, None).unwrap();
        assert_eq!(verified.claims, c);
        let entry = verified.new_entry.expect("an entry to store");
        let slot = s.verifier().slot(&token).unwrap();
        assert_eq!(
            s.cache.open(&slot, entry.as_bytes(), &s.rules, now()),
            Some(c)
        );
    }

    #[test]
    fn cache_hit_takes_the_claims_from_the_entry_without_the_keys() {
        let s = setup();
        let c = claims(TokenType::Access);
        let token = s.sign(&c);
        let entry = s.verify(&token, None).unwrap().new_entry.unwrap();
        assert_eq!(
            s.verify(&token, Some(&entry)),
            Ok(Verified {
                claims: c.clone(),
                new_entry: None
            })
        );
        // A JWKS text that does not parse still names a slot: a hit there never needs the keys.
        let v = Verifier::with_jwks(&s.rules, "not json", Some(&s.cache));
        let slot = v.slot(&token).unwrap();
        let entry = s.cache.seal(&slot, &c);
        let cached = Some((&slot, Some(entry.as_bytes())));
        assert_eq!(
            v.verify(&token, TokenType::Access, cached, now())
                .map(|v| v.claims),
            Ok(c)
        );
    }

    #[test]
    fn an_entry_for_another_token_or_a_forged_one_is_ignored_and_the_signature_decides() {
        let s = setup();
        let genuine = s.sign(&claims(TokenType::Access));
        let entry = s.verify(&genuine, None).unwrap().new_entry.unwrap();
        // Someone else's genuine entry planted in this token's slot: its MAC does not verify
        // here, so this (valid) token is checked by signature and gets an entry of its own.
        let other = s.sign(&claims(TokenType::Access));
        let verified = s.verify(&other, Some(&entry)).unwrap();
        assert!(verified.new_entry.is_some());
        // A forged token (admin payload, genuine signature) with a planted entry: refused.
        let mut admin = claims(TokenType::Access);
        admin.role = Role::Admin;
        let admin = s.sign(&admin);
        let (g, a): (Vec<&str>, Vec<&str>) =
            (genuine.split('.').collect(), admin.split('.').collect());
        let forged = format!("{}.{}.{}", g[0], a[1], g[2]);
        assert_eq!(
            s.verify(&forged, Some(&entry)),
            Err(VerifyError::Token(TokenError::BadSignature))
        );
    }

    #[test]
    fn expired_token_is_refused_from_the_cache_and_by_signature() {
        let s = setup();
        let mut c = claims(TokenType::Access);
        c.exp = now() - 2 * s.rules.leeway as i64;
        s.refused_from_the_cache_and_by_signature(&c, TokenError::Expired);
    }

    #[test]
    fn wrong_audience_is_refused_from_the_cache_and_by_signature() {
        let s = setup();
        let c = Claims {
            aud: "another-api".into(),
            ..claims(TokenType::Access)
        };
        let (token, slot) =
            s.refused_from_the_cache_and_by_signature(&c, TokenError::WrongAudience);
        // Rules with another audience name other slots: the entry made under ours is stranded.
        let elsewhere = TokenRules::new(s.rules.issuer.clone(), "elsewhere");
        let moved = Verifier::with_jwks(&elsewhere, &s.jwks, Some(&s.cache));
        assert_ne!(moved.slot(&token), Some(slot));
    }

    #[test]
    fn a_key_dropped_from_the_jwks_strands_its_entries_and_refuses_its_tokens() {
        // A token is revoked by the denylist, read on every request and never cached
        // (`revocation`); the verifier's part is the key: once revoked, its tokens fail even
        // with a genuine entry, which the new JWKS text no longer names.
        let s = setup();
        let token = s.sign(&claims(TokenType::Access));
        let entry = s.verify(&token, None).unwrap().new_entry.unwrap();
        let other = SigningKey::parse(&SigningKey::generate("k2").unwrap()).unwrap();
        let rotated = other.public_keys().to_jwks().to_string();
        let v = Verifier::with_jwks(&s.rules, &rotated, Some(&s.cache));
        let slot = v.slot(&token).unwrap();
        assert_ne!(Some(&slot), s.verifier().slot(&token).as_ref());
        assert_eq!(
            v.verify(
                &token,
                TokenType::Access,
                Some((&slot, Some(entry.as_bytes()))),
                now()
            ),
            Err(VerifyError::Token(TokenError::UnknownKeyId("k1".into())))
        );
    }

    #[test]
    fn cache_off_or_unread_verifies_by_signature_and_seals_nothing() {
        let s = setup();
        let c = claims(TokenType::Access);
        let token = s.sign(&c);
        let off = Verifier::with_jwks(&s.rules, &s.jwks, None);
        assert_eq!(off.slot(&token), None);
        let unread = s.verifier();
        for v in [off, unread] {
            assert_eq!(
                v.verify(&token, TokenType::Access, None, now()),
                Ok(Verified {
                    claims: c.clone(),
                    new_entry: None
                })
            );
        }
    }

    #[test]
    fn unusable_jwks_is_a_key_error_not_a_refused_token() {
        let s = setup();
        let token = s.sign(&claims(TokenType::Access));
        let v = Verifier::with_jwks(&s.rules, "not json", None);
        assert!(matches!(
            v.verify(&token, TokenType::Access, None, now()),
            Err(VerifyError::Keys(_))
        ));
    }

    #[test]
    fn refresh_tokens_verify_with_parsed_keys_and_are_never_cached() {
        let s = setup();
        let c = claims(TokenType::Refresh);
        let token = s.sign(&c);
        let keys = s.key.public_keys();
        assert_eq!(
            Verifier::new(&s.rules, &keys)
                .verify(&token, TokenType::Refresh, None, now())
                .map(|v| v.claims),
            Ok(c.clone())
        );
        let v = s.verifier();
        let slot = v.slot(&token).unwrap();
        let planted = s.cache.seal(&slot, &c);
        let verified = v
            .verify(
                &token,
                TokenType::Refresh,
                Some((&slot, Some(planted.as_bytes()))),
                now(),
            )
            .unwrap();
        assert_eq!(verified.new_entry, None);
        assert_eq!(
            v.verify(&token, TokenType::Access, None, now()),
            Err(VerifyError::Token(TokenError::WrongType {
                expected: TokenType::Access
            }))
        );
    }
}
