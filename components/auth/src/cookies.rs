//! Browser-session cookies and the response writer that can send several of them.
//!
//! A `Reply` holds one value per header name, so the cookies of one response travel in a single
//! `set-cookie` value joined by `\n` (a byte no header value may contain) and [`send`] splits
//! them into separate `Set-Cookie` fields.

use spin_sdk::http::{Fields, OutgoingResponse, Response, ResponseOutparam};
use spingraph_guest::Reply;
use spingraph_identity::session::{ACCESS_COOKIE, CSRF_COOKIE, REFRESH_COOKIE};

/// The refresh cookie is only ever sent to the auth routes (hence `__Secure-`, not `__Host-`,
/// which requires `Path=/`; see `spingraph_identity::session`).
const REFRESH_PATH: &str = "/v1/auth";

/// One `Set-Cookie` value. Every cookie is `Secure; SameSite=Strict` with no `Domain` (as the
/// `__Host-` and `__Secure-` names require); all but the CSRF token are `HttpOnly` (the page's
/// script must read the CSRF token to echo it).
fn cookie(name: &str, value: &str, path: &str, max_age: i64, http_only: bool) -> String {
    let mut c = format!("{name}={value}; Path={path}; Max-Age={max_age}; Secure; SameSite=Strict");
    if http_only {
        c.push_str("; HttpOnly");
    }
    c
}

/// The cookies of a signed-in browser session.
pub fn session(
    access: &str,
    access_ttl: i64,
    refresh: &str,
    refresh_ttl: i64,
    csrf: &str,
) -> Vec<String> {
    vec![
        cookie(ACCESS_COOKIE, access, "/", access_ttl, true),
        cookie(REFRESH_COOKIE, refresh, REFRESH_PATH, refresh_ttl, true),
        cookie(CSRF_COOKIE, csrf, "/", refresh_ttl, false),
    ]
}

/// Cookies that end the session in the browser.
pub fn cleared() -> Vec<String> {
    vec![
        cookie(ACCESS_COOKIE, "", "/", 0, true),
        cookie(REFRESH_COOKIE, "", REFRESH_PATH, 0, true),
        cookie(CSRF_COOKIE, "", "/", 0, false),
    ]
}

/// Attach cookies to a reply.
pub fn set(reply: Reply, cookies: &[String]) -> Reply {
    reply.header("set-cookie", &cookies.join("\n"))
}

/// Write `response`, splitting the joined `set-cookie` value into one field per cookie.
pub async fn send(response: Response, out: ResponseOutparam) {
    let status = *response.status();
    let mut fields: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, value) in response.headers() {
        if name.eq_ignore_ascii_case("set-cookie") {
            for c in value.as_bytes().split(|b| *b == b'\n') {
                fields.push(("set-cookie".to_string(), c.to_vec()));
            }
        } else {
            fields.push((name.to_string(), value.as_bytes().to_vec()));
        }
    }
    let body = response.into_body();
    let headers = match Fields::from_list(&fields) {
        Ok(h) => h,
        Err(e) => {
            eprintln!(
                r#"{{"level":"error","component":"auth","msg":"invalid response headers: {e:?}"}}"#
            );
            Fields::new()
        }
    };
    let outgoing = OutgoingResponse::new(headers);
    let _ = outgoing.set_status_code(status);
    if let Err(e) = out.set_with_body(outgoing, body).await {
        eprintln!(
            r#"{{"level":"error","component":"auth","msg":"writing the response body failed: {e:?}"}}"#
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_cookies_are_secure_strict_and_httponly_except_csrf() {
        let cs = session("a.b.c", 900, "r.r.r", 2_592_000, "tok");
        assert_eq!(cs.len(), 3);
        for c in &cs {
            assert!(c.contains("; Secure"), "{c}");
            assert!(c.contains("; SameSite=Strict"), "{c}");
        }
        for c in &cs {
            assert!(!c.contains("Domain"), "{c}");
        }
        assert!(
            cs[0].starts_with("__Host-sg_access=a.b.c; Path=/;") && cs[0].ends_with("HttpOnly")
        );
        assert!(
            cs[1].starts_with("__Secure-sg_refresh=r.r.r; Path=/v1/auth;")
                && cs[1].ends_with("HttpOnly")
        );
        assert!(cs[2].starts_with("__Host-sg_csrf=tok; Path=/;") && !cs[2].contains("HttpOnly"));
    }

    #[test]
    fn cleared_cookies_expire_at_once() {
        assert!(cleared().iter().all(|c| c.contains("Max-Age=0")));
    }
}
