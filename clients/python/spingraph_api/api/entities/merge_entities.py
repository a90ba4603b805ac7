from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.entity import Entity
from ...models.merge_request import MergeRequest
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: UUID,
    *,
    body: MergeRequest,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/entities/{id}/merge".format(
            id=quote(str(id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Entity | Problem | None:
    if response.status_code == 200:
        response_200 = Entity.from_dict(response.json())

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
) -> Response[Entity | Problem]:
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
    body: MergeRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[Entity | Problem]:
    """Fold duplicate entities into this one (owner of all of them, or admin)

     In one transaction: every live relationship of the `from` entities moves to this entity
    (ones that would become a self-loop or repeat an active source, target and type are
    soft-deleted instead), the `from` entities are soft-deleted with `merged_into` set (reading
    one answers 308 to this entity), and each entity gets an audit row and a change-feed row.

    Relationships belong to their creators: a merge by anyone but an admin is a 409, and
    changes nothing, when a live relationship of a `from` entity that would move or go was
    created by another user (its creator may delete it, or an admin merge). A deleted or
    merged entity the caller may not change answers as a missing id does (404 for this
    entity, 422 `no such entity` in `from`); only its owner or an admin learns what became
    of it.

    Args:
        id (UUID):
        idempotency_key (str | Unset):
        body (MergeRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Entity | Problem]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: MergeRequest,
    idempotency_key: str | Unset = UNSET,
) -> Entity | Problem | None:
    """Fold duplicate entities into this one (owner of all of them, or admin)

     In one transaction: every live relationship of the `from` entities moves to this entity
    (ones that would become a self-loop or repeat an active source, target and type are
    soft-deleted instead), the `from` entities are soft-deleted with `merged_into` set (reading
    one answers 308 to this entity), and each entity gets an audit row and a change-feed row.

    Relationships belong to their creators: a merge by anyone but an admin is a 409, and
    changes nothing, when a live relationship of a `from` entity that would move or go was
    created by another user (its creator may delete it, or an admin merge). A deleted or
    merged entity the caller may not change answers as a missing id does (404 for this
    entity, 422 `no such entity` in `from`); only its owner or an admin learns what became
    of it.

    Args:
        id (UUID):
        idempotency_key (str | Unset):
        body (MergeRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Entity | Problem
    """

    return sync_detailed(
        id=id,
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: MergeRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[Entity | Problem]:
    """Fold duplicate entities into this one (owner of all of them, or admin)

     In one transaction: every live relationship of the `from` entities moves to this entity
    (ones that would become a self-loop or repeat an active source, target and type are
    soft-deleted instead), the `from` entities are soft-deleted with `merged_into` set (reading
    one answers 308 to this entity), and each entity gets an audit row and a change-feed row.

    Relationships belong to their creators: a merge by anyone but an admin is a 409, and
    changes nothing, when a live relationship of a `from` entity that would move or go was
    created by another user (its creator may delete it, or an admin merge). A deleted or
    merged entity the caller may not change answers as a missing id does (404 for this
    entity, 422 `no such entity` in `from`); only its owner or an admin learns what became
    of it.

    Args:
        id (UUID):
        idempotency_key (str | Unset):
        body (MergeRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Entity | Problem]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: MergeRequest,
    idempotency_key: str | Unset = UNSET,
) -> Entity | Problem | None:
    """Fold duplicate entities into this one (owner of all of them, or admin)

     In one transaction: every live relationship of the `from` entities moves to this entity
    (ones that would become a self-loop or repeat an active source, target and type are
    soft-deleted instead), the `from` entities are soft-deleted with `merged_into` set (reading
    one answers 308 to this entity), and each entity gets an audit row and a change-feed row.

    Relationships belong to their creators: a merge by anyone but an admin is a 409, and
    changes nothing, when a live relationship of a `from` entity that would move or go was
    created by another user (its creator may delete it, or an admin merge). A deleted or
    merged entity the caller may not change answers as a missing id does (404 for this
    entity, 422 `no such entity` in `from`); only its owner or an admin learns what became
    of it.

    Args:
        id (UUID):
        idempotency_key (str | Unset):
        body (MergeRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Entity | Problem
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
