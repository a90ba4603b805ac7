//! An entity's vectors (docs/retrieval.md, "An entity's vectors"): `PUT/GET/DELETE
//! /{id}/embeddings/{space}`, `GET /{id}/embeddings`, `POST /embeddings/batch`, and
//! `GET /{id}/duplicates`. Access is the entity's: reading needs `entities:read`, as any
//! principal with it reads any entity (SPEC §4, entities: "any authenticated principal
//! reads"); writing needs `entities:write` and being its owner or an admin, as does listing its
//! duplicates (what a merge of it takes); a deleted (or merged) entity's vectors answer as a
//! missing entity (404). Each handler reads as authorize, parse, connect, check, store.

use serde_json::json;
use spingraph_guest::audit::Audit;
use spingraph_guest::body::{BATCH_LIMIT, DEFAULT_LIMIT};
use spingraph_guest::db::Db;
use spingraph_guest::routes::Call;
use spingraph_guest::validate::{self, Errors};
use spingraph_guest::{ApiError, Reply, Result};
use spingraph_identity::Principal;

use crate::entity::{entity_id, not_found};
use crate::input::embedding::{self as input, fit};
use crate::store::embedding::{self as vectors, Space};
use crate::store::{self, Entity};
use crate::{BASE, access};

/// The space named `name`, or a 404 saying there is none.
fn space(db: &Db, name: &str) -> Result<Space> {
    vectors::space(db, name)?
        .ok_or_else(|| ApiError::not_found(format!("No embedding space named {name:?}.")))
}

/// Live entity `id` (from `found`): a missing or deleted one is a 404.
fn live_entity(id: &str, found: Option<Entity>) -> Result<Entity> {
    found
        .filter(|e| !e.is_deleted())
        .ok_or_else(|| not_found(id))
}

/// Live entity `id` (from `found`), when `p` may `act` on it (`"change its vectors"`): a missing
/// or deleted one is a 404, another user's a 403.
fn entity_for(p: &Principal, id: &str, found: Option<Entity>, act: &str) -> Result<Entity> {
    let entity = live_entity(id, found)?;
    if !access::may_modify(p, &entity.owner_id) {
        return Err(ApiError::forbidden(format!(
            "Only the entity's owner or an admin may {act}."
        )));
    }
    Ok(entity)
}

/// Entity `id` locked for the rest of the transaction (a merge or delete waits), as
/// [`entity_for`] finds it.
fn locked_entity(db: &Db, p: &Principal, id: &str) -> Result<Entity> {
    let found = store::lock(db, &[id.to_string()])?.into_iter().next();
    entity_for(p, id, found, "change its vectors")
}

/// `PUT /{id}/embeddings/{space}` → 201 with the vector when new (`Location`), 200 when it
/// replaced one. 422 naming `vector` when it does not fit the space.
pub fn put(c: &Call, p: &Principal, db: &Db) -> Result<Reply> {
    access::require_write(p)?;
    let id = entity_id(c.param("id"))?;
    let numbers = input::parse_put(validate::json_value(c.req, DEFAULT_LIMIT)?)?;
    let actor = p.user_id.to_string();
    db.transaction(|db| {
        let space = space(db, c.param("space"))?;
        locked_entity(db, p, &id)?;
        let mut errors = Errors::new();
        fit(&mut errors, "vector", &numbers, space.shape());
        errors.into_result()?;
        let (created, stored) = vectors::put(db, &Audit::by(c.ctx, &actor), &id, &space, &numbers)?
            .ok_or_else(|| not_found(&id))?;
        Ok(if created {
            Reply::created(&format!("{BASE}/{id}/embeddings/{}", space.name), &stored)
        } else {
            Reply::ok(&stored)
        })
    })
}

/// `GET /{id}/embeddings/{space}` → the vector; 404 when the entity has none there.
pub fn get(c: &Call, p: &Principal) -> Result<Reply> {
    access::require_read(p)?;
    let id = entity_id(c.param("id"))?;
    let db = Db::connect(c.ctx)?;
    let space = space(&db, c.param("space"))?;
    live_entity(&id, store::find(&db, &id)?)?;
    let stored = vectors::vector(&db, &id, &space)?.ok_or_else(|| {
        ApiError::not_found(format!(
            "Entity {id} has no vector in space {:?}.",
            space.name
        ))
    })?;
    Ok(Reply::ok(&stored))
}

/// `GET /{id}/embeddings` → `{items}`: every vector of the entity, by space name.
pub fn list(c: &Call, p: &Principal) -> Result<Reply> {
    access::require_read(p)?;
    let id = entity_id(c.param("id"))?;
    let db = Db::connect(c.ctx)?;
    live_entity(&id, store::find(&db, &id)?)?;
    Ok(Reply::ok(&json!({ "items": vectors::vectors(&db, &id)? })))
}

/// `DELETE /{id}/embeddings/{space}` → 204; 404 when the entity has none there.
pub fn delete(c: &Call, p: &Principal) -> Result<Reply> {
    access::require_write(p)?;
    let id = entity_id(c.param("id"))?;
    let actor = p.user_id.to_string();
    let db = Db::connect(c.ctx)?;
    db.transaction(|db| {
        let space = space(db, c.param("space"))?;
        locked_entity(db, p, &id)?;
        if !vectors::delete(db, &Audit::by(c.ctx, &actor), &id, &space)? {
            return Err(ApiError::not_found(format!(
                "Entity {id} has no vector in space {:?}.",
                space.name
            )));
        }
        Ok(Reply::no_content())
    })
}

/// `POST /embeddings/batch` → `{items: [{entity_id, created}]}` in request order (201 when one
/// was created, else 200): up to 256 vectors of one space, all or nothing. Every item that does
/// not fit the space, or names no live entity, is in one 422 (`items[i].vector`,
/// `items[i].entity_id`); an entity of another user's (for anyone but an admin) is a 403.
pub fn batch(c: &Call, p: &Principal, db: &Db) -> Result<Reply> {
    access::require_write(p)?;
    let batch = input::parse_batch(validate::json_value(c.req, BATCH_LIMIT)?)?;
    let actor = p.user_id.to_string();
    db.transaction(|db| {
        let space = space(db, &batch.space)?;
        let ids: Vec<String> = batch.items.iter().map(|i| i.entity_id.clone()).collect();
        let locked = store::lock(db, &ids)?;
        let mut errors = Errors::new();
        let mut others = false;
        for (i, item) in batch.items.iter().enumerate() {
            fit(
                &mut errors,
                &format!("items[{i}].vector"),
                &item.vector,
                space.shape(),
            );
            match locked.iter().find(|e| e.id == item.entity_id) {
                Some(e) if !e.is_deleted() => others |= !access::may_modify(p, &e.owner_id),
                _ => errors.push(format!("items[{i}].entity_id"), "no such entity"),
            }
        }
        errors.into_result()?;
        if others {
            return Err(ApiError::forbidden(
                "Only an admin, or the owner of every entity of the batch, may write their vectors.",
            ));
        }
        let written = vectors::put_batch(db, &Audit::by(c.ctx, &actor), &space, &batch.items)?;
        let status = if written.iter().any(|w| w.created) {
            201
        } else {
            200
        };
        Ok(Reply::json(status, &json!({ "items": written })))
    })
}

/// `GET /{id}/duplicates?space=&limit=` → `{items: [{entity, score, vector_distance,
/// name_similarity}]}`: see [`vectors::duplicates`].
pub fn duplicates(c: &Call, p: &Principal) -> Result<Reply> {
    access::require_read(p)?;
    let id = entity_id(c.param("id"))?;
    let ctx = c.ctx;
    let (space_name, limit) = input::parse_duplicates(|name| ctx.query_param(name))?;
    let db = Db::connect(ctx)?;
    let entity = entity_for(p, &id, store::find(&db, &id)?, "list its duplicates")?;
    let space = match &space_name {
        Some(name) => Some(space(&db, name)?),
        None => None,
    };
    let items = vectors::duplicates(&db, &entity, space.as_ref(), limit)?;
    Ok(Reply::ok(&json!({ "items": items })))
}
