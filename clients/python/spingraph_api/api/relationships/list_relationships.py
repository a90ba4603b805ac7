import datetime
from http import HTTPStatus
from typing import Any
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.list_relationships_sort import ListRelationshipsSort
from ...models.problem import Problem
from ...models.relationship_page import RelationshipPage
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    as_of: datetime.datetime | str | Unset = UNSET,
    source_id: UUID | Unset = UNSET,
    target_id: UUID | Unset = UNSET,
    entity_id: UUID | Unset = UNSET,
    type_: str | Unset = UNSET,
    include_deleted: bool | Unset = UNSET,
    sort: ListRelationshipsSort | Unset = ListRelationshipsSort.VALUE_1,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
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

    json_source_id: str | Unset = UNSET
    if not isinstance(source_id, Unset):
        json_source_id = str(source_id)
    params["source_id"] = json_source_id

    json_target_id: str | Unset = UNSET
    if not isinstance(target_id, Unset):
        json_target_id = str(target_id)
    params["target_id"] = json_target_id

    json_entity_id: str | Unset = UNSET
    if not isinstance(entity_id, Unset):
        json_entity_id = str(entity_id)
    params["entity_id"] = json_entity_id

    params["type"] = type_

    params["include_deleted"] = include_deleted

    json_sort: str | Unset = UNSET
    if not isinstance(sort, Unset):
        json_sort = sort.value

    params["sort"] = json_sort

    params["limit"] = limit

    params["cursor"] = cursor

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/relationships",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | RelationshipPage | None:
    if response.status_code == 200:
        response_200 = RelationshipPage.from_dict(response.json())

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
) -> Response[Problem | RelationshipPage]:
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
    source_id: UUID | Unset = UNSET,
    target_id: UUID | Unset = UNSET,
    entity_id: UUID | Unset = UNSET,
    type_: str | Unset = UNSET,
    include_deleted: bool | Unset = UNSET,
    sort: ListRelationshipsSort | Unset = ListRelationshipsSort.VALUE_1,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> Response[Problem | RelationshipPage]:
    """Search relationships

    Args:
        as_of (datetime.datetime | str | Unset):
        source_id (UUID | Unset):
        target_id (UUID | Unset):
        entity_id (UUID | Unset):
        type_ (str | Unset): 1..64 characters, not blank, no control characters Example: company.
        include_deleted (bool | Unset): A boolean query flag, `true` or `false` (`1` and `0`, and
            any letter case, are accepted too); absent means false. Any other value, an empty one
            included, is a 400 naming the parameter.
        sort (ListRelationshipsSort | Unset):  Default: ListRelationshipsSort.VALUE_1.
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RelationshipPage]
    """

    kwargs = _get_kwargs(
        as_of=as_of,
        source_id=source_id,
        target_id=target_id,
        entity_id=entity_id,
        type_=type_,
        include_deleted=include_deleted,
        sort=sort,
        limit=limit,
        cursor=cursor,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    as_of: datetime.datetime | str | Unset = UNSET,
    source_id: UUID | Unset = UNSET,
    target_id: UUID | Unset = UNSET,
    entity_id: UUID | Unset = UNSET,
    type_: str | Unset = UNSET,
    include_deleted: bool | Unset = UNSET,
    sort: ListRelationshipsSort | Unset = ListRelationshipsSort.VALUE_1,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> Problem | RelationshipPage | None:
    """Search relationships

    Args:
        as_of (datetime.datetime | str | Unset):
        source_id (UUID | Unset):
        target_id (UUID | Unset):
        entity_id (UUID | Unset):
        type_ (str | Unset): 1..64 characters, not blank, no control characters Example: company.
        include_deleted (bool | Unset): A boolean query flag, `true` or `false` (`1` and `0`, and
            any letter case, are accepted too); absent means false. Any other value, an empty one
            included, is a 400 naming the parameter.
        sort (ListRelationshipsSort | Unset):  Default: ListRelationshipsSort.VALUE_1.
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RelationshipPage
    """

    return sync_detailed(
        client=client,
        as_of=as_of,
        source_id=source_id,
        target_id=target_id,
        entity_id=entity_id,
        type_=type_,
        include_deleted=include_deleted,
        sort=sort,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    as_of: datetime.datetime | str | Unset = UNSET,
    source_id: UUID | Unset = UNSET,
    target_id: UUID | Unset = UNSET,
    entity_id: UUID | Unset = UNSET,
    type_: str | Unset = UNSET,
    include_deleted: bool | Unset = UNSET,
    sort: ListRelationshipsSort | Unset = ListRelationshipsSort.VALUE_1,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> Response[Problem | RelationshipPage]:
    """Search relationships

    Args:
        as_of (datetime.datetime | str | Unset):
        source_id (UUID | Unset):
        target_id (UUID | Unset):
        entity_id (UUID | Unset):
        type_ (str | Unset): 1..64 characters, not blank, no control characters Example: company.
        include_deleted (bool | Unset): A boolean query flag, `true` or `false` (`1` and `0`, and
            any letter case, are accepted too); absent means false. Any other value, an empty one
            included, is a 400 naming the parameter.
        sort (ListRelationshipsSort | Unset):  Default: ListRelationshipsSort.VALUE_1.
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RelationshipPage]
    """

    kwargs = _get_kwargs(
        as_of=as_of,
        source_id=source_id,
        target_id=target_id,
        entity_id=entity_id,
        type_=type_,
        include_deleted=include_deleted,
        sort=sort,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    as_of: datetime.datetime | str | Unset = UNSET,
    source_id: UUID | Unset = UNSET,
    target_id: UUID | Unset = UNSET,
    entity_id: UUID | Unset = UNSET,
    type_: str | Unset = UNSET,
    include_deleted: bool | Unset = UNSET,
    sort: ListRelationshipsSort | Unset = ListRelationshipsSort.VALUE_1,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> Problem | RelationshipPage | None:
    """Search relationships

    Args:
        as_of (datetime.datetime | str | Unset):
        source_id (UUID | Unset):
        target_id (UUID | Unset):
        entity_id (UUID | Unset):
        type_ (str | Unset): 1..64 characters, not blank, no control characters Example: company.
        include_deleted (bool | Unset): A boolean query flag, `true` or `false` (`1` and `0`, and
            any letter case, are accepted too); absent means false. Any other value, an empty one
            included, is a 400 naming the parameter.
        sort (ListRelationshipsSort | Unset):  Default: ListRelationshipsSort.VALUE_1.
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RelationshipPage
    """

    return (
        await asyncio_detailed(
            client=client,
            as_of=as_of,
            source_id=source_id,
            target_id=target_id,
            entity_id=entity_id,
            type_=type_,
            include_deleted=include_deleted,
            sort=sort,
            limit=limit,
            cursor=cursor,
        )
    ).parsed
