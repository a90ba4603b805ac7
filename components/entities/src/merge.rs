//! `POST /v1/entities/{id}/merge`: fold duplicates into one entity.

use serde_json::Value;
use spin_sdk::http::Request;
use spingraph_guest::audit::Audit;
use spingraph_guest::body::DEFAULT_LIMIT;
use spingraph_guest::db::Db;
use spingraph_guest::{ApiError, Ctx, Reply, Result};
use spingraph_guest::{record, validate};
use spingraph_identity::Principal;

use crate::entity::{entity_id, not_found, with_etag};
use crate::input::{self, MergeMetadata};
use crate::{access, store};

/// `POST /{id}/merge` → 200 with the survivor: the entities of `from` are folded into `id` in
/// one transaction (see [`store::merge`]); the caller must own every one of them, or be an admin.
pub fn merge(ctx: &Ctx, req: &Request, p: &Principal, db: &Db, id: &str) -> Result<Reply> {
    access::require_write(p)?;
    let id = entity_id(id)?;
    let request = input::parse_merge(validate::json_value(req, DEFAULT_LIMIT)?, &id)?;
    let actor = p.user_id.to_string();
    db.transaction(|db| {
        let mut ids = request.from.clone();
        ids.push(id.clone());
        let locked = store::lock(db, &ids)?;
        let find = |wanted: &str| locked.iter().find(|e| e.id == wanted);
        let survivor = find(&id).ok_or_else(|| not_found(&id))?;
        if survivor.is_deleted() {
            return Err(match &survivor.merged_into {
                Some(into) => ApiError::conflict(format!(
                    "Entity {id} was merged into {into}; merge into that one."
                )),
                None => not_found(&id),
            });
        }
        let mut errors = validate::Errors::new();
        let mut victims = Vec::new();
        for (i, from) in request.from.iter().enumerate() {
            let field = format!("from[{i}]");
            match find(from) {
                None => errors.push(field, "no such entity"),
                Some(e) if e.is_deleted() => match &e.merged_into {
                    Some(into) => errors.push(field, format!("was already merged into {into}")),
                    None => errors.push(field, "is deleted"),
                },
                Some(e) => victims.push(e),
            }
        }
        errors.into_result()?;
        if !std::iter::once(survivor)
            .chain(victims.iter().copied())
            .all(|e| access::may_modify(p, &e.owner_id))
        {
            return Err(ApiError::forbidden(
                "Only an admin, or the owner of every entity involved, may merge them.",
            ));
        }
        let metadata = match request.metadata {
            MergeMetadata::Keep => None,
            MergeMetadata::Merge => {
                let mut merged = serde_json::Map::new();
                for e in victims
                    .iter()
                    .rev()
                    .copied()
                    .chain(std::iter::once(survivor))
                {
                    merged.extend(e.metadata.clone());
                }
                let mut errors = validate::Errors::new();
                let checked = record::metadata(&mut errors, "metadata", &Value::Object(merged));
                errors.into_result()?;
                checked
            }
        };
        let entity = store::merge(
            db,
            &Audit::by(ctx, &actor),
            &id,
            &request.from,
            metadata.as_ref(),
            request.metadata.as_str(),
        )?;
        Ok(with_etag(Reply::ok(&entity), &entity))
    })
}
