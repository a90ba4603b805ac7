from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.duplicate_page import DuplicatePage
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: UUID,
    *,
    space: str | Unset = UNSET,
    limit: int | Unset = 10,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["space"] = space

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/entities/{id}/duplicates".format(
            id=quote(str(id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> DuplicatePage | Problem | None:
    if response.status_code == 200:
        response_200 = DuplicatePage.from_dict(response.json())

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
) -> Response[DuplicatePage | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: UUID,
    *,
    client: AuthenticatedClient | Client,
    space: str | Unset = UNSET,
    limit: int | Unset = 10,
) -> Response[DuplicatePage | Problem]:
    """Likely duplicates of an entity (its owner or an admin), for a merge

     Live entities of the same type and owner as this one (merged and deleted ones, and this
    one, excluded), ranked by reciprocal-rank fusion (`score = Σ 1 / (60 + rank)`, ties by id)
    of two lists of up to `max(limit × 4, 40)` candidates each: the nearest vectors to this
    entity's in `space` (when given and the entity has a vector there; by the space's
    distance, over its HNSW index) and the most similar names (trigram similarity, `pg_trgm`;
    names below its similarity threshold, 0.3 by default, are not candidates by name). They
    are what `POST /v1/entities/{id}/merge` takes.

    Args:
        id (UUID):
        space (str | Unset):
        limit (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DuplicatePage | Problem]
    """

    kwargs = _get_kwargs(
        id=id,
        space=space,
        limit=limit,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: UUID,
    *,
    client: AuthenticatedClient | Client,
    space: str | Unset = UNSET,
    limit: int | Unset = 10,
) -> DuplicatePage | Problem | None:
    """Likely duplicates of an entity (its owner or an admin), for a merge

     Live entities of the same type and owner as this one (merged and deleted ones, and this
    one, excluded), ranked by reciprocal-rank fusion (`score = Σ 1 / (60 + rank)`, ties by id)
    of two lists of up to `max(limit × 4, 40)` candidates each: the nearest vectors to this
    entity's in `space` (when given and the entity has a vector there; by the space's
    distance, over its HNSW index) and the most similar names (trigram similarity, `pg_trgm`;
    names below its similarity threshold, 0.3 by default, are not candidates by name). They
    are what `POST /v1/entities/{id}/merge` takes.

    Args:
        id (UUID):
        space (str | Unset):
        limit (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DuplicatePage | Problem
    """

    return sync_detailed(
        id=id,
        client=client,
        space=space,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    id: UUID,
    *,
    client: AuthenticatedClient | Client,
    space: str | Unset = UNSET,
    limit: int | Unset = 10,
) -> Response[DuplicatePage | Problem]:
    """Likely duplicates of an entity (its owner or an admin), for a merge

     Live entities of the same type and owner as this one (merged and deleted ones, and this
    one, excluded), ranked by reciprocal-rank fusion (`score = Σ 1 / (60 + rank)`, ties by id)
    of two lists of up to `max(limit × 4, 40)` candidates each: the nearest vectors to this
    entity's in `space` (when given and the entity has a vector there; by the space's
    distance, over its HNSW index) and the most similar names (trigram similarity, `pg_trgm`;
    names below its similarity threshold, 0.3 by default, are not candidates by name). They
    are what `POST /v1/entities/{id}/merge` takes.

    Args:
        id (UUID):
        space (str | Unset):
        limit (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DuplicatePage | Problem]
    """

    kwargs = _get_kwargs(
        id=id,
        space=space,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: UUID,
    *,
    client: AuthenticatedClient | Client,
    space: str | Unset = UNSET,
    limit: int | Unset = 10,
) -> DuplicatePage | Problem | None:
    """Likely duplicates of an entity (its owner or an admin), for a merge

     Live entities of the same type and owner as this one (merged and deleted ones, and this
    one, excluded), ranked by reciprocal-rank fusion (`score = Σ 1 / (60 + rank)`, ties by id)
    of two lists of up to `max(limit × 4, 40)` candidates each: the nearest vectors to this
    entity's in `space` (when given and the entity has a vector there; by the space's
    distance, over its HNSW index) and the most similar names (trigram similarity, `pg_trgm`;
    names below its similarity threshold, 0.3 by default, are not candidates by name). They
    are what `POST /v1/entities/{id}/merge` takes.

    Args:
        id (UUID):
        space (str | Unset):
        limit (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DuplicatePage | Problem
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            space=space,
            limit=limit,
        )
    ).parsed
