//! Token lifecycle after sign-in: rotation with reuse detection, logout, and the public JWKS
//! (issuing a pair is `grant`'s, shared with sign-in).
//!
//! Refresh is strict: a refresh token is good for exactly one rotation. The presented token's
//! row is locked (`FOR UPDATE`) before it is judged, so of two concurrent refreshes one wins and
//! the other, waiting on the lock, sees the token used: that is reuse, and it revokes the whole
//! family, the winner's new tokens included (a client must not refresh twice in parallel).
//! A family also has an absolute end (`session_lifetime_seconds` from sign-in) that no rotation
//! extends; every token issued in it expires by then.

use serde::Deserialize;
use serde_json::json;
use spin_sdk::http::Request;
use spingraph_authn_client::{Credential, Principal};
use spingraph_guest::audit::Audit;
use spingraph_guest::context::header;
use spingraph_guest::db::Db;
use spingraph_guest::sql::{Query, fill};
use spingraph_guest::{ApiError, Ctx, Reply, Result, body, kv};
use spingraph_identity::session::{CSRF_COOKIE, CSRF_HEADER, REFRESH_COOKIE, cookie, csrf_ok};
use spingraph_identity::{TokenType, hash_secret, revocation, unix_now};

use crate::cookies;
use crate::grant::{self, Rotation, User};
use crate::login;
use crate::settings::{self, Settings};
use crate::sql;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefreshBody {
    refresh_token: String,
    #[serde(default, deserialize_with = "body::present")]
    grant_type: Option<String>,
}

/// Where the refresh token came from: an explicit body, or the browser session's cookie (which
/// then needs the CSRF double submit like every cookie-authenticated unsafe request).
fn presented_refresh_token(req: &Request) -> Result<(String, bool)> {
    let content_type = header(req, "content-type").unwrap_or("");
    if body::media_type(content_type) == "application/x-www-form-urlencoded" {
        body::check_size(req.body(), body::DEFAULT_LIMIT)?;
        let form = login::form_pairs(req.body());
        let get = |n: &str| form.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        if get("grant_type").is_some_and(|g| g != "refresh_token") {
            return Err(ApiError::bad_request(
                "unsupported_grant_type: this endpoint accepts grant_type=refresh_token.",
            ));
        }
        return match get("refresh_token").filter(|t| !t.is_empty()) {
            Some(t) => Ok((t, false)),
            None => Err(ApiError::invalid("refresh_token", "is required")),
        };
    }
    if !req.body().iter().all(u8::is_ascii_whitespace) {
        let b: RefreshBody = body::json(req)?;
        if b.grant_type.is_some_and(|g| g != "refresh_token") {
            return Err(ApiError::invalid("grant_type", "must be refresh_token"));
        }
        if b.refresh_token.is_empty() {
            return Err(ApiError::invalid("refresh_token", "is required"));
        }
        return Ok((b.refresh_token, false));
    }
    let cookies = header(req, "cookie").unwrap_or("");
    match cookie(cookies, REFRESH_COOKIE) {
        Some(t) => {
            if !csrf_ok(cookie(cookies, CSRF_COOKIE), header(req, CSRF_HEADER)) {
                return Err(ApiError::forbidden(
                    "Cookie-authenticated requests that change state need an X-CSRF-Token header matching the sg_csrf cookie.",
                ));
            }
            Ok((t.to_string(), true))
        }
        None => Err(ApiError::unauthorized("A refresh token is required.")),
    }
}

/// The presented refresh token as it stands once locked, and whether this request claimed it.
#[derive(Deserialize)]
struct Presented {
    id: uuid::Uuid,
    family_id: uuid::Uuid,
    user_id: uuid::Uuid,
    used: bool,
    revoked: bool,
    in_session: bool,
    session_ends_at: i64,
    claimed: bool,
    email: String,
    role: spingraph_identity::Role,
    active: bool,
    generation: i64,
}

/// Locks the token's row, then marks it used if it is still good: a concurrent refresh of the
/// same token waits on the lock and then reads the row as the winner left it (used), so exactly
/// one claims it. NULL for an unknown token.
const CLAIM_SQL: &str = "\
WITH t AS (
    SELECT r.id, r.family_id, r.user_id,
           r.used_at IS NOT NULL AS used, r.revoked_at IS NOT NULL AS revoked,
           r.expires_at > now() AS fresh, r.session_expires_at > now() AS in_session,
           floor(extract(epoch FROM r.session_expires_at))::int8 AS session_ends_at
    FROM refresh_tokens r WHERE r.token_hash = $1::text
    FOR UPDATE
), claimed AS (
    UPDATE refresh_tokens r SET used_at = now()
    FROM t
    WHERE r.id = t.id AND NOT t.used AND NOT t.revoked AND t.fresh AND t.in_session
    RETURNING r.id
)
SELECT (SELECT jsonb_build_object(
            'id', t.id, 'family_id', t.family_id, 'user_id', t.user_id, 'used', t.used,
            'revoked', t.revoked, 'in_session', t.in_session,
            'session_ends_at', t.session_ends_at,
            'claimed', EXISTS (SELECT 1 FROM claimed),
            'email', u.email, 'role', u.role, 'active', u.active,
            'generation', u.token_generation)
        FROM t JOIN users u ON u.id = t.user_id) AS j";

/// Revoke every live refresh token of family $1; the audit row (`{audit}` over `fam`, the
/// family) is written even when none was live. How many were revoked.
const REVOKE_FAMILY_SQL: &str = "\
WITH rev AS (
    UPDATE refresh_tokens SET revoked_at = now()
    WHERE family_id = $1::uuid AND revoked_at IS NULL
    RETURNING id
), fam AS (SELECT $1::uuid AS id, count(*) AS revoked FROM rev), log AS ({audit})
SELECT (SELECT count(*) FROM rev) AS j";

fn revoke_family(
    ctx: &Ctx,
    db: &Db,
    family: uuid::Uuid,
    actor: Option<uuid::Uuid>,
    action: &str,
) -> Result<()> {
    let mut q = Query::of([sql::uuid(family)]);
    let actor = actor.map(|a| a.to_string());
    let log = Audit::new(actor.as_deref(), &ctx.request_id).insert_computed(
        &mut q,
        action,
        "refresh_family",
        "fam",
        "jsonb_build_object('revoked', fam.revoked)",
    );
    db.value(&fill(REVOKE_FAMILY_SQL, &[("audit", &log)]), q.params())?;
    Ok(())
}

/// `POST /refresh`: rotate. Presenting a token that was already used revokes its whole family
/// (someone holds a stolen copy) and refuses every access token of that session.
pub fn refresh(ctx: &Ctx, req: &Request) -> Result<Reply> {
    let (token, from_cookie) = presented_refresh_token(req)?;
    let settings = Settings::load(ctx)?;
    let refused = |reason: &str| {
        ctx.warn(
            "refresh refused",
            json!({"reason": reason, "ip": ctx.client_ip()}),
        );
        ApiError::unauthorized("Invalid or expired refresh token.")
    };
    let keys = settings.verifier_keys(ctx)?;
    settings
        .rules
        .verify(&keys, &token, TokenType::Refresh)
        .map_err(|e| refused(&e.to_string()))?;
    let db = Db::connect(ctx)?;
    let outcome = db.transaction(|db| {
        let presented: Option<Presented> =
            db.json(CLAIM_SQL, &[sql::text(&hash_secret(&token))])?;
        let Some(t) = presented else {
            return Ok(Err(("unknown refresh token", None)));
        };
        if t.claimed && t.active {
            let user = User {
                id: t.user_id,
                email: t.email.clone(),
                role: t.role,
                generation: t.generation,
            };
            let rotation = Rotation {
                token_id: t.id,
                family_id: t.family_id,
                session_ends_at: t.session_ends_at,
            };
            let issued = grant::issue(ctx, db, &settings, &user, Some(rotation), "token.refresh")?;
            return Ok(Ok((user, issued)));
        }
        if t.claimed {
            revoke_family(
                ctx,
                db,
                t.family_id,
                Some(t.user_id),
                "token.revoke_inactive",
            )?;
            return Ok(Err(("user deactivated", Some(t.family_id))));
        }
        Ok(Err(if t.revoked {
            ("refresh token revoked", None)
        } else if t.used {
            revoke_family(ctx, db, t.family_id, None, "token.reuse_detected")?;
            (
                "refresh token reuse detected; family revoked",
                Some(t.family_id),
            )
        } else if !t.in_session {
            ("session lifetime over", None)
        } else {
            ("refresh token expired", None)
        }))
    })?;
    match outcome {
        Ok((user, issued)) => Ok(if from_cookie {
            grant::session_reply(&settings, &user, &issued)
        } else {
            grant::token_reply(&settings, &issued)
        }),
        Err((reason, revoked_family)) => {
            if let Some(family) = revoked_family {
                // Best effort: the family is revoked in Postgres either way, which `authn`
                // consults when Redis is unavailable.
                if let Err(e) = deny_session(ctx, &settings, family) {
                    ctx.warn(
                        "session denylist failed",
                        json!({"error": e.internal_detail()}),
                    );
                }
            }
            Err(refused(reason))
        }
    }
}

/// Refuse every access token of a session until the longest of them can no longer be accepted.
fn deny_session(ctx: &Ctx, settings: &Settings, family: uuid::Uuid) -> Result<()> {
    let conn = kv::connect(ctx)?;
    kv::set_ex(
        &conn,
        &revocation::session_key(&family.to_string()),
        b"1",
        revocation::entry_ttl(settings.access_ttl),
    )
}

/// `POST /logout`: denylist the access token (and its session) in Redis first, then revoke the
/// refresh family in Postgres. Redis down → 503: a logout that could not take effect at once
/// must not claim success.
pub fn logout(ctx: &Ctx, principal: &Principal) -> Result<Reply> {
    if principal.credential == Credential::ApiKey {
        return Err(ApiError::bad_request(
            "API keys do not sign in; revoke one with DELETE /v1/auth/api-keys/{id}.",
        ));
    }
    let settings_ttl = settings::access_ttl(ctx)?;
    let jti = principal
        .token_id
        .clone()
        .ok_or_else(|| ApiError::internal("authn returned a session principal without a jti"))?;
    let family = principal.session_id;
    let conn = kv::connect(ctx)?;
    // Accepted until `exp` plus the clock leeway: the entry lives at least that long.
    let remaining = principal
        .expires_at
        .map(|exp| exp - unix_now())
        .unwrap_or(settings_ttl);
    kv::set_ex(
        &conn,
        &revocation::token_key(&jti),
        b"1",
        revocation::entry_ttl(remaining),
    )?;
    if let Some(family) = family {
        kv::set_ex(
            &conn,
            &revocation::session_key(&family.to_string()),
            b"1",
            revocation::entry_ttl(settings_ttl),
        )?;
        let db = Db::connect(ctx)?;
        revoke_family(ctx, &db, family, Some(principal.user_id), "user.logout")?;
    }
    ctx.info("logout", json!({"user_id": principal.user_id, "jti": jti}));
    Ok(cookies::set(Reply::no_content(), &cookies::cleared()))
}

/// `GET /.well-known/jwks.json`: every public key still accepted, including the signing key's.
pub fn jwks(ctx: &Ctx) -> Result<Reply> {
    let mut keys = settings::published_keys(ctx)?;
    if let Some(signing) = ctx.config.get("jwt_signing_key")?
        && let Ok(key) = spingraph_identity::SigningKey::parse(&signing)
    {
        keys = keys.merge(key.public_keys());
    }
    Ok(Reply::ok(&keys.to_jwks()).header("cache-control", "public, max-age=300"))
}
