//! Access tokens (bearer header or session cookie): EdDSA signature with a `kid`-selected public
//! key, claims, the CSRF rule for cookies, then the Redis denylist.
//!
//! Redis down: the denylist is a security check, but SPEC §6 wants Postgres-only reads and
//! writes to keep working without Redis, so this neither fails open nor closed. It falls back to
//! the durable record in Postgres: the token's session (refresh family) must not be revoked and
//! its user must still exist, be active, hold the token's role and not have moved past the
//! token's generation. Logout, reuse detection, deactivation and demotion all write that record,
//! so they still take effect at once. Only when Postgres is unreachable too is the answer 503.
//!
//! Demotion and deactivation bump the user's token generation (`gen` claim) rather than record
//! a time: a token issued in the same second as the change is ordered by its generation, not by
//! its 1-second `iat`.

use crate::bindings::spingraph::api::types::{AuthError, Principal};
use crate::credential::Csrf;
use crate::{invalid, unavailable, wit_principal};
use serde::Deserialize;
use serde_json::json;
use spin_sdk::pg4::ParameterValue;
use spin_sdk::redis::{RedisParameter, RedisResult};
use spingraph_guest::log::{self, Level};
use spingraph_guest::{Config, kv};
use spingraph_identity::{
    Claims, Credential, Principal as Who, PublicKeys, TokenRules, TokenType, revocation,
};

const COMPONENT: &str = "authn";

/// Verifier settings from the inherited variables.
pub fn rules(config: &Config) -> Result<(TokenRules, PublicKeys), AuthError> {
    let jwks = config.require("jwt_public_keys").map_err(unavailable)?;
    let keys = PublicKeys::from_jwks(&jwks)
        .map_err(|e| AuthError::Unavailable(format!("jwt_public_keys: {e}")))?;
    let issuer = config
        .get_or("jwt_issuer", "spingraph")
        .map_err(unavailable)?;
    let audience = config
        .get_or("jwt_audience", "spingraph-api")
        .map_err(unavailable)?;
    Ok((TokenRules::new(issuer, audience), keys))
}

pub fn authenticate(
    config: &Config,
    request_id: &str,
    jwt: &str,
    cookie: Option<Csrf<'_>>,
) -> Result<Principal, AuthError> {
    let (rules, keys) = rules(config)?;
    let claims = rules
        .verify(&keys, jwt, TokenType::Access)
        .map_err(|e| invalid(e.to_string()))?;
    let user_id = claims
        .user_id()
        .ok_or_else(|| invalid("token subject is not a user id"))?;
    if let Some(csrf) = &cookie
        && !csrf.ok()
    {
        return Err(AuthError::CsrfFailed);
    }
    if revoked(config, request_id, &claims)? {
        return Err(invalid("token revoked"));
    }
    Ok(wit_principal(Who {
        user_id,
        email: claims.email.clone(),
        role: claims.role,
        scopes: claims.role.scopes().to_vec(),
        credential: if cookie.is_some() {
            Credential::Cookie
        } else {
            Credential::Bearer
        },
        token_id: Some(claims.jti.clone()),
        expires_at: Some(claims.exp),
        session_id: claims
            .sid
            .as_deref()
            .and_then(|s| uuid::Uuid::parse_str(s).ok()),
    }))
}

fn revoked(config: &Config, request_id: &str, claims: &Claims) -> Result<bool, AuthError> {
    match denylisted(config, claims) {
        Ok(answer) => Ok(answer),
        Err(redis_error) => {
            log::emit(
                Level::Warn,
                COMPONENT,
                request_id,
                "redis unavailable; checking revocation in postgres",
                json!({"error": redis_error}),
            );
            revoked_in_postgres(config, claims)
        }
    }
}

/// One `EVAL` round trip over the token, session and user-generation keys.
fn denylisted(config: &Config, claims: &Claims) -> Result<bool, String> {
    let url = config
        .require(kv::REDIS_URL)
        .map_err(|e| e.internal_detail().unwrap_or_default())?;
    let conn = kv::open(&url).map_err(|e| e.internal_detail().unwrap_or_default())?;
    let session = claims.sid.as_deref().unwrap_or("-");
    let args = vec![
        RedisParameter::Binary(revocation::CHECK_SCRIPT.as_bytes().to_vec()),
        RedisParameter::Int64(3),
        RedisParameter::Binary(revocation::token_key(&claims.jti).into_bytes()),
        RedisParameter::Binary(revocation::session_key(session).into_bytes()),
        RedisParameter::Binary(revocation::user_generation_key(&claims.sub).into_bytes()),
        RedisParameter::Int64(claims.generation),
    ];
    let results = conn.execute("EVAL", &args).map_err(|e| {
        kv::map_redis_error(&e)
            .internal_detail()
            .unwrap_or_default()
    })?;
    match results.first() {
        Some(RedisResult::Int64(n)) => Ok(*n != 0),
        other => Err(format!("unexpected denylist answer: {other:?}")),
    }
}

#[derive(Deserialize)]
struct Standing {
    active: bool,
    role: String,
    generation: i64,
    session_revoked: bool,
}

const STANDING_SQL: &str = "\
SELECT (SELECT jsonb_build_object(
          'active', u.active,
          'role', u.role,
          'generation', u.token_generation,
          'session_revoked', EXISTS (SELECT 1 FROM refresh_tokens r
                                     WHERE r.family_id = $2::uuid AND r.revoked_at IS NOT NULL))
        FROM users u WHERE u.id = $1::uuid) AS j";

fn revoked_in_postgres(config: &Config, claims: &Claims) -> Result<bool, AuthError> {
    let db = crate::db(config)?;
    let session = match claims
        .sid
        .as_deref()
        .and_then(|s| uuid::Uuid::parse_str(s).ok())
    {
        Some(sid) => ParameterValue::Uuid(sid.to_string()),
        None => ParameterValue::DbNull,
    };
    let standing: Option<Standing> = db
        .json(
            STANDING_SQL,
            &[ParameterValue::Uuid(claims.sub.clone()), session],
        )
        .map_err(unavailable)?;
    Ok(match standing {
        None => true,
        Some(s) => {
            !s.active
                || s.session_revoked
                || s.role != claims.role.as_str()
                || s.generation > claims.generation
        }
    })
}
