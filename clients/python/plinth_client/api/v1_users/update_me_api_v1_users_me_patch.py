from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.http_validation_error import HTTPValidationError
from ...models.me_update import MeUpdate
from ...models.me_updated import MeUpdated
from ...types import Response


def _get_kwargs(
    *,
    body: MeUpdate,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/api/v1/users/me",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> HTTPValidationError | MeUpdated | None:
    if response.status_code == 200:
        response_200 = MeUpdated.from_dict(response.json())

        return response_200

    if response.status_code == 422:
        response_422 = HTTPValidationError.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[HTTPValidationError | MeUpdated]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: MeUpdate,
) -> Response[HTTPValidationError | MeUpdated]:
    """Update Me

     Change `full_name`, and the password with `current_password`. A password change ends
    every session and token, this one included: use the `tokens` pair in the answer.

    Args:
        body (MeUpdate): Changes to one's own account; a new password needs the current one.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[HTTPValidationError | MeUpdated]
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
    client: AuthenticatedClient,
    body: MeUpdate,
) -> HTTPValidationError | MeUpdated | None:
    """Update Me

     Change `full_name`, and the password with `current_password`. A password change ends
    every session and token, this one included: use the `tokens` pair in the answer.

    Args:
        body (MeUpdate): Changes to one's own account; a new password needs the current one.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        HTTPValidationError | MeUpdated
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: MeUpdate,
) -> Response[HTTPValidationError | MeUpdated]:
    """Update Me

     Change `full_name`, and the password with `current_password`. A password change ends
    every session and token, this one included: use the `tokens` pair in the answer.

    Args:
        body (MeUpdate): Changes to one's own account; a new password needs the current one.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[HTTPValidationError | MeUpdated]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: MeUpdate,
) -> HTTPValidationError | MeUpdated | None:
    """Update Me

     Change `full_name`, and the password with `current_password`. A password change ends
    every session and token, this one included: use the `tokens` pair in the answer.

    Args:
        body (MeUpdate): Changes to one's own account; a new password needs the current one.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        HTTPValidationError | MeUpdated
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
