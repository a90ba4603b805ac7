//! The entities component: `/v1/entities/...` — validated CRUD, search, batch writes, optimistic
//! concurrency (ETag / If-Match) and an audited soft delete (SPEC §4 "Entities component"), plus
//! the change feed (`/v1/changes`). This file is the route table ([`ROUTES`]): the handlers are
//! in `entity` (CRUD and batch), `merge`, `unmerge`, `natural_key`, `embedding` (an entity's
//! vectors and its duplicates) and `feed`; what clients send is read in
//! `input`, the table is `store` over the statements of `sql`, and `access` says who may do what.

pub mod access;
pub mod embedding;
pub mod entity;
pub mod feed;
pub mod input;
pub mod merge;
pub mod natural_key;
pub mod sql;
pub mod store;
pub mod unmerge;

use spin_sdk::http::{Request, Response};
use spingraph_guest::routes::Handler::{self, Answer, Idempotent};
use spingraph_guest::routes::{Route, Routes};
use spingraph_guest::{Ctx, Reply, Result, serve};
use spingraph_identity::Principal;

use crate::access::{require_restorer, require_write};
use crate::entity::{create, create_batch, delete, get, list, patch, restore};

/// Where entities live; `Location` of a new one is `{BASE}/{id}`.
pub const BASE: &str = "/v1/entities";

/// An entity by natural key (`natural_key`): its owner's `type` and `external_id`.
pub const BY_EXTERNAL_ID: &str = "/v1/entities/by-external-id/{type}/{external_id}";

/// Every route of the component: what answers, and for an idempotent write the rule checked
/// before a stored answer can be replayed. One row a route (unformatted: it reads as a table).
#[rustfmt::skip]
pub static ROUTES: Routes<Handler<Principal>> = Routes::based(
    "/v1/entities",
    &[
        Route::new("GET", "/v1/entities", Answer(list)),
        Route::new("POST", "/v1/entities", Idempotent(require_write, create)),
        Route::new("POST", "/v1/entities/batch", Idempotent(require_write, create_batch)),
        Route::new("GET", "/v1/entities/{id}", Answer(get)),
        Route::new("PATCH", "/v1/entities/{id}", Idempotent(require_write, patch)),
        Route::new("DELETE", "/v1/entities/{id}", Answer(delete)),
        Route::new("POST", "/v1/entities/{id}/restore", Idempotent(require_restorer, restore)),
        Route::new("POST", "/v1/entities/{id}/merge", Idempotent(require_write, merge::merge)),
        Route::new("POST", "/v1/entities/{id}/unmerge", Idempotent(require_write, unmerge::unmerge)),
        Route::new("GET", "/v1/entities/{id}/embeddings", Answer(embedding::list)),
        Route::new("PUT", "/v1/entities/{id}/embeddings/{space}", Idempotent(require_write, embedding::put)),
        Route::new("GET", "/v1/entities/{id}/embeddings/{space}", Answer(embedding::get)),
        Route::new("DELETE", "/v1/entities/{id}/embeddings/{space}", Answer(embedding::delete)),
        Route::new("POST", "/v1/entities/embeddings/batch", Idempotent(require_write, embedding::batch)),
        Route::new("GET", "/v1/entities/{id}/duplicates", Answer(embedding::duplicates)),
        Route::new("GET", BY_EXTERNAL_ID, Answer(natural_key::get)),
        Route::new("PUT", BY_EXTERNAL_ID, Idempotent(require_write, natural_key::put)),
        Route::new("GET", "/v1/changes", Answer(feed::list)),
    ],
);

// Exported only on wasm: natively (unit tests, the OpenAPI test reading `ROUTES`) the export's
// `wasi:http/...` symbol name is not valid in a linker version script.
#[cfg_attr(target_arch = "wasm32", spin_sdk::http_component)]
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
fn handle(req: Request) -> Response {
    serve("entities", req, route)
}

/// Every request: authenticated, rate limited, then routed through [`ROUTES`]
/// (`spingraph_authn_client::serve_routes`).
pub fn route(ctx: &Ctx, req: &Request) -> Result<Reply> {
    spingraph_authn_client::serve_routes(ctx, req, &ROUTES)
}

#[cfg(test)]
mod tests {
    use super::*;
    use spingraph_identity::{Credential, Role, Scope};

    #[test]
    fn another_method_is_405_with_the_methods_of_the_path() {
        ROUTES.assert_allow(
            "PUT /v1/entities -> GET, POST
             HEAD /v1/entities -> GET, POST
             GET /v1/entities/batch -> POST
             POST /v1/entities/x -> GET, PATCH, DELETE
             GET /v1/entities/x/restore -> POST
             GET /v1/entities/x/merge -> POST
             GET /v1/entities/x/unmerge -> POST
             POST /v1/entities/by-external-id/t/x -> GET, PUT
             POST /v1/entities/x/embeddings -> GET
             POST /v1/entities/x/embeddings/minilm -> PUT, GET, DELETE
             PATCH /v1/entities/x/embeddings/minilm -> PUT, GET, DELETE
             GET /v1/entities/embeddings/batch -> POST
             POST /v1/entities/x/duplicates -> GET
             POST /v1/changes -> GET",
        );
    }

    #[test]
    fn paths_beside_the_table_are_404() {
        ROUTES.assert_not_found(
            "No such route.",
            "GET /v1/entities/x/y
             GET /v1/entities/a/b/c/d
             GET /v1/changes/x
             GET /v1/entities/x/embeddings/minilm/y
             GET /v1/entities/x/duplicates/y
             POST /v1/entities/embeddings/batch/x",
        );
    }

    #[test]
    fn every_write_that_may_replay_checks_the_write_scope_and_restore_the_admin_role() {
        let user = Principal::for_tests(Role::User, Credential::Bearer, Role::User.scopes());
        let reader = Principal::for_tests(Role::User, Credential::ApiKey, &[Scope::EntitiesRead]);
        ROUTES.assert_idempotent_rules(
            &reader,
            &user,
            &[
                "POST /v1/entities",
                "POST /v1/entities/batch",
                "PATCH /v1/entities/{id}",
                "POST /v1/entities/{id}/restore",
                "POST /v1/entities/{id}/merge",
                "POST /v1/entities/{id}/unmerge",
                "PUT /v1/entities/{id}/embeddings/{space}",
                "POST /v1/entities/embeddings/batch",
                "PUT /v1/entities/by-external-id/{type}/{external_id}",
            ],
        );
    }
}
