//! Access tokens (bearer header or session cookie): EdDSA signature with a `kid`-selected public
//! key, claims, the CSRF rule for cookies, then the Redis denylist, with the per-principal api
//! rate limit counted in the same round trip.
//!
//! The token itself is checked by identity's one [`Verifier`]: from the verified-token cache
//! entry when one vouches for this very token, else by its signature; the claims pass the same
//! rules either way.
//!
//! One Redis round trip per request: a single `EVAL` ([`ROUND_TRIP`]) checks the denylist, reads
//! the verified-token cache entry and counts the request in the principal's rate-limit window.
//! Its keys are named from the token's claims read *unverified*; nothing of them is trusted until
//! the verifier vouches for the same token, and the window is counted before that only when a
//! cache entry exists (so forged tokens naming someone else's `sub` cannot use up that user's
//! limit). A token not in the cache is verified in full and then cached in a second round trip,
//! once per token and component group. With the cache off (`token_cache_key` empty) the first round trip counts the window
//! and there is no second.
//!
//! Redis down: the denylist is a security check, but SPEC §6 wants Postgres-only reads and
//! writes to keep working without Redis, so this neither fails open nor closed. It falls back to
//! the durable record in Postgres: the token's session (refresh family) must not be revoked and
//! its user must still exist, be active, hold the token's role and not have moved past the
//! token's generation. Logout, reuse detection, deactivation and demotion all write that record,
//! so they still take effect at once. Only when Postgres is unreachable too is the answer 503.
//! The signature is then verified in full (the cache lives in Redis) and nothing is counted.
//!
//! Demotion and deactivation bump the user's token generation (`gen` claim) rather than record
//! a time: a token issued in the same second as the change is ordered by its generation, not by
//! its 1-second `iat`.

use crate::credential::Csrf;
use crate::{invalid, unavailable};
use serde_json::json;
use spin_sdk::pg4::ParameterValue;
use spin_sdk::redis::{Connection, RedisParameter, RedisResult};
use spingraph_guest::log::{self, Level};
use spingraph_guest::rate_limit::{self, RateLimit};
use spingraph_guest::{ApiError, Config, count_window_lua, redis};
use spingraph_identity::revocation::{self, Standing};
use spingraph_identity::token::unverified_claims;
use spingraph_identity::token_cache::{Slot, TokenCache};
use spingraph_identity::wit::types::{AuthError, Principal, RateLimit as WitLimit};
use spingraph_identity::{
    Claims, Credential, Principal as Who, TokenRules, TokenType, Verifier, VerifyError, unix_now,
};

const COMPONENT: &str = "authn";

/// The variable holding the cache's MAC key (one per component group; empty = no cache).
pub const TOKEN_CACHE_KEY: &str = "token_cache_key";

/// `EVAL ROUND_TRIP 2 <cache entry> <rate-limit bucket> <token gen> <window> <count always:
/// 0|1> <token denylist> <session denylist> <user generation>` → `{refused, count, ttl,
/// entry}`: refused 1 when the denylist refuses the token (nothing counted); count -1 when the
/// window was not counted (no cache entry, and not asked to count always); entry the cache
/// entry, or empty. No nil in the answer, so it survives hosts that drop nil entries from
/// `execute` results. The denylist keys travel as arguments, not KEYS: Redis checks an EVAL's
/// KEYS for read and write, and the data group's ACL user may only read `denylist:*`
/// (deploy/redis-acl.conf), which the script's own EXISTS and GET stay within.
const ROUND_TRIP: &str = concat!(
    count_window_lua!(),
    "if redis.call('EXISTS', ARGV[4], ARGV[5]) > 0 then return {1, -1, 0, ''} end \
local current = redis.call('GET', ARGV[6]) \
if current and tonumber(current) and tonumber(ARGV[1]) < tonumber(current) then \
return {1, -1, 0, ''} end \
local entry = redis.call('GET', KEYS[1]) or '' \
if entry ~= '' or ARGV[3] == '1' then \
local c = count(KEYS[2], tonumber(ARGV[2])) return {0, c[1], c[2], entry} end \
return {0, -1, 0, ''}"
);

/// `EVAL STORE 2 <cache entry> <rate-limit bucket> <entry> <ttl> <window> <count: 0|1>` →
/// `{count, ttl}` (`{-1, 0}` when not asked to count).
const STORE: &str = concat!(
    count_window_lua!(),
    "redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2])) \
if ARGV[4] == '1' then return count(KEYS[2], tonumber(ARGV[3])) end \
return {-1, 0}"
);

/// What verifying a token needs from the inherited variables.
struct Settings {
    rules: TokenRules,
    jwks: String,
    cache: Option<TokenCache>,
    api_limit: u64,
    buckets: rate_limit::Buckets,
}

impl Settings {
    fn read(config: &Config) -> Result<Settings, AuthError> {
        let jwks = config.require("jwt_public_keys").map_err(unavailable)?;
        let rules = TokenRules::from_variables(|name| config.get(name)).map_err(unavailable)?;
        let secret = config
            .get(TOKEN_CACHE_KEY)
            .map_err(unavailable)?
            .unwrap_or_default();
        let cache =
            TokenCache::from_secret(&secret).map_err(|e| AuthError::Unavailable(e.to_string()))?;
        let api_limit = rate_limit::api_limit(config).map_err(unavailable)?;
        let buckets = rate_limit::Buckets::of(config).map_err(unavailable)?;
        Ok(Settings {
            rules,
            jwks,
            cache,
            api_limit,
            buckets,
        })
    }

    /// The JWKS is parsed only when a token is not in the cache.
    fn verifier(&self) -> Verifier<'_> {
        Verifier::with_jwks(&self.rules, &self.jwks, self.cache.as_ref())
    }
}

/// The keys of one request's round trip, named from the token's unverified claims.
struct Keys {
    token: String,
    session: String,
    generation: String,
    bucket: String,
    slot: Option<Slot>,
}

/// The first round trip's answer.
struct FirstTrip {
    refused: bool,
    entry: Option<Vec<u8>>,
    limit: Option<RateLimit>,
}

pub fn authenticate(
    config: &Config,
    request_id: &str,
    jwt: &str,
    cookie: Option<Csrf<'_>>,
) -> Result<Principal, AuthError> {
    let settings = Settings::read(config)?;
    let verifier = settings.verifier();
    let peeked = unverified_claims(jwt).map_err(|e| invalid(e.to_string()))?;
    let user_id = peeked
        .user_id()
        .ok_or_else(|| invalid("token subject is not a user id"))?;
    let keys = Keys {
        token: revocation::token_key(&peeked.jti),
        session: revocation::session_key(peeked.sid.as_deref().unwrap_or("-")),
        generation: revocation::user_generation_key(&peeked.sub),
        bucket: settings
            .buckets
            .api(settings.api_limit, &user_id.to_string()),
        slot: verifier.slot(jwt),
    };
    let redis = redis_url(config).and_then(|url| redis::open(&url));
    let first = redis
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|conn| first_trip(conn, &settings, &keys, peeked.generation));
    let now = unix_now();
    // Without the first trip's answer the cache was not read: nothing to look up or store.
    let cached = match (&first, &keys.slot) {
        (Ok(first), Some(slot)) => Some((slot, first.entry.as_deref())),
        _ => None,
    };
    let verified = verifier
        .verify(jwt, TokenType::Access, cached, now)
        .map_err(|e| match e {
            VerifyError::Token(why) => invalid(why.to_string()),
            VerifyError::Keys(_) => AuthError::Unavailable(e.to_string()),
        })?;
    let claims = verified.claims;
    // The keys above were named from the unverified claims: they must be the verified ones.
    if claims != peeked {
        return Err(invalid("token claims differ from the verified ones"));
    }
    if let Some(csrf) = &cookie
        && !csrf.ok()
    {
        return Err(AuthError::CsrfFailed);
    }
    let limit = match first {
        Ok(first) => {
            if first.refused {
                return Err(invalid("token revoked"));
            }
            match (&redis, verified.new_entry) {
                (Ok(conn), Some(entry)) => {
                    let counted = first.limit.is_some();
                    let stored = store(conn, &settings, &keys, entry, &claims, now, !counted);
                    match stored {
                        Ok(limit) => first.limit.or(limit),
                        Err(err) => {
                            warn(request_id, "token cache not written", &err);
                            first.limit
                        }
                    }
                }
                _ => first.limit,
            }
        }
        Err(redis_error) => {
            warn(
                request_id,
                "redis unavailable; checking revocation in postgres",
                &redis_error,
            );
            if revoked_in_postgres(config, &claims)? {
                return Err(invalid("token revoked"));
            }
            None
        }
    };
    let mut principal = Principal::from(Who {
        user_id,
        email: claims.email,
        role: claims.role,
        scopes: claims.role.scopes().to_vec(),
        credential: if cookie.is_some() {
            Credential::Cookie
        } else {
            Credential::Bearer
        },
        token_id: Some(claims.jti),
        expires_at: Some(claims.exp),
        session_id: claims
            .sid
            .as_deref()
            .and_then(|s| uuid::Uuid::parse_str(s).ok()),
    });
    principal.rate_limit = limit.map(wit_limit);
    Ok(principal)
}

fn redis_url(config: &Config) -> spingraph_guest::Result<String> {
    config.require(redis::REDIS_URL)
}

fn first_trip(
    conn: &Connection,
    settings: &Settings,
    keys: &Keys,
    generation: i64,
) -> spingraph_guest::Result<FirstTrip> {
    let entry_key = keys
        .slot
        .as_ref()
        .map_or("tokencache:-", |s| s.key.as_str());
    let results = redis::eval(
        conn,
        ROUND_TRIP,
        &[entry_key, &keys.bucket],
        &[
            RedisParameter::Int64(generation),
            RedisParameter::Int64(rate_limit::WINDOW_SECS as i64),
            RedisParameter::Int64(i64::from(settings.cache.is_none())),
            RedisParameter::Binary(keys.token.clone().into_bytes()),
            RedisParameter::Binary(keys.session.clone().into_bytes()),
            RedisParameter::Binary(keys.generation.clone().into_bytes()),
        ],
    )?;
    match results.as_slice() {
        [
            RedisResult::Int64(refused),
            RedisResult::Int64(count),
            RedisResult::Int64(ttl),
            entry,
        ] => Ok(FirstTrip {
            refused: *refused != 0,
            entry: match entry {
                RedisResult::Binary(bytes) if !bytes.is_empty() => Some(bytes.clone()),
                _ => None,
            },
            limit: (*count >= 0).then(|| {
                RateLimit::from_count(settings.api_limit, *count as u64, (*ttl).max(1) as u64)
            }),
        }),
        other => Err(ApiError::unavailable(
            "Redis",
            format!("unexpected authentication answer: {other:?}"),
        )),
    }
}

/// Stores a verified token's entry and, when the first trip did not, counts the request.
fn store(
    conn: &Connection,
    settings: &Settings,
    keys: &Keys,
    entry: String,
    claims: &Claims,
    now: i64,
    count: bool,
) -> spingraph_guest::Result<Option<RateLimit>> {
    let Some(slot) = &keys.slot else {
        return Ok(None);
    };
    let results = redis::eval(
        conn,
        STORE,
        &[&slot.key, &keys.bucket],
        &[
            RedisParameter::Binary(entry.into_bytes()),
            RedisParameter::Int64(TokenCache::ttl(claims, &settings.rules, now)),
            RedisParameter::Int64(rate_limit::WINDOW_SECS as i64),
            RedisParameter::Int64(i64::from(count)),
        ],
    )?;
    if !count {
        return Ok(None);
    }
    let (count, ttl) = rate_limit::window_answer(&results)?;
    Ok(Some(RateLimit::from_count(settings.api_limit, count, ttl)))
}

pub fn wit_limit(l: RateLimit) -> WitLimit {
    WitLimit {
        limit: l.limit,
        remaining: l.remaining,
        reset_seconds: l.reset_secs,
        exceeded: l.exceeded,
    }
}

fn warn(request_id: &str, msg: &str, err: &ApiError) {
    log::emit(
        Level::Warn,
        COMPONENT,
        request_id,
        msg,
        json!({"error": err.internal_detail().unwrap_or_default()}),
    );
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
    Ok(revocation::refused_by(standing.as_ref(), claims))
}
