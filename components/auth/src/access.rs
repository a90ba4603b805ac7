//! Who may do what here: people, never API keys, manage accounts and keys. User administration
//! is for an admin signed in as a person (`require_admin_person`); API keys are managed by their
//! owner's session (`require_person`). A leaked key, even an admin-scoped one, can thus mint
//! neither a key nor a person that would outlive its revocation.

use spingraph_authn_client::{Credential, Principal, require_admin};
use spingraph_guest::{ApiError, Result};

/// Only people manage keys: a key cannot mint or revoke keys.
pub fn require_person(p: &Principal) -> Result<()> {
    if p.credential == Credential::ApiKey {
        return Err(ApiError::forbidden(
            "API keys cannot manage API keys; sign in with a token or session.",
        ));
    }
    Ok(())
}

/// User administration (list, create, change role or active, unlock): an admin's bearer token
/// or session, never an API key of any scope.
pub fn require_admin_person(p: &Principal) -> Result<()> {
    if p.credential == Credential::ApiKey {
        return Err(ApiError::forbidden(
            "API keys cannot manage users; an admin signs in with a token or session.",
        ));
    }
    require_admin(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use spingraph_authn_client::{Role, Scope};

    #[test]
    fn only_an_admin_person_manages_users_never_a_key() {
        let admin_key = Principal::for_tests(Role::Admin, Credential::ApiKey, &Scope::ALL);
        assert_eq!(require_admin_person(&admin_key).unwrap_err().status(), 403);
        for credential in [Credential::Bearer, Credential::Cookie] {
            let admin = Principal::for_tests(Role::Admin, credential, Role::Admin.scopes());
            assert!(require_admin_person(&admin).is_ok());
            let user = Principal::for_tests(Role::User, credential, Role::User.scopes());
            assert_eq!(require_admin_person(&user).unwrap_err().status(), 403);
        }
    }
}
