from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.embedding import Embedding
from ...models.embedding_put import EmbeddingPut
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: UUID,
    space: str,
    *,
    body: EmbeddingPut,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/v1/entities/{id}/embeddings/{space}".format(
            id=quote(str(id), safe=""),
            space=quote(str(space), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Embedding | Problem | None:
    if response.status_code == 200:
        response_200 = Embedding.from_dict(response.json())

        return response_200

    if response.status_code == 201:
        response_201 = Embedding.from_dict(response.json())

        return response_201

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

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

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
) -> Response[Embedding | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: UUID,
    space: str,
    *,
    client: AuthenticatedClient | Client,
    body: EmbeddingPut,
    idempotency_key: str | Unset = UNSET,
) -> Response[Embedding | Problem]:
    """Write an entity's vector in a space (its owner or an admin)

     The vector must be an array of exactly the space's `dimensions` numbers, each finite as a
    single-precision number (pgvector stores `float4`), and not all zeros in a `cosine` space;
    otherwise a 422 naming `vector`. An unknown space, or a missing, deleted or merged entity,
    is a 404. The write appends an `embedding` change of the entity to the change feed. A
    vector written here is the entity's own: an unmerge never takes it back. Body limit
    64 KiB (2000 numbers of up to 31 characters).

    Args:
        id (UUID):
        space (str):
        idempotency_key (str | Unset):
        body (EmbeddingPut):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Embedding | Problem]
    """

    kwargs = _get_kwargs(
        id=id,
        space=space,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: UUID,
    space: str,
    *,
    client: AuthenticatedClient | Client,
    body: EmbeddingPut,
    idempotency_key: str | Unset = UNSET,
) -> Embedding | Problem | None:
    """Write an entity's vector in a space (its owner or an admin)

     The vector must be an array of exactly the space's `dimensions` numbers, each finite as a
    single-precision number (pgvector stores `float4`), and not all zeros in a `cosine` space;
    otherwise a 422 naming `vector`. An unknown space, or a missing, deleted or merged entity,
    is a 404. The write appends an `embedding` change of the entity to the change feed. A
    vector written here is the entity's own: an unmerge never takes it back. Body limit
    64 KiB (2000 numbers of up to 31 characters).

    Args:
        id (UUID):
        space (str):
        idempotency_key (str | Unset):
        body (EmbeddingPut):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Embedding | Problem
    """

    return sync_detailed(
        id=id,
        space=space,
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    id: UUID,
    space: str,
    *,
    client: AuthenticatedClient | Client,
    body: EmbeddingPut,
    idempotency_key: str | Unset = UNSET,
) -> Response[Embedding | Problem]:
    """Write an entity's vector in a space (its owner or an admin)

     The vector must be an array of exactly the space's `dimensions` numbers, each finite as a
    single-precision number (pgvector stores `float4`), and not all zeros in a `cosine` space;
    otherwise a 422 naming `vector`. An unknown space, or a missing, deleted or merged entity,
    is a 404. The write appends an `embedding` change of the entity to the change feed. A
    vector written here is the entity's own: an unmerge never takes it back. Body limit
    64 KiB (2000 numbers of up to 31 characters).

    Args:
        id (UUID):
        space (str):
        idempotency_key (str | Unset):
        body (EmbeddingPut):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Embedding | Problem]
    """

    kwargs = _get_kwargs(
        id=id,
        space=space,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: UUID,
    space: str,
    *,
    client: AuthenticatedClient | Client,
    body: EmbeddingPut,
    idempotency_key: str | Unset = UNSET,
) -> Embedding | Problem | None:
    """Write an entity's vector in a space (its owner or an admin)

     The vector must be an array of exactly the space's `dimensions` numbers, each finite as a
    single-precision number (pgvector stores `float4`), and not all zeros in a `cosine` space;
    otherwise a 422 naming `vector`. An unknown space, or a missing, deleted or merged entity,
    is a 404. The write appends an `embedding` change of the entity to the change feed. A
    vector written here is the entity's own: an unmerge never takes it back. Body limit
    64 KiB (2000 numbers of up to 31 characters).

    Args:
        id (UUID):
        space (str):
        idempotency_key (str | Unset):
        body (EmbeddingPut):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Embedding | Problem
    """

    return (
        await asyncio_detailed(
            id=id,
            space=space,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
