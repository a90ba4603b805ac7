//! Password sign-in: `POST /token` (JSON or the OAuth2 password form) and `POST /session`
//! (the browser flow with cookies). Unknown email, wrong password, locked network or
//! deactivated account all give the same 401 after the same argon2id work; lockout lives in
//! Postgres.
//!
//! Failures count per (account, client network) (`sign_in_attempt`, migration
//! 20261206140000): five in a row lock that network out of the account, not the owner; and per
//! account, across networks, from the fifth on attempts from networks the owner never signed in
//! from take turns, so spreading guesses over many addresses gains nothing. Neither can be
//! raced: an attempt is counted (and a lock or turn set) in one statement that locks the account
//! row *before* its password is checked, so concurrent guesses queue on the row; a correct
//! password then clears the count when the tokens are issued (`grant::issue`).

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;
use spin_sdk::http::Request;
use spin_sdk::pg4::ParameterValue;
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

/// Consecutive failures from one network that lock it out of the account.
const MAX_FAILURES: i32 = 5;
/// The longest an attempt waits for its turn; one whose turn is further off is refused unchecked.
const MAX_TURN_WAIT_MS: i32 = 8000;

#[derive(Deserialize)]
struct Attempt {
    id: uuid::Uuid,
    email: String,
    role: Role,
    active: bool,
    generation: i64,
    password_hash: String,
    /// Whether this attempt may be checked (its network is not locked, its turn is near).
    allowed: bool,
    /// Why not, when not.
    reason: Option<String>,
    /// This attempt's failure locks its network (if its password is wrong).
    locked_now: bool,
    /// How long to wait for its turn before checking it.
    wait_ms: u64,
}

/// Writes the audit row of a network locked out of an account (`user.sign_in_locked`, by
/// nobody: the one locked out is a stranger until they prove otherwise).
const LOCKED_AUDIT_SQL: &str =
    "WITH who AS (SELECT $1::uuid AS id), log AS ({audit}) SELECT 1 AS j";

const REHASH_SQL: &str = "\
WITH u AS (UPDATE users SET password_hash = $2::text, updated_at = now() WHERE id = $1::uuid RETURNING id)
SELECT (SELECT count(*) FROM u) AS j";

/// The client network an attempt counts under (the per-address rate limit's bucket).
pub fn client_network(ctx: &Ctx) -> String {
    ctx.client_bucket().unwrap_or_else(|| "unknown".to_string())
}

/// Check a password sign-in; the session it ran on comes back for issuing the tokens. Every
/// failure is logged (reason, account or a pseudonym of the email, IP; never the email as typed,
/// never the password) and answered with the same 401 after one query and one argon2id
/// verification (against a dummy hash when there is nothing to check). An attempt waiting for
/// its turn holds no session while it waits.
pub fn verify(ctx: &Ctx, creds: &Credentials) -> Result<(User, Db)> {
    let network = client_network(ctx);
    let mut db = Db::connect(ctx)?;
    let attempt: Option<Attempt> = db.json(
        "SELECT sign_in_attempt($1::text, $2::text, $3::int4, $4::int4) AS j",
        &[
            sql::text(creds.email.trim()),
            sql::text(&network),
            ParameterValue::Int32(MAX_FAILURES),
            ParameterValue::Int32(MAX_TURN_WAIT_MS),
        ],
    )?;
    let Some(account) = attempt else {
        spingraph_password::verify_dummy(&creds.password);
        return Err(failed(ctx, creds, "unknown email", None));
    };
    if !account.allowed {
        spingraph_password::verify_dummy(&creds.password);
        let reason = account.reason.as_deref().unwrap_or("refused");
        return Err(failed(ctx, creds, reason, Some(account.id)));
    }
    if account.wait_ms > 0 {
        drop(db);
        std::thread::sleep(Duration::from_millis(account.wait_ms));
        db = Db::connect(ctx)?;
    }
    if !spingraph_password::verify(&creds.password, &account.password_hash) {
        let reason = if account.locked_now {
            let mut q = spingraph_guest::sql::Query::of([sql::uuid(account.id)]);
            let log = spingraph_guest::audit::Audit::new(None, &ctx.request_id).insert_one(
                &mut q,
                "user.sign_in_locked",
                "user",
                "who",
                Some(&json!({"network": network})),
            );
            let statement = spingraph_guest::sql::fill(LOCKED_AUDIT_SQL, &[("audit", &log)]);
            db.value(&statement, q.params())?;
            "wrong password; network now locked"
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
    let user = User {
        id: account.id,
        email: account.email,
        role: account.role,
        generation: account.generation,
    };
    Ok((user, db))
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
    let (user, db) = verify(ctx, &creds)?;
    let issued = grant::issue(ctx, &db, &settings, &user, None, "user.login")?;
    Ok(grant::token_reply(&settings, &issued))
}

/// `POST /session`: the tokens go into cookies; the body has the user and the CSRF token.
pub fn session(ctx: &Ctx, req: &Request) -> Result<Reply> {
    let creds = credentials(req)?;
    let settings = Settings::load(ctx)?;
    let (user, db) = verify(ctx, &creds)?;
    let issued = grant::issue(ctx, &db, &settings, &user, None, "user.login")?;
    Ok(grant::session_reply(&settings, &user, &issued))
}
