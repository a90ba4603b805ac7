//! The entities table, one named query per operation. Every statement follows the released-Spin
//! rules (one row out, JSON built by Postgres, timestamps as RFC 3339 text), binds every value,
//! and writes its audit row in the same statement as the change.

use serde_json::{Value, json};
use spin_sdk::pg4::ParameterValue;
use spingraph_guest::audit::Audit;
use spingraph_guest::db::Db;
use spingraph_guest::etag::IfMatch;
use spingraph_guest::page::{KeyKind, Page, PageRequest, Query, Sort, SortKey};
use spingraph_guest::{ApiError, Result};

use crate::entity::{EntityPatch, ListFilter, NewEntity, contains_pattern};

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

/// An entity row `e` as the API's JSON; `deleted_at`/`deleted_by` only on deleted ones.
const ENTITY_JSON: &str = spingraph_guest::entity_json_sql!();

fn jsonb(value: &impl serde::Serialize) -> ParameterValue {
    ParameterValue::Jsonb(serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec()))
}

fn uuid(id: &str) -> ParameterValue {
    ParameterValue::Uuid(id.to_string())
}

/// Bind `value`, or a NULL of SQL type `cast`.
fn nullable(q: &mut Query, value: Option<ParameterValue>, cast: &str) -> String {
    match value {
        Some(v) => q.bind(v),
        None => format!("{}::{cast}", q.bind(ParameterValue::DbNull)),
    }
}

/// The `If-Match` version as a bound `int8` (NULL: no condition; -1 never matches).
fn expected_version(q: &mut Query, if_match: IfMatch) -> String {
    let v = match if_match {
        IfMatch::Absent | IfMatch::Any => None,
        IfMatch::Version(v) => Some(ParameterValue::Int64(v)),
        IfMatch::Never => Some(ParameterValue::Int64(-1)),
    };
    nullable(q, v, "int8")
}

/// Insert one entity owned by `owner_id`; the stored entity.
pub fn insert(db: &Db, audit: &Audit, id: &str, owner_id: &str, e: &NewEntity) -> Result<Value> {
    let mut q = Query::new();
    let id = q.bind(uuid(id));
    let kind = q.bind(ParameterValue::Str(e.kind.clone()));
    let name = q.bind(ParameterValue::Str(e.name.clone()));
    let confidence = q.bind(ParameterValue::Floating64(e.confidence));
    let metadata = q.bind(jsonb(&e.metadata));
    let owner = q.bind(uuid(owner_id));
    let log = audit.insert_one(&mut q, "entity.create", RESOURCE, "e", None);
    let sql = format!(
        "WITH e AS (INSERT INTO entities (id, type, name, confidence, metadata, owner_id, version, created_at, updated_at) \
         VALUES ({id}, {kind}, {name}, {confidence}, {metadata}, {owner}, 1, now(), now()) RETURNING *), \
         log AS ({log}) \
         SELECT (SELECT {ENTITY_JSON} FROM e) AS j"
    );
    db.json::<Option<Value>>(&sql, q.params())?
        .ok_or_else(|| ApiError::internal("insert returned no entity"))
}

/// Insert every entity in one statement (all or nothing); the stored entities in input order.
pub fn insert_batch(
    db: &Db,
    audit: &Audit,
    owner_id: &str,
    items: &[NewEntity],
) -> Result<Vec<Value>> {
    let rows: Vec<Value> = items
        .iter()
        .enumerate()
        .map(|(ord, e)| {
            json!({
                "id": uuid::Uuid::now_v7(), "audit_id": uuid::Uuid::now_v7(), "ord": ord,
                "type": e.kind, "name": e.name, "confidence": e.confidence, "metadata": e.metadata,
            })
        })
        .collect();
    let mut q = Query::new();
    let input = q.bind(jsonb(&rows));
    let owner = q.bind(uuid(owner_id));
    let log = audit.insert(
        &mut q,
        "entity.create",
        RESOURCE,
        "input",
        true,
        Some(&json!({"batch": true})),
    );
    let sql = format!(
        "WITH input AS (SELECT * FROM jsonb_to_recordset({input}) \
           AS x(id uuid, audit_id uuid, ord int, \"type\" text, name text, confidence float8, metadata jsonb)), \
         e AS (INSERT INTO entities (id, type, name, confidence, metadata, owner_id, version, created_at, updated_at) \
           SELECT id, \"type\", name, confidence, metadata, {owner}, 1, now(), now() FROM input ORDER BY ord RETURNING *), \
         log AS ({log}) \
         SELECT coalesce((SELECT jsonb_agg({ENTITY_JSON} ORDER BY i.ord) FROM e JOIN input i ON i.id = e.id), '[]'::jsonb) AS j"
    );
    db.json(&sql, q.params())
}

/// One entity by id, deleted or not; `None` when there is none.
pub fn find(db: &Db, id: &str) -> Result<Option<Value>> {
    let sql = format!("SELECT (SELECT {ENTITY_JSON} FROM entities e WHERE e.id = $1::uuid) AS j");
    db.json(&sql, &[uuid(id)])
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
    let limit = page.limit_param(&mut q);
    let sql = format!(
        "SELECT coalesce(jsonb_agg(s.j ORDER BY {outer}), '[]'::jsonb) AS j FROM ( \
           SELECT e.id, e.{col}, {ENTITY_JSON} AS j FROM entities e {where_clause} \
           ORDER BY {inner} LIMIT {limit}) s",
        outer = page.order_by("s"),
        col = page.sort.key.column,
        where_clause = q.where_clause(),
        inner = page.order_by("e"),
    );
    let rows: Vec<Value> = db.json(&sql, q.params())?;
    Ok(page.page(rows))
}

/// Apply a validated patch if the entity is still at `version` and not deleted; `None` when it
/// changed (or was deleted) in between.
pub fn update(
    db: &Db,
    audit: &Audit,
    id: &str,
    version: i64,
    patch: &EntityPatch,
    metadata: Option<&serde_json::Map<String, Value>>,
) -> Result<Option<Value>> {
    let mut q = Query::new();
    let id = q.bind(uuid(id));
    let kind = nullable(&mut q, patch.kind.clone().map(ParameterValue::Str), "text");
    let name = nullable(&mut q, patch.name.clone().map(ParameterValue::Str), "text");
    let confidence = nullable(
        &mut q,
        patch.confidence.map(ParameterValue::Floating64),
        "float8",
    );
    let metadata = nullable(&mut q, metadata.map(jsonb), "jsonb");
    let version = q.bind(ParameterValue::Int64(version));
    let log = audit.insert_one(
        &mut q,
        "entity.update",
        RESOURCE,
        "e",
        Some(&json!({"fields": patch.fields()})),
    );
    let sql = format!(
        "WITH e AS (UPDATE entities SET type = coalesce({kind}, type), name = coalesce({name}, name), \
           confidence = coalesce({confidence}, confidence), metadata = coalesce({metadata}, metadata), \
           version = version + 1, updated_at = now() \
           WHERE id = {id} AND version = {version} AND deleted_at IS NULL RETURNING *), \
         log AS ({log}) \
         SELECT (SELECT {ENTITY_JSON} FROM e) AS j"
    );
    db.json(&sql, q.params())
}

/// What a conditional write found.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The entity existed (and, for a soft delete, was not already deleted).
    pub found: bool,
    /// The write happened.
    pub done: bool,
    /// The current owner, when found.
    pub owner_id: Option<String>,
}

fn outcome(db: &Db, sql: &str, q: &Query) -> Result<Outcome> {
    let v: Value = db.json(sql, q.params())?;
    Ok(Outcome {
        found: v["found"].as_bool().unwrap_or(false),
        done: v["done"].as_bool().unwrap_or(false),
        owner_id: v["owner_id"].as_str().map(str::to_string),
    })
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
    let mut q = Query::new();
    let id = q.bind(uuid(id));
    let actor = q.bind(uuid(actor_id));
    let admin = q.bind(ParameterValue::Boolean(admin));
    let version = expected_version(&mut q, if_match);
    let log = audit.insert_one(&mut q, "entity.delete", RESOURCE, "e", None);
    let sql = format!(
        "WITH cur AS (SELECT id, owner_id FROM entities WHERE id = {id} AND deleted_at IS NULL), \
         e AS (UPDATE entities t SET deleted_at = now(), deleted_by = {actor}, version = t.version + 1, updated_at = now() \
           WHERE t.id = {id} AND t.deleted_at IS NULL AND (t.owner_id = {actor} OR {admin}) \
             AND ({version} IS NULL OR t.version = {version}) RETURNING t.id), \
         log AS ({log}) \
         SELECT jsonb_build_object('found', EXISTS (SELECT 1 FROM cur), 'done', EXISTS (SELECT 1 FROM e), \
           'owner_id', (SELECT owner_id FROM cur)) AS j"
    );
    outcome(db, &sql, &q)
}

/// Delete for good (admin); its relationships go with it (`ON DELETE CASCADE`). `If-Match` holds.
pub fn hard_delete(db: &Db, audit: &Audit, id: &str, if_match: IfMatch) -> Result<Outcome> {
    let mut q = Query::new();
    let id = q.bind(uuid(id));
    let version = expected_version(&mut q, if_match);
    let log = audit.insert_one(
        &mut q,
        "entity.hard_delete",
        RESOURCE,
        "e",
        Some(&json!({"hard": true})),
    );
    let sql = format!(
        "WITH e AS (DELETE FROM entities t WHERE t.id = {id} AND ({version} IS NULL OR t.version = {version}) \
           RETURNING t.id, t.owner_id), \
         log AS ({log}) \
         SELECT jsonb_build_object('found', EXISTS (SELECT 1 FROM entities WHERE id = {id}), \
           'done', EXISTS (SELECT 1 FROM e), 'owner_id', (SELECT owner_id FROM entities WHERE id = {id})) AS j"
    );
    outcome(db, &sql, &q)
}

/// Undo a soft delete (admin); `Ok(None)` with `found` when the entity is not deleted.
pub fn restore(db: &Db, audit: &Audit, id: &str) -> Result<(bool, Option<Value>)> {
    let mut q = Query::new();
    let id = q.bind(uuid(id));
    let log = audit.insert_one(&mut q, "entity.restore", RESOURCE, "e", None);
    let sql = format!(
        "WITH e AS (UPDATE entities SET deleted_at = NULL, deleted_by = NULL, version = version + 1, updated_at = now() \
           WHERE id = {id} AND deleted_at IS NOT NULL RETURNING *), \
         log AS ({log}) \
         SELECT jsonb_build_object('found', EXISTS (SELECT 1 FROM entities WHERE id = {id}), \
           'entity', (SELECT {ENTITY_JSON} FROM e)) AS j"
    );
    let v: Value = db.json(&sql, q.params())?;
    let entity = Some(v["entity"].clone()).filter(|e| e.is_object());
    Ok((v["found"].as_bool().unwrap_or(false), entity))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_json_renders_timestamps_as_rfc3339_text() {
        assert!(ENTITY_JSON.contains(r#"'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'"#));
        assert!(!ENTITY_JSON.contains("to_jsonb(e)"));
    }

    #[test]
    fn nullable_binds_typed_nulls() {
        let mut q = Query::new();
        assert_eq!(nullable(&mut q, None, "text"), "$1::text");
        assert_eq!(
            nullable(&mut q, Some(ParameterValue::Str("x".into())), "text"),
            "$2::text"
        );
        assert_eq!(expected_version(&mut q, IfMatch::Never), "$3::int8");
        assert!(matches!(q.params()[2], ParameterValue::Int64(-1)));
    }
}
