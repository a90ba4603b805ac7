from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.type_report import TypeReport
from ...types import Response


def _get_kwargs() -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/reports/types",
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | TypeReport | None:
    if response.status_code == 200:
        response_200 = TypeReport.from_dict(response.json())

        return response_200

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
) -> Response[Problem | TypeReport]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
) -> Response[Problem | TypeReport]:
    """Live entity counts per type of the caller's own entities

     How many live entities the signed-in principal owns, per type. Live: not deleted (a merged
    entity is deleted by its merge, so it is not counted either). Only the caller's own
    entities are counted, whatever the role: an admin sees their own counts too (this is a
    report of the caller's graph, not of the whole database). Needs the `entities:read` (or
    `entities:write`) scope: bearer tokens and session cookies carry every scope of their
    role, an API key the scopes it was given. Types are in byte order of their names.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | TypeReport]
    """

    kwargs = _get_kwargs()

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
) -> Problem | TypeReport | None:
    """Live entity counts per type of the caller's own entities

     How many live entities the signed-in principal owns, per type. Live: not deleted (a merged
    entity is deleted by its merge, so it is not counted either). Only the caller's own
    entities are counted, whatever the role: an admin sees their own counts too (this is a
    report of the caller's graph, not of the whole database). Needs the `entities:read` (or
    `entities:write`) scope: bearer tokens and session cookies carry every scope of their
    role, an API key the scopes it was given. Types are in byte order of their names.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | TypeReport
    """

    return sync_detailed(
        client=client,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
) -> Response[Problem | TypeReport]:
    """Live entity counts per type of the caller's own entities

     How many live entities the signed-in principal owns, per type. Live: not deleted (a merged
    entity is deleted by its merge, so it is not counted either). Only the caller's own
    entities are counted, whatever the role: an admin sees their own counts too (this is a
    report of the caller's graph, not of the whole database). Needs the `entities:read` (or
    `entities:write`) scope: bearer tokens and session cookies carry every scope of their
    role, an API key the scopes it was given. Types are in byte order of their names.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | TypeReport]
    """

    kwargs = _get_kwargs()

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
) -> Problem | TypeReport | None:
    """Live entity counts per type of the caller's own entities

     How many live entities the signed-in principal owns, per type. Live: not deleted (a merged
    entity is deleted by its merge, so it is not counted either). Only the caller's own
    entities are counted, whatever the role: an admin sees their own counts too (this is a
    report of the caller's graph, not of the whole database). Needs the `entities:read` (or
    `entities:write`) scope: bearer tokens and session cookies carry every scope of their
    role, an API key the scopes it was given. Types are in byte order of their names.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | TypeReport
    """

    return (
        await asyncio_detailed(
            client=client,
        )
    ).parsed
