//! What every spingraph component needs, in one place: the error enum rendered as problem+json,
//! the request context (request id, variables, logging), route tables, CORS, JSON bodies with
//! limits, replies, files bundled at build time, and Postgres/Redis helpers that follow the
//! released-Spin rules.
//!
//! A component's whole entry point, its routes a table ([`routes`]):
//!
//! ```ignore
//! use spingraph_guest::routes::{Call, Respond, Route, Routes};
//! use spingraph_guest::{serve, Ctx, Reply, Result};
//! use spin_sdk::http::{Request, Response};
//!
//! pub static ROUTES: Routes<Respond> = Routes::new(&[
//!     Route::new("GET", "/v1/health/live", |_| Ok(Reply::ok(&serde_json::json!({"status": "up"})))),
//! ]);
//!
//! #[spin_sdk::http_component]
//! fn handle(req: Request) -> Response {
//!     serve("health", req, route)
//! }
//!
//! fn route(ctx: &Ctx, req: &Request) -> Result<Reply> {
//!     let (handler, params) = ROUTES.find(&ctx.method, &ctx.path)?;
//!     handler(&Call { ctx, req, params })
//! }
//! ```

pub mod assets;
pub mod audit;
pub mod batch;
pub mod body;
pub mod changes;
pub mod client_addr;
pub mod context;
pub mod cors;
pub mod db;
pub mod error;
pub mod etag;
pub mod history;
pub mod idempotency;
pub mod log;
pub mod page;
pub mod rate_limit;
pub mod record;
pub mod redis;
pub mod reply;
pub mod routes;
pub mod slots;
pub mod sql;
pub mod validate;
pub mod variables;
pub mod walk;

pub use context::Ctx;
pub use error::{ApiError, FieldError, Problem, Result};
pub use reply::Reply;
pub use variables::Config;

use serde_json::json;
use spin_sdk::http::{Request, Response};

use crate::context::header;
use crate::cors::Cors;

/// Serve one request: build the [`Ctx`], answer CORS preflights, run `handler`, render errors as
/// problem+json (logging 5xx with their internal detail), add CORS headers and `x-request-id`.
pub fn serve(
    component: &'static str,
    req: Request,
    handler: impl FnOnce(&Ctx, &Request) -> Result<Reply>,
) -> Response {
    let ctx = Ctx::from_request(component, &req);
    let reply = respond(&ctx, &req, handler);
    reply.into_response(&ctx.request_id)
}

/// [`serve`] without the Spin response conversion (what unit tests drive).
pub fn respond(
    ctx: &Ctx,
    req: &Request,
    handler: impl FnOnce(&Ctx, &Request) -> Result<Reply>,
) -> Reply {
    let origin = header(req, "origin");
    // Only cross-origin requests pay for reading the CORS variable.
    let cors = match origin.map(|_| ctx.config.list("cors_allowed_origins")) {
        None => Cors::new(Vec::new()),
        Some(Ok(list)) => Cors::new(list),
        Some(Err(e)) => return render_error(ctx, &e),
    };
    if cors::is_preflight(
        &ctx.method,
        origin,
        header(req, "access-control-request-method"),
    ) {
        return cors.preflight(origin.unwrap_or_default());
    }
    let mut reply = match handler(ctx, req) {
        Ok(reply) => reply,
        Err(err) => render_error(ctx, &err),
    };
    cors.apply(origin, &mut reply);
    reply
}

/// What `handler` answers a bare `method path` request (no headers, no variables) through
/// [`respond`]: the unit tests of components that need no configuration (docs, explorer).
pub fn respond_to(
    component: &'static str,
    method: spin_sdk::http::Method,
    path: &str,
    handler: impl FnOnce(&Ctx, &Request) -> Result<Reply>,
) -> Reply {
    let mut builder = Request::builder();
    builder.method(method).uri(path);
    let req = builder.build();
    let ctx = Ctx::build(component, &req, Config::fixed(&[]));
    respond(&ctx, &req, handler)
}

/// The problem+json reply for `err`; 5xx are logged with their internal detail.
pub fn render_error(ctx: &Ctx, err: &ApiError) -> Reply {
    if let Some(internal) = err.internal_detail() {
        ctx.error(
            "request failed",
            json!({"status": err.status(), "error": internal, "path": ctx.path}),
        );
    }
    Reply::problem(err, &ctx.path, &ctx.request_id, ctx.debug())
}

#[cfg(test)]
mod tests {
    use super::*;
    use spin_sdk::http::Method;

    fn request(method: Method, headers: &[(&str, &str)]) -> Request {
        let mut b = Request::builder();
        b.method(method).uri("/v1/things/x");
        for (k, v) in headers {
            b.header(*k, *v);
        }
        b.build()
    }

    fn ctx(req: &Request, vars: &[(&str, &str)]) -> Ctx {
        Ctx::build("test", req, Config::fixed(vars))
    }

    #[test]
    fn handler_error_becomes_problem_json_with_request_id() {
        let req = request(Method::Get, &[("x-request-id", "rid-1")]);
        let ctx = ctx(&req, &[]);
        let reply = respond(&ctx, &req, |_, _| Err(ApiError::not_found("no thing")));
        assert_eq!(reply.status(), 404);
        let body: serde_json::Value = serde_json::from_slice(reply.body()).unwrap();
        assert_eq!(body["request_id"], "rid-1");
        assert_eq!(body["instance"], "/v1/things/x");
        assert_eq!(body["detail"], "no thing");
        let resp = reply.into_response(&ctx.request_id);
        assert_eq!(resp.header("x-request-id").unwrap().as_str(), Some("rid-1"));
    }

    #[test]
    fn internal_error_hides_detail_unless_debug_variable() {
        let req = request(Method::Get, &[]);
        let hidden = respond(&ctx(&req, &[]), &req, |_, _| {
            Err(ApiError::internal("SQL: x"))
        });
        assert!(!String::from_utf8_lossy(hidden.body()).contains("SQL"));
        let shown = respond(&ctx(&req, &[("debug", "true")]), &req, |_, _| {
            Err(ApiError::internal("SQL: x"))
        });
        assert!(String::from_utf8_lossy(shown.body()).contains("SQL"));
    }

    #[test]
    fn preflight_is_answered_without_running_the_handler() {
        let req = request(
            Method::Options,
            &[
                ("origin", "https://app.example.com"),
                ("access-control-request-method", "POST"),
            ],
        );
        let ctx = ctx(&req, &[("cors_allowed_origins", "https://app.example.com")]);
        let reply = respond(&ctx, &req, |_, _| panic!("handler must not run"));
        assert_eq!(reply.status(), 204);
        assert_eq!(
            reply.header_value("access-control-allow-origin"),
            Some("https://app.example.com")
        );
    }

    #[test]
    fn actual_request_gets_cors_headers_for_allowed_origin() {
        let req = request(Method::Get, &[("origin", "https://app.example.com")]);
        let ctx = ctx(&req, &[("cors_allowed_origins", "https://app.example.com")]);
        let reply = respond(&ctx, &req, |_, _| Ok(Reply::ok(&json!({}))));
        assert_eq!(reply.header_value("vary"), Some("Origin"));
        assert_eq!(
            reply.header_value("access-control-allow-credentials"),
            Some("true")
        );
    }
}
