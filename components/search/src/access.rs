//! Who may do what (docs/retrieval.md): reading spaces and searching need `entities:read`, and
//! an `expand` also `relationships:read` (its edges are relationships: a document is never
//! returned to a credential that could not GET it directly); a user searches their own entities,
//! an admin everyone's or one owner's; only admins make and drop spaces.

use spingraph_authn_client::{Principal, Scope, require_admin_to, require_read_scope};
use spingraph_guest::{ApiError, Result};

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

/// Whose entities a search sees: a user's own (asking for another owner's is a 403), an
/// admin's `owner` or, without one, everyone's (`None`).
pub fn owner_scope(p: &Principal, asked: Option<&str>) -> Result<Option<String>> {
    let own = p.user_id.to_string();
    if p.is_admin() {
        return Ok(asked.map(str::to_string));
    }
    match asked {
        Some(other) if !other.eq_ignore_ascii_case(&own) => Err(ApiError::forbidden(
            "Only an admin may search another owner's entities.",
        )),
        _ => Ok(Some(own)),
    }
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
    fn a_user_sees_their_own_entities_and_an_admin_anyones() {
        let user = Principal::for_tests(Role::User, Credential::Bearer, Role::User.scopes());
        let own = user.user_id.to_string();
        assert_eq!(owner_scope(&user, None).unwrap(), Some(own.clone()));
        assert_eq!(
            owner_scope(&user, Some(&own.to_uppercase())).unwrap(),
            Some(own)
        );
        let other = "0192e4a0-0000-7000-8000-000000000001";
        assert_eq!(owner_scope(&user, Some(other)).unwrap_err().status(), 403);
        let admin = Principal::for_tests(Role::Admin, Credential::Bearer, Role::Admin.scopes());
        assert_eq!(owner_scope(&admin, None).unwrap(), None);
        assert_eq!(
            owner_scope(&admin, Some(other)).unwrap(),
            Some(other.to_string())
        );
        assert!(require_space_admin(&admin).is_ok());
        assert_eq!(require_space_admin(&user).unwrap_err().status(), 403);
        // an admin's key without the admin scope is not an admin
        let key = Principal::for_tests(Role::Admin, Credential::ApiKey, &[Scope::EntitiesRead]);
        assert_eq!(require_space_admin(&key).unwrap_err().status(), 403);
        assert_eq!(
            owner_scope(&key, None).unwrap(),
            Some(key.user_id.to_string())
        );
    }
}
