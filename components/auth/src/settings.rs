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
            access_ttl: ctx
                .config
                .parse_or("access_token_ttl_seconds", 900i64)?
                .max(1),
            refresh_ttl: ctx
                .config
                .parse_or("refresh_token_ttl_seconds", 2_592_000i64)?
                .max(1),
            session_lifetime: ctx
                .config
                .parse_or("session_lifetime_seconds", 2_592_000i64)?
                .max(1),
        })
    }

    /// Keys refresh tokens verify with: the published ones plus our own signing key's.
    pub fn verifier_keys(&self, ctx: &Ctx) -> Result<PublicKeys> {
        Ok(published_keys(ctx)?.merge(self.signing.public_keys()))
    }
}

pub fn rules(ctx: &Ctx) -> Result<TokenRules> {
    Ok(TokenRules::new(
        ctx.config.get_or("jwt_issuer", "spingraph")?,
        ctx.config.get_or("jwt_audience", "spingraph-api")?,
    ))
}

/// `jwt_public_keys` (every key still accepted while keys rotate).
pub fn published_keys(ctx: &Ctx) -> Result<PublicKeys> {
    PublicKeys::from_jwks(&ctx.config.require("jwt_public_keys")?)
        .map_err(|e| config_error(e.to_string()))
}
