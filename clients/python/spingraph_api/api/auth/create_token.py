from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.create_token_data_body import CreateTokenDataBody
from ...models.credentials import Credentials
from ...models.problem import Problem
from ...models.token_response import TokenResponse
from ...types import Response


def _get_kwargs(
    *,
    body: Credentials | CreateTokenDataBody,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/auth/token",
    }

    if isinstance(body, Credentials):
        _kwargs["json"] = body.to_dict()

        headers["Content-Type"] = "application/json"
    if isinstance(body, CreateTokenDataBody):
        _kwargs["data"] = body.to_dict()
        headers["Content-Type"] = "application/x-www-form-urlencoded"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | TokenResponse | None:
    if response.status_code == 200:
        response_200 = TokenResponse.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

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
) -> Response[Problem | TokenResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: Credentials | CreateTokenDataBody,
) -> Response[Problem | TokenResponse]:
    """Sign in with email and password; returns an access and a refresh token

     Accepts `{email, password}` JSON or the OAuth2 password grant form
    (`grant_type=password&username=...&password=...`). A wrong email and a wrong password give
    the same 401. Five consecutive failures lock the account (15 minutes, doubling, cap 24 h).

    Args:
        body (Credentials):
        body (CreateTokenDataBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | TokenResponse]
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
    body: Credentials | CreateTokenDataBody,
) -> Problem | TokenResponse | None:
    """Sign in with email and password; returns an access and a refresh token

     Accepts `{email, password}` JSON or the OAuth2 password grant form
    (`grant_type=password&username=...&password=...`). A wrong email and a wrong password give
    the same 401. Five consecutive failures lock the account (15 minutes, doubling, cap 24 h).

    Args:
        body (Credentials):
        body (CreateTokenDataBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | TokenResponse
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: Credentials | CreateTokenDataBody,
) -> Response[Problem | TokenResponse]:
    """Sign in with email and password; returns an access and a refresh token

     Accepts `{email, password}` JSON or the OAuth2 password grant form
    (`grant_type=password&username=...&password=...`). A wrong email and a wrong password give
    the same 401. Five consecutive failures lock the account (15 minutes, doubling, cap 24 h).

    Args:
        body (Credentials):
        body (CreateTokenDataBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | TokenResponse]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: Credentials | CreateTokenDataBody,
) -> Problem | TokenResponse | None:
    """Sign in with email and password; returns an access and a refresh token

     Accepts `{email, password}` JSON or the OAuth2 password grant form
    (`grant_type=password&username=...&password=...`). A wrong email and a wrong password give
    the same 401. Five consecutive failures lock the account (15 minutes, doubling, cap 24 h).

    Args:
        body (Credentials):
        body (CreateTokenDataBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | TokenResponse
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
