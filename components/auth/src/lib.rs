//! The `auth` component, `/v1/auth/...`: password sign-in (tokens and browser sessions),
//! refresh-token rotation with reuse detection, logout, the caller's principal, self sign-up,
//! user administration, API keys and the public JWKS. One wasm, two components in spin.toml:
//! `auth-signin` serves the routes that sign tokens (token, session, refresh, JWKS) and alone
//! holds the private signing key; `auth` serves the rest without it. Both authenticate callers
//! through the `authn` component dependency, which never sees the signing key.
//!
//! This file is the route table ([`ROUTES`]). The handlers are in `login` (sign-in), `tokens`
//! (refresh, logout, JWKS), `users` and `api_keys`, with `grant` issuing token pairs and
//! `cookies` the browser session's; what clients send is read in `input`, `access` says who may
//! manage what, and `sql` holds the shapes and helpers the statements share.

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
use spingraph_guest::routes::{Call, Respond, Route, Routes};
use spingraph_guest::{ApiError, Ctx, Reply, Result, cors, rate_limit};

/// Every route of the wasm (spin.toml decides which reach `auth-signin` and which `auth`). Each
/// handler starts with how its caller is admitted: the per-IP login limit where credentials are
/// issued, a signed-in principal under the api limit, or nothing for the public keys.
pub static ROUTES: Routes<Respond> = Routes::based(
    "/v1/auth",
    &[
        Route::new("POST", "/v1/auth/token", |c| per_ip(c, login::token)),
        Route::new("POST", "/v1/auth/session", |c| {
            // Login CSRF: a page of another site must not sign the browser in (or overwrite its
            // session); refused before the rate limit counts it or a password is checked.
            cors::require_same_origin(c.ctx, c.req)?;
            per_ip(c, login::session)
        }),
        Route::new("POST", "/v1/auth/refresh", |c| per_ip(c, tokens::refresh)),
        Route::new("POST", "/v1/auth/register", |c| {
            // Hidden entirely (not rate limited either) while sign-up is off.
            if !c.ctx.config.flag("signup_enabled") {
                return Err(ApiError::not_found("No such route."));
            }
            per_ip(c, users::register)
        }),
        Route::new("POST", "/v1/auth/logout", |c| {
            signed_in(c, |p| tokens::logout(c.ctx, c.req, p))
        }),
        Route::new("GET", "/v1/auth/me", |c| signed_in(c, |p| me(c.ctx, p))),
        Route::new("GET", "/v1/auth/users", |c| {
            signed_in(c, |p| users::list(c.ctx, p))
        }),
        Route::new("POST", "/v1/auth/users", |c| {
            signed_in(c, |p| users::create(c.ctx, c.req, p))
        }),
        Route::new("PATCH", "/v1/auth/users/{id}", |c| {
            signed_in(c, |p| users::update(c.ctx, c.req, p, c.param("id")))
        }),
        Route::new("POST", "/v1/auth/users/{id}/unlock", |c| {
            signed_in(c, |p| users::unlock(c.ctx, p, c.param("id")))
        }),
        Route::new("GET", "/v1/auth/api-keys", |c| {
            signed_in(c, |p| api_keys::list(c.ctx, p))
        }),
        Route::new("POST", "/v1/auth/api-keys", |c| {
            signed_in(c, |p| api_keys::create(c.ctx, c.req, p))
        }),
        Route::new("DELETE", "/v1/auth/api-keys/{id}", |c| {
            signed_in(c, |p| api_keys::revoke(c.ctx, p, c.param("id")))
        }),
        Route::new("GET", "/v1/auth/.well-known/jwks.json", jwks),
        Route::unlisted("HEAD", "/v1/auth/.well-known/jwks.json", jwks),
        // Served should a manifest route the root path here (this one does not).
        Route::new("GET", "/.well-known/jwks.json", jwks),
        Route::unlisted("HEAD", "/.well-known/jwks.json", jwks),
    ],
);

/// The response is written by hand (not through `spin_sdk::http::Response`, whose header map
/// holds one value per name) so a session can set several cookies. Exported only on wasm:
/// natively (unit tests, the OpenAPI test reading [`ROUTES`]) the export's `wasi:http/...`
/// symbol name is not valid in a linker version script.
#[cfg_attr(target_arch = "wasm32", spin_sdk::http_component)]
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
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
    let (handler, params) = ROUTES.route(ctx)?;
    handler(&Call { ctx, req, params })
}

/// Credential-issuing operations: the per-IP login limit, failing closed without Redis.
fn per_ip(c: &Call, handler: fn(&Ctx, &Request) -> Result<Reply>) -> Result<Reply> {
    let limit = rate_limit::login(c.ctx)?;
    rate_limit::limited(c.ctx, Some(&limit), || handler(c.ctx, c.req))
}

/// Operations of a signed-in principal, under the per-principal api limit (failed
/// authentications count against the client's auth-failure limit).
fn signed_in(c: &Call, handler: impl FnOnce(&Principal) -> Result<Reply>) -> Result<Reply> {
    spingraph_authn_client::signed_in(c.ctx, c.req, handler)
}

/// The public signing keys: no credential, no limit.
fn jwks(c: &Call) -> Result<Reply> {
    tokens::jwks(c.ctx)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_method_is_405_with_the_methods_of_the_path() {
        for path in ["token", "session", "refresh", "register", "logout"] {
            ROUTES.assert_allow(&format!("GET /v1/auth/{path} -> POST"));
        }
        ROUTES.assert_allow(
            "POST /v1/auth/me -> GET
             DELETE /v1/auth/users -> GET, POST
             DELETE /v1/auth/api-keys -> GET, POST
             GET /v1/auth/users/x -> PATCH
             GET /v1/auth/users/x/unlock -> POST
             GET /v1/auth/api-keys/x -> DELETE
             HEAD /v1/auth/me -> GET",
        );
        // The public keys answer HEAD, but `Allow` has only ever named GET.
        for path in ["/v1/auth/.well-known/jwks.json", "/.well-known/jwks.json"] {
            assert!(ROUTES.find("HEAD", path).is_ok(), "{path}");
            ROUTES.assert_allow(&format!("POST {path} -> GET"));
        }
    }

    #[test]
    fn paths_beside_the_table_are_404() {
        ROUTES.assert_not_found(
            "No such route.",
            "GET /v1/auth
             GET /v1/auth/
             GET /v1/auth/users/x/lock
             GET /v1/entities",
        );
    }
}
