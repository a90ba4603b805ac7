//! The relationships component: typed relationships between entities (`/v1/relationships/...`)
//! and bounded graph walks over them (`/v1/graph/...`). Both route groups map here in spin.toml;
//! every request is authenticated through the `authn` component dependency first. This file is
//! the route table: the handlers are in `relationship` and `graph`; what clients send is read in
//! `input`, the table is `store` over the statements of `sql`, and `access` says who may do what.

pub mod access;
pub mod graph;
pub mod input;
pub mod relationship;
pub mod sql;
pub mod store;

use spin_sdk::http::Request;
use spingraph_authn_client::Principal;
use spingraph_guest::{ApiError, Ctx, Reply, Result};
#[cfg(target_arch = "wasm32")]
use {spin_sdk::http::Response, spingraph_guest::serve};

/// The component's name in spin.toml (logs, `/v1/health`).
pub const COMPONENT: &str = "relationships";

// Exported only for wasm: natively (unit tests) the `wasi:http/incoming-handler` export symbol
// is not a valid linker symbol name.
#[cfg(target_arch = "wasm32")]
#[spin_sdk::http_component]
fn handle(req: Request) -> Response {
    serve(COMPONENT, req, route)
}

/// Which route group a request path belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Relationships,
    Graph,
}

/// `/v1/graph` or below → graph; `/v1/relationships` or below → relationships.
pub fn group(path: &str) -> Option<Group> {
    let under = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    if under("/v1/graph") {
        Some(Group::Graph)
    } else if under("/v1/relationships") {
        Some(Group::Relationships)
    } else {
        None
    }
}

/// Authenticate (failures count against the client's auth-failure limit), count the request
/// against the principal's rate limit (429 when exceeded), then dispatch; the `RateLimit-*`
/// headers of whichever limit applied go on every answer, errors included.
pub fn route(ctx: &Ctx, req: &Request) -> Result<Reply> {
    spingraph_authn_client::signed_in(ctx, req, |p| dispatch(ctx, req, p))
}

fn dispatch(ctx: &Ctx, req: &Request, principal: &Principal) -> Result<Reply> {
    let segments = ctx.segments();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    match group(&ctx.path) {
        Some(Group::Relationships) => relationship::route(ctx, req, principal, &segments),
        Some(Group::Graph) => graph::route(ctx, principal, &segments),
        None => Err(ApiError::not_found("No such route.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_their_route_group() {
        assert_eq!(group("/v1/relationships"), Some(Group::Relationships));
        assert_eq!(
            group("/v1/relationships/0192e4a0-0000-7000-8000-000000000001"),
            Some(Group::Relationships)
        );
        assert_eq!(group("/v1/graph/neighbors/x"), Some(Group::Graph));
        assert_eq!(group("/v1/graph"), Some(Group::Graph));
        assert_eq!(group("/v1/graphs"), None);
        assert_eq!(group("/v1/entities"), None);
    }
}
