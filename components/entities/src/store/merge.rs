//! A merge in one statement: the entities locked, their relationships moved to the survivor or
//! dropped, and an audit and a change row for everything it touched.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use spin_sdk::pg4::ParameterValue;
use spingraph_guest::audit::Audit;
use spingraph_guest::changes::Change;
use spingraph_guest::db::Db;
use spingraph_guest::sql::{Query, fill};
use spingraph_guest::{ApiError, Result};

use super::{Entity, RESOURCE, change, jsonb, nullable, uuid};
use crate::sql::{self, ENTITY_JSON, RELATIONSHIP_JSON};

/// The entities `ids` (deleted or not), locked for update in id order (so two merges over the
/// same entities queue instead of deadlocking); the ones that exist.
pub fn lock(db: &Db, ids: &[String]) -> Result<Vec<Entity>> {
    db.json(sql::LOCK, &[jsonb(&ids)])
}

/// Fold the live entities `from` into the live `survivor` (both locked by [`lock`]): every live
/// relationship of theirs is moved to the survivor, except the ones that would become a
/// self-loop or repeat an active (source, target, type), which are soft-deleted; the merged
/// entities are soft-deleted with `merged_into`, and ones merged into them earlier now point at
/// the survivor. `metadata`, when given, becomes the survivor's. Audit rows and change rows for
/// every entity and relationship touched; the survivor as it is now.
///
/// Relationships belong to their creators: unless `admin`, a merge that would move or delete a
/// live relationship someone other than the actor created writes nothing and is a 409 (the
/// statement counts them itself, with the entities locked, so none slips in between).
pub fn merge(
    db: &Db,
    audit: &Audit,
    admin: bool,
    survivor: &str,
    from: &[String],
    metadata: Option<&Map<String, Value>>,
    how: &str,
) -> Result<Entity> {
    let mut q = Query::of([
        uuid(survivor),
        jsonb(&from),
        nullable(audit.actor_id.map(|a| ParameterValue::Uuid(a.to_string()))),
        nullable(metadata.map(jsonb)),
        ParameterValue::Boolean(admin),
        uuid(&uuid::Uuid::now_v7().to_string()),
    ]);
    let survivor_log = audit.insert_one(
        &mut q,
        "entity.merge",
        RESOURCE,
        "e",
        Some(&json!({"from": from, "metadata": how})),
    );
    // One audit row per row of each source, with the id the statement gave it (`true`).
    let [merged_log, moved_log, dropped_log] = [
        (
            "entity.merged",
            RESOURCE,
            "merged",
            json!({"into": survivor}),
        ),
        (
            "relationship.update",
            "relationship",
            "kept",
            json!({"merge": survivor}),
        ),
        (
            "relationship.delete",
            "relationship",
            "dropped",
            json!({"merge": survivor}),
        ),
    ]
    .map(|(action, resource, source, detail)| {
        audit.insert(&mut q, action, resource, source, true, Some(&detail))
    });
    let survivor_feed = change("merge", audit).insert(&mut q, "e", Some(ENTITY_JSON));
    let merged_feed = change("merge", audit).insert_as(&mut q, "merged", "e", Some(ENTITY_JSON));
    // Entities merged earlier into a merged one now name the survivor.
    let repointed_feed =
        change("merge", audit).insert_as(&mut q, "repointed", "e", Some(ENTITY_JSON));
    let kept_feed = Change::relationship("update", audit.actor_id).insert_as(
        &mut q,
        "kept",
        "r",
        Some(RELATIONSHIP_JSON),
    );
    let dropped_feed =
        Change::relationship("delete", audit.actor_id).insert_as(&mut q, "dropped", "r", None);
    // Vectors of the merged entities copied to the survivor: `embedding` changes of it.
    let embedding_feed = change("embedding", audit).insert_as(
        &mut q,
        "copied_e",
        "e",
        Some(sql::EMBEDDING_DOCUMENT),
    );
    let statement = fill(
        sql::MERGE,
        &[
            ("survivor_log", &survivor_log),
            ("merged_log", &merged_log),
            ("moved_log", &moved_log),
            ("dropped_log", &dropped_log),
            ("survivor_feed", &survivor_feed),
            ("merged_feed", &merged_feed),
            ("kept_feed", &kept_feed),
            ("dropped_feed", &dropped_feed),
            ("repointed_feed", &repointed_feed),
            ("embedding_feed", &embedding_feed),
        ],
    );
    #[derive(Deserialize)]
    struct Merged {
        blocked: i64,
        entity: Option<Entity>,
    }
    let out: Merged = db.json(&statement, q.params())?;
    if out.blocked > 0 {
        return Err(ApiError::conflict(others_relationships(out.blocked)));
    }
    out.entity
        .ok_or_else(|| ApiError::internal("merge found no survivor"))
}

/// `n` of `noun` ("live relationship") in words, and the pronoun for them.
pub(super) fn counted(n: i64, noun: &str) -> (String, &'static str) {
    match n {
        1 => (format!("1 {noun}"), "it"),
        n => (format!("{n} {noun}s"), "them"),
    }
}

/// The 409 of a merge that would change `n` relationships of other users.
fn others_relationships(n: i64) -> String {
    let (count, them) = counted(n, "live relationship");
    format!(
        "The merged entities have {count} created by other users, which a merge would move or \
         delete; only their creators or an admin may change {them}. Ask them to delete {them} \
         (GET /v1/relationships?entity_id=... lists them), or an admin to merge."
    )
}
