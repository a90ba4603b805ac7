//! Password hashing for spingraph: argon2id with one set of parameters, the
//! password policy (SPEC §4), and a dummy hash so unknown users cost the same.
//!
//! Used by the auth component (wasm32-wasip2) and `spingraph admin` (native),
//! so a hash made by either verifies in the other.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Memory cost in KiB (19 MiB, the OWASP minimum for argon2id).
pub const MEMORY_KIB: u32 = 19_456;
/// Iterations.
pub const ITERATIONS: u32 = 2;
/// Lanes.
pub const PARALLELISM: u32 = 1;
/// Length of the derived hash in bytes.
pub const OUTPUT_LEN: usize = 32;

/// Shortest accepted password, in characters.
pub const MIN_CHARS: usize = 12;
/// Longest accepted password, in characters.
pub const MAX_CHARS: usize = 128;

/// A hash of a random password nobody knows, made with the parameters above.
/// Verifying against it costs what verifying a real user's hash costs.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$sT3h6qrYtQ9J3CNLbDUVpQ$g7kewl3ZMSQrkNBz7DW1U8bx3LTRO4Rd2pC1bBhzSus";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("password must be at least {MIN_CHARS} characters")]
    TooShort,
    #[error("password must be at most {MAX_CHARS} characters")]
    TooLong,
    #[error("password must not be the email address")]
    SameAsEmail,
    #[error("could not hash password: {0}")]
    Hashing(String),
}

fn hasher() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, Some(OUTPUT_LEN))
        .expect("argon2 parameters are valid constants");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Checks the password policy: 12..=128 characters and not the email
/// (compared case-insensitively, surrounding whitespace of the email ignored).
pub fn validate(password: &str, email: &str) -> Result<(), PasswordError> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(PasswordError::TooShort);
    }
    if chars > MAX_CHARS {
        return Err(PasswordError::TooLong);
    }
    if password.to_lowercase() == email.trim().to_lowercase() {
        return Err(PasswordError::SameAsEmail);
    }
    Ok(())
}

/// Hashes a password with argon2id and a fresh random salt; returns the PHC string.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| PasswordError::Hashing(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| PasswordError::Hashing(e.to_string()))?;
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hashing(e.to_string()))
}

/// True when `password` matches the PHC string `phc`. A malformed or
/// non-argon2 string never verifies.
pub fn verify(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    hasher()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// Spends the time a real verification would, then returns false. Call it
/// when the user does not exist so the response time does not tell.
pub fn verify_dummy(password: &str) -> bool {
    let _ = verify(password, DUMMY_HASH);
    false
}

/// True when `phc` was made with other parameters than the current ones, so
/// the caller should re-hash the password after a successful login.
pub fn needs_rehash(phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return true;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return true;
    };
    parsed.algorithm != Algorithm::Argon2id.ident()
        || parsed.version != Some(Version::V0x13.into())
        || params.m_cost() != MEMORY_KIB
        || params.t_cost() != ITERATIONS
        || params.p_cost() != PARALLELISM
        || params.output_len() != Some(OUTPUT_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_then_verify_accepts_the_same_password() {
        let phc = hash("correct horse battery staple").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse battery staple", &phc));
    }

    #[test]
    fn verify_rejects_a_different_password() {
        let phc = hash("correct horse battery staple").unwrap();
        assert!(!verify("correct horse battery stapler", &phc));
    }

    #[test]
    fn two_hashes_of_one_password_use_different_salts() {
        assert_ne!(
            hash("same password twice").unwrap(),
            hash("same password twice").unwrap()
        );
    }

    #[test]
    fn verify_rejects_malformed_hashes() {
        assert!(!verify("whatever password", ""));
        assert!(!verify("whatever password", "not a phc string"));
        assert!(!verify(
            "whatever password",
            "$argon2id$v=19$m=19456,t=2,p=1$abc"
        ));
    }

    #[test]
    fn dummy_hash_uses_current_parameters_and_never_verifies() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!needs_rehash(DUMMY_HASH));
        assert!(!verify_dummy("anything at all here"));
        assert!(!verify_dummy(""));
    }

    #[test]
    fn fresh_hash_does_not_need_rehash_but_weaker_one_does() {
        assert!(!needs_rehash(&hash("a fine long password").unwrap()));
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8, 1, 1, None).unwrap(),
        )
        .hash_password(
            b"a fine long password",
            &SaltString::encode_b64(b"0123456789abcdef").unwrap(),
        )
        .unwrap()
        .to_string();
        assert!(verify("a fine long password", &weak));
        assert!(needs_rehash(&weak));
        assert!(needs_rehash("garbage"));
    }

    #[test]
    fn validate_enforces_length_in_characters() {
        assert_eq!(
            validate("short", "a@example.com"),
            Err(PasswordError::TooShort)
        );
        assert_eq!(
            validate(&"x".repeat(11), "a@example.com"),
            Err(PasswordError::TooShort)
        );
        assert_eq!(validate(&"x".repeat(12), "a@example.com"), Ok(()));
        assert_eq!(validate(&"x".repeat(128), "a@example.com"), Ok(()));
        assert_eq!(
            validate(&"x".repeat(129), "a@example.com"),
            Err(PasswordError::TooLong)
        );
        // 12 characters, 24 bytes: length counts characters, not bytes.
        assert_eq!(validate(&"é".repeat(12), "a@example.com"), Ok(()));
    }

    #[test]
    fn validate_rejects_the_email_case_insensitively() {
        assert_eq!(
            validate("Alice@Example.com", "alice@example.com"),
            Err(PasswordError::SameAsEmail)
        );
        assert_eq!(
            validate("alice@example.com", " ALICE@EXAMPLE.COM "),
            Err(PasswordError::SameAsEmail)
        );
        assert_eq!(validate("alice@example.com!", "alice@example.com"), Ok(()));
    }
}
