//! `/v1/embedding-spaces[/{name}]`: the named spaces of vectors (a model's dimensions and
//! distance), each with an HNSW index of its own. Anyone who may read entities lists and reads
//! them; admins make (`PUT`, idempotent: the same definition again is a 200, another one under a
//! taken name a 409) and drop them. Both writes are audited.

use spingraph_authn_client::Principal;
use spingraph_guest::audit::Audit;
use spingraph_guest::body;
use spingraph_guest::db::Db;
use spingraph_guest::routes::Call;
use spingraph_guest::validate;
use spingraph_guest::{ApiError, Reply, Result};

use crate::access;
use crate::input::{self, SpaceDefinition};
use crate::store::{self, Space};

/// Where spaces live; `Location` of a new one is `{BASE}/{name}`.
pub const BASE: &str = "/v1/embedding-spaces";

/// `GET /v1/embedding-spaces`: `{items: [space]}`, by name, each with its vector count.
pub fn list(c: &Call, p: &Principal) -> Result<Reply> {
    access::require_read(p)?;
    let db = Db::connect(c.ctx)?;
    Ok(Reply::ok(
        &serde_json::json!({"items": store::spaces(&db)?}),
    ))
}

/// `GET /v1/embedding-spaces/{name}`.
pub fn get(c: &Call, p: &Principal) -> Result<Reply> {
    access::require_read(p)?;
    let db = Db::connect(c.ctx)?;
    let space = store::space(&db, c.param("name"))?.ok_or_else(|| no_space(c.param("name")))?;
    Ok(Reply::ok(&space))
}

/// `PUT /v1/embedding-spaces/{name}` (admin): 201 with a new space, 200 when it is already
/// defined so, 409 when it is defined otherwise.
pub fn put(c: &Call, p: &Principal) -> Result<Reply> {
    access::require_space_admin(p)?;
    let body = validate::json_object(c.req, body::DEFAULT_LIMIT)?;
    let def = input::parse_space(c.param("name"), &body)?;
    let db = Db::connect(c.ctx)?;
    if let Some(space) = store::space(&db, &def.name)? {
        return same_or_conflict(space, &def);
    }
    let actor = p.user_id.to_string();
    match store::create_space(&db, &Audit::by(c.ctx, &actor), &def)? {
        Some(space) => Ok(Reply::created(&format!("{BASE}/{}", space.name), &space)),
        // made by a concurrent request since we looked
        None => match store::space(&db, &def.name)? {
            Some(space) => same_or_conflict(space, &def),
            None => Err(ApiError::conflict(
                "The space was made and dropped concurrently; retry the request.",
            )),
        },
    }
}

fn same_or_conflict(space: Space, def: &SpaceDefinition) -> Result<Reply> {
    if space.is(def) {
        return Ok(Reply::ok(&space));
    }
    Err(ApiError::conflict(format!(
        "The embedding space {} exists with another definition ({} dimensions, {}, model {}); \
         drop it first to redefine it.",
        space.name,
        space.dimensions,
        space.distance,
        space.model.as_deref().unwrap_or("none"),
    )))
}

/// `DELETE /v1/embedding-spaces/{name}` (admin): 204; the space's vectors and index go with it.
pub fn delete(c: &Call, p: &Principal) -> Result<Reply> {
    access::require_space_admin(p)?;
    let name = c.param("name");
    let db = Db::connect(c.ctx)?;
    let actor = p.user_id.to_string();
    match input::is_space_name(name) && store::drop_space(&db, &Audit::by(c.ctx, &actor), name)? {
        true => Ok(Reply::no_content()),
        false => Err(no_space(name)),
    }
}

fn no_space(name: &str) -> ApiError {
    ApiError::not_found(format!("No embedding space {name}."))
}
