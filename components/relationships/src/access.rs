//! Who may do what to relationships (SPEC §4, as for entities): any principal reads (API keys
//! need `relationships:read` or `:write`), `relationships:write` creates, the creator or an admin
//! updates and deletes, and only admins hard-delete, restore or see deleted relationships.

use spingraph_authn_client::{
    Principal, Scope, is_owner_or_admin, require_read_scope, require_scope,
};
use spingraph_guest::{ApiError, Result};

pub use spingraph_authn_client::require_admin_to;

/// Reads: `relationships:read`, which `relationships:write` implies.
pub fn require_read(p: &Principal) -> Result<()> {
    require_read_scope(p, Scope::RelationshipsRead, Scope::RelationshipsWrite)
}

/// Writes: `relationships:write`.
pub fn require_write(p: &Principal) -> Result<()> {
    require_scope(p, Scope::RelationshipsWrite)
}

/// 403 unless `p` created the relationship (`created_by`) or is an admin.
pub fn require_creator_or_admin(p: &Principal, created_by: Option<&str>) -> Result<()> {
    if is_owner_or_admin(p, created_by) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "Only the relationship's creator or an admin may change it.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spingraph_authn_client::{Credential, Role};
    use uuid::Uuid;

    // Built through serde so optional fields added to `Principal` later default to `None`.
    fn principal(role: Role, scopes: &[Scope], credential: Credential) -> Principal {
        serde_json::from_value(serde_json::json!({
            "user_id": Uuid::now_v7(),
            "email": "a@example.com",
            "role": role,
            "scopes": scopes,
            "credential": credential,
        }))
        .expect("a principal")
    }

    #[test]
    fn api_key_needs_relationship_scopes() {
        let p = principal(
            Role::User,
            &[Scope::EntitiesRead, Scope::EntitiesWrite],
            Credential::ApiKey,
        );
        assert_eq!(require_read(&p).unwrap_err().status(), 403);
        assert_eq!(require_write(&p).unwrap_err().status(), 403);
        let p = principal(Role::User, &[Scope::RelationshipsRead], Credential::ApiKey);
        assert!(require_read(&p).is_ok());
        assert_eq!(require_write(&p).unwrap_err().status(), 403);
        let p = principal(Role::User, &[Scope::RelationshipsWrite], Credential::ApiKey);
        assert!(require_read(&p).is_ok());
        assert!(require_write(&p).is_ok());
    }

    #[test]
    fn creator_and_admin_may_change_others_may_not() {
        let user = principal(Role::User, Role::User.scopes(), Credential::Bearer);
        let mine = user.user_id.to_string().to_uppercase();
        assert!(require_creator_or_admin(&user, Some(&mine)).is_ok());
        let other = Uuid::now_v7().to_string();
        assert_eq!(
            require_creator_or_admin(&user, Some(&other))
                .unwrap_err()
                .status(),
            403
        );
        assert_eq!(
            require_creator_or_admin(&user, None).unwrap_err().status(),
            403
        );
        let admin = principal(Role::Admin, Role::Admin.scopes(), Credential::Bearer);
        assert!(require_creator_or_admin(&admin, Some(&other)).is_ok());
    }

    #[test]
    fn only_admins_restore_and_an_admins_key_needs_the_admin_scope() {
        let user = principal(Role::User, Role::User.scopes(), Credential::Bearer);
        assert_eq!(
            require_admin_to(&user, "restore").unwrap_err().status(),
            403
        );
        let admin = principal(Role::Admin, Role::Admin.scopes(), Credential::Bearer);
        assert!(require_admin_to(&admin, "restore").is_ok());
        let key = principal(
            Role::Admin,
            &[Scope::RelationshipsWrite],
            Credential::ApiKey,
        );
        assert_eq!(require_admin_to(&key, "restore").unwrap_err().status(), 403);
    }
}
