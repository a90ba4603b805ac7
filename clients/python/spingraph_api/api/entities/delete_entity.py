from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: UUID,
    *,
    hard: bool | Unset = UNSET,
    if_match: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(if_match, Unset):
        headers["If-Match"] = if_match

    params: dict[str, Any] = {}

    params["hard"] = hard

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "delete",
        "url": "/v1/entities/{id}".format(
            id=quote(str(id), safe=""),
        ),
        "params": params,
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Any | Problem | None:
    if response.status_code == 204:
        response_204 = cast(Any, None)
        return response_204

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

    if response.status_code == 428:
        response_428 = Problem.from_dict(response.json())

        return response_428

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
) -> Response[Any | Problem]:
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
    hard: bool | Unset = UNSET,
    if_match: str | Unset = UNSET,
) -> Response[Any | Problem]:
    """Soft-delete an entity (owner or admin); `hard=true` deletes for good (admin)

     A soft delete records `deleted_at` and `deleted_by` and hides the entity's relationships.

    Args:
        id (UUID):
        hard (bool | Unset): A boolean query flag, `true` or `false` (`1` and `0`, and any letter
            case, are accepted too); absent means false. Any other value, an empty one included, is a
            400 naming the parameter.
        if_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem]
    """

    kwargs = _get_kwargs(
        id=id,
        hard=hard,
        if_match=if_match,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: UUID,
    *,
    client: AuthenticatedClient | Client,
    hard: bool | Unset = UNSET,
    if_match: str | Unset = UNSET,
) -> Any | Problem | None:
    """Soft-delete an entity (owner or admin); `hard=true` deletes for good (admin)

     A soft delete records `deleted_at` and `deleted_by` and hides the entity's relationships.

    Args:
        id (UUID):
        hard (bool | Unset): A boolean query flag, `true` or `false` (`1` and `0`, and any letter
            case, are accepted too); absent means false. Any other value, an empty one included, is a
            400 naming the parameter.
        if_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem
    """

    return sync_detailed(
        id=id,
        client=client,
        hard=hard,
        if_match=if_match,
    ).parsed


async def asyncio_detailed(
    id: UUID,
    *,
    client: AuthenticatedClient | Client,
    hard: bool | Unset = UNSET,
    if_match: str | Unset = UNSET,
) -> Response[Any | Problem]:
    """Soft-delete an entity (owner or admin); `hard=true` deletes for good (admin)

     A soft delete records `deleted_at` and `deleted_by` and hides the entity's relationships.

    Args:
        id (UUID):
        hard (bool | Unset): A boolean query flag, `true` or `false` (`1` and `0`, and any letter
            case, are accepted too); absent means false. Any other value, an empty one included, is a
            400 naming the parameter.
        if_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem]
    """

    kwargs = _get_kwargs(
        id=id,
        hard=hard,
        if_match=if_match,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: UUID,
    *,
    client: AuthenticatedClient | Client,
    hard: bool | Unset = UNSET,
    if_match: str | Unset = UNSET,
) -> Any | Problem | None:
    """Soft-delete an entity (owner or admin); `hard=true` deletes for good (admin)

     A soft delete records `deleted_at` and `deleted_by` and hides the entity's relationships.

    Args:
        id (UUID):
        hard (bool | Unset): A boolean query flag, `true` or `false` (`1` and `0`, and any letter
            case, are accepted too); absent means false. Any other value, an empty one included, is a
            400 naming the parameter.
        if_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            hard=hard,
            if_match=if_match,
        )
    ).parsed
