"""The hand-written layer without a host: the retry transport's decisions on canned answers
(what is retried, with which key, after how long), and the async side of the client refusing."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from spingraph_api.api.auth import get_me
from spingraph_client import RetryEvent, RetryPolicy, RetryTransport, Spingraph


def transport(answers: list, policy_args: dict | None = None):
    """A RetryTransport over canned answers (a status, or an exception to raise); records the
    requests it saw, the retries and the waits."""
    seen: list[httpx.Request] = []
    retries: list[RetryEvent] = []
    waits: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        next_answer = answers.pop(0)
        if isinstance(next_answer, Exception):
            raise next_answer
        status, headers = next_answer if isinstance(next_answer, tuple) else (next_answer, {})
        return httpx.Response(status, headers=headers)

    policy = RetryPolicy(
        on_retry=retries.append, sleep=waits.append, backoff=0.01, **(policy_args or {})
    )
    return RetryTransport(httpx.MockTransport(answer), policy), seen, retries, waits


def send(rt: RetryTransport, method: str, path: str) -> httpx.Response:
    with httpx.Client(transport=rt, base_url="http://api.test") as client:
        return client.request(method, path, json={"a": 1} if method != "GET" else None)


def test_a_write_gets_one_key_for_all_its_tries():
    rt, seen, retries, _ = transport([503, httpx.ReadError("reset"), 201])
    assert send(rt, "POST", "/v1/entities").status_code == 201
    keys = {r.headers["idempotency-key"] for r in seen}
    assert len(seen) == 3 and len(keys) == 1
    assert [r.reason for r in retries] == ["503", "ReadError"]


def test_an_auth_write_is_not_sent_again_once_it_may_have_arrived():
    rt, seen, _, _ = transport([httpx.ReadError("reset")])
    with pytest.raises(httpx.ReadError):
        send(rt, "POST", "/v1/auth/refresh")
    assert len(seen) == 1 and "idempotency-key" not in seen[0].headers

    rt, seen, _, _ = transport([502])
    assert send(rt, "POST", "/v1/auth/token").status_code == 502
    assert len(seen) == 1


def test_a_request_that_never_arrived_is_sent_again_whatever_it_is():
    rt, seen, _, _ = transport([httpx.ConnectError("refused"), 200])
    assert send(rt, "POST", "/v1/auth/token").status_code == 200
    assert len(seen) == 2


def test_429_waits_retry_after_even_on_auth():
    rt, _, retries, waits = transport([(429, {"retry-after": "7"}), 200])
    assert send(rt, "POST", "/v1/auth/token").status_code == 200
    assert waits == [7.0] and retries[0].retry_after == 7.0


def test_429_longer_than_max_wait_is_the_callers():
    rt, seen, _, waits = transport([(429, {"retry-after": "90"})], {"max_wait": 60})
    assert send(rt, "GET", "/v1/entities").status_code == 429
    assert waits == [] and len(seen) == 1


def test_retry_after_as_an_http_date():
    rt, _, retries, waits = transport(
        [(503, {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}), 200]
    )
    assert send(rt, "GET", "/v1/entities").status_code == 200
    assert waits == [0.0] and retries[0].retry_after == 0.0


def test_gives_up_after_the_last_attempt():
    rt, seen, _, _ = transport([503, 503, 503], {"attempts": 3})
    assert send(rt, "GET", "/v1/entities").status_code == 503
    assert len(seen) == 3


def test_async_operations_are_refused_not_sent_without_credentials():
    sg = Spingraph("http://api.test", api_key="sgk_test")
    with pytest.raises(RuntimeError, match="synchronous"):
        asyncio.run(get_me.asyncio_detailed(client=sg.client))
    sg.close()
