//! CORS from the `cors_allowed_origins` variable (comma list of origins, or `*`). Listed origins
//! are echoed with credentials allowed; `*` allows any origin without credentials (never both).
//! The same list says which other origins may start, renew and end a browser session
//! ([`require_same_origin`]): login CSRF is refused before any credential is read.

use serde_json::json;
use spin_sdk::http::Request;

use crate::context::{Ctx, header};
use crate::error::{ApiError, Result};
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

/// Whether a request that sets or spends session cookies comes from a page allowed to send it:
/// never when the browser says `Sec-Fetch-Site: cross-site`; with an `Origin`, only the
/// request's own (the authority of `own_url`, Spin's `spin-full-url`, default ports aside) or
/// one listed exactly in `cors_allowed_origins` (`*` lists none here); `Origin: null` never.
/// Without `Origin` it passes: every browser sends one on a cross-origin POST, so what has none
/// is a same-origin page of an old browser or not a browser at all (curl, a server), which
/// cannot ride anyone's cookies.
pub fn same_origin_or_listed(
    origin: Option<&str>,
    fetch_site: Option<&str>,
    own_url: Option<&str>,
    listed: &[String],
) -> bool {
    if fetch_site.is_some_and(|s| s.trim().eq_ignore_ascii_case("cross-site")) {
        return false;
    }
    let Some(origin) = origin.map(|o| o.trim().trim_end_matches('/')) else {
        return true;
    };
    if listed
        .iter()
        .any(|o| o != "*" && o.trim_end_matches('/').eq_ignore_ascii_case(origin))
    {
        return true;
    }
    match (authority(origin), own_url.and_then(authority)) {
        (Some(theirs), Some(ours)) => theirs == ours,
        _ => false,
    }
}

/// `host[:port]` of an absolute URL, lower-cased, without its scheme's default port; `None` for
/// anything else (`null`, userinfo, no host). The scheme itself is not compared: behind a proxy
/// that ends TLS, the request URL Spin sees is `http://` for a page served over `https://`.
fn authority(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?.to_ascii_lowercase();
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "https" => ":443",
        "http" => ":80",
        _ => return Some(authority),
    };
    Some(match authority.strip_suffix(default_port) {
        Some(host) => host.to_string(),
        None => authority,
    })
}

/// 403 problem unless `req` passes [`same_origin_or_listed`]: the guard of the routes that set,
/// renew or clear session cookies (sign-in by session, refresh and logout by cookie).
pub fn require_same_origin(ctx: &Ctx, req: &Request) -> Result<()> {
    let origin = header(req, "origin");
    let fetch_site = header(req, "sec-fetch-site");
    let listed = match origin {
        Some(_) => ctx.config.list("cors_allowed_origins")?,
        None => Vec::new(),
    };
    if same_origin_or_listed(origin, fetch_site, header(req, "spin-full-url"), &listed) {
        return Ok(());
    }
    let clip = |v: Option<&str>| v.map(|v| v.chars().take(200).collect::<String>());
    ctx.warn(
        "cross-site session request refused",
        json!({"path": ctx.path, "origin": clip(origin), "sec_fetch_site": clip(fetch_site),
               "ip": ctx.client_ip()}),
    );
    Err(ApiError::forbidden(
        "Browser sessions are started, renewed and ended only from this site's own pages or an \
         origin listed in cors_allowed_origins.",
    ))
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
    fn session_requests_come_only_from_our_own_or_a_listed_origin() {
        let own = Some("http://127.0.0.1:3000/v1/auth/session");
        let listed = vec!["https://app.example.com".to_string(), "*".to_string()];
        let ok = |origin, site| same_origin_or_listed(origin, site, own, &listed);
        // no Origin: curl, servers, old browsers' same-origin requests
        assert!(ok(None, None));
        assert!(ok(Some("http://127.0.0.1:3000"), Some("same-origin")));
        assert!(ok(Some("HTTP://127.0.0.1:3000/"), None));
        assert!(ok(Some("https://app.example.com"), Some("same-site")));
        // another site, a sibling origin, a wildcard that lists nobody, an opaque origin
        assert!(!ok(Some("https://evil.example"), None));
        assert!(!ok(Some("http://127.0.0.1:3001"), Some("same-site")));
        assert!(!ok(Some("https://any.example"), None));
        assert!(!ok(Some("null"), None));
        // the browser's own word wins, whatever Origin says
        assert!(!ok(None, Some("cross-site")));
        assert!(!ok(Some("http://127.0.0.1:3000"), Some("Cross-Site")));
    }

    #[test]
    fn default_ports_and_the_scheme_behind_a_tls_proxy_do_not_matter() {
        let own = Some("http://api.example.com/v1/auth/session");
        assert!(same_origin_or_listed(
            Some("https://api.example.com"),
            None,
            own,
            &[]
        ));
        assert!(same_origin_or_listed(
            Some("https://api.example.com:443"),
            None,
            own,
            &[]
        ));
        assert!(!same_origin_or_listed(
            Some("https://api.example.com.evil.example"),
            None,
            own,
            &[]
        ));
        assert!(!same_origin_or_listed(
            Some("https://user@api.example.com"),
            None,
            own,
            &[]
        ));
        assert!(!same_origin_or_listed(
            Some("https://api.example.com"),
            None,
            None,
            &[]
        ));
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
