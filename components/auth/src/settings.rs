//! Token settings from the component's variables: the private signing key (a secret of
//! `auth-signin` alone), the active public keys, issuer, audience and lifetimes (of the tokens,
//! and the absolute lifetime of a sign-in session whatever its rotations).

use spingraph_guest::{ApiError, Ctx, Result};
use spingraph_identity::{PublicKeys, SigningKey, TokenRules};

pub struct Settings {
    pub signing: SigningKey,
    pub rules: TokenRules,
    pub access_ttl: i64,
    pub refresh_ttl: i64,
    /// Seconds from sign-in after which a session (refresh family) ends.
    pub session_lifetime: i64,
}

fn config_error(detail: String) -> ApiError {
    ApiError::unavailable("configuration", detail)
}

impl Settings {
    pub fn load(ctx: &Ctx) -> Result<Settings> {
        let signing = SigningKey::parse(&ctx.config.require("jwt_signing_key")?)
            .map_err(|e| config_error(e.to_string()))?;
        Ok(Settings {
            signing,
            rules: rules(ctx)?,
            access_ttl: access_ttl(ctx)?,
            refresh_ttl: seconds(ctx, "refresh_token_ttl_seconds", 2_592_000)?,
            session_lifetime: seconds(ctx, "session_lifetime_seconds", 2_592_000)?,
        })
    }

    /// Keys refresh tokens verify with: the published ones plus our own signing key's.
    pub fn verifier_keys(&self, ctx: &Ctx) -> Result<PublicKeys> {
        Ok(published_keys(ctx)?.merge(self.signing.public_keys()))
    }
}

/// A lifetime variable in seconds (at least 1).
fn seconds(ctx: &Ctx, variable: &str, default: i64) -> Result<i64> {
    Ok(ctx.config.parse_or(variable, default)?.max(1))
}

/// How long an access token is accepted (`access_token_ttl_seconds`, default 15 min): also read
/// without the signing key, by the routes that revoke tokens.
pub fn access_ttl(ctx: &Ctx) -> Result<i64> {
    seconds(ctx, "access_token_ttl_seconds", 900)
}

pub fn rules(ctx: &Ctx) -> Result<TokenRules> {
    TokenRules::from_variables(|name| ctx.config.get(name))
}

/// `jwt_public_keys` (every key still accepted while keys rotate).
pub fn published_keys(ctx: &Ctx) -> Result<PublicKeys> {
    PublicKeys::from_jwks(&ctx.config.require("jwt_public_keys")?)
        .map_err(|e| config_error(e.to_string()))
}
