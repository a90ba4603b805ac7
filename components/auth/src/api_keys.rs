//! API keys of the signed-in user: create (the secret is shown once, only its hash is stored),
//! list (never the secret), revoke. A key's scopes cannot exceed its owner's role.

use serde_json::{Value, json};
use spin_sdk::http::Request;
use spin_sdk::pg4::ParameterValue;
use spingraph_authn_client::Principal;
use spingraph_guest::audit::Audit;
use spingraph_guest::db::Db;
use spingraph_guest::sql::{Query, fill};
use spingraph_guest::{ApiError, Ctx, Reply, Result};
use spingraph_identity::api_key::ApiKey;

use crate::access::require_person;
use crate::input;
use crate::sql;

/// The public shape of an API key row aliased `k` (never its hash), as a jsonb SQL expression.
macro_rules! key_json {
    () => {
        concat!(
            "jsonb_build_object('id', k.id, 'name', k.name, 'prefix', k.prefix, ",
            "'scopes', to_jsonb(k.scopes), ",
            spingraph_guest::sql_timestamps!("expires_at" => "k.expires_at", "revoked_at" => "k.revoked_at",
                "last_used_at" => "k.last_used_at", "created_at" => "k.created_at"),
            ")"
        )
    };
}

/// [`key_json!`] as a value (for tests).
#[cfg(test)]
pub const KEY_JSON: &str = key_json!();

/// Insert key $1 of user $2 (name $3, prefix $4, hash $5, scopes $6 as a jsonb array, expiry $7
/// or NULL) unless it would already have expired; its audit row is `{audit}` over `k`. The key,
/// NULL when the expiry is past.
const CREATE_SQL: &str = concat!(
    "WITH k AS (INSERT INTO api_keys (id, user_id, name, prefix, key_hash, scopes, expires_at) ",
    "SELECT $1::uuid, $2::uuid, $3::text, $4::text, $5::text, ",
    "ARRAY(SELECT jsonb_array_elements_text($6::jsonb)), $7::text::timestamptz ",
    "WHERE $7::text IS NULL OR $7::text::timestamptz > now() RETURNING *), ",
    "log AS ({audit}) ",
    "SELECT (SELECT ",
    key_json!(),
    " FROM k) AS j"
);

/// `POST /api-keys` → 201 with the key, shown this once.
pub fn create(ctx: &Ctx, req: &Request, p: &Principal) -> Result<Reply> {
    require_person(p)?;
    let new = input::new_key(req, p)?;
    let id = uuid::Uuid::now_v7();
    let key = ApiKey::generate(id);
    let scope_names: Vec<&str> = new.scopes.iter().map(|s| s.as_str()).collect();
    let mut q = Query::of([
        sql::uuid(id),
        sql::uuid(p.user_id),
        sql::text(&new.name),
        sql::text(&key.prefix),
        sql::text(&key.hash),
        ParameterValue::Jsonb(json!(scope_names).to_string().into_bytes()),
        sql::nullable(new.expires_at.as_deref().map(sql::text)),
    ]);
    let owner = p.user_id.to_string();
    let details = json!({"scopes": scope_names});
    let log =
        Audit::by(ctx, &owner).insert_one(&mut q, "api_key.create", "api_key", "k", Some(&details));
    let db = Db::connect(ctx)?;
    let created: Value = db.value(&fill(CREATE_SQL, &[("audit", &log)]), q.params())?;
    let Value::Object(mut body) = created else {
        return Err(ApiError::invalid("expires_at", "must be in the future"));
    };
    body.insert("key".into(), Value::String(key.key));
    Ok(Reply::created(&format!("/v1/auth/api-keys/{id}"), &body)
        .header("cache-control", "no-store"))
}

/// One page of user $1's keys, newest first, before id $2 (NULL: the first), at most $3 rows.
const LIST_SQL: &str = concat!(
    "SELECT coalesce(jsonb_agg(s.x ORDER BY s.id DESC), '[]'::jsonb) AS j ",
    "FROM (SELECT k.id, ",
    key_json!(),
    " AS x FROM api_keys k WHERE k.user_id = $1::uuid AND ($2::uuid IS NULL OR k.id < $2::uuid) ",
    "ORDER BY k.id DESC LIMIT $3::int8) s"
);

/// `GET /api-keys`: the caller's keys, newest first, without secrets; paged (`limit`, `cursor`).
pub fn list(ctx: &Ctx, p: &Principal) -> Result<Reply> {
    require_person(p)?;
    sql::id_page(ctx, LIST_SQL, [sql::uuid(p.user_id)])
}

/// Revoke key $1 if user $2 owns it (or $3: an admin asks) and it is not revoked yet; its audit
/// row is `{audit}` over `k`. How many keys were revoked (0 or 1).
const REVOKE_SQL: &str = "\
WITH k AS (
    UPDATE api_keys SET revoked_at = now()
    WHERE id = $1::uuid AND (user_id = $2::uuid OR $3::bool) AND revoked_at IS NULL
    RETURNING id
), log AS ({audit})
SELECT (SELECT count(*) FROM k) AS j";

/// `DELETE /api-keys/{id}`: the owner's key (an admin may revoke anyone's).
pub fn revoke(ctx: &Ctx, p: &Principal, id: &str) -> Result<Reply> {
    require_person(p)?;
    let id = uuid::Uuid::parse_str(id).map_err(|_| ApiError::not_found("No such API key."))?;
    let mut q = Query::of([
        sql::uuid(id),
        sql::uuid(p.user_id),
        ParameterValue::Boolean(p.is_admin()),
    ]);
    let actor = p.user_id.to_string();
    let log = Audit::by(ctx, &actor).insert_one(&mut q, "api_key.revoke", "api_key", "k", None);
    let db = Db::connect(ctx)?;
    let revoked: i64 = db.json(&fill(REVOKE_SQL, &[("audit", &log)]), q.params())?;
    if revoked == 0 {
        return Err(ApiError::not_found("No such API key."));
    }
    Ok(Reply::no_content())
}
