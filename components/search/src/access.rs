//! Who may do what (docs/retrieval.md): reading spaces and searching need `entities:read`, and
//! an `expand` also `relationships:read` (its edges are relationships: a document is never
//! returned to a credential that could not GET it directly); a search sees every owner's live
//! entities, as any principal with `entities:read` GETs any entity (`filter.owner` narrows it to
//! one); only admins make and drop spaces.

use spingraph_authn_client::{Principal, Scope, require_admin_to, require_read_scope};
use spingraph_guest::Result;

/// Reads and searches: `entities:read` (or `entities:write`, which implies it).
pub fn require_read(p: &Principal) -> Result<()> {
    require_read_scope(p, Scope::EntitiesRead, Scope::EntitiesWrite)
}

/// An `expand`: `relationships:read` (or `:write`) besides.
pub fn require_expand(p: &Principal) -> Result<()> {
    require_read_scope(p, Scope::RelationshipsRead, Scope::RelationshipsWrite)
}

/// Making and dropping spaces: an admin (an API key also needs the `admin` scope).
pub fn require_space_admin(p: &Principal) -> Result<()> {
    require_admin_to(p, "make or drop embedding spaces")
}

#[cfg(test)]
mod tests {
    use super::*;
    use spingraph_authn_client::{Credential, Role};

    #[test]
    fn searching_needs_entities_read_and_expanding_relationships_read() {
        let key = |scopes: &[Scope]| Principal::for_tests(Role::User, Credential::ApiKey, scopes);
        assert_eq!(
            require_read(&key(&[Scope::RelationshipsRead]))
                .unwrap_err()
                .status(),
            403
        );
        assert!(require_read(&key(&[Scope::EntitiesRead])).is_ok());
        assert!(require_read(&key(&[Scope::EntitiesWrite])).is_ok());
        assert_eq!(
            require_expand(&key(&[Scope::EntitiesRead]))
                .unwrap_err()
                .status(),
            403
        );
        assert!(require_expand(&key(&[Scope::RelationshipsRead])).is_ok());
    }

    #[test]
    fn only_an_admin_makes_and_drops_spaces() {
        let user = Principal::for_tests(Role::User, Credential::Bearer, Role::User.scopes());
        let admin = Principal::for_tests(Role::Admin, Credential::Bearer, Role::Admin.scopes());
        assert!(require_space_admin(&admin).is_ok());
        assert_eq!(require_space_admin(&user).unwrap_err().status(), 403);
        // an admin's key without the admin scope is not an admin
        let key = Principal::for_tests(Role::Admin, Credential::ApiKey, &[Scope::EntitiesRead]);
        assert_eq!(require_space_admin(&key).unwrap_err().status(), 403);
    }
}
