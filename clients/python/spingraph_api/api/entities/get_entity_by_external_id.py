from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.entity import Entity
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    type_: str,
    external_id: str,
    *,
    owner_id: str | Unset | UUID = UNSET,
    if_none_match: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
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
        "method": "get",
        "url": "/v1/entities/by-external-id/{type_}/{external_id}".format(
            type_=quote(str(type_), safe=""),
            external_id=quote(str(external_id), safe=""),
        ),
        "params": params,
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Any | Entity | Problem | None:
    if response.status_code == 200:
        response_200 = Entity.from_dict(response.json())

        return response_200

    if response.status_code == 304:
        response_304 = cast(Any, None)
        return response_304

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
) -> Response[Any | Entity | Problem]:
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
    owner_id: str | Unset | UUID = UNSET,
    if_none_match: str | Unset = UNSET,
) -> Response[Any | Entity | Problem]:
    """Read the live entity with this natural key (the caller's, or owner_id's)

    Args:
        type_ (str): 1..64 characters, not blank, no control characters Example: company.
        external_id (str): 1..256 characters, not blank, no control characters Example:
            crm-000172.
        owner_id (str | Unset | UUID):
        if_none_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Entity | Problem]
    """

    kwargs = _get_kwargs(
        type_=type_,
        external_id=external_id,
        owner_id=owner_id,
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
    owner_id: str | Unset | UUID = UNSET,
    if_none_match: str | Unset = UNSET,
) -> Any | Entity | Problem | None:
    """Read the live entity with this natural key (the caller's, or owner_id's)

    Args:
        type_ (str): 1..64 characters, not blank, no control characters Example: company.
        external_id (str): 1..256 characters, not blank, no control characters Example:
            crm-000172.
        owner_id (str | Unset | UUID):
        if_none_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Entity | Problem
    """

    return sync_detailed(
        type_=type_,
        external_id=external_id,
        client=client,
        owner_id=owner_id,
        if_none_match=if_none_match,
    ).parsed


async def asyncio_detailed(
    type_: str,
    external_id: str,
    *,
    client: AuthenticatedClient | Client,
    owner_id: str | Unset | UUID = UNSET,
    if_none_match: str | Unset = UNSET,
) -> Response[Any | Entity | Problem]:
    """Read the live entity with this natural key (the caller's, or owner_id's)

    Args:
        type_ (str): 1..64 characters, not blank, no control characters Example: company.
        external_id (str): 1..256 characters, not blank, no control characters Example:
            crm-000172.
        owner_id (str | Unset | UUID):
        if_none_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Entity | Problem]
    """

    kwargs = _get_kwargs(
        type_=type_,
        external_id=external_id,
        owner_id=owner_id,
        if_none_match=if_none_match,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    type_: str,
    external_id: str,
    *,
    client: AuthenticatedClient | Client,
    owner_id: str | Unset | UUID = UNSET,
    if_none_match: str | Unset = UNSET,
) -> Any | Entity | Problem | None:
    """Read the live entity with this natural key (the caller's, or owner_id's)

    Args:
        type_ (str): 1..64 characters, not blank, no control characters Example: company.
        external_id (str): 1..256 characters, not blank, no control characters Example:
            crm-000172.
        owner_id (str | Unset | UUID):
        if_none_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Entity | Problem
    """

    return (
        await asyncio_detailed(
            type_=type_,
            external_id=external_id,
            client=client,
            owner_id=owner_id,
            if_none_match=if_none_match,
        )
    ).parsed
