//! Who a caller is, shared by the `auth` component (which issues credentials) and the
//! `authn` component (which checks them): JWT claims and Ed25519 keys, the one token verifier,
//! the API-key format, token hashing, roles, scopes and the principal (with its WIT form, behind
//! the `wit` feature). Also the request-id rule, the one the host shares with the components.
//! No I/O here: it builds natively and for `wasm32-wasip2`, and every rule is unit-tested
//! natively.

pub mod api_key;
pub mod credential;
pub mod keys;
pub mod principal;
pub mod request_id;
pub mod revocation;
pub mod secret;
pub mod session;
pub mod token;
pub mod token_cache;
pub mod verifier;
#[cfg(feature = "wit")]
pub mod wit;

/// The JWT library, for tests that forge tokens (HS256, other algorithms) to prove they fail.
pub use jsonwebtoken;

pub use api_key::{ApiKey, looks_like_api_key};
pub use keys::{KeyError, PublicKeys, SigningKey};
pub use principal::{Credential, Principal, Role, Scope, UnknownName};
pub use secret::{constant_time_eq, hash_secret, random_urlsafe, try_random_urlsafe};
pub use token::{Claims, TokenError, TokenRules, TokenType, now as unix_now};
pub use verifier::{Verified, Verifier, VerifyError};
