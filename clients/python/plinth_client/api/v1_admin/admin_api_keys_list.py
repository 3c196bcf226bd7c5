from http import HTTPStatus
from typing import Any
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.offset_page_api_key_admin_read import OffsetPageApiKeyAdminRead
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    user_id: None | Unset | UUID = UNSET,
    active: bool | None | Unset = UNSET,
    limit: int | Unset = 50,
    offset: int | Unset = 0,
    sort: str | Unset = "-created_at",
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

    json_active: bool | None | Unset
    if isinstance(active, Unset):
        json_active = UNSET
    else:
        json_active = active
    params["active"] = json_active

    params["limit"] = limit

    params["offset"] = offset

    params["sort"] = sort

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/admin/api-keys",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> OffsetPageApiKeyAdminRead | Problem | None:
    if response.status_code == 200:
        response_200 = OffsetPageApiKeyAdminRead.from_dict(response.json())

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
) -> Response[OffsetPageApiKeyAdminRead | Problem]:
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
    active: bool | None | Unset = UNSET,
    limit: int | Unset = 50,
    offset: int | Unset = 0,
    sort: str | Unset = "-created_at",
) -> Response[OffsetPageApiKeyAdminRead | Problem]:
    """List admin api keys

    Args:
        user_id (None | Unset | UUID): Equal to this value.
        active (bool | None | Unset):
        limit (int | Unset): Rows per page. Default: 50.
        offset (int | Unset): Rows to skip. Default: 0.
        sort (str | Unset): Comma-separated fields (at most 3), `-` for descending. Allowed:
            created_at, name. Default: '-created_at'.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[OffsetPageApiKeyAdminRead | Problem]
    """

    kwargs = _get_kwargs(
        user_id=user_id,
        active=active,
        limit=limit,
        offset=offset,
        sort=sort,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    user_id: None | Unset | UUID = UNSET,
    active: bool | None | Unset = UNSET,
    limit: int | Unset = 50,
    offset: int | Unset = 0,
    sort: str | Unset = "-created_at",
) -> OffsetPageApiKeyAdminRead | Problem | None:
    """List admin api keys

    Args:
        user_id (None | Unset | UUID): Equal to this value.
        active (bool | None | Unset):
        limit (int | Unset): Rows per page. Default: 50.
        offset (int | Unset): Rows to skip. Default: 0.
        sort (str | Unset): Comma-separated fields (at most 3), `-` for descending. Allowed:
            created_at, name. Default: '-created_at'.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        OffsetPageApiKeyAdminRead | Problem
    """

    return sync_detailed(
        client=client,
        user_id=user_id,
        active=active,
        limit=limit,
        offset=offset,
        sort=sort,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    user_id: None | Unset | UUID = UNSET,
    active: bool | None | Unset = UNSET,
    limit: int | Unset = 50,
    offset: int | Unset = 0,
    sort: str | Unset = "-created_at",
) -> Response[OffsetPageApiKeyAdminRead | Problem]:
    """List admin api keys

    Args:
        user_id (None | Unset | UUID): Equal to this value.
        active (bool | None | Unset):
        limit (int | Unset): Rows per page. Default: 50.
        offset (int | Unset): Rows to skip. Default: 0.
        sort (str | Unset): Comma-separated fields (at most 3), `-` for descending. Allowed:
            created_at, name. Default: '-created_at'.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[OffsetPageApiKeyAdminRead | Problem]
    """

    kwargs = _get_kwargs(
        user_id=user_id,
        active=active,
        limit=limit,
        offset=offset,
        sort=sort,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    user_id: None | Unset | UUID = UNSET,
    active: bool | None | Unset = UNSET,
    limit: int | Unset = 50,
    offset: int | Unset = 0,
    sort: str | Unset = "-created_at",
) -> OffsetPageApiKeyAdminRead | Problem | None:
    """List admin api keys

    Args:
        user_id (None | Unset | UUID): Equal to this value.
        active (bool | None | Unset):
        limit (int | Unset): Rows per page. Default: 50.
        offset (int | Unset): Rows to skip. Default: 0.
        sort (str | Unset): Comma-separated fields (at most 3), `-` for descending. Allowed:
            created_at, name. Default: '-created_at'.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        OffsetPageApiKeyAdminRead | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            user_id=user_id,
            active=active,
            limit=limit,
            offset=offset,
            sort=sort,
        )
    ).parsed
