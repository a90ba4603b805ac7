//! The entities component: `/v1/entities/...` — validated CRUD, search, batch writes, optimistic
//! concurrency (ETag / If-Match) and an audited soft delete (SPEC §4 "Entities component").

pub mod access;
pub mod entity;
pub mod feed;
pub mod merge;
pub mod natural_key;
pub mod sql;
pub mod store;

use serde_json::{Value, json};
use spin_sdk::http::{Request, Response};
use spingraph_guest::audit::Audit;
use spingraph_guest::body::{BATCH_LIMIT, DEFAULT_LIMIT};
use spingraph_guest::context::header;
use spingraph_guest::db::Db;
use spingraph_guest::etag::{self, IfMatch};
use spingraph_guest::idempotency;
use spingraph_guest::page::PageRequest;
use spingraph_guest::validate;
use spingraph_guest::{ApiError, Ctx, Reply, Result, serve};
use spingraph_identity::Principal;

use crate::entity::OnConflict;
use crate::store::Restored;

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
    match (ctx.method.as_str(), path.as_slice()) {
        ("GET", []) => list(ctx, p),
        ("POST", []) => idempotency::run(ctx, req, p.user_id, |db| create(ctx, req, p, db)),
        (_, []) => Err(ApiError::MethodNotAllowed(&["GET", "POST"])),
        ("POST", ["batch"]) => {
            idempotency::run(ctx, req, p.user_id, |db| create_batch(ctx, req, p, db))
        }
        (_, ["batch"]) => Err(ApiError::MethodNotAllowed(&["POST"])),
        ("GET", [id]) => get(ctx, req, p, id),
        ("PATCH", [id]) => idempotency::run(ctx, req, p.user_id, |db| patch(ctx, req, p, db, id)),
        ("DELETE", [id]) => delete(ctx, req, p, id),
        (_, [_]) => Err(ApiError::MethodNotAllowed(&["GET", "PATCH", "DELETE"])),
        ("POST", [id, "restore"]) => {
            idempotency::run(ctx, req, p.user_id, |db| restore(ctx, p, db, id))
        }
        (_, [_, "restore"]) => Err(ApiError::MethodNotAllowed(&["POST"])),
        ("POST", [id, "merge"]) => {
            idempotency::run(ctx, req, p.user_id, |db| merge::merge(ctx, req, p, db, id))
        }
        (_, [_, "merge"]) => Err(ApiError::MethodNotAllowed(&["POST"])),
        ("GET", ["by-external-id", kind, xid]) => natural_key::get(ctx, req, p, kind, xid),
        ("PUT", ["by-external-id", kind, xid]) => idempotency::run(ctx, req, p.user_id, |db| {
            natural_key::put(ctx, req, p, db, kind, xid)
        }),
        (_, ["by-external-id", _, _]) => Err(ApiError::MethodNotAllowed(&["GET", "PUT"])),
        _ => Err(ApiError::not_found("No such route.")),
    }
}

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
pub(crate) fn with_etag(reply: Reply, entity: &Value) -> Reply {
    match etag::of(entity) {
        Some(tag) => reply.header("etag", &tag),
        None => reply,
    }
}

/// `POST /` → 201 with `Location` and `ETag`.
fn create(ctx: &Ctx, req: &Request, p: &Principal, db: &Db) -> Result<Reply> {
    access::require_write(p)?;
    let new = entity::parse_new(validate::json_value(req, DEFAULT_LIMIT)?)?;
    let id = uuid::Uuid::now_v7().to_string();
    let actor = p.user_id.to_string();
    let stored = store::insert(db, &Audit::by(ctx, &actor), &id, &actor, &new)?;
    Ok(with_etag(
        Reply::created(&format!("{BASE}/{id}"), &stored),
        &stored,
    ))
}

/// `POST /batch` → 201 `{items, outcomes}`: up to 1000 entities, all or nothing. Items whose
/// `(type, external_id)` a live entity has are, by `on_conflict`, a 409 naming the first (`error`,
/// the default), left alone (`skip`) or written over (`update`, owner or admin); `outcomes[i]`
/// says which of `created` / `updated` / `skipped` happened to `items[i]` (200 when none was
/// created).
fn create_batch(ctx: &Ctx, req: &Request, p: &Principal, db: &Db) -> Result<Reply> {
    access::require_write(p)?;
    let batch = entity::parse_batch(validate::json_value(req, BATCH_LIMIT)?)?;
    let actor = p.user_id.to_string();
    let write = |db: &Db| {
        let existing = store::find_externals(db, &batch.items)?;
        for (i, found) in &existing {
            match batch.on_conflict {
                OnConflict::Error => {
                    return Err(ApiError::conflict(format!(
                        "items[{i}]: entity {} already has this type and external_id; send \
                         \"on_conflict\": \"update\" or \"skip\" to upsert.",
                        found["id"].as_str().unwrap_or_default()
                    )));
                }
                OnConflict::Update if !access::may_modify(p, str_of(found, "owner_id")) => {
                    return Err(ApiError::forbidden(format!(
                        "items[{i}]: only the owner of entity {} or an admin may update it.",
                        str_of(found, "id")
                    )));
                }
                _ => {}
            }
        }
        store::insert_batch(
            db,
            &Audit::by(ctx, &actor),
            &actor,
            p.is_admin(),
            &batch.items,
            batch.on_conflict,
        )
    };
    // Natural keys are looked up first: both statements in one transaction.
    let stored = if batch.items.iter().any(|e| e.external_id.is_some()) {
        db.transaction(write)?
    } else {
        write(db)?
    };
    let created = stored.iter().any(|item| item.outcome == "created");
    let (items, outcomes): (Vec<Value>, Vec<String>) = stored
        .into_iter()
        .map(|item| (item.entity, item.outcome))
        .unzip();
    let status = if created { 201 } else { 200 };
    Ok(Reply::json(
        status,
        &json!({ "items": items, "outcomes": outcomes }),
    ))
}

/// A string field of a stored entity.
pub(crate) fn str_of<'a>(entity: &'a Value, field: &str) -> &'a str {
    entity[field].as_str().unwrap_or_default()
}

/// `GET /` with filters, sort and cursor pagination.
fn list(ctx: &Ctx, p: &Principal) -> Result<Reply> {
    access::require_read(p)?;
    let filter = entity::parse_filter(|name| ctx.query_param(name))?;
    if filter.include_deleted {
        access::require_admin_to(p, "list deleted entities")?;
    }
    let page = PageRequest::from_query(ctx, store::SORTS, store::default_sort())?;
    let db = Db::connect(ctx)?;
    Ok(Reply::ok(&store::list(&db, &filter, &page)?))
}

/// `GET /{id}` with `ETag`; `If-None-Match` → 304. Deleted ones only for admins asking for them.
fn get(ctx: &Ctx, req: &Request, p: &Principal, id: &str) -> Result<Reply> {
    access::require_read(p)?;
    let id = entity_id(id)?;
    let include_deleted = validate::query_flag(ctx, "include_deleted")?;
    if include_deleted {
        access::require_admin_to(p, "read deleted entities")?;
    }
    let db = Db::connect(ctx)?;
    let entity = store::find(&db, &id)?.ok_or_else(|| not_found(&id))?;
    if !include_deleted && entity.get("deleted_at").is_some() {
        // A merged entity lives on as its survivor: a permanent redirect there.
        if let Some(survivor) = entity["merged_into"].as_str() {
            return Ok(Reply::json(
                308,
                &json!({
                    "detail": format!("Entity {id} was merged into {survivor}."),
                    "merged_into": survivor,
                }),
            )
            .header("location", &format!("{BASE}/{survivor}")));
        }
        return Err(not_found(&id));
    }
    if let Some(tag) = etag::of(&entity)
        && etag::not_modified(header(req, "if-none-match"), &tag)
    {
        return Ok(Reply::not_modified().header("etag", &tag));
    }
    Ok(with_etag(Reply::ok(&entity), &entity))
}

/// `PATCH /{id}`: a JSON merge patch; owner or admin; `If-Match` → 412 when stale. Without
/// `If-Match`, a concurrent change is merged again (a few times) rather than lost.
fn patch(ctx: &Ctx, req: &Request, p: &Principal, db: &Db, id: &str) -> Result<Reply> {
    access::require_write(p)?;
    let id = entity_id(id)?;
    let patch = entity::parse_patch(validate::json_value(req, DEFAULT_LIMIT)?)?;
    let if_match = etag::if_match(header(req, "if-match"), &id);
    let actor = p.user_id.to_string();
    for _attempt in 0..3 {
        let current = store::find(db, &id)?
            .filter(|e| e.get("deleted_at").is_none())
            .ok_or_else(|| not_found(&id))?;
        let owner = current["owner_id"].as_str().unwrap_or_default();
        if !access::may_modify(p, owner) {
            return Err(ApiError::forbidden(
                "Only the entity's owner or an admin may change it.",
            ));
        }
        let version = current["version"].as_i64().unwrap_or_default();
        if !if_match.allows(version) {
            return Err(stale(&id));
        }
        if patch.is_empty() {
            return Ok(with_etag(Reply::ok(&current), &current));
        }
        let metadata = patch.merged_metadata(&current["metadata"])?;
        let updated = store::update(
            db,
            &Audit::by(ctx, &actor),
            &id,
            version,
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

pub(crate) fn stale(id: &str) -> ApiError {
    ApiError::PreconditionFailed(format!(
        "Entity {id} has changed since the version in If-Match; fetch it again."
    ))
}

/// `DELETE /{id}` → 204: a soft delete by the owner or an admin; `?hard=true` (admin) deletes for
/// good. `If-Match` honoured.
fn delete(ctx: &Ctx, req: &Request, p: &Principal, id: &str) -> Result<Reply> {
    access::require_write(p)?;
    let id = entity_id(id)?;
    let hard = validate::query_flag(ctx, "hard")?;
    if hard {
        access::require_admin_to(p, "hard-delete entities")?;
    }
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
fn restore(ctx: &Ctx, p: &Principal, db: &Db, id: &str) -> Result<Reply> {
    access::require_write(p)?;
    access::require_admin_to(p, "restore entities")?;
    let id = entity_id(id)?;
    let actor = p.user_id.to_string();
    match store::restore(db, &Audit::by(ctx, &actor), &id)? {
        Restored::Entity(entity) => Ok(with_etag(Reply::ok(&entity), &entity)),
        Restored::NotDeleted => Err(ApiError::conflict(format!("Entity {id} is not deleted."))),
        Restored::Merged(into) => Err(ApiError::conflict(format!(
            "Entity {id} was merged into {into}; its relationships are that entity's now."
        ))),
        Restored::Missing => Err(not_found(&id)),
    }
}
