//! The access-token denylist in Redis, written by `auth` (logout, reuse detection, user
//! changes) and read by `authn` on every bearer or cookie request, in the one `EVAL` that also reads the
//! verified-token cache and counts the rate limit (components/authn/src/token.rs).
//! Entries expire once the tokens they refuse can no longer be accepted (expiry plus the clock
//! leeway), so Redis never holds more than about `access_token_ttl_seconds` worth of them. With
//! Redis down, the user's [`Standing`] in Postgres decides instead.

use serde::Deserialize;

use crate::token::{Claims, LEEWAY_SECS};

/// Extra life for an entry beyond the last moment a refused token verifies: covers whole-second
/// rounding and a sign-in that read the user's standing just before a change and signs after it.
const MARGIN_SECS: i64 = 5;

/// One access token, refused until it expires (`denylist:<jti>`).
pub fn token_key(jti: &str) -> String {
    format!("denylist:{jti}")
}

/// Every access token of a session (refresh family).
pub fn session_key(family_id: &str) -> String {
    format!("denylist:session:{family_id}")
}

/// The user's current token generation: access tokens of an older one (`gen` claim) are
/// refused (role change, deactivation).
pub fn user_generation_key(user_id: &str) -> String {
    format!("denylist:user-gen:{user_id}")
}

/// The TTL of an entry refusing tokens that expire within `seconds_left`: they are still
/// accepted for the leeway after that, so the entry lives that long too (and a margin).
pub fn entry_ttl(seconds_left: i64) -> i64 {
    seconds_left.max(0) + LEEWAY_SECS as i64 + MARGIN_SECS
}

/// The durable record of a token's user and session in Postgres, which `authn` reads instead
/// of the denylist when Redis is unavailable: logout, reuse detection, deactivation and demotion
/// all write it, so they still take effect at once.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Standing {
    pub active: bool,
    pub role: String,
    pub generation: i64,
    pub session_revoked: bool,
}

/// Whether the record refuses a token with `claims`: its user is gone (`None`) or inactive, its
/// session revoked, its role changed, or its generation behind the user's.
pub fn refused_by(standing: Option<&Standing>, claims: &Claims) -> bool {
    match standing {
        None => true,
        Some(s) => {
            !s.active
                || s.session_revoked
                || s.role != claims.role.as_str()
                || s.generation > claims.generation
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::TokenType;
    use crate::token::fixtures::claims;

    #[test]
    fn standing_refuses_revoked_sessions_and_changed_users_only() {
        let c = claims(TokenType::Access).with_generation(2);
        let current = Standing {
            active: true,
            role: "user".into(),
            generation: 2,
            session_revoked: false,
        };
        assert!(!refused_by(Some(&current), &c));
        let older_generation = Standing {
            generation: 1,
            ..current.clone()
        };
        assert!(!refused_by(Some(&older_generation), &c));
        for refused in [
            Standing {
                active: false,
                ..current.clone()
            },
            Standing {
                session_revoked: true,
                ..current.clone()
            },
            Standing {
                role: "admin".into(),
                ..current.clone()
            },
            Standing {
                generation: 3,
                ..current.clone()
            },
        ] {
            assert!(refused_by(Some(&refused), &c), "{refused:?}");
        }
        assert!(refused_by(None, &c), "a deleted user's tokens are refused");
    }

    #[test]
    fn keys_are_namespaced_apart() {
        assert_eq!(token_key("abc"), "denylist:abc");
        assert_eq!(session_key("abc"), "denylist:session:abc");
        assert_eq!(user_generation_key("abc"), "denylist:user-gen:abc");
    }

    #[test]
    fn entries_outlive_the_clock_leeway() {
        assert!(entry_ttl(60) > 60 + LEEWAY_SECS as i64);
        assert!(entry_ttl(-5) > LEEWAY_SECS as i64);
    }
}
