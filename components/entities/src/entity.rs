//! `/v1/entities` and `/v1/entities/{id}`: create (one or a batch), list, read, merge-patch,
//! soft/hard delete and restore. Each handler reads as authorize, parse, connect, store.

use serde_json::json;
use spingraph_guest::audit::Audit;
use spingraph_guest::batch::{self, OnConflict};
use spingraph_guest::body::{BATCH_LIMIT, DEFAULT_LIMIT};
use spingraph_guest::context::header;
use spingraph_guest::db::Db;
use spingraph_guest::etag::{self, IfMatch};
use spingraph_guest::history::{self, AsOf};
use spingraph_guest::page::PageRequest;
use spingraph_guest::routes::Call;
use spingraph_guest::validate;
use spingraph_guest::{ApiError, Ctx, Reply, Result};
use spingraph_identity::Principal;

use crate::input;
use crate::store::{self, Entity, Restored};
use crate::{BASE, access};

/// A path id that is not a UUID names no entity.
pub(crate) fn entity_id(raw: &str) -> Result<String> {
    validate::uuid_str(raw)
        .map(|id| id.to_string())
        .ok_or_else(|| not_found(raw))
}

pub(crate) fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("No entity with id {id}."))
}

/// A JSON reply carrying the entity's `ETag`.
pub(crate) fn with_etag(reply: Reply, entity: &Entity) -> Reply {
    reply.header("etag", &entity.etag())
}

/// The boolean query flag `name` (`?hard=true`), which only admins may set (403 naming `what`).
fn admin_flag(ctx: &Ctx, p: &Principal, name: &str, what: &str) -> Result<bool> {
    let set = validate::query_flag(ctx, name)?;
    if set {
        access::require_admin_to(p, what)?;
    }
    Ok(set)
}

pub(crate) fn stale(id: &str) -> ApiError {
    ApiError::PreconditionFailed(format!(
        "Entity {id} has changed since the version in If-Match; fetch it again."
    ))
}

/// `POST /` → 201 with `Location` and `ETag`.
pub fn create(c: &Call, p: &Principal, db: &Db) -> Result<Reply> {
    access::require_write(p)?;
    let new = input::parse_new(validate::json_value(c.req, DEFAULT_LIMIT)?)?;
    let id = uuid::Uuid::now_v7().to_string();
    let actor = p.user_id.to_string();
    let stored = store::insert(db, &Audit::by(c.ctx, &actor), &id, &actor, &new)?;
    Ok(with_etag(
        Reply::created(&format!("{BASE}/{id}"), &stored),
        &stored,
    ))
}

/// `POST /batch` → 201 `{items, outcomes}`: up to 1000 entities, all or nothing, owned by the
/// caller. Items whose `(type, external_id)` a live entity of the caller's has (natural keys are
/// per owner) are, by `on_conflict`, a 409 naming the first (`error`, the default), left alone
/// (`skip`) or written over (`update`); `outcomes[i]` says which of `created` / `updated` /
/// `skipped` happened to `items[i]` (200 when none was created).
pub fn create_batch(c: &Call, p: &Principal, db: &Db) -> Result<Reply> {
    access::require_write(p)?;
    let batch = input::parse_batch(validate::json_value(c.req, BATCH_LIMIT)?)?;
    let actor = p.user_id.to_string();
    let write = |db: &Db| {
        // `error` names the first item whose key is taken (the statement alone could only say
        // that one was); `skip` and `update` settle taken keys in the statement.
        let existing = match batch.on_conflict {
            OnConflict::Error => store::find_externals(db, &actor, &batch.items)?,
            OnConflict::Skip | OnConflict::Update => Vec::new(),
        };
        if let Some((i, found)) = existing.first() {
            return Err(ApiError::conflict(format!(
                "items[{i}]: your entity {} already has this type and external_id; send \
                 \"on_conflict\": \"update\" or \"skip\" to upsert.",
                found.id
            )));
        }
        store::insert_batch(
            db,
            &Audit::by(c.ctx, &actor),
            &actor,
            &batch.items,
            batch.on_conflict,
        )
    };
    // With natural keys the batch is one transaction: the look-up and the write see one state,
    // and an item a concurrent writer's key kept unwritten (a 409) rolls the whole batch back.
    let stored = if batch.items.iter().any(|e| e.external_id.is_some()) {
        db.transaction(write)?
    } else {
        write(db)?
    };
    Ok(batch::reply(
        stored.into_iter().map(|item| (item.entity, item.outcome)),
    ))
}

/// `GET /` with filters, sort and cursor pagination.
pub fn list(c: &Call, p: &Principal) -> Result<Reply> {
    access::require_read(p)?;
    let ctx = c.ctx;
    let filter = input::parse_filter(|name| ctx.query_param(name))?;
    if filter.include_deleted {
        access::require_admin_to(p, "list deleted entities")?;
    }
    let page = PageRequest::from_query(ctx, store::SORTS, store::default_sort())?;
    let db = Db::connect(ctx)?;
    if let Some(t) = &filter.as_of {
        t.check(ctx, &db)?;
    }
    Ok(Reply::ok(&store::list(&db, &filter, &page)?))
}

/// `GET /{id}` with `ETag`; `If-None-Match` → 304. Deleted ones only for admins asking for them.
pub fn get(c: &Call, p: &Principal) -> Result<Reply> {
    access::require_read(p)?;
    let (ctx, id) = (c.ctx, entity_id(c.param("id"))?);
    let include_deleted = admin_flag(ctx, p, "include_deleted", "read deleted entities")?;
    let db = Db::connect(ctx)?;
    let as_of = AsOf::read(ctx, &db, include_deleted)?;
    let entity = store::find_as_of(&db, &id, as_of.as_ref())?.ok_or_else(|| not_found(&id))?;
    if !include_deleted && entity.is_deleted() {
        // A merged entity lives on as its survivor: a permanent redirect there (at the same
        // instant, for an as-of read).
        if let Some(survivor) = &entity.merged_into {
            let at = as_of
                .as_ref()
                .map(|t| format!("?{}={}", history::PARAM, t.instant()))
                .unwrap_or_default();
            return Ok(Reply::json(
                308,
                &json!({
                    "detail": format!("Entity {id} was merged into {survivor}."),
                    "merged_into": survivor,
                }),
            )
            .header("location", &format!("{BASE}/{survivor}{at}")));
        }
        return Err(not_found(&id));
    }
    let tag = entity.etag();
    if etag::not_modified(header(c.req, "if-none-match"), &tag) {
        return Ok(Reply::not_modified().header("etag", &tag));
    }
    Ok(with_etag(Reply::ok(&entity), &entity))
}

/// `PATCH /{id}`: a JSON merge patch; owner or admin; `If-Match` → 412 when stale. Without
/// `If-Match`, a concurrent change is merged again (a few times) rather than lost.
pub fn patch(c: &Call, p: &Principal, db: &Db) -> Result<Reply> {
    access::require_write(p)?;
    let (ctx, req, id) = (c.ctx, c.req, entity_id(c.param("id"))?);
    let patch = input::parse_patch(validate::json_value(req, DEFAULT_LIMIT)?)?;
    let if_match = etag::if_match(header(req, "if-match"), &id);
    let actor = p.user_id.to_string();
    for _attempt in 0..3 {
        let current = store::find(db, &id)?
            .filter(|e| !e.is_deleted())
            .ok_or_else(|| not_found(&id))?;
        if !access::may_modify(p, &current.owner_id) {
            return Err(ApiError::forbidden(
                "Only the entity's owner or an admin may change it.",
            ));
        }
        if !if_match.allows(current.version) {
            return Err(stale(&id));
        }
        if patch.is_empty() {
            return Ok(with_etag(Reply::ok(&current), &current));
        }
        let metadata = patch.merged_metadata(&current.metadata)?;
        let updated = store::update(
            db,
            &Audit::by(ctx, &actor),
            &id,
            current.version,
            &patch,
            metadata.as_ref(),
        )?;
        match (updated, if_match) {
            (Some(entity), _) => return Ok(with_etag(Reply::ok(&entity), &entity)),
            (None, IfMatch::Version(_) | IfMatch::Never) => return Err(stale(&id)),
            (None, IfMatch::Absent | IfMatch::Any) => continue,
        }
    }
    Err(ApiError::conflict(
        "The entity kept changing concurrently; retry the request.",
    ))
}

/// `DELETE /{id}` → 204: a soft delete by the owner or an admin; `?hard=true` (admin) deletes for
/// good. `If-Match` honoured.
pub fn delete(c: &Call, p: &Principal) -> Result<Reply> {
    access::require_write(p)?;
    let (ctx, req, id) = (c.ctx, c.req, entity_id(c.param("id"))?);
    let hard = admin_flag(ctx, p, "hard", "hard-delete entities")?;
    let if_match = etag::if_match(header(req, "if-match"), &id);
    let db = Db::connect(ctx)?;
    let actor = p.user_id.to_string();
    let audit = Audit::by(ctx, &actor);
    let outcome = if hard {
        store::hard_delete(&db, &audit, &id, if_match)?
    } else {
        store::soft_delete(&db, &audit, &id, &actor, p.is_admin(), if_match)?
    };
    if outcome.done {
        return Ok(Reply::no_content());
    }
    if !outcome.found {
        return Err(not_found(&id));
    }
    if !hard
        && !outcome
            .owner_id
            .as_deref()
            .is_some_and(|owner| access::may_modify(p, owner))
    {
        return Err(ApiError::forbidden(
            "Only the entity's owner or an admin may delete it.",
        ));
    }
    Err(stale(&id))
}

/// `POST /{id}/restore` (admin) → 200 with the restored entity.
pub fn restore(c: &Call, p: &Principal, db: &Db) -> Result<Reply> {
    access::require_write(p)?;
    access::require_admin_to(p, "restore entities")?;
    let id = entity_id(c.param("id"))?;
    let actor = p.user_id.to_string();
    match store::restore(db, &Audit::by(c.ctx, &actor), &id)? {
        Restored::Entity(entity) => Ok(with_etag(Reply::ok(&entity), &entity)),
        Restored::NotDeleted => Err(ApiError::conflict(format!("Entity {id} is not deleted."))),
        Restored::Merged(into) => Err(ApiError::conflict(format!(
            "Entity {id} was merged into {into}; its relationships are that entity's now."
        ))),
        Restored::Missing => Err(not_found(&id)),
        Restored::NaturalKeyTaken => Err(ApiError::conflict(format!(
            "A live entity holds entity {id}'s type and external_id now; delete it or change its \
             external_id first."
        ))),
    }
}
