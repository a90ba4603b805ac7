//! The entities component: `/v1/entities/...` — validated CRUD, search, batch writes, optimistic
//! concurrency (ETag / If-Match) and an audited soft delete (SPEC §4 "Entities component"), plus
//! the change feed (`/v1/changes`). This file is the route table: the handlers are in `entity`
//! (CRUD and batch), `merge`, `natural_key` and `feed`; what clients send is read in `input`,
//! the table is `store` over the statements of `sql`, and `access` says who may do what.

pub mod access;
pub mod entity;
pub mod feed;
pub mod input;
pub mod merge;
pub mod natural_key;
pub mod sql;
pub mod store;

use spin_sdk::http::{Request, Response};
use spingraph_authn_client::idempotent;
use spingraph_guest::{ApiError, Ctx, Reply, Result, serve};
use spingraph_identity::Principal;

use crate::entity::{create, create_batch, delete, get, list, patch, restore};

/// Where entities live; `Location` of a new one is `{BASE}/{id}`.
pub const BASE: &str = "/v1/entities";

#[spin_sdk::http_component]
fn handle(req: Request) -> Response {
    serve("entities", req, route)
}

/// Authenticate (failures count against the client's auth-failure limit), count the request
/// against the principal's rate limit (429 when exceeded), then dispatch; the `RateLimit-*`
/// headers of whichever limit applied go on every answer, errors included.
pub fn route(ctx: &Ctx, req: &Request) -> Result<Reply> {
    spingraph_authn_client::signed_in(ctx, req, |p| dispatch(ctx, req, p))
}

fn dispatch(ctx: &Ctx, req: &Request, p: &Principal) -> Result<Reply> {
    if ctx.path == feed::PATH {
        return match ctx.method.as_str() {
            "GET" => feed::list(ctx, p),
            _ => Err(ApiError::MethodNotAllowed(&["GET"])),
        };
    }
    let segments = ctx.segments();
    let path: Vec<&str> = segments.iter().map(String::as_str).collect();
    // Idempotent writes check the route's scope (and admin rule) before a replay can answer.
    let write = access::require_write;
    let restorer =
        |p: &Principal| write(p).and_then(|()| access::require_admin_to(p, "restore entities"));
    match (ctx.method.as_str(), path.as_slice()) {
        ("GET", []) => list(ctx, p),
        ("POST", []) => idempotent(ctx, req, p, write, |db| create(ctx, req, p, db)),
        (_, []) => Err(ApiError::MethodNotAllowed(&["GET", "POST"])),
        ("POST", ["batch"]) => idempotent(ctx, req, p, write, |db| create_batch(ctx, req, p, db)),
        (_, ["batch"]) => Err(ApiError::MethodNotAllowed(&["POST"])),
        ("GET", [id]) => get(ctx, req, p, id),
        ("PATCH", [id]) => idempotent(ctx, req, p, write, |db| patch(ctx, req, p, db, id)),
        ("DELETE", [id]) => delete(ctx, req, p, id),
        (_, [_]) => Err(ApiError::MethodNotAllowed(&["GET", "PATCH", "DELETE"])),
        ("POST", [id, "restore"]) => {
            idempotent(ctx, req, p, restorer, |db| restore(ctx, p, db, id))
        }
        (_, [_, "restore"]) => Err(ApiError::MethodNotAllowed(&["POST"])),
        ("POST", [id, "merge"]) => {
            idempotent(ctx, req, p, write, |db| merge::merge(ctx, req, p, db, id))
        }
        (_, [_, "merge"]) => Err(ApiError::MethodNotAllowed(&["POST"])),
        ("GET", ["by-external-id", kind, xid]) => natural_key::get(ctx, req, p, kind, xid),
        ("PUT", ["by-external-id", kind, xid]) => idempotent(ctx, req, p, write, |db| {
            natural_key::put(ctx, req, p, db, kind, xid)
        }),
        (_, ["by-external-id", _, _]) => Err(ApiError::MethodNotAllowed(&["GET", "PUT"])),
        _ => Err(ApiError::not_found("No such route.")),
    }
}
