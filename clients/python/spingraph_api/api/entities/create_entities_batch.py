from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.create_entities_batch_body import CreateEntitiesBatchBody
from ...models.create_entities_batch_response_200 import CreateEntitiesBatchResponse200
from ...models.create_entities_batch_response_201 import CreateEntitiesBatchResponse201
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: CreateEntitiesBatchBody,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/entities/batch",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> CreateEntitiesBatchResponse200 | CreateEntitiesBatchResponse201 | Problem | None:
    if response.status_code == 200:
        response_200 = CreateEntitiesBatchResponse200.from_dict(response.json())

        return response_200

    if response.status_code == 201:
        response_201 = CreateEntitiesBatchResponse201.from_dict(response.json())

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
) -> Response[
    CreateEntitiesBatchResponse200 | CreateEntitiesBatchResponse201 | Problem
]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: CreateEntitiesBatchBody,
    idempotency_key: str | Unset = UNSET,
) -> Response[
    CreateEntitiesBatchResponse200 | CreateEntitiesBatchResponse201 | Problem
]:
    """Create up to 1000 entities in one transaction (all or nothing)

     Errors name the failing item by index (`items[3].name`). Body limit 1 MiB.

    Args:
        idempotency_key (str | Unset):
        body (CreateEntitiesBatchBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CreateEntitiesBatchResponse200 | CreateEntitiesBatchResponse201 | Problem]
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
    body: CreateEntitiesBatchBody,
    idempotency_key: str | Unset = UNSET,
) -> CreateEntitiesBatchResponse200 | CreateEntitiesBatchResponse201 | Problem | None:
    """Create up to 1000 entities in one transaction (all or nothing)

     Errors name the failing item by index (`items[3].name`). Body limit 1 MiB.

    Args:
        idempotency_key (str | Unset):
        body (CreateEntitiesBatchBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CreateEntitiesBatchResponse200 | CreateEntitiesBatchResponse201 | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: CreateEntitiesBatchBody,
    idempotency_key: str | Unset = UNSET,
) -> Response[
    CreateEntitiesBatchResponse200 | CreateEntitiesBatchResponse201 | Problem
]:
    """Create up to 1000 entities in one transaction (all or nothing)

     Errors name the failing item by index (`items[3].name`). Body limit 1 MiB.

    Args:
        idempotency_key (str | Unset):
        body (CreateEntitiesBatchBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CreateEntitiesBatchResponse200 | CreateEntitiesBatchResponse201 | Problem]
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
    body: CreateEntitiesBatchBody,
    idempotency_key: str | Unset = UNSET,
) -> CreateEntitiesBatchResponse200 | CreateEntitiesBatchResponse201 | Problem | None:
    """Create up to 1000 entities in one transaction (all or nothing)

     Errors name the failing item by index (`items[3].name`). Body limit 1 MiB.

    Args:
        idempotency_key (str | Unset):
        body (CreateEntitiesBatchBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CreateEntitiesBatchResponse200 | CreateEntitiesBatchResponse201 | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
