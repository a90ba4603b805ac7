//! A component's `allowed_outbound_hosts`, in Spin's syntax, and the check
//! every outbound capability (Postgres, Redis, HTTP) makes before it connects;
//! also how its refusals and connection strings read in messages ([`redact`]).
//!
//! Accepted entries (after `{{ variable }}` expansion):
//! `scheme://host[:port]`, where `scheme` may be `*`, `host` may be `*`,
//! `*.example.com` (subdomains only) or a network (`10.0.0.0/8`, `fd00::/8`: IP
//! addresses in it, never names), `port` may be `*`, a number or a range
//! `low..high` (high exclusive), and a missing port means the scheme's
//! well-known port (`postgres` 5432, `redis` 6379, `http` 80, `https` 443,
//! ...). `"*://*:*"` and `"insecure:allow-all"` allow everything.
//!
//! Under `--spin-compat`, [`AllowedHosts::check_spin_compat`] also rejects the entries the
//! released Spins reject (`crates/outbound-networking-config/src/allowed_hosts.rs`, the same
//! rules at v3.6.3 and v4.0.2), so a manifest that would not start there does not start here.

use std::fmt;
use std::net::IpAddr;

use anyhow::{Context, bail};

use crate::manifest::spin_compat::SpinCompat;

/// The parsed allow-list of one component. An empty list denies everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowedHosts {
    rules: Vec<Rule>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Rule {
    scheme: Scheme,
    host: Host,
    port: Port,
    /// The entry as written, for messages.
    source: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Scheme {
    Any,
    Is(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Host {
    Any,
    /// `*.example.com`: stored as `.example.com`.
    SubdomainOf(String),
    Is(String),
    /// `10.0.0.0/8`, `fd00::/8` (Spin's CIDR form): IP addresses in the network, never names.
    Network(IpAddr, u8),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Port {
    Any,
    Is(u16),
    /// `low..high`, high exclusive (Spin's range syntax).
    Range(u16, u16),
}

impl AllowedHosts {
    /// Parses a component's `allowed_outbound_hosts` entries.
    pub fn parse(entries: &[String]) -> anyhow::Result<Self> {
        let rules = entries
            .iter()
            .map(|entry| {
                Rule::parse(entry)
                    .with_context(|| format!("invalid allowed_outbound_hosts entry {entry:?}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self { rules })
    }

    /// Rejects what the released Spin `compat` rejects among entries this host accepts
    /// (`entries` as [`AllowedHosts::parse`] takes them, after `{{ variable }}` expansion).
    pub fn check_spin_compat(entries: &[String], compat: SpinCompat) -> anyhow::Result<()> {
        for entry in entries {
            // The same parser in every release modelled (3.6.3 and 4.0.2 differ only in layout).
            if let Some(reason) = released_spin_rejects(entry) {
                bail!("allowed_outbound_hosts entry {entry:?}: Spin {compat} {reason}");
            }
        }
        Ok(())
    }

    /// True when a connection to `scheme://host:port` is allowed. `host` may be
    /// a name, an IPv4 address or an IPv6 address with or without brackets.
    pub fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        let scheme = scheme.to_ascii_lowercase();
        let host = normalize_host(host);
        self.rules
            .iter()
            .any(|rule| rule.matches(&scheme, &host, port))
    }

    /// Why a connection to `scheme://host:port` is refused, for the component's error.
    pub fn refusal(&self, scheme: &str, host: &str, port: u16) -> String {
        format!(
            "{} is not allowed by allowed_outbound_hosts {self}",
            endpoint_url(scheme, host, port)
        )
    }
}

impl fmt::Display for AllowedHosts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries: Vec<&str> = self.rules.iter().map(|r| r.source.as_str()).collect();
        write!(f, "[{}]", entries.join(", "))
    }
}

impl Rule {
    fn parse(entry: &str) -> anyhow::Result<Self> {
        let source = entry.trim().to_string();
        if source.is_empty() {
            bail!("the entry is empty");
        }
        if source == "insecure:allow-all" {
            return Ok(Self {
                scheme: Scheme::Any,
                host: Host::Any,
                port: Port::Any,
                source,
            });
        }
        if source.contains("{{") {
            bail!("the entry still contains a `{{{{ variable }}}}` template");
        }
        let Some((scheme, rest)) = source.split_once("://") else {
            bail!(
                "an entry needs a scheme: write `postgres://{source}`, `https://{source}` or `*://{source}`"
            );
        };
        let scheme = parse_scheme(scheme)?;
        // A single trailing slash is tolerated (`https://example.com/`), a path is not.
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        let (host, port) = match split_network(authority)? {
            Some(network) => network,
            None => {
                if authority.contains('/') || authority.contains('?') || authority.contains('#') {
                    bail!("an entry names a scheme, host and port only, not a path or query");
                }
                if authority.contains('@') {
                    bail!("an entry may not carry user information (`user@`)");
                }
                let (host, port) = split_host_port(authority)?;
                (parse_host(host)?, port)
            }
        };
        let port = match port {
            Some(port) => parse_port(port)?,
            None => match &scheme {
                Scheme::Is(scheme) => match default_port(scheme) {
                    Some(port) => Port::Is(port),
                    None => bail!(
                        "scheme `{scheme}` has no well-known port: add one, e.g. `{scheme}://{authority}:1234` or `:*`"
                    ),
                },
                Scheme::Any => bail!(
                    "a wildcard scheme needs a port: write `*://{authority}:*` or a port number"
                ),
            },
        };
        Ok(Self {
            scheme,
            host,
            port,
            source,
        })
    }

    fn matches(&self, scheme: &str, host: &str, port: u16) -> bool {
        let scheme_ok = match &self.scheme {
            Scheme::Any => true,
            Scheme::Is(s) => s == scheme,
        };
        let host_ok = match &self.host {
            Host::Any => true,
            Host::Is(h) => h == host,
            Host::SubdomainOf(suffix) => {
                host.len() > suffix.len() && host.ends_with(suffix.as_str())
            }
            Host::Network(network, len) => host
                .parse::<IpAddr>()
                .is_ok_and(|ip| network_of(ip, *len) == Some(*network)),
        };
        let port_ok = match self.port {
            Port::Any => true,
            Port::Is(p) => p == port,
            Port::Range(low, high) => (low..high).contains(&port),
        };
        scheme_ok && host_ok && port_ok
    }
}

/// The schemes Spin 3.6.3 and 4.0.2 know a default port for (compared case-sensitively there).
const RELEASED_SPIN_DEFAULT_PORTS: &[&str] =
    &["postgres", "mysql", "redis", "mqtt", "http", "https"];

/// Why Spin 3.6.3 and 4.0.2 reject `entry` (or, for an upper-case scheme, never matches it), if it does.
/// Spin splits `scheme://host:port` at the first `://` and the *last* `:`, which is why
/// `postgres://[::1]` fails there: the port it sees is `1]`.
fn released_spin_rejects(entry: &str) -> Option<String> {
    let entry = entry.trim();
    if entry == "insecure:allow-all" {
        return Some(
            "rejects `insecure:allow-all`: write `*://*:*` to allow all outbound traffic".into(),
        );
    }
    let (scheme, rest) = entry.split_once("://")?;
    if scheme != "*" && !scheme.chars().all(char::is_alphabetic) {
        return Some(format!(
            "accepts only letters in a scheme (or `*`), not `{scheme}`"
        ));
    }
    if scheme != "*" && scheme.chars().any(char::is_uppercase) {
        return Some(format!(
            "compares schemes case-sensitively, so `{scheme}` never matches: write `{}`",
            scheme.to_ascii_lowercase()
        ));
    }
    let (host, after) = rest.rsplit_once(':').unwrap_or((rest, ""));
    let port = match after.split_once('/') {
        Some((_, path)) if !path.is_empty() => {
            return Some(format!(
                "reads `/{path}` after `{host}:` as a path: write an IPv6 network with its port, \
                 e.g. `{entry}:1234`"
            ));
        }
        Some((port, _)) => port,
        None => after,
    };
    if port.is_empty() {
        if !RELEASED_SPIN_DEFAULT_PORTS.contains(&scheme) {
            return Some(format!(
                "knows no default port for `{scheme}` (only for {}): add one, e.g. `{entry}:1234`",
                RELEASED_SPIN_DEFAULT_PORTS.join(", ")
            ));
        }
        return None;
    }
    let number = |p: &str| p.parse::<u16>().is_ok();
    let port_ok = port == "*"
        || number(port)
        || port
            .split_once("..")
            .is_some_and(|(low, high)| number(low) && number(high));
    if port_ok {
        return None;
    }
    if host.starts_with('[') && !rest.contains("]:") {
        return Some(format!(
            "needs an explicit port after a bracketed IPv6 address: write `{entry}:PORT`"
        ));
    }
    Some(format!("cannot parse the port `{port}`"))
}

/// The well-known port Spin assumes when an entry (or an address) omits it.
pub fn default_port(scheme: &str) -> Option<u16> {
    Some(match scheme {
        "http" | "ws" => 80,
        "https" | "wss" => 443,
        "postgres" | "postgresql" => 5432,
        "redis" | "rediss" => 6379,
        "mysql" => 3306,
        "mqtt" => 1883,
        "mqtts" => 8883,
        _ => return None,
    })
}

fn parse_scheme(scheme: &str) -> anyhow::Result<Scheme> {
    if scheme == "*" {
        return Ok(Scheme::Any);
    }
    let valid = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !valid {
        bail!("`{scheme}` is not a scheme (letters, digits, `+`, `-`, `.`, or `*`)");
    }
    Ok(Scheme::Is(scheme.to_ascii_lowercase()))
}

/// `ip/len[:port]`, Spin's CIDR form, as a network and its port text; `None` when `authority`
/// is not one. An IPv6 network is written unbracketed, as Spin reads it (`fd00::/8:5432`).
fn split_network(authority: &str) -> anyhow::Result<Option<(Host, Option<&str>)>> {
    let (network, port) = match authority.rsplit_once(':') {
        Some((network, port)) if !port.contains('/') && network.contains('/') => {
            (network, Some(port))
        }
        _ => (authority, None),
    };
    let Some((ip, len)) = network.split_once('/') else {
        return Ok(None);
    };
    let Ok(ip) = ip.parse::<IpAddr>() else {
        return Ok(None);
    };
    if len.contains('/') {
        return Ok(None);
    }
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len = len
        .parse::<u8>()
        .ok()
        .filter(|l| *l <= max)
        .with_context(|| format!("`{len}` is not a network prefix length (0-{max})"))?;
    // Host bits are dropped, as Spin does (`10.1.2.3/8` is `10.0.0.0/8`).
    let network = network_of(ip, len).expect("the length fits the address family");
    Ok(Some((Host::Network(network, len), port)))
}

/// `ip` with all but its first `len` bits cleared; `None` when `len` is too long for it.
fn network_of(ip: IpAddr, len: u8) -> Option<IpAddr> {
    match ip {
        IpAddr::V4(v4) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            (len <= 32).then(|| IpAddr::from((u32::from(v4) & mask).to_be_bytes()))
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            (len <= 128).then(|| IpAddr::from((u128::from(v6) & mask).to_be_bytes()))
        }
    }
}

/// Splits `host[:port]`, keeping `[ipv6]` literals whole.
fn split_host_port(authority: &str) -> anyhow::Result<(&str, Option<&str>)> {
    if let Some(rest) = authority.strip_prefix('[') {
        let Some((ipv6, after)) = rest.split_once(']') else {
            bail!("unclosed `[` in an IPv6 address");
        };
        return match after {
            "" => Ok((ipv6, None)),
            _ => match after.strip_prefix(':') {
                Some(port) => Ok((ipv6, Some(port))),
                None => bail!("unexpected `{after}` after an IPv6 address"),
            },
        };
    }
    match authority.rsplit_once(':') {
        Some((host, _)) if host.contains(':') => {
            bail!("an IPv6 address must be written in brackets, e.g. `[::1]:5432`")
        }
        Some((host, port)) => Ok((host, Some(port))),
        None => Ok((authority, None)),
    }
}

fn parse_host(host: &str) -> anyhow::Result<Host> {
    if host.is_empty() {
        bail!("the host is missing");
    }
    if host == "*" {
        return Ok(Host::Any);
    }
    if let Some(domain) = host.strip_prefix("*.") {
        if domain.is_empty() || domain.contains('*') {
            bail!("`{host}`: a wildcard host is `*` or `*.domain`");
        }
        return Ok(Host::SubdomainOf(format!(
            ".{}",
            domain.to_ascii_lowercase()
        )));
    }
    if host.contains('*') {
        bail!("`{host}`: a wildcard host is `*` or `*.domain`");
    }
    // WHATWG's forbidden domain code points (what Spin's URL parser refuses in a host), and `,`.
    if host
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || "<>\\^|%,".contains(c))
    {
        bail!("`{host}` is not a host name");
    }
    Ok(Host::Is(normalize_host(host)))
}

fn parse_port(port: &str) -> anyhow::Result<Port> {
    if port == "*" {
        return Ok(Port::Any);
    }
    let number = |p: &str| -> anyhow::Result<u16> {
        p.parse::<u16>()
            .with_context(|| format!("`{p}` is not a port (0-65535, `*` or `low..high`)"))
    };
    if let Some((low, high)) = port.split_once("..") {
        let (low, high) = (number(low)?, number(high)?);
        if low >= high {
            bail!("the port range `{port}` is empty");
        }
        return Ok(Port::Range(low, high));
    }
    Ok(Port::Is(number(port)?))
}

fn normalize_host(host: &str) -> String {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

/// `scheme://host:port` as a URL writes it: an IPv6 address in brackets.
pub fn endpoint_url(scheme: &str, host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("{scheme}://[{host}]:{port}")
    } else {
        format!("{scheme}://{host}:{port}")
    }
}

/// A URL-form connection string cut at its authority: `scheme://[userinfo@]host_port`, then
/// `tail` (path and query); the userinfo is what precedes the authority's last `@`.
pub struct UrlParts<'a> {
    pub scheme: &'a str,
    pub userinfo: Option<&'a str>,
    pub host_port: &'a str,
    pub tail: &'a str,
}

impl<'a> UrlParts<'a> {
    /// `None` for a string without `://` (Postgres' key=value form).
    pub fn of(address: &'a str) -> Option<UrlParts<'a>> {
        let (scheme, rest) = address.split_once("://")?;
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let (userinfo, host_port) = match authority.rsplit_once('@') {
            Some((userinfo, host_port)) => (Some(userinfo), host_port),
            None => (None, authority),
        };
        Some(UrlParts {
            scheme,
            userinfo,
            host_port,
            tail,
        })
    }
}

/// A connection string (URL or Postgres key=value form) fit for messages and logs: the password
/// of its userinfo and any `password=` parameter become `***`. The user name stays: it is no
/// secret, and both the Postgres and the Redis client read a userinfo without `:` as a user.
pub fn redact(address: &str) -> String {
    if let Some(url) = UrlParts::of(address) {
        let userinfo = match url.userinfo {
            Some(userinfo) => match userinfo.split_once(':') {
                Some((user, _)) => format!("{user}:***@"),
                None => format!("{userinfo}@"),
            },
            None => String::new(),
        };
        let tail = url
            .tail
            .split('&')
            .map(|part| match part.split_once("password=") {
                Some((prefix, _)) => format!("{prefix}password=***"),
                None => part.to_string(),
            })
            .collect::<Vec<_>>()
            .join("&");
        return format!("{}://{userinfo}{}{tail}", url.scheme, url.host_port);
    }
    address
        .split_whitespace()
        .map(|kv| {
            if kv.starts_with("password=") {
                "password=***".to_string()
            } else {
                kv.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_strings_are_redacted_for_messages() {
        for (given, shown) in [
            (
                "postgres://app:s3cret@db:5432/app?sslmode=disable",
                "postgres://app:***@db:5432/app?sslmode=disable",
            ),
            (
                "postgres://db/app?user=app&password=s3cret",
                "postgres://db/app?user=app&password=***",
            ),
            (
                "host=db user=app password=s3cret",
                "host=db user=app password=***",
            ),
            ("redis://:pw@cache:6379", "redis://:***@cache:6379"),
            ("redis://user:p@ss@cache", "redis://user:***@cache"),
            ("redis://cache:6379/0", "redis://cache:6379/0"),
            (
                "redis://spingraph_data@cache",
                "redis://spingraph_data@cache",
            ),
        ] {
            assert_eq!(redact(given), shown, "{given}");
        }
    }

    #[test]
    fn refusals_name_the_endpoint_with_ipv6_in_brackets() {
        let hosts = hosts(&["postgres://db:5432"]);
        assert_eq!(
            hosts.refusal("postgres", "::1", 5432),
            format!("postgres://[::1]:5432 is not allowed by allowed_outbound_hosts {hosts}")
        );
        assert_eq!(endpoint_url("redis", "cache", 6379), "redis://cache:6379");
    }

    fn hosts(entries: &[&str]) -> AllowedHosts {
        AllowedHosts::parse(&entries.iter().map(|e| e.to_string()).collect::<Vec<_>>())
            .expect("valid entries")
    }

    fn parse_error(entry: &str) -> String {
        format!(
            "{:#}",
            AllowedHosts::parse(&[entry.to_string()]).expect_err("entry should be rejected")
        )
    }

    /// Asserts that `entries` allow each endpoint of `allowed` and deny each of `denied`: both
    /// are `scheme://host:port` separated by spaces, the host passed as written (`::1` and
    /// `[::1]` are two checks). `case` names the check in a failure message.
    fn assert_allows(case: &str, entries: &[&str], allowed: &str, denied: &str) {
        let hosts = hosts(entries);
        let checks = allowed.split_whitespace().map(|e| (e, true));
        for (endpoint, expected) in checks.chain(denied.split_whitespace().map(|e| (e, false))) {
            let (scheme, rest) = endpoint.split_once("://").expect("scheme://host:port");
            let (host, port) = rest.rsplit_once(':').expect("scheme://host:port");
            assert_eq!(
                hosts.allows(scheme, host, port.parse().expect("a port")),
                expected,
                "{case}: does {entries:?} allow {endpoint}?"
            );
        }
    }

    #[test]
    fn entries_allow_exactly_the_endpoints_they_name() {
        // (case, entries, endpoints allowed, endpoints denied)
        let cases: &[(&str, &[&str], &str, &str)] = &[
            (
                "empty_list_denies_everything",
                &[],
                "",
                "postgres://localhost:5432",
            ),
            (
                "exact_entry_allows_only_its_scheme_host_and_port",
                &["postgres://localhost:5432"],
                "postgres://localhost:5432 POSTGRES://LocalHost:5432",
                "postgres://localhost:5433 redis://localhost:5432 postgres://127.0.0.1:5432",
            ),
            (
                "missing_port_means_the_schemes_default_port",
                &[
                    "postgres://db",
                    "redis://cache",
                    "http://web",
                    "https://secure",
                ],
                "postgres://db:5432 redis://cache:6379 http://web:80 https://secure:443",
                "postgres://db:6543 http://web:8080",
            ),
            (
                "wildcard_port_allows_any_port",
                &["redis://127.0.0.1:*"],
                "redis://127.0.0.1:6379 redis://127.0.0.1:1",
                "redis://127.0.0.2:6379",
            ),
            (
                "wildcard_scheme_allows_any_scheme",
                &["*://localhost:5432"],
                "postgres://localhost:5432 https://localhost:5432",
                "https://localhost:443",
            ),
            (
                "subdomain_wildcard_matches_subdomains_but_not_the_domain_itself",
                &["https://*.example.com"],
                "https://api.example.com:443 https://a.b.example.com:443",
                "https://example.com:443 https://badexample.com:443 http://api.example.com:80",
            ),
            (
                "port_range_is_half_open",
                &["http://localhost:8000..8010"],
                "http://localhost:8000 http://localhost:8009",
                "http://localhost:8010",
            ),
            (
                "ipv6_hosts_match_with_or_without_brackets",
                &["postgres://[::1]:5432"],
                "postgres://::1:5432 postgres://[::1]:5432",
                "postgres://::2:5432",
            ),
            (
                "trailing_slash_is_tolerated",
                &["https://example.com/"],
                "https://example.com:443",
                "",
            ),
            (
                "any_matching_entry_allows",
                &["postgres://db:5432", "redis://cache:6379"],
                "postgres://db:5432 redis://cache:6379",
                "redis://db:6379",
            ),
        ];
        for (case, entries, allowed, denied) in cases {
            assert_allows(case, entries, allowed, denied);
        }
    }

    #[test]
    fn allow_all_forms_allow_everything() {
        for entry in ["*://*:*", "insecure:allow-all"] {
            assert_allows(
                entry,
                &[entry],
                "postgres://db.internal:5432 https://example.com:8443",
                "",
            );
        }
    }

    #[test]
    fn entry_without_scheme_is_rejected_with_a_hint() {
        let err = parse_error("localhost:5432");
        assert!(err.contains("\"localhost:5432\""), "{err}");
        assert!(err.contains("needs a scheme"), "{err}");
    }

    #[test]
    fn malformed_entries_are_rejected() {
        for (entry, expect) in [
            ("", "empty"),
            ("postgres://", "host is missing"),
            ("postgres://db:port", "not a port"),
            ("postgres://db:70000", "not a port"),
            ("https://example.com/api", "not a path"),
            ("https://ex*ample.com", "wildcard host"),
            ("*://example.com", "wildcard scheme needs a port"),
            ("tcp://example.com", "no well-known port"),
            ("http://localhost:9..9", "empty"),
            ("http://user@example.com", "user information"),
            ("http://::1:80", "brackets"),
            ("1http://x:1", "not a scheme"),
            ("http://{{ host }}", "template"),
        ] {
            let err = parse_error(entry);
            assert!(err.contains(expect), "{entry:?}: {err}");
        }
    }

    fn compat_error(entry: &str) -> String {
        hosts(&[entry]);
        format!(
            "{:#}",
            AllowedHosts::check_spin_compat(&[entry.to_string()], SpinCompat::all())
                .expect_err("the released Spins reject this entry")
        )
    }

    #[test]
    fn spin_compat_rejects_what_the_released_spins_reject() {
        for (entry, expect) in [
            ("insecure:allow-all", "rejects `insecure:allow-all`"),
            (" insecure:allow-all ", "rejects `insecure:allow-all`"),
            ("rediss://cache", "no default port for `rediss`"),
            ("postgresql://db", "no default port for `postgresql`"),
            ("wss://example.com", "no default port for `wss`"),
            ("ws://example.com", "no default port for `ws`"),
            ("mqtts://broker", "no default port for `mqtts`"),
            ("my-db://example.com:*", "accepts only letters"),
            ("redis+tls://cache:6380", "accepts only letters"),
            ("h2c://example.com:80", "accepts only letters"),
            ("postgres://[::1]", "explicit port after a bracketed IPv6"),
            ("HTTPS://example.com:443", "case-sensitively"),
        ] {
            let err = compat_error(entry);
            assert!(
                err.contains("Spin 3.6.3,4.0.2") && err.contains(entry),
                "{entry:?}: {err}"
            );
            assert!(err.contains(expect), "{entry:?}: {err}");
        }
    }

    #[test]
    fn spin_compat_accepts_what_the_released_spins_accept() {
        let ok: Vec<String> = [
            "*://*:*",
            "postgres://db",
            "mysql://db",
            "redis://cache",
            "mqtt://broker",
            "http://web",
            "https://example.com/",
            "https://*.example.com",
            "postgres://[::1]:5432",
            "rediss://cache:6380",
            "tcp://example.com:9000..9010",
            "http://localhost:*",
            "postgres://127.0.0.1:5432",
        ]
        .iter()
        .map(|e| e.to_string())
        .collect();
        hosts(&ok.iter().map(String::as_str).collect::<Vec<_>>());
        AllowedHosts::check_spin_compat(&ok, SpinCompat::all()).unwrap();
    }

    #[test]
    fn without_spin_compat_the_legacy_and_extra_forms_stay_accepted() {
        assert_allows(
            "the legacy allow-all",
            &["insecure:allow-all"],
            "https://example.com:443",
            "",
        );
        assert_allows(
            "the extra forms",
            &["rediss://cache", "postgres://[::1]"],
            "rediss://cache:6379 postgres://::1:5432",
            "",
        );
    }

    #[test]
    fn host_with_a_forbidden_code_point_is_rejected() {
        for entry in ["http://a<b", "http://a|b:80", "http://a%20b", "http://a\\b"] {
            assert!(parse_error(entry).contains("not a host name"), "{entry}");
        }
    }

    #[test]
    fn network_entries_allow_the_addresses_in_them_as_spin_does() {
        assert_allows(
            "networks",
            &[
                "postgres://10.1.2.3/8",
                "*://127.0.0.1/24:63551",
                "redis://fd00::/8:6379",
            ],
            "postgres://10.200.0.1:5432 https://127.0.0.9:63551 \
             redis://fd12::1:6379 redis://[fd12::1]:6379",
            "postgres://11.0.0.1:5432 postgres://10.200.0.1:5433 \
             postgres://ten.example.com:5432 https://127.0.1.9:63551 redis://fe80::1:6379",
        );
        assert_allows(
            "any IPv4 address",
            &["http://0.0.0.0/0:80"],
            "http://192.0.2.1:80",
            "http://::1:80",
        );
        assert!(parse_error("http://10.0.0.0/33:80").contains("prefix length"));
        assert!(parse_error("http://10.0.0.0/8/api").contains("not a path"));
        AllowedHosts::check_spin_compat(
            &[
                "postgres://10.0.0.0/8".into(),
                "redis://fd00::/8:6379".into(),
            ],
            SpinCompat::all(),
        )
        .unwrap();
        assert!(compat_error("postgres://fd00::/8").contains("as a path"));
    }

    #[test]
    fn display_lists_the_entries_as_written() {
        let allowed = hosts(&["postgres://db", "redis://cache:*"]);
        assert_eq!(allowed.to_string(), "[postgres://db, redis://cache:*]");
    }
}
