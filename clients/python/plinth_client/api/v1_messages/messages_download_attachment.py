from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.file_download import FileDownload
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    message_id: UUID,
    file_id: UUID,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/messages/{message_id}/attachments/{file_id}".format(
            message_id=quote(str(message_id), safe=""),
            file_id=quote(str(file_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> FileDownload | Problem | None:
    if response.status_code == 200:
        response_200 = FileDownload.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

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
) -> Response[FileDownload | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    message_id: UUID,
    file_id: UUID,
    *,
    client: AuthenticatedClient,
) -> Response[FileDownload | Problem]:
    """Download Attachment

     A short-lived URL of one of the message's files (members of its thread only: 404 for
    anyone else, and once the message is deleted); then a plain GET of `url`.

    Args:
        message_id (UUID):
        file_id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[FileDownload | Problem]
    """

    kwargs = _get_kwargs(
        message_id=message_id,
        file_id=file_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    message_id: UUID,
    file_id: UUID,
    *,
    client: AuthenticatedClient,
) -> FileDownload | Problem | None:
    """Download Attachment

     A short-lived URL of one of the message's files (members of its thread only: 404 for
    anyone else, and once the message is deleted); then a plain GET of `url`.

    Args:
        message_id (UUID):
        file_id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        FileDownload | Problem
    """

    return sync_detailed(
        message_id=message_id,
        file_id=file_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    message_id: UUID,
    file_id: UUID,
    *,
    client: AuthenticatedClient,
) -> Response[FileDownload | Problem]:
    """Download Attachment

     A short-lived URL of one of the message's files (members of its thread only: 404 for
    anyone else, and once the message is deleted); then a plain GET of `url`.

    Args:
        message_id (UUID):
        file_id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[FileDownload | Problem]
    """

    kwargs = _get_kwargs(
        message_id=message_id,
        file_id=file_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    message_id: UUID,
    file_id: UUID,
    *,
    client: AuthenticatedClient,
) -> FileDownload | Problem | None:
    """Download Attachment

     A short-lived URL of one of the message's files (members of its thread only: 404 for
    anyone else, and once the message is deleted); then a plain GET of `url`.

    Args:
        message_id (UUID):
        file_id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        FileDownload | Problem
    """

    return (
        await asyncio_detailed(
            message_id=message_id,
            file_id=file_id,
            client=client,
        )
    ).parsed
