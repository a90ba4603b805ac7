"""The reports component's entry point (`wasi:http/incoming-handler`): its routes as a table,
then crates/guest's `serve` in Python: the request context, CORS, the handler, errors rendered
as problem+json, `x-request-id` on every answer.

Routes:
  GET /v1/reports/types   live entity counts per type of the signed-in principal's own
                          entities (scope `entities:read`; an admin sees their own too).

Everything is imported at module level: componentize-py runs this module once at build time and
snapshots the initialised interpreter, so a request imports nothing."""

import json

from componentize_py_types import Ok
from wit_world import exports
from wit_world.imports import wasi_http_types as http

import access
import store
from context import Ctx
from errors import ApiError
from rate_limit import RateLimit

ENTITIES_READ = "entities:read"
ENTITIES_WRITE = "entities:write"

# CORS as crates/guest/src/cors.rs: origins from `cors_allowed_origins`, never `*` with credentials.
CORS_ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
CORS_ALLOWED_HEADERS = (
    "authorization, content-type, x-request-id, x-csrf-token, x-api-key, if-match, if-none-match"
)
CORS_EXPOSED_HEADERS = (
    "x-request-id, etag, location, retry-after, ratelimit-limit, ratelimit-remaining, "
    "ratelimit-reset"
)
CORS_MAX_AGE_SECS = "600"

# A body is written in chunks no larger than wasi:io's `blocking-write-and-flush` accepts.
WRITE_CHUNK = 4096


class Reply:
    def __init__(self, status, body=None, content_type="application/json", headers=()):
        self.status = status
        self.body = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        self.headers = {}
        if body is not None:
            self.headers["content-type"] = content_type
        for name, value in headers:
            self.headers[name] = value


def type_report(ctx):
    """GET /v1/reports/types: `{owner_id, total, types: [{type, count}]}`."""
    principal = access.authenticate(ctx)
    # The api limit authn counted; none when Redis was unavailable to it (not limited).
    limit = RateLimit.of_principal(principal.rate_limit)
    limit_headers = limit.headers() if limit is not None else []
    try:
        access.within_limit(limit)
        access.require_read_scope(principal, ENTITIES_READ, ENTITIES_WRITE)
        with store.connect(ctx) as conn:
            types = store.type_counts(conn, principal.user_id)
    except ApiError as error:
        error.headers.extend(limit_headers)
        raise
    body = {
        "owner_id": principal.user_id,
        "total": sum(t["count"] for t in types),
        "types": types,
    }
    return Reply(200, body, headers=limit_headers)


ROUTES = {
    "/v1/reports/types": {"GET": type_report},
}


def route(ctx):
    methods = ROUTES.get(ctx.path)
    if methods is None:
        raise ApiError.not_found(f"No route for {ctx.path}.")
    handler = methods.get(ctx.method)
    if handler is None:
        raise ApiError.method_not_allowed(sorted(methods))
    return handler(ctx)


def render_error(ctx, error):
    internal = error.internal_detail()
    if internal is not None:
        ctx.log("error", "request failed", status=error.status, error=internal, path=ctx.path)
    return Reply(
        error.status,
        error.problem(ctx.path, ctx.request_id, ctx.debug()),
        content_type="application/problem+json",
        headers=error.headers,
    )


def respond(ctx):
    origin = ctx.header("origin")
    allowed = []
    if origin is not None:
        allowed = [
            o.strip().rstrip("/")
            for o in (ctx.var("cors_allowed_origins") or "").split(",")
            if o.strip()
        ]
    grant = cors_grant(allowed, origin)
    if ctx.method == "OPTIONS" and origin and ctx.header("access-control-request-method"):
        reply = Reply(204)
        if grant:
            reply.headers.update(grant)
            reply.headers["access-control-allow-methods"] = CORS_ALLOWED_METHODS
            reply.headers["access-control-allow-headers"] = CORS_ALLOWED_HEADERS
            reply.headers["access-control-max-age"] = CORS_MAX_AGE_SECS
    else:
        try:
            reply = route(ctx)
        except ApiError as error:
            reply = render_error(ctx, error)
        except Exception as bug:  # noqa: BLE001 - a bug is a logged 500, never a trap
            reply = render_error(ctx, ApiError.internal_error(f"{type(bug).__name__}: {bug}"))
        if grant:
            reply.headers.update(grant)
            reply.headers["access-control-expose-headers"] = CORS_EXPOSED_HEADERS
    reply.headers["vary"] = "Origin"
    reply.headers["x-request-id"] = ctx.request_id
    return reply


def cors_grant(allowed, origin):
    if origin is None:
        return None
    origin = origin.rstrip("/")
    if any(o.lower() == origin.lower() for o in allowed):
        return {"access-control-allow-origin": origin, "access-control-allow-credentials": "true"}
    if "*" in allowed:
        return {"access-control-allow-origin": "*"}
    return None


def method_name(method):
    if isinstance(method, http.Method_Other):
        return method.value.upper()
    return type(method).__name__.removeprefix("Method_").upper()


class IncomingHandler(exports.IncomingHandler):
    def handle(self, request, response_out):
        headers = []
        for name, value in request.headers().entries():
            try:
                headers.append((name.lower(), value.decode("utf-8")))
            except UnicodeDecodeError:
                pass  # not UTF-8: the Rust components skip such values too (`as_str`)
        ctx = Ctx(method_name(request.method()), request.path_with_query() or "/", headers)
        reply = respond(ctx)
        fields = http.Fields.from_list([(n, v.encode()) for n, v in reply.headers.items()])
        response = http.OutgoingResponse(fields)
        response.set_status_code(reply.status)
        body = response.body()
        http.ResponseOutparam.set(response_out, Ok(response))
        with body.write() as stream:
            for start in range(0, len(reply.body), WRITE_CHUNK):
                stream.blocking_write_and_flush(reply.body[start : start + WRITE_CHUNK])
        http.OutgoingBody.finish(body, None)
