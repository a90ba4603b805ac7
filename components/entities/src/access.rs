//! Who may do what to entities (SPEC §4): any principal reads (API keys need `entities:read`),
//! users and admins create (`entities:write`), the owner or an admin updates and deletes, and
//! admin-only operations need the admin role (plus the `admin` scope for API keys).

use spingraph_authn_client::{
    is_owner_or_admin, require_admin_writer, require_read_scope, require_scope,
};
use spingraph_guest::Result;
use spingraph_identity::{Principal, Scope};

pub use spingraph_authn_client::require_admin_to;

/// Reads: any principal; API keys need `entities:read` (or `entities:write`).
pub fn require_read(p: &Principal) -> Result<()> {
    require_read_scope(p, Scope::EntitiesRead, Scope::EntitiesWrite)
}

/// Writes: the `entities:write` scope.
pub fn require_write(p: &Principal) -> Result<()> {
    require_scope(p, Scope::EntitiesWrite)
}

/// Restores: a writer who is an admin.
pub fn require_restorer(p: &Principal) -> Result<()> {
    require_admin_writer(p, Scope::EntitiesWrite, "restore entities")
}

/// Whether `p` may change an entity owned by `owner_id`.
pub fn may_modify(p: &Principal, owner_id: &str) -> bool {
    is_owner_or_admin(p, Some(owner_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use spingraph_identity::{Credential, Role};
    use uuid::Uuid;

    #[test]
    fn api_key_without_scope_cannot_read_or_write() {
        let p = Principal::for_tests(Role::User, Credential::ApiKey, &[Scope::RelationshipsRead]);
        assert_eq!(require_read(&p).unwrap_err().status(), 403);
        assert_eq!(require_write(&p).unwrap_err().status(), 403);
        let p = Principal::for_tests(Role::User, Credential::ApiKey, &[Scope::EntitiesRead]);
        assert!(require_read(&p).is_ok());
        assert_eq!(require_write(&p).unwrap_err().status(), 403);
    }

    #[test]
    fn owner_and_admin_may_modify_others_may_not() {
        let user = Principal::for_tests(Role::User, Credential::Bearer, Role::User.scopes());
        let other = Uuid::now_v7().to_string();
        assert!(may_modify(&user, &user.user_id.to_string()));
        assert!(!may_modify(&user, &other));
        let admin = Principal::for_tests(Role::Admin, Credential::Bearer, Role::Admin.scopes());
        assert!(may_modify(&admin, &other));
        assert!(require_admin_to(&admin, "restore").is_ok());
        assert_eq!(
            require_admin_to(&user, "restore").unwrap_err().status(),
            403
        );
        // an admin's API key without the admin scope is not an admin
        let key = Principal::for_tests(Role::Admin, Credential::ApiKey, &[Scope::EntitiesWrite]);
        assert!(!may_modify(&key, &other));
    }
}
