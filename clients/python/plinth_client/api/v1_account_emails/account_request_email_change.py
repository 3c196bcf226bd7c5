from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.email_change_request import EmailChangeRequest
from ...models.mail_accepted import MailAccepted
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    *,
    body: EmailChangeRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/users/me/email",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> MailAccepted | Problem | None:
    if response.status_code == 202:
        response_202 = MailAccepted.from_dict(response.json())

        return response_202

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

    if response.status_code == 500:
        response_500 = Problem.from_dict(response.json())

        return response_500

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    if response.status_code == 504:
        response_504 = Problem.from_dict(response.json())

        return response_504

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[MailAccepted | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: EmailChangeRequest,
) -> Response[MailAccepted | Problem]:
    """Request Email Change

     Change the address (`current_password` required): a confirmation link goes to the new
    address, a notice to the current one; the change applies when the link is followed. Wrong
    `current_password` answers are limited per account (RATE_LIMIT_PASSWORD_CHECK): 429.

    Args:
        body (EmailChangeRequest): A new address for one's account (it applies once confirmed from
            that address).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[MailAccepted | Problem]
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
    body: EmailChangeRequest,
) -> MailAccepted | Problem | None:
    """Request Email Change

     Change the address (`current_password` required): a confirmation link goes to the new
    address, a notice to the current one; the change applies when the link is followed. Wrong
    `current_password` answers are limited per account (RATE_LIMIT_PASSWORD_CHECK): 429.

    Args:
        body (EmailChangeRequest): A new address for one's account (it applies once confirmed from
            that address).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        MailAccepted | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: EmailChangeRequest,
) -> Response[MailAccepted | Problem]:
    """Request Email Change

     Change the address (`current_password` required): a confirmation link goes to the new
    address, a notice to the current one; the change applies when the link is followed. Wrong
    `current_password` answers are limited per account (RATE_LIMIT_PASSWORD_CHECK): 429.

    Args:
        body (EmailChangeRequest): A new address for one's account (it applies once confirmed from
            that address).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[MailAccepted | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: EmailChangeRequest,
) -> MailAccepted | Problem | None:
    """Request Email Change

     Change the address (`current_password` required): a confirmation link goes to the new
    address, a notice to the current one; the change applies when the link is followed. Wrong
    `current_password` answers are limited per account (RATE_LIMIT_PASSWORD_CHECK): 429.

    Args:
        body (EmailChangeRequest): A new address for one's account (it applies once confirmed from
            that address).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        MailAccepted | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
