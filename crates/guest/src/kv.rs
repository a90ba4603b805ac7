//! Redis through `fermyon:spin/redis@2.0.0`: one connection per request from the `redis_url`
//! variable; every Redis failure is a 503 naming Redis.

use spin_sdk::redis::{Connection, Error as RedisError};

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
