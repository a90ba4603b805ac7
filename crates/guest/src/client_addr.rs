//! Which client a request comes from: the peer (`spin-client-addr`), or — only when the peer is
//! one of the `trusted_proxies` — the rightmost untrusted hop of `Forwarded` (RFC 7239) or
//! `X-Forwarded-For`. Behind an ingress every peer is the ingress, so without this every client
//! would share one rate-limit bucket; with it, a client can still not pick its own address,
//! because only hops added by trusted proxies are skipped.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use ipnet::{IpNet, Ipv6Net};

/// The Spin variable: a comma-separated list of CIDRs (`10.0.0.0/8, fd00::/8`; a bare address
/// is a single host). Empty (the default): no proxy is trusted, the peer is the client.
pub const TRUSTED_PROXIES_VAR: &str = "trusted_proxies";

/// The networks whose forwarding headers are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses the variable's value; an entry that is neither a CIDR nor an address is an error
    /// naming it.
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|entry| {
                IpNet::from_str(entry)
                    .map(|net| net.trunc())
                    .or_else(|_| IpAddr::from_str(entry).map(IpNet::from))
                    .map_err(|_| format!("`{entry}` is not a CIDR (e.g. 10.0.0.0/8) or an address"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The client's address. `peer` is the connection's; `forwarded` and `x_forwarded_for` are
/// every value of those headers, in order. Only a trusted peer's headers are read: walking
/// their hops from the right, trusted hops are skipped and the first untrusted one is the
/// client (the leftmost when all are trusted). A header that does not parse — or a hop that is
/// not an address (`unknown`, `_hidden`) where the walk stops — leaves the peer as the client:
/// a proxy that cannot say who its client is does not get to name one. When both headers are
/// present they must name the same client, else the peer is the client: a proxy writes one of
/// them and passes the other through from the client, and which one is unknown here.
pub fn client_ip(
    peer: IpAddr,
    forwarded: &[&str],
    x_forwarded_for: &[&str],
    trusted: &TrustedProxies,
) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.contains(peer) {
        return peer;
    }
    let walk_forwarded = || walk(peer, forwarded_hops(forwarded), trusted);
    let walk_x_forwarded_for = || walk(peer, x_forwarded_for_hops(x_forwarded_for), trusted);
    match (forwarded.is_empty(), x_forwarded_for.is_empty()) {
        (true, true) => peer,
        (false, true) => walk_forwarded(),
        (true, false) => walk_x_forwarded_for(),
        (false, false) => {
            let client = walk_forwarded();
            if client == walk_x_forwarded_for() {
                client
            } else {
                peer
            }
        }
    }
}

/// The rightmost untrusted hop; `peer` when `hops` did not parse or that hop is no address.
fn walk(peer: IpAddr, hops: Option<Vec<Option<IpAddr>>>, trusted: &TrustedProxies) -> IpAddr {
    let Some(hops) = hops else {
        return peer;
    };
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(ip) = hop else {
            return peer;
        };
        client = ip.to_canonical();
        if !trusted.contains(client) {
            return client;
        }
    }
    client
}

/// The rate-limit subject of a client address: an IPv4 address as is, an IPv6 address as its
/// /64 (one subscriber usually holds a whole /64, so per-address buckets would be free to
/// multiply).
pub fn bucket(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => Ipv6Net::new(v6, 64)
            .expect("64 is a valid IPv6 prefix length")
            .trunc()
            .to_string(),
    }
}

/// The `for=` node of every element of `Forwarded`, in order: `Some(None)` for a node that is
/// not an address; `None` when a value is malformed or an element has no `for=`.
fn forwarded_hops(values: &[&str]) -> Option<Vec<Option<IpAddr>>> {
    let mut hops = Vec::new();
    for value in values {
        for element in split_unquoted(value, ',')? {
            let mut node = None;
            for pair in split_unquoted(&element, ';')? {
                let pair = pair.trim();
                if pair.is_empty() {
                    continue;
                }
                let (name, value) = pair.split_once('=')?;
                let name = name.trim();
                if name.is_empty() || !name.bytes().all(is_token_byte) {
                    return None;
                }
                if name.eq_ignore_ascii_case("for") {
                    if node.is_some() {
                        return None;
                    }
                    node = Some(unquote(value.trim())?);
                }
            }
            hops.push(parse_node(&node?));
        }
    }
    Some(hops)
}

/// The hops of `X-Forwarded-For`, in order; `None` when one is empty.
fn x_forwarded_for_hops(values: &[&str]) -> Option<Vec<Option<IpAddr>>> {
    let mut hops = Vec::new();
    for value in values {
        for hop in value.split(',') {
            let hop = hop.trim();
            if hop.is_empty() {
                return None;
            }
            hops.push(parse_node(hop));
        }
    }
    Some(hops)
}

/// `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:4711`.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim();
    if let Some(rest) = node.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        if !(after.is_empty() || after.strip_prefix(':').is_some_and(is_port)) {
            return None;
        }
        return v6.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6);
    }
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    match node.parse::<SocketAddr>() {
        Ok(SocketAddr::V4(sa)) => Some(IpAddr::V4(*sa.ip())),
        _ => None,
    }
}

fn is_port(s: &str) -> bool {
    !s.is_empty() && s.len() <= 5 && s.bytes().all(|b| b.is_ascii_digit())
}

/// RFC 7230 `tchar`.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `s` split at every `sep` outside a quoted string; `None` when a quote is left open.
fn split_unquoted(s: &str, sep: char) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let (mut quoted, mut escaped) = (false, false);
    for c in s.chars() {
        if escaped {
            escaped = false;
        } else if quoted && c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            parts.push(std::mem::take(&mut current));
            continue;
        }
        current.push(c);
    }
    if quoted || escaped {
        return None;
    }
    parts.push(current);
    Some(parts)
}

/// A token as is, or a quoted string without its quotes and escapes.
fn unquote(value: &str) -> Option<String> {
    let Some(inner) = value.strip_prefix('"') else {
        return (!value.is_empty() && value.bytes().all(|b| is_token_byte(b) || b == b':'))
            .then(|| value.to_string());
    };
    let inner = inner.strip_suffix('"')?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            '"' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn trusted(list: &str) -> TrustedProxies {
        TrustedProxies::parse(list).unwrap()
    }

    fn xff(peer: &str, values: &[&str], list: &str) -> IpAddr {
        client_ip(ip(peer), &[], values, &trusted(list))
    }

    fn fwd(peer: &str, values: &[&str], list: &str) -> IpAddr {
        client_ip(ip(peer), values, &[], &trusted(list))
    }

    #[test]
    fn trusted_proxies_parse_cidrs_and_addresses_and_reject_the_rest() {
        let t = trusted(" 10.0.0.0/8, 192.0.2.7 ,fd00::/8,, ");
        assert!(t.contains(ip("10.200.1.1")));
        assert!(t.contains(ip("192.0.2.7")));
        assert!(!t.contains(ip("192.0.2.8")));
        assert!(t.contains(ip("fd12::1")));
        assert!(
            t.contains(ip("::ffff:10.0.0.1")),
            "IPv4-mapped counts as IPv4"
        );
        assert!(trusted("").is_empty());
        assert!(
            trusted("10.1.2.3/8").contains(ip("10.9.9.9")),
            "host bits dropped"
        );
        for bad in ["10.0.0.0/33", "example.com", "10.0.0.0/8 x", "*"] {
            let err = TrustedProxies::parse(bad).unwrap_err();
            assert!(err.contains(bad.trim()), "{bad}: {err}");
        }
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_its_headers_say() {
        assert_eq!(xff("203.0.113.9", &["198.51.100.1"], ""), ip("203.0.113.9"));
        assert_eq!(
            xff("203.0.113.9", &["198.51.100.1"], "10.0.0.0/8"),
            ip("203.0.113.9")
        );
        assert_eq!(
            fwd("203.0.113.9", &["for=198.51.100.1"], "10.0.0.0/8"),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn a_trusted_peer_without_headers_is_the_client() {
        assert_eq!(xff("10.0.0.1", &[], "10.0.0.0/8"), ip("10.0.0.1"));
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let list = "10.0.0.0/8";
        // The client may prepend anything; only hops the trusted proxies added are skipped.
        assert_eq!(
            xff("10.0.0.1", &["6.6.6.6, 198.51.100.1, 10.0.0.2"], list),
            ip("198.51.100.1")
        );
        // Several header lines are one list, in order.
        assert_eq!(
            xff("10.0.0.1", &["6.6.6.6", "198.51.100.1", "10.0.0.2"], list),
            ip("198.51.100.1")
        );
        // Every hop trusted: the leftmost.
        assert_eq!(
            xff("10.0.0.1", &["10.0.0.3, 10.0.0.2"], list),
            ip("10.0.0.3")
        );
        // Ports and brackets are accepted.
        assert_eq!(
            xff("10.0.0.1", &["198.51.100.1:4711"], list),
            ip("198.51.100.1")
        );
        assert_eq!(
            xff("10.0.0.1", &["[2001:db8::1]:4711"], list),
            ip("2001:db8::1")
        );
        assert_eq!(xff("10.0.0.1", &["2001:db8::1"], list), ip("2001:db8::1"));
        // An IPv6 peer in a trusted IPv6 network.
        assert_eq!(
            xff("fd00::1", &["198.51.100.1"], "fd00::/8"),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn a_malformed_forwarding_header_leaves_the_peer() {
        let list = "10.0.0.0/8";
        for bad in [
            "",
            "198.51.100.1,,10.0.0.2",
            "not-an-ip",
            "198.51.100.1, unknown",
            "[2001:db8::1",
            "[2001:db8::1]x",
            "198.51.100.1:port",
        ] {
            assert_eq!(xff("10.0.0.1", &[bad], list), ip("10.0.0.1"), "{bad:?}");
        }
        // A bad hop to the left of the client does not matter: the walk stops before it.
        assert_eq!(
            xff("10.0.0.1", &["garbage, 198.51.100.1"], list),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn forwarded_for_nodes_are_walked_like_x_forwarded_for() {
        let list = "10.0.0.0/8";
        assert_eq!(
            fwd(
                "10.0.0.1",
                &["for=6.6.6.6, for=198.51.100.1;proto=https;by=10.0.0.2, For=10.0.0.2"],
                list
            ),
            ip("198.51.100.1")
        );
        assert_eq!(
            fwd("10.0.0.1", &["for=\"[2001:db8:cafe::17]:4711\""], list),
            ip("2001:db8:cafe::17")
        );
        assert_eq!(
            fwd(
                "10.0.0.1",
                &["for=192.0.2.60;proto=http", "for=10.0.0.9"],
                list
            ),
            ip("192.0.2.60")
        );
        // A quoted comma or semicolon does not split.
        assert_eq!(
            fwd(
                "10.0.0.1",
                &["for=198.51.100.1;ext=\"a,b;c\", for=10.0.0.2"],
                list
            ),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn both_headers_must_name_the_same_client() {
        let t = trusted("10.0.0.0/8");
        let both = |f: &str, x: &str| client_ip(ip("10.0.0.1"), &[f], &[x], &t);
        assert_eq!(
            both("for=198.51.100.1", "198.51.100.1, 10.0.0.2"),
            ip("198.51.100.1")
        );
        // One of them came from the client untouched: neither is believed.
        assert_eq!(both("for=6.6.6.6", "198.51.100.1"), ip("10.0.0.1"));
        assert_eq!(both("for=198.51.100.1", "6.6.6.6"), ip("10.0.0.1"));
    }

    #[test]
    fn a_malformed_forwarded_header_leaves_the_peer() {
        let list = "10.0.0.0/8";
        for bad in [
            "for=",
            "proto=https",
            "for=198.51.100.1;for=198.51.100.2",
            "for=\"198.51.100.1",
            "for=unknown",
            "for=_hidden",
            "for=[2001:db8::1]",
            "for",
            "f o r=198.51.100.1",
        ] {
            assert_eq!(fwd("10.0.0.1", &[bad], list), ip("10.0.0.1"), "{bad:?}");
        }
    }

    #[test]
    fn ipv6_clients_are_bucketed_by_their_64() {
        assert_eq!(bucket(ip("198.51.100.1")), "198.51.100.1");
        assert_eq!(bucket(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(
            bucket(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")),
            bucket(ip("2001:db8:1:2::1"))
        );
        assert_ne!(bucket(ip("2001:db8:1:2::1")), bucket(ip("2001:db8:1:3::1")));
        assert_eq!(bucket(ip("::ffff:198.51.100.1")), "198.51.100.1");
    }
}
