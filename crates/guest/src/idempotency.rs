//! Idempotent writes: a POST or PATCH carrying `Idempotency-Key` runs at most once per
//! [`Namespace`] (a user's credential: one API key, or the user's sign-in sessions) and key. The
//! key is claimed (a row in `idempotency_keys`) inside the write's own transaction, before the
//! write, and the answer is stored in it before `COMMIT`:
//! - a retry with the same key and request gets the stored answer with `Idempotent-Replayed: true`;
//! - the same key with another request (method, path, query or body) is a 422;
//! - a concurrent duplicate blocks on the claimed row until the first commits, then replays (or,
//!   if the first failed and rolled back, runs the write itself): never a second write.
//!
//! A replay is an answer like any other: the route checks the caller's scope (every rule that
//! does not need the row) before calling [`run`], and one credential never sees another's
//! stored answers, even the same user's (a `relationships:read` key cannot replay the entity a
//! session created).
//!
//! Only successful answers are stored: a failed write rolls its claim back with everything else,
//! so fixing the request and retrying with the same key works. Keys live
//! `idempotency_key_ttl_seconds` (default 24 h); an expired one is claimed afresh.

use serde_json::{Value, json};
use spin_sdk::http::Request;
use spin_sdk::pg4::ParameterValue;

use crate::context::{Ctx, header};
use crate::db::Db;
use crate::error::{ApiError, FieldError, Result};
use crate::reply::{JSON, Reply};

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// The response header marking a stored answer.
pub const REPLAYED: &str = "idempotent-replayed";
/// The variable holding how long a key is kept, in seconds.
pub const TTL_VARIABLE: &str = "idempotency_key_ttl_seconds";
/// Its value when the variable is unset: 24 hours.
pub const DEFAULT_TTL_SECONDS: u32 = 86_400;
/// The headers of an answer a replay repeats.
const STORED_HEADERS: [&str; 3] = ["content-type", "location", "etag"];

/// Whose keys these are: a user ($1) and one of their credentials ($2, see [`Namespace`]).
/// Claim key $3 for request fingerprint $4 (or find it claimed), kept $5 seconds. An expired key
/// is taken over; on the way, up to 16 other expired keys (anyone's, oldest first, skipping rows
/// another transaction holds) are purged, so the table stays as small as the keys alive. A claim
/// held by an uncommitted transaction blocks here.
const CLAIM: &str = "WITH purge AS (DELETE FROM idempotency_keys WHERE (user_id, credential, key) IN ( \
       SELECT user_id, credential, key FROM idempotency_keys WHERE expires_at <= now() \
         AND NOT (user_id = $1::uuid AND credential = $2::text AND key = $3::text) \
       ORDER BY expires_at LIMIT 16 FOR UPDATE SKIP LOCKED)), \
     claim AS (INSERT INTO idempotency_keys (user_id, credential, key, request_hash, created_at, expires_at) \
       VALUES ($1::uuid, $2::text, $3::text, encode(sha256($4::bytea), 'hex'), now(), now() + make_interval(secs => $5::int)) \
       ON CONFLICT (user_id, credential, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, status = NULL, \
         response_body = NULL, response_headers = '{}'::jsonb, created_at = EXCLUDED.created_at, \
         expires_at = EXCLUDED.expires_at \
       WHERE idempotency_keys.expires_at <= now() \
       RETURNING 1) \
     SELECT to_jsonb(EXISTS (SELECT 1 FROM claim)) AS j";

/// The stored answer, read in a statement of its own: its snapshot is taken after the claim
/// waited, so it sees what a concurrent first request committed.
const STORED: &str = "SELECT (SELECT jsonb_build_object('same', k.request_hash = encode(sha256($4::bytea), 'hex'), \
       'status', k.status, 'body', k.response_body, 'headers', k.response_headers) \
     FROM idempotency_keys k WHERE k.user_id = $1::uuid AND k.credential = $2::text AND k.key = $3::text) AS j";

const SAVE: &str = "UPDATE idempotency_keys SET status = $4::int, response_body = $5::text, \
     response_headers = $6::jsonb WHERE user_id = $1::uuid AND credential = $2::text AND key = $3::text";

/// The keys of one credential of one user: an API key's retries replay only that key's answers,
/// a person's (bearer token or cookie, any of their sessions) only theirs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    pub user_id: uuid::Uuid,
    /// `api-key:<key id>` or `session` (at most 64 characters, checked by the table).
    pub credential: String,
}

/// The `Idempotency-Key` of `req`, checked: 1..255 visible ASCII characters (400 otherwise).
pub fn key(req: &Request) -> Result<Option<String>> {
    let Some(raw) = header(req, HEADER) else {
        return Ok(None);
    };
    let valid = !raw.is_empty() && raw.len() <= 255 && raw.bytes().all(|b| b.is_ascii_graphic());
    if !valid {
        return Err(ApiError::bad_request(
            "Idempotency-Key must be 1..255 visible ASCII characters.",
        ));
    }
    Ok(Some(raw.to_string()))
}

/// What identifies a request for its key: method, path, query and body.
fn fingerprint(ctx: &Ctx, req: &Request) -> Vec<u8> {
    let mut bytes = format!("{}\n{}\n{}\n", ctx.method, ctx.path, ctx.query).into_bytes();
    bytes.extend_from_slice(req.body());
    bytes
}

/// Run the POST/PATCH handler `write` on a connection of its own; with an `Idempotency-Key`, at
/// most once for `namespace` and that key (see the module docs), inside one transaction with
/// the key's row. The caller has already checked that the route would serve this credential.
pub fn run(
    ctx: &Ctx,
    req: &Request,
    namespace: &Namespace,
    write: impl FnOnce(&Db) -> Result<Reply>,
) -> Result<Reply> {
    let Some(key) = key(req)? else {
        return write(&Db::connect(ctx)?);
    };
    let ttl = ctx.config.parse_or(TTL_VARIABLE, DEFAULT_TTL_SECONDS)?;
    let ttl = i32::try_from(ttl.max(1)).unwrap_or(i32::MAX);
    let ids = [
        ParameterValue::Uuid(namespace.user_id.to_string()),
        ParameterValue::Str(namespace.credential.clone()),
        ParameterValue::Str(key),
    ];
    let db = Db::connect(ctx)?;
    db.transaction(|db| {
        let fingerprint = ParameterValue::Binary(fingerprint(ctx, req));
        let mut stored = ids.to_vec();
        stored.push(fingerprint);
        let mut claim = stored.clone();
        claim.push(ParameterValue::Int32(ttl));
        let claimed: bool = db.json(CLAIM, &claim)?;
        if !claimed {
            return replay(&db.value(STORED, &stored)?);
        }
        let reply = write(db)?;
        let headers: serde_json::Map<String, Value> = STORED_HEADERS
            .iter()
            .filter_map(|name| Some((name.to_string(), json!(reply.header_value(name)?))))
            .collect();
        let body = String::from_utf8_lossy(reply.body()).into_owned();
        db.execute(
            SAVE,
            &[
                ids[0].clone(),
                ids[1].clone(),
                ids[2].clone(),
                ParameterValue::Int32(i32::from(reply.status())),
                ParameterValue::Str(body),
                ParameterValue::Jsonb(Value::Object(headers).to_string().into_bytes()),
            ],
        )?;
        Ok(reply)
    })
}

/// The stored answer to a key already used, or why there is none to give.
fn replay(stored: &Value) -> Result<Reply> {
    if stored.is_null() {
        return Err(ApiError::conflict(
            "A request with this Idempotency-Key is still in progress; retry.",
        ));
    }
    if stored["same"] != Value::Bool(true) {
        return Err(ApiError::Validation(vec![FieldError::new(
            "Idempotency-Key",
            "was already used with a different request",
        )]));
    }
    let status = stored["status"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .ok_or_else(|| {
            ApiError::conflict("A request with this Idempotency-Key is still in progress.")
        })?;
    let headers = &stored["headers"];
    let content_type = headers["content-type"].as_str().unwrap_or(JSON);
    let body = stored["body"]
        .as_str()
        .unwrap_or_default()
        .as_bytes()
        .to_vec();
    let mut reply = Reply::bytes(status, content_type, body);
    if let Some(map) = headers.as_object() {
        for (name, value) in map {
            if let Some(value) = value.as_str() {
                reply.set_header(name, value);
            }
        }
    }
    Ok(reply.header(REPLAYED, "true"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_answer_replays_its_status_headers_and_body() {
        let stored = json!({"same": true, "status": 201, "body": "{\"id\":1}",
            "headers": {"content-type": "application/json", "location": "/v1/entities/1"}});
        let reply = replay(&stored).unwrap();
        assert_eq!(reply.status(), 201);
        assert_eq!(reply.header_value("location"), Some("/v1/entities/1"));
        assert_eq!(reply.header_value(REPLAYED), Some("true"));
        assert_eq!(reply.body(), b"{\"id\":1}");
    }

    #[test]
    fn another_request_with_the_key_is_422_and_an_unfinished_one_409() {
        let other = json!({"same": false, "status": 201, "body": "", "headers": {}});
        assert_eq!(replay(&other).unwrap_err().status(), 422);
        let unfinished = json!({"same": true, "status": null, "body": null, "headers": {}});
        assert_eq!(replay(&unfinished).unwrap_err().status(), 409);
    }
}
