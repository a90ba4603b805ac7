//! The relationships component: typed relationships between entities (`/v1/relationships/...`)
//! and bounded graph walks over them (`/v1/graph/...`). Both route groups map here in spin.toml;
//! every request is authenticated through the `authn` component dependency first. This file is
//! the route table ([`ROUTES`]): the handlers are in `relationship` and `graph`; what clients
//! send is read in `input`, the table is `store` over the statements of `sql`, and `access` says
//! who may do what.

pub mod access;
pub mod graph;
pub mod input;
pub mod relationship;
pub mod sql;
pub mod store;

use spin_sdk::http::Request;
use spingraph_authn_client::Principal;
use spingraph_guest::routes::Handler::{self, Answer, Idempotent};
use spingraph_guest::routes::{Call, Route, Routes};
use spingraph_guest::{Ctx, Reply, Result};
#[cfg(target_arch = "wasm32")]
use {spin_sdk::http::Response, spingraph_guest::serve};

use crate::access::{require_restorer, require_write};
use crate::graph::{neighbors, path};
use crate::relationship::{
    create, create_batch, delete, get, list, relationship_id, restore, update,
};

/// The component's name in spin.toml (logs, `/v1/health`).
pub const COMPONENT: &str = "relationships";

/// Every route of the component: what answers, and for an idempotent write the rule checked
/// before a stored answer can be replayed. GET routes answer HEAD too. One row a route
/// (unformatted: it reads as a table).
#[rustfmt::skip]
pub static ROUTES: Routes<Handler<Principal>> = Routes::new(&[
    Route::new("GET", "/v1/relationships", Answer(list)),
    Route::new("HEAD", "/v1/relationships", Answer(list)),
    Route::new("POST", "/v1/relationships", Idempotent(require_write, create)),
    Route::new("POST", "/v1/relationships/batch", Idempotent(require_write, create_batch)),
    Route::new("GET", "/v1/relationships/{id}", Answer(get)),
    Route::new("HEAD", "/v1/relationships/{id}", Answer(get)),
    Route::new("PATCH", "/v1/relationships/{id}", Idempotent(require_write, update)),
    Route::new("DELETE", "/v1/relationships/{id}", Answer(delete)),
    Route::new("POST", "/v1/relationships/{id}/restore", Idempotent(require_restorer, restore)),
    Route::new("GET", "/v1/graph/neighbors/{entity_id}", Answer(neighbors)),
    Route::new("HEAD", "/v1/graph/neighbors/{entity_id}", Answer(neighbors)),
    Route::new("GET", "/v1/graph/path", Answer(path)),
    Route::new("HEAD", "/v1/graph/path", Answer(path)),
]);

// Exported only for wasm: natively (unit tests) the `wasi:http/incoming-handler` export symbol
// is not a valid linker symbol name.
#[cfg(target_arch = "wasm32")]
#[spin_sdk::http_component]
fn handle(req: Request) -> Response {
    serve(COMPONENT, req, route)
}

/// Authenticate (failures count against the client's auth-failure limit), count the request
/// against the principal's rate limit (429 when exceeded), then dispatch; the `RateLimit-*`
/// headers of whichever limit applied go on every answer, errors included.
pub fn route(ctx: &Ctx, req: &Request) -> Result<Reply> {
    spingraph_authn_client::signed_in(ctx, req, |p| dispatch(ctx, req, p))
}

fn dispatch(ctx: &Ctx, req: &Request, p: &Principal) -> Result<Reply> {
    let (handler, mut params) = ROUTES.route(ctx)?;
    // A path id that is no UUID names no relationship: 404 before any rule or replay.
    if let Some(id) = params.get_mut("id") {
        *id = relationship_id(id)?;
    }
    spingraph_authn_client::run(handler, &Call { ctx, req, params }, p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handler(method: &str, path: &str) -> Option<&'static Handler<Principal>> {
        ROUTES.find(method, path).ok().map(|(h, _)| h)
    }

    #[test]
    fn both_route_groups_are_in_the_table_and_nothing_beside_them() {
        let id = "0192e4a0-0000-7000-8000-000000000001";
        assert!(handler("GET", "/v1/relationships").is_some());
        assert!(handler("HEAD", &format!("/v1/relationships/{id}")).is_some());
        assert!(matches!(
            handler("POST", &format!("/v1/relationships/{id}/restore")),
            Some(Idempotent(..))
        ));
        assert!(handler("GET", "/v1/graph/neighbors/x").is_some());
        assert!(handler("HEAD", "/v1/graph/path").is_some());
        ROUTES.assert_not_found(
            "No such route.",
            "GET /v1/graph
             GET /v1/graphs
             GET /v1/entities
             GET /v1/relationships/a/b",
        );
    }

    #[test]
    fn another_method_is_405_with_head_listed_after_get() {
        ROUTES.assert_allow(
            "PUT /v1/relationships -> GET, HEAD, POST
             POST /v1/relationships/x -> GET, HEAD, PATCH, DELETE
             GET /v1/relationships/x/restore -> POST
             GET /v1/relationships/batch -> POST
             POST /v1/graph/path -> GET, HEAD
             DELETE /v1/graph/neighbors/x -> GET, HEAD",
        );
    }

    #[test]
    fn every_write_that_may_replay_checks_the_write_scope_and_restore_the_admin_role() {
        use spingraph_authn_client::{Credential, Role, Scope};
        let user = Principal::for_tests(Role::User, Credential::Bearer, Role::User.scopes());
        let reader =
            Principal::for_tests(Role::User, Credential::ApiKey, &[Scope::RelationshipsRead]);
        ROUTES.assert_idempotent_rules(
            &reader,
            &user,
            &[
                "POST /v1/relationships",
                "POST /v1/relationships/batch",
                "PATCH /v1/relationships/{id}",
                "POST /v1/relationships/{id}/restore",
            ],
        );
    }
}
