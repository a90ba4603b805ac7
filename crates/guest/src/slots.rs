//! Concurrency caps for long-running requests, shared by every instance and replica through
//! Redis: a request that may run for seconds (a change-feed long poll) first takes a slot, at
//! most `per_principal` at once for one user and `total` at once in the deployment; past either
//! it is answered 429 at once instead of queueing behind the others.
//!
//! A slot is a member of two sorted sets (the principal's, the deployment's) scored by the time
//! its lease ends, taken and counted by one `EVAL` that first drops lapsed leases. The request
//! gives its slot back when it ends ([`Slot`]'s `Drop`); one that never does (its instance
//! killed at the deadline) stops counting when its lease lapses, so no failure leaks capacity
//! for longer than one lease. Time is Redis's own (`TIME`), the same for every replica.

use spin_sdk::redis::{RedisParameter, RedisResult};

use crate::context::Ctx;
use crate::error::{ApiError, Result};
use crate::redis;

/// The Redis key prefix of every slot set (`deploy/redis-acl.conf` grants it to the data user).
pub const KEY_PREFIX: &str = "slots:";

/// `EVAL TAKE 2 <principal set> <deployment set> <member> <lease ms> <per principal> <total>` →
/// `{1, 0}` when taken, `{0, 1}` when the principal holds its limit, `{0, 2}` when the
/// deployment does.
const TAKE: &str = "\
local t = redis.call('TIME') \
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) \
local lease = tonumber(ARGV[2]) \
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now) \
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now) \
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return {0, 1} end \
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return {0, 2} end \
redis.call('ZADD', KEYS[1], now + lease, ARGV[1]) \
redis.call('ZADD', KEYS[2], now + lease, ARGV[1]) \
redis.call('PEXPIRE', KEYS[1], lease) \
redis.call('PEXPIRE', KEYS[2], lease) \
return {1, 0}";

/// `EVAL GIVE_BACK 2 <principal set> <deployment set> <member>`.
const GIVE_BACK: &str = "\
redis.call('ZREM', KEYS[1], ARGV[1]) \
redis.call('ZREM', KEYS[2], ARGV[1]) \
return 0";

/// One kind of long-running request and its caps.
#[derive(Debug, Clone)]
pub struct Slots {
    /// Names the kind in the keys (`changes`, ...).
    pub kind: &'static str,
    /// The deployment's slot sets stay apart from another deployment's sharing the Redis.
    pub realm: String,
    pub per_principal: u64,
    pub total: u64,
}

/// Which cap refused a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    Principal,
    Deployment,
}

impl Full {
    /// The 429 a refused request gets (retry in a second: a slot frees when any request ends).
    pub fn error(self) -> ApiError {
        ApiError::TooManyRequests {
            retry_after_secs: 1,
        }
    }
}

/// A taken slot; given back when dropped. It holds no Redis connection while the request
/// waits (a pooled one would be as scarce as a Postgres session).
pub struct Slot {
    redis_url: String,
    keys: [String; 2],
    member: String,
}

impl Slots {
    fn keys(&self, principal: &str) -> [String; 2] {
        [
            format!("{KEY_PREFIX}{}:{}:user:{principal}", self.realm, self.kind),
            format!("{KEY_PREFIX}{}:{}:all", self.realm, self.kind),
        ]
    }

    /// Take a slot for `principal` for at most `lease_ms`: `Ok(Ok(slot))`, `Ok(Err(full))` when a
    /// cap is reached, `Err` (503) when Redis cannot be asked.
    pub fn take(
        &self,
        ctx: &Ctx,
        principal: &str,
        lease_ms: u64,
    ) -> Result<std::result::Result<Slot, Full>> {
        let redis_url = ctx.config.require(redis::REDIS_URL)?;
        let conn = redis::open(&redis_url)?;
        let keys = self.keys(principal);
        let member = uuid::Uuid::new_v4().to_string();
        let answer = redis::eval(
            &conn,
            TAKE,
            &[&keys[0], &keys[1]],
            &[
                RedisParameter::Binary(member.as_bytes().to_vec()),
                RedisParameter::Int64(lease_ms.max(1) as i64),
                RedisParameter::Int64(self.per_principal as i64),
                RedisParameter::Int64(self.total as i64),
            ],
        )?;
        match answer.as_slice() {
            [RedisResult::Int64(1), ..] => Ok(Ok(Slot {
                redis_url,
                keys,
                member,
            })),
            [RedisResult::Int64(0), RedisResult::Int64(1)] => Ok(Err(Full::Principal)),
            [RedisResult::Int64(0), RedisResult::Int64(2)] => Ok(Err(Full::Deployment)),
            other => Err(ApiError::unavailable(
                "Redis",
                format!("unexpected slot answer: {other:?}"),
            )),
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        // A slot that cannot be given back lapses with its lease.
        let Ok(conn) = redis::open(&self.redis_url) else {
            return;
        };
        let _ = redis::eval(
            &conn,
            GIVE_BACK,
            &[&self.keys[0], &self.keys[1]],
            &[RedisParameter::Binary(self.member.as_bytes().to_vec())],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_principals_slots_and_the_deployments_live_under_the_prefix_apart_per_realm() {
        let slots = |realm: &str| Slots {
            kind: "changes",
            realm: realm.to_string(),
            per_principal: 4,
            total: 64,
        };
        let [mine, all] = slots("r1").keys("u1");
        assert_eq!(mine, "slots:r1:changes:user:u1");
        assert_eq!(all, "slots:r1:changes:all");
        assert_ne!(slots("r2").keys("u1"), slots("r1").keys("u1"));
        assert_eq!(Full::Principal.error().status(), 429);
    }
}
