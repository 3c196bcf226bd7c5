from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.http_validation_error import HTTPValidationError
from ...models.link_request import LinkRequest
from ...models.link_start import LinkStart
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    provider: str,
    *,
    body: LinkRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/users/me/identities/{provider}/link".format(
            provider=quote(str(provider), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> HTTPValidationError | LinkStart | Problem | None:
    if response.status_code == 200:
        response_200 = LinkStart.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 422:
        response_422 = HTTPValidationError.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[HTTPValidationError | LinkStart | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    provider: str,
    *,
    client: AuthenticatedClient,
    body: LinkRequest,
) -> Response[HTTPValidationError | LinkStart | Problem]:
    """Link Identity

     Start linking a provider account to yours: open `authorize_url` in this browser; it
    comes back to `return_to?linked=<provider>` (or `?error=`).

    Args:
        provider (str):
        body (LinkRequest): Where the browser returns once the provider account is linked
            (allowlisted).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[HTTPValidationError | LinkStart | Problem]
    """

    kwargs = _get_kwargs(
        provider=provider,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    provider: str,
    *,
    client: AuthenticatedClient,
    body: LinkRequest,
) -> HTTPValidationError | LinkStart | Problem | None:
    """Link Identity

     Start linking a provider account to yours: open `authorize_url` in this browser; it
    comes back to `return_to?linked=<provider>` (or `?error=`).

    Args:
        provider (str):
        body (LinkRequest): Where the browser returns once the provider account is linked
            (allowlisted).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        HTTPValidationError | LinkStart | Problem
    """

    return sync_detailed(
        provider=provider,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    provider: str,
    *,
    client: AuthenticatedClient,
    body: LinkRequest,
) -> Response[HTTPValidationError | LinkStart | Problem]:
    """Link Identity

     Start linking a provider account to yours: open `authorize_url` in this browser; it
    comes back to `return_to?linked=<provider>` (or `?error=`).

    Args:
        provider (str):
        body (LinkRequest): Where the browser returns once the provider account is linked
            (allowlisted).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[HTTPValidationError | LinkStart | Problem]
    """

    kwargs = _get_kwargs(
        provider=provider,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    provider: str,
    *,
    client: AuthenticatedClient,
    body: LinkRequest,
) -> HTTPValidationError | LinkStart | Problem | None:
    """Link Identity

     Start linking a provider account to yours: open `authorize_url` in this browser; it
    comes back to `return_to?linked=<provider>` (or `?error=`).

    Args:
        provider (str):
        body (LinkRequest): Where the browser returns once the provider account is linked
            (allowlisted).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        HTTPValidationError | LinkStart | Problem
    """

    return (
        await asyncio_detailed(
            provider=provider,
            client=client,
            body=body,
        )
    ).parsed
