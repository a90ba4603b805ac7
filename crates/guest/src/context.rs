//! The request context every handler gets: request id, method, path, client address, variables,
//! and logging that carries the request id.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use serde_json::Value;
use spin_sdk::http::Request;

use crate::client_addr::{self, TRUSTED_PROXIES_VAR, TrustedProxies};
use crate::log::{self, Level};
use crate::variables::Config;

/// Per-request facts, built once by [`crate::serve`].
pub struct Ctx {
    /// The component's name, as in spin.toml (for logs).
    pub component: &'static str,
    /// The caller's valid `X-Request-Id`, or a fresh UUIDv7.
    pub request_id: String,
    /// Upper-case method: `GET`, `POST`, ...
    pub method: String,
    /// The full request path, without the query (the problem `instance`).
    pub path: String,
    /// The raw query string, without `?`.
    pub query: String,
    /// `spin-path-info`: the path below the component's wildcard route (`/live`).
    pub path_info: String,
    /// `spin-client-addr` (`ip:port`), when the host sends it.
    pub client_addr: Option<String>,
    /// `Forwarded` and `X-Forwarded-For`, read only when the peer is a trusted proxy.
    forwarded: Option<String>,
    x_forwarded_for: Option<String>,
    /// The component's variables, read lazily and cached for this request.
    pub config: Config,
    started: Instant,
}

/// What an incoming `X-Request-Id` must look like to be kept (the rule the host shares).
pub use spingraph_identity::request_id::is_valid as is_valid_request_id;

/// The first value of a request header as UTF-8, if any.
pub fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.header(name).and_then(|v| v.as_str())
}

impl Ctx {
    /// Build the context of a request served by the Spin host.
    pub fn from_request(component: &'static str, req: &Request) -> Ctx {
        Ctx::build(component, req, Config::spin())
    }

    /// Build a context with the given configuration (unit tests).
    pub fn build(component: &'static str, req: &Request, config: Config) -> Ctx {
        let request_id = header(req, spingraph_identity::request_id::HEADER)
            .filter(|id| is_valid_request_id(id))
            .map(str::to_string)
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        let path = req.path().to_string();
        let path_info = header(req, "spin-path-info")
            .map(str::to_string)
            .unwrap_or_default();
        Ctx {
            component,
            request_id,
            method: req.method().to_string().to_ascii_uppercase(),
            path,
            query: req.query().to_string(),
            path_info,
            client_addr: header(req, "spin-client-addr").map(str::to_string),
            forwarded: header(req, "forwarded").map(str::to_string),
            x_forwarded_for: header(req, "x-forwarded-for").map(str::to_string),
            config,
            started: Instant::now(),
        }
    }

    /// The client IP without the port (logs, rate limiting): the peer's, or behind a trusted
    /// proxy the one its forwarding headers name ([`client_addr::client_ip`]).
    pub fn client_ip(&self) -> Option<String> {
        match self.client_ip_addr() {
            Some(ip) => Some(ip.to_string()),
            None => self.client_addr.clone(),
        }
    }

    /// What per-address rate limits count under: the client IP, an IPv6 client by its /64.
    pub fn client_bucket(&self) -> Option<String> {
        match self.client_ip_addr() {
            Some(ip) => Some(client_addr::bucket(ip)),
            None => self.client_addr.clone(),
        }
    }

    fn client_ip_addr(&self) -> Option<IpAddr> {
        let addr = self.client_addr.as_deref()?;
        let peer = addr
            .parse::<SocketAddr>()
            .map(|sa| sa.ip())
            .or_else(|_| addr.parse::<IpAddr>())
            .ok()?;
        let trusted = self.trusted_proxies();
        let forwarded: Vec<&str> = self.forwarded.as_deref().into_iter().collect();
        let x_forwarded_for: Vec<&str> = self.x_forwarded_for.as_deref().into_iter().collect();
        Some(client_addr::client_ip(
            peer,
            &forwarded,
            &x_forwarded_for,
            &trusted,
        ))
    }

    /// `trusted_proxies`; unset, unreadable or invalid (logged) trusts no proxy.
    fn trusted_proxies(&self) -> TrustedProxies {
        let parsed = match self.config.get(TRUSTED_PROXIES_VAR) {
            Ok(None) => return TrustedProxies::default(),
            Ok(Some(list)) => TrustedProxies::parse(&list),
            Err(err) => Err(err.to_string()),
        };
        parsed.unwrap_or_else(|reason| {
            self.warn(
                "trusted_proxies ignored: no proxy is trusted",
                serde_json::json!({ "reason": reason }),
            );
            TrustedProxies::default()
        })
    }

    /// Every `(name, value)` of the query string, percent-decoded, `+` as space.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        form_pairs(&self.query)
    }

    /// The first value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// Whether internals may be shown to clients (`debug` variable).
    pub fn debug(&self) -> bool {
        self.config.flag("debug")
    }

    /// Milliseconds since the request started.
    pub fn elapsed_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    pub fn log(&self, level: Level, msg: &str, fields: Value) {
        log::emit(level, self.component, &self.request_id, msg, fields);
    }
    pub fn info(&self, msg: &str, fields: Value) {
        self.log(Level::Info, msg, fields);
    }
    pub fn warn(&self, msg: &str, fields: Value) {
        self.log(Level::Warn, msg, fields);
    }
    pub fn error(&self, msg: &str, fields: Value) {
        self.log(Level::Error, msg, fields);
    }
}

/// `application/x-www-form-urlencoded` pairs (a query string or a form body), decoded, in order;
/// a key without `=` has an empty value.
pub fn form_pairs(encoded: &str) -> Vec<(String, String)> {
    encoded
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

/// Decode `%XX` escapes (and `+` as space when `plus_is_space`); invalid escapes stay as written.
pub fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use spin_sdk::http::Method;

    fn request(headers: &[(&str, &str)], uri: &str) -> Request {
        let mut b = Request::builder();
        b.method(Method::Get).uri(uri);
        for (k, v) in headers {
            b.header(*k, *v);
        }
        b.build()
    }

    #[test]
    fn valid_request_id_is_kept() {
        let req = request(&[("x-request-id", "abc.DEF_123-x")], "/v1/health/live");
        let ctx = Ctx::build("t", &req, Config::fixed(&[]));
        assert_eq!(ctx.request_id, "abc.DEF_123-x");
    }

    #[test]
    fn invalid_request_id_is_replaced_by_uuid_v7() {
        for bad in ["", "has space", "semi;colon", &"a".repeat(129), "ünï"] {
            let req = request(&[("x-request-id", bad)], "/");
            let ctx = Ctx::build("t", &req, Config::fixed(&[]));
            assert_ne!(ctx.request_id, bad);
            let id = uuid::Uuid::parse_str(&ctx.request_id).unwrap();
            assert_eq!(id.get_version_num(), 7);
        }
        assert!(is_valid_request_id(&"a".repeat(128)));
    }

    #[test]
    fn path_info_and_query_are_read_and_the_query_decoded() {
        let req = request(
            &[
                ("spin-path-info", "/users/a%20b/unlock"),
                ("spin-client-addr", "127.0.0.1:5555"),
            ],
            "http://localhost/v1/auth/users/a%20b/unlock?x=1&q=a+b%21&flag",
        );
        let ctx = Ctx::build("t", &req, Config::fixed(&[]));
        assert_eq!(ctx.path_info, "/users/a%20b/unlock");
        assert_eq!(ctx.path, "/v1/auth/users/a%20b/unlock");
        assert_eq!(ctx.query_param("q").as_deref(), Some("a b!"));
        assert_eq!(ctx.query_param("flag").as_deref(), Some(""));
        assert_eq!(ctx.query_param("none"), None);
        assert_eq!(ctx.client_ip().as_deref(), Some("127.0.0.1"));
        assert_eq!(ctx.method, "GET");
    }

    #[test]
    fn a_link_local_peer_with_a_zone_is_its_address() {
        let req = request(&[("spin-client-addr", "[fe80::1%2]:80")], "/");
        let ctx = Ctx::build("t", &req, Config::fixed(&[]));
        assert_eq!(ctx.client_ip().as_deref(), Some("fe80::1"));
        assert_eq!(ctx.client_bucket().as_deref(), Some("fe80::/64"));
    }

    #[test]
    fn client_address_comes_from_forwarding_headers_only_behind_a_trusted_proxy() {
        let req = request(
            &[
                ("spin-client-addr", "127.0.0.1:5555"),
                ("x-forwarded-for", "6.6.6.6, 2001:db8:1:2::7"),
            ],
            "/",
        );
        let ctx = Ctx::build("t", &req, Config::fixed(&[]));
        assert_eq!(ctx.client_ip().as_deref(), Some("127.0.0.1"));
        let trusted = Config::fixed(&[("trusted_proxies", "127.0.0.1/32")]);
        let ctx = Ctx::build("t", &req, trusted);
        assert_eq!(ctx.client_ip().as_deref(), Some("2001:db8:1:2::7"));
        assert_eq!(ctx.client_bucket().as_deref(), Some("2001:db8:1:2::/64"));
        // RFC 7239 Forwarded; an invalid list trusts nobody.
        let req = request(
            &[
                ("spin-client-addr", "127.0.0.1:5555"),
                ("forwarded", "for=198.51.100.1"),
            ],
            "/",
        );
        let trusted = Config::fixed(&[("trusted_proxies", "127.0.0.0/8")]);
        let ctx = Ctx::build("t", &req, trusted);
        assert_eq!(ctx.client_bucket().as_deref(), Some("198.51.100.1"));
        let invalid = Config::fixed(&[("trusted_proxies", "127.0.0.0/8,localhost")]);
        let ctx = Ctx::build("t", &req, invalid);
        assert_eq!(ctx.client_ip().as_deref(), Some("127.0.0.1"));
    }

    #[test]
    fn percent_decode_keeps_invalid_escapes() {
        assert_eq!(percent_decode("100%", false), "100%");
        assert_eq!(percent_decode("%zz%41", false), "%zzA");
        assert_eq!(percent_decode("a+b", false), "a+b");
    }
}
