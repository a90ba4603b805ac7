"""The Python client against a running host: the generated operations through the hand-written
layer (sign-in and refresh, cursors, Idempotency-Key on retries, 429 with Retry-After)."""

from __future__ import annotations

import secrets
import signal
import threading
import time

import httpx
import pytest

from spingraph_api.api.auth import create_api_key, get_me
from spingraph_api.api.entities import create_entity, list_entities
from spingraph_api.models import ChangeKind, ChangeOp, NewApiKey, NewEntity, Scope
from spingraph_client import ApiError, RetryEvent, RetryPolicy, Spingraph


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def create(sg: Spingraph, type_: str, name: str):
    return sg.call(create_entity, body=NewEntity(type_=type_, name=name))


def test_signs_in_and_creates_an_entity(signed_in):
    me = signed_in.call(get_me)
    ada = signed_in.call(create_entity, body=NewEntity(type_="person", name="Ada Lovelace"))
    assert (ada.name, ada.type_, ada.owner_id) == ("Ada Lovelace", "person", me.id)


def test_wrong_password_is_an_api_error_with_the_problem(host, new_user):
    user = new_user()
    with pytest.raises(ApiError) as raised:
        Spingraph(host.url).sign_in(user.email, user.password + "x")
    assert raised.value.status == 401
    assert raised.value.problem.status == 401


def test_items_follow_the_cursor_across_pages(signed_in):
    kind = unique("page")
    made = [create(signed_in, kind, f"n{i}").id for i in range(7)]

    pages = list(signed_in.pages(list_entities, type_=kind, limit=3))
    assert [len(page.items) for page in pages] == [3, 3, 1]
    seen = [e.id for e in signed_in.items(list_entities, type_=kind, limit=3)]
    assert sorted(seen) == sorted(made)  # every one, none twice


def read_until(feed: Spingraph, after: str | None, kind: str, count: int, timeout: float = 30):
    """The changes of entities of type `kind` after `after`, read until caught up (each read's
    last, empty page waits 1 s) as often as it takes for `count` of them to come. A transaction
    still open elsewhere holds the feed back, ours with it, until it ends."""
    deadline = time.monotonic() + timeout
    seen = []
    while len(seen) < count:
        assert time.monotonic() < deadline, f"{len(seen)} of {count} changes in {timeout} s"
        for change in feed.changes(after=after, wait=1, limit=2):
            after = change.cursor
            if change.type_ == kind:
                seen.append(change)
    return seen


@pytest.fixture
def feed(host, new_user):
    """A reader of the change feed. It needs an admin, or an API key with the `changes:read`
    scope (which only an admin's key may hold): an admin's key, reading what users write."""
    admin = new_user("admin")
    with Spingraph(host.url).sign_in(admin.email, admin.password) as sg:
        key = sg.call(
            create_api_key,
            body=NewApiKey(name="feed", scopes=[Scope.CHANGESREAD, Scope.ENTITIESREAD]),
        ).key
    with Spingraph(host.url, api_key=key) as reader:
        yield reader


def test_change_feed_is_followed_by_its_cursor(signed_in, feed):
    kind = unique("feed")
    made = [create(signed_in, kind, f"c{i}").id for i in range(3)]

    # From the beginning, page by page (2 a page): each of ours once, in commit order, with its
    # document.
    mine = read_until(feed, None, kind, len(made))
    assert [c.id for c in mine] == made
    assert all(c.op == ChangeOp.CREATE and c.kind == ChangeKind.ENTITY for c in mine)
    assert all(c.document is not None for c in mine)
    assert [c.seq for c in mine] == sorted(c.seq for c in mine)

    # Resuming after the last one's cursor gives only what came since.
    later = create(signed_in, kind, "c3").id
    assert [c.id for c in read_until(feed, mine[-1].cursor, kind, 1)] == [later]


def test_following_the_feed_long_polls_until_a_change_comes(signed_in, feed):
    end = None
    for change in feed.changes(limit=200):  # catch up
        end = change.cursor
    kind = unique("follow")
    made = []
    later = threading.Timer(1.0, lambda: made.append(create(signed_in, kind, "late").id))

    def too_long(*_):
        raise TimeoutError("followed the feed for 30 s without seeing the change")

    previous = signal.signal(signal.SIGALRM, too_long)  # fail, not hang
    signal.alarm(30)
    try:
        later.start()
        for change in feed.changes(after=end, follow=True, wait=5):
            if change.type_ == kind:
                break
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        later.join()
    assert (change.id, change.op) == (made[0], ChangeOp.CREATE)


def test_token_is_refreshed_before_expiry_on_401_and_on_demand(signed_in):
    tokens = signed_in.tokens
    first = (tokens.access_token, tokens.refresh_token)

    # At (or past) expiry the next request refreshes first.
    tokens.expires_at = time.monotonic()
    assert signed_in.call(get_me).email
    second = (tokens.access_token, tokens.refresh_token)
    assert second[0] != first[0] and second[1] != first[1]

    # An access token the server refuses: one 401, a refresh, the same request again.
    tokens.access_token = "not-a-token"
    assert signed_in.call(get_me).email
    third = tokens.access_token
    assert third not in ("not-a-token", second[0])

    # Explicitly; the new token works.
    fourth = signed_in.refresh()
    assert fourth != third
    assert signed_in.call(get_me).email


class LoseFirstAnswer(httpx.BaseTransport):
    """Sends the first entity create to the server, then loses its answer: a dropped connection
    (`error="connection"`) or a gateway's 503 in its place. Records each try's Idempotency-Key."""

    def __init__(self, error: str):
        self.inner = httpx.HTTPTransport()
        self.error = error
        self.keys: list[str | None] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        creating = request.method == "POST" and request.url.path == "/v1/entities"
        if creating:
            self.keys.append(request.headers.get("idempotency-key"))
        response = self.inner.handle_request(request)
        if creating and len(self.keys) == 1:
            response.read()
            response.close()
            if self.error == "connection":
                raise httpx.ReadError("connection reset by peer", request=request)
            return httpx.Response(503, headers={"retry-after": "1"}, request=request)
        return response

    def close(self) -> None:
        self.inner.close()


@pytest.mark.parametrize("error", ["connection", "503"])
def test_create_retried_after_a_lost_answer_makes_one_entity(host, new_user, error):
    user = new_user()
    lossy = LoseFirstAnswer(error)
    retries: list[RetryEvent] = []
    policy = RetryPolicy(on_retry=retries.append, backoff=0.05)
    with Spingraph(host.url, transport=lossy, retry=policy).sign_in(
        user.email, user.password
    ) as sg:
        name = unique("once")
        answer = create_entity.sync_detailed(
            client=sg.client, body=NewEntity(type_="retry", name=name)
        )
        assert answer.status_code == 201
        assert answer.headers.get("idempotent-replayed") == "true"
        assert len(lossy.keys) == 2 and lossy.keys[0] and lossy.keys[0] == lossy.keys[1]
        assert [r.idempotency_key for r in retries] == [lossy.keys[0]]
        found = list(sg.items(list_entities, q=name))
        assert [e.id for e in found] == [answer.parsed.id]


def test_429_waits_retry_after_then_succeeds(signed_in):
    retries: list[RetryEvent] = []
    signed_in.transport.policy = RetryPolicy(on_retry=retries.append)
    first = list_entities.sync_detailed(client=signed_in.client, limit=1)
    remaining = int(first.headers["ratelimit-remaining"])
    if remaining > 5000:
        pytest.skip(f"api_rate_limit_per_minute leaves {remaining} requests: run with a small one")
    # Use up the window; the request after the last allowed one gets a 429, waits, succeeds.
    for _ in range(remaining + 1):
        started = time.monotonic()
        page = signed_in.call(list_entities, limit=1)
        elapsed = time.monotonic() - started
        if retries:
            break
    limited = [r for r in retries if r.reason == "429"]
    assert limited, "no 429 within the window's limit"
    assert limited[0].retry_after is not None and limited[0].retry_after >= 1
    assert elapsed >= limited[0].retry_after
    assert page.items is not None
