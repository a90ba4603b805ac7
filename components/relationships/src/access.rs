//! Who may do what to relationships (SPEC §4, as for entities): any principal reads (API keys
//! need `relationships:read` or `:write`), `relationships:write` creates, the creator or an admin
//! updates and deletes, and only admins hard-delete, restore or see deleted relationships.
//! Answers that embed entities (graph nodes) show their documents only to callers that may read
//! entities (`entities_visible`).

use spingraph_authn_client::{
    Principal, Scope, is_owner_or_admin, require_admin_writer, require_read_scope, require_scope,
};
use spingraph_guest::{ApiError, Result};

pub use spingraph_authn_client::require_admin_to;

/// Reads: `relationships:read`, which `relationships:write` implies.
pub fn require_read(p: &Principal) -> Result<()> {
    require_read_scope(p, Scope::RelationshipsRead, Scope::RelationshipsWrite)
}

/// Whether `p` may read entity documents (`entities:read`, or `entities:write`, which implies
/// it): what a graph walk may show of its nodes beyond their id and type. A document is never
/// returned to a credential that could not GET it directly (SPEC §4).
pub fn entities_visible(p: &Principal) -> bool {
    require_read_scope(p, Scope::EntitiesRead, Scope::EntitiesWrite).is_ok()
}

/// Writes: `relationships:write`.
pub fn require_write(p: &Principal) -> Result<()> {
    require_scope(p, Scope::RelationshipsWrite)
}

/// Restores: a writer who is an admin.
pub fn require_restorer(p: &Principal) -> Result<()> {
    require_admin_writer(p, Scope::RelationshipsWrite, "restore relationships")
}

/// Whether `p` may change a relationship `created_by` made: its creator or an admin.
pub fn may_change(p: &Principal, created_by: &str) -> bool {
    is_owner_or_admin(p, Some(created_by))
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

    #[test]
    fn api_key_needs_relationship_scopes() {
        let p = Principal::for_tests(
            Role::User,
            Credential::ApiKey,
            &[Scope::EntitiesRead, Scope::EntitiesWrite],
        );
        assert_eq!(require_read(&p).unwrap_err().status(), 403);
        assert_eq!(require_write(&p).unwrap_err().status(), 403);
        let p = Principal::for_tests(Role::User, Credential::ApiKey, &[Scope::RelationshipsRead]);
        assert!(require_read(&p).is_ok());
        assert_eq!(require_write(&p).unwrap_err().status(), 403);
        let p = Principal::for_tests(Role::User, Credential::ApiKey, &[Scope::RelationshipsWrite]);
        assert!(require_read(&p).is_ok());
        assert!(require_write(&p).is_ok());
    }

    #[test]
    fn only_callers_that_may_read_entities_see_their_documents() {
        let key = |scopes: &[Scope]| Principal::for_tests(Role::User, Credential::ApiKey, scopes);
        assert!(!entities_visible(&key(&[Scope::RelationshipsRead])));
        assert!(!entities_visible(&key(&[Scope::RelationshipsWrite])));
        assert!(entities_visible(&key(&[
            Scope::RelationshipsRead,
            Scope::EntitiesRead
        ])));
        assert!(entities_visible(&key(&[
            Scope::RelationshipsRead,
            Scope::EntitiesWrite
        ])));
        let user = Principal::for_tests(Role::User, Credential::Bearer, Role::User.scopes());
        assert!(entities_visible(&user));
    }

    #[test]
    fn creator_and_admin_may_change_others_may_not() {
        let user = Principal::for_tests(Role::User, Credential::Bearer, Role::User.scopes());
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
        let admin = Principal::for_tests(Role::Admin, Credential::Bearer, Role::Admin.scopes());
        assert!(require_creator_or_admin(&admin, Some(&other)).is_ok());
    }

    #[test]
    fn only_admins_restore_and_an_admins_key_needs_the_admin_scope() {
        let user = Principal::for_tests(Role::User, Credential::Bearer, Role::User.scopes());
        assert_eq!(
            require_admin_to(&user, "restore").unwrap_err().status(),
            403
        );
        let admin = Principal::for_tests(Role::Admin, Credential::Bearer, Role::Admin.scopes());
        assert!(require_admin_to(&admin, "restore").is_ok());
        let key = Principal::for_tests(
            Role::Admin,
            Credential::ApiKey,
            &[Scope::RelationshipsWrite],
        );
        assert_eq!(require_admin_to(&key, "restore").unwrap_err().status(), 403);
    }
}
