//! Redis through `fermyon:spin/redis@2.0.0`: a connection from the `redis_url` variable (the host
//! hands out a pooled one, so opening costs no connection set-up); every Redis failure is a 503
//! naming Redis.

use spin_sdk::redis::{Connection, Error as RedisError, RedisParameter, RedisResult};

use crate::context::Ctx;
use crate::error::{ApiError, Result};

/// The variable holding the Redis address.
pub const REDIS_URL: &str = "redis_url";

/// Open a connection to the `redis_url` variable's server.
pub fn connect(ctx: &Ctx) -> Result<Connection> {
    open(&ctx.config.require(REDIS_URL)?)
}

pub fn open(url: &str) -> Result<Connection> {
    Connection::open(url).map_err(|e| map_redis_error(&e))
}

/// `SET key value EX ttl_seconds` (at least 1 s: Redis refuses `EX 0`).
pub fn set_ex(conn: &Connection, key: &str, value: &[u8], ttl_seconds: i64) -> Result<()> {
    conn.execute(
        "SET",
        &[
            RedisParameter::Binary(key.as_bytes().to_vec()),
            RedisParameter::Binary(value.to_vec()),
            RedisParameter::Binary(b"EX".to_vec()),
            RedisParameter::Int64(ttl_seconds.max(1)),
        ],
    )
    .map(|_| ())
    .map_err(|e| map_redis_error(&e))
}

/// `EVAL script <keys.len()> keys... args...`: one round trip, the script's reply as a flat list.
pub fn eval(
    conn: &Connection,
    script: &str,
    keys: &[&str],
    args: &[RedisParameter],
) -> Result<Vec<RedisResult>> {
    let mut params = Vec::with_capacity(2 + keys.len() + args.len());
    params.push(RedisParameter::Binary(script.as_bytes().to_vec()));
    params.push(RedisParameter::Int64(keys.len() as i64));
    params.extend(
        keys.iter()
            .map(|k| RedisParameter::Binary(k.as_bytes().to_vec())),
    );
    params.extend(args.iter().cloned());
    conn.execute("EVAL", &params)
        .map_err(|e| map_redis_error(&e))
}

/// Every Redis error means Redis is unavailable to this request.
pub fn map_redis_error(err: &RedisError) -> ApiError {
    let detail = match err {
        RedisError::InvalidAddress => "invalid address".to_string(),
        RedisError::TooManyConnections => "too many connections".to_string(),
        RedisError::TypeError => "unexpected value type".to_string(),
        RedisError::Other(msg) => msg.clone(),
    };
    ApiError::unavailable("Redis", detail)
}
