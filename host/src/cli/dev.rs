//! What `--dev` knows about this app: an ephemeral JWT signing key when none is configured
//! (`jwt_signing_key` / `jwt_public_keys`), ephemeral MAC keys of the verified-token cache
//! (`*_token_cache_key`), the database named by `database_url`, created and
//! migrated, and each component group's database URL derived from it (its own role). The generic
//! host (`up`, capabilities) knows none of these names.

use anyhow::{Context, Result, bail};
use spingraph_identity::token_cache::TokenCache;
use spingraph_identity::{SigningKey, try_random_urlsafe};

use crate::grants::allowed_hosts::UrlParts;
use crate::grants::variables::{Resolver, Value, Variables};
use crate::manifest::App;

const SIGNING_KEY: &str = "jwt_signing_key";
const PUBLIC_KEYS: &str = "jwt_public_keys";

/// `--dev`: the variables it sets where nothing else does (as `--variable` would), before
/// they are resolved.
pub(crate) fn variables(app: &App, resolver: &mut Resolver) -> Result<()> {
    signing_key(app, resolver)?;
    role_urls(app, resolver)?;
    token_cache_keys(app, resolver)
}

/// `--dev` without a configured signing key: generate an ephemeral Ed25519 pair.
fn signing_key(app: &App, resolver: &mut Resolver) -> Result<()> {
    let Some(decl) = app.manifest.variables.get(SIGNING_KEY) else {
        return Ok(());
    };
    if resolver.lookup(SIGNING_KEY)?.is_some() || decl.default.is_some() {
        return Ok(());
    }
    let (signing, public) = generate_signing_keys()?;
    resolver.set_override(SIGNING_KEY, Value::new(signing, true));
    if app.manifest.variables.contains_key(PUBLIC_KEYS) {
        resolver.set_override(PUBLIC_KEYS, Value::new(public, false));
    }
    eprintln!(
        "\n\
         ************************************************************************\n\
         * WARNING: --dev generated an EPHEMERAL Ed25519 JWT signing key.       *\n\
         * Tokens issued now stop verifying when this process exits, and the    *\n\
         * key exists only in memory. Never run like this in production: set    *\n\
         * SPIN_VARIABLE_JWT_SIGNING_KEY and SPIN_VARIABLE_JWT_PUBLIC_KEYS.     *\n\
         ************************************************************************\n"
    );
    Ok(())
}

/// The verified-token cache's MAC key of each component group (components/authn/src/token.rs).
pub(crate) const TOKEN_CACHE_KEYS: &[&str] = &["auth_token_cache_key", "data_token_cache_key"];

/// `--dev`: each cache key the manifest declares and nothing sets (its default is empty: the
/// cache off) gets a fresh random one, so `up --dev` serves as production does. Entries made
/// under them are ignored after a restart (their MAC no longer verifies).
fn token_cache_keys(app: &App, resolver: &mut Resolver) -> Result<()> {
    for name in TOKEN_CACHE_KEYS {
        let declared = app.manifest.variables.get(*name);
        let unset_default = declared.is_some_and(|d| d.default.as_deref().unwrap_or("").is_empty());
        if unset_default && resolver.lookup(name)?.is_none() {
            resolver.set_override(name, Value::new(generate_cache_key()?, true));
        }
    }
    Ok(())
}

/// A `*_token_cache_key` value, as identity's verified-token cache takes it.
pub(crate) fn generate_cache_key() -> Result<String> {
    TokenCache::generate_secret().context("the OS random number generator failed")
}

/// `("<kid>:<base64url seed>", JWKS JSON)` for a fresh Ed25519 key pair in identity's formats
/// (`--dev` and `spingraph admin gen-keys`).
pub(crate) fn generate_signing_keys() -> Result<(String, String)> {
    let kid = format!(
        "dev-{}",
        try_random_urlsafe(6).context("the OS random number generator failed")?
    );
    SigningKey::generate_pair(&kid).context("generating a signing key")
}

/// `--dev`: each group's URL variable (`spingraph_migrate::group_role`) the manifest declares
/// and nothing sets is the owner's
/// `database_url` (as given, else its default) with the group's role as the user, so one
/// `--variable database_url=...` points every component at that database.
fn role_urls(app: &App, resolver: &mut Resolver) -> Result<()> {
    let declared = &app.manifest.variables;
    let owner = match resolver.lookup("database_url")? {
        Some(url) => url,
        None => match declared.get("database_url").and_then(|d| d.default.clone()) {
            Some(url) => url,
            None => return Ok(()),
        },
    };
    for variable in declared.keys() {
        let Some(role) = spingraph_migrate::group_role(variable) else {
            continue;
        };
        if resolver.lookup(variable)?.is_none() {
            resolver.set_override(variable, Value::new(url_with_user(&owner, &role), true));
        }
    }
    Ok(())
}

/// `url` (`postgres://user:password@host/db?...`) with `user` as its user and no password.
fn url_with_user(url: &str, user: &str) -> String {
    match UrlParts::of(url) {
        Some(parts) => format!(
            "{}://{user}@{}{}",
            parts.scheme, parts.host_port, parts.tail
        ),
        None => url.to_string(),
    }
}

/// `--dev`: create the database if missing and apply pending migrations.
pub(crate) async fn database(variables: &Variables) -> Result<()> {
    let Some(url) = variables.get("database_url") else {
        bail!("--dev needs the `database_url` variable to create and migrate the database");
    };
    spingraph_migrate::ensure_database_and_migrate(url.expose())
        .await
        .context("--dev: preparing the database")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_url_is_the_owner_url_with_the_group_role_as_user() {
        assert_eq!(
            url_with_user(
                "postgres://postgres@127.0.0.1:5432/db1?sslmode=disable",
                "spingraph_data"
            ),
            "postgres://spingraph_data@127.0.0.1:5432/db1?sslmode=disable"
        );
        assert_eq!(
            url_with_user("postgres://owner:s3cret@db.internal/app", "spingraph_auth"),
            "postgres://spingraph_auth@db.internal/app"
        );
        assert_eq!(
            url_with_user("postgres://127.0.0.1/app", "spingraph_health"),
            "postgres://spingraph_health@127.0.0.1/app"
        );
    }

    #[test]
    fn cache_keys_are_random_and_long_enough() {
        let (a, b) = (generate_cache_key().unwrap(), generate_cache_key().unwrap());
        assert_ne!(a, b);
        // crates/identity/src/token_cache.rs refuses keys shorter than 32 characters.
        assert_eq!(a.len(), 43);
    }

    #[test]
    fn dev_keys_have_the_agreed_formats() {
        let (signing, jwks) = generate_signing_keys().unwrap();
        // identity parses exactly `<kid>:<base64url 32-byte seed>` and derives the public key
        // from the seed (its unit tests check the derivation against ed25519-dalek).
        let key = SigningKey::parse(&signing).unwrap();
        assert!(key.kid().starts_with("dev-"));
        assert!(spingraph_identity::PublicKeys::from_jwks(&jwks).is_ok());
        let jwks: serde_json::Value = serde_json::from_str(&jwks).unwrap();
        let public = &jwks["keys"][0];
        assert_eq!(public["kid"], key.kid());
        assert_eq!(public["kty"], "OKP");
        assert_eq!(public["crv"], "Ed25519");
        assert_eq!(public["alg"], "EdDSA");
        assert_eq!(*public, key.public_jwk());
    }
}
