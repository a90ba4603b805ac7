//! API keys of the signed-in user: create (the secret is shown once, only its hash is stored),
//! list (never the secret), revoke. A key's scopes cannot exceed its owner's role.

use serde::Deserialize;
use serde_json::{Value, json};
use spin_sdk::http::Request;
use spin_sdk::pg4::ParameterValue;
use spingraph_authn_client::{Credential, Principal};
use spingraph_guest::db::Db;
use spingraph_guest::page::IdPage;
use spingraph_guest::validate::{has_control, rfc3339_utc};
use spingraph_guest::{ApiError, Ctx, FieldError, Reply, Result, body};
use spingraph_identity::Scope;
use spingraph_identity::api_key::ApiKey;

use crate::sql;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKey {
    name: String,
    scopes: Vec<String>,
    #[serde(default)]
    expires_at: Option<String>,
}

/// Only people manage keys: a key cannot mint or revoke keys.
fn require_person(p: &Principal) -> Result<()> {
    if p.credential == Credential::ApiKey {
        return Err(ApiError::forbidden(
            "API keys cannot manage API keys; sign in with a token or session.",
        ));
    }
    Ok(())
}

fn key_json() -> String {
    format!(
        "jsonb_build_object('id', k.id, 'name', k.name, 'prefix', k.prefix, 'scopes', to_jsonb(k.scopes), \
         'expires_at', {}, 'revoked_at', {}, 'last_used_at', {}, 'created_at', {})",
        sql::ts("k.expires_at"),
        sql::ts("k.revoked_at"),
        sql::ts("k.last_used_at"),
        sql::ts("k.created_at")
    )
}

const CREATE_SQL: &str = "\
WITH k AS (
    INSERT INTO api_keys (id, user_id, name, prefix, key_hash, scopes, expires_at)
    SELECT $1::uuid, $2::uuid, $3::text, $4::text, $5::text,
           ARRAY(SELECT jsonb_array_elements_text($6::jsonb)),
           $7::text::timestamptz
    WHERE $7::text IS NULL OR $7::text::timestamptz > now()
    RETURNING *
), log AS (
    INSERT INTO audit_log (id, actor_id, action, resource_type, resource_id, request_id, at, details)
    SELECT $8::uuid, $2::uuid, 'api_key.create', 'api_key', k.id, $9::text, now(),
           jsonb_build_object('scopes', to_jsonb(k.scopes))
    FROM k
    RETURNING id
)
SELECT (SELECT KEY_JSON FROM k) AS j";

/// `POST /api-keys` → 201 with the key, shown this once.
pub fn create(ctx: &Ctx, req: &Request, p: &Principal) -> Result<Reply> {
    require_person(p)?;
    let new: NewKey = body::json(req)?;
    let mut errors = Vec::new();
    let name = new.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 128 || has_control(&name) {
        errors.push(FieldError::new(
            "name",
            "must be 1 to 128 characters without control characters",
        ));
    }
    if new.scopes.is_empty() {
        errors.push(FieldError::new("scopes", "must name at least one scope"));
    }
    let mut scopes: Vec<Scope> = Vec::new();
    for (i, raw) in new.scopes.iter().enumerate() {
        match raw.parse::<Scope>() {
            Err(_) => errors.push(FieldError::new(
                format!("scopes[{i}]"),
                "is not a known scope",
            )),
            Ok(scope) if !p.role.scopes().contains(&scope) => errors.push(FieldError::new(
                format!("scopes[{i}]"),
                "exceeds what your role allows",
            )),
            Ok(scope) if !scopes.contains(&scope) => scopes.push(scope),
            Ok(_) => {}
        }
    }
    // Normalized to UTC: Postgres reads every valid RFC 3339 instant in that form.
    let expires_at = match new.expires_at.as_deref().map(rfc3339_utc) {
        Some(None) => {
            errors.push(FieldError::new(
                "expires_at",
                "must be an RFC 3339 timestamp",
            ));
            None
        }
        Some(utc) => utc,
        None => None,
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let id = uuid::Uuid::now_v7();
    let key = ApiKey::generate(id);
    let scope_names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    let db = Db::connect(ctx)?;
    let created: Value = db.value(
        &CREATE_SQL.replace("KEY_JSON", &key_json()),
        &[
            sql::uuid(id),
            sql::uuid(p.user_id),
            sql::text(&name),
            sql::text(&key.prefix),
            sql::text(&key.hash),
            ParameterValue::Jsonb(json!(scope_names).to_string().into_bytes()),
            expires_at
                .as_deref()
                .map(sql::text)
                .unwrap_or(ParameterValue::DbNull),
            sql::uuid(uuid::Uuid::now_v7()),
            sql::text(&ctx.request_id),
        ],
    )?;
    let Value::Object(mut body) = created else {
        return Err(ApiError::invalid("expires_at", "must be in the future"));
    };
    body.insert("key".into(), Value::String(key.key));
    Ok(Reply::created(&format!("/v1/auth/api-keys/{id}"), &body)
        .header("cache-control", "no-store"))
}

const LIST_SQL: &str = "\
SELECT coalesce(jsonb_agg(s.x ORDER BY s.id DESC), '[]'::jsonb) AS j
FROM (SELECT k.id, KEY_JSON AS x FROM api_keys k
      WHERE k.user_id = $1::uuid AND ($2::uuid IS NULL OR k.id < $2::uuid)
      ORDER BY k.id DESC LIMIT $3::int8) s";

/// `GET /api-keys`: the caller's keys, newest first, without secrets; paged (`limit`, `cursor`).
pub fn list(ctx: &Ctx, p: &Principal) -> Result<Reply> {
    require_person(p)?;
    let page = IdPage::from_query(ctx)?;
    let db = Db::connect(ctx)?;
    let items: Vec<Value> = db.json(
        &LIST_SQL.replace("KEY_JSON", &key_json()),
        &[sql::uuid(p.user_id), page.after_param(), page.limit_param()],
    )?;
    Ok(Reply::ok(&page.page(items)))
}

const REVOKE_SQL: &str = "\
WITH k AS (
    UPDATE api_keys SET revoked_at = now()
    WHERE id = $1::uuid AND (user_id = $2::uuid OR $3::bool) AND revoked_at IS NULL
    RETURNING id
), log AS (
    INSERT INTO audit_log (id, actor_id, action, resource_type, resource_id, request_id, at, details)
    SELECT $4::uuid, $2::uuid, 'api_key.revoke', 'api_key', k.id, $5::text, now(), '{}'::jsonb FROM k
    RETURNING id
)
SELECT (SELECT count(*) FROM k) AS j";

/// `DELETE /api-keys/{id}`: the owner's key (an admin may revoke anyone's).
pub fn revoke(ctx: &Ctx, p: &Principal, id: &str) -> Result<Reply> {
    require_person(p)?;
    let id = uuid::Uuid::parse_str(id).map_err(|_| ApiError::not_found("No such API key."))?;
    let db = Db::connect(ctx)?;
    let revoked: i64 = db.json(
        REVOKE_SQL,
        &[
            sql::uuid(id),
            sql::uuid(p.user_id),
            ParameterValue::Boolean(p.is_admin()),
            sql::uuid(uuid::Uuid::now_v7()),
            sql::text(&ctx.request_id),
        ],
    )?;
    if revoked == 0 {
        return Err(ApiError::not_found("No such API key."));
    }
    Ok(Reply::no_content())
}
