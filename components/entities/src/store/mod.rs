//! The entities table, one function per operation over the named statements of [`crate::sql`]:
//! every value bound, the audit and change-feed rows written in the same statement as the
//! change.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value, json};
use spin_sdk::pg4::ParameterValue;
use spingraph_guest::audit::Audit;
use spingraph_guest::batch::{self, OnConflict};
use spingraph_guest::changes::Change;
use spingraph_guest::db::Db;
use spingraph_guest::etag::{self, IfMatch};
use spingraph_guest::history::{self, AsOf};
use spingraph_guest::page::{KeyKind, Page, PageRequest, Sort, SortKey};
use spingraph_guest::record::Deletion;
use spingraph_guest::sql::{Query, fill};
use spingraph_guest::{ApiError, Result};

use crate::input::{EntityPatch, ListFilter, NewEntity, contains_pattern};
use crate::sql::{self, ENTITY_JSON};

pub mod embedding;
mod merge;
mod unmerge;
pub use merge::{lock, merge};
pub use unmerge::{MetadataOutcome, Record, SurvivorMetadata, records, survivor_metadata, unmerge};

/// An entity as the API renders it ([`crate::sql::ENTITY_JSON`]); its fields are declared in the
/// order the JSON has always listed them (by name), so a reply stays byte for byte what the
/// database rendered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    /// The number as Postgres wrote it (`1`, not `1.0`).
    pub confidence: Number,
    pub created_at: String,
    #[serde(flatten)]
    pub deletion: Option<Deletion>,
    pub external_id: Option<String>,
    pub id: String,
    /// Only on entities merged into another (the survivor's id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<String>,
    pub metadata: Map<String, Value>,
    pub name: String,
    pub owner_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub updated_at: String,
    pub version: i64,
}

impl Entity {
    /// The strong `ETag` of this version.
    pub fn etag(&self) -> String {
        etag::etag(&self.id, self.version)
    }

    /// Soft-deleted (or merged into another).
    pub fn is_deleted(&self) -> bool {
        self.deletion.is_some()
    }
}

/// `resource_type` of entity rows in `audit_log`.
pub const RESOURCE: &str = "entity";

/// The sorts `GET /` accepts (`sort=name`, `sort=-confidence`, ...).
pub static SORTS: &[SortKey] = &[
    SortKey::CREATED_AT,
    SortKey::new("name", KeyKind::Text),
    SortKey::CONFIDENCE,
];

/// Newest first.
pub fn default_sort() -> Sort {
    Sort::desc(&SORTS[0])
}

fn jsonb(value: &impl serde::Serialize) -> ParameterValue {
    ParameterValue::Jsonb(serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec()))
}

fn uuid(id: &str) -> ParameterValue {
    ParameterValue::Uuid(id.to_string())
}

/// The change-feed row of an entity mutation by the audit's actor.
fn change<'a>(op: &'static str, audit: &Audit<'a>) -> Change<'a> {
    Change::entity(op, audit.actor_id)
}

/// `value`, or a NULL (the statement casts it).
fn nullable(value: Option<ParameterValue>) -> ParameterValue {
    value.unwrap_or(ParameterValue::DbNull)
}

/// The `If-Match` version as an `int8` parameter (NULL: no condition; -1 never matches).
fn expected_version(if_match: IfMatch) -> ParameterValue {
    match if_match {
        IfMatch::Absent | IfMatch::Any => ParameterValue::DbNull,
        IfMatch::Version(v) => ParameterValue::Int64(v),
        IfMatch::Never => ParameterValue::Int64(-1),
    }
}

/// Insert one entity owned by `owner_id`; the stored entity. A live entity of theirs with the
/// same `(type, external_id)` is a 409 saying so.
pub fn insert(db: &Db, audit: &Audit, id: &str, owner_id: &str, e: &NewEntity) -> Result<Entity> {
    insert_if_absent(db, audit, id, owner_id, e)?.ok_or_else(|| match &e.external_id {
        Some(xid) => ApiError::conflict(format!(
            "A live entity of type {:?} with external_id {xid:?} already exists.",
            e.kind
        )),
        None => ApiError::internal("insert returned no entity"),
    })
}

/// [`insert`], except that a live entity of the owner's with the same `(type, external_id)` makes
/// it insert nothing and return `None` (a concurrent `PUT` of one natural key). The statement
/// says so itself (`ON CONFLICT DO NOTHING`): no released Spin hands the guest the SQLSTATE of a
/// unique violation raised while a query runs.
pub fn insert_if_absent(
    db: &Db,
    audit: &Audit,
    id: &str,
    owner_id: &str,
    e: &NewEntity,
) -> Result<Option<Entity>> {
    let mut q = Query::of([
        uuid(id),
        ParameterValue::Str(e.kind.clone()),
        ParameterValue::Str(e.name.clone()),
        ParameterValue::Floating64(e.confidence),
        jsonb(&e.metadata),
        uuid(owner_id),
        nullable(e.external_id.clone().map(ParameterValue::Str)),
    ]);
    let log = audit.insert_one(&mut q, "entity.create", RESOURCE, "e", None);
    let feed = change("create", audit).insert(&mut q, "e", Some(ENTITY_JSON));
    let statement = fill(sql::INSERT, &[("audit", &log), ("change", &feed)]);
    db.json::<Option<Entity>>(&statement, q.params())
}

/// The live entity of `owner_id` with `kind` and `external_id`, if any.
pub fn find_external(
    db: &Db,
    owner_id: &str,
    kind: &str,
    external_id: &str,
) -> Result<Option<Entity>> {
    db.json(
        sql::FIND_EXTERNAL,
        &[
            ParameterValue::Str(kind.to_string()),
            ParameterValue::Str(external_id.to_string()),
            uuid(owner_id),
        ],
    )
}

/// The live entities of `owner_id` holding the natural keys of `items` (those with an
/// `external_id`), as `(item index, entity)`.
pub fn find_externals(
    db: &Db,
    owner_id: &str,
    items: &[NewEntity],
) -> Result<Vec<(usize, Entity)>> {
    let keys: Vec<Value> = items
        .iter()
        .enumerate()
        .filter_map(|(ord, e)| {
            let xid = e.external_id.as_ref()?;
            Some(json!({"ord": ord, "type": e.kind, "external_id": xid}))
        })
        .collect();
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    #[derive(Deserialize)]
    struct Found {
        ord: usize,
        entity: Entity,
    }
    let rows: Vec<Found> = db.json(sql::FIND_EXTERNALS, &[jsonb(&keys), uuid(owner_id)])?;
    Ok(rows.into_iter().map(|row| (row.ord, row.entity)).collect())
}

/// One item of a batch as stored: what happened to it and the entity it names.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BatchItem {
    pub outcome: batch::Outcome,
    pub entity: Entity,
}

/// Write every item, owned by `owner_id`, in one statement: items whose natural key a live
/// entity of theirs has are, by `on_conflict`, a 409 (`Error`), left alone (`Skip`: the existing
/// entity is returned) or written over (`Update`: name, confidence and metadata). One entry per
/// item, in input order, when every item was accounted for.
pub fn insert_batch(
    db: &Db,
    audit: &Audit,
    owner_id: &str,
    items: &[NewEntity],
    on_conflict: OnConflict,
) -> Result<Vec<BatchItem>> {
    let rows = batch::rows(items, |e| {
        json!({
            "id": uuid::Uuid::now_v7(), "audit_id": uuid::Uuid::now_v7(),
            "type": e.kind, "name": e.name, "confidence": e.confidence, "metadata": e.metadata,
            "external_id": e.external_id,
        })
    });
    let mut q = Query::of([rows, uuid(owner_id)]);
    // `error` skips too: an item left unwritten (a natural key taken concurrently, after the
    // caller's look-up) makes the batch a 409 below, and the caller's transaction rolls back.
    let conflict = match on_conflict {
        OnConflict::Error | OnConflict::Skip => sql::SKIP_EXISTING,
        OnConflict::Update => sql::UPDATE_EXISTING,
    };
    let batch = json!({"batch": true});
    let created_log = audit.insert(
        &mut q,
        "entity.create",
        RESOURCE,
        "created",
        true,
        Some(&batch),
    );
    let updated_log = audit.insert(
        &mut q,
        "entity.update",
        RESOURCE,
        "updated",
        true,
        Some(&json!({"batch": true, "fields": ["name", "confidence", "metadata"]})),
    );
    let created_feed = change("create", audit).insert_as(&mut q, "created", "e", Some(ENTITY_JSON));
    let updated_feed = change("update", audit).insert_as(&mut q, "updated", "e", Some(ENTITY_JSON));
    let skipped = match on_conflict {
        OnConflict::Skip => sql::SKIPPED,
        OnConflict::Error | OnConflict::Update => "",
    };
    let statement = fill(
        sql::INSERT_BATCH,
        &[
            ("conflict", conflict),
            ("created_log", &created_log),
            ("updated_log", &updated_log),
            ("created_feed", &created_feed),
            ("updated_feed", &updated_feed),
            ("skipped", skipped),
        ],
    );
    let out: Vec<BatchItem> = db.json(&statement, q.params())?;
    if out.len() != items.len() {
        return Err(ApiError::conflict(match on_conflict {
            OnConflict::Error => {
                "An item's type and external_id are taken by a live entity (written concurrently); retry."
            }
            _ => "Entities with these natural keys changed concurrently; retry the batch.",
        }));
    }
    Ok(out)
}

/// One entity by id, deleted or not; `None` when there is none.
pub fn find(db: &Db, id: &str) -> Result<Option<Entity>> {
    find_as_of(db, id, None)
}

/// [`find`] as the entity was at `as_of` (`None`: now).
pub fn find_as_of(db: &Db, id: &str, as_of: Option<&AsOf>) -> Result<Option<Entity>> {
    db.json(&history::scoped(as_of, sql::FIND), &[uuid(id)])
}

/// One page of entities matching `filter`, in `page`'s order.
pub fn list(db: &Db, filter: &ListFilter, page: &PageRequest) -> Result<Page> {
    let mut q = Query::new();
    if !filter.include_deleted {
        q.filter("e.deleted_at IS NULL");
    }
    if let Some(kind) = &filter.kind {
        let p = q.bind(ParameterValue::Str(kind.clone()));
        q.filter(format!("e.type = {p}"));
    }
    if let Some(needle) = &filter.q {
        let p = q.bind(ParameterValue::Str(contains_pattern(needle)));
        q.filter(format!("e.name ILIKE {p} ESCAPE '\\'"));
    }
    if let Some(min) = filter.min_confidence {
        let p = q.bind(ParameterValue::Floating64(min));
        q.filter(format!("e.confidence >= {p}"));
    }
    if let Some(metadata) = &filter.metadata {
        let p = q.bind(jsonb(metadata));
        q.filter(format!("e.metadata @> {p}"));
    }
    if let Some(after) = &filter.created_after {
        let p = q.bind(ParameterValue::Str(after.clone()));
        q.filter(format!("e.created_at > {p}::timestamptz"));
    }
    if let Some(before) = &filter.created_before {
        let p = q.bind(ParameterValue::Str(before.clone()));
        q.filter(format!("e.created_at < {p}::timestamptz"));
    }
    if let Some(owner) = &filter.owner_id {
        let p = q.bind(uuid(owner));
        q.filter(format!("e.owner_id = {p}"));
    }
    page.after_cursor(&mut q, "e");
    let statement = fill(
        sql::LIST,
        &[
            ("outer", &page.order_by("s")),
            ("column", page.sort.key.column),
            ("where", &q.where_clause()),
            ("inner", &page.order_by("e")),
            ("limit", &page.limit_sql()),
        ],
    );
    let statement = history::scoped(filter.as_of.as_ref(), &statement);
    let rows: Vec<Value> = db.json(&statement, q.params())?;
    Ok(page.page(rows))
}

/// Apply a validated patch if the entity is still at `version` and not deleted; `None` when it
/// changed (or was deleted) in between, a 409 when another live entity holds the natural key
/// the patch gives it.
pub fn update(
    db: &Db,
    audit: &Audit,
    id: &str,
    version: i64,
    patch: &EntityPatch,
    metadata: Option<&Map<String, Value>>,
) -> Result<Option<Entity>> {
    let mut q = Query::of([
        uuid(id),
        nullable(patch.kind.clone().map(ParameterValue::Str)),
        nullable(patch.name.clone().map(ParameterValue::Str)),
        nullable(patch.confidence.map(ParameterValue::Floating64)),
        nullable(metadata.map(jsonb)),
        // external_id: unchanged unless the patch names it (a string, or null to remove it).
        ParameterValue::Boolean(patch.external_id.is_some()),
        nullable(patch.external_id.clone().flatten().map(ParameterValue::Str)),
        ParameterValue::Int64(version),
    ]);
    let log = audit.insert_one(
        &mut q,
        "entity.update",
        RESOURCE,
        "e",
        Some(&json!({"fields": patch.fields()})),
    );
    let feed = change("update", audit).insert(&mut q, "e", Some(ENTITY_JSON));
    let statement = fill(sql::UPDATE, &[("audit", &log), ("change", &feed)]);
    #[derive(Deserialize)]
    struct Patched {
        taken: bool,
        entity: Option<Entity>,
    }
    let out: Patched = db.json(&statement, q.params())?;
    if out.taken {
        return Err(ApiError::conflict(match &patch.external_id {
            Some(Some(xid)) => {
                format!("A live entity of this type with external_id {xid:?} already exists.")
            }
            _ => "A live entity of this type with this external_id already exists.".to_string(),
        }));
    }
    Ok(out.entity)
}

/// Replace the name, confidence and metadata of live entity `id` (`PUT` by natural key), if it
/// is still at `version` when one is given; `None` when it was not (or was deleted meanwhile).
pub fn replace(
    db: &Db,
    audit: &Audit,
    id: &str,
    version: Option<i64>,
    e: &NewEntity,
) -> Result<Option<Entity>> {
    let mut q = Query::of([
        uuid(id),
        ParameterValue::Str(e.name.clone()),
        ParameterValue::Floating64(e.confidence),
        jsonb(&e.metadata),
        nullable(version.map(ParameterValue::Int64)),
    ]);
    let log = audit.insert_one(
        &mut q,
        "entity.update",
        RESOURCE,
        "e",
        Some(&json!({"fields": ["name", "confidence", "metadata"], "put": true})),
    );
    let feed = change("update", audit).insert(&mut q, "e", Some(ENTITY_JSON));
    db.json(
        &fill(sql::REPLACE, &[("audit", &log), ("change", &feed)]),
        q.params(),
    )
}

/// What a conditional delete found.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Outcome {
    /// The entity existed (and, for a soft delete, was not already deleted).
    pub found: bool,
    /// The write happened.
    pub done: bool,
    /// The current owner, when found.
    pub owner_id: Option<String>,
}

/// Soft-delete if the actor owns it (or `admin`) and `If-Match` holds.
pub fn soft_delete(
    db: &Db,
    audit: &Audit,
    id: &str,
    actor_id: &str,
    admin: bool,
    if_match: IfMatch,
) -> Result<Outcome> {
    let mut q = Query::of([
        uuid(id),
        uuid(actor_id),
        ParameterValue::Boolean(admin),
        expected_version(if_match),
    ]);
    let log = audit.insert_one(&mut q, "entity.delete", RESOURCE, "e", None);
    let feed = change("delete", audit).insert(&mut q, "e", None);
    let statement = fill(sql::SOFT_DELETE, &[("audit", &log), ("change", &feed)]);
    db.json(&statement, q.params())
}

/// Delete for good (admin); its relationships go with it (`ON DELETE CASCADE`). `If-Match` holds.
pub fn hard_delete(db: &Db, audit: &Audit, id: &str, if_match: IfMatch) -> Result<Outcome> {
    let mut q = Query::of([uuid(id), expected_version(if_match)]);
    let log = audit.insert_one(
        &mut q,
        "entity.hard_delete",
        RESOURCE,
        "e",
        Some(&json!({"hard": true})),
    );
    // Tombstones for the entity and for the live relationships its delete cascades to.
    let feed = change("delete", audit).insert(&mut q, "gone", None);
    let edges = Change::relationship("delete", audit.actor_id).insert(&mut q, "gone_edges", None);
    let statement = fill(
        sql::HARD_DELETE,
        &[("audit", &log), ("change", &feed), ("edges", &edges)],
    );
    db.json(&statement, q.params())
}

/// What [`restore`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Restored {
    /// The entity, live again.
    Entity(Box<Entity>),
    /// It is not deleted.
    NotDeleted,
    /// It was merged into this entity (its relationships are the survivor's now).
    Merged(String),
    /// There is no such entity.
    Missing,
    /// A live entity holds its `(type, external_id)` now.
    NaturalKeyTaken,
}

/// Undo a soft delete (admin); merged entities stay merged.
pub fn restore(db: &Db, audit: &Audit, id: &str) -> Result<Restored> {
    let mut q = Query::of([uuid(id)]);
    let log = audit.insert_one(&mut q, "entity.restore", RESOURCE, "e", None);
    let feed = change("restore", audit).insert(&mut q, "e", Some(ENTITY_JSON));
    let statement = fill(sql::RESTORE, &[("audit", &log), ("change", &feed)]);
    #[derive(Deserialize)]
    struct Found {
        found: bool,
        merged_into: Option<String>,
        taken: bool,
        entity: Option<Entity>,
    }
    let out: Found = db.json(&statement, q.params())?;
    Ok(match out {
        Found {
            entity: Some(entity),
            ..
        } => Restored::Entity(Box::new(entity)),
        Found {
            merged_into: Some(survivor),
            ..
        } => Restored::Merged(survivor),
        Found { taken: true, .. } => Restored::NaturalKeyTaken,
        Found { found: true, .. } => Restored::NotDeleted,
        Found { found: false, .. } => Restored::Missing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entity_renders_as_the_database_wrote_it() {
        let live = r#"{"confidence":1,"created_at":"2026-01-02T03:04:05.000006Z","external_id":null,"id":"0192e4a0-0000-7000-8000-000000000001","metadata":{"a":[1,{"b":0.25}]},"name":"Ada","owner_id":"0192e4a0-0000-7000-8000-000000000002","type":"person","updated_at":"2026-01-02T03:04:05.000006Z","version":1}"#;
        let e: Entity = serde_json::from_str(live).unwrap();
        assert_eq!(serde_json::to_string(&e).unwrap(), live);
        assert!(!e.is_deleted());
        let deleted = r#"{"confidence":0.5,"created_at":"t","deleted_at":"t","deleted_by":null,"external_id":"x-1","id":"i","merged_into":"m","metadata":{},"name":"n","owner_id":"o","type":"t","updated_at":"t","version":3}"#;
        let e: Entity = serde_json::from_str(deleted).unwrap();
        assert_eq!(e.deletion.as_ref().unwrap().deleted_by, None);
        assert_eq!(serde_json::to_string(&e).unwrap(), deleted);
        assert_eq!(e.etag(), "\"i.3\"");
        // the same bytes as the untyped value they replace
        let untyped: Value = serde_json::from_str(deleted).unwrap();
        assert_eq!(serde_json::to_string(&untyped).unwrap(), deleted);
    }

    #[test]
    fn absent_values_are_nulls_and_an_unmatchable_if_match_is_minus_one() {
        assert!(matches!(nullable(None), ParameterValue::DbNull));
        assert!(matches!(
            expected_version(IfMatch::Any),
            ParameterValue::DbNull
        ));
        assert!(matches!(
            expected_version(IfMatch::Never),
            ParameterValue::Int64(-1)
        ));
        assert!(matches!(
            expected_version(IfMatch::Version(4)),
            ParameterValue::Int64(4)
        ));
    }
}
