//! The search component: retrieval for AI pipelines (docs/retrieval.md). Embedding spaces
//! (`/v1/embedding-spaces/...`) and `POST /v1/search`, which fuses the nearest vectors of a
//! space and the best full-text matches by reciprocal rank and can expand the hits' graph
//! neighbourhood in the same answer. It reads as a role of its own (`spingraph_search`) and
//! writes nothing but a space (made and dropped as the owner, with its index) and its audit
//! row. This file is the route table ([`ROUTES`]): the handlers are in `space` and `search`;
//! what clients send is read in `input`, the tables are `store` over the statements of `sql`,
//! and `access` says who may do what.

pub mod access;
pub mod input;
pub mod search;
pub mod space;
pub mod sql;
pub mod store;

use spin_sdk::http::Request;
use spingraph_authn_client::Principal;
use spingraph_guest::routes::Handler::{self, Answer};
use spingraph_guest::routes::{Route, Routes};
use spingraph_guest::{Ctx, Reply, Result};
#[cfg(target_arch = "wasm32")]
use {spin_sdk::http::Response, spingraph_guest::serve};

/// The component's name in spin.toml (logs, `/v1/health`).
pub const COMPONENT: &str = "search";

/// Every route of the component. One row a route (unformatted: it reads as a table).
#[rustfmt::skip]
pub static ROUTES: Routes<Handler<Principal>> = Routes::new(&[
    Route::new("GET", "/v1/embedding-spaces", Answer(space::list)),
    Route::new("GET", "/v1/embedding-spaces/{name}", Answer(space::get)),
    Route::new("PUT", "/v1/embedding-spaces/{name}", Answer(space::put)),
    Route::new("DELETE", "/v1/embedding-spaces/{name}", Answer(space::delete)),
    Route::new("POST", "/v1/search", Answer(search::search)),
]);

// Exported only for wasm: natively (unit tests, the OpenAPI test reading `ROUTES`) the
// `wasi:http/incoming-handler` export symbol is not a valid linker symbol name.
#[cfg(target_arch = "wasm32")]
#[spin_sdk::http_component]
fn handle(req: Request) -> Response {
    serve(COMPONENT, req, route)
}

/// Every request: authenticated, rate limited, then routed through [`ROUTES`]
/// (`spingraph_authn_client::serve_routes`).
pub fn route(ctx: &Ctx, req: &Request) -> Result<Reply> {
    spingraph_authn_client::serve_routes(ctx, req, &ROUTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_method_is_405_with_the_methods_of_the_path() {
        ROUTES.assert_allow(
            "POST /v1/embedding-spaces -> GET
             POST /v1/embedding-spaces/x -> GET, PUT, DELETE
             GET /v1/search -> POST",
        );
    }

    #[test]
    fn paths_beside_the_table_are_404() {
        ROUTES.assert_not_found(
            "No such route.",
            "GET /v1/embedding-spaces/a/b
             POST /v1/search/x",
        );
    }
}
