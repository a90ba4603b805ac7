import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.get_neighbors_direction import GetNeighborsDirection
from ...models.graph import Graph
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    entity_id: UUID,
    *,
    as_of: datetime.datetime | str | Unset = UNSET,
    depth: int | Unset = 1,
    direction: GetNeighborsDirection | Unset = GetNeighborsDirection.BOTH,
    type_: str | Unset = UNSET,
    limit: int | Unset = 100,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_as_of: str | Unset
    if isinstance(as_of, Unset):
        json_as_of = UNSET
    elif isinstance(as_of, datetime.datetime):
        json_as_of = as_of.isoformat()
    else:
        json_as_of = as_of
    params["as_of"] = json_as_of

    params["depth"] = depth

    json_direction: str | Unset = UNSET
    if not isinstance(direction, Unset):
        json_direction = direction.value

    params["direction"] = json_direction

    params["type"] = type_

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/graph/neighbors/{entity_id}".format(
            entity_id=quote(str(entity_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Graph | Problem | None:
    if response.status_code == 200:
        response_200 = Graph.from_dict(response.json())

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

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

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
) -> Response[Graph | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    entity_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    as_of: datetime.datetime | str | Unset = UNSET,
    depth: int | Unset = 1,
    direction: GetNeighborsDirection | Unset = GetNeighborsDirection.BOTH,
    type_: str | Unset = UNSET,
    limit: int | Unset = 100,
) -> Response[Graph | Problem]:
    """Entities reachable from one entity within `depth` hops

     A breadth-first walk. Its cost is bounded by the relationships it reads, not only by the nodes it
    keeps: the walk reads at most 20000 relationships in all. When that budget (or `limit`, or the 5000
    edges an answer lists) cuts the walk short, the answer holds what was found, nearest first, with
    `truncated: true`; narrow it with `type`, `direction` or a smaller `depth` for an exact answer. The
    edges among the kept nodes are found from them (each kept node's outgoing relationships, again at
    most 20000 read), so around a hub with more, `truncated` is true too. Nodes are whole entities only
    for a caller that may read entities (`entities:read` or `entities:write`, which every signed-in
    person holds); an API key with only the relationship scopes sees each node as `{id, type, depth}`.

    Args:
        entity_id (UUID):
        as_of (datetime.datetime | str | Unset):
        depth (int | Unset):  Default: 1.
        direction (GetNeighborsDirection | Unset):  Default: GetNeighborsDirection.BOTH.
        type_ (str | Unset): 1..64 characters, not blank, no control characters Example: company.
        limit (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Graph | Problem]
    """

    kwargs = _get_kwargs(
        entity_id=entity_id,
        as_of=as_of,
        depth=depth,
        direction=direction,
        type_=type_,
        limit=limit,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    entity_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    as_of: datetime.datetime | str | Unset = UNSET,
    depth: int | Unset = 1,
    direction: GetNeighborsDirection | Unset = GetNeighborsDirection.BOTH,
    type_: str | Unset = UNSET,
    limit: int | Unset = 100,
) -> Graph | Problem | None:
    """Entities reachable from one entity within `depth` hops

     A breadth-first walk. Its cost is bounded by the relationships it reads, not only by the nodes it
    keeps: the walk reads at most 20000 relationships in all. When that budget (or `limit`, or the 5000
    edges an answer lists) cuts the walk short, the answer holds what was found, nearest first, with
    `truncated: true`; narrow it with `type`, `direction` or a smaller `depth` for an exact answer. The
    edges among the kept nodes are found from them (each kept node's outgoing relationships, again at
    most 20000 read), so around a hub with more, `truncated` is true too. Nodes are whole entities only
    for a caller that may read entities (`entities:read` or `entities:write`, which every signed-in
    person holds); an API key with only the relationship scopes sees each node as `{id, type, depth}`.

    Args:
        entity_id (UUID):
        as_of (datetime.datetime | str | Unset):
        depth (int | Unset):  Default: 1.
        direction (GetNeighborsDirection | Unset):  Default: GetNeighborsDirection.BOTH.
        type_ (str | Unset): 1..64 characters, not blank, no control characters Example: company.
        limit (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Graph | Problem
    """

    return sync_detailed(
        entity_id=entity_id,
        client=client,
        as_of=as_of,
        depth=depth,
        direction=direction,
        type_=type_,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    entity_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    as_of: datetime.datetime | str | Unset = UNSET,
    depth: int | Unset = 1,
    direction: GetNeighborsDirection | Unset = GetNeighborsDirection.BOTH,
    type_: str | Unset = UNSET,
    limit: int | Unset = 100,
) -> Response[Graph | Problem]:
    """Entities reachable from one entity within `depth` hops

     A breadth-first walk. Its cost is bounded by the relationships it reads, not only by the nodes it
    keeps: the walk reads at most 20000 relationships in all. When that budget (or `limit`, or the 5000
    edges an answer lists) cuts the walk short, the answer holds what was found, nearest first, with
    `truncated: true`; narrow it with `type`, `direction` or a smaller `depth` for an exact answer. The
    edges among the kept nodes are found from them (each kept node's outgoing relationships, again at
    most 20000 read), so around a hub with more, `truncated` is true too. Nodes are whole entities only
    for a caller that may read entities (`entities:read` or `entities:write`, which every signed-in
    person holds); an API key with only the relationship scopes sees each node as `{id, type, depth}`.

    Args:
        entity_id (UUID):
        as_of (datetime.datetime | str | Unset):
        depth (int | Unset):  Default: 1.
        direction (GetNeighborsDirection | Unset):  Default: GetNeighborsDirection.BOTH.
        type_ (str | Unset): 1..64 characters, not blank, no control characters Example: company.
        limit (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Graph | Problem]
    """

    kwargs = _get_kwargs(
        entity_id=entity_id,
        as_of=as_of,
        depth=depth,
        direction=direction,
        type_=type_,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    entity_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    as_of: datetime.datetime | str | Unset = UNSET,
    depth: int | Unset = 1,
    direction: GetNeighborsDirection | Unset = GetNeighborsDirection.BOTH,
    type_: str | Unset = UNSET,
    limit: int | Unset = 100,
) -> Graph | Problem | None:
    """Entities reachable from one entity within `depth` hops

     A breadth-first walk. Its cost is bounded by the relationships it reads, not only by the nodes it
    keeps: the walk reads at most 20000 relationships in all. When that budget (or `limit`, or the 5000
    edges an answer lists) cuts the walk short, the answer holds what was found, nearest first, with
    `truncated: true`; narrow it with `type`, `direction` or a smaller `depth` for an exact answer. The
    edges among the kept nodes are found from them (each kept node's outgoing relationships, again at
    most 20000 read), so around a hub with more, `truncated` is true too. Nodes are whole entities only
    for a caller that may read entities (`entities:read` or `entities:write`, which every signed-in
    person holds); an API key with only the relationship scopes sees each node as `{id, type, depth}`.

    Args:
        entity_id (UUID):
        as_of (datetime.datetime | str | Unset):
        depth (int | Unset):  Default: 1.
        direction (GetNeighborsDirection | Unset):  Default: GetNeighborsDirection.BOTH.
        type_ (str | Unset): 1..64 characters, not blank, no control characters Example: company.
        limit (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Graph | Problem
    """

    return (
        await asyncio_detailed(
            entity_id=entity_id,
            client=client,
            as_of=as_of,
            depth=depth,
            direction=direction,
            type_=type_,
            limit=limit,
        )
    ).parsed
