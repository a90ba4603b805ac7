//! Which credential a request presents, read from its method and headers alone: `authn` checks
//! it, route components look at its kind first (an API key costs a database lookup, so it is
//! throttled before one is spent).

use crate::session::{self, ACCESS_COOKIE, CSRF_COOKIE, CSRF_HEADER};

/// The CSRF double-submit inputs of a cookie-authenticated request.
#[derive(Debug, PartialEq, Eq)]
pub struct Csrf<'a> {
    pub unsafe_method: bool,
    pub cookie: Option<&'a str>,
    pub header: Option<&'a str>,
}

impl Csrf<'_> {
    pub fn ok(&self) -> bool {
        !self.unsafe_method || session::csrf_ok(self.cookie, self.header)
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Presented<'a> {
    Bearer(&'a str),
    ApiKey(&'a str),
    Cookie { jwt: &'a str, csrf: Csrf<'a> },
}

/// Why no credential could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotPresented {
    /// Nothing that looks like a credential.
    Missing,
    /// A credential header that cannot be used (the reason is for logs).
    Malformed(String),
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

/// An explicit credential header wins over the ambient session cookie; a malformed one is
/// refused rather than skipped, so a broken client never silently falls back to a cookie.
pub fn presented<'a>(
    method: &str,
    headers: &'a [(String, String)],
) -> Result<Presented<'a>, NotPresented> {
    let malformed = |why: String| Err(NotPresented::Malformed(why));
    if let Some(value) = header(headers, "authorization") {
        let (scheme, credential) = value.split_once(' ').unwrap_or((value, ""));
        let credential = credential.trim();
        if credential.is_empty() {
            return malformed("empty Authorization credential".into());
        }
        return if scheme.eq_ignore_ascii_case("bearer") {
            Ok(Presented::Bearer(credential))
        } else if scheme.eq_ignore_ascii_case("apikey") {
            Ok(Presented::ApiKey(credential))
        } else {
            malformed(format!("unsupported Authorization scheme `{scheme}`"))
        };
    }
    if let Some(key) = header(headers, "x-api-key") {
        if key.is_empty() {
            return malformed("empty X-API-Key".into());
        }
        return Ok(Presented::ApiKey(key));
    }
    let cookies: Vec<&str> = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
        .map(|(_, v)| v.as_str())
        .collect();
    let find = |name: &str| cookies.iter().find_map(|c| session::cookie(c, name));
    match find(ACCESS_COOKIE) {
        Some(jwt) => Ok(Presented::Cookie {
            jwt,
            csrf: Csrf {
                unsafe_method: session::is_unsafe_method(method),
                cookie: find(CSRF_COOKIE),
                header: header(headers, CSRF_HEADER).filter(|h| !h.is_empty()),
            },
        }),
        None => Err(NotPresented::Missing),
    }
}

/// Request headers as [`presented`] takes them, from `(name, value)` pairs (unit tests; other
/// crates get it with the `test-util` feature).
#[cfg(any(test, feature = "test-util"))]
pub fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use headers as h;

    #[test]
    fn bearer_and_api_key_schemes_are_recognised() {
        let hs = h(&[("Authorization", "Bearer a.b.c")]);
        assert_eq!(presented("GET", &hs), Ok(Presented::Bearer("a.b.c")));
        let hs = h(&[("authorization", "bearer a.b.c")]);
        assert_eq!(presented("GET", &hs), Ok(Presented::Bearer("a.b.c")));
        let hs = h(&[("authorization", "ApiKey sgk_x")]);
        assert_eq!(presented("GET", &hs), Ok(Presented::ApiKey("sgk_x")));
        let hs = h(&[("x-api-key", "sgk_y")]);
        assert_eq!(presented("GET", &hs), Ok(Presented::ApiKey("sgk_y")));
    }

    #[test]
    fn no_credentials_is_missing() {
        assert_eq!(
            presented("GET", &h(&[("accept", "*/*")])),
            Err(NotPresented::Missing)
        );
        assert_eq!(
            presented("GET", &h(&[("cookie", "theme=dark")])),
            Err(NotPresented::Missing)
        );
    }

    #[test]
    fn unknown_or_empty_scheme_is_malformed_not_missing() {
        for value in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "token"] {
            let hs = h(&[("authorization", value)]);
            assert!(
                matches!(presented("GET", &hs), Err(NotPresented::Malformed(_))),
                "{value}"
            );
        }
    }

    #[test]
    fn authorization_header_wins_over_cookie() {
        let hs = h(&[
            ("cookie", "__Host-sg_access=c.c.c"),
            ("authorization", "Bearer b.b.b"),
        ]);
        assert_eq!(presented("POST", &hs), Ok(Presented::Bearer("b.b.b")));
    }

    #[test]
    fn cookie_session_needs_matching_csrf_header_on_unsafe_methods() {
        let hs = h(&[("cookie", "__Host-sg_access=t.t.t; __Host-sg_csrf=abc")]);
        let Ok(Presented::Cookie { jwt, csrf }) = presented("POST", &hs) else {
            panic!("expected a cookie credential");
        };
        assert_eq!(jwt, "t.t.t");
        assert!(!csrf.ok());

        let hs = h(&[
            ("cookie", "__Host-sg_access=t.t.t; __Host-sg_csrf=abc"),
            ("x-csrf-token", "abc"),
        ]);
        let Ok(Presented::Cookie { csrf, .. }) = presented("DELETE", &hs) else {
            panic!("expected a cookie credential");
        };
        assert!(csrf.ok());

        let hs = h(&[
            ("cookie", "__Host-sg_access=t.t.t; __Host-sg_csrf=abc"),
            ("x-csrf-token", "abd"),
        ]);
        let Ok(Presented::Cookie { csrf, .. }) = presented("PATCH", &hs) else {
            panic!("expected a cookie credential");
        };
        assert!(!csrf.ok());
    }

    #[test]
    fn safe_methods_need_no_csrf_header() {
        let hs = h(&[("cookie", "__Host-sg_access=t.t.t")]);
        let Ok(Presented::Cookie { csrf, .. }) = presented("GET", &hs) else {
            panic!("expected a cookie credential");
        };
        assert!(csrf.ok());
    }
}
