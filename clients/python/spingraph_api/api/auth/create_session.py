from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.create_session_data_body import CreateSessionDataBody
from ...models.credentials import Credentials
from ...models.problem import Problem
from ...models.session_response import SessionResponse
from ...types import Response


def _get_kwargs(
    *,
    body: Credentials | CreateSessionDataBody,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/auth/session",
    }

    if isinstance(body, Credentials):
        _kwargs["json"] = body.to_dict()

        headers["Content-Type"] = "application/json"
    if isinstance(body, CreateSessionDataBody):
        _kwargs["data"] = body.to_dict()
        headers["Content-Type"] = "application/x-www-form-urlencoded"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | SessionResponse | None:
    if response.status_code == 200:
        response_200 = SessionResponse.from_dict(response.json())

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
) -> Response[Problem | SessionResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: Credentials | CreateSessionDataBody,
) -> Response[Problem | SessionResponse]:
    """Browser sign-in; sets the session cookies and returns the CSRF token

     Sets `__Host-sg_access` and `__Secure-sg_refresh` (HttpOnly; Secure; SameSite=Strict; the
    refresh cookie on `Path=/v1/auth`) and `__Host-sg_csrf`.
    Cookie-authenticated POST/PUT/PATCH/DELETE requests must send the CSRF token in
    `X-CSRF-Token`. Refused (403) from another site's pages (login CSRF): when the browser
    sends `Sec-Fetch-Site: cross-site`, or an `Origin` that is neither this API's own nor listed
    in the `cors_allowed_origins` variable (`*` lists none here). Requests without `Origin`
    (non-browser clients) are not affected.

    Args:
        body (Credentials):
        body (CreateSessionDataBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | SessionResponse]
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
    body: Credentials | CreateSessionDataBody,
) -> Problem | SessionResponse | None:
    """Browser sign-in; sets the session cookies and returns the CSRF token

     Sets `__Host-sg_access` and `__Secure-sg_refresh` (HttpOnly; Secure; SameSite=Strict; the
    refresh cookie on `Path=/v1/auth`) and `__Host-sg_csrf`.
    Cookie-authenticated POST/PUT/PATCH/DELETE requests must send the CSRF token in
    `X-CSRF-Token`. Refused (403) from another site's pages (login CSRF): when the browser
    sends `Sec-Fetch-Site: cross-site`, or an `Origin` that is neither this API's own nor listed
    in the `cors_allowed_origins` variable (`*` lists none here). Requests without `Origin`
    (non-browser clients) are not affected.

    Args:
        body (Credentials):
        body (CreateSessionDataBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | SessionResponse
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: Credentials | CreateSessionDataBody,
) -> Response[Problem | SessionResponse]:
    """Browser sign-in; sets the session cookies and returns the CSRF token

     Sets `__Host-sg_access` and `__Secure-sg_refresh` (HttpOnly; Secure; SameSite=Strict; the
    refresh cookie on `Path=/v1/auth`) and `__Host-sg_csrf`.
    Cookie-authenticated POST/PUT/PATCH/DELETE requests must send the CSRF token in
    `X-CSRF-Token`. Refused (403) from another site's pages (login CSRF): when the browser
    sends `Sec-Fetch-Site: cross-site`, or an `Origin` that is neither this API's own nor listed
    in the `cors_allowed_origins` variable (`*` lists none here). Requests without `Origin`
    (non-browser clients) are not affected.

    Args:
        body (Credentials):
        body (CreateSessionDataBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | SessionResponse]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: Credentials | CreateSessionDataBody,
) -> Problem | SessionResponse | None:
    """Browser sign-in; sets the session cookies and returns the CSRF token

     Sets `__Host-sg_access` and `__Secure-sg_refresh` (HttpOnly; Secure; SameSite=Strict; the
    refresh cookie on `Path=/v1/auth`) and `__Host-sg_csrf`.
    Cookie-authenticated POST/PUT/PATCH/DELETE requests must send the CSRF token in
    `X-CSRF-Token`. Refused (403) from another site's pages (login CSRF): when the browser
    sends `Sec-Fetch-Site: cross-site`, or an `Origin` that is neither this API's own nor listed
    in the `cors_allowed_origins` variable (`*` lists none here). Requests without `Origin`
    (non-browser clients) are not affected.

    Args:
        body (Credentials):
        body (CreateSessionDataBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | SessionResponse
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
