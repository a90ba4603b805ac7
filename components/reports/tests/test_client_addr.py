"""client_addr.py against crates/guest/src/client_addr.rs: every case of that module's unit tests,
and the client-ip and bucket cases of crates/guest/src/context.rs's, with the same inputs and the
same expectations. A case here changes only with its Rust twin."""

import unittest
from ipaddress import ip_address

import client_addr
from client_addr import bucket, client_ip, parse_trusted_proxies, peer_ip


def ip(text):
    return ip_address(text)


def trusted(listed):
    return parse_trusted_proxies(listed)


def header(values):
    """Rust's `client_ip` takes every line of a header, Python's its one value (Ctx reads the
    first): the lines as one value, joined with ", " (RFC 9110 §5.3); no line is None."""
    return ", ".join(values) if values else None


def xff(peer, values, listed):
    return client_ip(ip(peer), None, header(values), trusted(listed))


def fwd(peer, values, listed):
    return client_ip(ip(peer), header(values), None, trusted(listed))


class ClientAddr(unittest.TestCase):
    def test_trusted_proxies_parse_cidrs_and_addresses_and_reject_the_rest(self):
        t = trusted(" 10.0.0.0/8, 192.0.2.7 ,fd00::/8,, ")
        self.assertTrue(client_addr._trusted(t, ip("10.200.1.1")))
        self.assertTrue(client_addr._trusted(t, ip("192.0.2.7")))
        self.assertFalse(client_addr._trusted(t, ip("192.0.2.8")))
        self.assertTrue(client_addr._trusted(t, ip("fd12::1")))
        self.assertTrue(
            client_addr._trusted(t, ip("::ffff:10.0.0.1")), "IPv4-mapped counts as IPv4"
        )
        self.assertEqual(trusted(""), [])
        self.assertTrue(
            client_addr._trusted(trusted("10.1.2.3/8"), ip("10.9.9.9")), "host bits dropped"
        )
        for bad in ["10.0.0.0/33", "example.com", "10.0.0.0/8 x", "*"]:
            with self.subTest(bad=bad):
                with self.assertRaises(ValueError) as err:
                    parse_trusted_proxies(bad)
                self.assertIn(bad.strip(), str(err.exception))

    def test_an_untrusted_peer_is_the_client_whatever_its_headers_say(self):
        self.assertEqual(xff("203.0.113.9", ["198.51.100.1"], ""), ip("203.0.113.9"))
        self.assertEqual(xff("203.0.113.9", ["198.51.100.1"], "10.0.0.0/8"), ip("203.0.113.9"))
        self.assertEqual(fwd("203.0.113.9", ["for=198.51.100.1"], "10.0.0.0/8"), ip("203.0.113.9"))

    def test_a_trusted_peer_without_headers_is_the_client(self):
        self.assertEqual(xff("10.0.0.1", [], "10.0.0.0/8"), ip("10.0.0.1"))

    def test_the_rightmost_untrusted_hop_is_the_client(self):
        listed = "10.0.0.0/8"
        # The client may prepend anything; only hops the trusted proxies added are skipped.
        self.assertEqual(
            xff("10.0.0.1", ["6.6.6.6, 198.51.100.1, 10.0.0.2"], listed), ip("198.51.100.1")
        )
        # Several header lines are one list, in order.
        self.assertEqual(
            xff("10.0.0.1", ["6.6.6.6", "198.51.100.1", "10.0.0.2"], listed), ip("198.51.100.1")
        )
        # Every hop trusted: the leftmost.
        self.assertEqual(xff("10.0.0.1", ["10.0.0.3, 10.0.0.2"], listed), ip("10.0.0.3"))
        # Ports and brackets are accepted.
        self.assertEqual(xff("10.0.0.1", ["198.51.100.1:4711"], listed), ip("198.51.100.1"))
        self.assertEqual(xff("10.0.0.1", ["[2001:db8::1]:4711"], listed), ip("2001:db8::1"))
        self.assertEqual(xff("10.0.0.1", ["2001:db8::1"], listed), ip("2001:db8::1"))
        # An IPv6 peer in a trusted IPv6 network.
        self.assertEqual(xff("fd00::1", ["198.51.100.1"], "fd00::/8"), ip("198.51.100.1"))

    def test_a_malformed_forwarding_header_leaves_the_peer(self):
        listed = "10.0.0.0/8"
        for bad in [
            "",
            "198.51.100.1,,10.0.0.2",
            "not-an-ip",
            "198.51.100.1, unknown",
            "[2001:db8::1",
            "[2001:db8::1]x",
            "198.51.100.1:port",
        ]:
            with self.subTest(bad=bad):
                self.assertEqual(xff("10.0.0.1", [bad], listed), ip("10.0.0.1"))
        # A bad hop to the left of the client does not matter: the walk stops before it.
        self.assertEqual(xff("10.0.0.1", ["garbage, 198.51.100.1"], listed), ip("198.51.100.1"))

    def test_forwarded_for_nodes_are_walked_like_x_forwarded_for(self):
        listed = "10.0.0.0/8"
        self.assertEqual(
            fwd(
                "10.0.0.1",
                ["for=6.6.6.6, for=198.51.100.1;proto=https;by=10.0.0.2, For=10.0.0.2"],
                listed,
            ),
            ip("198.51.100.1"),
        )
        self.assertEqual(
            fwd("10.0.0.1", ['for="[2001:db8:cafe::17]:4711"'], listed), ip("2001:db8:cafe::17")
        )
        self.assertEqual(
            fwd("10.0.0.1", ["for=192.0.2.60;proto=http", "for=10.0.0.9"], listed),
            ip("192.0.2.60"),
        )
        # A quoted comma or semicolon does not split.
        self.assertEqual(
            fwd("10.0.0.1", ['for=198.51.100.1;ext="a,b;c", for=10.0.0.2'], listed),
            ip("198.51.100.1"),
        )

    def test_both_headers_must_name_the_same_client(self):
        t = trusted("10.0.0.0/8")

        def both(f, x):
            return client_ip(ip("10.0.0.1"), f, x, t)

        self.assertEqual(both("for=198.51.100.1", "198.51.100.1, 10.0.0.2"), ip("198.51.100.1"))
        # One of them came from the client untouched: neither is believed.
        self.assertEqual(both("for=6.6.6.6", "198.51.100.1"), ip("10.0.0.1"))
        self.assertEqual(both("for=198.51.100.1", "6.6.6.6"), ip("10.0.0.1"))

    def test_a_malformed_forwarded_header_leaves_the_peer(self):
        listed = "10.0.0.0/8"
        for bad in [
            "for=",
            "proto=https",
            "for=198.51.100.1;for=198.51.100.2",
            'for="198.51.100.1',
            "for=unknown",
            "for=_hidden",
            "for=[2001:db8::1]",
            "for",
            "f o r=198.51.100.1",
        ]:
            with self.subTest(bad=bad):
                self.assertEqual(fwd("10.0.0.1", [bad], listed), ip("10.0.0.1"))

    def test_ipv6_clients_are_bucketed_by_their_64(self):
        self.assertEqual(bucket(ip("198.51.100.1")), "198.51.100.1")
        self.assertEqual(bucket(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64")
        self.assertEqual(
            bucket(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")), bucket(ip("2001:db8:1:2::1"))
        )
        self.assertNotEqual(bucket(ip("2001:db8:1:2::1")), bucket(ip("2001:db8:1:3::1")))
        self.assertEqual(bucket(ip("::ffff:198.51.100.1")), "198.51.100.1")


class Context(unittest.TestCase):
    """context.rs's client-ip and bucket cases, through the functions context.py's `Ctx` calls
    (`peer_ip` of `spin-client-addr`, `client_ip`, `bucket`): context.py itself imports the
    component's bindings, which exist only inside the wasm build."""

    def test_path_info_and_query_are_read_and_the_query_decoded(self):
        # Only its client-ip assertion: a peer's port is dropped.
        peer = peer_ip("127.0.0.1:5555")
        self.assertEqual(str(client_ip(peer, None, None, [])), "127.0.0.1")

    def test_a_link_local_peer_with_a_zone_is_its_address(self):
        client = client_ip(peer_ip("[fe80::1%2]:80"), None, None, [])
        self.assertEqual(str(client), "fe80::1")
        self.assertEqual(bucket(client), "fe80::/64")

    def test_client_address_comes_from_forwarding_headers_only_behind_a_trusted_proxy(self):
        peer = peer_ip("127.0.0.1:5555")
        x_forwarded_for = "6.6.6.6, 2001:db8:1:2::7"
        self.assertEqual(str(client_ip(peer, None, x_forwarded_for, [])), "127.0.0.1")
        client = client_ip(peer, None, x_forwarded_for, trusted("127.0.0.1/32"))
        self.assertEqual(str(client), "2001:db8:1:2::7")
        self.assertEqual(bucket(client), "2001:db8:1:2::/64")
        # RFC 7239 Forwarded; an invalid list trusts nobody (Ctx logs it and trusts no proxy).
        client = client_ip(peer, "for=198.51.100.1", None, trusted("127.0.0.0/8"))
        self.assertEqual(bucket(client), "198.51.100.1")
        with self.assertRaises(ValueError) as err:
            parse_trusted_proxies("127.0.0.0/8,localhost")
        self.assertIn("localhost", str(err.exception))
        self.assertEqual(str(client_ip(peer, "for=198.51.100.1", None, [])), "127.0.0.1")


if __name__ == "__main__":
    unittest.main()
