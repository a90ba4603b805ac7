//! Who may do what here: user administration is for admins (`require_admin`), API keys are
//! managed by people, never by another key.

use spingraph_authn_client::{Credential, Principal};
use spingraph_guest::{ApiError, Result};

pub use spingraph_authn_client::require_admin;

/// Only people manage keys: a key cannot mint or revoke keys.
pub fn require_person(p: &Principal) -> Result<()> {
    if p.credential == Credential::ApiKey {
        return Err(ApiError::forbidden(
            "API keys cannot manage API keys; sign in with a token or session.",
        ));
    }
    Ok(())
}
