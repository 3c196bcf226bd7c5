import datetime
from http import HTTPStatus
from typing import Any
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.cursor_page_request_log_read import CursorPageRequestLogRead
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    user_id: None | Unset | UUID = UNSET,
    api_key_id: None | Unset | UUID = UNSET,
    status: int | None | Unset = UNSET,
    min_status: int | None | Unset = UNSET,
    route: None | str | Unset = UNSET,
    method: None | str | Unset = UNSET,
    request_id: None | str | Unset = UNSET,
    since: datetime.datetime | None | Unset = UNSET,
    until: datetime.datetime | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_user_id: None | str | Unset
    if isinstance(user_id, Unset):
        json_user_id = UNSET
    elif isinstance(user_id, UUID):
        json_user_id = str(user_id)
    else:
        json_user_id = user_id
    params["user_id"] = json_user_id

    json_api_key_id: None | str | Unset
    if isinstance(api_key_id, Unset):
        json_api_key_id = UNSET
    elif isinstance(api_key_id, UUID):
        json_api_key_id = str(api_key_id)
    else:
        json_api_key_id = api_key_id
    params["api_key_id"] = json_api_key_id

    json_status: int | None | Unset
    if isinstance(status, Unset):
        json_status = UNSET
    else:
        json_status = status
    params["status"] = json_status

    json_min_status: int | None | Unset
    if isinstance(min_status, Unset):
        json_min_status = UNSET
    else:
        json_min_status = min_status
    params["min_status"] = json_min_status

    json_route: None | str | Unset
    if isinstance(route, Unset):
        json_route = UNSET
    else:
        json_route = route
    params["route"] = json_route

    json_method: None | str | Unset
    if isinstance(method, Unset):
        json_method = UNSET
    else:
        json_method = method
    params["method"] = json_method

    json_request_id: None | str | Unset
    if isinstance(request_id, Unset):
        json_request_id = UNSET
    else:
        json_request_id = request_id
    params["request_id"] = json_request_id

    json_since: None | str | Unset
    if isinstance(since, Unset):
        json_since = UNSET
    elif isinstance(since, datetime.datetime):
        json_since = since.isoformat()
    else:
        json_since = since
    params["since"] = json_since

    json_until: None | str | Unset
    if isinstance(until, Unset):
        json_until = UNSET
    elif isinstance(until, datetime.datetime):
        json_until = until.isoformat()
    else:
        json_until = until
    params["until"] = json_until

    params["limit"] = limit

    json_cursor: None | str | Unset
    if isinstance(cursor, Unset):
        json_cursor = UNSET
    else:
        json_cursor = cursor
    params["cursor"] = json_cursor

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/admin/request-logs",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> CursorPageRequestLogRead | Problem | None:
    if response.status_code == 200:
        response_200 = CursorPageRequestLogRead.from_dict(response.json())

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
) -> Response[CursorPageRequestLogRead | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    user_id: None | Unset | UUID = UNSET,
    api_key_id: None | Unset | UUID = UNSET,
    status: int | None | Unset = UNSET,
    min_status: int | None | Unset = UNSET,
    route: None | str | Unset = UNSET,
    method: None | str | Unset = UNSET,
    request_id: None | str | Unset = UNSET,
    since: datetime.datetime | None | Unset = UNSET,
    until: datetime.datetime | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> Response[CursorPageRequestLogRead | Problem]:
    """List Request Logs

     API requests served, newest first; pass `next_cursor` back as `cursor` for older ones.

    Rows reach the table in batches (REQUEST_LOG_FLUSH_INTERVAL_SECONDS), so the last seconds
    of traffic may not be listed yet.

    Args:
        user_id (None | Unset | UUID): Equal to this value.
        api_key_id (None | Unset | UUID): Equal to this value.
        status (int | None | Unset): Equal to this value.
        min_status (int | None | Unset): e.g. 500
        route (None | str | Unset): Template
        method (None | str | Unset): Equal to this value.
        request_id (None | str | Unset): Equal to this value.
        since (datetime.datetime | None | Unset): From this time (inclusive)
        until (datetime.datetime | None | Unset): Before this time
        limit (int | Unset): Rows per page. Default: 50.
        cursor (None | str | Unset): `next_cursor` of the previous page.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CursorPageRequestLogRead | Problem]
    """

    kwargs = _get_kwargs(
        user_id=user_id,
        api_key_id=api_key_id,
        status=status,
        min_status=min_status,
        route=route,
        method=method,
        request_id=request_id,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    user_id: None | Unset | UUID = UNSET,
    api_key_id: None | Unset | UUID = UNSET,
    status: int | None | Unset = UNSET,
    min_status: int | None | Unset = UNSET,
    route: None | str | Unset = UNSET,
    method: None | str | Unset = UNSET,
    request_id: None | str | Unset = UNSET,
    since: datetime.datetime | None | Unset = UNSET,
    until: datetime.datetime | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> CursorPageRequestLogRead | Problem | None:
    """List Request Logs

     API requests served, newest first; pass `next_cursor` back as `cursor` for older ones.

    Rows reach the table in batches (REQUEST_LOG_FLUSH_INTERVAL_SECONDS), so the last seconds
    of traffic may not be listed yet.

    Args:
        user_id (None | Unset | UUID): Equal to this value.
        api_key_id (None | Unset | UUID): Equal to this value.
        status (int | None | Unset): Equal to this value.
        min_status (int | None | Unset): e.g. 500
        route (None | str | Unset): Template
        method (None | str | Unset): Equal to this value.
        request_id (None | str | Unset): Equal to this value.
        since (datetime.datetime | None | Unset): From this time (inclusive)
        until (datetime.datetime | None | Unset): Before this time
        limit (int | Unset): Rows per page. Default: 50.
        cursor (None | str | Unset): `next_cursor` of the previous page.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CursorPageRequestLogRead | Problem
    """

    return sync_detailed(
        client=client,
        user_id=user_id,
        api_key_id=api_key_id,
        status=status,
        min_status=min_status,
        route=route,
        method=method,
        request_id=request_id,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    user_id: None | Unset | UUID = UNSET,
    api_key_id: None | Unset | UUID = UNSET,
    status: int | None | Unset = UNSET,
    min_status: int | None | Unset = UNSET,
    route: None | str | Unset = UNSET,
    method: None | str | Unset = UNSET,
    request_id: None | str | Unset = UNSET,
    since: datetime.datetime | None | Unset = UNSET,
    until: datetime.datetime | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> Response[CursorPageRequestLogRead | Problem]:
    """List Request Logs

     API requests served, newest first; pass `next_cursor` back as `cursor` for older ones.

    Rows reach the table in batches (REQUEST_LOG_FLUSH_INTERVAL_SECONDS), so the last seconds
    of traffic may not be listed yet.

    Args:
        user_id (None | Unset | UUID): Equal to this value.
        api_key_id (None | Unset | UUID): Equal to this value.
        status (int | None | Unset): Equal to this value.
        min_status (int | None | Unset): e.g. 500
        route (None | str | Unset): Template
        method (None | str | Unset): Equal to this value.
        request_id (None | str | Unset): Equal to this value.
        since (datetime.datetime | None | Unset): From this time (inclusive)
        until (datetime.datetime | None | Unset): Before this time
        limit (int | Unset): Rows per page. Default: 50.
        cursor (None | str | Unset): `next_cursor` of the previous page.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CursorPageRequestLogRead | Problem]
    """

    kwargs = _get_kwargs(
        user_id=user_id,
        api_key_id=api_key_id,
        status=status,
        min_status=min_status,
        route=route,
        method=method,
        request_id=request_id,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    user_id: None | Unset | UUID = UNSET,
    api_key_id: None | Unset | UUID = UNSET,
    status: int | None | Unset = UNSET,
    min_status: int | None | Unset = UNSET,
    route: None | str | Unset = UNSET,
    method: None | str | Unset = UNSET,
    request_id: None | str | Unset = UNSET,
    since: datetime.datetime | None | Unset = UNSET,
    until: datetime.datetime | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> CursorPageRequestLogRead | Problem | None:
    """List Request Logs

     API requests served, newest first; pass `next_cursor` back as `cursor` for older ones.

    Rows reach the table in batches (REQUEST_LOG_FLUSH_INTERVAL_SECONDS), so the last seconds
    of traffic may not be listed yet.

    Args:
        user_id (None | Unset | UUID): Equal to this value.
        api_key_id (None | Unset | UUID): Equal to this value.
        status (int | None | Unset): Equal to this value.
        min_status (int | None | Unset): e.g. 500
        route (None | str | Unset): Template
        method (None | str | Unset): Equal to this value.
        request_id (None | str | Unset): Equal to this value.
        since (datetime.datetime | None | Unset): From this time (inclusive)
        until (datetime.datetime | None | Unset): Before this time
        limit (int | Unset): Rows per page. Default: 50.
        cursor (None | str | Unset): `next_cursor` of the previous page.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CursorPageRequestLogRead | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            user_id=user_id,
            api_key_id=api_key_id,
            status=status,
            min_status=min_status,
            route=route,
            method=method,
            request_id=request_id,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
        )
    ).parsed
