import datetime
from http import HTTPStatus
from typing import Any
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.entity_page import EntityPage
from ...models.list_entities_sort import ListEntitiesSort
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    as_of: datetime.datetime | str | Unset = UNSET,
    type_: str | Unset = UNSET,
    q: str | Unset = UNSET,
    min_confidence: float | str | Unset = UNSET,
    metadata: str | Unset = UNSET,
    created_after: datetime.datetime | str | Unset = UNSET,
    created_before: datetime.datetime | str | Unset = UNSET,
    owner_id: str | Unset | UUID = UNSET,
    include_deleted: bool | Unset = UNSET,
    sort: ListEntitiesSort | Unset = ListEntitiesSort.VALUE_1,
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

    json_type_: str | Unset
    if isinstance(type_, Unset):
        json_type_ = UNSET
    else:
        json_type_ = type_
    params["type"] = json_type_

    params["q"] = q

    json_min_confidence: float | str | Unset
    if isinstance(min_confidence, Unset):
        json_min_confidence = UNSET
    else:
        json_min_confidence = min_confidence
    params["min_confidence"] = json_min_confidence

    params["metadata"] = metadata

    json_created_after: str | Unset
    if isinstance(created_after, Unset):
        json_created_after = UNSET
    elif isinstance(created_after, datetime.datetime):
        json_created_after = created_after.isoformat()
    else:
        json_created_after = created_after
    params["created_after"] = json_created_after

    json_created_before: str | Unset
    if isinstance(created_before, Unset):
        json_created_before = UNSET
    elif isinstance(created_before, datetime.datetime):
        json_created_before = created_before.isoformat()
    else:
        json_created_before = created_before
    params["created_before"] = json_created_before

    json_owner_id: str | Unset
    if isinstance(owner_id, Unset):
        json_owner_id = UNSET
    elif isinstance(owner_id, UUID):
        json_owner_id = str(owner_id)
    else:
        json_owner_id = owner_id
    params["owner_id"] = json_owner_id

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
        "url": "/v1/entities",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> EntityPage | Problem | None:
    if response.status_code == 200:
        response_200 = EntityPage.from_dict(response.json())

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
) -> Response[EntityPage | Problem]:
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
    type_: str | Unset = UNSET,
    q: str | Unset = UNSET,
    min_confidence: float | str | Unset = UNSET,
    metadata: str | Unset = UNSET,
    created_after: datetime.datetime | str | Unset = UNSET,
    created_before: datetime.datetime | str | Unset = UNSET,
    owner_id: str | Unset | UUID = UNSET,
    include_deleted: bool | Unset = UNSET,
    sort: ListEntitiesSort | Unset = ListEntitiesSort.VALUE_1,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> Response[EntityPage | Problem]:
    """Search entities

    Args:
        as_of (datetime.datetime | str | Unset):
        type_ (str | Unset): Entity type; empty or blank means any
        q (str | Unset): No control characters
        min_confidence (float | str | Unset):
        metadata (str | Unset):
        created_after (datetime.datetime | str | Unset):
        created_before (datetime.datetime | str | Unset):
        owner_id (str | Unset | UUID):
        include_deleted (bool | Unset): A boolean query flag, `true` or `false` (`1` and `0`, and
            any letter case, are accepted too); absent means false. Any other value, an empty one
            included, is a 400 naming the parameter.
        sort (ListEntitiesSort | Unset):  Default: ListEntitiesSort.VALUE_1.
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[EntityPage | Problem]
    """

    kwargs = _get_kwargs(
        as_of=as_of,
        type_=type_,
        q=q,
        min_confidence=min_confidence,
        metadata=metadata,
        created_after=created_after,
        created_before=created_before,
        owner_id=owner_id,
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
    type_: str | Unset = UNSET,
    q: str | Unset = UNSET,
    min_confidence: float | str | Unset = UNSET,
    metadata: str | Unset = UNSET,
    created_after: datetime.datetime | str | Unset = UNSET,
    created_before: datetime.datetime | str | Unset = UNSET,
    owner_id: str | Unset | UUID = UNSET,
    include_deleted: bool | Unset = UNSET,
    sort: ListEntitiesSort | Unset = ListEntitiesSort.VALUE_1,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> EntityPage | Problem | None:
    """Search entities

    Args:
        as_of (datetime.datetime | str | Unset):
        type_ (str | Unset): Entity type; empty or blank means any
        q (str | Unset): No control characters
        min_confidence (float | str | Unset):
        metadata (str | Unset):
        created_after (datetime.datetime | str | Unset):
        created_before (datetime.datetime | str | Unset):
        owner_id (str | Unset | UUID):
        include_deleted (bool | Unset): A boolean query flag, `true` or `false` (`1` and `0`, and
            any letter case, are accepted too); absent means false. Any other value, an empty one
            included, is a 400 naming the parameter.
        sort (ListEntitiesSort | Unset):  Default: ListEntitiesSort.VALUE_1.
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        EntityPage | Problem
    """

    return sync_detailed(
        client=client,
        as_of=as_of,
        type_=type_,
        q=q,
        min_confidence=min_confidence,
        metadata=metadata,
        created_after=created_after,
        created_before=created_before,
        owner_id=owner_id,
        include_deleted=include_deleted,
        sort=sort,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    as_of: datetime.datetime | str | Unset = UNSET,
    type_: str | Unset = UNSET,
    q: str | Unset = UNSET,
    min_confidence: float | str | Unset = UNSET,
    metadata: str | Unset = UNSET,
    created_after: datetime.datetime | str | Unset = UNSET,
    created_before: datetime.datetime | str | Unset = UNSET,
    owner_id: str | Unset | UUID = UNSET,
    include_deleted: bool | Unset = UNSET,
    sort: ListEntitiesSort | Unset = ListEntitiesSort.VALUE_1,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> Response[EntityPage | Problem]:
    """Search entities

    Args:
        as_of (datetime.datetime | str | Unset):
        type_ (str | Unset): Entity type; empty or blank means any
        q (str | Unset): No control characters
        min_confidence (float | str | Unset):
        metadata (str | Unset):
        created_after (datetime.datetime | str | Unset):
        created_before (datetime.datetime | str | Unset):
        owner_id (str | Unset | UUID):
        include_deleted (bool | Unset): A boolean query flag, `true` or `false` (`1` and `0`, and
            any letter case, are accepted too); absent means false. Any other value, an empty one
            included, is a 400 naming the parameter.
        sort (ListEntitiesSort | Unset):  Default: ListEntitiesSort.VALUE_1.
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[EntityPage | Problem]
    """

    kwargs = _get_kwargs(
        as_of=as_of,
        type_=type_,
        q=q,
        min_confidence=min_confidence,
        metadata=metadata,
        created_after=created_after,
        created_before=created_before,
        owner_id=owner_id,
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
    type_: str | Unset = UNSET,
    q: str | Unset = UNSET,
    min_confidence: float | str | Unset = UNSET,
    metadata: str | Unset = UNSET,
    created_after: datetime.datetime | str | Unset = UNSET,
    created_before: datetime.datetime | str | Unset = UNSET,
    owner_id: str | Unset | UUID = UNSET,
    include_deleted: bool | Unset = UNSET,
    sort: ListEntitiesSort | Unset = ListEntitiesSort.VALUE_1,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> EntityPage | Problem | None:
    """Search entities

    Args:
        as_of (datetime.datetime | str | Unset):
        type_ (str | Unset): Entity type; empty or blank means any
        q (str | Unset): No control characters
        min_confidence (float | str | Unset):
        metadata (str | Unset):
        created_after (datetime.datetime | str | Unset):
        created_before (datetime.datetime | str | Unset):
        owner_id (str | Unset | UUID):
        include_deleted (bool | Unset): A boolean query flag, `true` or `false` (`1` and `0`, and
            any letter case, are accepted too); absent means false. Any other value, an empty one
            included, is a 400 naming the parameter.
        sort (ListEntitiesSort | Unset):  Default: ListEntitiesSort.VALUE_1.
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        EntityPage | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            as_of=as_of,
            type_=type_,
            q=q,
            min_confidence=min_confidence,
            metadata=metadata,
            created_after=created_after,
            created_before=created_before,
            owner_id=owner_id,
            include_deleted=include_deleted,
            sort=sort,
            limit=limit,
            cursor=cursor,
        )
    ).parsed
