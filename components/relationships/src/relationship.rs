//! `/v1/relationships/...`: create, read, list, merge-patch, soft/hard delete and restore, each
//! one statement (its audit row included) after the caller is authorized.

use serde_json::{Value, json};
use spin_sdk::http::Request;
use spingraph_guest::audit::Audit;
use spingraph_guest::changes::Change;
use spingraph_guest::context::header;
use spingraph_guest::db::{Db, ParameterValue};
use spingraph_guest::etag::{self, IfMatch};
use spingraph_guest::idempotency;
use spingraph_guest::page::{KeyKind, PageRequest, Sort, SortKey};
use spingraph_guest::sql::{Query, fill};
use spingraph_guest::validate::{self, Errors};
use spingraph_guest::{ApiError, Ctx, Reply, Result, body};

use spingraph_authn_client::Principal;

use crate::access;
use crate::input::{Changes, End, NewRelationship};
use crate::sql;

const RESOURCE: &str = "relationship";
const BASE: &str = "/v1/relationships";

/// `sort` keys of `GET /v1/relationships` (ties broken by id).
pub static SORTS: &[SortKey] = &[
    SortKey::CREATED_AT,
    SortKey::CONFIDENCE,
    SortKey::new("type", KeyKind::Text),
];

/// Dispatch on the path below `/v1/relationships`.
pub fn route(ctx: &Ctx, req: &Request, caller: &Principal, segments: &[&str]) -> Result<Reply> {
    match (ctx.method.as_str(), segments) {
        ("GET" | "HEAD", []) => list(ctx, caller),
        ("POST", []) => {
            idempotency::run(ctx, req, caller.user_id, |db| create(ctx, req, caller, db))
        }
        (_, []) => Err(ApiError::MethodNotAllowed(&["GET", "HEAD", "POST"])),
        (method, [id]) => {
            let id = relationship_id(id)?;
            match method {
                "GET" | "HEAD" => get(ctx, req, caller, &id),
                "PATCH" => idempotency::run(ctx, req, caller.user_id, |db| {
                    update(ctx, req, caller, db, &id)
                }),
                "DELETE" => delete(ctx, req, caller, &id),
                _ => Err(ApiError::MethodNotAllowed(&[
                    "GET", "HEAD", "PATCH", "DELETE",
                ])),
            }
        }
        ("POST", [id, action]) if *action == "restore" => {
            let id = relationship_id(id)?;
            idempotency::run(ctx, req, caller.user_id, |db| restore(ctx, caller, db, &id))
        }
        (_, [_, action]) if *action == "restore" => Err(ApiError::MethodNotAllowed(&["POST"])),
        _ => Err(ApiError::not_found("No such route.")),
    }
}

/// A path id; anything but a UUID names no relationship.
fn relationship_id(raw: &str) -> Result<String> {
    validate::uuid_str(raw)
        .map(|id| id.to_string())
        .ok_or_else(|| ApiError::not_found("No such relationship."))
}

fn not_found() -> ApiError {
    ApiError::not_found("No such relationship.")
}

/// `POST /v1/relationships` → 201 with `Location` and `ETag`.
fn create(ctx: &Ctx, req: &Request, caller: &Principal, db: &Db) -> Result<Reply> {
    access::require_write(caller)?;
    let new = NewRelationship::parse(&validate::json_object(req, body::DEFAULT_LIMIT)?)?;
    let id = uuid::Uuid::now_v7().to_string();
    let [source_id, source_type, source_xid] = new.source.params();
    let [target_id, target_type, target_xid] = new.target.params();
    let mut q = Query::of([
        ParameterValue::Uuid(id),
        source_id,
        target_id,
        ParameterValue::Str(new.kind),
        ParameterValue::Floating64(new.confidence),
        ParameterValue::Jsonb(Value::Object(new.metadata).to_string().into_bytes()),
        ParameterValue::Uuid(caller.user_id.to_string()),
        source_type,
        source_xid,
        target_type,
        target_xid,
    ]);
    let sql = audited(
        ctx,
        caller,
        &mut q,
        sql::INSERT,
        "relationship.create",
        None,
    );
    let out: Value = db.value(&sql, q.params()).map_err(|e| {
        duplicate_as(
            e,
            "An active relationship with this source, target and type already exists.",
        )
    })?;
    let mut errors = Errors::new();
    for (key, end, id_field, ref_field) in [
        ("source", &new.source, "source_id", "source"),
        ("target", &new.target, "target_id", "target"),
    ] {
        let field = match end {
            End::Id(_) => id_field,
            End::External { .. } => ref_field,
        };
        if out[key] != Value::Bool(true) {
            errors.push(field, end.missing());
        } else if key == "target"
            && out["source"] == Value::Bool(true)
            && out["relationship"].is_null()
        {
            errors.push(field, "names the source entity (no self-loops)");
        }
    }
    errors.into_result()?;
    let rel = out["relationship"].clone();
    let location = format!("{BASE}/{}", str_field(&rel, "id")?);
    Ok(with_etag(Reply::created(&location, &rel), &rel))
}

/// `GET /v1/relationships/{id}` with `ETag`; `If-None-Match` → 304; `include_deleted` (admins).
fn get(ctx: &Ctx, req: &Request, caller: &Principal, id: &str) -> Result<Reply> {
    access::require_read(caller)?;
    let include_deleted = include_deleted(ctx, caller)?;
    let rel = fetch(&Db::connect(ctx)?, id, include_deleted)?.ok_or_else(not_found)?;
    let tag = etag::of(&rel).ok_or_else(|| ApiError::internal("relationship without version"))?;
    if etag::not_modified(header(req, "if-none-match"), &tag) {
        return Ok(Reply::not_modified().header("etag", &tag));
    }
    Ok(Reply::ok(&rel).header("etag", &tag))
}

/// `GET /v1/relationships?source_id=&target_id=&entity_id=&type=&sort=&limit=&cursor=`.
fn list(ctx: &Ctx, caller: &Principal) -> Result<Reply> {
    access::require_read(caller)?;
    let page = PageRequest::from_query(ctx, SORTS, Sort::desc(&SORTS[0]))?;
    let mut errors = Errors::new();
    let mut q = Query::new();
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
                }
                None => errors.push(param, "must be a UUID"),
            }
        }
    }
    if let Some(kind) = ctx.query_param("type") {
        validate::check_text(&mut errors, "type", &kind, validate::TYPE_MAX_CHARS);
        let p = q.bind(ParameterValue::Str(kind));
        q.filter(format!("r.type = {p}"));
    }
    errors.into_query_result()?;
    if !include_deleted(ctx, caller)? {
        q.filter(sql::LIST_VISIBLE);
    }
    page.after_cursor(&mut q, "r");
    let limit = page.limit_param(&mut q);
    let sql = fill(
        sql::LIST,
        &[
            ("where", &q.where_clause()),
            ("order_by", &page.order_by("r")),
            ("limit", &limit),
        ],
    );
    let rows: Vec<Value> = Db::connect(ctx)?.json(&sql, q.params())?;
    Ok(Reply::ok(&page.page(rows)))
}

/// `PATCH /v1/relationships/{id}`: JSON merge patch; `If-Match` → 412 when stale.
fn update(ctx: &Ctx, req: &Request, caller: &Principal, db: &Db, id: &str) -> Result<Reply> {
    access::require_write(caller)?;
    let patch = validate::json_object(req, body::DEFAULT_LIMIT)?;
    let current = fetch(db, id, false)?.ok_or_else(not_found)?;
    access::require_creator_or_admin(caller, current["created_by"].as_str())?;
    let version = version_of(&current)?;
    let condition = etag::if_match(header(req, "if-match"), id);
    if !condition.allows(version) {
        return Err(stale());
    }
    let changes = Changes::merge(&current, &patch)?;
    let changed: Vec<&str> = ["type", "confidence", "metadata"]
        .into_iter()
        .filter(|f| patch.contains_key(*f))
        .collect();
    let mut q = Query::of([
        ParameterValue::Uuid(id.to_string()),
        ParameterValue::Str(changes.kind),
        ParameterValue::Floating64(changes.confidence),
        ParameterValue::Jsonb(Value::Object(changes.metadata).to_string().into_bytes()),
        ParameterValue::Int64(version),
    ]);
    let details = json!({ "fields": changed });
    let sql = audited(
        ctx,
        caller,
        &mut q,
        sql::UPDATE,
        "relationship.update",
        Some(&details),
    );
    let rel: Value = db.value(&sql, q.params()).map_err(|e| {
        duplicate_as(
            e,
            "An active relationship with this source, target and type already exists.",
        )
    })?;
    if rel.is_null() {
        // It changed (or was deleted) between our read and our write.
        return Err(match condition {
            IfMatch::Absent => ApiError::conflict("The relationship changed meanwhile; retry."),
            _ => stale(),
        });
    }
    Ok(with_etag(Reply::ok(&rel), &rel))
}

/// `DELETE /v1/relationships/{id}` → 204 (soft); `?hard=true` removes it for good (admins).
fn delete(ctx: &Ctx, req: &Request, caller: &Principal, id: &str) -> Result<Reply> {
    access::require_write(caller)?;
    let hard = validate::query_flag(ctx, "hard")?;
    if hard {
        access::require_admin_to(caller, "hard-delete relationships")?;
    }
    let db = Db::connect(ctx)?;
    let current = fetch(&db, id, hard)?.ok_or_else(not_found)?;
    access::require_creator_or_admin(caller, current["created_by"].as_str())?;
    let version = version_of(&current)?;
    let condition = etag::if_match(header(req, "if-match"), id);
    if !condition.allows(version) {
        return Err(stale());
    }
    let expected = match condition {
        IfMatch::Version(v) => ParameterValue::Int64(v),
        _ => ParameterValue::DbNull,
    };
    let (statement, action, params) = if hard {
        (
            sql::HARD_DELETE,
            "relationship.hard_delete",
            vec![ParameterValue::Uuid(id.to_string()), expected],
        )
    } else {
        (
            sql::SOFT_DELETE,
            "relationship.delete",
            vec![
                ParameterValue::Uuid(id.to_string()),
                ParameterValue::Uuid(caller.user_id.to_string()),
                expected,
            ],
        )
    };
    let mut q = Query::of(params);
    let sql = audited(ctx, caller, &mut q, statement, action, None);
    let out = db.value(&sql, q.params())?;
    if out.is_null() || out == Value::Bool(false) {
        return Err(match condition {
            IfMatch::Version(_) => stale(),
            _ => not_found(),
        });
    }
    Ok(Reply::no_content())
}

/// `POST /v1/relationships/{id}/restore` (admins) → 200 with the restored relationship.
fn restore(ctx: &Ctx, caller: &Principal, db: &Db, id: &str) -> Result<Reply> {
    access::require_write(caller)?;
    access::require_admin_to(caller, "restore relationships")?;
    let mut q = Query::of([ParameterValue::Uuid(id.to_string())]);
    let sql = audited(
        ctx,
        caller,
        &mut q,
        sql::RESTORE,
        "relationship.restore",
        None,
    );
    let out = db.value(&sql, q.params()).map_err(|e| {
        duplicate_as(
            e,
            "An active relationship with this source, target and type exists; delete it first.",
        )
    })?;
    if out["found"] != Value::Bool(true) {
        return Err(not_found());
    }
    if out["deleted"] != Value::Bool(true) {
        return Err(ApiError::conflict("The relationship is not deleted."));
    }
    if out["ends_visible"] != Value::Bool(true) {
        return Err(ApiError::conflict(
            "Its source or target entity is deleted; restore that first.",
        ));
    }
    let rel = out["relationship"].clone();
    Ok(with_etag(Reply::ok(&rel), &rel))
}

/// The relationship (visible only, unless `include_deleted`), or `None`.
fn fetch(db: &Db, id: &str, include_deleted: bool) -> Result<Option<Value>> {
    db.json(
        sql::GET,
        &[
            ParameterValue::Uuid(id.to_string()),
            ParameterValue::Boolean(include_deleted),
        ],
    )
}

/// `include_deleted=true` is for admins (403 otherwise).
fn include_deleted(ctx: &Ctx, caller: &Principal) -> Result<bool> {
    let wanted = validate::query_flag(ctx, "include_deleted")?;
    if wanted {
        access::require_admin_to(caller, "see deleted relationships")?;
    }
    Ok(wanted)
}

/// `statement` with its audit row (actor, action, request id) and its change-feed row written by
/// the same statement.
fn audited(
    ctx: &Ctx,
    caller: &Principal,
    q: &mut Query,
    statement: &str,
    action: &str,
    details: Option<&Value>,
) -> String {
    let actor = caller.user_id.to_string();
    let log = Audit::by(ctx, &actor).insert_one(q, action, RESOURCE, "r", details);
    let (op, document) = match action.strip_prefix("relationship.") {
        Some("create") => ("create", Some(sql::RELATIONSHIP_JSON)),
        Some("update") => ("update", Some(sql::RELATIONSHIP_JSON)),
        Some("restore") => ("restore", Some(sql::RELATIONSHIP_JSON)),
        _ => ("delete", None),
    };
    let feed = Change::relationship(op, Some(&actor)).insert(q, "r", document);
    fill(statement, &[("audit", &log), ("change", &feed)])
}

/// A unique violation (the active (source, target, type) index) as a 409 saying what clashed.
fn duplicate_as(err: ApiError, detail: &str) -> ApiError {
    match err {
        ApiError::Conflict(_) => ApiError::conflict(detail),
        other => other,
    }
}

fn stale() -> ApiError {
    ApiError::PreconditionFailed("The relationship has changed; fetch it again.".into())
}

fn version_of(rel: &Value) -> Result<i64> {
    rel["version"]
        .as_i64()
        .ok_or_else(|| ApiError::internal("relationship without version"))
}

fn str_field<'a>(v: &'a Value, field: &str) -> Result<&'a str> {
    v[field]
        .as_str()
        .ok_or_else(|| ApiError::internal(format!("relationship without {field}")))
}

fn with_etag(reply: Reply, rel: &Value) -> Reply {
    match etag::of(rel) {
        Some(tag) => reply.header("etag", &tag),
        None => reply,
    }
}
