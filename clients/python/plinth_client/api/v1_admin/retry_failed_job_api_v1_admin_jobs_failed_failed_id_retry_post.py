from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.enqueued import Enqueued
from ...models.http_validation_error import HTTPValidationError
from ...types import Response


def _get_kwargs(
    failed_id: UUID,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/admin/jobs/failed/{failed_id}/retry".format(
            failed_id=quote(str(failed_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Enqueued | HTTPValidationError | None:
    if response.status_code == 202:
        response_202 = Enqueued.from_dict(response.json())

        return response_202

    if response.status_code == 422:
        response_422 = HTTPValidationError.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Enqueued | HTTPValidationError]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    failed_id: UUID,
    *,
    client: AuthenticatedClient,
) -> Response[Enqueued | HTTPValidationError]:
    """Retry Failed Job

     Send the job again with its arguments (fresh attempts) once the record is dropped.

    Args:
        failed_id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Enqueued | HTTPValidationError]
    """

    kwargs = _get_kwargs(
        failed_id=failed_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    failed_id: UUID,
    *,
    client: AuthenticatedClient,
) -> Enqueued | HTTPValidationError | None:
    """Retry Failed Job

     Send the job again with its arguments (fresh attempts) once the record is dropped.

    Args:
        failed_id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Enqueued | HTTPValidationError
    """

    return sync_detailed(
        failed_id=failed_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    failed_id: UUID,
    *,
    client: AuthenticatedClient,
) -> Response[Enqueued | HTTPValidationError]:
    """Retry Failed Job

     Send the job again with its arguments (fresh attempts) once the record is dropped.

    Args:
        failed_id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Enqueued | HTTPValidationError]
    """

    kwargs = _get_kwargs(
        failed_id=failed_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    failed_id: UUID,
    *,
    client: AuthenticatedClient,
) -> Enqueued | HTTPValidationError | None:
    """Retry Failed Job

     Send the job again with its arguments (fresh attempts) once the record is dropped.

    Args:
        failed_id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Enqueued | HTTPValidationError
    """

    return (
        await asyncio_detailed(
            failed_id=failed_id,
            client=client,
        )
    ).parsed
