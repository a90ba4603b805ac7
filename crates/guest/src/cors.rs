//! CORS from the `cors_allowed_origins` variable (comma list of origins, or `*`). Listed origins
//! are echoed with credentials allowed; `*` allows any origin without credentials (never both).

use crate::reply::Reply;

pub const ALLOWED_METHODS: &str = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
pub const ALLOWED_HEADERS: &str =
    "authorization, content-type, x-request-id, x-csrf-token, x-api-key, if-match, if-none-match";
pub const EXPOSED_HEADERS: &str = "x-request-id, etag, location, retry-after, ratelimit-limit, ratelimit-remaining, ratelimit-reset";
pub const MAX_AGE_SECS: u32 = 600;

/// The CORS policy of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cors {
    allowed: Vec<String>,
}

/// What an allowed origin gets back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// Echo this origin and allow credentials.
    Origin(String),
    /// `Access-Control-Allow-Origin: *`, no credentials.
    Any,
}

impl Cors {
    pub fn new(allowed: Vec<String>) -> Cors {
        Cors {
            allowed: allowed
                .into_iter()
                .map(|o| o.trim_end_matches('/').to_string())
                .collect(),
        }
    }

    /// The grant for `origin`, or `None` when it is not allowed.
    pub fn grant(&self, origin: &str) -> Option<Grant> {
        let origin = origin.trim_end_matches('/');
        if self.allowed.iter().any(|o| o.eq_ignore_ascii_case(origin)) {
            Some(Grant::Origin(origin.to_string()))
        } else if self.allowed.iter().any(|o| o == "*") {
            Some(Grant::Any)
        } else {
            None
        }
    }

    /// Add the response headers for an actual (non-preflight) request. `Vary: Origin` always.
    pub fn apply(&self, origin: Option<&str>, reply: &mut Reply) {
        reply.set_header("vary", "Origin");
        let Some(grant) = origin.and_then(|o| self.grant(o)) else {
            return;
        };
        set_grant(reply, &grant);
        reply.set_header("access-control-expose-headers", EXPOSED_HEADERS);
    }

    /// The answer to a preflight `OPTIONS`: 204, with the allow headers only for an allowed origin.
    pub fn preflight(&self, origin: &str) -> Reply {
        let mut reply = Reply::no_content();
        reply.set_header("vary", "Origin");
        if let Some(grant) = self.grant(origin) {
            set_grant(&mut reply, &grant);
            reply.set_header("access-control-allow-methods", ALLOWED_METHODS);
            reply.set_header("access-control-allow-headers", ALLOWED_HEADERS);
            reply.set_header("access-control-max-age", &MAX_AGE_SECS.to_string());
        }
        reply
    }
}

fn set_grant(reply: &mut Reply, grant: &Grant) {
    match grant {
        Grant::Origin(origin) => {
            reply.set_header("access-control-allow-origin", origin);
            reply.set_header("access-control-allow-credentials", "true");
        }
        Grant::Any => reply.set_header("access-control-allow-origin", "*"),
    }
}

/// Whether a request is a CORS preflight (`OPTIONS` with `Origin` and
/// `Access-Control-Request-Method`).
pub fn is_preflight(method: &str, origin: Option<&str>, request_method: Option<&str>) -> bool {
    method == "OPTIONS" && origin.is_some() && request_method.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cors(list: &[&str]) -> Cors {
        Cors::new(list.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn listed_origin_is_echoed_with_credentials() {
        let mut r = Reply::no_content();
        cors(&["https://app.example.com"]).apply(Some("https://app.example.com"), &mut r);
        assert_eq!(
            r.header_value("access-control-allow-origin"),
            Some("https://app.example.com")
        );
        assert_eq!(
            r.header_value("access-control-allow-credentials"),
            Some("true")
        );
        assert_eq!(r.header_value("vary"), Some("Origin"));
    }

    #[test]
    fn unlisted_origin_gets_no_cors_headers_but_vary() {
        let mut r = Reply::no_content();
        cors(&["https://app.example.com"]).apply(Some("https://evil.example"), &mut r);
        assert_eq!(r.header_value("access-control-allow-origin"), None);
        assert_eq!(r.header_value("vary"), Some("Origin"));
        let p = cors(&[]).preflight("https://evil.example");
        assert_eq!(p.status(), 204);
        assert_eq!(p.header_value("access-control-allow-methods"), None);
    }

    #[test]
    fn wildcard_never_comes_with_credentials() {
        let mut r = Reply::no_content();
        cors(&["*"]).apply(Some("https://any.example"), &mut r);
        assert_eq!(r.header_value("access-control-allow-origin"), Some("*"));
        assert_eq!(r.header_value("access-control-allow-credentials"), None);
    }

    #[test]
    fn preflight_for_allowed_origin_lists_methods_and_headers() {
        let p = cors(&["https://app.example.com"]).preflight("https://app.example.com");
        assert_eq!(p.status(), 204);
        assert!(
            p.header_value("access-control-allow-methods")
                .unwrap()
                .contains("PATCH")
        );
        assert!(
            p.header_value("access-control-allow-headers")
                .unwrap()
                .contains("x-csrf-token")
        );
        assert!(is_preflight("OPTIONS", Some("o"), Some("POST")));
        assert!(!is_preflight("OPTIONS", Some("o"), None));
    }
}
