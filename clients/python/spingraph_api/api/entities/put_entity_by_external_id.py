from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.entity import Entity
from ...models.entity_put import EntityPut
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    type_: str,
    external_id: str,
    *,
    body: EntityPut,
    owner_id: str | Unset | UUID = UNSET,
    idempotency_key: str | Unset = UNSET,
    if_match: str | Unset = UNSET,
    if_none_match: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    if not isinstance(if_match, Unset):
        headers["If-Match"] = if_match

    if not isinstance(if_none_match, Unset):
        headers["If-None-Match"] = if_none_match

    params: dict[str, Any] = {}

    json_owner_id: str | Unset
    if isinstance(owner_id, Unset):
        json_owner_id = UNSET
    elif isinstance(owner_id, UUID):
        json_owner_id = str(owner_id)
    else:
        json_owner_id = owner_id
    params["owner_id"] = json_owner_id

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/v1/entities/by-external-id/{type_}/{external_id}".format(
            type_=quote(str(type_), safe=""),
            external_id=quote(str(external_id), safe=""),
        ),
        "params": params,
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

    if response.status_code == 201:
        response_201 = Entity.from_dict(response.json())

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

    if response.status_code == 412:
        response_412 = Problem.from_dict(response.json())

        return response_412

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
    type_: str,
    external_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: EntityPut,
    owner_id: str | Unset | UUID = UNSET,
    idempotency_key: str | Unset = UNSET,
    if_match: str | Unset = UNSET,
    if_none_match: str | Unset = UNSET,
) -> Response[Entity | Problem]:
    """Create (201) or replace (200) the caller's entity with this natural key

     An upsert for pipelines that re-run: the whole entity is written (absent `confidence` and
    `metadata` take their defaults). `If-Match` applies to the existing entity (412 when stale,
    or when there is none); `If-None-Match: *` only creates (412 when the key is taken). With
    another user's `owner_id`: 403 unless the caller is an admin, and 403 for an admin too when
    that user has no live entity with this key (an admin replaces, never creates, in another's
    name).

    Args:
        type_ (str): 1..64 characters, not blank, no control characters Example: company.
        external_id (str): 1..256 characters, not blank, no control characters Example:
            crm-000172.
        owner_id (str | Unset | UUID):
        idempotency_key (str | Unset):
        if_match (str | Unset):
        if_none_match (str | Unset):
        body (EntityPut): The whole entity; `type` and `external_id` come from the path (and must
            match it when repeated)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Entity | Problem]
    """

    kwargs = _get_kwargs(
        type_=type_,
        external_id=external_id,
        body=body,
        owner_id=owner_id,
        idempotency_key=idempotency_key,
        if_match=if_match,
        if_none_match=if_none_match,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    type_: str,
    external_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: EntityPut,
    owner_id: str | Unset | UUID = UNSET,
    idempotency_key: str | Unset = UNSET,
    if_match: str | Unset = UNSET,
    if_none_match: str | Unset = UNSET,
) -> Entity | Problem | None:
    """Create (201) or replace (200) the caller's entity with this natural key

     An upsert for pipelines that re-run: the whole entity is written (absent `confidence` and
    `metadata` take their defaults). `If-Match` applies to the existing entity (412 when stale,
    or when there is none); `If-None-Match: *` only creates (412 when the key is taken). With
    another user's `owner_id`: 403 unless the caller is an admin, and 403 for an admin too when
    that user has no live entity with this key (an admin replaces, never creates, in another's
    name).

    Args:
        type_ (str): 1..64 characters, not blank, no control characters Example: company.
        external_id (str): 1..256 characters, not blank, no control characters Example:
            crm-000172.
        owner_id (str | Unset | UUID):
        idempotency_key (str | Unset):
        if_match (str | Unset):
        if_none_match (str | Unset):
        body (EntityPut): The whole entity; `type` and `external_id` come from the path (and must
            match it when repeated)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Entity | Problem
    """

    return sync_detailed(
        type_=type_,
        external_id=external_id,
        client=client,
        body=body,
        owner_id=owner_id,
        idempotency_key=idempotency_key,
        if_match=if_match,
        if_none_match=if_none_match,
    ).parsed


async def asyncio_detailed(
    type_: str,
    external_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: EntityPut,
    owner_id: str | Unset | UUID = UNSET,
    idempotency_key: str | Unset = UNSET,
    if_match: str | Unset = UNSET,
    if_none_match: str | Unset = UNSET,
) -> Response[Entity | Problem]:
    """Create (201) or replace (200) the caller's entity with this natural key

     An upsert for pipelines that re-run: the whole entity is written (absent `confidence` and
    `metadata` take their defaults). `If-Match` applies to the existing entity (412 when stale,
    or when there is none); `If-None-Match: *` only creates (412 when the key is taken). With
    another user's `owner_id`: 403 unless the caller is an admin, and 403 for an admin too when
    that user has no live entity with this key (an admin replaces, never creates, in another's
    name).

    Args:
        type_ (str): 1..64 characters, not blank, no control characters Example: company.
        external_id (str): 1..256 characters, not blank, no control characters Example:
            crm-000172.
        owner_id (str | Unset | UUID):
        idempotency_key (str | Unset):
        if_match (str | Unset):
        if_none_match (str | Unset):
        body (EntityPut): The whole entity; `type` and `external_id` come from the path (and must
            match it when repeated)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Entity | Problem]
    """

    kwargs = _get_kwargs(
        type_=type_,
        external_id=external_id,
        body=body,
        owner_id=owner_id,
        idempotency_key=idempotency_key,
        if_match=if_match,
        if_none_match=if_none_match,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    type_: str,
    external_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: EntityPut,
    owner_id: str | Unset | UUID = UNSET,
    idempotency_key: str | Unset = UNSET,
    if_match: str | Unset = UNSET,
    if_none_match: str | Unset = UNSET,
) -> Entity | Problem | None:
    """Create (201) or replace (200) the caller's entity with this natural key

     An upsert for pipelines that re-run: the whole entity is written (absent `confidence` and
    `metadata` take their defaults). `If-Match` applies to the existing entity (412 when stale,
    or when there is none); `If-None-Match: *` only creates (412 when the key is taken). With
    another user's `owner_id`: 403 unless the caller is an admin, and 403 for an admin too when
    that user has no live entity with this key (an admin replaces, never creates, in another's
    name).

    Args:
        type_ (str): 1..64 characters, not blank, no control characters Example: company.
        external_id (str): 1..256 characters, not blank, no control characters Example:
            crm-000172.
        owner_id (str | Unset | UUID):
        idempotency_key (str | Unset):
        if_match (str | Unset):
        if_none_match (str | Unset):
        body (EntityPut): The whole entity; `type` and `external_id` come from the path (and must
            match it when repeated)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Entity | Problem
    """

    return (
        await asyncio_detailed(
            type_=type_,
            external_id=external_id,
            client=client,
            body=body,
            owner_id=owner_id,
            idempotency_key=idempotency_key,
            if_match=if_match,
            if_none_match=if_none_match,
        )
    ).parsed
