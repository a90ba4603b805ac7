//! Password sign-in: `POST /token` (JSON or the OAuth2 password form) and `POST /session`
//! (the browser flow with cookies). Unknown email, wrong password, locked or deactivated
//! account all give the same 401 after the same argon2id work; lockout lives in Postgres.
//!
//! Lockout cannot be raced: an attempt is counted (and the lock set when it is the fifth) in
//! one row-locking `UPDATE` *before* its password is checked, so concurrent guesses queue on the
//! row and at most five are ever evaluated before the lock lands; a correct password then
//! clears the count (and an optimistic lock) when the tokens are issued.

use serde::Deserialize;
use serde_json::json;
use spin_sdk::http::Request;
use spingraph_guest::db::Db;
use spingraph_guest::{ApiError, Ctx, Reply, Result};
use spingraph_identity::Role;
use spingraph_identity::secret::log_pseudonym;

use crate::grant::{self, User};
use crate::input::{Credentials, credentials};
use crate::settings::Settings;
use crate::sql;

/// The one answer to every failed sign-in.
pub const INVALID_LOGIN: &str = "Invalid email or password.";

/// Consecutive failures that lock an account.
const MAX_FAILURES: i32 = 5;

#[derive(Deserialize)]
struct Attempt {
    id: uuid::Uuid,
    email: String,
    role: Role,
    active: bool,
    generation: i64,
    password_hash: String,
    /// The account was not locked, so this attempt was counted and may be evaluated.
    allowed: bool,
    /// This attempt was the one that locked the account (if its password is wrong).
    locked_now: bool,
}

/// Counts one attempt against an unlocked account: the fifth in a row locks it for 15 min ×
/// 2^(earlier lockouts), capped at 24 h, and starts the count again. Concurrent attempts wait
/// on the row lock and re-check `locked_until` once it is released, so none slips past a lock.
/// One row for a known email (`allowed` false while locked), NULL for an unknown one.
const ATTEMPT_SQL: &str = "\
WITH counted AS (
    UPDATE users SET
        failed_attempts = CASE WHEN failed_attempts + 1 >= $2::int4 THEN 0 ELSE failed_attempts + 1 END,
        lockout_count = CASE WHEN failed_attempts + 1 >= $2::int4 THEN lockout_count + 1 ELSE lockout_count END,
        locked_until = CASE WHEN failed_attempts + 1 >= $2::int4
            THEN now() + least(interval '15 minutes' * power(2, least(lockout_count, 10)), interval '24 hours')
            ELSE locked_until END,
        updated_at = now()
    WHERE lower(email) = lower($1::text) AND NOT coalesce(locked_until > now(), false)
    RETURNING id, coalesce(locked_until > now(), false) AS locked_now
)
SELECT (SELECT jsonb_build_object('id', u.id, 'email', u.email, 'role', u.role, 'active', u.active,
                                  'generation', u.token_generation,
                                  'password_hash', u.password_hash,
                                  'allowed', c.id IS NOT NULL,
                                  'locked_now', coalesce(c.locked_now, false))
        FROM users u LEFT JOIN counted c ON c.id = u.id
        WHERE lower(u.email) = lower($1::text)) AS j";

const REHASH_SQL: &str = "\
WITH u AS (UPDATE users SET password_hash = $2::text, updated_at = now() WHERE id = $1::uuid RETURNING id)
SELECT (SELECT count(*) FROM u) AS j";

/// Check a password sign-in. Every failure is logged (reason, account or a pseudonym of the
/// email, IP; never the email as typed, never the password)
/// and answered with the same 401 after one query and one argon2id verification (against a
/// dummy hash for unknown and locked accounts).
pub fn verify(ctx: &Ctx, db: &Db, creds: &Credentials) -> Result<User> {
    let attempt: Option<Attempt> = db.json(
        ATTEMPT_SQL,
        &[
            sql::text(creds.email.trim()),
            spin_sdk::pg4::ParameterValue::Int32(MAX_FAILURES),
        ],
    )?;
    let Some(account) = attempt else {
        spingraph_password::verify_dummy(&creds.password);
        return Err(failed(ctx, creds, "unknown email", None));
    };
    if !account.allowed {
        spingraph_password::verify_dummy(&creds.password);
        return Err(failed(ctx, creds, "account locked", Some(account.id)));
    }
    if !spingraph_password::verify(&creds.password, &account.password_hash) {
        let reason = if account.locked_now {
            "wrong password; account now locked"
        } else {
            "wrong password"
        };
        return Err(failed(ctx, creds, reason, Some(account.id)));
    }
    if !account.active {
        return Err(failed(ctx, creds, "account deactivated", Some(account.id)));
    }
    if spingraph_password::needs_rehash(&account.password_hash)
        && let Ok(fresh) = spingraph_password::hash(&creds.password)
    {
        db.value(REHASH_SQL, &[sql::uuid(account.id), sql::text(&fresh)])?;
    }
    Ok(User {
        id: account.id,
        email: account.email,
        role: account.role,
        generation: account.generation,
    })
}

/// Log a failed sign-in and answer the one 401. The log names the account by id when there is
/// one, and what was typed only as a keyed pseudonym (`email_hmac`, see
/// [`spingraph_identity::secret::log_pseudonym`], keyed with this component's signing key): a
/// password typed into the email field never reaches the logs.
fn failed(ctx: &Ctx, creds: &Credentials, reason: &str, user_id: Option<uuid::Uuid>) -> ApiError {
    let pseudonym = match user_id {
        Some(_) => None,
        None => ctx
            .config
            .get("jwt_signing_key")
            .ok()
            .flatten()
            .map(|key| log_pseudonym(&key, &creds.email.trim().to_lowercase())),
    };
    ctx.warn(
        "login failed",
        json!({"reason": reason, "user_id": user_id, "email_hmac": pseudonym,
               "ip": ctx.client_ip()}),
    );
    ApiError::unauthorized(INVALID_LOGIN)
}

/// `POST /token`.
pub fn token(ctx: &Ctx, req: &Request) -> Result<Reply> {
    let creds = credentials(req)?;
    let settings = Settings::load(ctx)?;
    let db = Db::connect(ctx)?;
    let user = verify(ctx, &db, &creds)?;
    let issued = grant::issue(ctx, &db, &settings, &user, None, "user.login")?;
    Ok(grant::token_reply(&settings, &issued))
}

/// `POST /session`: the tokens go into cookies; the body has the user and the CSRF token.
pub fn session(ctx: &Ctx, req: &Request) -> Result<Reply> {
    let creds = credentials(req)?;
    let settings = Settings::load(ctx)?;
    let db = Db::connect(ctx)?;
    let user = verify(ctx, &db, &creds)?;
    let issued = grant::issue(ctx, &db, &settings, &user, None, "user.login")?;
    Ok(grant::session_reply(&settings, &user, &issued))
}
