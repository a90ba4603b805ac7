"""One request's context, as crates/guest's `Ctx`: the request id (an incoming valid
`X-Request-Id` kept, else a new UUIDv7), method, path and headers, the client's address (for logs
and per-address limits: client_addr.py), the component's Spin variables (each read at most once:
one instance serves one request) and JSON log lines on stderr that carry the request id."""

import json
import os
import re
import sys
import time

from componentize_py_types import Err
from wit_world.imports import variables

import client_addr

COMPONENT = "reports"
REQUEST_ID_HEADER = "x-request-id"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


def uuid_v7():
    """A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits."""
    value = bytearray((time.time_ns() // 1_000_000).to_bytes(6, "big"))
    value += os.urandom(10)
    value[6] = 0x70 | (value[6] & 0x0F)
    value[8] = 0x80 | (value[8] & 0x3F)
    h = value.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class Ctx:
    def __init__(self, method, path_with_query, headers):
        self.method = method
        self.path = path_with_query.split("?", 1)[0] or "/"
        # Every field as it came, for authn (it reads all `cookie` fields, as an HTTP/2 request
        # splits cookies into several); names arrive lowercase (wasi:http).
        self.fields = list(headers)
        # The first value of each, for the component's own reads, as the Rust side.
        self.headers = {}
        for name, value in headers:
            self.headers.setdefault(name, value)
        incoming = self.headers.get(REQUEST_ID_HEADER, "")
        self.request_id = incoming if _VALID_REQUEST_ID.fullmatch(incoming) else uuid_v7()
        self.started = time.monotonic()
        self._vars = {}

    def header(self, name):
        return self.headers.get(name)

    def var(self, name):
        """A Spin variable of this component; None when undefined or blank (as the Rust side)."""
        if name not in self._vars:
            try:
                value = variables.get(name)
            except Err:
                value = ""
            self._vars[name] = value if value.strip() else None
        return self._vars[name]

    def client_ip(self):
        """The client IP without the port (logs): the peer's, or behind a trusted proxy the one
        its forwarding headers name; the raw `spin-client-addr` when that is no address."""
        ip = self._client_ip_addr()
        return str(ip) if ip is not None else self.header("spin-client-addr")

    def client_bucket(self):
        """What per-address limits count under: the client IP, an IPv6 client by its /64."""
        ip = self._client_ip_addr()
        return client_addr.bucket(ip) if ip is not None else self.header("spin-client-addr")

    def _client_ip_addr(self):
        peer = client_addr.peer_ip(self.header("spin-client-addr") or "")
        if peer is None:
            return None
        return client_addr.client_ip(
            peer, self.header("forwarded"), self.header("x-forwarded-for"), self._trusted_proxies()
        )

    def _trusted_proxies(self):
        """`trusted_proxies`; unset or invalid (logged) trusts no proxy."""
        listed = self.var(client_addr.TRUSTED_PROXIES_VAR) or ""
        try:
            return client_addr.parse_trusted_proxies(listed)
        except ValueError as invalid:
            self.log("warn", "trusted_proxies ignored: no proxy is trusted", reason=str(invalid))
            return []

    def debug(self):
        return (self.var("debug") or "").strip().lower() == "true"

    def log(self, level, msg, **fields):
        now = time.time()
        millis = int(now * 1000) % 1000
        line = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{millis:03d}Z",
            "level": level,
            "component": COMPONENT,
            "request_id": self.request_id,
            "msg": msg,
        }
        for key, value in fields.items():
            line.setdefault(key, value)
        print(json.dumps(line, separators=(",", ":")), file=sys.stderr, flush=True)
