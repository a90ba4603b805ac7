//! Roles, scopes and the authenticated principal every route component authorizes against.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// A name (role, scope, credential kind, token type) that is not one we know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName(pub String);

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown name `{}`", self.0)
    }
}

impl std::error::Error for UnknownName {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    User,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::User => "user",
        }
    }

    /// Every scope a bearer or cookie principal of this role holds; also the ceiling for the
    /// scopes of an API key its owner creates.
    pub fn scopes(self) -> &'static [Scope] {
        match self {
            Role::Admin => &Scope::ALL,
            Role::User => &Scope::ALL[..4],
        }
    }
}

impl FromStr for Role {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Role::Admin),
            "user" => Ok(Role::User),
            other => Err(UnknownName(other.to_owned())),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an API key may do. Bearer and cookie principals hold all scopes of their role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    #[serde(rename = "entities:read")]
    EntitiesRead,
    #[serde(rename = "entities:write")]
    EntitiesWrite,
    #[serde(rename = "relationships:read")]
    RelationshipsRead,
    #[serde(rename = "relationships:write")]
    RelationshipsWrite,
    /// Read the change feed (`GET /v1/changes`).
    #[serde(rename = "changes:read")]
    ChangesRead,
    /// Export the whole graph (`GET /v1/export`).
    #[serde(rename = "export")]
    Export,
    #[serde(rename = "admin")]
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 7] = [
        Scope::EntitiesRead,
        Scope::EntitiesWrite,
        Scope::RelationshipsRead,
        Scope::RelationshipsWrite,
        Scope::ChangesRead,
        Scope::Export,
        Scope::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::EntitiesRead => "entities:read",
            Scope::EntitiesWrite => "entities:write",
            Scope::RelationshipsRead => "relationships:read",
            Scope::RelationshipsWrite => "relationships:write",
            Scope::ChangesRead => "changes:read",
            Scope::Export => "export",
            Scope::Admin => "admin",
        }
    }
}

impl FromStr for Scope {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| UnknownName(s.to_owned()))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the caller proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Credential {
    Bearer,
    Cookie,
    ApiKey,
}

impl Credential {
    pub fn as_str(self) -> &'static str {
        match self {
            Credential::Bearer => "bearer",
            Credential::Cookie => "cookie",
            Credential::ApiKey => "api-key",
        }
    }
}

/// An authenticated caller, as `authn` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub user_id: Uuid,
    pub email: String,
    pub role: Role,
    pub scopes: Vec<Scope>,
    pub credential: Credential,
    /// The access token's `jti` (bearer, cookie) or the API key's id.
    pub token_id: Option<String>,
    /// When the credential stops being valid, Unix seconds (access token `exp`, key expiry).
    pub expires_at: Option<i64>,
    /// The sign-in session (refresh-token family) of an access token.
    pub session_id: Option<Uuid>,
}

impl Principal {
    pub fn has_scope(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }

    /// Admin operations need the admin role and, for API keys, the `admin` scope too.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin && self.has_scope(Scope::Admin)
    }

    /// A principal for unit tests of authorization rules: a fresh user id, `a@example.com`, and no
    /// token id, expiry or session. Other crates get it with the `test-util` feature, enabled
    /// only in their `[dev-dependencies]`.
    #[cfg(any(test, feature = "test-util"))]
    pub fn for_tests(role: Role, credential: Credential, scopes: &[Scope]) -> Principal {
        Principal {
            user_id: Uuid::now_v7(),
            email: "a@example.com".into(),
            role,
            scopes: scopes.to_vec(),
            credential,
            token_id: None,
            expires_at: None,
            session_id: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api_key(role: Role, scopes: &[Scope]) -> Principal {
        Principal::for_tests(role, Credential::ApiKey, scopes)
    }

    #[test]
    fn scope_names_round_trip() {
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>(), Ok(scope));
            assert_eq!(
                serde_json::to_string(&scope).unwrap(),
                format!("\"{}\"", scope.as_str())
            );
        }
        assert!("entities:delete".parse::<Scope>().is_err());
    }

    #[test]
    fn user_role_never_holds_admin_scope() {
        assert!(!Role::User.scopes().contains(&Scope::Admin));
        assert!(Role::Admin.scopes().contains(&Scope::Admin));
        assert_eq!(Role::User.scopes().len(), 4);
        assert!(!Role::User.scopes().contains(&Scope::ChangesRead));
        assert!(!Role::User.scopes().contains(&Scope::Export));
    }

    #[test]
    fn has_scope_checks_only_granted_scopes() {
        let read_only = api_key(Role::User, &[Scope::EntitiesRead]);
        assert!(read_only.has_scope(Scope::EntitiesRead));
        assert!(!read_only.has_scope(Scope::EntitiesWrite));
    }

    #[test]
    fn admin_api_key_without_admin_scope_is_not_admin() {
        assert!(!api_key(Role::Admin, &[Scope::EntitiesRead]).is_admin());
        assert!(api_key(Role::Admin, &Scope::ALL).is_admin());
        assert!(!api_key(Role::User, &[Scope::Admin]).is_admin());
    }
}
