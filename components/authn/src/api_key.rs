//! API keys: a SHA-256 lookup in Postgres, one round trip that also checks expiry, revocation
//! and the owner's standing, and records `last_used_at` (at most once a minute per key).
//!
//! The lookup goes through `api_key_lookup(hash)` (migration 20261206150000), which answers only
//! for the hash presented: the data group's role reads no `api_keys` column, so a compromised
//! data component can neither list keys nor read their hashes.

use crate::token::wit_limit;
use crate::{invalid, unavailable};
use serde::Deserialize;
use serde_json::json;
use spin_sdk::pg4::ParameterValue;
use spingraph_guest::log::{self, Level};
use spingraph_guest::{Config, rate_limit, redis};
use spingraph_identity::wit::types::{AuthError, Principal, RateLimit as WitLimit};
use spingraph_identity::{
    Credential, Principal as Who, Role, Scope, hash_secret, looks_like_api_key,
};

#[derive(Deserialize)]
struct KeyRow {
    id: uuid::Uuid,
    user_id: uuid::Uuid,
    email: String,
    role: String,
    active: bool,
    scopes: Vec<String>,
    revoked: bool,
    expired: bool,
    expires_at: Option<i64>,
}

const KEY_SQL: &str = "\
SELECT (SELECT jsonb_build_object(
          'id', k.id, 'user_id', k.user_id, 'email', u.email, 'role', u.role, 'active', u.active,
          'scopes', to_jsonb(k.scopes),
          'revoked', k.revoked_at IS NOT NULL,
          'expired', k.expires_at IS NOT NULL AND k.expires_at <= now(),
          'expires_at', floor(extract(epoch FROM k.expires_at))::bigint)
        FROM api_key_lookup($1::text) k JOIN users u ON u.id = k.user_id) AS j";

pub fn authenticate(config: &Config, request_id: &str, key: &str) -> Result<Principal, AuthError> {
    if !looks_like_api_key(key) {
        return Err(invalid("malformed api key"));
    }
    let db = crate::db(config)?;
    let row: Option<KeyRow> = db
        .json(KEY_SQL, &[ParameterValue::Str(hash_secret(key))])
        .map_err(unavailable)?;
    let row = row.ok_or_else(|| invalid("unknown api key"))?;
    if row.revoked {
        return Err(invalid("api key revoked"));
    }
    if row.expired {
        return Err(invalid("api key expired"));
    }
    if !row.active {
        return Err(invalid("api key owner is deactivated"));
    }
    let role: Role = row.role.parse().map_err(|_| {
        AuthError::Unavailable(format!("user {} has role {}", row.user_id, row.role))
    })?;
    let mut principal = Principal::from(Who {
        user_id: row.user_id,
        email: row.email,
        role,
        scopes: effective_scopes(role, &row.scopes),
        credential: Credential::ApiKey,
        token_id: Some(row.id.to_string()),
        expires_at: row.expires_at,
        session_id: None,
    });
    principal.rate_limit = counted(config, request_id, &principal.user_id);
    Ok(principal)
}

/// One hit in the principal's api window; `None` when Redis is unavailable (not limited, as
/// SPEC §6 wants; logged).
fn counted(config: &Config, request_id: &str, user_id: &str) -> Option<WitLimit> {
    let attempt = || {
        let limit = rate_limit::api_limit(config)?;
        let bucket = rate_limit::Buckets::of(config)?.api(limit, user_id);
        let conn = redis::open(&config.require(redis::REDIS_URL)?)?;
        rate_limit::hit(&conn, &bucket, limit)
    };
    match attempt() {
        Ok(limit) => Some(wit_limit(limit)),
        Err(err) => {
            log::emit(
                Level::Warn,
                "authn",
                request_id,
                "rate limit skipped: redis unavailable",
                json!({"error": err.internal_detail().unwrap_or_default()}),
            );
            None
        }
    }
}

/// A key grants its scopes only as far as its owner's current role allows: a demoted admin's
/// keys lose `admin` at once.
fn effective_scopes(role: Role, granted: &[String]) -> Vec<Scope> {
    granted
        .iter()
        .filter_map(|s| s.parse::<Scope>().ok())
        .filter(|s| role.scopes().contains(s))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_scopes_are_capped_by_the_owner_role() {
        let granted = vec![
            "admin".to_string(),
            "entities:read".to_string(),
            "bogus".to_string(),
        ];
        assert_eq!(
            effective_scopes(Role::User, &granted),
            vec![Scope::EntitiesRead]
        );
        assert_eq!(
            effective_scopes(Role::Admin, &granted),
            vec![Scope::Admin, Scope::EntitiesRead]
        );
    }
}
