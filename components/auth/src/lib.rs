//! The `auth` component, `/v1/auth/...`: password sign-in (tokens and browser sessions),
//! refresh-token rotation with reuse detection, logout, the caller's principal, self sign-up,
//! user administration, API keys and the public JWKS. One wasm, two components in spin.toml:
//! `auth-signin` serves the routes that sign tokens (token, session, refresh, JWKS) and alone
//! holds the private signing key; `auth` serves the rest without it. Both authenticate callers
//! through the `authn` component dependency, which never sees the signing key.
//!
//! This file is the route table. The handlers are in `login` (sign-in), `tokens` (refresh,
//! logout, JWKS), `users` and `api_keys`, with `grant` issuing token pairs and `cookies` the
//! browser session's; what clients send is read in `input`, `access` says who may manage what,
//! and `sql` holds the shapes and helpers the statements share.

mod access;
mod api_keys;
mod cookies;
mod grant;
mod input;
mod login;
mod settings;
mod sql;
mod tokens;
mod users;

use serde_json::json;
use spin_sdk::http::conversions::TryFromIncomingRequest;
use spin_sdk::http::{IncomingRequest, Request, ResponseOutparam};
use spingraph_authn_client::Principal;
use spingraph_guest::{ApiError, Ctx, Reply, Result, cors, rate_limit};

/// The response is written by hand (not through `spin_sdk::http::Response`, whose header map
/// holds one value per name) so a session can set several cookies.
#[spin_sdk::http_component]
async fn handle(req: IncomingRequest, out: ResponseOutparam) {
    let response = match Request::try_from_incoming_request(req).await {
        Ok(req) => spingraph_guest::serve("auth", req, route),
        Err(_) => {
            let err = ApiError::bad_request("The request could not be read.");
            Reply::problem(&err, "/v1/auth", "-", false).into_response("-")
        }
    };
    cookies::send(response, out).await;
}

fn route(ctx: &Ctx, req: &Request) -> Result<Reply> {
    if ctx.path == "/.well-known/jwks.json" {
        return match ctx.method.as_str() {
            "GET" | "HEAD" => tokens::jwks(ctx),
            _ => Err(ApiError::MethodNotAllowed(&["GET"])),
        };
    }
    let segments = segments(ctx);
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    match (ctx.method.as_str(), segments.as_slice()) {
        ("POST", ["token"]) => per_ip(ctx, || login::token(ctx, req)),
        ("POST", ["session"]) => {
            // Login CSRF: a page of another site must not sign the browser in (or overwrite its
            // session); refused before the rate limit counts it or a password is checked.
            cors::require_same_origin(ctx, req)?;
            per_ip(ctx, || login::session(ctx, req))
        }
        ("POST", ["refresh"]) => per_ip(ctx, || tokens::refresh(ctx, req)),
        ("POST", ["register"]) => {
            // Hidden entirely (not rate limited either) while sign-up is off.
            if !ctx.config.flag("signup_enabled") {
                return Err(ApiError::not_found("No such route."));
            }
            per_ip(ctx, || users::register(ctx, req))
        }
        ("POST", ["logout"]) => signed_in(ctx, req, |p| tokens::logout(ctx, req, p)),
        ("GET", ["me"]) => signed_in(ctx, req, |p| me(ctx, p)),
        ("GET", ["users"]) => signed_in(ctx, req, |p| users::list(ctx, p)),
        ("POST", ["users"]) => signed_in(ctx, req, |p| users::create(ctx, req, p)),
        ("PATCH", ["users", id]) => signed_in(ctx, req, |p| users::update(ctx, req, p, id)),
        ("POST", ["users", id, "unlock"]) => signed_in(ctx, req, |p| users::unlock(ctx, p, id)),
        ("GET", ["api-keys"]) => signed_in(ctx, req, |p| api_keys::list(ctx, p)),
        ("POST", ["api-keys"]) => signed_in(ctx, req, |p| api_keys::create(ctx, req, p)),
        ("DELETE", ["api-keys", id]) => signed_in(ctx, req, |p| api_keys::revoke(ctx, p, id)),
        ("GET" | "HEAD", [".well-known", "jwks.json"]) => tokens::jwks(ctx),
        (_, path) => Err(match allowed(path) {
            Some(allow) => ApiError::MethodNotAllowed(allow),
            None => ApiError::not_found("No such route."),
        }),
    }
}

/// Where the component is mounted (spin.toml's routes).
const BASE: &str = "/v1/auth";

/// The path below [`BASE`], split: from `spin-path-info` under the `/v1/auth/...` wildcard, and
/// from the full path under the exact routes `auth-signin` serves (whose path info is empty).
fn segments(ctx: &Ctx) -> Vec<String> {
    match ctx.path.strip_prefix(BASE) {
        Some(below) if ctx.path_info.is_empty() && below.starts_with('/') => below
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| spingraph_guest::context::percent_decode(s, false))
            .collect(),
        _ => ctx.segments(),
    }
}

/// The methods a known path accepts (for 405 + `Allow`).
fn allowed(path: &[&str]) -> Option<&'static [&'static str]> {
    Some(match path {
        ["token" | "session" | "refresh" | "register" | "logout"] => &["POST"],
        ["me"] | [".well-known", "jwks.json"] => &["GET"],
        ["users"] | ["api-keys"] => &["GET", "POST"],
        ["users", _] => &["PATCH"],
        ["users", _, "unlock"] => &["POST"],
        ["api-keys", _] => &["DELETE"],
        _ => return None,
    })
}

/// Credential-issuing operations: the per-IP login limit, failing closed without Redis.
fn per_ip(ctx: &Ctx, handler: impl FnOnce() -> Result<Reply>) -> Result<Reply> {
    let limit = rate_limit::login(ctx)?;
    rate_limit::limited(ctx, Some(&limit), handler)
}

/// Operations of a signed-in principal, under the per-principal api limit (failed
/// authentications count against the client's auth-failure limit).
fn signed_in(
    ctx: &Ctx,
    req: &Request,
    handler: impl FnOnce(&Principal) -> Result<Reply>,
) -> Result<Reply> {
    spingraph_authn_client::signed_in(ctx, req, handler)
}

/// What the account's sign-in failures amount to, for its owner: every failure since each
/// network's last success, how many networks are locked out now, and the latest failure.
const SIGN_IN_FAILURES_SQL: &str = concat!(
    "SELECT jsonb_build_object('count', coalesce(sum(failures), 0), ",
    "'locked_networks', count(*) FILTER (WHERE locked_until > now()), ",
    spingraph_guest::sql_timestamps!("last_at" => "max(last_failed_at)"),
    ") AS j FROM sign_in_networks WHERE user_id = $1::uuid AND failures > 0"
);

/// `GET /me`: who the credential speaks for, and (issue 25, 3) what strangers tried on the
/// account: `sign_in_failures` `{count, locked_networks, last_at}`.
fn me(ctx: &Ctx, p: &Principal) -> Result<Reply> {
    let failures: serde_json::Value = spingraph_guest::db::Db::connect(ctx)?
        .value(SIGN_IN_FAILURES_SQL, &[sql::uuid(p.user_id)])?;
    Ok(Reply::ok(&json!({
        "id": p.user_id,
        "email": p.email,
        "role": p.role,
        "scopes": p.scopes,
        "credential": p.credential,
        "expires_at": p.expires_at,
        "sign_in_failures": failures,
    })))
}
