"""Who is calling, through the `authn` component dependency (`spingraph:api/authn@1.0.0`, the
same one the Rust components import), and what they may do: crates/authn-client's answers for
its refusals (401 with the one detail for every reason, 403 for a missing scope or a failed CSRF
check, 503 when authn's dependencies are down) and crates/guest's `RateLimit-*` headers and 429
for the per-principal api limit authn counted in the same Redis round trip.

Not here: crates/authn-client's per-client throttle of failed authentications
(`auth_failure_limit_per_minute`, counted in Redis by the route component). This component
imports no Redis; a credential guessed here is refused as everywhere, but not counted."""

from componentize_py_types import Err
from wit_world.imports import authn
from wit_world.imports import spingraph_api_types as types

from errors import ApiError

CSRF_FAILED = (
    "Cookie-authenticated requests that change state need an X-CSRF-Token header matching the "
    "__Host-sg_csrf cookie."
)


def authenticate(ctx):
    """The principal authn vouches for, or the ApiError refusing the request."""
    headers = list(ctx.headers.items())
    try:
        return authn.authenticate(ctx.method, headers)
    except Err as refused:
        error = refused.value
        if isinstance(error, types.AuthError_InvalidCredentials):
            ctx.log("info", "authentication failed", reason=error.value)
            raise ApiError.unauthorized() from None
        if isinstance(error, types.AuthError_MissingCredentials):
            raise ApiError.unauthorized() from None
        if isinstance(error, types.AuthError_CsrfFailed):
            ctx.log("warn", "csrf check failed", path=ctx.path)
            raise ApiError.forbidden(CSRF_FAILED) from None
        raise ApiError.unavailable("authentication", error.value) from None


def require_read_scope(principal, read, write):
    """403 unless the principal holds `read` or `write` (a write scope implies its read scope).
    Bearer and cookie principals carry every scope of their role, API keys the ones granted."""
    if read in principal.scopes or write in principal.scopes:
        return
    raise ApiError.forbidden(f"This credential lacks the `{read}` scope.")


def rate_limit_headers(limit):
    """`RateLimit-Limit`, `-Remaining`, `-Reset` (and `Retry-After` when exceeded), as
    crates/guest/src/rate_limit.rs writes them; none when Redis was unavailable to authn."""
    if limit is None:
        return []
    reset = max(limit.reset_seconds, 1)
    headers = [
        ("ratelimit-limit", str(limit.limit)),
        ("ratelimit-remaining", str(limit.remaining)),
        ("ratelimit-reset", str(reset)),
    ]
    if limit.exceeded:
        headers.append(("retry-after", str(reset)))
    return headers


def within_limit(principal):
    """429 when this request is over the principal's api limit."""
    limit = principal.rate_limit
    if limit is not None and limit.exceeded:
        raise ApiError.too_many_requests(max(limit.reset_seconds, 1))
