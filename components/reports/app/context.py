"""One request's context, as crates/guest's `Ctx`: the request id (an incoming valid
`X-Request-Id` kept, else a new UUIDv7), method, path and headers, the component's Spin variables
(each read at most once: one instance serves one request) and JSON log lines on stderr that carry
the request id."""

import json
import os
import re
import sys
import time

from componentize_py_types import Err
from wit_world.imports import variables

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
        # Header names arrive lowercase (wasi:http); the first value of each, as the Rust side.
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
        """A Spin variable of this component; None when undefined or empty (as the Rust side)."""
        if name not in self._vars:
            try:
                value = variables.get(name)
            except Err:
                value = ""
            self._vars[name] = value or None
        return self._vars[name]

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
