"""Rate limits as crates/guest/src/rate_limit.rs keeps them: a fixed one-minute window per bucket
in Redis (through `fermyon:spin/redis@2.0.0`, the `redis_url` variable), counted by one `EVAL`.
Here: the `RateLimit-*` headers and 429 of a counted limit, and the auth-failure policy
(`AuthFailures`: failed authentications per client address, `auth_failure_limit_per_minute`),
in the same buckets as the Rust components: same key, same scripts, so failures on any route of
the component group count together. Redis unavailable: logged, not limited."""

import re
from dataclasses import dataclass
from hashlib import sha256

from componentize_py_types import Err
from wit_world.imports import redis

from errors import ApiError

WINDOW_SECS = 60
AUTH_FAILURE_LIMIT_VAR = "auth_failure_limit_per_minute"
DEFAULT_AUTH_FAILURE_LIMIT = 20
GROUP_VAR = "rate_limit_group"

# rate_limit.rs's `count_window_lua!` + `SCRIPT` and `PEEK_SCRIPT`, character for character.
COUNT_SCRIPT = (
    "local function count(key, window) "
    "local n = redis.call('INCR', key) "
    "local ttl = redis.call('TTL', key) "
    "if n == 1 or ttl < 0 then redis.call('EXPIRE', key, window) ttl = window end "
    "return {n, ttl} end "
    "return count(KEYS[1], tonumber(ARGV[1]))"
)
PEEK_SCRIPT = (
    "local n = tonumber(redis.call('GET', KEYS[1]) or '0') "
    "local ttl = redis.call('TTL', KEYS[1]) "
    "if ttl < 0 then ttl = tonumber(ARGV[1]) end "
    "return {n, ttl}"
)

_GROUP = re.compile(r"[a-z0-9_-]{1,32}")
_U64 = re.compile(r"\+?[0-9]+")


@dataclass(frozen=True)
class RateLimit:
    """One counted request: what the `RateLimit-*` headers report."""

    limit: int
    remaining: int
    reset_secs: int
    exceeded: bool

    @staticmethod
    def from_count(limit, count, reset_secs):
        return RateLimit(limit, max(limit - count, 0), max(reset_secs, 1), count > limit)

    @staticmethod
    def of_principal(limit):
        """The api limit authn counted (its WIT record); None when Redis was unavailable to it."""
        if limit is None:
            return None
        return RateLimit(limit.limit, limit.remaining, max(limit.reset_seconds, 1), limit.exceeded)

    def headers(self):
        """`RateLimit-Limit`, `-Remaining`, `-Reset` (and `Retry-After` when exceeded)."""
        headers = [
            ("ratelimit-limit", str(self.limit)),
            ("ratelimit-remaining", str(self.remaining)),
            ("ratelimit-reset", str(self.reset_secs)),
        ]
        if self.exceeded:
            headers.append(("retry-after", str(self.reset_secs)))
        return headers

    def error(self):
        return ApiError.too_many_requests(self.reset_secs)


def realm(ctx):
    """The deployment a request belongs to (authn-client's `realm`): the first 16 hex digits of
    the SHA-256 of `jwt_public_keys`, so deployments sharing a Redis count apart."""
    return sha256((ctx.var("jwt_public_keys") or "").encode()).hexdigest()[:16]


class AuthFailures:
    """The failed authentications of one client address within a window. Only failures count;
    past the limit a failing credential gets 429, and an API key 429 before its lookup."""

    def __init__(self, key, limit):
        self.key = key
        self.limit = limit

    @staticmethod
    def of_client(ctx):
        """This request's client bucket in the component's group (`ratelimit:<group>:authfail:
        <limit>:<realm>:<client>`); None when the limit or the group is misconfigured (logged)."""
        try:
            limit = max(_parse_u64(ctx, AUTH_FAILURE_LIMIT_VAR, DEFAULT_AUTH_FAILURE_LIMIT), 1)
            group = _group(ctx)
        except ApiError as err:
            _skipped(ctx, err)
            return None
        client = ctx.client_bucket() or "unknown"
        return AuthFailures(f"ratelimit:{group}:authfail:{limit}:{realm(ctx)}:{client}", limit)

    def peek(self, ctx):
        """The failures so far, counting nothing; `exceeded` when one more may not be evaluated."""
        answer = self._run(ctx, PEEK_SCRIPT)
        if answer is None:
            return None
        count, ttl = answer
        return RateLimit(self.limit, max(self.limit - count, 0), max(ttl, 1), count >= self.limit)

    def count(self, ctx):
        """Count one failure; `exceeded` once past the limit."""
        answer = self._run(ctx, COUNT_SCRIPT)
        if answer is None:
            return None
        return RateLimit.from_count(self.limit, *answer)

    def _run(self, ctx, script):
        try:
            return _eval(ctx, script, self.key)
        except ApiError as err:
            _skipped(ctx, err)
            return None


def _eval(ctx, script, key):
    """`EVAL script 1 key 60` → `(count, ttl)`; an ApiError (503, Redis) when it cannot."""
    url = ctx.var("redis_url")
    if url is None:
        raise ApiError.unavailable("configuration", "variable redis_url is not set")
    params = [
        redis.RedisParameter_Binary(script.encode()),
        redis.RedisParameter_Int64(1),
        redis.RedisParameter_Binary(key.encode()),
        redis.RedisParameter_Int64(WINDOW_SECS),
    ]
    try:
        with redis.Connection.open(url) as conn:
            results = conn.execute("EVAL", params)
    except Err as e:
        raise ApiError.unavailable("Redis", _describe(e.value)) from None
    return window_answer(results)


def window_answer(results):
    """The `(count, ttl)` a window script returns."""
    if (
        len(results) >= 2
        and isinstance(results[0], redis.RedisResult_Int64)
        and isinstance(results[1], redis.RedisResult_Int64)
    ):
        return max(results[0].value, 0), max(results[1].value, 1)
    raise ApiError.unavailable("Redis", f"unexpected rate-limit answer: {results!r}")


def _describe(error):
    """redis.rs's `map_redis_error` wording."""
    if isinstance(error, redis.Error_Other):
        return error.value
    if isinstance(error, redis.Error_InvalidAddress):
        return "invalid address"
    if isinstance(error, redis.Error_TooManyConnections):
        return "too many connections"
    return "unexpected value type"


def _parse_u64(ctx, name, default):
    raw = ctx.var(name)
    if raw is None:
        return default
    if not _U64.fullmatch(raw.strip()) or int(raw) >= 1 << 64:
        raise ApiError.unavailable("configuration", f"variable {name} is invalid")
    return int(raw)


def _group(ctx):
    """`rate_limit_group`: 1 to 32 of a-z, 0-9, _ and - (the prefix its Redis ACL user writes)."""
    group = ctx.var(GROUP_VAR)
    if group is None:
        raise ApiError.unavailable("configuration", f"variable {GROUP_VAR} is not set")
    group = group.strip()
    if not _GROUP.fullmatch(group):
        raise ApiError.unavailable(
            "configuration", f"variable {GROUP_VAR} must be 1 to 32 of a-z, 0-9, _ and -"
        )
    return group


def _skipped(ctx, err):
    ctx.log("warn", "rate limit skipped: redis unavailable", error=err.internal_detail())
