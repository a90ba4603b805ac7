//! Accounts: self sign-up (behind `signup_enabled`) and administration (list, create, change
//! role or active, unlock). Roles are only ever given explicitly, never derived from the email.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use spin_sdk::http::Request;
use spin_sdk::pg4::ParameterValue;
use spingraph_authn_client::Principal;
use spingraph_guest::audit::Audit;
use spingraph_guest::db::Db;
use spingraph_guest::sql::{Query, fill};
use spingraph_guest::{ApiError, Ctx, FieldError, Reply, Result, body, redis};
use spingraph_identity::{Role, revocation};

use crate::access::require_admin_person;
use crate::input::{NewUser, UserPatch, normalize_email};
use crate::settings;
use crate::sql::{self, user_json};

fn hashed_password(password: &str, email: &str) -> Result<String> {
    spingraph_password::validate(password, email)
        .map_err(|e| ApiError::invalid("password", e.to_string()))?;
    spingraph_password::hash(password).map_err(|e| ApiError::internal(e.to_string()))
}

/// Insert user $1 (email $2, password hash $3, role $4, active $5); its audit row is `{audit}`
/// over `u`. The public user.
const INSERT_USER_SQL: &str = concat!(
    "WITH u AS (INSERT INTO users (id, email, password_hash, role, active) ",
    "VALUES ($1::uuid, $2::text, $3::text, $4::text, $5::bool) ",
    "ON CONFLICT ((lower(email))) DO NOTHING RETURNING *), ",
    "log AS ({audit}) ",
    "SELECT (SELECT ",
    user_json!(),
    " FROM u) AS j"
);

/// Insert the account; `actor` is the admin creating it, `None` for a sign-up (its own actor).
fn insert_user(
    ctx: &Ctx,
    new: NewUser,
    role: Role,
    actor: Option<uuid::Uuid>,
    action: &str,
) -> Result<Reply> {
    let email = normalize_email(&new.email)?;
    let hash = hashed_password(&new.password, &email)?;
    let id = uuid::Uuid::now_v7();
    let actor = actor.unwrap_or(id).to_string();
    let mut q = Query::of([
        sql::uuid(id),
        sql::text(&email),
        sql::text(&hash),
        sql::text(role.as_str()),
        ParameterValue::Boolean(new.active.unwrap_or(true)),
    ]);
    let details = json!({"role": role.as_str()});
    let log = Audit::by(ctx, &actor).insert_one(&mut q, action, "user", "u", Some(&details));
    let db = Db::connect(ctx)?;
    // A taken email writes nothing and answers NULL (`ON CONFLICT DO NOTHING`): the statement
    // says so itself, as no released Spin hands over the SQLSTATE of a unique violation.
    let user: Value = db.value(&fill(INSERT_USER_SQL, &[("audit", &log)]), q.params())?;
    if user.is_null() {
        return Err(ApiError::conflict(
            "An account with this email already exists.",
        ));
    }
    Ok(Reply::created(&format!("/v1/auth/users/{id}"), &user))
}

/// What a fresh sign-up answers, for an account that is not made: user $1 with email $2, as
/// `user_json!` renders a new `user` (same keys, same timestamp format, one round trip like
/// the insert it stands in for).
const LOOKALIKE_USER_SQL: &str = concat!(
    "SELECT (SELECT ",
    user_json!(),
    " FROM (SELECT $1::uuid AS id, $2::text AS email, 'user'::text AS role, true AS active, ",
    "NULL::timestamptz AS locked_until, now() AS created_at, now() AS updated_at) u) AS j"
);

/// `POST /register`: role `user`, always. An email that already has an account gets the same
/// 201 a new one gets (a fresh id, no account made, nothing changed), so sign-up cannot tell
/// anyone which addresses are registered; the owner signs in as before.
pub fn register(ctx: &Ctx, req: &Request) -> Result<Reply> {
    let new: NewUser = body::json(req)?;
    if new.role.is_some() || new.active.is_some() {
        return Err(ApiError::Validation(vec![FieldError::new(
            if new.role.is_some() { "role" } else { "active" },
            "unknown field",
        )]));
    }
    let email = normalize_email(&new.email)?;
    match insert_user(ctx, new, Role::User, None, "user.register") {
        Err(ApiError::Conflict(_)) => {
            ctx.info(
                "sign-up for an existing account answered as new",
                json!({"ip": ctx.client_ip()}),
            );
            let id = uuid::Uuid::now_v7();
            let user: Value =
                Db::connect(ctx)?.value(LOOKALIKE_USER_SQL, &[sql::uuid(id), sql::text(&email)])?;
            Ok(Reply::created(&format!("/v1/auth/users/{id}"), &user))
        }
        answer => answer,
    }
}

/// `POST /users` (admin): any role.
pub fn create(ctx: &Ctx, req: &Request, p: &Principal) -> Result<Reply> {
    require_admin_person(p)?;
    let new: NewUser = body::json(req)?;
    let role = new.role.unwrap_or(Role::User);
    insert_user(ctx, new, role, Some(p.user_id), "user.create")
}

/// One page of users after id $1 (NULL: the first), at most $2 rows.
const LIST_SQL: &str = concat!(
    "SELECT coalesce(jsonb_agg(s.x ORDER BY s.id), '[]'::jsonb) AS j ",
    "FROM (SELECT u.id, ",
    user_json!(),
    " AS x FROM users u WHERE $1::uuid IS NULL OR u.id > $1::uuid ",
    "ORDER BY u.id LIMIT $2::int8) s"
);

/// `GET /users` (admin): pages in id (= creation) order.
pub fn list(ctx: &Ctx, p: &Principal) -> Result<Reply> {
    require_admin_person(p)?;
    sql::id_page(ctx, LIST_SQL, [])
}

fn user_id(raw: &str) -> Result<uuid::Uuid> {
    uuid::Uuid::parse_str(raw).map_err(|_| ApiError::not_found("No such user."))
}

/// Applies the patch (role $2, active $3, NULL: unchanged); a role change or a deactivation
/// bumps the token generation, so every token issued before it (however shortly) is refused.
/// Its audit row is `{audit}` over `u`. Returns the public user and the generation, NULL for an
/// unknown id.
const UPDATE_SQL: &str = concat!(
    "WITH u AS (UPDATE users SET role = coalesce($2::text, role), active = coalesce($3::bool, active), ",
    "token_generation = token_generation ",
    "+ CASE WHEN coalesce($2::text, role) <> role OR NOT coalesce($3::bool, true) THEN 1 ELSE 0 END, ",
    "updated_at = now() WHERE id = $1::uuid RETURNING *), ",
    "rev AS (UPDATE refresh_tokens SET revoked_at = now() ",
    "WHERE user_id = (SELECT id FROM u WHERE NOT active) AND revoked_at IS NULL RETURNING id), ",
    "log AS ({audit}) ",
    "SELECT (SELECT jsonb_build_object('user', ",
    user_json!(),
    ", 'generation', u.token_generation) FROM u) AS j"
);

#[derive(Deserialize)]
struct Updated {
    user: Value,
    generation: i64,
}

/// `PATCH /users/{id}` (admin): role and/or active. Tokens the user already holds stop working
/// at once: the new token generation goes to Redis inside the transaction that makes the
/// change (no Redis, no change), and is in Postgres for `authn`'s fallback.
pub fn update(ctx: &Ctx, req: &Request, p: &Principal, id: &str) -> Result<Reply> {
    require_admin_person(p)?;
    let id = user_id(id)?;
    let patch: UserPatch = body::json(req)?;
    if patch.role.is_none() && patch.active.is_none() {
        return Err(ApiError::invalid("body", "must set role or active"));
    }
    if id == p.user_id && (patch.role == Some(Role::User) || patch.active == Some(false)) {
        return Err(ApiError::conflict(
            "You cannot remove your own admin access; ask another admin.",
        ));
    }
    let ttl = settings::access_ttl(ctx)?;
    let mut q = Query::of([
        sql::uuid(id),
        sql::nullable(patch.role.map(|r| sql::text(r.as_str()))),
        sql::nullable(patch.active.map(ParameterValue::Boolean)),
    ]);
    // What the patch set (role and/or active).
    let mut details = Map::new();
    if let Some(role) = patch.role {
        details.insert("role".into(), json!(role.as_str()));
    }
    if let Some(active) = patch.active {
        details.insert("active".into(), json!(active));
    }
    let actor = p.user_id.to_string();
    let log = Audit::by(ctx, &actor).insert_one(
        &mut q,
        "user.update",
        "user",
        "u",
        Some(&Value::Object(details)),
    );
    let statement = fill(UPDATE_SQL, &[("audit", &log)]);
    let db = Db::connect(ctx)?;
    let updated: Option<Updated> = db.transaction(|db| {
        let updated: Option<Updated> = db.json(&statement, q.params())?;
        if let Some(u) = &updated {
            deny_older_tokens(ctx, id, u.generation, ttl)?;
        }
        Ok(updated)
    })?;
    match updated {
        Some(u) => Ok(Reply::ok(&u.user)),
        None => Err(ApiError::not_found("No such user.")),
    }
}

/// Refuse the user's access tokens of generations before `generation` for as long as any of
/// them can still be accepted.
fn deny_older_tokens(ctx: &Ctx, id: uuid::Uuid, generation: i64, access_ttl: i64) -> Result<()> {
    redis::set_ex(
        &redis::connect(ctx)?,
        &revocation::user_generation_key(&id.to_string()),
        generation.to_string().as_bytes(),
        revocation::entry_ttl(access_ttl),
    )
}

/// Clear failures and any lockout of user $1; its audit row is `{audit}` over `u`. The public
/// user, NULL for an unknown id.
const UNLOCK_SQL: &str = concat!(
    "WITH u AS (UPDATE users SET failed_attempts = 0, locked_until = NULL, lockout_count = 0, ",
    "next_attempt_at = NULL, updated_at = now() WHERE id = $1::uuid RETURNING *), ",
    "nets AS (UPDATE sign_in_networks SET failed_attempts = 0, lockout_count = 0, ",
    "locked_until = NULL WHERE user_id = $1::uuid AND EXISTS (SELECT 1 FROM u) RETURNING 1), ",
    "log AS ({audit}) ",
    "SELECT (SELECT ",
    user_json!(),
    " FROM u) AS j"
);

/// `POST /users/{id}/unlock` (admin): clears failures, the account's turn and every network's
/// lockout.
pub fn unlock(ctx: &Ctx, p: &Principal, id: &str) -> Result<Reply> {
    require_admin_person(p)?;
    let id = user_id(id)?;
    let mut q = Query::of([sql::uuid(id)]);
    let actor = p.user_id.to_string();
    let log = Audit::by(ctx, &actor).insert_one(&mut q, "user.unlock", "user", "u", None);
    let db = Db::connect(ctx)?;
    let user: Value = db.value(&fill(UNLOCK_SQL, &[("audit", &log)]), q.params())?;
    if user.is_null() {
        return Err(ApiError::not_found("No such user."));
    }
    Ok(Reply::ok(&user))
}
