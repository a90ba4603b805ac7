//! The `authn` library component: exports `spingraph:api/authn` and answers "who is calling?"
//! from a request's method and headers. Route components (auth, entities, relationships) import
//! it as a Spin component dependency, so replacing this one wasm changes authentication
//! everywhere without rebuilding them.
//!
//! Credentials, in order of precedence: `Authorization: Bearer <jwt>`, `Authorization: ApiKey
//! <key>`, `X-API-Key: <key>`, the `__Host-sg_access` session cookie. It reads only public keys
//! (`jwt_public_keys`); the private signing key belongs to `auth-signin` alone (spin.toml), and
//! no `authn` dependency inherits it.
//!
//! It also counts each authenticated request against the principal's api rate limit, in the
//! same Redis round trip as the revocation check (the answer travels in `principal.rate-limit`),
//! so a route component makes no Redis call of its own for a request that authenticates.

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "spingraph:api/authn-provider",
        // The principal's types and their conversions are identity's (one definition).
        with: { "spingraph:api/types@1.0.0": spingraph_identity::wit::types },
    });
}

mod api_key;
mod credential;
mod token;

use bindings::exports::spingraph::api::authn::Guest;
use credential::Presented;
use spingraph_guest::db::{DATABASE_URL, Db};
use spingraph_guest::{ApiError, Config};
use spingraph_identity::wit::types::{AuthError, Principal};

// Constructed only by the wasm export glue.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Authn;

impl Guest for Authn {
    fn authenticate(
        method: String,
        headers: Vec<(String, String)>,
    ) -> Result<Principal, AuthError> {
        let config = Config::spin();
        let request_id = credential::request_id(&headers);
        match credential::presented(&method, &headers)? {
            Presented::Bearer(jwt) => token::authenticate(&config, &request_id, jwt, None),
            Presented::Cookie { jwt, csrf } => {
                token::authenticate(&config, &request_id, jwt, Some(csrf))
            }
            Presented::ApiKey(key) => api_key::authenticate(&config, &request_id, key),
        }
    }
}

// Native builds (unit tests) cannot link export names containing `:`.
#[cfg(target_arch = "wasm32")]
bindings::export!(Authn with_types_in bindings);

/// A dependency problem as the WIT error (the route component answers 503).
fn unavailable(err: ApiError) -> AuthError {
    AuthError::Unavailable(
        err.internal_detail()
            .unwrap_or_else(|| err.detail(true).to_string()),
    )
}

/// One Postgres connection from the inherited `database_url`.
fn db(config: &Config) -> Result<Db, AuthError> {
    let url = config.require(DATABASE_URL).map_err(unavailable)?;
    Db::open(&url).map_err(unavailable)
}

fn invalid(reason: impl Into<String>) -> AuthError {
    AuthError::InvalidCredentials(reason.into())
}
