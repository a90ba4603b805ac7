//! `/v1/relationships/...`: create (one or a batch), read, list, merge-patch, soft/hard delete
//! and restore, each one statement of [`crate::store`] (its audit row included) after the
//! caller is authorized (a batch: two, its ends found, then written, in one transaction).

use spingraph_guest::audit::Audit;
use spingraph_guest::context::header;
use spingraph_guest::db::{Db, ParameterValue};
use spingraph_guest::etag::{self, IfMatch};
use spingraph_guest::history::AsOf;
use spingraph_guest::page::{KeyKind, PageRequest, Sort, SortKey};
use spingraph_guest::record;
use spingraph_guest::routes::Call;
use spingraph_guest::sql::Query;
use spingraph_guest::validate::{self, Errors};
use spingraph_guest::{ApiError, Ctx, Reply, Result, body};

use spingraph_authn_client::Principal;

use crate::access;
use crate::input::{self, Changes, NewRelationship};
use crate::sql;
use crate::store::{self, Relationship, Restoring};

const BASE: &str = "/v1/relationships";

/// `sort` keys of `GET /v1/relationships` (ties broken by id).
pub static SORTS: &[SortKey] = &[
    SortKey::CREATED_AT,
    SortKey::CONFIDENCE,
    SortKey::new("type", KeyKind::Text),
];

/// A path id; anything but a UUID names no relationship.
pub fn relationship_id(raw: &str) -> Result<String> {
    validate::uuid_str(raw)
        .map(|id| id.to_string())
        .ok_or_else(|| ApiError::not_found("No such relationship."))
}

fn not_found() -> ApiError {
    ApiError::not_found("No such relationship.")
}

/// `POST /v1/relationships` → 201 with `Location` and `ETag`.
pub fn create(c: &Call, caller: &Principal, db: &Db) -> Result<Reply> {
    access::require_write(caller)?;
    let new = NewRelationship::parse(&validate::json_object(c.req, body::DEFAULT_LIMIT)?)?;
    let id = uuid::Uuid::now_v7().to_string();
    let actor = caller.user_id.to_string();
    let out = store::insert(db, &Audit::by(c.ctx, &actor), &id, &new)?;
    if out.duplicate {
        return Err(ApiError::conflict(
            "An active relationship with this source, target and type already exists.",
        ));
    }
    let mut errors = Errors::new();
    for (exists, end, name) in [
        (out.source, &new.source, "source"),
        (out.target, &new.target, "target"),
    ] {
        if !exists {
            errors.push(end.field(name), end.missing());
        } else if name == "target" && out.source && out.relationship.is_none() {
            errors.push(end.field(name), "names the source entity (no self-loops)");
        }
    }
    errors.into_result()?;
    let rel = out
        .relationship
        .ok_or_else(|| ApiError::internal("relationship without id"))?;
    let location = format!("{BASE}/{}", rel.id);
    Ok(with_etag(Reply::created(&location, &rel), &rel))
}

/// `POST /v1/relationships/batch` → 201 `{items, outcomes}`: up to 1000 relationships, all or
/// nothing, created by the caller, each end by id or by natural key as for one. An item whose
/// ends and type an active relationship already has is, by `on_conflict`, a 409 naming the
/// first (`error`, the default), left as it is (`skip`) or given the item's confidence and
/// metadata (`update`, the creator's or an admin's only); `outcomes[i]` says which of `created`
/// / `updated` / `skipped` happened to `items[i]` (200 when none was created).
pub fn create_batch(c: &Call, caller: &Principal, db: &Db) -> Result<Reply> {
    access::require_write(caller)?;
    let batch = input::parse_batch(validate::json_value(c.req, body::BATCH_LIMIT)?)?;
    let actor = caller.user_id.to_string();
    // One transaction: the ends stay share-locked from the look-up to the write, and an item a
    // concurrent writer kept unwritten (a 409) rolls the whole batch back.
    let stored = db.transaction(|db| {
        let found = store::resolve_batch(db, &actor, &batch.items)?;
        let planned = input::plan(&batch, found, |creator| access::may_change(caller, creator))?;
        store::insert_batch(db, &Audit::by(c.ctx, &actor), &planned)
    })?;
    Ok(spingraph_guest::batch::reply(
        stored
            .into_iter()
            .map(|item| (item.relationship, item.outcome)),
    ))
}

/// `GET /v1/relationships/{id}` with `ETag`; `If-None-Match` → 304; `include_deleted` (admins).
pub fn get(c: &Call, caller: &Principal) -> Result<Reply> {
    access::require_read(caller)?;
    let (ctx, req, id) = (c.ctx, c.req, c.param("id"));
    let include_deleted = include_deleted(ctx, caller)?;
    let db = Db::connect(ctx)?;
    let as_of = AsOf::read(ctx, &db, include_deleted)?;
    let rel =
        store::fetch_as_of(&db, id, include_deleted, as_of.as_ref())?.ok_or_else(not_found)?;
    let tag = rel.etag();
    if etag::not_modified(header(req, "if-none-match"), &tag) {
        return Ok(Reply::not_modified().header("etag", &tag));
    }
    Ok(Reply::ok(&rel).header("etag", &tag))
}

/// `GET /v1/relationships?source_id=&target_id=&entity_id=&type=&sort=&limit=&cursor=`.
pub fn list(c: &Call, caller: &Principal) -> Result<Reply> {
    access::require_read(caller)?;
    let ctx = c.ctx;
    let page = PageRequest::from_query(ctx, SORTS, Sort::desc(&SORTS[0]))?;
    let mut errors = Errors::new();
    let mut q = Query::new();
    let mut by_end = false;
    for (param, condition) in [
        ("source_id", "r.source_id = {}"),
        ("target_id", "r.target_id = {}"),
        ("entity_id", "(r.source_id = {0} OR r.target_id = {0})"),
    ] {
        if let Some(raw) = ctx.query_param(param) {
            match validate::uuid_str(&raw) {
                Some(id) => {
                    let p = q.bind(ParameterValue::Uuid(id.to_string()));
                    q.filter(condition.replace("{0}", &p).replace("{}", &p));
                    by_end = true;
                }
                None => errors.push(param, "must be a UUID"),
            }
        }
    }
    if let Some(kind) = ctx.query_param("type") {
        validate::check_text(&mut errors, "type", &kind, record::TYPE_MAX_CHARS);
        let p = q.bind(ParameterValue::Str(kind));
        // With an end named, through the `(source_id|target_id, type COLLATE "C")` indexes
        // (see `sql::of_type`), never an index leading with `type`.
        let column = if by_end {
            "r.type COLLATE \"C\""
        } else {
            "r.type"
        };
        q.filter(format!("{column} = {p}"));
    }
    errors.into_query_result()?;
    let include_deleted = include_deleted(ctx, caller)?;
    if !include_deleted {
        q.filter(sql::LIST_VISIBLE);
    }
    let db = Db::connect(ctx)?;
    let as_of = AsOf::read(ctx, &db, include_deleted)?;
    Ok(Reply::ok(&store::list(&db, q, &page, as_of.as_ref())?))
}

/// `PATCH /v1/relationships/{id}`: JSON merge patch; `If-Match` → 412 when stale.
pub fn update(c: &Call, caller: &Principal, db: &Db) -> Result<Reply> {
    access::require_write(caller)?;
    let (ctx, req, id) = (c.ctx, c.req, c.param("id"));
    let patch = validate::json_object(req, body::DEFAULT_LIMIT)?;
    let current = store::fetch(db, id, false)?.ok_or_else(not_found)?;
    access::require_creator_or_admin(caller, Some(&current.created_by))?;
    // The content is checked before the precondition, as entities do: an invalid patch is a
    // 400/422 whatever `If-Match` says.
    let changes = Changes::merge(&current, &patch)?;
    let version = current.version;
    let condition = etag::if_match(header(req, "if-match"), id);
    if !condition.allows(version) {
        return Err(stale());
    }
    let changed: Vec<&str> = ["type", "confidence", "metadata"]
        .into_iter()
        .filter(|f| patch.contains_key(*f))
        .collect();
    let actor = caller.user_id.to_string();
    let updated = store::update(db, &Audit::by(ctx, &actor), id, version, changes, &changed)?;
    if updated.duplicate {
        return Err(ApiError::conflict(
            "An active relationship with this source, target and type already exists.",
        ));
    }
    let Some(rel) = updated.relationship else {
        // It changed (or was deleted) between our read and our write.
        return Err(match condition {
            IfMatch::Absent => ApiError::conflict("The relationship changed meanwhile; retry."),
            _ => stale(),
        });
    };
    Ok(with_etag(Reply::ok(&rel), &rel))
}

/// `DELETE /v1/relationships/{id}` → 204 (soft); `?hard=true` removes it for good (admins).
pub fn delete(c: &Call, caller: &Principal) -> Result<Reply> {
    access::require_write(caller)?;
    let (ctx, req, id) = (c.ctx, c.req, c.param("id"));
    let hard = validate::query_flag(ctx, "hard")?;
    if hard {
        access::require_admin_to(caller, "hard-delete relationships")?;
    }
    let db = Db::connect(ctx)?;
    let current = store::fetch(&db, id, hard)?.ok_or_else(not_found)?;
    access::require_creator_or_admin(caller, Some(&current.created_by))?;
    let version = current.version;
    let condition = etag::if_match(header(req, "if-match"), id);
    if !condition.allows(version) {
        return Err(stale());
    }
    let expected = match condition {
        IfMatch::Version(v) => Some(v),
        _ => None,
    };
    let actor = caller.user_id.to_string();
    let audit = Audit::by(ctx, &actor);
    let done = if hard {
        store::hard_delete(&db, &audit, id, expected)?
    } else {
        store::soft_delete(&db, &audit, id, expected)?
    };
    if !done {
        return Err(match condition {
            IfMatch::Version(_) => stale(),
            _ => not_found(),
        });
    }
    Ok(Reply::no_content())
}

/// `POST /v1/relationships/{id}/restore` (admins) → 200 with the restored relationship.
pub fn restore(c: &Call, caller: &Principal, db: &Db) -> Result<Reply> {
    access::require_write(caller)?;
    access::require_admin_to(caller, "restore relationships")?;
    let actor = caller.user_id.to_string();
    match store::restore(db, &Audit::by(c.ctx, &actor), c.param("id"))? {
        Restoring { found: false, .. } => Err(not_found()),
        Restoring { deleted: false, .. } => {
            Err(ApiError::conflict("The relationship is not deleted."))
        }
        Restoring {
            ends_visible: false,
            ..
        } => Err(ApiError::conflict(
            "Its source or target entity is deleted; restore that first.",
        )),
        Restoring {
            duplicate: true, ..
        } => Err(ApiError::conflict(
            "An active relationship with this source, target and type exists; delete it first.",
        )),
        Restoring {
            relationship: Some(rel),
            ..
        } => Ok(with_etag(Reply::ok(&rel), &rel)),
        Restoring {
            relationship: None, ..
        } => Err(ApiError::internal("restore answered no relationship")),
    }
}

/// `include_deleted=true` is for admins (403 otherwise).
fn include_deleted(ctx: &Ctx, caller: &Principal) -> Result<bool> {
    let wanted = validate::query_flag(ctx, "include_deleted")?;
    if wanted {
        access::require_admin_to(caller, "see deleted relationships")?;
    }
    Ok(wanted)
}

fn stale() -> ApiError {
    ApiError::PreconditionFailed("The relationship has changed; fetch it again.".into())
}

fn with_etag(reply: Reply, rel: &Relationship) -> Reply {
    reply.header("etag", &rel.etag())
}
