from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.embedding_batch import EmbeddingBatch
from ...models.embedding_batch_result import EmbeddingBatchResult
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: EmbeddingBatch,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/entities/embeddings/batch",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> EmbeddingBatchResult | Problem | None:
    if response.status_code == 200:
        response_200 = EmbeddingBatchResult.from_dict(response.json())

        return response_200

    if response.status_code == 201:
        response_201 = EmbeddingBatchResult.from_dict(response.json())

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

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

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
) -> Response[EmbeddingBatchResult | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: EmbeddingBatch,
    idempotency_key: str | Unset = UNSET,
) -> Response[EmbeddingBatchResult | Problem]:
    """Write up to 256 vectors of one space in one transaction (all or nothing)

     Every item is checked as a single `PUT` checks its vector; every failing item is named in
    one 422 (`items[3].vector`, `items[4].entity_id`: a missing, deleted or merged entity, or
    one repeated), and nothing is written. An entity of another user's (for anyone but an
    admin) is a 403; an unknown space a 404. Each item appends an `embedding` change of its
    entity. Body limit 1 MiB (the batch limit), a 413 past it: 256 vectors of 384 numbers
    written with 8 significant digits fit; send fewer items per batch for longer vectors
    (about 1 MiB / (dimensions × 11 bytes) items).

    Args:
        idempotency_key (str | Unset):
        body (EmbeddingBatch):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[EmbeddingBatchResult | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: EmbeddingBatch,
    idempotency_key: str | Unset = UNSET,
) -> EmbeddingBatchResult | Problem | None:
    """Write up to 256 vectors of one space in one transaction (all or nothing)

     Every item is checked as a single `PUT` checks its vector; every failing item is named in
    one 422 (`items[3].vector`, `items[4].entity_id`: a missing, deleted or merged entity, or
    one repeated), and nothing is written. An entity of another user's (for anyone but an
    admin) is a 403; an unknown space a 404. Each item appends an `embedding` change of its
    entity. Body limit 1 MiB (the batch limit), a 413 past it: 256 vectors of 384 numbers
    written with 8 significant digits fit; send fewer items per batch for longer vectors
    (about 1 MiB / (dimensions × 11 bytes) items).

    Args:
        idempotency_key (str | Unset):
        body (EmbeddingBatch):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        EmbeddingBatchResult | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: EmbeddingBatch,
    idempotency_key: str | Unset = UNSET,
) -> Response[EmbeddingBatchResult | Problem]:
    """Write up to 256 vectors of one space in one transaction (all or nothing)

     Every item is checked as a single `PUT` checks its vector; every failing item is named in
    one 422 (`items[3].vector`, `items[4].entity_id`: a missing, deleted or merged entity, or
    one repeated), and nothing is written. An entity of another user's (for anyone but an
    admin) is a 403; an unknown space a 404. Each item appends an `embedding` change of its
    entity. Body limit 1 MiB (the batch limit), a 413 past it: 256 vectors of 384 numbers
    written with 8 significant digits fit; send fewer items per batch for longer vectors
    (about 1 MiB / (dimensions × 11 bytes) items).

    Args:
        idempotency_key (str | Unset):
        body (EmbeddingBatch):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[EmbeddingBatchResult | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: EmbeddingBatch,
    idempotency_key: str | Unset = UNSET,
) -> EmbeddingBatchResult | Problem | None:
    """Write up to 256 vectors of one space in one transaction (all or nothing)

     Every item is checked as a single `PUT` checks its vector; every failing item is named in
    one 422 (`items[3].vector`, `items[4].entity_id`: a missing, deleted or merged entity, or
    one repeated), and nothing is written. An entity of another user's (for anyone but an
    admin) is a 403; an unknown space a 404. Each item appends an `embedding` change of its
    entity. Body limit 1 MiB (the batch limit), a 413 past it: 256 vectors of 384 numbers
    written with 8 significant digits fit; send fewer items per batch for longer vectors
    (about 1 MiB / (dimensions × 11 bytes) items).

    Args:
        idempotency_key (str | Unset):
        body (EmbeddingBatch):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        EmbeddingBatchResult | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
