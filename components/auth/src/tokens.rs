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
use spingraph_guest::db::Db;
use spingraph_guest::sql::{Query, fill};
use spingraph_guest::{ApiError, Ctx, Reply, Result, cors, redis};
use spingraph_identity::{TokenType, Verifier, hash_secret, revocation, unix_now};

use crate::cookies;
use crate::grant::{self, Issued, Rotation, User};
use crate::input::{Presentation, presented_refresh_token};
use crate::settings::{self, Settings};
use crate::sql;

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

/// How a refresh went.
enum Outcome {
    /// The token was claimed: a new pair for its user.
    Rotated { user: User, issued: Issued },
    /// Refused for `reason` (logged, never told); `revoked_family` is the session revoked for it
    /// (reuse, a deactivated user), whose access tokens are then refused too.
    Refused {
        reason: &'static str,
        revoked_family: Option<uuid::Uuid>,
    },
}

impl Outcome {
    fn refused(reason: &'static str) -> Outcome {
        Outcome::Refused {
            reason,
            revoked_family: None,
        }
    }
}

/// `POST /refresh`: rotate. Presenting a token that was already used revokes its whole family
/// (someone holds a stolen copy) and refuses every access token of that session.
pub fn refresh(ctx: &Ctx, req: &Request) -> Result<Reply> {
    let presented = presented_refresh_token(req)?;
    if let Presentation::Cookie(_) = presented {
        // renewing a browser session: only from our own pages (or a listed origin)
        cors::require_same_origin(ctx, req)?;
    }
    let token = presented.token();
    let settings = Settings::load(ctx)?;
    let refused = |reason: &str| {
        ctx.warn(
            "refresh refused",
            json!({"reason": reason, "ip": ctx.client_ip()}),
        );
        ApiError::unauthorized("Invalid or expired refresh token.")
    };
    let keys = settings.verifier_keys(ctx)?;
    Verifier::new(&settings.rules, &keys)
        .verify(token, TokenType::Refresh, None, unix_now())
        .map_err(|e| refused(&e.to_string()))?;
    let db = Db::connect(ctx)?;
    let outcome = db.transaction(|db| {
        let claimed: Option<Presented> = db.json(CLAIM_SQL, &[sql::text(&hash_secret(token))])?;
        let Some(t) = claimed else {
            return Ok(Outcome::refused("unknown refresh token"));
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
            return Ok(Outcome::Rotated { user, issued });
        }
        if t.claimed {
            // The system acts here, not the deactivated user (the audit log takes no inactive
            // actor); the family names the user.
            revoke_family(ctx, db, t.family_id, None, "token.revoke_inactive")?;
            return Ok(Outcome::Refused {
                reason: "user deactivated",
                revoked_family: Some(t.family_id),
            });
        }
        Ok(if t.revoked {
            Outcome::refused("refresh token revoked")
        } else if t.used {
            revoke_family(ctx, db, t.family_id, None, "token.reuse_detected")?;
            Outcome::Refused {
                reason: "refresh token reuse detected; family revoked",
                revoked_family: Some(t.family_id),
            }
        } else if !t.in_session {
            Outcome::refused("session lifetime over")
        } else {
            Outcome::refused("refresh token expired")
        })
    })?;
    match outcome {
        Outcome::Rotated { user, issued } => Ok(match presented {
            Presentation::Cookie(_) => grant::session_reply(&settings, &user, &issued),
            Presentation::Body(_) => grant::token_reply(&settings, &issued),
        }),
        Outcome::Refused {
            reason,
            revoked_family,
        } => {
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
    let conn = redis::connect(ctx)?;
    redis::set_ex(
        &conn,
        &revocation::session_key(&family.to_string()),
        b"1",
        revocation::entry_ttl(settings.access_ttl),
    )
}

/// `POST /logout`: denylist the access token (and its session) in Redis first, then revoke the
/// refresh family in Postgres. Redis down → 503: a logout that could not take effect at once
/// must not claim success. A browser session (cookie) ends only from our own pages.
pub fn logout(ctx: &Ctx, req: &Request, principal: &Principal) -> Result<Reply> {
    match principal.credential {
        Credential::ApiKey => {
            return Err(ApiError::bad_request(
                "API keys do not sign in; revoke one with DELETE /v1/auth/api-keys/{id}.",
            ));
        }
        Credential::Cookie => cors::require_same_origin(ctx, req)?,
        Credential::Bearer => {}
    }
    let settings_ttl = settings::access_ttl(ctx)?;
    let jti = principal
        .token_id
        .clone()
        .ok_or_else(|| ApiError::internal("authn returned a session principal without a jti"))?;
    let family = principal.session_id;
    let conn = redis::connect(ctx)?;
    // Accepted until `exp` plus the clock leeway: the entry lives at least that long.
    let remaining = principal
        .expires_at
        .map(|exp| exp - unix_now())
        .unwrap_or(settings_ttl);
    redis::set_ex(
        &conn,
        &revocation::token_key(&jti),
        b"1",
        revocation::entry_ttl(remaining),
    )?;
    if let Some(family) = family {
        redis::set_ex(
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
