//! Authentication for route components: calls the `authn` component dependency through the
//! `spingraph:api/authn@1.0.0` import and turns its answer into an `identity::Principal` or an
//! `ApiError` (401 unauthenticated, 403 CSRF failure, 503 dependency down).
//!
//! ```ignore
//! let principal = spingraph_authn_client::authenticate_ctx(ctx, req)?;
//! spingraph_authn_client::require_scope(&principal, Scope::EntitiesWrite)?;
//! ```

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "spingraph:api/authn-client",
    });
}

use bindings::spingraph::api::authn;
use bindings::spingraph::api::types::{self as wit, AuthError};
use serde_json::json;
use spin_sdk::http::Request;
use spingraph_guest::{ApiError, Ctx};

pub use spingraph_identity::{Credential, Principal, Role, Scope};

/// The detail of every 401: the same for every reason, so it tells an attacker nothing.
pub const UNAUTHENTICATED: &str = "Missing or invalid credentials.";

/// Authenticate `req` by its method and headers.
pub fn authenticate(req: &Request) -> Result<Principal, ApiError> {
    call(req).map_err(|e| to_api_error(&e))
}

/// [`authenticate`], logging why a request was refused (never the credential) with its id.
pub fn authenticate_ctx(ctx: &Ctx, req: &Request) -> Result<Principal, ApiError> {
    call(req).map_err(|e| {
        match &e {
            AuthError::MissingCredentials => {}
            AuthError::InvalidCredentials(reason) => ctx.info(
                "authentication failed",
                json!({"reason": reason, "ip": ctx.client_ip()}),
            ),
            AuthError::CsrfFailed => ctx.warn(
                "csrf check failed",
                json!({"path": ctx.path, "ip": ctx.client_ip()}),
            ),
            // Logged by `serve` as a 503 with its internal detail.
            AuthError::Unavailable(_) => {}
        }
        to_api_error(&e)
    })
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

fn call(req: &Request) -> Result<Principal, AuthError> {
    let headers: Vec<(String, String)> = req
        .headers()
        .filter_map(|(name, value)| Some((name.to_string(), value.as_str()?.to_string())))
        .collect();
    let method = req.method().to_string().to_ascii_uppercase();
    let principal = authn::authenticate(&method, &headers)?;
    from_wit(principal)
}

fn to_api_error(err: &AuthError) -> ApiError {
    match err {
        AuthError::MissingCredentials | AuthError::InvalidCredentials(_) => {
            ApiError::unauthorized(UNAUTHENTICATED)
        }
        AuthError::CsrfFailed => ApiError::forbidden(
            "Cookie-authenticated requests that change state need an X-CSRF-Token header matching the sg_csrf cookie.",
        ),
        AuthError::Unavailable(why) => ApiError::unavailable("authentication", why.clone()),
    }
}

fn from_wit(p: wit::Principal) -> Result<Principal, AuthError> {
    let user_id = uuid::Uuid::parse_str(&p.user_id).map_err(|_| {
        AuthError::Unavailable(format!("authn returned a bad user id: {}", p.user_id))
    })?;
    Ok(Principal {
        user_id,
        email: p.email,
        role: match p.role {
            wit::Role::Admin => Role::Admin,
            wit::Role::User => Role::User,
        },
        scopes: p.scopes.iter().filter_map(|s| s.parse().ok()).collect(),
        credential: match p.credential {
            wit::CredentialKind::Bearer => Credential::Bearer,
            wit::CredentialKind::Cookie => Credential::Cookie,
            wit::CredentialKind::ApiKey => Credential::ApiKey,
        },
        token_id: p.token_id,
        expires_at: p.expires_at,
        session_id: p.session_id.and_then(|s| uuid::Uuid::parse_str(&s).ok()),
    })
}
