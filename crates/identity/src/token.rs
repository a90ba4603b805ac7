//! JWT access and refresh tokens: the claims, issuer and audience (with their defaults),
//! issuing (EdDSA only), the signature check and the claim rules every accepted token passes
//! ([`TokenRules::check`]; tokens are accepted through [`crate::verifier::Verifier`]). Every
//! rejection is a distinct `TokenError` so logs say why; clients only ever see a 401.

use crate::keys::{PublicKeys, SigningKey};
use crate::principal::Role;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};
use uuid::Uuid;

/// The only `alg` we issue and accept.
const ALG: &str = "EdDSA";

/// The Spin variables `auth` and `authn` read the issuer and audience from, and the defaults
/// spin.toml declares for them (a unit test holds spin.toml to these).
pub const ISSUER_VARIABLE: &str = "jwt_issuer";
pub const AUDIENCE_VARIABLE: &str = "jwt_audience";
pub const DEFAULT_ISSUER: &str = "spingraph";
pub const DEFAULT_AUDIENCE: &str = "spingraph-api";

/// Clock skew tolerated on `exp` and `nbf`: a token is accepted until `exp + LEEWAY_SECS`, so
/// anything that refuses a token early (the denylist) must outlive it by this much.
pub const LEEWAY_SECS: u64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    Access,
    Refresh,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: String,
    pub role: Role,
    pub email: String,
    /// Unique per token: the denylist key of an access token, the `refresh_tokens.id` of a
    /// refresh token.
    pub jti: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub typ: TokenType,
    /// The session: the refresh-token family this token was issued in. Logout and reuse
    /// detection revoke a family; `authn` refuses its access tokens through the denylist (or,
    /// with Redis down, through the family's `revoked_at` in Postgres).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The user's token generation when the token was issued (`users.token_generation`).
    /// Demotion and deactivation bump it; `authn` refuses tokens of an older generation, which,
    /// unlike `iat`, orders a token and a change within the same second. Absent = 0.
    #[serde(default, rename = "gen")]
    pub generation: i64,
}

impl Claims {
    pub fn with_session(mut self, family_id: Uuid) -> Claims {
        self.sid = Some(family_id.to_string());
        self
    }

    pub fn with_generation(mut self, generation: i64) -> Claims {
        self.generation = generation;
        self
    }

    pub fn user_id(&self) -> Option<Uuid> {
        Uuid::parse_str(&self.sub).ok()
    }

    /// Seconds until `exp`, at least 1 (used as the denylist TTL).
    pub fn remaining_lifetime(&self, now: i64) -> i64 {
        (self.exp - now).max(1)
    }
}

/// Why a token was refused. For logs; the client sees one uniform 401.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    Malformed(String),
    /// `alg` other than EdDSA: `none`, HS*, RS*, ES*, ...
    UnsupportedAlgorithm(String),
    MissingKeyId,
    UnknownKeyId(String),
    BadSignature,
    Expired,
    NotYetValid,
    WrongAudience,
    WrongIssuer,
    WrongType {
        expected: TokenType,
    },
    /// Issuing failed (a key problem); never caused by client input.
    Signing(String),
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::Malformed(why) => write!(f, "malformed token: {why}"),
            TokenError::UnsupportedAlgorithm(alg) => write!(f, "token alg `{alg}` is not EdDSA"),
            TokenError::MissingKeyId => f.write_str("token has no kid"),
            TokenError::UnknownKeyId(kid) => write!(f, "token kid `{kid}` is not an active key"),
            TokenError::BadSignature => f.write_str("token signature does not verify"),
            TokenError::Expired => f.write_str("token expired"),
            TokenError::NotYetValid => f.write_str("token not valid yet (nbf)"),
            TokenError::WrongAudience => f.write_str("token audience mismatch"),
            TokenError::WrongIssuer => f.write_str("token issuer mismatch"),
            TokenError::WrongType { expected } => {
                write!(f, "token is not an {expected:?} token")
            }
            TokenError::Signing(why) => write!(f, "cannot sign token: {why}"),
        }
    }
}

impl std::error::Error for TokenError {}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Issuer, audience and clock-skew allowance shared by `auth` (issuing) and `authn` (checking).
#[derive(Debug, Clone)]
pub struct TokenRules {
    pub issuer: String,
    pub audience: String,
    /// Clock skew tolerated on `exp` and `nbf`, seconds.
    pub leeway: u64,
}

impl TokenRules {
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> TokenRules {
        TokenRules {
            issuer: issuer.into(),
            audience: audience.into(),
            leeway: LEEWAY_SECS,
        }
    }

    /// The rules the `jwt_issuer` and `jwt_audience` variables configure, each read with
    /// `variable` (`None`: unset, so the default).
    pub fn from_variables<E>(
        mut variable: impl FnMut(&str) -> Result<Option<String>, E>,
    ) -> Result<TokenRules, E> {
        let issuer = variable(ISSUER_VARIABLE)?.unwrap_or_else(|| DEFAULT_ISSUER.to_owned());
        let audience = variable(AUDIENCE_VARIABLE)?.unwrap_or_else(|| DEFAULT_AUDIENCE.to_owned());
        Ok(TokenRules::new(issuer, audience))
    }

    /// Claims for a new token of `typ`, valid from `now` for `ttl_seconds`, with a fresh or
    /// given `jti`.
    #[allow(clippy::too_many_arguments)]
    pub fn claims(
        &self,
        typ: TokenType,
        user_id: Uuid,
        email: &str,
        role: Role,
        jti: Uuid,
        now: i64,
        ttl_seconds: i64,
    ) -> Claims {
        Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user_id.to_string(),
            role,
            email: email.to_owned(),
            jti: jti.to_string(),
            iat: now,
            nbf: now,
            exp: now + ttl_seconds,
            typ,
            sid: None,
            generation: 0,
        }
    }

    /// Signs `claims` with EdDSA; the header carries the key's `kid`.
    pub fn sign(&self, key: &SigningKey, claims: &Claims) -> Result<String, TokenError> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key.kid().to_owned());
        jsonwebtoken::encode(&header, claims, key.encoding_key())
            .map_err(|e| TokenError::Signing(e.to_string()))
    }

    /// The claim rules every accepted token passes, whether its signature was just checked or a
    /// cache entry vouches for it: not expired and already valid at `now` (each with the
    /// leeway), our issuer and audience, and of type `expected`. Checked in the order
    /// jsonwebtoken checked them before this was the one place, so logs name the same reason.
    pub fn check(&self, claims: &Claims, expected: TokenType, now: i64) -> Result<(), TokenError> {
        let leeway = self.leeway as i64;
        if claims.exp.saturating_add(leeway) < now {
            return Err(TokenError::Expired);
        }
        if claims.nbf > now.saturating_add(leeway) {
            return Err(TokenError::NotYetValid);
        }
        if claims.iss != self.issuer {
            return Err(TokenError::WrongIssuer);
        }
        if claims.aud != self.audience {
            return Err(TokenError::WrongAudience);
        }
        if claims.typ != expected {
            return Err(TokenError::WrongType { expected });
        }
        Ok(())
    }

    /// The claims of a token whose EdDSA signature verifies with the `kid`-selected key of
    /// `keys`, once they pass [`TokenRules::check`] at `now`.
    pub(crate) fn verify_signature(
        &self,
        keys: &PublicKeys,
        token: &str,
        expected: TokenType,
        now: i64,
    ) -> Result<Claims, TokenError> {
        let (alg, kid) = read_header(token)?;
        // Checked by hand before any key is touched: `none`, HMAC (e.g. HS256 keyed with our
        // public key) and RSA/EC never reach a verifier.
        if alg != ALG {
            return Err(TokenError::UnsupportedAlgorithm(alg));
        }
        let kid = kid.ok_or(TokenError::MissingKeyId)?;
        let key = keys
            .find(&kid)
            .ok_or_else(|| TokenError::UnknownKeyId(kid.clone()))?;

        // jsonwebtoken checks the header, the signature and that the claims parse; the claim
        // rules are `check`'s alone (a missing claim fails to parse into `Claims`).
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();

        let data = jsonwebtoken::decode::<Claims>(token, key, &validation).map_err(|e| match e
            .kind()
        {
            ErrorKind::InvalidSignature => TokenError::BadSignature,
            ErrorKind::InvalidAlgorithm | ErrorKind::UnsupportedAlgorithm => {
                TokenError::UnsupportedAlgorithm(ALG.to_owned())
            }
            other => TokenError::Malformed(format!("{other:?}")),
        })?;
        self.check(&data.claims, expected, now)?;
        Ok(data.claims)
    }
}

/// The header, payload and signature of a compact JWS (exactly three dot-separated parts).
fn jws_parts(token: &str) -> Result<[&str; 3], TokenError> {
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(header), Some(payload), Some(signature), None) => Ok([header, payload, signature]),
        _ => Err(TokenError::Malformed(
            "not three dot-separated parts".into(),
        )),
    }
}

/// `alg` and `kid` of a compact JWS, read without trusting anything else in it.
fn read_header(token: &str) -> Result<(String, Option<String>), TokenError> {
    let [header, _payload, _signature] = jws_parts(token)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| TokenError::Malformed("header is not base64url".into()))?;
    let header: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|_| TokenError::Malformed("header is not JSON".into()))?;
    let alg = header
        .get("alg")
        .and_then(|alg| alg.as_str())
        .ok_or_else(|| TokenError::Malformed("header has no alg".into()))?;
    let kid = header
        .get("kid")
        .and_then(|kid| kid.as_str())
        .map(str::to_owned);
    Ok((alg.to_owned(), kid))
}

/// The claims of a compact JWS read **without verifying anything**: only to name the Redis keys
/// of a request's one round trip (denylist, cache entry, rate-limit bucket) before the token is
/// checked. Nothing here is trusted until [`crate::verifier::Verifier`] vouches for the very
/// same token.
pub fn unverified_claims(token: &str) -> Result<Claims, TokenError> {
    let [_header, payload, _signature] = jws_parts(token)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| TokenError::Malformed("payload is not base64url".into()))?;
    serde_json::from_slice(&bytes).map_err(|e| TokenError::Malformed(format!("payload: {e}")))
}

/// The rules and claims the unit tests here and in `token_cache` sign and check.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    pub fn rules() -> TokenRules {
        TokenRules::new(DEFAULT_ISSUER, DEFAULT_AUDIENCE)
    }

    /// Fresh claims of `typ` for a new user and session, valid for 15 minutes from now.
    pub fn claims(typ: TokenType) -> Claims {
        rules().claims(
            typ,
            Uuid::now_v7(),
            "a@example.com",
            Role::User,
            Uuid::now_v7(),
            now(),
            900,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{claims, rules};
    use super::*;
    use jsonwebtoken::EncodingKey;
    use serde_json::json;

    const KEY: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

    fn key() -> SigningKey {
        SigningKey::parse(KEY).unwrap()
    }

    fn b64(value: &serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(value.to_string())
    }

    fn verify(token: &str) -> Result<Claims, TokenError> {
        rules().verify_signature(&key().public_keys(), token, TokenType::Access, now())
    }

    #[test]
    fn spin_toml_declares_the_default_issuer_and_audience() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../spin.toml");
        let manifest = std::fs::read_to_string(path).unwrap();
        for (variable, default) in [
            (ISSUER_VARIABLE, DEFAULT_ISSUER),
            (AUDIENCE_VARIABLE, DEFAULT_AUDIENCE),
        ] {
            let line = format!("{variable} = {{ default = \"{default}\" }}");
            assert!(
                manifest.lines().any(|l| l.trim() == line),
                "spin.toml: {line}"
            );
        }
    }

    #[test]
    fn unset_issuer_and_audience_take_the_defaults() {
        let unset = TokenRules::from_variables(|_| Ok::<_, ()>(None)).unwrap();
        assert_eq!(
            (unset.issuer.as_str(), unset.audience.as_str()),
            (DEFAULT_ISSUER, DEFAULT_AUDIENCE)
        );
        let set =
            TokenRules::from_variables(|name| Ok::<_, ()>(Some(format!("{name}-value")))).unwrap();
        assert_eq!(
            (set.issuer.as_str(), set.audience.as_str()),
            ("jwt_issuer-value", "jwt_audience-value")
        );
        assert_eq!(
            TokenRules::from_variables(|_| Err::<Option<String>, _>("down")).err(),
            Some("down")
        );
    }

    #[test]
    fn claim_rules_order_and_bounds() {
        let r = rules();
        let c = claims(TokenType::Access);
        let leeway = r.leeway as i64;
        assert_eq!(r.check(&c, TokenType::Access, now()), Ok(()));
        assert_eq!(r.check(&c, TokenType::Access, c.exp + leeway), Ok(()));
        assert_eq!(
            r.check(&c, TokenType::Access, c.exp + leeway + 1),
            Err(TokenError::Expired)
        );
        assert_eq!(r.check(&c, TokenType::Access, c.nbf - leeway), Ok(()));
        assert_eq!(
            r.check(&c, TokenType::Access, c.nbf - leeway - 1),
            Err(TokenError::NotYetValid)
        );
        // Several faults: the first in exp, nbf, iss, aud, typ order is named.
        let all_wrong = Claims {
            iss: "someone-else".into(),
            aud: "another-api".into(),
            ..c.clone()
        };
        assert_eq!(
            r.check(&all_wrong, TokenType::Refresh, c.exp + leeway + 1),
            Err(TokenError::Expired)
        );
        assert_eq!(
            r.check(&all_wrong, TokenType::Refresh, now()),
            Err(TokenError::WrongIssuer)
        );
    }

    #[test]
    fn issued_access_token_verifies() {
        let c = claims(TokenType::Access);
        let token = rules().sign(&key(), &c).unwrap();
        assert_eq!(verify(&token), Ok(c));
    }

    #[test]
    fn generation_travels_as_gen_and_defaults_to_zero() {
        let c = claims(TokenType::Access).with_generation(3);
        let value = serde_json::to_value(&c).unwrap();
        assert_eq!(value["gen"], 3);
        let mut old = value;
        old.as_object_mut().unwrap().remove("gen");
        let parsed: Claims = serde_json::from_value(old).unwrap();
        assert_eq!(parsed.generation, 0);
    }

    #[test]
    fn tampered_payload_is_rejected() {
        let token = rules().sign(&key(), &claims(TokenType::Access)).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        let mut evil = claims(TokenType::Access);
        evil.role = Role::Admin;
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            b64(&serde_json::to_value(&evil).unwrap()),
            parts[2]
        );
        assert_eq!(verify(&forged), Err(TokenError::BadSignature));
    }

    #[test]
    fn unverified_claims_read_the_payload_and_reject_garbage() {
        let c = claims(TokenType::Access).with_generation(2);
        let token = rules().sign(&key(), &c).unwrap();
        assert_eq!(unverified_claims(&token), Ok(c));
        for bad in [
            "",
            "a.b",
            "a.!!.c",
            "a.e30.c.d",
            &format!("x.{}.y", b64(&json!({"sub": 1}))),
        ] {
            assert!(
                matches!(unverified_claims(bad), Err(TokenError::Malformed(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn tampered_signature_is_rejected() {
        let token = rules().sign(&key(), &claims(TokenType::Access)).unwrap();
        let (head, sig) = token.rsplit_once('.').unwrap();
        let mut sig: Vec<u8> = URL_SAFE_NO_PAD.decode(sig).unwrap();
        sig[0] ^= 1;
        let forged = format!("{head}.{}", URL_SAFE_NO_PAD.encode(sig));
        assert_eq!(verify(&forged), Err(TokenError::BadSignature));
    }

    /// A token for valid access claims whose header names `alg` (key `k1`), with `signature`
    /// (not one made with our key) as its last part.
    fn forged_with_alg(alg: &str, signature: &str) -> String {
        let header = json!({"alg": alg, "typ": "JWT", "kid": "k1"});
        let payload = serde_json::to_value(claims(TokenType::Access)).unwrap();
        format!("{}.{}.{signature}", b64(&header), b64(&payload))
    }

    /// Asserts that `token` is refused for the algorithm `alg` its header names.
    fn assert_refused_for_alg(token: &str, alg: &str) {
        assert_eq!(
            verify(token),
            Err(TokenError::UnsupportedAlgorithm(alg.into())),
            "{token}"
        );
    }

    #[test]
    fn alg_none_is_rejected() {
        assert_refused_for_alg(&forged_with_alg("none", ""), "none");
    }

    #[test]
    fn hs256_signed_with_the_public_key_is_rejected() {
        let public = key().public_jwk();
        let x = public["x"].as_str().unwrap();
        for secret in [x.as_bytes().to_vec(), URL_SAFE_NO_PAD.decode(x).unwrap()] {
            let mut header = Header::new(Algorithm::HS256);
            header.kid = Some("k1".into());
            let token = jsonwebtoken::encode(
                &header,
                &claims(TokenType::Access),
                &EncodingKey::from_secret(&secret).unwrap(),
            )
            .unwrap();
            assert_refused_for_alg(&token, "HS256");
        }
    }

    #[test]
    fn rs256_header_is_rejected() {
        assert_refused_for_alg(&forged_with_alg("RS256", "AAAA"), "RS256");
    }

    #[test]
    fn expired_token_is_rejected() {
        let mut c = claims(TokenType::Access);
        c.iat -= 7200;
        c.nbf -= 7200;
        c.exp = now() - 3600;
        let token = rules().sign(&key(), &c).unwrap();
        assert_eq!(verify(&token), Err(TokenError::Expired));
    }

    #[test]
    fn token_within_leeway_after_expiry_is_accepted() {
        let mut c = claims(TokenType::Access);
        c.exp = now() - 5;
        let token = rules().sign(&key(), &c).unwrap();
        assert!(verify(&token).is_ok());
    }

    #[test]
    fn future_nbf_is_rejected() {
        let mut c = claims(TokenType::Access);
        c.nbf = now() + 3600;
        c.exp = now() + 7200;
        let token = rules().sign(&key(), &c).unwrap();
        assert_eq!(verify(&token), Err(TokenError::NotYetValid));
    }

    #[test]
    fn wrong_audience_or_issuer_is_rejected() {
        let other_audience = Claims {
            aud: "another-api".into(),
            ..claims(TokenType::Access)
        };
        let other_issuer = Claims {
            iss: "someone-else".into(),
            ..claims(TokenType::Access)
        };
        for (c, expected) in [
            (other_audience, TokenError::WrongAudience),
            (other_issuer, TokenError::WrongIssuer),
        ] {
            let token = rules().sign(&key(), &c).unwrap();
            assert_eq!(verify(&token), Err(expected));
        }
    }

    #[test]
    fn refresh_token_is_not_an_access_token() {
        let token = rules().sign(&key(), &claims(TokenType::Refresh)).unwrap();
        assert_eq!(
            verify(&token),
            Err(TokenError::WrongType {
                expected: TokenType::Access
            })
        );
        assert!(
            rules()
                .verify_signature(&key().public_keys(), &token, TokenType::Refresh, now())
                .is_ok()
        );
    }

    #[test]
    fn unknown_or_missing_kid_is_rejected() {
        let other = SigningKey::parse(&SigningKey::generate("k2").unwrap()).unwrap();
        let token = rules().sign(&other, &claims(TokenType::Access)).unwrap();
        assert_eq!(verify(&token), Err(TokenError::UnknownKeyId("k2".into())));

        let token = rules().sign(&key(), &claims(TokenType::Access)).unwrap();
        let (_, rest) = token.split_once('.').unwrap();
        let no_kid = format!("{}.{rest}", b64(&json!({"alg": "EdDSA", "typ": "JWT"})));
        assert_eq!(verify(&no_kid), Err(TokenError::MissingKeyId));
    }

    #[test]
    fn other_key_claiming_our_kid_is_rejected() {
        let impostor = SigningKey::parse(&SigningKey::generate("k1").unwrap()).unwrap();
        let token = rules().sign(&impostor, &claims(TokenType::Access)).unwrap();
        assert_eq!(verify(&token), Err(TokenError::BadSignature));
    }

    #[test]
    fn kid_selects_among_rotated_keys() {
        let old = key();
        let new = SigningKey::parse(&SigningKey::generate("k2").unwrap()).unwrap();
        let keys = old.public_keys().merge(new.public_keys());
        for signer in [&old, &new] {
            let token = rules().sign(signer, &claims(TokenType::Access)).unwrap();
            assert!(
                rules()
                    .verify_signature(&keys, &token, TokenType::Access, now())
                    .is_ok()
            );
        }
    }

    #[test]
    fn garbage_is_malformed() {
        for token in ["", "abc", "a.b", "a.b.c.d", "!!!.b.c", "e30.e30.e30"] {
            assert!(
                matches!(verify(token), Err(TokenError::Malformed(_))),
                "{token}"
            );
        }
    }

    #[test]
    fn missing_claims_are_malformed() {
        let header = json!({"alg": "EdDSA", "typ": "JWT", "kid": "k1"});
        let payload = json!({"sub": "x", "exp": now() + 60});
        let message = format!("{}.{}", b64(&header), b64(&payload));
        let sig =
            jsonwebtoken::crypto::sign(message.as_bytes(), key().encoding_key(), Algorithm::EdDSA)
                .unwrap();
        assert!(matches!(
            verify(&format!("{message}.{sig}")),
            Err(TokenError::Malformed(_))
        ));
    }
}
