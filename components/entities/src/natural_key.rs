//! Entities by natural key: `GET` and `PUT /v1/entities/by-external-id/{type}/{external_id}`.
//! A natural key is `(owner, type, external_id)`: each owner's keys are a namespace of their own,
//! so no one can take a key before its owner does. A request addresses the caller's own keys, or
//! with `?owner_id=` another owner's (anyone may read there; only an admin may write there, and
//! an admin replaces another's entity but never creates one in their name).

use spingraph_guest::audit::Audit;
use spingraph_guest::body::DEFAULT_LIMIT;
use spingraph_guest::context::header;
use spingraph_guest::db::Db;
use spingraph_guest::etag::{self, IfMatch};
use spingraph_guest::routes::Call;
use spingraph_guest::validate;
use spingraph_guest::{ApiError, Ctx, Reply, Result};
use spingraph_identity::Principal;

use crate::entity::{stale, with_etag};
use crate::{BASE, access, input, store};

/// Whose keys this request addresses (`?owner_id=`, else the caller's own).
fn namespace(ctx: &Ctx, p: &Principal) -> Result<String> {
    input::parse_namespace(ctx.query_param("owner_id"), &p.user_id.to_string())
}

/// `GET /by-external-id/{type}/{external_id}`: the live entity with that natural key.
pub fn get(c: &Call, p: &Principal) -> Result<Reply> {
    access::require_read(p)?;
    let (ctx, req, kind, xid) = (c.ctx, c.req, c.param("type"), c.param("external_id"));
    let owner = namespace(ctx, p)?;
    let db = Db::connect(ctx)?;
    let entity = store::find_external(&db, &owner, kind, xid)?
        .ok_or_else(|| external_not_found(p, &owner, kind, xid))?;
    let tag = entity.etag();
    if etag::not_modified(header(req, "if-none-match"), &tag) {
        return Ok(Reply::not_modified().header("etag", &tag));
    }
    Ok(with_etag(Reply::ok(&entity), &entity))
}

fn external_not_found(p: &Principal, owner: &str, kind: &str, xid: &str) -> ApiError {
    ApiError::not_found(if *owner == p.user_id.to_string() {
        format!(
            "You have no live entity of type {kind:?} with external_id {xid:?} (another user's \
             keys are read with ?owner_id=)."
        )
    } else {
        format!("User {owner} has no live entity of type {kind:?} with external_id {xid:?}.")
    })
}

/// `PUT /by-external-id/{type}/{external_id}`: create (201, `Location`) or replace (200) the
/// entity with that natural key among the caller's, or (admin, `?owner_id=`) replace another
/// owner's. `If-Match` holds (412 when stale or when there is nothing to match), `If-None-Match:
/// *` creates only. Concurrent first `PUT`s of one key make one entity: the losers replace it.
pub fn put(c: &Call, p: &Principal, db: &Db) -> Result<Reply> {
    access::require_write(p)?;
    let (ctx, req, kind, xid) = (c.ctx, c.req, c.param("type"), c.param("external_id"));
    let owner = namespace(ctx, p)?;
    if !access::may_modify(p, &owner) {
        return Err(ApiError::forbidden(
            "Only an admin may write another user's natural keys; leave out owner_id to write \
             your own.",
        ));
    }
    let new = input::parse_put(validate::json_value(req, DEFAULT_LIMIT)?, kind, xid)?;
    let create_only = header(req, "if-none-match").is_some_and(|v| v.trim() == "*");
    let actor = p.user_id.to_string();
    for _attempt in 0..3 {
        match store::find_external(db, &owner, kind, xid)? {
            None if owner != actor => {
                return Err(ApiError::forbidden(format!(
                    "User {owner} has no live entity of type {kind:?} with external_id {xid:?} to \
                     replace; an admin replaces other users' entities but creates only their own."
                )));
            }
            None => {
                let id = uuid::Uuid::now_v7().to_string();
                let if_match = etag::if_match(header(req, "if-match"), &id);
                if !matches!(if_match, IfMatch::Absent) {
                    return Err(ApiError::PreconditionFailed(format!(
                        "No live entity of type {kind:?} with external_id {xid:?} to match If-Match."
                    )));
                }
                let audit = Audit::by(ctx, &actor);
                if let Some(stored) = store::insert_if_absent(db, &audit, &id, &actor, &new)? {
                    return Ok(with_etag(
                        Reply::created(&format!("{BASE}/{id}"), &stored),
                        &stored,
                    ));
                }
            }
            Some(current) => {
                let id = current.id.clone();
                if create_only {
                    return Err(ApiError::PreconditionFailed(format!(
                        "Entity {id} already has this type and external_id (If-None-Match: *)."
                    )));
                }
                let if_match = etag::if_match(header(req, "if-match"), &id);
                let version = current.version;
                if !if_match.allows(version) {
                    return Err(stale(&id));
                }
                // A replace needs no version to merge against: without a tag in If-Match the
                // last writer wins, as PUT means.
                let conditional = matches!(if_match, IfMatch::Version(_) | IfMatch::Never);
                let expected = conditional.then_some(version);
                match store::replace(db, &Audit::by(ctx, &actor), &id, expected, &new)? {
                    Some(entity) => return Ok(with_etag(Reply::ok(&entity), &entity)),
                    None if conditional => return Err(stale(&id)),
                    None => {}
                }
            }
        }
    }
    Err(ApiError::conflict(
        "The entity kept changing concurrently; retry the request.",
    ))
}
