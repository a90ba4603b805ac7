//! The request-id rule (SPEC §4): an incoming `X-Request-Id` matching `[A-Za-z0-9._-]{1,128}` is
//! kept, any other is replaced. It lives here, the one crate without I/O that both the host and
//! the components build, so every side keeps and refuses the same ids.

/// The header a request id travels in (lower case, as HTTP/2 and the WASI headers carry it).
pub const HEADER: &str = "x-request-id";

/// Whether `id` may be kept as the request's id.
pub fn is_valid(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_of_1_to_128_safe_characters_are_kept_and_others_refused() {
        for ok in ["a", "abc.DEF_123-x", &"a".repeat(128)] {
            assert!(is_valid(ok), "{ok}");
        }
        for bad in [
            "",
            "has spaces",
            "semi;colon",
            "ünïcode",
            "a/b",
            &"a".repeat(129),
        ] {
            assert!(!is_valid(bad), "{bad}");
        }
    }
}
