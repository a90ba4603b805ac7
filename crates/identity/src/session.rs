//! Browser sessions: cookie names and the CSRF double-submit rule. `auth` sets the cookies,
//! `authn` enforces the rule, so both read the names from here.

use crate::secret::constant_time_eq;

pub const ACCESS_COOKIE: &str = "sg_access";
pub const REFRESH_COOKIE: &str = "sg_refresh";
/// Readable by the page's script (not HttpOnly) so it can echo it in `X-CSRF-Token`.
pub const CSRF_COOKIE: &str = "sg_csrf";
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
        let header = "theme=dark; sg_access=abc.def.ghi; sg_csrf=xyz";
        assert_eq!(cookie(header, ACCESS_COOKIE), Some("abc.def.ghi"));
        assert_eq!(cookie(header, CSRF_COOKIE), Some("xyz"));
        assert_eq!(cookie(header, REFRESH_COOKIE), None);
        assert_eq!(cookie("sg_access=", ACCESS_COOKIE), None);
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
