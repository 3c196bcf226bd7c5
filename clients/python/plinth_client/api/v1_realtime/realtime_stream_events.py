from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.stream_page import StreamPage
from ...types import UNSET, Response, Unset


def _get_kwargs(
    stream: str,
    *,
    after: int | Unset = 0,
    limit: int | Unset = 100,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["after"] = after

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/realtime/streams/{stream}/events".format(
            stream=quote(str(stream), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | StreamPage | None:
    if response.status_code == 200:
        response_200 = StreamPage.from_dict(response.json())

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
) -> Response[Problem | StreamPage]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    stream: str,
    *,
    client: AuthenticatedClient,
    after: int | Unset = 0,
    limit: int | Unset = 100,
) -> Response[Problem | StreamPage]:
    """Stream Events

     A stream's kept events after `after`, oldest first: how a client fills a gap in `seq`.
    A stream you may not read answers 404, as one that does not exist.

    Args:
        stream (str): `<kind>:<id>`, as in the events' `stream`.
        after (int | Unset): The last seq you saw. Default: 0.
        limit (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | StreamPage]
    """

    kwargs = _get_kwargs(
        stream=stream,
        after=after,
        limit=limit,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    stream: str,
    *,
    client: AuthenticatedClient,
    after: int | Unset = 0,
    limit: int | Unset = 100,
) -> Problem | StreamPage | None:
    """Stream Events

     A stream's kept events after `after`, oldest first: how a client fills a gap in `seq`.
    A stream you may not read answers 404, as one that does not exist.

    Args:
        stream (str): `<kind>:<id>`, as in the events' `stream`.
        after (int | Unset): The last seq you saw. Default: 0.
        limit (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | StreamPage
    """

    return sync_detailed(
        stream=stream,
        client=client,
        after=after,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    stream: str,
    *,
    client: AuthenticatedClient,
    after: int | Unset = 0,
    limit: int | Unset = 100,
) -> Response[Problem | StreamPage]:
    """Stream Events

     A stream's kept events after `after`, oldest first: how a client fills a gap in `seq`.
    A stream you may not read answers 404, as one that does not exist.

    Args:
        stream (str): `<kind>:<id>`, as in the events' `stream`.
        after (int | Unset): The last seq you saw. Default: 0.
        limit (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | StreamPage]
    """

    kwargs = _get_kwargs(
        stream=stream,
        after=after,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    stream: str,
    *,
    client: AuthenticatedClient,
    after: int | Unset = 0,
    limit: int | Unset = 100,
) -> Problem | StreamPage | None:
    """Stream Events

     A stream's kept events after `after`, oldest first: how a client fills a gap in `seq`.
    A stream you may not read answers 404, as one that does not exist.

    Args:
        stream (str): `<kind>:<id>`, as in the events' `stream`.
        after (int | Unset): The last seq you saw. Default: 0.
        limit (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | StreamPage
    """

    return (
        await asyncio_detailed(
            stream=stream,
            client=client,
            after=after,
            limit=limit,
        )
    ).parsed
