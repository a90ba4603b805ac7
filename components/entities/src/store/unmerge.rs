//! An unmerge: the merge records of the entities to bring back ([`records`]), what becomes of
//! the survivor's metadata ([`survivor_metadata`]), and the undo itself in one statement
//! ([`unmerge`]), with an audit and a change row for everything it touched, or a 409 naming what
//! changed since the merge ([`Outcome::refusal`]).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use spin_sdk::pg4::ParameterValue;
use spingraph_guest::audit::Audit;
use spingraph_guest::changes::Change;
use spingraph_guest::db::Db;
use spingraph_guest::sql::{Query, fill};
use spingraph_guest::{ApiError, Result};

use super::merge::counted;
use super::{Entity, RESOURCE, change, jsonb, nullable, uuid};
use crate::sql::{self, ENTITY_JSON, RELATIONSHIP_JSON};

/// The merge an unmerge undoes for one entity: the latest merge of it into the survivor that is
/// not undone yet.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Record {
    pub entity_id: String,
    pub merge_id: String,
    /// How many entities that merge folded in stay merged after this unmerge.
    pub staying: i64,
    /// The survivor's metadata before and after that merge, when it changed it.
    pub metadata_before: Option<Map<String, Value>>,
    pub metadata_after: Option<Map<String, Value>>,
}

/// The records of the merges of `from` into `survivor` (an entity merged before merges were
/// recorded, re-pointed here or already unmerged has none), newest merge first.
pub fn records(db: &Db, survivor: &str, from: &[String]) -> Result<Vec<Record>> {
    db.json(sql::MERGE_RECORDS, &[uuid(survivor), jsonb(&from)])
}

/// What an unmerge does to the survivor's metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MetadataOutcome {
    /// None of the merges undone changed it.
    Unchanged,
    /// A merge undone changed it, and it is kept: it changed since, or other entities that
    /// merge folded in stay merged.
    Kept,
    /// Put back as it was before the merges undone.
    Restored,
}

/// What an unmerge does to the survivor's metadata, and the metadata it puts back.
#[derive(Debug, Clone, PartialEq)]
pub struct SurvivorMetadata {
    pub outcome: MetadataOutcome,
    /// Only when [`MetadataOutcome::Restored`].
    pub restored: Option<Map<String, Value>>,
}

/// The survivor's metadata after undoing `records` (newest merge first) when it has `current`:
/// walking back from the newest merge that changed it, each merge's `metadata_before` while the
/// metadata is still what that merge made it and the merge is undone in full.
pub fn survivor_metadata(current: &Map<String, Value>, records: &[Record]) -> SurvivorMetadata {
    let mut seen: Vec<&str> = Vec::new();
    let mut metadata = current;
    let mut outcome = MetadataOutcome::Unchanged;
    for r in records {
        if seen.contains(&r.merge_id.as_str()) {
            continue;
        }
        seen.push(&r.merge_id);
        let (Some(before), Some(after)) = (&r.metadata_before, &r.metadata_after) else {
            continue;
        };
        if r.staying > 0 || metadata != after {
            if outcome == MetadataOutcome::Unchanged {
                outcome = MetadataOutcome::Kept;
            }
            break;
        }
        metadata = before;
        outcome = MetadataOutcome::Restored;
    }
    let restored = (outcome == MetadataOutcome::Restored).then(|| metadata.clone());
    SurvivorMetadata { outcome, restored }
}

/// A relationship to put back that changed since the merge.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Changed {
    pub id: String,
    /// The change feed's `seq` of the first change after the merge (none when it was deleted for
    /// good while deleted, which the feed does not record).
    pub seq: Option<i64>,
    /// Deleted for good.
    pub gone: bool,
}

/// An entity to bring back whose natural key another entity holds.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Taken {
    pub id: String,
    /// A live entity, or another entity of the same unmerge.
    pub by: String,
}

/// What the unmerge statement found and did.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Outcome {
    pub changed: Vec<Changed>,
    pub taken: Vec<Taken>,
    /// Relationships to put back created by other users (for an actor who is no admin).
    pub blocked: i64,
    /// Relationships to put back, and put back.
    pub planned: i64,
    pub done: i64,
    /// The entities live again (none when refused).
    pub restored: Vec<Entity>,
    /// The survivor, when its metadata was put back.
    pub survivor: Option<Entity>,
}

impl Outcome {
    /// The 409 of an unmerge of `from` that wrote nothing, naming what stands in its way: the
    /// relationships changed since the merge (with the feed `seq` of each one's change), the
    /// entities whose natural key is taken, or how many relationships are other users'.
    pub fn refusal(&self, from: &[String]) -> Option<ApiError> {
        if !self.changed.is_empty() {
            let named: Vec<String> = self
                .changed
                .iter()
                .map(|c| match (c.seq, c.gone) {
                    (Some(seq), false) => format!("{} (change-feed seq {seq})", c.id),
                    (Some(seq), true) => {
                        format!("{} (deleted for good, change-feed seq {seq})", c.id)
                    }
                    (None, _) => format!("{} (deleted for good)", c.id),
                })
                .collect();
            let (subject, verb) = match named.len() {
                1 => ("Relationship", "was changed"),
                _ => ("Relationships", "were changed"),
            };
            return Some(ApiError::conflict(format!(
                "{subject} {} {verb} after the merge; an unmerge would undo that change, so \
                 nothing was unmerged. GET /v1/changes?after=<seq - 1> shows the change; put the \
                 relationship back as the merge left it, or unmerge no entity it connects.",
                named.join(", ")
            )));
        }
        let field = |id: &str| match from.iter().position(|f| f == id) {
            Some(i) => format!("from[{i}]"),
            None => id.to_string(),
        };
        if let Some(t) = self.taken.first() {
            let holder = match from.iter().position(|f| *f == t.by) {
                Some(j) => format!("from[{j}], which this unmerge brings back too"),
                None => format!("live entity {}", t.by),
            };
            return Some(ApiError::conflict(format!(
                "The natural key (type, external_id) of {} ({}) is held by {holder} now; change \
                 or delete that one first.",
                field(&t.id),
                t.id
            )));
        }
        (self.blocked > 0).then(|| {
            let (count, them) = counted(self.blocked, "relationship");
            ApiError::conflict(format!(
                "An unmerge would move back or restore {count} created by other users; only \
                 their creators or an admin may change {them}. Ask an admin to unmerge."
            ))
        })
    }
}

/// Undo the merges `records` of the entities `from` into `survivor` (every one locked): see
/// [`sql::UNMERGE`]. The survivor's `metadata` is put back when restored (its outcome goes in
/// the audit row). The entities live again, in `from` order, and the survivor when its metadata
/// changed; a 409 and nothing written when a later write stands in the way.
pub fn unmerge(
    db: &Db,
    audit: &Audit,
    admin: bool,
    survivor: &str,
    from: &[String],
    records: &[Record],
    metadata: &SurvivorMetadata,
) -> Result<(Vec<Entity>, Option<Entity>)> {
    let pairs: Vec<Value> = records
        .iter()
        .map(|r| json!({"merge_id": r.merge_id, "entity_id": r.entity_id}))
        .collect();
    let mut q = Query::of([
        uuid(survivor),
        jsonb(&pairs),
        nullable(audit.actor_id.map(|a| ParameterValue::Uuid(a.to_string()))),
        ParameterValue::Boolean(admin),
        nullable(metadata.restored.as_ref().map(jsonb)),
    ]);
    let survivor_log = audit.insert_one(
        &mut q,
        "entity.unmerge",
        RESOURCE,
        "s",
        Some(&json!({"from": from, "metadata": metadata.outcome})),
    );
    // One audit row per row of each source, with the id the statement gave it (`true`).
    let [restored_log, moved_log, revived_log, repointed_log] = [
        (
            "entity.unmerged",
            RESOURCE,
            "back",
            json!({"from": survivor}),
        ),
        (
            "relationship.update",
            "relationship",
            "moved_back",
            json!({"unmerge": survivor}),
        ),
        (
            "relationship.restore",
            "relationship",
            "revived",
            json!({"unmerge": survivor}),
        ),
        (
            "entity.repoint",
            RESOURCE,
            "repointed",
            json!({"unmerge": survivor}),
        ),
    ]
    .map(|(action, resource, source, detail)| {
        audit.insert(&mut q, action, resource, source, true, Some(&detail))
    });
    let survivor_feed = change("update", audit).insert(&mut q, "e", Some(ENTITY_JSON));
    let restored_feed = change("restore", audit).insert_as(&mut q, "back", "e", Some(ENTITY_JSON));
    // Entities a merge re-pointed at the survivor are merged into the restored one again.
    let repointed_feed =
        change("merge", audit).insert_as(&mut q, "repointed", "e", Some(ENTITY_JSON));
    // The survivor's vectors copied by the merges undone, taken back: `embedding` changes.
    let embedding_feed = change("embedding", audit).insert_as(
        &mut q,
        "taken_back_e",
        "e",
        Some(sql::EMBEDDING_DOCUMENT),
    );
    let [moved_feed, revived_feed] =
        [("update", "moved_back"), ("restore", "revived")].map(|(op, source)| {
            Change::relationship(op, audit.actor_id).insert_as(
                &mut q,
                source,
                "r",
                Some(RELATIONSHIP_JSON),
            )
        });
    let statement = fill(
        sql::UNMERGE,
        &[
            ("survivor_log", &survivor_log),
            ("restored_log", &restored_log),
            ("moved_log", &moved_log),
            ("revived_log", &revived_log),
            ("repointed_log", &repointed_log),
            ("survivor_feed", &survivor_feed),
            ("restored_feed", &restored_feed),
            ("moved_feed", &moved_feed),
            ("revived_feed", &revived_feed),
            ("repointed_feed", &repointed_feed),
            ("embedding_feed", &embedding_feed),
        ],
    );
    let out: Outcome = db.json(&statement, q.params())?;
    if let Some(refused) = out.refusal(from) {
        return Err(refused);
    }
    // Every entity is locked; a relationship is not, and one changed between the statement's
    // snapshot and its update is left alone: the caller's transaction rolls back.
    if out.done != out.planned || out.restored.len() != records.len() {
        return Err(ApiError::conflict(
            "A relationship to put back changed while the unmerge ran; nothing was unmerged. Retry.",
        ));
    }
    let mut restored = out.restored;
    restored.sort_by_key(|e| from.iter().position(|f| *f == e.id));
    Ok((restored, out.survivor))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(merge: &str, staying: i64, metadata: Option<(Value, Value)>) -> Record {
        let (before, after) = match metadata {
            Some((b, a)) => (b.as_object().cloned(), a.as_object().cloned()),
            None => (None, None),
        };
        Record {
            entity_id: format!("e-{merge}"),
            merge_id: merge.to_string(),
            staying,
            metadata_before: before,
            metadata_after: after,
        }
    }

    /// [`survivor_metadata`] as a pair.
    fn planned(
        current: &Map<String, Value>,
        records: &[Record],
    ) -> (MetadataOutcome, Option<Map<String, Value>>) {
        let plan = survivor_metadata(current, records);
        (plan.outcome, plan.restored)
    }

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn metadata_goes_back_while_it_is_what_each_merge_made_it() {
        let merged = Some((json!({"a": 1}), json!({"a": 1, "b": 2})));
        let current = map(json!({"a": 1, "b": 2}));
        // Unchanged since the merge: restored.
        let (how, m) = planned(&current, &[record("m1", 0, merged.clone())]);
        assert_eq!(
            (how, m),
            (MetadataOutcome::Restored, Some(map(json!({"a": 1}))))
        );
        // Changed since: kept.
        let patched = map(json!({"a": 1, "b": 3}));
        let (how, m) = planned(&patched, &[record("m1", 0, merged.clone())]);
        assert_eq!((how, m), (MetadataOutcome::Kept, None));
        // Another entity of that merge stays merged: its keys stay too.
        let (how, m) = planned(&current, &[record("m1", 1, merged.clone())]);
        assert_eq!((how, m), (MetadataOutcome::Kept, None));
        // The merge kept the metadata: nothing to do.
        let (how, m) = planned(&current, &[record("m1", 0, None)]);
        assert_eq!((how, m), (MetadataOutcome::Unchanged, None));
    }

    #[test]
    fn metadata_walks_back_through_several_merges_newest_first() {
        let m2 = record(
            "m2",
            0,
            Some((json!({"a": 1, "b": 2}), json!({"a": 1, "b": 2, "c": 3}))),
        );
        let keep = record("m15", 0, None);
        let m1 = record("m1", 0, Some((json!({"a": 1}), json!({"a": 1, "b": 2}))));
        let current = map(json!({"a": 1, "b": 2, "c": 3}));
        let (how, m) = planned(&current, &[m2.clone(), keep, m1.clone()]);
        assert_eq!(
            (how, m),
            (MetadataOutcome::Restored, Some(map(json!({"a": 1}))))
        );
        // The same merge twice (two entities it folded in) counts once.
        let twice = [m2.clone(), m2.clone(), m1.clone()];
        assert_eq!(planned(&current, &twice).1, Some(map(json!({"a": 1}))));
        // Walking back stops at the first merge whose result is gone: the later one's undone.
        let m1_other = record("m1", 0, Some((json!({}), json!({"z": 0}))));
        let (how, m) = planned(&current, &[m2, m1_other]);
        assert_eq!(
            (how, m),
            (
                MetadataOutcome::Restored,
                Some(map(json!({"a": 1, "b": 2})))
            )
        );
    }

    fn outcome() -> Outcome {
        Outcome {
            changed: vec![],
            taken: vec![],
            blocked: 0,
            planned: 0,
            done: 0,
            restored: vec![],
            survivor: None,
        }
    }

    fn detail(err: ApiError) -> String {
        assert_eq!(err.status(), 409);
        match err {
            ApiError::Conflict(detail) => detail,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_refusal_names_the_changed_relationships_and_their_change_seq_first() {
        let from = ["a".to_string(), "b".to_string()];
        assert!(outcome().refusal(&from).is_none());
        let mut out = outcome();
        out.blocked = 2;
        out.taken = vec![Taken {
            id: "b".into(),
            by: "x".into(),
        }];
        out.changed = vec![
            Changed {
                id: "r1".into(),
                seq: Some(42),
                gone: false,
            },
            Changed {
                id: "r2".into(),
                seq: None,
                gone: true,
            },
        ];
        let d = detail(out.refusal(&from).unwrap());
        assert!(
            d.starts_with(
                "Relationships r1 (change-feed seq 42), r2 (deleted for good) were changed"
            ),
            "{d}"
        );
        out.changed.clear();
        let d = detail(out.refusal(&from).unwrap());
        assert!(d.contains("of from[1] (b) is held by live entity x"), "{d}");
        out.taken = vec![Taken {
            id: "b".into(),
            by: "a".into(),
        }];
        let d = detail(out.refusal(&from).unwrap());
        assert!(
            d.contains("held by from[0], which this unmerge brings back too"),
            "{d}"
        );
        out.taken.clear();
        let d = detail(out.refusal(&from).unwrap());
        assert!(
            d.contains("restore 2 relationships created by other users"),
            "{d}"
        );
    }
}
