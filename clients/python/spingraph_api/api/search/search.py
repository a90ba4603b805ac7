from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.search_request import SearchRequest
from ...models.search_result import SearchResult
from ...types import Response


def _get_kwargs(
    *,
    body: SearchRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/search",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | SearchResult | None:
    if response.status_code == 200:
        response_200 = SearchResult.from_dict(response.json())

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
) -> Response[Problem | SearchResult]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: SearchRequest,
) -> Response[Problem | SearchResult]:
    """Hybrid vector and full-text search, with the hits' neighbourhood

     The entities nearest `vector` in `space` and best matching `text`, fused by reciprocal
    rank: `score = Σ 1 / (60 + rank)` over the lists a hit is in (rank from 1; ties by id).
    Each list brings up to `max(limit × 4, 40)` candidates: the vector list by the space's
    distance (pgvector's HNSW index with iterative scans, so a selective filter still fills
    `limit`), the text list by full-text rank (`websearch_to_tsquery('english', text)`:
    `"exact phrase"`, `-not`, `or`) over the name and the declared metadata fields, then by
    trigram similarity of the name (a typo still matches).

    Needs `entities:read` (or `entities:write`), and `relationships:read` (or `:write`) when
    `expand` is given. A search sees every owner's entities, as any principal with
    `entities:read` reads any entity; `filter.owner` narrows it to one owner's. Deleted entities are
    never found; merged ones only with
    `filter.include_merged` (their document names `merged_into`).

    `expand` walks the subgraph around all hits at once, as `GET /v1/graph/neighbors` walks
    (the same budget of 20000 relationships read and 5000 edges listed, the same
    visibility); `truncated` says when `max_nodes` or a budget cut it short.

    Args:
        body (SearchRequest): At least one of `text` and `vector`; `vector` needs `space`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | SearchResult]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: SearchRequest,
) -> Problem | SearchResult | None:
    """Hybrid vector and full-text search, with the hits' neighbourhood

     The entities nearest `vector` in `space` and best matching `text`, fused by reciprocal
    rank: `score = Σ 1 / (60 + rank)` over the lists a hit is in (rank from 1; ties by id).
    Each list brings up to `max(limit × 4, 40)` candidates: the vector list by the space's
    distance (pgvector's HNSW index with iterative scans, so a selective filter still fills
    `limit`), the text list by full-text rank (`websearch_to_tsquery('english', text)`:
    `"exact phrase"`, `-not`, `or`) over the name and the declared metadata fields, then by
    trigram similarity of the name (a typo still matches).

    Needs `entities:read` (or `entities:write`), and `relationships:read` (or `:write`) when
    `expand` is given. A search sees every owner's entities, as any principal with
    `entities:read` reads any entity; `filter.owner` narrows it to one owner's. Deleted entities are
    never found; merged ones only with
    `filter.include_merged` (their document names `merged_into`).

    `expand` walks the subgraph around all hits at once, as `GET /v1/graph/neighbors` walks
    (the same budget of 20000 relationships read and 5000 edges listed, the same
    visibility); `truncated` says when `max_nodes` or a budget cut it short.

    Args:
        body (SearchRequest): At least one of `text` and `vector`; `vector` needs `space`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | SearchResult
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: SearchRequest,
) -> Response[Problem | SearchResult]:
    """Hybrid vector and full-text search, with the hits' neighbourhood

     The entities nearest `vector` in `space` and best matching `text`, fused by reciprocal
    rank: `score = Σ 1 / (60 + rank)` over the lists a hit is in (rank from 1; ties by id).
    Each list brings up to `max(limit × 4, 40)` candidates: the vector list by the space's
    distance (pgvector's HNSW index with iterative scans, so a selective filter still fills
    `limit`), the text list by full-text rank (`websearch_to_tsquery('english', text)`:
    `"exact phrase"`, `-not`, `or`) over the name and the declared metadata fields, then by
    trigram similarity of the name (a typo still matches).

    Needs `entities:read` (or `entities:write`), and `relationships:read` (or `:write`) when
    `expand` is given. A search sees every owner's entities, as any principal with
    `entities:read` reads any entity; `filter.owner` narrows it to one owner's. Deleted entities are
    never found; merged ones only with
    `filter.include_merged` (their document names `merged_into`).

    `expand` walks the subgraph around all hits at once, as `GET /v1/graph/neighbors` walks
    (the same budget of 20000 relationships read and 5000 edges listed, the same
    visibility); `truncated` says when `max_nodes` or a budget cut it short.

    Args:
        body (SearchRequest): At least one of `text` and `vector`; `vector` needs `space`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | SearchResult]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: SearchRequest,
) -> Problem | SearchResult | None:
    """Hybrid vector and full-text search, with the hits' neighbourhood

     The entities nearest `vector` in `space` and best matching `text`, fused by reciprocal
    rank: `score = Σ 1 / (60 + rank)` over the lists a hit is in (rank from 1; ties by id).
    Each list brings up to `max(limit × 4, 40)` candidates: the vector list by the space's
    distance (pgvector's HNSW index with iterative scans, so a selective filter still fills
    `limit`), the text list by full-text rank (`websearch_to_tsquery('english', text)`:
    `"exact phrase"`, `-not`, `or`) over the name and the declared metadata fields, then by
    trigram similarity of the name (a typo still matches).

    Needs `entities:read` (or `entities:write`), and `relationships:read` (or `:write`) when
    `expand` is given. A search sees every owner's entities, as any principal with
    `entities:read` reads any entity; `filter.owner` narrows it to one owner's. Deleted entities are
    never found; merged ones only with
    `filter.include_merged` (their document names `merged_into`).

    `expand` walks the subgraph around all hits at once, as `GET /v1/graph/neighbors` walks
    (the same budget of 20000 relationships read and 5000 edges listed, the same
    visibility); `truncated` says when `max_nodes` or a budget cut it short.

    Args:
        body (SearchRequest): At least one of `text` and `vector`; `vector` needs `space`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | SearchResult
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
