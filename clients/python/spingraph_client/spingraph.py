"""`Spingraph`: the generated client with credentials and retries underneath, and what the
generator does not write: answers as values or an `ApiError`, and iteration over cursors."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any, Self

import httpx

from spingraph_api import Client
from spingraph_api.api.auth import create_token
from spingraph_api.api.changes import list_changes
from spingraph_api.models import Change, Credentials, TokenResponse
from spingraph_api.types import UNSET

from .errors import ApiError
from .retry import RetryPolicy, RetryTransport
from .tokens import ApiKeyAuth, BearerAuth, Tokens

# The longest long poll of the change feed (the server waits at most 25 s).
FOLLOW_WAIT_SECONDS = 25


class Spingraph:
    """A spingraph API client.

    `client` is the generated `spingraph_api.Client`: pass it to any generated operation
    (`create_entity.sync(client=sg.client, body=...)`), or let `call` do it and raise `ApiError`
    on a problem. Every request goes through the retry transport; once signed in (or with an
    API key) every request carries the credential, refreshed as needed.

        sg = Spingraph("http://127.0.0.1:3000").sign_in("me@example.com", password)
        ada = sg.call(create_entity, body=NewEntity(type_="person", name="Ada"))
        for entity in sg.items(list_entities, type_="person", limit=100): ...
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
    ):
        self.base_url = base_url
        self.timeout = timeout
        self.transport = RetryTransport(transport, retry)
        self.anonymous = self._client(None)
        self.tokens: Tokens | None = None
        self.client = self._client(ApiKeyAuth(api_key)) if api_key else self.anonymous

    def _client(self, auth: httpx.Auth | None) -> Client:
        client = Client(base_url=self.base_url)
        client.set_httpx_client(
            httpx.Client(
                base_url=self.base_url,
                transport=self.transport,
                auth=auth,
                timeout=self.timeout,
            )
        )
        # Without this, an operation's asyncio() would go out on a client of the generator's
        # own making: no credentials, no retries.
        client.set_async_httpx_client(httpx.AsyncClient(transport=SyncOnly()))
        return client

    def sign_in(self, email: str, password: str) -> Spingraph:
        """`POST /v1/auth/token`; from then on requests carry the access token."""
        answer = create_token.sync_detailed(
            client=self.anonymous, body=Credentials(email=email, password=password)
        )
        if not isinstance(answer.parsed, TokenResponse):
            raise ApiError.of(answer)
        self.tokens = Tokens(self.anonymous, answer.parsed)
        self.client = self._client(BearerAuth(self.tokens))
        return self

    def refresh(self) -> str:
        """Rotate the tokens now (they also rotate by themselves before expiry or on a 401)."""
        if self.tokens is None:
            raise RuntimeError("not signed in with a password: nothing to refresh")
        return self.tokens.refresh()

    def call(self, operation: ModuleType, **params: Any) -> Any:
        """Run a generated operation (its module, e.g. `create_entity`); the parsed 2xx answer,
        or `ApiError`."""
        answer = operation.sync_detailed(client=self.client, **params)
        if 200 <= answer.status_code < 300:
            return answer.parsed
        raise ApiError.of(answer)

    def pages(self, operation: ModuleType, **params: Any) -> Iterator[Any]:
        """Every page of a list operation (`list_entities`, `list_relationships`,
        `list_api_keys`, `list_users`), following `next_cursor` until it is null."""
        cursor = params.pop("cursor", UNSET)
        while True:
            page = self.call(operation, cursor=cursor, **params)
            yield page
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def items(self, operation: ModuleType, **params: Any) -> Iterator[Any]:
        """Every item of every page of a list operation."""
        for page in self.pages(operation, **params):
            yield from page.items

    def changes(
        self,
        *,
        after: str | None = None,
        follow: bool = False,
        wait: int | None = None,
        **params: Any,
    ) -> Iterator[Change]:
        """The change feed from `after` (a change's `cursor`; None is the beginning), each change
        once, in commit order. Stops when it has caught up, unless `follow`: then it long-polls
        (`wait` seconds a request) for ever."""
        if follow and wait is None:
            wait = FOLLOW_WAIT_SECONDS
        while True:
            page = self.call(
                list_changes,
                after=after or UNSET,
                wait=wait or UNSET,
                **params,
            )
            yield from page.items
            after = page.next_cursor or after
            if not page.items and not follow:
                return

    def close(self) -> None:
        self.client.get_httpx_client().close()
        self.anonymous.get_httpx_client().close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SyncOnly(httpx.AsyncBaseTransport):
    """The async side of `Spingraph.client`: the layer is synchronous (sync, sync_detailed)."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise RuntimeError(
            "spingraph_client is synchronous: call the operation's sync() or sync_detailed()"
        )
