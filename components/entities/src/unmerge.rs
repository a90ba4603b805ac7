//! `POST /v1/entities/{id}/unmerge`: take entities merged into `{id}` back out, as their merges
//! recorded them. Who may learn what is merge's ([`merge::involved`]); then each entity needs an
//! undoable merge into `{id}` (422), then nothing written since may stand in the way (409, see
//! [`store::unmerge`]).

use serde::Serialize;
use spingraph_guest::audit::Audit;
use spingraph_guest::body::DEFAULT_LIMIT;
use spingraph_guest::db::Db;
use spingraph_guest::routes::Call;
use spingraph_guest::validate::{self, Errors};
use spingraph_guest::{ApiError, Reply, Result};
use spingraph_identity::Principal;

use crate::entity::{entity_id, with_etag};
use crate::store::{Entity, MetadataOutcome};
use crate::{access, input, merge, store};

/// The answer: the survivor as it is now, the entities live again (in `from` order) and what
/// became of the survivor's metadata.
#[derive(Debug, Serialize)]
struct Unmerged<'a> {
    survivor: &'a Entity,
    restored: Vec<Entity>,
    metadata: MetadataOutcome,
}

/// What is wrong with `e` as an entity to take out of `survivor`: it must be merged into it.
fn not_merged_into(survivor: &str, e: &Entity) -> Option<String> {
    match &e.merged_into {
        Some(into) if into == survivor => None,
        Some(into) => Some(format!("was merged into {into}, not into this entity")),
        None if e.is_deleted() => Some("is deleted, not merged".to_string()),
        None => Some("is not merged".to_string()),
    }
}

/// `POST /{id}/unmerge` → 200 `{survivor, restored, metadata}`: in one transaction, the
/// entities of `from` are live again with the relationships their merges moved or dropped back
/// where they were; the caller must own every entity involved, or be an admin, and only an
/// admin's unmerge may move back other users' relationships.
pub fn unmerge(c: &Call, p: &Principal, db: &Db) -> Result<Reply> {
    access::require_write(p)?;
    let id = entity_id(c.param("id"))?;
    let request = input::parse_unmerge(validate::json_value(c.req, DEFAULT_LIMIT)?, &id)?;
    let actor = p.user_id.to_string();
    db.transaction(|db| {
        let mut ids = request.from.clone();
        ids.push(id.clone());
        let locked = store::lock(db, &ids)?;
        let gone = |survivor: &Entity| {
            ApiError::conflict(match &survivor.merged_into {
                Some(into) => format!(
                    "Entity {id} was merged into {into} since; unmerge it from {into} first."
                ),
                None => format!("Entity {id} was deleted since; restore it first."),
            })
        };
        let unfit = |e: &Entity| not_merged_into(&id, e);
        let (survivor, _) =
            merge::involved(p, &locked, &id, &request.from, "unmerge", gone, unfit)?;
        let records = store::records(db, &id, &request.from)?;
        let mut errors = Errors::new();
        for (i, from) in request.from.iter().enumerate() {
            if !records.iter().any(|r| r.entity_id == *from) {
                errors.push(
                    format!("from[{i}]"),
                    "has no merge into this entity to undo (it was merged before merges were \
                     recorded, or re-pointed here when the entity it was merged into was merged)",
                );
            }
        }
        errors.into_result()?;
        let metadata = store::survivor_metadata(&survivor.metadata, &records);
        let (restored, changed) = store::unmerge(
            db,
            &Audit::by(c.ctx, &actor),
            p.is_admin(),
            &id,
            &request.from,
            &records,
            &metadata,
        )?;
        let survivor = changed.as_ref().unwrap_or(survivor);
        let answer = Unmerged {
            survivor,
            restored,
            metadata: metadata.outcome,
        };
        Ok(with_etag(Reply::ok(&answer), survivor))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entity(merged_into: Option<&str>, deleted: bool) -> Entity {
        let mut e = json!({
            "confidence": 1, "created_at": "t", "external_id": null, "id": "e", "metadata": {},
            "name": "n", "owner_id": "o", "type": "t", "updated_at": "t", "version": 2,
        });
        if deleted {
            e["deleted_at"] = json!("t");
            e["deleted_by"] = json!("o");
        }
        if let Some(into) = merged_into {
            e["merged_into"] = json!(into);
        }
        serde_json::from_value(e).unwrap()
    }

    #[test]
    fn only_an_entity_merged_into_the_survivor_can_be_taken_out() {
        assert_eq!(not_merged_into("s", &entity(Some("s"), true)), None);
        for (e, wrong) in [
            (
                entity(Some("x"), true),
                "was merged into x, not into this entity",
            ),
            (entity(None, true), "is deleted, not merged"),
            (entity(None, false), "is not merged"),
        ] {
            assert_eq!(not_merged_into("s", &e).as_deref(), Some(wrong));
        }
    }
}
