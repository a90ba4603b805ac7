from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.unmerge_request import UnmergeRequest
from ...models.unmerged import Unmerged
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: UUID,
    *,
    body: UnmergeRequest,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/entities/{id}/unmerge".format(
            id=quote(str(id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | Unmerged | None:
    if response.status_code == 200:
        response_200 = Unmerged.from_dict(response.json())

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
) -> Response[Problem | Unmerged]:
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
    body: UnmergeRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[Problem | Unmerged]:
    """Take merged entities back out of this one (owner of all of them, or admin)

     Undoes, in one transaction, the merge that folded each `from` entity into this one (its
    latest merge into this entity not undone yet; merges are recorded since 2026-12-07, so
    older ones cannot be undone): each `from` entity is live again (no `merged_into`), the
    entities that merge re-pointed here from it are merged into it again, and every
    relationship the merge moved to this entity or dropped is back on its ends before the
    merge, live, with the version it has then. A relationship between two entities one merge
    folded in comes back with the last of them. Every entity and relationship touched gets an
    audit row and a change-feed row (`restore` for entities and dropped relationships,
    `update` for moved ones).

    This entity's metadata is put back as it was before the merge when `metadata: merge`
    changed it, the merge is undone in full (no entity it folded in stays merged), and the
    metadata is still what the merge made it; otherwise it is kept (`metadata` in the answer
    says which).

    A 409 changes nothing and names what stands in the way: a relationship to put back that
    changed since the merge (its id and the change-feed `seq` of the change), a `from`
    entity's natural key held by a live entity now, this entity deleted or merged since, or
    (for anyone but an admin) relationships to put back that other users created. A `from`
    entity not merged into this one, or with no recorded merge to undo, is a 422 naming
    `from[i]`. Access is as for a merge: a deleted or merged entity the caller may not change
    answers as a missing id does.

    Args:
        id (UUID):
        idempotency_key (str | Unset):
        body (UnmergeRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | Unmerged]
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
    body: UnmergeRequest,
    idempotency_key: str | Unset = UNSET,
) -> Problem | Unmerged | None:
    """Take merged entities back out of this one (owner of all of them, or admin)

     Undoes, in one transaction, the merge that folded each `from` entity into this one (its
    latest merge into this entity not undone yet; merges are recorded since 2026-12-07, so
    older ones cannot be undone): each `from` entity is live again (no `merged_into`), the
    entities that merge re-pointed here from it are merged into it again, and every
    relationship the merge moved to this entity or dropped is back on its ends before the
    merge, live, with the version it has then. A relationship between two entities one merge
    folded in comes back with the last of them. Every entity and relationship touched gets an
    audit row and a change-feed row (`restore` for entities and dropped relationships,
    `update` for moved ones).

    This entity's metadata is put back as it was before the merge when `metadata: merge`
    changed it, the merge is undone in full (no entity it folded in stays merged), and the
    metadata is still what the merge made it; otherwise it is kept (`metadata` in the answer
    says which).

    A 409 changes nothing and names what stands in the way: a relationship to put back that
    changed since the merge (its id and the change-feed `seq` of the change), a `from`
    entity's natural key held by a live entity now, this entity deleted or merged since, or
    (for anyone but an admin) relationships to put back that other users created. A `from`
    entity not merged into this one, or with no recorded merge to undo, is a 422 naming
    `from[i]`. Access is as for a merge: a deleted or merged entity the caller may not change
    answers as a missing id does.

    Args:
        id (UUID):
        idempotency_key (str | Unset):
        body (UnmergeRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | Unmerged
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
    body: UnmergeRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[Problem | Unmerged]:
    """Take merged entities back out of this one (owner of all of them, or admin)

     Undoes, in one transaction, the merge that folded each `from` entity into this one (its
    latest merge into this entity not undone yet; merges are recorded since 2026-12-07, so
    older ones cannot be undone): each `from` entity is live again (no `merged_into`), the
    entities that merge re-pointed here from it are merged into it again, and every
    relationship the merge moved to this entity or dropped is back on its ends before the
    merge, live, with the version it has then. A relationship between two entities one merge
    folded in comes back with the last of them. Every entity and relationship touched gets an
    audit row and a change-feed row (`restore` for entities and dropped relationships,
    `update` for moved ones).

    This entity's metadata is put back as it was before the merge when `metadata: merge`
    changed it, the merge is undone in full (no entity it folded in stays merged), and the
    metadata is still what the merge made it; otherwise it is kept (`metadata` in the answer
    says which).

    A 409 changes nothing and names what stands in the way: a relationship to put back that
    changed since the merge (its id and the change-feed `seq` of the change), a `from`
    entity's natural key held by a live entity now, this entity deleted or merged since, or
    (for anyone but an admin) relationships to put back that other users created. A `from`
    entity not merged into this one, or with no recorded merge to undo, is a 422 naming
    `from[i]`. Access is as for a merge: a deleted or merged entity the caller may not change
    answers as a missing id does.

    Args:
        id (UUID):
        idempotency_key (str | Unset):
        body (UnmergeRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | Unmerged]
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
    body: UnmergeRequest,
    idempotency_key: str | Unset = UNSET,
) -> Problem | Unmerged | None:
    """Take merged entities back out of this one (owner of all of them, or admin)

     Undoes, in one transaction, the merge that folded each `from` entity into this one (its
    latest merge into this entity not undone yet; merges are recorded since 2026-12-07, so
    older ones cannot be undone): each `from` entity is live again (no `merged_into`), the
    entities that merge re-pointed here from it are merged into it again, and every
    relationship the merge moved to this entity or dropped is back on its ends before the
    merge, live, with the version it has then. A relationship between two entities one merge
    folded in comes back with the last of them. Every entity and relationship touched gets an
    audit row and a change-feed row (`restore` for entities and dropped relationships,
    `update` for moved ones).

    This entity's metadata is put back as it was before the merge when `metadata: merge`
    changed it, the merge is undone in full (no entity it folded in stays merged), and the
    metadata is still what the merge made it; otherwise it is kept (`metadata` in the answer
    says which).

    A 409 changes nothing and names what stands in the way: a relationship to put back that
    changed since the merge (its id and the change-feed `seq` of the change), a `from`
    entity's natural key held by a live entity now, this entity deleted or merged since, or
    (for anyone but an admin) relationships to put back that other users created. A `from`
    entity not merged into this one, or with no recorded merge to undo, is a 422 naming
    `from[i]`. Access is as for a merge: a deleted or merged entity the caller may not change
    answers as a missing id does.

    Args:
        id (UUID):
        idempotency_key (str | Unset):
        body (UnmergeRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | Unmerged
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
