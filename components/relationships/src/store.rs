//! The relationships table, one function per operation over the named statements of
//! [`crate::sql`]: every value bound, the audit and change-feed rows written in the same
//! statement as the change. What they give back is typed: a [`Relationship`] as the API renders
//! it, and the answers that say more than "the row" ([`Inserted`], [`Restoring`]).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value, json};
use spingraph_guest::audit::Audit;
use spingraph_guest::batch::{self, Outcome};
use spingraph_guest::changes::Change;
use spingraph_guest::db::{Db, ParameterValue};
use spingraph_guest::history::{self, AsOf};
use spingraph_guest::page::{Page, PageRequest};
use spingraph_guest::record::Deletion;
use spingraph_guest::sql::{Query, fill};
use spingraph_guest::{ApiError, Result, etag};

use crate::input::{Action, Changes, NewRelationship, Planned};
use crate::sql;

/// `resource_type` of relationship rows in `audit_log`.
const RESOURCE: &str = "relationship";

/// A relationship as the API renders it (`relationship_json_sql!`); its fields are declared in
/// the order the JSON has always listed them (by name), so a reply stays byte for byte what the
/// database rendered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Relationship {
    /// The number as Postgres wrote it (`1`, not `1.0`).
    pub confidence: Number,
    pub created_at: String,
    pub created_by: String,
    #[serde(flatten)]
    pub deletion: Option<Deletion>,
    pub id: String,
    pub metadata: Map<String, Value>,
    pub source_id: String,
    pub target_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub updated_at: String,
    pub version: i64,
}

impl Relationship {
    /// The strong `ETag` of this version.
    pub fn etag(&self) -> String {
        etag::etag(&self.id, self.version)
    }
}

/// What [`sql::INSERT`] found: whether each end is a live entity, whether an active duplicate
/// kept it unwritten, and the new relationship (`None` when an end is missing, both ends name
/// one entity, or a duplicate).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Inserted {
    pub source: bool,
    pub target: bool,
    pub duplicate: bool,
    pub relationship: Option<Relationship>,
}

/// What [`sql::UPDATE`] did: the new version, or `None` when an active duplicate kept it
/// unwritten (`duplicate`) or the relationship changed or vanished meanwhile.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Updated {
    pub duplicate: bool,
    pub relationship: Option<Relationship>,
}

/// What [`sql::RESTORE`] found.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Restoring {
    /// There is such a relationship.
    pub found: bool,
    /// It was deleted.
    pub deleted: bool,
    /// Neither of its entities is deleted.
    pub ends_visible: bool,
    /// An active relationship joins its ends with its type.
    pub duplicate: bool,
    /// The relationship, live again (only when all of the above hold).
    pub relationship: Option<Relationship>,
}

/// The relationship (visible only, unless `include_deleted`), or `None`.
pub fn fetch(db: &Db, id: &str, include_deleted: bool) -> Result<Option<Relationship>> {
    fetch_as_of(db, id, include_deleted, None)
}

/// [`fetch`] as the relationship was at `as_of` (`None`: now).
pub fn fetch_as_of(
    db: &Db,
    id: &str,
    include_deleted: bool,
    as_of: Option<&AsOf>,
) -> Result<Option<Relationship>> {
    db.json(
        &history::scoped(as_of, sql::GET),
        &[
            ParameterValue::Uuid(id.to_string()),
            ParameterValue::Boolean(include_deleted),
        ],
    )
}

/// Insert relationship `id` as `new` says, created by the audit's actor (see [`sql::INSERT`]).
pub fn insert(db: &Db, audit: &Audit, id: &str, new: &NewRelationship) -> Result<Inserted> {
    let [source_id, source_type, source_xid, source_owner] = new.source.params();
    let [target_id, target_type, target_xid, target_owner] = new.target.params();
    let mut q = Query::of([
        ParameterValue::Uuid(id.to_string()),
        source_id,
        target_id,
        ParameterValue::Str(new.kind.clone()),
        ParameterValue::Floating64(new.confidence),
        jsonb(&Value::Object(new.metadata.clone())),
        actor(audit),
        source_type,
        source_xid,
        target_type,
        target_xid,
        source_owner,
        target_owner,
    ]);
    let statement = audited(audit, &mut q, sql::INSERT, "relationship.create", None);
    db.json(&statement, q.params())
}

/// Where [`sql::RESOLVE_BATCH`] found one batch item's ends (`None`: no live entity there) and
/// the active relationship that already joins them with the item's type.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Resolved {
    pub source_id: Option<String>,
    pub target_id: Option<String>,
    pub existing: Option<Existing>,
}

/// An active relationship a batch item would repeat.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Existing {
    pub id: String,
    pub created_by: String,
}

/// Find the ends of every item, natural keys among `caller`'s entities unless an end names
/// another owner, and share-lock them until the transaction ends (see [`sql::RESOLVE_BATCH`]).
/// One entry per item, in order.
pub fn resolve_batch(db: &Db, caller: &str, items: &[NewRelationship]) -> Result<Vec<Resolved>> {
    let rows = batch::rows(items, |item| {
        let (source_id, source_type, source_xid, source_owner) = item.source.parts();
        let (target_id, target_type, target_xid, target_owner) = item.target.parts();
        json!({
            "type": item.kind,
            "source_id": source_id, "source_type": source_type, "source_xid": source_xid,
            "source_owner": source_owner, "target_id": target_id, "target_type": target_type,
            "target_xid": target_xid, "target_owner": target_owner,
        })
    });
    db.json(
        sql::RESOLVE_BATCH,
        &[rows, ParameterValue::Uuid(caller.to_string())],
    )
}

/// One item of a batch as written: what happened to it and its relationship.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BatchItem {
    pub outcome: Outcome,
    pub relationship: Relationship,
}

/// Write every planned item by the audit's actor in one statement (see [`sql::INSERT_BATCH`]):
/// one entry per item, in order, or a 409 when an item could not be written as planned (a
/// relationship with its ends and type created, or the one it updates or skips deleted,
/// concurrently); the caller's transaction then rolls the whole batch back.
pub fn insert_batch(db: &Db, audit: &Audit, planned: &[Planned]) -> Result<Vec<BatchItem>> {
    let rows = batch::rows(planned, |p| {
        let (action, existing) = match &p.action {
            Action::Create => ("create", None),
            Action::Update(id) => ("update", Some(id)),
            Action::Skip(id) => ("skip", Some(id)),
        };
        json!({
            "id": uuid::Uuid::now_v7(), "audit_id": uuid::Uuid::now_v7(),
            "action": action, "existing": existing, "source_id": p.source_id,
            "target_id": p.target_id, "type": p.item.kind, "confidence": p.item.confidence,
            "metadata": p.item.metadata,
        })
    });
    let mut q = Query::of([rows, actor(audit)]);
    let created_log = audit.insert(
        &mut q,
        "relationship.create",
        RESOURCE,
        "created",
        true,
        Some(&json!({"batch": true})),
    );
    let updated_log = audit.insert(
        &mut q,
        "relationship.update",
        RESOURCE,
        "updated",
        true,
        Some(&json!({"batch": true, "fields": ["confidence", "metadata"]})),
    );
    let document = Some(sql::RELATIONSHIP_JSON);
    let created_feed =
        Change::relationship("create", audit.actor_id).insert_as(&mut q, "created", "r", document);
    let updated_feed =
        Change::relationship("update", audit.actor_id).insert_as(&mut q, "updated", "r", document);
    let statement = fill(
        sql::INSERT_BATCH,
        &[
            ("created_log", &created_log),
            ("updated_log", &updated_log),
            ("created_feed", &created_feed),
            ("updated_feed", &updated_feed),
        ],
    );
    let out: Vec<BatchItem> = db.json(&statement, q.params())?;
    if out.len() != planned.len() {
        return Err(ApiError::conflict(
            "Relationships with these ends and types changed concurrently; retry the batch.",
        ));
    }
    Ok(out)
}

/// Write `changes` (of the patched `fields`) if the relationship is still visible and at
/// `version` and no active relationship joins its ends with the new type.
pub fn update(
    db: &Db,
    audit: &Audit,
    id: &str,
    version: i64,
    changes: Changes,
    fields: &[&str],
) -> Result<Updated> {
    let mut q = Query::of([
        ParameterValue::Uuid(id.to_string()),
        ParameterValue::Str(changes.kind),
        ParameterValue::Floating64(changes.confidence),
        jsonb(&Value::Object(changes.metadata)),
        ParameterValue::Int64(version),
    ]);
    let details = json!({ "fields": fields });
    let statement = audited(
        audit,
        &mut q,
        sql::UPDATE,
        "relationship.update",
        Some(&details),
    );
    db.json(&statement, q.params())
}

/// Soft-delete the active relationship `id` (by the audit's actor), at version `expected` when
/// given; whether it happened.
pub fn soft_delete(db: &Db, audit: &Audit, id: &str, expected: Option<i64>) -> Result<bool> {
    let mut q = Query::of([
        ParameterValue::Uuid(id.to_string()),
        actor(audit),
        expected.map_or(ParameterValue::DbNull, ParameterValue::Int64),
    ]);
    let statement = audited(audit, &mut q, sql::SOFT_DELETE, "relationship.delete", None);
    Ok(db
        .json::<Option<Relationship>>(&statement, q.params())?
        .is_some())
}

/// Remove relationship `id` for good, at version `expected` when given; whether a row went away.
pub fn hard_delete(db: &Db, audit: &Audit, id: &str, expected: Option<i64>) -> Result<bool> {
    let mut q = Query::of([
        ParameterValue::Uuid(id.to_string()),
        expected.map_or(ParameterValue::DbNull, ParameterValue::Int64),
    ]);
    let statement = audited(
        audit,
        &mut q,
        sql::HARD_DELETE,
        "relationship.hard_delete",
        None,
    );
    db.json(&statement, q.params())
}

/// Undelete relationship `id` (see [`sql::RESTORE`]).
pub fn restore(db: &Db, audit: &Audit, id: &str) -> Result<Restoring> {
    let mut q = Query::of([ParameterValue::Uuid(id.to_string())]);
    let statement = audited(audit, &mut q, sql::RESTORE, "relationship.restore", None);
    db.json(&statement, q.params())
}

/// One page of relationships: `q` holds the list's conditions over `r`, `s`, `t`.
pub fn list(db: &Db, mut q: Query, page: &PageRequest, as_of: Option<&AsOf>) -> Result<Page> {
    page.after_cursor(&mut q, "r");
    let statement = fill(
        sql::LIST,
        &[
            ("where", &q.where_clause()),
            ("order_by", &page.order_by("r")),
            ("limit", &page.limit_sql()),
        ],
    );
    let rows: Vec<Value> = db.json(&history::scoped(as_of, &statement), q.params())?;
    Ok(page.page(rows))
}

fn jsonb(value: &Value) -> ParameterValue {
    ParameterValue::Jsonb(value.to_string().into_bytes())
}

/// The audit's actor as a parameter (the creator, the deleter).
fn actor(audit: &Audit) -> ParameterValue {
    audit.actor_id.map_or(ParameterValue::DbNull, |a| {
        ParameterValue::Uuid(a.to_string())
    })
}

/// `statement` with its audit row (actor, action, request id) and its change-feed row written by
/// the same statement.
fn audited(
    audit: &Audit,
    q: &mut Query,
    statement: &str,
    action: &str,
    details: Option<&Value>,
) -> String {
    let log = audit.insert_one(q, action, RESOURCE, "r", details);
    let (op, document) = match action.strip_prefix("relationship.") {
        Some("create") => ("create", Some(sql::RELATIONSHIP_JSON)),
        Some("update") => ("update", Some(sql::RELATIONSHIP_JSON)),
        Some("restore") => ("restore", Some(sql::RELATIONSHIP_JSON)),
        _ => ("delete", None),
    };
    let feed = Change::relationship(op, audit.actor_id).insert(q, "r", document);
    fill(statement, &[("audit", &log), ("change", &feed)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relationship_renders_as_the_database_wrote_it() {
        let live = r#"{"confidence":1,"created_at":"2026-01-02T03:04:05.000006Z","created_by":"u","id":"i","metadata":{"k":[0.5]},"source_id":"s","target_id":"t","type":"knows","updated_at":"2026-01-02T03:04:05.000006Z","version":2}"#;
        let r: Relationship = serde_json::from_str(live).unwrap();
        assert_eq!(serde_json::to_string(&r).unwrap(), live);
        assert_eq!(r.etag(), "\"i.2\"");
        let deleted = r#"{"confidence":0.25,"created_at":"a","created_by":"u","deleted_at":"b","deleted_by":null,"id":"i","metadata":{},"source_id":"s","target_id":"t","type":"knows","updated_at":"b","version":3}"#;
        let r: Relationship = serde_json::from_str(deleted).unwrap();
        assert_eq!(r.deletion.as_ref().unwrap().deleted_by, None);
        assert_eq!(serde_json::to_string(&r).unwrap(), deleted);
    }
}
