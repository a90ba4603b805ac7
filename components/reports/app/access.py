"""Who is calling, through the `authn` component dependency (`spingraph:api/authn@1.0.0`, the
same one the Rust components import), and what they may do: crates/authn-client's answers for
its refusals (401 with the one detail for every reason, 403 for a missing scope or a failed CSRF
check, 503 when authn's dependencies are down) and crates/guest's `RateLimit-*` headers and 429
for the per-principal api limit authn counted in the same Redis round trip.

Credential guessing is throttled here as in crates/authn-client's `authenticate_counted`, in the
same Redis buckets (rate_limit.py): every failed authentication counts against the client's
`auth_failure_limit_per_minute` bucket, past the limit a failing credential is 429 instead of
401, and an API key (whose check costs authn a Postgres lookup) is refused with 429 before authn
is asked once the client is past the limit."""

from componentize_py_types import Err
from wit_world.imports import authn
from wit_world.imports import spingraph_api_types as types

from errors import ApiError
from rate_limit import AuthFailures

CSRF_FAILED = (
    "Cookie-authenticated requests that change state need an X-CSRF-Token header matching the "
    "__Host-sg_csrf cookie."
)


def authenticate(ctx):
    """The principal authn vouches for, or the ApiError refusing the request (with the
    `RateLimit-*` headers of the auth-failure bucket it was counted against, if any)."""
    # Every field, as the Rust routes pass them (authn reads every `cookie` field).
    headers = ctx.fields
    # The bucket is only read for an API key (before its lookup) and written on a failure: a
    # valid bearer token or cookie costs no extra round trip.
    failures = None
    if presents_api_key(headers):
        failures = AuthFailures.of_client(ctx)
        limit = failures.peek(ctx) if failures is not None else None
        if limit is not None and limit.exceeded:
            ctx.log(
                "warn",
                "authentication refused unchecked: too many failures",
                ip=ctx.client_ip(),
                credential="api-key",
            )
            raise _refusal(limit.error(), limit)
    try:
        return authn.authenticate(ctx.method, headers)
    except Err as refused:
        error = refused.value
    limit = None
    if isinstance(error, types.AuthError_InvalidCredentials):
        ctx.log("info", "authentication failed", reason=error.value, ip=ctx.client_ip())
        failures = failures or AuthFailures.of_client(ctx)
        limit = failures.count(ctx) if failures is not None else None
        refusal = ApiError.unauthorized()
    elif isinstance(error, types.AuthError_MissingCredentials):
        refusal = ApiError.unauthorized()
    elif isinstance(error, types.AuthError_CsrfFailed):
        ctx.log("warn", "csrf check failed", path=ctx.path, ip=ctx.client_ip())
        refusal = ApiError.forbidden(CSRF_FAILED)
    else:
        refusal = ApiError.unavailable("authentication", error.value)
    if limit is not None and limit.exceeded:
        refusal = limit.error()
    raise _refusal(refusal, limit)


def _refusal(error, limit):
    if limit is not None:
        error.headers.extend(limit.headers())
    return error


def presents_api_key(headers):
    """Whether the credential these headers present is an API key, as crates/identity's
    `credential::presented` reads them: `Authorization: ApiKey <key>`, or, without an
    Authorization header, a non-empty `X-API-Key`."""
    values = {}
    for name, value in headers:
        values.setdefault(name, value)  # the first of each, as `credential::presented`
    authorization = values.get("authorization")
    if authorization is not None:
        value = authorization.strip()
        scheme, _, credential = value.partition(" ")
        return bool(credential.strip()) and scheme.lower() == "apikey"
    return bool((values.get("x-api-key") or "").strip())


def require_read_scope(principal, read, write):
    """403 unless the principal holds `read` or `write` (a write scope implies its read scope).
    Bearer and cookie principals carry every scope of their role, API keys the ones granted."""
    if read in principal.scopes or write in principal.scopes:
        return
    raise ApiError.forbidden(f"This credential lacks the `{read}` scope.")


def within_limit(limit):
    """429 when this request is over the principal's api limit (`limit`: RateLimit or None)."""
    if limit is not None and limit.exceeded:
        raise limit.error()
