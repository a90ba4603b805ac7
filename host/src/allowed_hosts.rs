//! A component's `allowed_outbound_hosts`, in Spin's syntax, and the check
//! every outbound capability (Postgres, Redis, HTTP) makes before it connects.
//!
//! Accepted entries (after `{{ variable }}` expansion):
//! `scheme://host[:port]`, where `scheme` may be `*`, `host` may be `*` or
//! `*.example.com` (subdomains only), `port` may be `*`, a number or a range
//! `low..high` (high exclusive), and a missing port means the scheme's
//! well-known port (`postgres` 5432, `redis` 6379, `http` 80, `https` 443,
//! ...). `"*://*:*"` and `"insecure:allow-all"` allow everything.

use std::fmt;

use anyhow::{Context, bail};

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

    /// True when a connection to `scheme://host:port` is allowed. `host` may be
    /// a name, an IPv4 address or an IPv6 address with or without brackets.
    pub fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        let scheme = scheme.to_ascii_lowercase();
        let host = normalize_host(host);
        self.rules
            .iter()
            .any(|rule| rule.matches(&scheme, &host, port))
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
        if authority.contains('/') || authority.contains('?') || authority.contains('#') {
            bail!("an entry names a scheme, host and port only, not a path or query");
        }
        if authority.contains('@') {
            bail!("an entry may not carry user information (`user@`)");
        }
        let (host, port) = split_host_port(authority)?;
        let host = parse_host(host)?;
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
        };
        let port_ok = match self.port {
            Port::Any => true,
            Port::Is(p) => p == port,
            Port::Range(low, high) => (low..high).contains(&port),
        };
        scheme_ok && host_ok && port_ok
    }
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
    if host.chars().any(|c| c.is_whitespace() || c == ',') {
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn empty_list_denies_everything() {
        let allowed = hosts(&[]);
        assert!(!allowed.allows("postgres", "localhost", 5432));
    }

    #[test]
    fn exact_entry_allows_only_its_scheme_host_and_port() {
        let allowed = hosts(&["postgres://localhost:5432"]);
        assert!(allowed.allows("postgres", "localhost", 5432));
        assert!(allowed.allows("POSTGRES", "LocalHost", 5432));
        assert!(!allowed.allows("postgres", "localhost", 5433));
        assert!(!allowed.allows("redis", "localhost", 5432));
        assert!(!allowed.allows("postgres", "127.0.0.1", 5432));
    }

    #[test]
    fn missing_port_means_the_schemes_default_port() {
        let allowed = hosts(&[
            "postgres://db",
            "redis://cache",
            "http://web",
            "https://secure",
        ]);
        assert!(allowed.allows("postgres", "db", 5432));
        assert!(!allowed.allows("postgres", "db", 6543));
        assert!(allowed.allows("redis", "cache", 6379));
        assert!(allowed.allows("http", "web", 80));
        assert!(!allowed.allows("http", "web", 8080));
        assert!(allowed.allows("https", "secure", 443));
    }

    #[test]
    fn wildcard_port_allows_any_port() {
        let allowed = hosts(&["redis://127.0.0.1:*"]);
        assert!(allowed.allows("redis", "127.0.0.1", 6379));
        assert!(allowed.allows("redis", "127.0.0.1", 1));
        assert!(!allowed.allows("redis", "127.0.0.2", 6379));
    }

    #[test]
    fn wildcard_scheme_allows_any_scheme() {
        let allowed = hosts(&["*://localhost:5432"]);
        assert!(allowed.allows("postgres", "localhost", 5432));
        assert!(allowed.allows("https", "localhost", 5432));
        assert!(!allowed.allows("https", "localhost", 443));
    }

    #[test]
    fn subdomain_wildcard_matches_subdomains_but_not_the_domain_itself() {
        let allowed = hosts(&["https://*.example.com"]);
        assert!(allowed.allows("https", "api.example.com", 443));
        assert!(allowed.allows("https", "a.b.example.com", 443));
        assert!(!allowed.allows("https", "example.com", 443));
        assert!(!allowed.allows("https", "badexample.com", 443));
        assert!(!allowed.allows("http", "api.example.com", 80));
    }

    #[test]
    fn allow_all_forms_allow_everything() {
        for entry in ["*://*:*", "insecure:allow-all"] {
            let allowed = hosts(&[entry]);
            assert!(allowed.allows("postgres", "db.internal", 5432), "{entry}");
            assert!(allowed.allows("https", "example.com", 8443), "{entry}");
        }
    }

    #[test]
    fn port_range_is_half_open() {
        let allowed = hosts(&["http://localhost:8000..8010"]);
        assert!(allowed.allows("http", "localhost", 8000));
        assert!(allowed.allows("http", "localhost", 8009));
        assert!(!allowed.allows("http", "localhost", 8010));
    }

    #[test]
    fn ipv6_hosts_match_with_or_without_brackets() {
        let allowed = hosts(&["postgres://[::1]:5432"]);
        assert!(allowed.allows("postgres", "::1", 5432));
        assert!(allowed.allows("postgres", "[::1]", 5432));
        assert!(!allowed.allows("postgres", "::2", 5432));
    }

    #[test]
    fn trailing_slash_is_tolerated() {
        let allowed = hosts(&["https://example.com/"]);
        assert!(allowed.allows("https", "example.com", 443));
    }

    #[test]
    fn any_matching_entry_allows() {
        let allowed = hosts(&["postgres://db:5432", "redis://cache:6379"]);
        assert!(allowed.allows("postgres", "db", 5432));
        assert!(allowed.allows("redis", "cache", 6379));
        assert!(!allowed.allows("redis", "db", 6379));
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

    #[test]
    fn display_lists_the_entries_as_written() {
        let allowed = hosts(&["postgres://db", "redis://cache:*"]);
        assert_eq!(allowed.to_string(), "[postgres://db, redis://cache:*]");
    }
}
