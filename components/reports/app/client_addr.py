"""Which client a request comes from, as crates/guest/src/client_addr.rs decides it (a second
implementation of that module; tests/tests/reports.rs checks that both count a client in the same
bucket): the peer (`spin-client-addr`), or, only when the peer is one of `trusted_proxies`, the
rightmost untrusted hop of `Forwarded` (RFC 7239) or `X-Forwarded-For`; an IPv6 client is
bucketed by its /64. Every rule and edge case is the Rust module's; its unit tests document them."""

import re
from ipaddress import IPv6Address, ip_address, ip_network

TRUSTED_PROXIES_VAR = "trusted_proxies"

_PORT = re.compile(r"[0-9]{1,5}")
_TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+\-.^_`|~]+")
_NODE_TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+\-.^_`|~:]+")


def _ip(text):
    """An address as Rust's `IpAddr::from_str` reads one (no zone, no surrounding space)."""
    if "%" in text or text != text.strip():
        return None
    try:
        return ip_address(text)
    except ValueError:
        return None


def canonical(ip):
    """An IPv4-mapped IPv6 address as its IPv4 address (Rust's `IpAddr::to_canonical`)."""
    if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def parse_trusted_proxies(text):
    """The networks of `trusted_proxies` (CIDRs or addresses, comma-separated); ValueError naming
    an entry that is neither."""
    networks = []
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        address, slash, prefix = entry.partition("/")
        ip = _ip(address)
        if ip is None or (slash and not (prefix.isascii() and prefix.isdigit())):
            raise ValueError(f"`{entry}` is not a CIDR (e.g. 10.0.0.0/8) or an address")
        try:
            networks.append(ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"`{entry}` is not a CIDR (e.g. 10.0.0.0/8) or an address") from None
    return networks


def _trusted(networks, ip):
    ip = canonical(ip)
    return any(ip in net for net in networks)


def peer_ip(client_addr):
    """The address of `spin-client-addr` (`ip:port`, `[ip6]:port` or a bare address)."""
    if client_addr.startswith("["):
        v6, _, port = client_addr[1:].partition("]:")
        # A numeric zone (`[fe80::1%2]:80`), which Rust's `SocketAddr` reads and drops.
        address, percent, zone = v6.partition("%")
        if percent and zone.isascii() and zone.isdigit():
            v6 = address
        ip = _ip(v6)
        return ip if ip is not None and ip.version == 6 and _is_u16(port) else None
    host, colon, port = client_addr.rpartition(":")
    if colon and "." in host and _is_u16(port):
        ip = _ip(host)
        if ip is not None and ip.version == 4:
            return ip
    return _ip(client_addr)


def client_ip(peer, forwarded, x_forwarded_for, networks):
    """The client's address: `peer`, or behind a trusted peer the rightmost untrusted hop of its
    forwarding headers (each the header's value, or None when absent); both present must agree."""
    peer = canonical(peer)
    if not _trusted(networks, peer):
        return peer
    if forwarded is None and x_forwarded_for is None:
        return peer
    if x_forwarded_for is None:
        return _walk(peer, _forwarded_hops(forwarded), networks)
    if forwarded is None:
        return _walk(peer, _x_forwarded_for_hops(x_forwarded_for), networks)
    client = _walk(peer, _forwarded_hops(forwarded), networks)
    if client == _walk(peer, _x_forwarded_for_hops(x_forwarded_for), networks):
        return client
    return peer


def bucket(ip):
    """The rate-limit subject of an address: IPv4 as is, IPv6 as its /64."""
    ip = canonical(ip)
    if ip.version == 4:
        return str(ip)
    return str(ip_network(f"{ip}/64", strict=False))


def _walk(peer, hops, networks):
    if hops is None:
        return peer
    client = peer
    for hop in reversed(hops):
        if hop is None:
            return peer
        client = canonical(hop)
        if not _trusted(networks, client):
            return client
    return client


def _forwarded_hops(value):
    hops = []
    elements = _split_unquoted(value, ",")
    if elements is None:
        return None
    for element in elements:
        node = None
        pairs = _split_unquoted(element, ";")
        if pairs is None:
            return None
        for pair in pairs:
            pair = pair.strip()
            if not pair:
                continue
            name, eq, text = pair.partition("=")
            name = name.strip()
            if not eq or not _TOKEN.fullmatch(name):
                return None
            if name.lower() == "for":
                if node is not None:
                    return None
                node = _unquote(text.strip())
                if node is None:
                    return None
        if node is None:
            return None
        hops.append(_parse_node(node))
    return hops


def _x_forwarded_for_hops(value):
    hops = []
    for hop in value.split(","):
        hop = hop.strip()
        if not hop:
            return None
        hops.append(_parse_node(hop))
    return hops


def _parse_node(node):
    """`192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:4711`."""
    node = node.strip()
    if node.startswith("["):
        v6, bracket, after = node[1:].partition("]")
        if not bracket or not (after == "" or (after[:1] == ":" and _PORT.fullmatch(after[1:]))):
            return None
        ip = _ip(v6)
        return ip if ip is not None and ip.version == 6 else None
    ip = _ip(node)
    if ip is not None:
        return ip
    host, colon, port = node.rpartition(":")
    if colon and _is_u16(port):
        ip = _ip(host)
        if ip is not None and ip.version == 4:
            return ip
    return None


def _is_u16(text):
    return text.isascii() and text.isdigit() and int(text) <= 0xFFFF


def _split_unquoted(text, sep):
    parts, current = [], []
    quoted = escaped = False
    for c in text:
        if escaped:
            escaped = False
        elif quoted and c == "\\":
            escaped = True
        elif c == '"':
            quoted = not quoted
        elif c == sep and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(c)
    if quoted or escaped:
        return None
    parts.append("".join(current))
    return parts


def _unquote(value):
    if not value.startswith('"'):
        return value if _NODE_TOKEN.fullmatch(value) else None
    if len(value) < 2 or not value.endswith('"'):
        return None
    out = []
    chars = iter(value[1:-1])
    for c in chars:
        if c == "\\":
            c = next(chars, None)
            if c is None:
                return None
        elif c == '"':
            return None
        out.append(c)
    return "".join(out)
