//! The access-token denylist in Redis, written by `auth` (logout, reuse detection, user
//! changes) and read by `authn` on every bearer or cookie request in one round trip.
//! Entries expire with the tokens they refuse, so Redis never holds more than
//! `access_token_ttl_seconds` worth of them.

/// One access token, refused until it expires (`denylist:<jti>`).
pub fn token_key(jti: &str) -> String {
    format!("denylist:{jti}")
}

/// Every access token of a session (refresh family).
pub fn session_key(family_id: &str) -> String {
    format!("denylist:session:{family_id}")
}

/// Every access token of a user issued before the stored Unix time (role change, deactivation).
pub fn user_key(user_id: &str) -> String {
    format!("denylist:user:{user_id}")
}

/// `EVAL CHECK_SCRIPT 3 <token_key> <session_key> <user_key> <iat>` → 1 when refused, else 0.
/// One integer, so the answer survives hosts that drop nil entries from `execute` results.
pub const CHECK_SCRIPT: &str = "\
if redis.call('EXISTS', KEYS[1], KEYS[2]) > 0 then return 1 end \
local since = redis.call('GET', KEYS[3]) \
if since and tonumber(since) and tonumber(ARGV[1]) < tonumber(since) then return 1 end \
return 0";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_namespaced_apart() {
        assert_eq!(token_key("abc"), "denylist:abc");
        assert_eq!(session_key("abc"), "denylist:session:abc");
        assert_eq!(user_key("abc"), "denylist:user:abc");
    }
}
