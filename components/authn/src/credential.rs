//! Which credential a request presents (read by `spingraph_identity::credential`), as this
//! component's WIT errors, and the request id its log lines carry.

use crate::invalid;
use spingraph_identity::credential::{self, NotPresented};
use spingraph_identity::request_id;
use spingraph_identity::wit::types::AuthError;

pub use spingraph_identity::credential::{Csrf, Presented};

/// The caller's `X-Request-Id` when it is one the route component kept (for log lines).
pub fn request_id(headers: &[(String, String)]) -> String {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(request_id::HEADER))
        .map(|(_, v)| v.trim())
        .filter(|id| request_id::is_valid(id))
        .unwrap_or("-")
        .to_string()
}

pub fn presented<'a>(
    method: &str,
    headers: &'a [(String, String)],
) -> Result<Presented<'a>, AuthError> {
    credential::presented(method, headers).map_err(|e| match e {
        NotPresented::Missing => AuthError::MissingCredentials,
        NotPresented::Malformed(why) => invalid(why),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use spingraph_identity::credential::headers as h;

    #[test]
    fn missing_and_malformed_credentials_map_to_their_wit_errors() {
        assert_eq!(
            presented("GET", &h(&[("accept", "*/*")])),
            Err(AuthError::MissingCredentials)
        );
        assert!(matches!(
            presented("GET", &h(&[("authorization", "Basic x")])),
            Err(AuthError::InvalidCredentials(_))
        ));
    }

    #[test]
    fn request_id_is_kept_only_when_valid() {
        assert_eq!(request_id(&h(&[("x-request-id", "abc-1")])), "abc-1");
        assert_eq!(request_id(&h(&[("x-request-id", "a b")])), "-");
        assert_eq!(request_id(&h(&[])), "-");
    }
}
