//! The entities table, one named query per operation. Every statement follows the released-Spin
//! rules (one row out, JSON built by Postgres, timestamps as RFC 3339 text), binds every value,
//! and writes its audit row in the same statement as the change.

use serde_json::{Value, json};
use spin_sdk::pg4::ParameterValue;
use spingraph_guest::audit::Audit;
use spingraph_guest::changes::Change;
use spingraph_guest::db::Db;
use spingraph_guest::etag::IfMatch;
use spingraph_guest::page::{KeyKind, Page, PageRequest, Query, Sort, SortKey};
use spingraph_guest::{ApiError, Result};

use crate::entity::{EntityPatch, ListFilter, NewEntity, OnConflict, contains_pattern};

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
/// A relationship row `r` as the API's JSON (the change feed's document of a moved edge).
const RELATIONSHIP_JSON: &str = spingraph_guest::relationship_json_sql!();
/// The partial unique index of natural keys, as an `ON CONFLICT` target.
const EXTERNAL_ID_KEY: &str =
    "(type, external_id) WHERE deleted_at IS NULL AND external_id IS NOT NULL";

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

/// Insert one entity owned by `owner_id`; the stored entity. A live entity with the same
/// `(type, external_id)` is a 409 saying so.
pub fn insert(db: &Db, audit: &Audit, id: &str, owner_id: &str, e: &NewEntity) -> Result<Value> {
    insert_or_not(db, audit, id, owner_id, e, false)?
        .ok_or_else(|| ApiError::internal("insert returned no entity"))
}

/// [`insert`], except that a live entity with the same `(type, external_id)` makes it insert
/// nothing and return `None` (a concurrent `PUT` of one natural key).
pub fn insert_if_absent(
    db: &Db,
    audit: &Audit,
    id: &str,
    owner_id: &str,
    e: &NewEntity,
) -> Result<Option<Value>> {
    insert_or_not(db, audit, id, owner_id, e, true)
}

fn insert_or_not(
    db: &Db,
    audit: &Audit,
    id: &str,
    owner_id: &str,
    e: &NewEntity,
    skip_existing: bool,
) -> Result<Option<Value>> {
    let mut q = Query::new();
    let id = q.bind(uuid(id));
    let kind = q.bind(ParameterValue::Str(e.kind.clone()));
    let name = q.bind(ParameterValue::Str(e.name.clone()));
    let confidence = q.bind(ParameterValue::Floating64(e.confidence));
    let metadata = q.bind(jsonb(&e.metadata));
    let owner = q.bind(uuid(owner_id));
    let external_id = nullable(
        &mut q,
        e.external_id.clone().map(ParameterValue::Str),
        "text",
    );
    let log = audit.insert_one(&mut q, "entity.create", RESOURCE, "e", None);
    let feed = change("create", audit).insert(&mut q, "e", Some(ENTITY_JSON));
    let on_conflict = if skip_existing {
        format!("ON CONFLICT {EXTERNAL_ID_KEY} DO NOTHING")
    } else {
        String::new()
    };
    let sql = format!(
        "WITH e AS (INSERT INTO entities (id, type, name, confidence, metadata, owner_id, external_id, version, created_at, updated_at) \
         VALUES ({id}, {kind}, {name}, {confidence}, {metadata}, {owner}, {external_id}, 1, now(), now()) {on_conflict} RETURNING *), \
         log AS ({log}), feed AS ({feed}) \
         SELECT (SELECT {ENTITY_JSON} FROM e) AS j"
    );
    db.json::<Option<Value>>(&sql, q.params())
        .map_err(|err| natural_key_taken(err, e))
}

/// A unique violation of an insert: another live entity has the natural key.
fn natural_key_taken(err: ApiError, e: &NewEntity) -> ApiError {
    match (err, &e.external_id) {
        (ApiError::Conflict(_), Some(xid)) => ApiError::conflict(format!(
            "A live entity of type {:?} with external_id {xid:?} already exists.",
            e.kind
        )),
        (err, _) => err,
    }
}

/// The live entity of `kind` with `external_id`, if any.
pub fn find_external(db: &Db, kind: &str, external_id: &str) -> Result<Option<Value>> {
    let sql = format!(
        "SELECT (SELECT {ENTITY_JSON} FROM entities e WHERE e.type = $1::text \
           AND e.external_id = $2::text AND e.deleted_at IS NULL) AS j"
    );
    db.json(
        &sql,
        &[
            ParameterValue::Str(kind.to_string()),
            ParameterValue::Str(external_id.to_string()),
        ],
    )
}

/// The live entities holding the natural keys of `items` (those with an `external_id`), as
/// `(item index, entity)`.
pub fn find_externals(db: &Db, items: &[NewEntity]) -> Result<Vec<(usize, Value)>> {
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
    let sql = format!(
        "SELECT coalesce(jsonb_agg(jsonb_build_object('ord', k.ord, 'entity', {ENTITY_JSON}) ORDER BY k.ord), '[]'::jsonb) AS j \
         FROM jsonb_to_recordset($1::jsonb) AS k(ord int, \"type\" text, external_id text) \
         JOIN entities e ON e.type = k.\"type\" AND e.external_id = k.external_id AND e.deleted_at IS NULL"
    );
    let rows: Vec<Value> = db.json(&sql, &[jsonb(&keys)])?;
    Ok(rows
        .into_iter()
        .filter_map(|mut row| {
            let ord = usize::try_from(row["ord"].as_u64()?).ok()?;
            Some((ord, row["entity"].take()))
        })
        .collect())
}

/// One item of a batch as stored: what happened to it and the entity it names.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchItem {
    /// `created`, `updated` or `skipped`.
    pub outcome: String,
    pub entity: Value,
}

/// Write every item in one statement: items whose natural key a live entity has are, by
/// `on_conflict`, a unique violation (`Error`), left alone (`Skip`: the existing entity is
/// returned) or written over (`Update`: name, confidence and metadata; only entities `owner_id`
/// owns unless `admin`). One entry per item, in input order, when every item was accounted for.
pub fn insert_batch(
    db: &Db,
    audit: &Audit,
    owner_id: &str,
    admin: bool,
    items: &[NewEntity],
    on_conflict: OnConflict,
) -> Result<Vec<BatchItem>> {
    let rows: Vec<Value> = items
        .iter()
        .enumerate()
        .map(|(ord, e)| {
            json!({
                "id": uuid::Uuid::now_v7(), "audit_id": uuid::Uuid::now_v7(), "ord": ord,
                "type": e.kind, "name": e.name, "confidence": e.confidence, "metadata": e.metadata,
                "external_id": e.external_id,
            })
        })
        .collect();
    let mut q = Query::new();
    let input = q.bind(jsonb(&rows));
    let owner = q.bind(uuid(owner_id));
    let conflict = match on_conflict {
        OnConflict::Error => String::new(),
        OnConflict::Skip => format!("ON CONFLICT {EXTERNAL_ID_KEY} DO NOTHING"),
        OnConflict::Update => {
            let admin = q.bind(ParameterValue::Boolean(admin));
            format!(
                "ON CONFLICT {EXTERNAL_ID_KEY} DO UPDATE SET name = EXCLUDED.name, \
                 confidence = EXCLUDED.confidence, metadata = EXCLUDED.metadata, \
                 version = entities.version + 1, updated_at = now() \
                 WHERE entities.owner_id = {owner} OR {admin}"
            )
        }
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
    let skipped = if on_conflict == OnConflict::Skip {
        format!(
            "UNION ALL SELECT x.ord, 'skipped', {ENTITY_JSON} FROM existing x \
               JOIN entities e ON e.id = x.id WHERE NOT EXISTS (SELECT 1 FROM res WHERE res.ord = x.ord)"
        )
    } else {
        String::new()
    };
    let sql = format!(
        "WITH input AS (SELECT * FROM jsonb_to_recordset({input}) \
           AS x(id uuid, audit_id uuid, ord int, \"type\" text, name text, confidence float8, metadata jsonb, external_id text)), \
         existing AS (SELECT i.ord, x.id FROM input i JOIN entities x ON x.type = i.\"type\" \
           AND x.external_id = i.external_id AND x.deleted_at IS NULL), \
         w AS (INSERT INTO entities (id, type, name, confidence, metadata, owner_id, external_id, version, created_at, updated_at) \
           SELECT id, \"type\", name, confidence, metadata, {owner}, external_id, 1, now(), now() FROM input ORDER BY ord \
           {conflict} RETURNING *), \
         res AS (SELECT i.ord, i.audit_id, w.id = i.id AS fresh, w.* FROM input i JOIN w ON w.id = i.id \
           OR (i.external_id IS NOT NULL AND w.external_id = i.external_id AND w.type = i.\"type\" AND w.id <> i.id)), \
         created AS (SELECT * FROM res WHERE fresh), \
         updated AS (SELECT * FROM res WHERE NOT fresh), \
         log_c AS ({created_log}), log_u AS ({updated_log}), feed_c AS ({created_feed}), feed_u AS ({updated_feed}) \
         SELECT coalesce(jsonb_agg(jsonb_build_object('ord', o.ord, 'outcome', o.outcome, 'entity', o.entity) ORDER BY o.ord), '[]'::jsonb) AS j \
         FROM (SELECT e.ord, CASE WHEN e.fresh THEN 'created' ELSE 'updated' END AS outcome, {ENTITY_JSON} AS entity FROM res e \
           {skipped}) o(ord, outcome, entity)"
    );
    let out: Vec<Value> = db.json(&sql, q.params()).map_err(|err| match err {
        ApiError::Conflict(_) => ApiError::conflict(
            "An item's type and external_id are taken by a live entity (written concurrently); retry.",
        ),
        err => err,
    })?;
    if out.len() != items.len() {
        return Err(ApiError::conflict(
            "Entities with these natural keys changed concurrently; retry the batch.",
        ));
    }
    Ok(out
        .into_iter()
        .map(|mut row| BatchItem {
            outcome: row["outcome"].as_str().unwrap_or_default().to_string(),
            entity: row["entity"].take(),
        })
        .collect())
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
    // external_id: unchanged unless the patch names it (a string, or null to remove it).
    let set_external = q.bind(ParameterValue::Boolean(patch.external_id.is_some()));
    let external_id = nullable(
        &mut q,
        patch.external_id.clone().flatten().map(ParameterValue::Str),
        "text",
    );
    let version = q.bind(ParameterValue::Int64(version));
    let log = audit.insert_one(
        &mut q,
        "entity.update",
        RESOURCE,
        "e",
        Some(&json!({"fields": patch.fields()})),
    );
    let feed = change("update", audit).insert(&mut q, "e", Some(ENTITY_JSON));
    let sql = format!(
        "WITH e AS (UPDATE entities SET type = coalesce({kind}, type), name = coalesce({name}, name), \
           confidence = coalesce({confidence}, confidence), metadata = coalesce({metadata}, metadata), \
           external_id = CASE WHEN {set_external} THEN {external_id} ELSE external_id END, \
           version = version + 1, updated_at = now() \
           WHERE id = {id} AND version = {version} AND deleted_at IS NULL RETURNING *), \
         log AS ({log}), feed AS ({feed}) \
         SELECT (SELECT {ENTITY_JSON} FROM e) AS j"
    );
    db.json(&sql, q.params())
        .map_err(|err| match (err, &patch.external_id) {
            (ApiError::Conflict(_), Some(Some(xid))) => ApiError::conflict(format!(
                "A live entity of this type with external_id {xid:?} already exists."
            )),
            (err, _) => err,
        })
}

/// Replace the name, confidence and metadata of live entity `id` (`PUT` by natural key), if it
/// is still at `version` when one is given; `None` when it was not (or was deleted meanwhile).
pub fn replace(
    db: &Db,
    audit: &Audit,
    id: &str,
    version: Option<i64>,
    e: &NewEntity,
) -> Result<Option<Value>> {
    let mut q = Query::new();
    let id = q.bind(uuid(id));
    let name = q.bind(ParameterValue::Str(e.name.clone()));
    let confidence = q.bind(ParameterValue::Floating64(e.confidence));
    let metadata = q.bind(jsonb(&e.metadata));
    let version = nullable(&mut q, version.map(ParameterValue::Int64), "int8");
    let log = audit.insert_one(
        &mut q,
        "entity.update",
        RESOURCE,
        "e",
        Some(&json!({"fields": ["name", "confidence", "metadata"], "put": true})),
    );
    let feed = change("update", audit).insert(&mut q, "e", Some(ENTITY_JSON));
    let sql = format!(
        "WITH e AS (UPDATE entities SET name = {name}, confidence = {confidence}, metadata = {metadata}, \
           version = version + 1, updated_at = now() \
           WHERE id = {id} AND ({version} IS NULL OR version = {version}) AND deleted_at IS NULL RETURNING *), \
         log AS ({log}), feed AS ({feed}) \
         SELECT (SELECT {ENTITY_JSON} FROM e) AS j"
    );
    db.json(&sql, q.params())
}

/// The entities `ids` (deleted or not), locked for update in id order (so two merges over the
/// same entities queue instead of deadlocking); the ones that exist.
pub fn lock(db: &Db, ids: &[String]) -> Result<Vec<Value>> {
    let sql = format!(
        "SELECT coalesce((SELECT jsonb_agg({ENTITY_JSON}) FROM (SELECT * FROM entities \
           WHERE id IN (SELECT (jsonb_array_elements_text($1::jsonb))::uuid) ORDER BY id FOR UPDATE) e), \
           '[]'::jsonb) AS j"
    );
    db.json(&sql, &[jsonb(&ids)])
}

/// Fold the live entities `from` into the live `survivor` (both locked by [`lock`]): every live
/// relationship of theirs is moved to the survivor, except the ones that would become a
/// self-loop or repeat an active (source, target, type), which are soft-deleted; the merged
/// entities are soft-deleted with `merged_into`, and ones merged into them earlier now point at
/// the survivor. `metadata`, when given, becomes the survivor's. Audit rows and change rows for
/// every entity and relationship touched; the survivor as it is now.
pub fn merge(
    db: &Db,
    audit: &Audit,
    survivor: &str,
    from: &[String],
    metadata: Option<&serde_json::Map<String, Value>>,
    how: &str,
) -> Result<Value> {
    let mut q = Query::new();
    let s = q.bind(uuid(survivor));
    let victims = q.bind(jsonb(&from));
    let actor = nullable(
        &mut q,
        audit.actor_id.map(|a| ParameterValue::Uuid(a.to_string())),
        "uuid",
    );
    let metadata = nullable(&mut q, metadata.map(jsonb), "jsonb");
    let survivor_log = audit.insert_one(
        &mut q,
        "entity.merge",
        RESOURCE,
        "e",
        Some(&json!({"from": from, "metadata": how})),
    );
    let merged_log = audit.insert(
        &mut q,
        "entity.merged",
        RESOURCE,
        "merged",
        true,
        Some(&json!({"into": survivor})),
    );
    let moved_log = audit.insert(
        &mut q,
        "relationship.update",
        "relationship",
        "kept",
        true,
        Some(&json!({"merge": survivor})),
    );
    let dropped_log = audit.insert(
        &mut q,
        "relationship.delete",
        "relationship",
        "dropped",
        true,
        Some(&json!({"merge": survivor})),
    );
    let survivor_feed = change("merge", audit).insert(&mut q, "e", Some(ENTITY_JSON));
    let merged_feed = change("merge", audit).insert_as(&mut q, "merged", "e", Some(ENTITY_JSON));
    let kept_feed = Change::relationship("update", audit.actor_id).insert_as(
        &mut q,
        "kept",
        "r",
        Some(RELATIONSHIP_JSON),
    );
    let dropped_feed =
        Change::relationship("delete", audit.actor_id).insert_as(&mut q, "dropped", "r", None);
    let sql = format!(
        "WITH v AS (SELECT (jsonb_array_elements_text({victims}))::uuid AS id), \
         moving AS (SELECT r.id, r.type, r.created_at, \
             CASE WHEN r.source_id IN (SELECT id FROM v) THEN {s} ELSE r.source_id END AS new_source, \
             CASE WHEN r.target_id IN (SELECT id FROM v) THEN {s} ELSE r.target_id END AS new_target \
           FROM relationships r WHERE r.deleted_at IS NULL \
             AND (r.source_id IN (SELECT id FROM v) OR r.target_id IN (SELECT id FROM v))), \
         ranked AS (SELECT m.*, m.new_source <> m.new_target \
             AND row_number() OVER (PARTITION BY m.new_source, m.new_target, m.type ORDER BY m.created_at, m.id) = 1 \
             AND NOT EXISTS (SELECT 1 FROM relationships x WHERE x.deleted_at IS NULL \
               AND x.source_id = m.new_source AND x.target_id = m.new_target AND x.type = m.type \
               AND x.id NOT IN (SELECT id FROM moving)) AS keep \
           FROM moving m), \
         kept AS (UPDATE relationships r SET source_id = k.new_source, target_id = k.new_target, \
             version = r.version + 1, updated_at = now() \
           FROM ranked k WHERE r.id = k.id AND k.keep RETURNING r.*, gen_random_uuid() AS audit_id), \
         dropped AS (UPDATE relationships r SET deleted_at = now(), deleted_by = {actor}, \
             version = r.version + 1, updated_at = now() \
           FROM ranked k WHERE r.id = k.id AND NOT k.keep RETURNING r.*, gen_random_uuid() AS audit_id), \
         merged AS (UPDATE entities x SET deleted_at = now(), deleted_by = {actor}, merged_into = {s}, \
             version = x.version + 1, updated_at = now() \
           WHERE x.id IN (SELECT id FROM v) AND x.deleted_at IS NULL RETURNING x.*, gen_random_uuid() AS audit_id), \
         repointed AS (UPDATE entities x SET merged_into = {s} WHERE x.merged_into IN (SELECT id FROM v) RETURNING x.id), \
         e AS (UPDATE entities x SET metadata = coalesce({metadata}, x.metadata), version = x.version + 1, updated_at = now() \
           WHERE x.id = {s} AND x.deleted_at IS NULL RETURNING x.*), \
         log_s AS ({survivor_log}), log_m AS ({merged_log}), log_k AS ({moved_log}), log_d AS ({dropped_log}), \
         feed_s AS ({survivor_feed}), feed_m AS ({merged_feed}), feed_k AS ({kept_feed}), feed_d AS ({dropped_feed}) \
         SELECT (SELECT {ENTITY_JSON} FROM e) AS j"
    );
    db.json::<Option<Value>>(&sql, q.params())?
        .ok_or_else(|| ApiError::internal("merge found no survivor"))
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
    let feed = change("delete", audit).insert(&mut q, "e", None);
    let sql = format!(
        "WITH cur AS (SELECT id, owner_id FROM entities WHERE id = {id} AND deleted_at IS NULL), \
         e AS (UPDATE entities t SET deleted_at = now(), deleted_by = {actor}, version = t.version + 1, updated_at = now() \
           WHERE t.id = {id} AND t.deleted_at IS NULL AND (t.owner_id = {actor} OR {admin}) \
             AND ({version} IS NULL OR t.version = {version}) RETURNING t.id, t.type, t.version), \
         log AS ({log}), feed AS ({feed}) \
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
    // Tombstones for the entity and for the live relationships its delete cascades to.
    let feed = change("delete", audit).insert(&mut q, "gone", None);
    let edges = Change::relationship("delete", audit.actor_id).insert(&mut q, "gone_edges", None);
    let sql = format!(
        "WITH e AS (DELETE FROM entities t WHERE t.id = {id} AND ({version} IS NULL OR t.version = {version}) \
           RETURNING t.id, t.owner_id, t.type, t.version), \
         gone AS (SELECT id, type, version + 1 AS version FROM e), \
         gone_edges AS (SELECT r.id, r.type, r.version + 1 AS version FROM relationships r \
           WHERE (r.source_id = {id} OR r.target_id = {id}) AND r.deleted_at IS NULL AND EXISTS (SELECT 1 FROM e)), \
         log AS ({log}), feed AS ({feed}), feed_edges AS ({edges}) \
         SELECT jsonb_build_object('found', EXISTS (SELECT 1 FROM entities WHERE id = {id}), \
           'done', EXISTS (SELECT 1 FROM e), 'owner_id', (SELECT owner_id FROM entities WHERE id = {id})) AS j"
    );
    outcome(db, &sql, &q)
}

/// What [`restore`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Restored {
    /// The entity, live again.
    Entity(Value),
    /// It is not deleted.
    NotDeleted,
    /// It was merged into this entity (its relationships are the survivor's now).
    Merged(String),
    /// There is no such entity.
    Missing,
}

/// Undo a soft delete (admin); merged entities stay merged.
pub fn restore(db: &Db, audit: &Audit, id: &str) -> Result<Restored> {
    let mut q = Query::new();
    let id = q.bind(uuid(id));
    let log = audit.insert_one(&mut q, "entity.restore", RESOURCE, "e", None);
    let feed = change("restore", audit).insert(&mut q, "e", Some(ENTITY_JSON));
    let sql = format!(
        "WITH e AS (UPDATE entities SET deleted_at = NULL, deleted_by = NULL, version = version + 1, updated_at = now() \
           WHERE id = {id} AND deleted_at IS NOT NULL AND merged_into IS NULL RETURNING *), \
         log AS ({log}), feed AS ({feed}) \
         SELECT jsonb_build_object('found', EXISTS (SELECT 1 FROM entities WHERE id = {id}), \
           'merged_into', (SELECT merged_into FROM entities WHERE id = {id}), \
           'entity', (SELECT {ENTITY_JSON} FROM e)) AS j"
    );
    let mut v: Value = db.json(&sql, q.params())?;
    Ok(if v["entity"].is_object() {
        Restored::Entity(v["entity"].take())
    } else if let Some(survivor) = v["merged_into"].as_str() {
        Restored::Merged(survivor.to_string())
    } else if v["found"] == Value::Bool(true) {
        Restored::NotDeleted
    } else {
        Restored::Missing
    })
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
