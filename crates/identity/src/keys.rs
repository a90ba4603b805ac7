//! Ed25519 keys in the two configured forms: `jwt_signing_key` = `<kid>:<base64url-nopad
//! 32-byte seed>` (a secret of `auth` alone) and `jwt_public_keys` = a JWKS of OKP/Ed25519
//! keys (several while keys rotate; a token's `kid` selects one).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{SigningKey as Ed25519Seed, VerifyingKey};
use jsonwebtoken::{DecodingKey, EncodingKey};
use serde::Deserialize;
use serde_json::{Value, json};
use std::fmt;

/// A configuration value that is not a usable key. Never carries key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError(pub String);

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for KeyError {}

fn key_error(msg: impl Into<String>) -> KeyError {
    KeyError(msg.into())
}

/// RFC 8410 PKCS#8 v1 wrapping of a raw Ed25519 seed, the form jsonwebtoken signs with.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

fn valid_kid(kid: &str) -> bool {
    (1..=64).contains(&kid.len())
        && kid
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// The private signing key of `auth`.
pub struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    public: PublicKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Parses `<kid>:<base64url-nopad 32-byte seed>`.
    pub fn parse(config: &str) -> Result<SigningKey, KeyError> {
        let (kid, seed) = config.trim().split_once(':').ok_or_else(|| {
            key_error("jwt_signing_key must look like `<kid>:<base64url 32-byte seed>`")
        })?;
        if !valid_kid(kid) {
            return Err(key_error(
                "jwt_signing_key: kid must be 1..64 characters of [A-Za-z0-9._-]",
            ));
        }
        let seed = URL_SAFE_NO_PAD
            .decode(seed.trim_end_matches('='))
            .map_err(|_| key_error("jwt_signing_key: the seed is not base64url"))?;
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|_| key_error("jwt_signing_key: the seed must be exactly 32 bytes"))?;
        Ok(Self::from_seed(kid, seed))
    }

    /// A new random key, e.g. for a development host; returns it in `jwt_signing_key` form.
    pub fn generate(kid: &str) -> Result<String, KeyError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed)
            .map_err(|e| key_error(format!("the OS random number generator failed: {e}")))?;
        Ok(format!("{kid}:{}", URL_SAFE_NO_PAD.encode(seed)))
    }

    /// A new random key in both configured forms, `(jwt_signing_key, jwt_public_keys)`: what
    /// `spingraph up --dev` and `spingraph admin gen-keys` hand out.
    pub fn generate_pair(kid: &str) -> Result<(String, String), KeyError> {
        let signing = SigningKey::generate(kid)?;
        let public = SigningKey::parse(&signing)?
            .public_keys()
            .to_jwks()
            .to_string();
        Ok((signing, public))
    }

    fn from_seed(kid: &str, seed: [u8; 32]) -> SigningKey {
        let mut der = Vec::with_capacity(48);
        der.extend_from_slice(&PKCS8_ED25519_PREFIX);
        der.extend_from_slice(&seed);
        let verifying = Ed25519Seed::from_bytes(&seed).verifying_key();
        SigningKey {
            kid: kid.to_owned(),
            encoding: EncodingKey::from_ed_der(&der),
            public: PublicKey::new(kid, verifying),
        }
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub(crate) fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }

    /// The matching public key as one JWK.
    pub fn public_jwk(&self) -> Value {
        self.public.to_jwk()
    }

    /// The matching public key alone, as a verifier set.
    pub fn public_keys(&self) -> PublicKeys {
        PublicKeys {
            keys: vec![self.public.clone()],
        }
    }
}

#[derive(Clone)]
struct PublicKey {
    kid: String,
    x: String,
    decoding: DecodingKey,
}

impl PublicKey {
    fn new(kid: &str, key: VerifyingKey) -> PublicKey {
        let raw = key.to_bytes();
        PublicKey {
            kid: kid.to_owned(),
            x: URL_SAFE_NO_PAD.encode(raw),
            // jsonwebtoken's EdDSA verifier takes the raw 32-byte public key.
            decoding: DecodingKey::from_ed_der(&raw),
        }
    }

    fn to_jwk(&self) -> Value {
        json!({"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": self.kid, "x": self.x})
    }
}

#[derive(Deserialize)]
struct JwksDoc {
    keys: Vec<JwkDoc>,
}

#[derive(Deserialize)]
struct JwkDoc {
    kty: Option<String>,
    crv: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    kid: Option<String>,
    x: Option<String>,
    d: Option<Value>,
}

/// The Ed25519 public keys tokens are verified with.
#[derive(Clone, Default)]
pub struct PublicKeys {
    keys: Vec<PublicKey>,
}

impl fmt::Debug for PublicKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.keys.iter().map(|k| &k.kid))
            .finish()
    }
}

impl PublicKeys {
    /// Parses a JWKS document. Every key must be an OKP/Ed25519 signing key with a unique
    /// `kid`; anything else (RSA, EC, symmetric `oct` keys, private parts) is refused outright
    /// rather than skipped, so a misconfiguration is seen at the first request.
    pub fn from_jwks(json: &str) -> Result<PublicKeys, KeyError> {
        let doc: JwksDoc = serde_json::from_str(json)
            .map_err(|e| key_error(format!("jwt_public_keys is not a JWKS document: {e}")))?;
        if doc.keys.is_empty() {
            return Err(key_error("jwt_public_keys holds no keys"));
        }
        let mut keys: Vec<PublicKey> = Vec::with_capacity(doc.keys.len());
        for (i, jwk) in doc.keys.into_iter().enumerate() {
            let kid = jwk
                .kid
                .filter(|kid| valid_kid(kid))
                .ok_or_else(|| key_error(format!("jwt_public_keys: key {i} has no valid kid")))?;
            let fail = |why: &str| key_error(format!("jwt_public_keys: key `{kid}` {why}"));
            if jwk.kty.as_deref() != Some("OKP") || jwk.crv.as_deref() != Some("Ed25519") {
                return Err(fail("is not an OKP/Ed25519 key"));
            }
            if jwk.alg.as_deref().is_some_and(|alg| alg != "EdDSA") {
                return Err(fail("has an alg other than EdDSA"));
            }
            if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
                return Err(fail("is not a signing key"));
            }
            if jwk.d.is_some() {
                return Err(fail(
                    "carries a private part (`d`); publish only public keys",
                ));
            }
            let raw = jwk
                .x
                .and_then(|x| URL_SAFE_NO_PAD.decode(x.trim_end_matches('=')).ok())
                .and_then(|raw| <[u8; 32]>::try_from(raw).ok())
                .ok_or_else(|| fail("has no 32-byte base64url `x`"))?;
            let verifying =
                VerifyingKey::from_bytes(&raw).map_err(|_| fail("is not a valid Ed25519 point"))?;
            if keys.iter().any(|k| k.kid == kid) {
                return Err(fail("appears twice"));
            }
            keys.push(PublicKey::new(&kid, verifying));
        }
        Ok(PublicKeys { keys })
    }

    pub(crate) fn find(&self, kid: &str) -> Option<&DecodingKey> {
        self.keys.iter().find(|k| k.kid == kid).map(|k| &k.decoding)
    }

    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|k| k.kid.as_str())
    }

    /// Adds the keys of `other` whose kid is not present yet.
    pub fn merge(mut self, other: PublicKeys) -> PublicKeys {
        for key in other.keys {
            if !self.keys.iter().any(|k| k.kid == key.kid) {
                self.keys.push(key);
            }
        }
        self
    }

    /// The JWKS document (`{"keys": [...]}`) published at `/.well-known/jwks.json`.
    pub fn to_jwks(&self) -> Value {
        json!({"keys": self.keys.iter().map(PublicKey::to_jwk).collect::<Vec<_>>()})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED_KEY: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

    #[test]
    fn signing_key_parses_kid_and_seed() {
        let key = SigningKey::parse(SEED_KEY).unwrap();
        assert_eq!(key.kid(), "k1");
        let jwk = key.public_jwk();
        assert_eq!(jwk["kty"], "OKP");
        assert_eq!(jwk["crv"], "Ed25519");
        assert_eq!(jwk["kid"], "k1");
        // RFC 8032 derivation, checked against ed25519-dalek directly.
        let seed: [u8; 32] = core::array::from_fn(|i| i as u8);
        let x = URL_SAFE_NO_PAD.encode(Ed25519Seed::from_bytes(&seed).verifying_key().to_bytes());
        assert_eq!(jwk["x"], x.as_str());
    }

    #[test]
    fn signing_key_rejects_bad_config() {
        assert!(SigningKey::parse("no-colon").is_err());
        assert!(SigningKey::parse(":AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8").is_err());
        assert!(SigningKey::parse("k1:AAEC").is_err());
        assert!(SigningKey::parse("k1:not base64!").is_err());
        assert!(SigningKey::parse("bad kid:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8").is_err());
    }

    #[test]
    fn generated_key_parses_and_differs() {
        let a = SigningKey::generate("dev").unwrap();
        assert!(a.starts_with("dev:"));
        assert!(SigningKey::parse(&a).is_ok());
        assert_ne!(a, SigningKey::generate("dev").unwrap());
    }

    #[test]
    fn generated_pair_is_a_signing_key_and_its_jwks() {
        let (signing, jwks) = SigningKey::generate_pair("dev-abc").unwrap();
        let key = SigningKey::parse(&signing).unwrap();
        let public = PublicKeys::from_jwks(&jwks).unwrap();
        assert_eq!(public.kids().collect::<Vec<_>>(), vec!["dev-abc"]);
        assert_eq!(public.to_jwks()["keys"][0], key.public_jwk());
        assert!(SigningKey::generate_pair("bad kid").is_err());
    }

    #[test]
    fn jwks_round_trips_through_to_jwks() {
        let key = SigningKey::parse(SEED_KEY).unwrap();
        let jwks = key.public_keys().to_jwks().to_string();
        let parsed = PublicKeys::from_jwks(&jwks).unwrap();
        assert_eq!(parsed.kids().collect::<Vec<_>>(), vec!["k1"]);
        assert!(parsed.find("k1").is_some());
        assert!(parsed.find("k2").is_none());
    }

    #[test]
    fn jwks_refuses_non_ed25519_or_private_or_duplicate_keys() {
        let key = SigningKey::parse(SEED_KEY).unwrap();
        let good = key.public_jwk();
        let with = |patch: Value| {
            let mut jwk = good.clone();
            for (k, v) in patch.as_object().unwrap() {
                jwk[k] = v.clone();
            }
            json!({ "keys": [jwk] }).to_string()
        };
        assert!(PublicKeys::from_jwks(&with(json!({}))).is_ok());
        assert!(PublicKeys::from_jwks(&with(json!({"kty": "oct", "k": "c2VjcmV0"}))).is_err());
        assert!(PublicKeys::from_jwks(&with(json!({"kty": "RSA"}))).is_err());
        assert!(PublicKeys::from_jwks(&with(json!({"alg": "HS256"}))).is_err());
        assert!(PublicKeys::from_jwks(&with(json!({"d": "AAAA"}))).is_err());
        assert!(PublicKeys::from_jwks(&with(json!({"x": "AAEC"}))).is_err());
        assert!(PublicKeys::from_jwks(&with(json!({"kid": null}))).is_err());
        assert!(PublicKeys::from_jwks(&json!({ "keys": [good, good] }).to_string()).is_err());
        assert!(PublicKeys::from_jwks(r#"{"keys": []}"#).is_err());
        assert!(PublicKeys::from_jwks("not json").is_err());
    }

    #[test]
    fn merge_keeps_existing_kids() {
        let a = SigningKey::parse(SEED_KEY).unwrap().public_keys();
        let b = SigningKey::parse(&SigningKey::generate("k2").unwrap())
            .unwrap()
            .public_keys();
        let merged = a.clone().merge(b).merge(a);
        assert_eq!(merged.kids().collect::<Vec<_>>(), vec!["k1", "k2"]);
    }
}
