//! The principal as `spingraph:api/types` (wit/api.wit) carries it from `authn` to the route
//! components: the WIT types, generated here once for both sides (their bindings take them with
//! wit-bindgen's `with`), and the one conversion each way.

use uuid::Uuid;

use crate::principal::{Credential, Principal, Role};

mod bindings {
    wit_bindgen::generate!({
        inline: "package spingraph:identity;
                 world principal { import spingraph:api/types@1.0.0; }",
        path: "../../wit",
        with: { "spingraph:api/types@1.0.0": generate },
        additional_derives: [PartialEq, Eq],
    });
}

/// The generated `spingraph:api/types`: what `authn` answers and route components receive.
pub use bindings::spingraph::api::types;

/// `authn`'s answer for `p`; `rate_limit` is none until `authn` counts the request.
impl From<Principal> for types::Principal {
    fn from(p: Principal) -> types::Principal {
        types::Principal {
            user_id: p.user_id.to_string(),
            email: p.email,
            role: match p.role {
                Role::Admin => types::Role::Admin,
                Role::User => types::Role::User,
            },
            scopes: p.scopes.iter().map(|s| s.as_str().to_string()).collect(),
            credential: match p.credential {
                Credential::Bearer => types::CredentialKind::Bearer,
                Credential::Cookie => types::CredentialKind::Cookie,
                Credential::ApiKey => types::CredentialKind::ApiKey,
            },
            token_id: p.token_id,
            expires_at: p.expires_at,
            session_id: p.session_id.map(|s| s.to_string()),
            rate_limit: None,
        }
    }
}

/// The principal in `authn`'s answer (its `rate_limit` is the route component's to read).
/// Scopes this build does not know are dropped; a user id that is not a UUID means the `authn`
/// in front of us is broken, a 503.
impl TryFrom<types::Principal> for Principal {
    type Error = types::AuthError;

    fn try_from(p: types::Principal) -> Result<Principal, types::AuthError> {
        let user_id = Uuid::parse_str(&p.user_id).map_err(|_| {
            types::AuthError::Unavailable(format!("authn returned a bad user id: {}", p.user_id))
        })?;
        Ok(Principal {
            user_id,
            email: p.email,
            role: match p.role {
                types::Role::Admin => Role::Admin,
                types::Role::User => Role::User,
            },
            scopes: p.scopes.iter().filter_map(|s| s.parse().ok()).collect(),
            credential: match p.credential {
                types::CredentialKind::Bearer => Credential::Bearer,
                types::CredentialKind::Cookie => Credential::Cookie,
                types::CredentialKind::ApiKey => Credential::ApiKey,
            },
            token_id: p.token_id,
            expires_at: p.expires_at,
            session_id: p.session_id.and_then(|s| Uuid::parse_str(&s).ok()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::principal::Scope;

    #[test]
    fn a_principal_survives_the_round_trip_through_wit() {
        for (role, credential, scopes) in [
            (Role::Admin, Credential::Bearer, Role::Admin.scopes()),
            (Role::User, Credential::Cookie, Role::User.scopes()),
            (Role::User, Credential::ApiKey, &[Scope::EntitiesRead][..]),
        ] {
            let mut p = Principal::for_tests(role, credential, scopes);
            p.token_id = Some("jti-1".into());
            p.expires_at = Some(1_900_000_000);
            p.session_id = Some(Uuid::now_v7());
            let wit = types::Principal::from(p.clone());
            assert_eq!(wit.rate_limit, None);
            assert_eq!(wit.user_id, p.user_id.to_string());
            assert_eq!(Principal::try_from(wit), Ok(p));
        }
    }

    #[test]
    fn unknown_scopes_are_dropped_and_a_bad_user_id_is_unavailable() {
        let p = Principal::for_tests(Role::User, Credential::ApiKey, &[Scope::EntitiesRead]);
        let mut wit = types::Principal::from(p);
        wit.scopes.push("entities:delete".into());
        assert_eq!(
            Principal::try_from(wit.clone()).unwrap().scopes,
            vec![Scope::EntitiesRead]
        );
        wit.user_id = "not-a-uuid".into();
        assert!(matches!(
            Principal::try_from(wit),
            Err(types::AuthError::Unavailable(_))
        ));
    }
}
