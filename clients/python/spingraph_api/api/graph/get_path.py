import datetime
from http import HTTPStatus
from typing import Any
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.get_path_direction import GetPathDirection
from ...models.graph import Graph
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    as_of: datetime.datetime | str | Unset = UNSET,
    from_: UUID,
    to: UUID,
    max_depth: int | Unset = 6,
    direction: GetPathDirection | Unset = GetPathDirection.OUT,
    type_: str | Unset = UNSET,
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

    json_from_ = str(from_)
    params["from"] = json_from_

    json_to = str(to)
    params["to"] = json_to

    params["max_depth"] = max_depth

    json_direction: str | Unset = UNSET
    if not isinstance(direction, Unset):
        json_direction = direction.value

    params["direction"] = json_direction

    params["type"] = type_

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/graph/path",
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
    *,
    client: AuthenticatedClient | Client,
    as_of: datetime.datetime | str | Unset = UNSET,
    from_: UUID,
    to: UUID,
    max_depth: int | Unset = 6,
    direction: GetPathDirection | Unset = GetPathDirection.OUT,
    type_: str | Unset = UNSET,
) -> Response[Graph | Problem]:
    """The shortest path between two entities, or 404

     A breadth-first search that reads at most 20000 relationships. A path found within that budget is
    answered; when the budget runs out before `to` is reached, the answer is a 422 problem naming
    `max_depth` ("the search reads more than 20000 relationships without reaching `to`; narrow it with
    type= or a smaller max_depth"), never a 404 it cannot back up. 404 means either entity is missing or
    no path of at most `max_depth` relationships exists. As for `getNeighbors`, nodes are whole entities
    only for a caller that may read entities, else `{id, type, depth}`.

    Args:
        as_of (datetime.datetime | str | Unset):
        from_ (UUID):
        to (UUID):
        max_depth (int | Unset):  Default: 6.
        direction (GetPathDirection | Unset):  Default: GetPathDirection.OUT.
        type_ (str | Unset): 1..64 characters, not blank, no control characters Example: company.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Graph | Problem]
    """

    kwargs = _get_kwargs(
        as_of=as_of,
        from_=from_,
        to=to,
        max_depth=max_depth,
        direction=direction,
        type_=type_,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    as_of: datetime.datetime | str | Unset = UNSET,
    from_: UUID,
    to: UUID,
    max_depth: int | Unset = 6,
    direction: GetPathDirection | Unset = GetPathDirection.OUT,
    type_: str | Unset = UNSET,
) -> Graph | Problem | None:
    """The shortest path between two entities, or 404

     A breadth-first search that reads at most 20000 relationships. A path found within that budget is
    answered; when the budget runs out before `to` is reached, the answer is a 422 problem naming
    `max_depth` ("the search reads more than 20000 relationships without reaching `to`; narrow it with
    type= or a smaller max_depth"), never a 404 it cannot back up. 404 means either entity is missing or
    no path of at most `max_depth` relationships exists. As for `getNeighbors`, nodes are whole entities
    only for a caller that may read entities, else `{id, type, depth}`.

    Args:
        as_of (datetime.datetime | str | Unset):
        from_ (UUID):
        to (UUID):
        max_depth (int | Unset):  Default: 6.
        direction (GetPathDirection | Unset):  Default: GetPathDirection.OUT.
        type_ (str | Unset): 1..64 characters, not blank, no control characters Example: company.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Graph | Problem
    """

    return sync_detailed(
        client=client,
        as_of=as_of,
        from_=from_,
        to=to,
        max_depth=max_depth,
        direction=direction,
        type_=type_,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    as_of: datetime.datetime | str | Unset = UNSET,
    from_: UUID,
    to: UUID,
    max_depth: int | Unset = 6,
    direction: GetPathDirection | Unset = GetPathDirection.OUT,
    type_: str | Unset = UNSET,
) -> Response[Graph | Problem]:
    """The shortest path between two entities, or 404

     A breadth-first search that reads at most 20000 relationships. A path found within that budget is
    answered; when the budget runs out before `to` is reached, the answer is a 422 problem naming
    `max_depth` ("the search reads more than 20000 relationships without reaching `to`; narrow it with
    type= or a smaller max_depth"), never a 404 it cannot back up. 404 means either entity is missing or
    no path of at most `max_depth` relationships exists. As for `getNeighbors`, nodes are whole entities
    only for a caller that may read entities, else `{id, type, depth}`.

    Args:
        as_of (datetime.datetime | str | Unset):
        from_ (UUID):
        to (UUID):
        max_depth (int | Unset):  Default: 6.
        direction (GetPathDirection | Unset):  Default: GetPathDirection.OUT.
        type_ (str | Unset): 1..64 characters, not blank, no control characters Example: company.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Graph | Problem]
    """

    kwargs = _get_kwargs(
        as_of=as_of,
        from_=from_,
        to=to,
        max_depth=max_depth,
        direction=direction,
        type_=type_,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    as_of: datetime.datetime | str | Unset = UNSET,
    from_: UUID,
    to: UUID,
    max_depth: int | Unset = 6,
    direction: GetPathDirection | Unset = GetPathDirection.OUT,
    type_: str | Unset = UNSET,
) -> Graph | Problem | None:
    """The shortest path between two entities, or 404

     A breadth-first search that reads at most 20000 relationships. A path found within that budget is
    answered; when the budget runs out before `to` is reached, the answer is a 422 problem naming
    `max_depth` ("the search reads more than 20000 relationships without reaching `to`; narrow it with
    type= or a smaller max_depth"), never a 404 it cannot back up. 404 means either entity is missing or
    no path of at most `max_depth` relationships exists. As for `getNeighbors`, nodes are whole entities
    only for a caller that may read entities, else `{id, type, depth}`.

    Args:
        as_of (datetime.datetime | str | Unset):
        from_ (UUID):
        to (UUID):
        max_depth (int | Unset):  Default: 6.
        direction (GetPathDirection | Unset):  Default: GetPathDirection.OUT.
        type_ (str | Unset): 1..64 characters, not blank, no control characters Example: company.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Graph | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            as_of=as_of,
            from_=from_,
            to=to,
            max_depth=max_depth,
            direction=direction,
            type_=type_,
        )
    ).parsed
