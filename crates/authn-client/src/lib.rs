//! Authentication for route components: calls the `authn` component dependency through the
//! `spingraph:api/authn@1.0.0` import and turns its answer into an `identity::Principal` or an
//! `ApiError` (401 unauthenticated, 403 CSRF failure, 429 too many failed authentications,
//! 503 dependency down).
//!
//! Credential guessing is throttled here, in the route component, which knows the client
//! address and can answer 429: every failed authentication counts against the client's
//! `auth_failure_limit_per_minute` bucket, and an API key (whose check costs a Postgres lookup)
//! is refused before `authn` is even asked once the client is past the limit.
//!
//! The per-principal api rate limit is counted by `authn` in the same Redis round trip as its
//! revocation check and comes back with the principal: a request that authenticates costs the
//! route component no Redis call of its own.
//!
//! ```ignore
//! // authenticate, then run the handler under the per-principal api limit
//! spingraph_authn_client::signed_in(ctx, req, |principal| handler(ctx, req, principal))
//! // or, for a handler that applies its own limits
//! let principal = spingraph_authn_client::authenticate_ctx(ctx, req)?;
//! spingraph_authn_client::require_scope(&principal, Scope::EntitiesWrite)?;
//! ```

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "spingraph:api/authn-client",
        // The principal's types and their conversions are identity's (one definition).
        with: { "spingraph:api/types@1.0.0": spingraph_identity::wit::types },
    });
}

use bindings::spingraph::api::authn;
use serde_json::json;
use spin_sdk::http::Request;
use spingraph_guest::rate_limit::{self, AuthFailures, RateLimit};
use spingraph_guest::routes::{Call, Handler, Routes};
use spingraph_guest::{ApiError, Ctx, Reply};
use spingraph_identity::credential::{self, Presented};
use spingraph_identity::wit::types::{self as wit, AuthError};

pub use spingraph_identity::{Credential, Principal, Role, Scope};

/// The detail of every 401: the same for every reason, so it tells an attacker nothing.
pub const UNAUTHENTICATED: &str = "Missing or invalid credentials.";

/// A refused request: the error, and the auth-failure bucket it was counted against (whose
/// `RateLimit-*` headers belong on the answer).
struct Refusal {
    error: ApiError,
    limit: Option<RateLimit>,
}

/// Authenticate `req` by its method and headers, logging why a request was refused (never the
/// credential) with its id, and counting failures against the client's auth-failure limit.
pub fn authenticate_ctx(ctx: &Ctx, req: &Request) -> Result<Principal, ApiError> {
    authenticate_counted(ctx, req)
        .map(|(principal, _)| principal)
        .map_err(|r| r.error)
}

/// Authenticate, then run `handler` under the per-principal api limit. The `RateLimit-*`
/// headers of whichever limit applied go on the answer, errors included.
pub fn signed_in(
    ctx: &Ctx,
    req: &Request,
    handler: impl FnOnce(&Principal) -> Result<Reply, ApiError>,
) -> Result<Reply, ApiError> {
    match authenticate_counted(ctx, req) {
        // `limit` is none when Redis was unavailable to authn (which logged it): not limited.
        Ok((principal, limit)) => rate_limit::limited(ctx, limit.as_ref(), || handler(&principal)),
        Err(Refusal { error, limit }) => rate_limit::limited(ctx, limit.as_ref(), || Err(error)),
    }
}

/// What a component of signed-in routes does with every request: authenticate (failures count
/// against the client's auth-failure limit), count the request against the principal's rate
/// limit (429 when exceeded), then find its row of `routes` (404, or 405 with `Allow`) and
/// [`run`] it. The `RateLimit-*` headers of whichever limit applied go on every answer, errors
/// included.
pub fn serve_routes(
    ctx: &Ctx,
    req: &Request,
    routes: &Routes<Handler<Principal>>,
) -> Result<Reply, ApiError> {
    signed_in(ctx, req, |p| {
        let (handler, params) = routes.route(ctx)?;
        run(handler, &Call { ctx, req, params }, p)
    })
}

/// The principal and the api limit `authn` counted for this request (none: Redis unavailable).
fn authenticate_counted(
    ctx: &Ctx,
    req: &Request,
) -> Result<(Principal, Option<RateLimit>), Refusal> {
    let headers: Vec<(String, String)> = req
        .headers()
        .filter_map(|(name, value)| Some((name.to_string(), value.as_str()?.to_string())))
        .collect();
    let method = req.method().to_string().to_ascii_uppercase();
    // The bucket is only read for an API key (before its lookup) and written on a failure:
    // a valid bearer token or cookie costs no extra round trip.
    let bucket = || AuthFailures::of_client(ctx, &realm(ctx));
    let mut failures = None;
    if let Ok(Presented::ApiKey(_)) = credential::presented(&method, &headers) {
        failures = bucket();
        if let Some(limit) = failures.as_ref().and_then(|f| f.peek(ctx))
            && limit.exceeded
        {
            ctx.warn(
                "authentication refused unchecked: too many failures",
                json!({"ip": ctx.client_ip(), "credential": "api-key"}),
            );
            return Err(Refusal {
                error: limit.error(),
                limit: Some(limit),
            });
        }
    }
    let answer = authn::authenticate(&method, &headers).and_then(from_wit);
    answer.map_err(|e| {
        let mut limit = None;
        match &e {
            AuthError::MissingCredentials => {}
            AuthError::InvalidCredentials(reason) => {
                ctx.info(
                    "authentication failed",
                    json!({"reason": reason, "ip": ctx.client_ip()}),
                );
                limit = failures.or_else(bucket).and_then(|f| f.count(ctx));
            }
            AuthError::CsrfFailed => ctx.warn(
                "csrf check failed",
                json!({"path": ctx.path, "ip": ctx.client_ip()}),
            ),
            // Logged by `serve` as a 503 with its internal detail.
            AuthError::Unavailable(_) => {}
        }
        let error = match &limit {
            Some(l) if l.exceeded => l.error(),
            _ => to_api_error(&e),
        };
        Refusal { error, limit }
    })
}

/// The deployment this request belongs to, for the Redis keys it counts in (auth-failure
/// buckets, long-poll slots): its token-verifying keys (the same in every component of one
/// deployment, different between deployments, and test runs, that share a Redis).
pub fn realm(ctx: &Ctx) -> String {
    let keys = ctx
        .config
        .get("jwt_public_keys")
        .ok()
        .flatten()
        .unwrap_or_default();
    spingraph_identity::hash_secret(&keys)
        .chars()
        .take(16)
        .collect()
}

/// 403 unless the principal holds `scope`.
pub fn require_scope(principal: &Principal, scope: Scope) -> Result<(), ApiError> {
    if principal.has_scope(scope) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "This credential lacks the `{scope}` scope."
        )))
    }
}

/// 403 unless the principal is an admin (role admin, and scope `admin` for API keys).
pub fn require_admin(principal: &Principal) -> Result<(), ApiError> {
    if principal.is_admin() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "This operation requires the admin role.",
        ))
    }
}

/// 403 unless the principal holds `read` or `write` (a resource's write scope implies its read
/// scope); the detail names `read`.
pub fn require_read_scope(
    principal: &Principal,
    read: Scope,
    write: Scope,
) -> Result<(), ApiError> {
    if principal.has_scope(write) {
        return Ok(());
    }
    require_scope(principal, read)
}

/// 403 unless the principal holds `scope` or is an admin: "{what} needs the `{scope}` scope (or an
/// admin)."
pub fn require_scope_or_admin(
    principal: &Principal,
    scope: Scope,
    what: &str,
) -> Result<(), ApiError> {
    if principal.has_scope(scope) || principal.is_admin() {
        return Ok(());
    }
    Err(ApiError::forbidden(format!(
        "{what} needs the `{scope}` scope (or an admin)."
    )))
}

/// A write only admins make (a restore): the `write` scope, then admin ("Only an admin may
/// {what}.").
pub fn require_admin_writer(
    principal: &Principal,
    write: Scope,
    what: &str,
) -> Result<(), ApiError> {
    require_scope(principal, write)?;
    require_admin_to(principal, what)
}

/// [`require_admin`] with a detail naming the operation: "Only an admin may {what}."
pub fn require_admin_to(principal: &Principal, what: &str) -> Result<(), ApiError> {
    require_admin(principal).map_err(|_| ApiError::forbidden(format!("Only an admin may {what}.")))
}

/// The idempotency-key namespace of `principal`'s credential: each API key its own
/// (`api-key:<id>`), a person's bearer tokens and session cookies one (`session`), so a
/// credential never replays an answer another credential of the same user was given.
pub fn replay_namespace(principal: &Principal) -> spingraph_guest::idempotency::Namespace {
    let credential = match (principal.credential, &principal.token_id) {
        (Credential::ApiKey, Some(id)) => format!("api-key:{id}"),
        // authn always names the key; without its id no other credential may share the space
        (Credential::ApiKey, None) => "api-key:?".to_string(),
        (Credential::Bearer | Credential::Cookie, _) => "session".to_string(),
    };
    spingraph_guest::idempotency::Namespace {
        user_id: principal.user_id,
        credential,
    }
}

/// An idempotent write (`Idempotency-Key`): `allowed` — the route's rules that need no row
/// (scope, admin) — first, so a stored answer is replayed only to a credential the route would
/// serve now; then `write` under [`spingraph_guest::idempotency::run`] in the credential's own
/// namespace. Rules that need the row (owner, creator) are the handler's: a replay goes only to
/// the credential that passed them when the answer was made.
/// Runs the handler a route table found for a signed-in `principal`: an answer as it is, a write
/// under [`idempotent`] with its rule.
pub fn run(
    handler: &Handler<Principal>,
    call: &Call,
    principal: &Principal,
) -> Result<Reply, ApiError> {
    match *handler {
        Handler::Answer(answer) => answer(call, principal),
        Handler::Idempotent(rule, write) => idempotent(call.ctx, call.req, principal, rule, |db| {
            write(call, principal, db)
        }),
    }
}

pub fn idempotent(
    ctx: &Ctx,
    req: &Request,
    principal: &Principal,
    allowed: impl FnOnce(&Principal) -> Result<(), ApiError>,
    write: impl FnOnce(&spingraph_guest::db::Db) -> Result<Reply, ApiError>,
) -> Result<Reply, ApiError> {
    allowed(principal)?;
    spingraph_guest::idempotency::run(ctx, req, &replay_namespace(principal), write)
}

/// Whether `principal` owns a resource whose owner (or creator) id is `owner_id` (compared
/// case-insensitively as text), or is an admin: who may change or delete it.
pub fn is_owner_or_admin(principal: &Principal, owner_id: Option<&str>) -> bool {
    principal.is_admin()
        || owner_id.is_some_and(|o| principal.user_id.to_string().eq_ignore_ascii_case(o))
}

fn to_api_error(err: &AuthError) -> ApiError {
    match err {
        AuthError::MissingCredentials | AuthError::InvalidCredentials(_) => {
            ApiError::unauthorized(UNAUTHENTICATED)
        }
        AuthError::CsrfFailed => ApiError::forbidden(
            "Cookie-authenticated requests that change state need an X-CSRF-Token header matching the __Host-sg_csrf cookie.",
        ),
        AuthError::Unavailable(why) => ApiError::unavailable("authentication", why.clone()),
    }
}

/// The principal and the api limit `authn` counted (none: Redis was unavailable to it).
fn from_wit(mut p: wit::Principal) -> Result<(Principal, Option<RateLimit>), AuthError> {
    let limit = p.rate_limit.take().map(|l| RateLimit {
        limit: l.limit,
        remaining: l.remaining,
        reset_secs: l.reset_seconds,
        exceeded: l.exceeded,
    });
    Ok((Principal::try_from(p)?, limit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_api_key_replays_in_its_own_namespace_and_a_persons_sessions_share_one() {
        let mut key = Principal::for_tests(Role::User, Credential::ApiKey, &[Scope::EntitiesRead]);
        key.token_id = Some("k1".into());
        assert_eq!(replay_namespace(&key).credential, "api-key:k1");
        assert_eq!(replay_namespace(&key).user_id, key.user_id);
        let mut bearer = Principal::for_tests(Role::User, Credential::Bearer, Role::User.scopes());
        bearer.token_id = Some("jti".into());
        let mut cookie = bearer.clone();
        cookie.credential = Credential::Cookie;
        assert_eq!(replay_namespace(&bearer), replay_namespace(&cookie));
        assert_eq!(replay_namespace(&bearer).credential, "session");
    }

    #[test]
    fn write_scope_implies_read_scope_and_a_missing_scope_is_403() {
        let (r, w) = (Scope::EntitiesRead, Scope::EntitiesWrite);
        let p = Principal::for_tests(Role::User, Credential::ApiKey, &[Scope::RelationshipsRead]);
        assert_eq!(require_read_scope(&p, r, w).unwrap_err().status(), 403);
        let p = Principal::for_tests(Role::User, Credential::ApiKey, &[r]);
        assert!(require_read_scope(&p, r, w).is_ok());
        let p = Principal::for_tests(Role::User, Credential::ApiKey, &[w]);
        assert!(require_read_scope(&p, r, w).is_ok());
    }

    #[test]
    fn owner_and_admin_may_change_others_and_admin_keys_without_admin_scope_may_not() {
        let user = Principal::for_tests(Role::User, Credential::Bearer, Role::User.scopes());
        let mine = user.user_id.to_string().to_uppercase();
        let other = uuid::Uuid::now_v7().to_string();
        assert!(is_owner_or_admin(&user, Some(&mine)));
        assert!(!is_owner_or_admin(&user, Some(&other)));
        assert!(!is_owner_or_admin(&user, None));
        let admin = Principal::for_tests(Role::Admin, Credential::Bearer, Role::Admin.scopes());
        assert!(is_owner_or_admin(&admin, Some(&other)));
        assert!(is_owner_or_admin(&admin, None));
        assert!(require_admin_to(&admin, "restore").is_ok());
        assert_eq!(
            require_admin_to(&user, "restore").unwrap_err().status(),
            403
        );
        let key = Principal::for_tests(Role::Admin, Credential::ApiKey, &[Scope::EntitiesWrite]);
        assert!(!is_owner_or_admin(&key, Some(&other)));
        assert_eq!(require_admin_to(&key, "restore").unwrap_err().status(), 403);
    }
}
