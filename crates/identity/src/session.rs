//! Browser sessions: cookie names and the CSRF double-submit rule. `auth` sets the cookies,
//! `authn` enforces the rule, so both read the names from here.
//!
//! The names carry the browser's cookie prefixes, so no other host can plant ("toss") them:
//! `__Host-` (Secure, `Path=/`, no `Domain`: only this host sets it) for the access and CSRF
//! cookies; `__Secure-` for the refresh cookie, which keeps `Path=/v1/auth` so that no component
//! but auth ever receives a refresh token (a `__Host-` name would need `Path=/`). A refresh
//! cookie a sibling host plants with a `Domain` is caught as a second one ([`cookie_count`]).

use crate::secret::constant_time_eq;

pub const ACCESS_COOKIE: &str = "__Host-sg_access";
pub const REFRESH_COOKIE: &str = "__Secure-sg_refresh";
/// Readable by the page's script (not HttpOnly) so it can echo it in `X-CSRF-Token`.
pub const CSRF_COOKIE: &str = "__Host-sg_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The value of cookie `name` in a `Cookie` header (`a=1; b=2`), if present and non-empty.
pub fn cookie<'a>(cookie_header: &'a str, name: &str) -> Option<&'a str> {
    cookie_header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().trim_matches('"'))
        .filter(|value| !value.is_empty())
}

/// How many cookies named `name` a `Cookie` header carries (a browser sends one per scope that
/// matches: more than one means someone else's was planted beside ours).
pub fn cookie_count(cookie_header: &str, name: &str) -> usize {
    cookie_header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(key, _)| *key == name)
        .count()
}

/// Methods that change state need the CSRF double submit when authenticated by cookie.
pub fn is_unsafe_method(method: &str) -> bool {
    matches!(
        method.to_ascii_uppercase().as_str(),
        "POST" | "PUT" | "PATCH" | "DELETE"
    )
}

/// The double-submit rule: the header must be present and equal the CSRF cookie.
pub fn csrf_ok(csrf_cookie: Option<&str>, csrf_header: Option<&str>) -> bool {
    match (csrf_cookie, csrf_header) {
        (Some(cookie), Some(header)) => !cookie.is_empty() && constant_time_eq(cookie, header),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_finds_named_value_among_several() {
        let header = "theme=dark; __Host-sg_access=abc.def.ghi; __Host-sg_csrf=xyz; sg_access=old";
        assert_eq!(cookie(header, ACCESS_COOKIE), Some("abc.def.ghi"));
        assert_eq!(cookie(header, CSRF_COOKIE), Some("xyz"));
        assert_eq!(cookie(header, REFRESH_COOKIE), None);
        assert_eq!(cookie("__Host-sg_access=", ACCESS_COOKIE), None);
        // an unprefixed name (the names before issue 25, or a planted cookie) is not ours
        assert_eq!(cookie("sg_access=a.b.c", ACCESS_COOKIE), None);
    }

    #[test]
    fn names_carry_the_prefixes_browsers_enforce_and_planted_twins_are_counted() {
        assert!(ACCESS_COOKIE.starts_with("__Host-") && CSRF_COOKIE.starts_with("__Host-"));
        assert!(REFRESH_COOKIE.starts_with("__Secure-"));
        let two = "__Secure-sg_refresh=planted; __Secure-sg_refresh=ours";
        assert_eq!(cookie_count(two, REFRESH_COOKIE), 2);
        assert_eq!(cookie_count("__Secure-sg_refresh=ours", REFRESH_COOKIE), 1);
        assert_eq!(cookie_count("theme=dark", REFRESH_COOKIE), 0);
    }

    #[test]
    fn csrf_requires_matching_header() {
        assert!(csrf_ok(Some("t1"), Some("t1")));
        assert!(!csrf_ok(Some("t1"), Some("t2")));
        assert!(!csrf_ok(Some("t1"), None));
        assert!(!csrf_ok(None, Some("t1")));
        assert!(!csrf_ok(Some(""), Some("")));
    }

    #[test]
    fn only_state_changing_methods_are_unsafe() {
        for m in ["POST", "put", "PATCH", "DELETE"] {
            assert!(is_unsafe_method(m));
        }
        for m in ["GET", "HEAD", "OPTIONS"] {
            assert!(!is_unsafe_method(m));
        }
    }
}
