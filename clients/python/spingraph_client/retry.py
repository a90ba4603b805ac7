"""Retries below the generated client: an httpx transport that gives every write an
Idempotency-Key, retries after a connection error or a 5xx when that is safe, and waits out a
429 for as long as its Retry-After says (bounded)."""

from __future__ import annotations

import email.utils
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx

# Writes the API deduplicates by Idempotency-Key: every POST, PATCH and PUT outside /v1/auth/
# (openapi.yaml's `idempotencyKey` parameter). Sign-in, refresh and the other auth writes take
# no key, so they are retried only when they never reached the server (or got a 429).
KEYED_METHODS = frozenset({"POST", "PATCH", "PUT"})
AUTH_PREFIX = "/v1/auth/"
# Methods that may be sent twice whatever happened to the first.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryEvent:
    """One retry: why, after how many attempts, and how long the client waits before it."""

    method: str
    url: str
    attempt: int
    reason: str  # "429", "503", ... or the transport error's class name
    wait: float  # seconds
    retry_after: float | None  # the server's Retry-After, when it sent one
    idempotency_key: str | None


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry.

    attempts: tries in all (the first one included).
    max_wait: the longest wait for one retry; a 429 whose Retry-After is longer is returned to
        the caller instead of being waited out (the limiter's window is one minute).
    backoff: the first wait after an error without Retry-After, doubled each time (with jitter),
        at most max_backoff.
    on_retry: called before each wait (logging, metrics, tests).
    """

    attempts: int = 5
    max_wait: float = 60.0
    backoff: float = 0.25
    max_backoff: float = 8.0
    on_retry: Callable[[RetryEvent], None] | None = None
    sleep: Callable[[float], None] = time.sleep


def retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds: delta-seconds (what spingraph sends) or an HTTP date."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class RetryTransport(httpx.BaseTransport):
    """Wraps another transport (by default httpx.HTTPTransport) with the retry policy."""

    def __init__(self, inner: httpx.BaseTransport | None = None, policy: RetryPolicy | None = None):
        self.inner = inner or httpx.HTTPTransport()
        self.policy = policy or RetryPolicy()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        keyed = request.method in KEYED_METHODS and not request.url.path.startswith(AUTH_PREFIX)
        if keyed and "idempotency-key" not in request.headers:
            request.headers["Idempotency-Key"] = str(uuid.uuid4())
        # Sending it again cannot write twice: a safe method, or a key the server replays.
        repeatable = request.method in SAFE_METHODS or "idempotency-key" in request.headers
        request.read()  # the body, kept for every attempt
        policy = self.policy
        for attempt in range(1, policy.attempts + 1):
            last = attempt == policy.attempts
            try:
                response = self.inner.handle_request(request)
            except (httpx.ConnectError, httpx.ConnectTimeout) as err:
                # Never reached the server: any request may go again.
                if last:
                    raise
                self._wait(request, attempt, type(err).__name__, self._backoff(attempt), None)
                continue
            except httpx.TransportError as err:
                # Sent, answer lost: the server may have done it already.
                if last or not repeatable:
                    raise
                self._wait(request, attempt, type(err).__name__, self._backoff(attempt), None)
                continue
            status = response.status_code
            if last or status not in RETRIED_STATUSES or (status != 429 and not repeatable):
                return response
            after = retry_after(response)
            wait = after if after is not None else self._backoff(attempt)
            if wait > policy.max_wait:
                return response  # longer than we may wait: the caller decides
            response.close()
            self._wait(request, attempt, str(status), wait, after)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def close(self) -> None:
        self.inner.close()

    def _backoff(self, attempt: int) -> float:
        base = min(self.policy.max_backoff, self.policy.backoff * 2 ** (attempt - 1))
        return base * random.uniform(0.5, 1.0)

    def _wait(
        self,
        request: httpx.Request,
        attempt: int,
        reason: str,
        wait: float,
        after: float | None,
    ) -> None:
        if self.policy.on_retry is not None:
            self.policy.on_retry(
                RetryEvent(
                    method=request.method,
                    url=str(request.url),
                    attempt=attempt,
                    reason=reason,
                    wait=wait,
                    retry_after=after,
                    idempotency_key=request.headers.get("idempotency-key"),
                )
            )
        self.policy.sleep(wait)
