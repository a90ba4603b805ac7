"""Credentials on every request: an access token that is refreshed before it expires and after a
401 (`POST /v1/auth/refresh`, which rotates the refresh token too), or an API key."""

from __future__ import annotations

import threading
import time
from collections.abc import Generator

import httpx

from spingraph_api import Client
from spingraph_api.api.auth import refresh_token
from spingraph_api.models import RefreshRequest, TokenResponse

from .errors import ApiError


class Tokens:
    """An access token with its refresh token. `expires_at` is on the monotonic clock; the
    token is refreshed `skew` seconds before it (a tenth of its lifetime, at most 30 s)."""

    def __init__(self, anonymous: Client, answer: TokenResponse):
        self._anonymous = anonymous  # the client refresh calls go through (no credentials)
        self._lock = threading.Lock()
        self._take(answer)

    def _take(self, answer: TokenResponse) -> None:
        self.access_token = answer.access_token
        self.refresh_token = answer.refresh_token
        self.skew = min(30.0, answer.expires_in / 10)
        self.expires_at = time.monotonic() + answer.expires_in

    def current(self) -> str:
        """The access token, refreshed first when it is about to expire."""
        token = self.access_token
        if time.monotonic() >= self.expires_at - self.skew:
            token = self.refresh(stale=token)
        return token

    def refresh(self, stale: str | None = None) -> str:
        """Rotate the tokens. With `stale`, only while that is still the access token: a thread
        that waited for another's refresh uses its result instead of spending the new refresh
        token (presenting a used one revokes the whole family)."""
        with self._lock:
            if stale is not None and stale != self.access_token:
                return self.access_token
            answer = refresh_token.sync_detailed(
                client=self._anonymous,
                body=RefreshRequest(refresh_token=self.refresh_token),
            )
            if not isinstance(answer.parsed, TokenResponse):
                raise ApiError.of(answer)
            self._take(answer.parsed)
            return self.access_token


class BearerAuth(httpx.Auth):
    """`Authorization: Bearer`, refreshed before expiry and once after a 401."""

    def __init__(self, tokens: Tokens):
        self.tokens = tokens

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self.tokens.current()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            # Revoked, or expired early (clock skew): a 401 did nothing, so resending is safe.
            token = self.tokens.refresh(stale=token)
            request.headers["Authorization"] = f"Bearer {token}"
            yield request


class ApiKeyAuth(httpx.Auth):
    """`Authorization: ApiKey <key>`: nothing to refresh."""

    def __init__(self, key: str):
        self.key = key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"ApiKey {self.key}"
        yield request
