from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.refresh_request import RefreshRequest
from ...models.refresh_token_data_body import RefreshTokenDataBody
from ...models.session_response import SessionResponse
from ...models.token_response import TokenResponse
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: RefreshRequest | RefreshTokenDataBody | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/auth/refresh",
    }

    if isinstance(body, RefreshRequest):
        if not isinstance(body, Unset):
            _kwargs["json"] = body.to_dict()

        headers["Content-Type"] = "application/json"
    if isinstance(body, RefreshTokenDataBody):
        if not isinstance(body, Unset):
            _kwargs["data"] = body.to_dict()
        headers["Content-Type"] = "application/x-www-form-urlencoded"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | SessionResponse | TokenResponse | None:
    if response.status_code == 200:

        def _parse_response_200(data: object) -> SessionResponse | TokenResponse:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_200_type_0 = TokenResponse.from_dict(data)

                return response_200_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            response_200_type_1 = SessionResponse.from_dict(data)

            return response_200_type_1

        response_200 = _parse_response_200(response.json())

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
) -> Response[Problem | SessionResponse | TokenResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: RefreshRequest | RefreshTokenDataBody | Unset = UNSET,
) -> Response[Problem | SessionResponse | TokenResponse]:
    """Rotate a refresh token

     Takes the refresh token from the body (JSON or the OAuth2 `refresh_token` grant form) or,
    for a browser session, from the `__Secure-sg_refresh` cookie (then `X-CSRF-Token` is
    required, the request must come from this API's own pages or an origin in
    `cors_allowed_origins` as for `createSession`, and the answer sets new cookies; two
    refresh cookies in one request, one planted by another host, are a 400). Presenting an
    already-used refresh token revokes its whole family.

    Args:
        body (RefreshRequest | Unset):
        body (RefreshTokenDataBody | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | SessionResponse | TokenResponse]
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
    body: RefreshRequest | RefreshTokenDataBody | Unset = UNSET,
) -> Problem | SessionResponse | TokenResponse | None:
    """Rotate a refresh token

     Takes the refresh token from the body (JSON or the OAuth2 `refresh_token` grant form) or,
    for a browser session, from the `__Secure-sg_refresh` cookie (then `X-CSRF-Token` is
    required, the request must come from this API's own pages or an origin in
    `cors_allowed_origins` as for `createSession`, and the answer sets new cookies; two
    refresh cookies in one request, one planted by another host, are a 400). Presenting an
    already-used refresh token revokes its whole family.

    Args:
        body (RefreshRequest | Unset):
        body (RefreshTokenDataBody | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | SessionResponse | TokenResponse
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: RefreshRequest | RefreshTokenDataBody | Unset = UNSET,
) -> Response[Problem | SessionResponse | TokenResponse]:
    """Rotate a refresh token

     Takes the refresh token from the body (JSON or the OAuth2 `refresh_token` grant form) or,
    for a browser session, from the `__Secure-sg_refresh` cookie (then `X-CSRF-Token` is
    required, the request must come from this API's own pages or an origin in
    `cors_allowed_origins` as for `createSession`, and the answer sets new cookies; two
    refresh cookies in one request, one planted by another host, are a 400). Presenting an
    already-used refresh token revokes its whole family.

    Args:
        body (RefreshRequest | Unset):
        body (RefreshTokenDataBody | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | SessionResponse | TokenResponse]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: RefreshRequest | RefreshTokenDataBody | Unset = UNSET,
) -> Problem | SessionResponse | TokenResponse | None:
    """Rotate a refresh token

     Takes the refresh token from the body (JSON or the OAuth2 `refresh_token` grant form) or,
    for a browser session, from the `__Secure-sg_refresh` cookie (then `X-CSRF-Token` is
    required, the request must come from this API's own pages or an origin in
    `cors_allowed_origins` as for `createSession`, and the answer sets new cookies; two
    refresh cookies in one request, one planted by another host, are a 400). Presenting an
    already-used refresh token revokes its whole family.

    Args:
        body (RefreshRequest | Unset):
        body (RefreshTokenDataBody | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | SessionResponse | TokenResponse
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
