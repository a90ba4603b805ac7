from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.change_page import ChangePage
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    after: str | Unset = UNSET,
    limit: int | Unset = 50,
    types: str | Unset = UNSET,
    wait: int | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["after"] = after

    params["limit"] = limit

    params["types"] = types

    params["wait"] = wait

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/changes",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ChangePage | Problem | None:
    if response.status_code == 200:
        response_200 = ChangePage.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ChangePage | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    after: str | Unset = UNSET,
    limit: int | Unset = 50,
    types: str | Unset = UNSET,
    wait: int | Unset = UNSET,
) -> Response[ChangePage | Problem]:
    """Follow every change to entities and relationships, in commit order

     Every committed create, update, delete and restore of an entity or relationship, oldest
    first. Resume from `next_cursor`: a cursor never skips a change that commits later (a page
    only holds changes of transactions older than every transaction still running), so a reader
    that follows `next_cursor` sees each change exactly once, in order. `wait` long-polls: the
    answer comes as soon as there is a change, or empty when the time is up. Needs an API key
    with the `changes:read` scope, or an admin. A change carries its `document` only when the
    reader may also read that kind (`entities:read`, `relationships:read`); otherwise
    `document` is `null` and `withheld` is `true`.

    Args:
        after (str | Unset):
        limit (int | Unset):  Default: 50.
        types (str | Unset):
        wait (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ChangePage | Problem]
    """

    kwargs = _get_kwargs(
        after=after,
        limit=limit,
        types=types,
        wait=wait,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    after: str | Unset = UNSET,
    limit: int | Unset = 50,
    types: str | Unset = UNSET,
    wait: int | Unset = UNSET,
) -> ChangePage | Problem | None:
    """Follow every change to entities and relationships, in commit order

     Every committed create, update, delete and restore of an entity or relationship, oldest
    first. Resume from `next_cursor`: a cursor never skips a change that commits later (a page
    only holds changes of transactions older than every transaction still running), so a reader
    that follows `next_cursor` sees each change exactly once, in order. `wait` long-polls: the
    answer comes as soon as there is a change, or empty when the time is up. Needs an API key
    with the `changes:read` scope, or an admin. A change carries its `document` only when the
    reader may also read that kind (`entities:read`, `relationships:read`); otherwise
    `document` is `null` and `withheld` is `true`.

    Args:
        after (str | Unset):
        limit (int | Unset):  Default: 50.
        types (str | Unset):
        wait (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ChangePage | Problem
    """

    return sync_detailed(
        client=client,
        after=after,
        limit=limit,
        types=types,
        wait=wait,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    after: str | Unset = UNSET,
    limit: int | Unset = 50,
    types: str | Unset = UNSET,
    wait: int | Unset = UNSET,
) -> Response[ChangePage | Problem]:
    """Follow every change to entities and relationships, in commit order

     Every committed create, update, delete and restore of an entity or relationship, oldest
    first. Resume from `next_cursor`: a cursor never skips a change that commits later (a page
    only holds changes of transactions older than every transaction still running), so a reader
    that follows `next_cursor` sees each change exactly once, in order. `wait` long-polls: the
    answer comes as soon as there is a change, or empty when the time is up. Needs an API key
    with the `changes:read` scope, or an admin. A change carries its `document` only when the
    reader may also read that kind (`entities:read`, `relationships:read`); otherwise
    `document` is `null` and `withheld` is `true`.

    Args:
        after (str | Unset):
        limit (int | Unset):  Default: 50.
        types (str | Unset):
        wait (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ChangePage | Problem]
    """

    kwargs = _get_kwargs(
        after=after,
        limit=limit,
        types=types,
        wait=wait,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    after: str | Unset = UNSET,
    limit: int | Unset = 50,
    types: str | Unset = UNSET,
    wait: int | Unset = UNSET,
) -> ChangePage | Problem | None:
    """Follow every change to entities and relationships, in commit order

     Every committed create, update, delete and restore of an entity or relationship, oldest
    first. Resume from `next_cursor`: a cursor never skips a change that commits later (a page
    only holds changes of transactions older than every transaction still running), so a reader
    that follows `next_cursor` sees each change exactly once, in order. `wait` long-polls: the
    answer comes as soon as there is a change, or empty when the time is up. Needs an API key
    with the `changes:read` scope, or an admin. A change carries its `document` only when the
    reader may also read that kind (`entities:read`, `relationships:read`); otherwise
    `document` is `null` and `withheld` is `true`.

    Args:
        after (str | Unset):
        limit (int | Unset):  Default: 50.
        types (str | Unset):
        wait (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ChangePage | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            after=after,
            limit=limit,
            types=types,
            wait=wait,
        )
    ).parsed
