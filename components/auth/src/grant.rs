//! What a successful sign-in or rotation grants: an access + refresh pair for a verified user
//! (a refresh token row per pair, grouped in a family per sign-in), and the replies that carry
//! it (the OAuth2 token response, or the browser session's cookies). `login` and `tokens` both
//! issue through here.

use serde::Deserialize;
use serde_json::{Value, json};
use spin_sdk::pg4::ParameterValue;
use spingraph_guest::audit::Audit;
use spingraph_guest::db::Db;
use spingraph_guest::sql::{Query, fill};
use spingraph_guest::{ApiError, Ctx, Reply, Result};
use spingraph_identity::{Role, TokenType, hash_secret, random_urlsafe, unix_now};

use crate::cookies;
use crate::settings::Settings;
use crate::sql;

/// The signed-in user, as sign-in and refresh need it.
#[derive(Debug, Clone, Deserialize)]
pub struct User {
    pub id: uuid::Uuid,
    pub email: String,
    pub role: Role,
    /// `users.token_generation`, carried by the tokens as `gen`.
    pub generation: i64,
}

pub struct Issued {
    pub access_token: String,
    pub refresh_token: String,
}

/// Stores refresh token $1 of user $2 (family $3, hash $4, expiry $5 in Unix seconds), replacing
/// token $6 (NULL on a fresh sign-in); on a fresh sign-in from client network $8, clears the
/// account's failure count and turn and that network's failures (the network is now one the
/// owner signs in from: never paced; other networks' locks stay), and writes the audit row (`{audit}` over `who`, the user):
/// one statement. A rotation copies the family's end from the token it replaces; a sign-in
/// starts it at now + $7 seconds.
///
/// `me` share-locks the user's row first (`ins` reads it, and runs before every other write
/// here): the foreign-key checks would otherwise take that lock at the statement's end, after
/// `known` has written the network's row, while a concurrent sign-in's `sign_in_attempt` holds
/// the user's row and waits for that network row: a deadlock, answered 409 (the soak of issue
/// 26 met one in a thousand concurrent sign-ins of one account).
const ISSUE_SQL: &str = "\
WITH me AS (
    SELECT id FROM users WHERE id = $2::uuid FOR KEY SHARE
), session AS (
    SELECT coalesce((SELECT session_expires_at FROM refresh_tokens WHERE id = $6::uuid),
                    now() + $7::int8 * interval '1 second') AS ends
), ins AS (
    INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at, session_expires_at)
    SELECT $1::uuid, me.id, $3::uuid, $4::text, least(to_timestamp($5::int8), session.ends),
           session.ends
    FROM me, session
    RETURNING id
), prev AS (
    UPDATE refresh_tokens SET replaced_by = $1::uuid
    WHERE id = $6::uuid AND EXISTS (SELECT 1 FROM ins)
    RETURNING id
), reset AS (
    UPDATE users SET failed_attempts = 0, next_attempt_at = NULL, updated_at = now()
    WHERE id = $2::uuid AND $6::uuid IS NULL
      AND (failed_attempts <> 0 OR next_attempt_at IS NOT NULL)
    RETURNING id
), known AS (
    INSERT INTO sign_in_networks (user_id, network, last_success_at)
    SELECT $2::uuid, $8::text, now() WHERE $6::uuid IS NULL AND EXISTS (SELECT 1 FROM ins)
    ON CONFLICT (user_id, network) DO UPDATE
        SET failed_attempts = 0, failures = 0, last_success_at = now()
    RETURNING user_id
), who AS (SELECT $2::uuid AS id), log AS ({audit})
SELECT (SELECT count(*) FROM ins) AS j";

/// The refresh token a rotation replaces, and the end of its family (Unix seconds).
#[derive(Debug, Clone, Copy)]
pub struct Rotation {
    pub token_id: uuid::Uuid,
    pub family_id: uuid::Uuid,
    pub session_ends_at: i64,
}

/// A new access + refresh pair for `user`; `rotated` names the refresh token it replaces (same
/// family), `None` for a fresh sign-in (new family). Neither token outlives the family.
pub fn issue(
    ctx: &Ctx,
    db: &Db,
    settings: &Settings,
    user: &User,
    rotated: Option<Rotation>,
    action: &str,
) -> Result<Issued> {
    let now = unix_now();
    let family_id = rotated
        .map(|r| r.family_id)
        .unwrap_or_else(uuid::Uuid::now_v7);
    let session_ends_at = rotated
        .map(|r| r.session_ends_at)
        .unwrap_or(now + settings.session_lifetime);
    let refresh_id = uuid::Uuid::now_v7();
    let sign = |typ, jti, ttl: i64| {
        let ttl = ttl.min(session_ends_at - now).max(1);
        let claims = settings
            .rules
            .claims(typ, user.id, &user.email, user.role, jti, now, ttl)
            .with_session(family_id)
            .with_generation(user.generation);
        settings
            .rules
            .sign(&settings.signing, &claims)
            .map(|token| (token, claims))
            .map_err(|e| ApiError::unavailable("configuration", e.to_string()))
    };
    let (access_token, _) = sign(TokenType::Access, uuid::Uuid::now_v7(), settings.access_ttl)?;
    let (refresh_token, refresh_claims) =
        sign(TokenType::Refresh, refresh_id, settings.refresh_ttl)?;
    let previous = match rotated {
        Some(r) => sql::uuid(r.token_id),
        None => ParameterValue::DbNull,
    };
    let mut q = Query::of([
        sql::uuid(refresh_id),
        sql::uuid(user.id),
        sql::uuid(family_id),
        sql::text(&hash_secret(&refresh_token)),
        ParameterValue::Int64(refresh_claims.exp),
        previous,
        ParameterValue::Int64(settings.session_lifetime),
        sql::text(&crate::login::client_network(ctx)),
    ]);
    let actor = user.id.to_string();
    let details = json!({"family_id": family_id});
    let log = Audit::by(ctx, &actor).insert_one(&mut q, action, "user", "who", Some(&details));
    db.value(&fill(ISSUE_SQL, &[("audit", &log)]), q.params())?;
    Ok(Issued {
        access_token,
        refresh_token,
    })
}

/// The OAuth2 token response (RFC 6749 §5.1), never cached.
pub fn token_reply(settings: &Settings, issued: &Issued) -> Reply {
    Reply::ok(&json!({
        "access_token": issued.access_token,
        "token_type": "bearer",
        "expires_in": settings.access_ttl,
        "refresh_token": issued.refresh_token,
    }))
    .header("cache-control", "no-store")
    .header("pragma", "no-cache")
}

pub fn session_reply(settings: &Settings, user: &User, issued: &Issued) -> Reply {
    let csrf = random_urlsafe(32);
    let body: Value = json!({
        "user": {"id": user.id, "email": user.email, "role": user.role},
        "csrf_token": csrf,
        "expires_in": settings.access_ttl,
    });
    let reply = Reply::ok(&body).header("cache-control", "no-store");
    cookies::set(
        reply,
        &cookies::session(
            &issued.access_token,
            settings.access_ttl,
            &issued.refresh_token,
            settings.refresh_ttl,
            &csrf,
        ),
    )
}
