from http import HTTPStatus
from typing import Any, cast

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.offset_page_user_admin_read import OffsetPageUserAdminRead
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    email: None | str | Unset = UNSET,
    is_active: bool | None | Unset = UNSET,
    deleted: bool | None | Unset = UNSET,
    limit: int | Unset = 50,
    offset: int | Unset = 0,
    sort: str | Unset = "-created_at",
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_email: None | str | Unset
    if isinstance(email, Unset):
        json_email = UNSET
    else:
        json_email = email
    params["email"] = json_email

    json_is_active: bool | None | Unset
    if isinstance(is_active, Unset):
        json_is_active = UNSET
    else:
        json_is_active = is_active
    params["is_active"] = json_is_active

    json_deleted: bool | None | Unset
    if isinstance(deleted, Unset):
        json_deleted = UNSET
    else:
        json_deleted = deleted
    params["deleted"] = json_deleted

    params["limit"] = limit

    params["offset"] = offset

    params["sort"] = sort

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/users",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Any | OffsetPageUserAdminRead | Problem | None:
    if response.status_code == 200:
        response_200 = OffsetPageUserAdminRead.from_dict(response.json())

        return response_200

    if response.status_code == 304:
        response_304 = cast(Any, None)
        return response_304

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
) -> Response[Any | OffsetPageUserAdminRead | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    email: None | str | Unset = UNSET,
    is_active: bool | None | Unset = UNSET,
    deleted: bool | None | Unset = UNSET,
    limit: int | Unset = 50,
    offset: int | Unset = 0,
    sort: str | Unset = "-created_at",
) -> Response[Any | OffsetPageUserAdminRead | Problem]:
    """List users

    Args:
        email (None | str | Unset): Contains this text, in any case.
        is_active (bool | None | Unset): Equal to this value.
        deleted (bool | None | Unset): `true`: a value set; `false`: no value set.
        limit (int | Unset): Rows per page. Default: 50.
        offset (int | Unset): Rows to skip. Default: 0.
        sort (str | Unset): Comma-separated fields (at most 3), `-` for descending. Allowed:
            created_at, email, full_name. Default: '-created_at'.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | OffsetPageUserAdminRead | Problem]
    """

    kwargs = _get_kwargs(
        email=email,
        is_active=is_active,
        deleted=deleted,
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
    email: None | str | Unset = UNSET,
    is_active: bool | None | Unset = UNSET,
    deleted: bool | None | Unset = UNSET,
    limit: int | Unset = 50,
    offset: int | Unset = 0,
    sort: str | Unset = "-created_at",
) -> Any | OffsetPageUserAdminRead | Problem | None:
    """List users

    Args:
        email (None | str | Unset): Contains this text, in any case.
        is_active (bool | None | Unset): Equal to this value.
        deleted (bool | None | Unset): `true`: a value set; `false`: no value set.
        limit (int | Unset): Rows per page. Default: 50.
        offset (int | Unset): Rows to skip. Default: 0.
        sort (str | Unset): Comma-separated fields (at most 3), `-` for descending. Allowed:
            created_at, email, full_name. Default: '-created_at'.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | OffsetPageUserAdminRead | Problem
    """

    return sync_detailed(
        client=client,
        email=email,
        is_active=is_active,
        deleted=deleted,
        limit=limit,
        offset=offset,
        sort=sort,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    email: None | str | Unset = UNSET,
    is_active: bool | None | Unset = UNSET,
    deleted: bool | None | Unset = UNSET,
    limit: int | Unset = 50,
    offset: int | Unset = 0,
    sort: str | Unset = "-created_at",
) -> Response[Any | OffsetPageUserAdminRead | Problem]:
    """List users

    Args:
        email (None | str | Unset): Contains this text, in any case.
        is_active (bool | None | Unset): Equal to this value.
        deleted (bool | None | Unset): `true`: a value set; `false`: no value set.
        limit (int | Unset): Rows per page. Default: 50.
        offset (int | Unset): Rows to skip. Default: 0.
        sort (str | Unset): Comma-separated fields (at most 3), `-` for descending. Allowed:
            created_at, email, full_name. Default: '-created_at'.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | OffsetPageUserAdminRead | Problem]
    """

    kwargs = _get_kwargs(
        email=email,
        is_active=is_active,
        deleted=deleted,
        limit=limit,
        offset=offset,
        sort=sort,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    email: None | str | Unset = UNSET,
    is_active: bool | None | Unset = UNSET,
    deleted: bool | None | Unset = UNSET,
    limit: int | Unset = 50,
    offset: int | Unset = 0,
    sort: str | Unset = "-created_at",
) -> Any | OffsetPageUserAdminRead | Problem | None:
    """List users

    Args:
        email (None | str | Unset): Contains this text, in any case.
        is_active (bool | None | Unset): Equal to this value.
        deleted (bool | None | Unset): `true`: a value set; `false`: no value set.
        limit (int | Unset): Rows per page. Default: 50.
        offset (int | Unset): Rows to skip. Default: 0.
        sort (str | Unset): Comma-separated fields (at most 3), `-` for descending. Allowed:
            created_at, email, full_name. Default: '-created_at'.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | OffsetPageUserAdminRead | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            email=email,
            is_active=is_active,
            deleted=deleted,
            limit=limit,
            offset=offset,
            sort=sort,
        )
    ).parsed
