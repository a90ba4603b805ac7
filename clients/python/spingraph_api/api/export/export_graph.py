import datetime
from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.export_graph_format import ExportGraphFormat
from ...models.export_graph_response_200 import ExportGraphResponse200
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    as_of: datetime.datetime | str | Unset = UNSET,
    format_: ExportGraphFormat | Unset = ExportGraphFormat.NDJSON,
    types: str | Unset = UNSET,
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

    json_format_: str | Unset = UNSET
    if not isinstance(format_, Unset):
        json_format_ = format_.value

    params["format"] = json_format_

    params["types"] = types

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/export",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ExportGraphResponse200 | Problem | None:
    if response.status_code == 200:
        response_200 = ExportGraphResponse200.from_dict(response.json())

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
) -> Response[ExportGraphResponse200 | Problem]:
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
    format_: ExportGraphFormat | Unset = ExportGraphFormat.NDJSON,
    types: str | Unset = UNSET,
) -> Response[ExportGraphResponse200 | Problem]:
    """Export the whole live graph, streamed from one snapshot

     Every live entity, then every live relationship whose two ends are exported, read from one
    read-only snapshot taken before the first byte (what commits later is not in it) and
    streamed page by page: the answer is chunked, the server's memory does not grow with the
    graph, and a slow reader slows the export. Needs an admin, or an API key with the `export`
    scope. Each export is recorded in the audit log (`graph.export`). With `as_of`, the export
    is the graph as it was at that instant (the header's `as_of`), read from the change history.

    - `ndjson` (default): one JSON object a line. First a header
      (`{"kind":"header","format":"spingraph-
    ndjson","version":1,"exported_at":...,"as_of":null|instant,"types":...}`),
      then `{"kind":"entity", ...}` lines (the `Entity` document), then
      `{"kind":"relationship", ..., "source": EntityRef|null, "target": EntityRef|null}` lines
      (the `Relationship` document plus each end's natural key, when it has one), and last
      `{"kind":"end","entities":N,"relationships":M}`. `spingraph import` reads this format.
    - `graphml`: GraphML 1.0, a `node` per entity and a directed `edge` per relationship,
      every field a `data` element (`metadata` as JSON text).
    - `jsonld`: one JSON-LD document (`@vocab` `urn:spingraph:`), `@graph` holding `Entity` and
      `Relationship` objects with `@id` `urn:uuid:<id>`.

    A failure after the first byte cannot change the status: the body stops without the
    document's end (NDJSON's end line, GraphML's closing tags, JSON-LD's closing brackets), so
    a reader can tell a cut export from a whole one.

    Args:
        as_of (datetime.datetime | str | Unset):
        format_ (ExportGraphFormat | Unset):  Default: ExportGraphFormat.NDJSON.
        types (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ExportGraphResponse200 | Problem]
    """

    kwargs = _get_kwargs(
        as_of=as_of,
        format_=format_,
        types=types,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    as_of: datetime.datetime | str | Unset = UNSET,
    format_: ExportGraphFormat | Unset = ExportGraphFormat.NDJSON,
    types: str | Unset = UNSET,
) -> ExportGraphResponse200 | Problem | None:
    """Export the whole live graph, streamed from one snapshot

     Every live entity, then every live relationship whose two ends are exported, read from one
    read-only snapshot taken before the first byte (what commits later is not in it) and
    streamed page by page: the answer is chunked, the server's memory does not grow with the
    graph, and a slow reader slows the export. Needs an admin, or an API key with the `export`
    scope. Each export is recorded in the audit log (`graph.export`). With `as_of`, the export
    is the graph as it was at that instant (the header's `as_of`), read from the change history.

    - `ndjson` (default): one JSON object a line. First a header
      (`{"kind":"header","format":"spingraph-
    ndjson","version":1,"exported_at":...,"as_of":null|instant,"types":...}`),
      then `{"kind":"entity", ...}` lines (the `Entity` document), then
      `{"kind":"relationship", ..., "source": EntityRef|null, "target": EntityRef|null}` lines
      (the `Relationship` document plus each end's natural key, when it has one), and last
      `{"kind":"end","entities":N,"relationships":M}`. `spingraph import` reads this format.
    - `graphml`: GraphML 1.0, a `node` per entity and a directed `edge` per relationship,
      every field a `data` element (`metadata` as JSON text).
    - `jsonld`: one JSON-LD document (`@vocab` `urn:spingraph:`), `@graph` holding `Entity` and
      `Relationship` objects with `@id` `urn:uuid:<id>`.

    A failure after the first byte cannot change the status: the body stops without the
    document's end (NDJSON's end line, GraphML's closing tags, JSON-LD's closing brackets), so
    a reader can tell a cut export from a whole one.

    Args:
        as_of (datetime.datetime | str | Unset):
        format_ (ExportGraphFormat | Unset):  Default: ExportGraphFormat.NDJSON.
        types (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ExportGraphResponse200 | Problem
    """

    return sync_detailed(
        client=client,
        as_of=as_of,
        format_=format_,
        types=types,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    as_of: datetime.datetime | str | Unset = UNSET,
    format_: ExportGraphFormat | Unset = ExportGraphFormat.NDJSON,
    types: str | Unset = UNSET,
) -> Response[ExportGraphResponse200 | Problem]:
    """Export the whole live graph, streamed from one snapshot

     Every live entity, then every live relationship whose two ends are exported, read from one
    read-only snapshot taken before the first byte (what commits later is not in it) and
    streamed page by page: the answer is chunked, the server's memory does not grow with the
    graph, and a slow reader slows the export. Needs an admin, or an API key with the `export`
    scope. Each export is recorded in the audit log (`graph.export`). With `as_of`, the export
    is the graph as it was at that instant (the header's `as_of`), read from the change history.

    - `ndjson` (default): one JSON object a line. First a header
      (`{"kind":"header","format":"spingraph-
    ndjson","version":1,"exported_at":...,"as_of":null|instant,"types":...}`),
      then `{"kind":"entity", ...}` lines (the `Entity` document), then
      `{"kind":"relationship", ..., "source": EntityRef|null, "target": EntityRef|null}` lines
      (the `Relationship` document plus each end's natural key, when it has one), and last
      `{"kind":"end","entities":N,"relationships":M}`. `spingraph import` reads this format.
    - `graphml`: GraphML 1.0, a `node` per entity and a directed `edge` per relationship,
      every field a `data` element (`metadata` as JSON text).
    - `jsonld`: one JSON-LD document (`@vocab` `urn:spingraph:`), `@graph` holding `Entity` and
      `Relationship` objects with `@id` `urn:uuid:<id>`.

    A failure after the first byte cannot change the status: the body stops without the
    document's end (NDJSON's end line, GraphML's closing tags, JSON-LD's closing brackets), so
    a reader can tell a cut export from a whole one.

    Args:
        as_of (datetime.datetime | str | Unset):
        format_ (ExportGraphFormat | Unset):  Default: ExportGraphFormat.NDJSON.
        types (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ExportGraphResponse200 | Problem]
    """

    kwargs = _get_kwargs(
        as_of=as_of,
        format_=format_,
        types=types,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    as_of: datetime.datetime | str | Unset = UNSET,
    format_: ExportGraphFormat | Unset = ExportGraphFormat.NDJSON,
    types: str | Unset = UNSET,
) -> ExportGraphResponse200 | Problem | None:
    """Export the whole live graph, streamed from one snapshot

     Every live entity, then every live relationship whose two ends are exported, read from one
    read-only snapshot taken before the first byte (what commits later is not in it) and
    streamed page by page: the answer is chunked, the server's memory does not grow with the
    graph, and a slow reader slows the export. Needs an admin, or an API key with the `export`
    scope. Each export is recorded in the audit log (`graph.export`). With `as_of`, the export
    is the graph as it was at that instant (the header's `as_of`), read from the change history.

    - `ndjson` (default): one JSON object a line. First a header
      (`{"kind":"header","format":"spingraph-
    ndjson","version":1,"exported_at":...,"as_of":null|instant,"types":...}`),
      then `{"kind":"entity", ...}` lines (the `Entity` document), then
      `{"kind":"relationship", ..., "source": EntityRef|null, "target": EntityRef|null}` lines
      (the `Relationship` document plus each end's natural key, when it has one), and last
      `{"kind":"end","entities":N,"relationships":M}`. `spingraph import` reads this format.
    - `graphml`: GraphML 1.0, a `node` per entity and a directed `edge` per relationship,
      every field a `data` element (`metadata` as JSON text).
    - `jsonld`: one JSON-LD document (`@vocab` `urn:spingraph:`), `@graph` holding `Entity` and
      `Relationship` objects with `@id` `urn:uuid:<id>`.

    A failure after the first byte cannot change the status: the body stops without the
    document's end (NDJSON's end line, GraphML's closing tags, JSON-LD's closing brackets), so
    a reader can tell a cut export from a whole one.

    Args:
        as_of (datetime.datetime | str | Unset):
        format_ (ExportGraphFormat | Unset):  Default: ExportGraphFormat.NDJSON.
        types (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ExportGraphResponse200 | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            as_of=as_of,
            format_=format_,
            types=types,
        )
    ).parsed
