//! Rate limiting in Redis, shared by every instance and replica: a fixed one-minute window per
//! bucket, counted by one `EVAL` round trip (INCR, EXPIRE on the first hit, TTL). Two policies:
//! - login (`POST /token`, `/session`, `/register`, `/refresh`): per client address
//!   ([`Ctx::client_bucket`]: behind `trusted_proxies` the forwarded client, IPv6 by /64),
//!   `login_rate_limit_per_minute` (default 5); Redis down → 503 (fail closed: an attacker must
//!   not get unlimited password guesses by knocking Redis over);
//! - api (everything authenticated): per principal, `api_rate_limit_per_minute` (default 600);
//!   Redis down → not limited (SPEC §6: Postgres-only work keeps working), logged;
//! - auth failures (credential guessing): failed bearer, cookie and API-key authentications per
//!   client address, `auth_failure_limit_per_minute` (default 20); [`AuthFailures`] counts
//!   them and peeks before an API-key lookup; Redis down → not limited, logged.
//!
//! Every bucket lives under its component group's prefix, `ratelimit:<group>:` (the
//! `rate_limit_group` variable, [`Buckets`]): `auth` for auth and auth-signin, `data` for
//! entities and relationships. deploy/redis-acl.conf lets each group's Redis ACL user write only
//! its own prefix, so no group can reset or fill another's windows (a data component can neither
//! lift nor exhaust the sign-in limits). A principal's api window and a client's auth-failure
//! window are therefore counted per group.
//!
//! The api policy is counted by the `authn` component, in the same `EVAL` as the token
//! denylist (one Redis round trip per authenticated request); its result travels with the
//! principal and the route component applies it:
//!
//! ```ignore
//! rate_limit::limited(ctx, principal_limit.as_ref(), || handler(ctx, req))
//! ```

use serde_json::json;
use spin_sdk::redis::{Connection, RedisParameter, RedisResult};

use crate::context::Ctx;
use crate::error::{ApiError, Result};
use crate::redis;
use crate::reply::Reply;
use crate::variables::Config;

/// The window every limit is counted over.
pub const WINDOW_SECS: u64 = 60;
pub const LOGIN_LIMIT_VAR: &str = "login_rate_limit_per_minute";
pub const API_LIMIT_VAR: &str = "api_rate_limit_per_minute";
pub const AUTH_FAILURE_LIMIT_VAR: &str = "auth_failure_limit_per_minute";
/// The component group whose buckets a component (and its `authn`) counts in.
pub const GROUP_VAR: &str = "rate_limit_group";
pub const DEFAULT_LOGIN_LIMIT: u64 = 5;
pub const DEFAULT_API_LIMIT: u64 = 600;
pub const DEFAULT_AUTH_FAILURE_LIMIT: u64 = 20;

/// The Lua function every counting script starts with: `count(key, window)` counts one hit in
/// `key`'s fixed window (INCR, EXPIRE on the first hit, TTL) and returns `{count, seconds until
/// the window resets}`. A macro so scripts (here and in `authn`) are joined with `concat!`.
#[macro_export]
macro_rules! count_window_lua {
    () => {
        "local function count(key, window) \
local n = redis.call('INCR', key) \
local ttl = redis.call('TTL', key) \
if n == 1 or ttl < 0 then redis.call('EXPIRE', key, window) ttl = window end \
return {n, ttl} end "
    };
}

/// `EVAL SCRIPT 1 <key> <window>` → `{count, seconds until the window resets}`.
const SCRIPT: &str = concat!(
    count_window_lua!(),
    "return count(KEYS[1], tonumber(ARGV[1]))"
);

/// `EVAL PEEK_SCRIPT 1 <key> <window>` → `{count so far, seconds until the window resets}`,
/// counting nothing.
const PEEK_SCRIPT: &str = "\
local n = tonumber(redis.call('GET', KEYS[1]) or '0') \
local ttl = redis.call('TTL', KEYS[1]) \
if ttl < 0 then ttl = tonumber(ARGV[1]) end \
return {n, ttl}";

/// One counted request: what the `RateLimit-*` headers report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub limit: u64,
    pub remaining: u64,
    /// Seconds until the window resets.
    pub reset_secs: u64,
    pub exceeded: bool,
}

impl RateLimit {
    /// From the bucket's count after this request.
    pub fn from_count(limit: u64, count: u64, reset_secs: u64) -> RateLimit {
        RateLimit {
            limit,
            remaining: limit.saturating_sub(count),
            reset_secs: reset_secs.max(1),
            exceeded: count > limit,
        }
    }

    /// `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (and `Retry-After` when
    /// exceeded).
    pub fn apply(&self, reply: &mut Reply) {
        reply.set_header("ratelimit-limit", &self.limit.to_string());
        reply.set_header("ratelimit-remaining", &self.remaining.to_string());
        reply.set_header("ratelimit-reset", &self.reset_secs.to_string());
        if self.exceeded {
            reply.set_header("retry-after", &self.reset_secs.to_string());
        }
    }

    pub fn error(&self) -> ApiError {
        ApiError::TooManyRequests {
            retry_after_secs: self.reset_secs,
        }
    }
}

/// Count one request in `key`'s window.
pub fn hit(conn: &Connection, key: &str, limit: u64) -> Result<RateLimit> {
    let (count, ttl) = eval(conn, SCRIPT, key)?;
    Ok(RateLimit::from_count(limit, count, ttl))
}

/// `{count, ttl}` of a window script.
fn eval(conn: &Connection, script: &str, key: &str) -> Result<(u64, u64)> {
    let results = redis::eval(
        conn,
        script,
        &[key],
        &[RedisParameter::Int64(WINDOW_SECS as i64)],
    )?;
    window_answer(&results)
}

/// The `{count, ttl}` a counting script returns.
pub fn window_answer(results: &[RedisResult]) -> Result<(u64, u64)> {
    match results {
        [RedisResult::Int64(count), RedisResult::Int64(ttl), ..] => {
            Ok(((*count).max(0) as u64, (*ttl).max(1) as u64))
        }
        other => Err(ApiError::unavailable(
            "Redis",
            format!("unexpected rate-limit answer: {other:?}"),
        )),
    }
}

/// The buckets of one component group: keys under `ratelimit:<group>:`, the prefix its Redis
/// ACL user alone may write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buckets {
    group: String,
}

impl Buckets {
    /// The group named by `rate_limit_group` (spin.toml sets it on every route component; their
    /// `authn` inherits it). Unset or not `[a-z0-9_-]{1,32}` is a 503 naming the variable: a
    /// component must never count in a namespace its ACL user may not write, nor in another's.
    pub fn of(config: &Config) -> Result<Buckets> {
        Buckets::named(&config.require(GROUP_VAR)?)
    }

    fn named(group: &str) -> Result<Buckets> {
        let group = group.trim();
        let valid = (1..=32).contains(&group.len())
            && group
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !valid {
            return Err(ApiError::unavailable(
                "configuration",
                format!("variable {GROUP_VAR} must be 1 to 32 of a-z, 0-9, _ and -"),
            ));
        }
        Ok(Buckets {
            group: group.to_string(),
        })
    }

    /// The bucket key. The limit is part of it so deployments (and test runs) that share a
    /// Redis but configure different limits never count into each other's windows.
    pub fn key(&self, policy: &str, limit: u64, subject: &str) -> String {
        format!("ratelimit:{}:{policy}:{limit}:{subject}", self.group)
    }

    /// The api policy's bucket of one principal.
    pub fn api(&self, limit: u64, principal_id: &str) -> String {
        self.key("api", limit, principal_id)
    }
}

/// The login policy, per client IP. Redis unavailable (or the group unset) → `Err(503)`.
pub fn login(ctx: &Ctx) -> Result<RateLimit> {
    let limit = ctx
        .config
        .parse_or(LOGIN_LIMIT_VAR, DEFAULT_LOGIN_LIMIT)?
        .max(1);
    let buckets = Buckets::of(&ctx.config)?;
    let ip = ctx.client_bucket().unwrap_or_else(|| "unknown".to_string());
    let conn = redis::connect(ctx)?;
    hit(&conn, &buckets.key("login", limit, &ip), limit)
}

/// The api policy's limit (per principal, per window), from `api_rate_limit_per_minute`.
pub fn api_limit(config: &Config) -> Result<u64> {
    Ok(config.parse_or(API_LIMIT_VAR, DEFAULT_API_LIMIT)?.max(1))
}

/// The auth-failure policy: failed authentications of one client address within a window.
/// Only failures count, so a client presenting valid credentials is never limited by it; past
/// the limit a failing credential gets 429 instead of 401, and an API key gets 429 before its
/// database lookup (whether it is valid cannot be known without one).
pub struct AuthFailures {
    key: String,
    limit: u64,
}

impl AuthFailures {
    /// The bucket of this request's client address within `realm` (a deployment: buckets of
    /// deployments that share a Redis stay apart), in the component's group. `None` when the
    /// limit or the group is misconfigured (logged).
    pub fn of_client(ctx: &Ctx, realm: &str) -> Option<AuthFailures> {
        let configured = ctx
            .config
            .parse_or(AUTH_FAILURE_LIMIT_VAR, DEFAULT_AUTH_FAILURE_LIMIT)
            .and_then(|limit| Ok((limit, Buckets::of(&ctx.config)?)));
        match configured {
            Ok((limit, buckets)) => {
                let limit = limit.max(1);
                let ip = ctx.client_bucket().unwrap_or_else(|| "unknown".to_string());
                Some(AuthFailures {
                    key: buckets.key("authfail", limit, &format!("{realm}:{ip}")),
                    limit,
                })
            }
            Err(err) => {
                skipped(ctx, &err);
                None
            }
        }
    }

    /// The failures so far; `exceeded` when one more may not be evaluated. Counts nothing.
    pub fn peek(&self, ctx: &Ctx) -> Option<RateLimit> {
        let (count, ttl) = self.run(ctx, PEEK_SCRIPT)?;
        Some(RateLimit {
            limit: self.limit,
            remaining: self.limit.saturating_sub(count),
            reset_secs: ttl.max(1),
            exceeded: count >= self.limit,
        })
    }

    /// Count one failure; `exceeded` once past the limit.
    pub fn count(&self, ctx: &Ctx) -> Option<RateLimit> {
        let (count, ttl) = self.run(ctx, SCRIPT)?;
        Some(RateLimit::from_count(self.limit, count, ttl))
    }

    fn run(&self, ctx: &Ctx, script: &str) -> Option<(u64, u64)> {
        let attempt = || eval(&redis::connect(ctx)?, script, &self.key);
        attempt().map_err(|err| skipped(ctx, &err)).ok()
    }
}

fn skipped(ctx: &Ctx, err: &ApiError) {
    ctx.warn(
        "rate limit skipped: redis unavailable",
        json!({"error": err.internal_detail().unwrap_or_else(|| err.to_string())}),
    );
}

/// Run `handler` unless the limit is exceeded (429), rendering its error here so the
/// `RateLimit-*` headers go on every answer, errors included.
pub fn limited(
    ctx: &Ctx,
    limit: Option<&RateLimit>,
    handler: impl FnOnce() -> Result<Reply>,
) -> Result<Reply> {
    let result = match limit {
        Some(l) if l.exceeded => Err(l.error()),
        _ => handler(),
    };
    let mut reply = result.unwrap_or_else(|err| crate::render_error(ctx, &err));
    if let Some(l) = limit {
        l.apply(&mut reply);
    }
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use super::*;
    use spin_sdk::http::{Method, Request};

    #[test]
    fn counts_within_the_limit_leave_remaining() {
        let l = RateLimit::from_count(5, 1, 60);
        assert_eq!((l.remaining, l.exceeded), (4, false));
        let l = RateLimit::from_count(5, 5, 12);
        assert_eq!((l.remaining, l.exceeded, l.reset_secs), (0, false, 12));
    }

    #[test]
    fn the_request_after_the_limit_is_exceeded() {
        let l = RateLimit::from_count(5, 6, 30);
        assert!(l.exceeded);
        assert_eq!(l.remaining, 0);
        assert_eq!(
            l.error(),
            ApiError::TooManyRequests {
                retry_after_secs: 30
            }
        );
    }

    #[test]
    fn limited_reply_carries_ratelimit_headers_and_retry_after() {
        let req = Request::builder()
            .method(Method::Post)
            .uri("/v1/auth/token")
            .build();
        let ctx = Ctx::build("auth", &req, Config::fixed(&[]));
        let over = RateLimit::from_count(5, 7, 42);
        let reply = limited(&ctx, Some(&over), || panic!("handler must not run")).unwrap();
        assert_eq!(reply.status(), 429);
        assert_eq!(reply.header_value("retry-after"), Some("42"));
        assert_eq!(reply.header_value("ratelimit-limit"), Some("5"));
        assert_eq!(reply.header_value("ratelimit-remaining"), Some("0"));
        assert_eq!(reply.header_value("ratelimit-reset"), Some("42"));

        let under = RateLimit::from_count(5, 2, 42);
        let reply = limited(&ctx, Some(&under), || Err(ApiError::unauthorized("no"))).unwrap();
        assert_eq!(reply.status(), 401);
        assert_eq!(reply.header_value("ratelimit-remaining"), Some("3"));
        assert_eq!(reply.header_value("retry-after"), None);
    }

    #[test]
    fn bucket_keys_separate_groups_policies_limits_and_subjects() {
        let auth = Buckets::of(&Config::fixed(&[(GROUP_VAR, "auth")])).unwrap();
        let data = Buckets::of(&Config::fixed(&[(GROUP_VAR, "data")])).unwrap();
        assert_eq!(
            auth.key("login", 5, "127.0.0.1"),
            "ratelimit:auth:login:5:127.0.0.1"
        );
        assert_eq!(data.api(600, "u1"), "ratelimit:data:api:600:u1");
        assert_ne!(auth.api(5, "a"), data.api(5, "a"));
        assert_ne!(auth.key("login", 5, "a"), auth.key("api", 5, "a"));
        assert_ne!(auth.key("login", 5, "a"), auth.key("login", 6, "a"));
    }

    #[test]
    fn a_group_that_is_unset_or_could_escape_its_prefix_is_503() {
        for bad in [None, Some(""), Some("auth:login"), Some("Data"), Some("a*")] {
            let pairs: Vec<(&str, &str)> = bad.map(|g| (GROUP_VAR, g)).into_iter().collect();
            let err = Buckets::of(&Config::fixed(&pairs)).unwrap_err();
            assert_eq!(err.status(), 503, "{bad:?}");
            assert!(
                err.internal_detail()
                    .unwrap_or_default()
                    .contains(GROUP_VAR),
                "{bad:?}: {err:?}"
            );
        }
    }
}
