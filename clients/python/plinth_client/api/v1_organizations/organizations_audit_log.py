import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.cursor_page_audit_read import CursorPageAuditRead
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    organization_id: UUID,
    *,
    actor: None | str | Unset = UNSET,
    user_id: None | Unset | UUID = UNSET,
    entity_type: None | str | Unset = UNSET,
    entity_id: None | Unset | UUID = UNSET,
    action: None | str | Unset = UNSET,
    since: datetime.datetime | None | Unset = UNSET,
    until: datetime.datetime | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_actor: None | str | Unset
    if isinstance(actor, Unset):
        json_actor = UNSET
    else:
        json_actor = actor
    params["actor"] = json_actor

    json_user_id: None | str | Unset
    if isinstance(user_id, Unset):
        json_user_id = UNSET
    elif isinstance(user_id, UUID):
        json_user_id = str(user_id)
    else:
        json_user_id = user_id
    params["user_id"] = json_user_id

    json_entity_type: None | str | Unset
    if isinstance(entity_type, Unset):
        json_entity_type = UNSET
    else:
        json_entity_type = entity_type
    params["entity_type"] = json_entity_type

    json_entity_id: None | str | Unset
    if isinstance(entity_id, Unset):
        json_entity_id = UNSET
    elif isinstance(entity_id, UUID):
        json_entity_id = str(entity_id)
    else:
        json_entity_id = entity_id
    params["entity_id"] = json_entity_id

    json_action: None | str | Unset
    if isinstance(action, Unset):
        json_action = UNSET
    else:
        json_action = action
    params["action"] = json_action

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
        "url": "/api/v1/organizations/{organization_id}/audit".format(
            organization_id=quote(str(organization_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> CursorPageAuditRead | Problem | None:
    if response.status_code == 200:
        response_200 = CursorPageAuditRead.from_dict(response.json())

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
) -> Response[CursorPageAuditRead | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    organization_id: UUID,
    *,
    client: AuthenticatedClient,
    actor: None | str | Unset = UNSET,
    user_id: None | Unset | UUID = UNSET,
    entity_type: None | str | Unset = UNSET,
    entity_id: None | Unset | UUID = UNSET,
    action: None | str | Unset = UNSET,
    since: datetime.datetime | None | Unset = UNSET,
    until: datetime.datetime | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> Response[CursorPageAuditRead | Problem]:
    """Audit Log

     Admins: the organization's audit log, newest first — changes to the organization, its
    members, invitations and organization-scoped entities, with who made them. Filter by actor,
    entity, action and time; pass `next_cursor` back as `cursor` for older entries.

    Args:
        organization_id (UUID):
        actor (None | str | Unset): `user:<id>`, `api_key:<id>`, `system:<job>`
        user_id (None | Unset | UUID): The person acting
        entity_type (None | str | Unset): Equal to this value.
        entity_id (None | Unset | UUID): Equal to this value.
        action (None | str | Unset): Equal to this value.
        since (datetime.datetime | None | Unset): From this time (inclusive)
        until (datetime.datetime | None | Unset): Before this time
        limit (int | Unset): Rows per page. Default: 50.
        cursor (None | str | Unset): `next_cursor` of the previous page.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CursorPageAuditRead | Problem]
    """

    kwargs = _get_kwargs(
        organization_id=organization_id,
        actor=actor,
        user_id=user_id,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
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
    organization_id: UUID,
    *,
    client: AuthenticatedClient,
    actor: None | str | Unset = UNSET,
    user_id: None | Unset | UUID = UNSET,
    entity_type: None | str | Unset = UNSET,
    entity_id: None | Unset | UUID = UNSET,
    action: None | str | Unset = UNSET,
    since: datetime.datetime | None | Unset = UNSET,
    until: datetime.datetime | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> CursorPageAuditRead | Problem | None:
    """Audit Log

     Admins: the organization's audit log, newest first — changes to the organization, its
    members, invitations and organization-scoped entities, with who made them. Filter by actor,
    entity, action and time; pass `next_cursor` back as `cursor` for older entries.

    Args:
        organization_id (UUID):
        actor (None | str | Unset): `user:<id>`, `api_key:<id>`, `system:<job>`
        user_id (None | Unset | UUID): The person acting
        entity_type (None | str | Unset): Equal to this value.
        entity_id (None | Unset | UUID): Equal to this value.
        action (None | str | Unset): Equal to this value.
        since (datetime.datetime | None | Unset): From this time (inclusive)
        until (datetime.datetime | None | Unset): Before this time
        limit (int | Unset): Rows per page. Default: 50.
        cursor (None | str | Unset): `next_cursor` of the previous page.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CursorPageAuditRead | Problem
    """

    return sync_detailed(
        organization_id=organization_id,
        client=client,
        actor=actor,
        user_id=user_id,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    organization_id: UUID,
    *,
    client: AuthenticatedClient,
    actor: None | str | Unset = UNSET,
    user_id: None | Unset | UUID = UNSET,
    entity_type: None | str | Unset = UNSET,
    entity_id: None | Unset | UUID = UNSET,
    action: None | str | Unset = UNSET,
    since: datetime.datetime | None | Unset = UNSET,
    until: datetime.datetime | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> Response[CursorPageAuditRead | Problem]:
    """Audit Log

     Admins: the organization's audit log, newest first — changes to the organization, its
    members, invitations and organization-scoped entities, with who made them. Filter by actor,
    entity, action and time; pass `next_cursor` back as `cursor` for older entries.

    Args:
        organization_id (UUID):
        actor (None | str | Unset): `user:<id>`, `api_key:<id>`, `system:<job>`
        user_id (None | Unset | UUID): The person acting
        entity_type (None | str | Unset): Equal to this value.
        entity_id (None | Unset | UUID): Equal to this value.
        action (None | str | Unset): Equal to this value.
        since (datetime.datetime | None | Unset): From this time (inclusive)
        until (datetime.datetime | None | Unset): Before this time
        limit (int | Unset): Rows per page. Default: 50.
        cursor (None | str | Unset): `next_cursor` of the previous page.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CursorPageAuditRead | Problem]
    """

    kwargs = _get_kwargs(
        organization_id=organization_id,
        actor=actor,
        user_id=user_id,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    organization_id: UUID,
    *,
    client: AuthenticatedClient,
    actor: None | str | Unset = UNSET,
    user_id: None | Unset | UUID = UNSET,
    entity_type: None | str | Unset = UNSET,
    entity_id: None | Unset | UUID = UNSET,
    action: None | str | Unset = UNSET,
    since: datetime.datetime | None | Unset = UNSET,
    until: datetime.datetime | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> CursorPageAuditRead | Problem | None:
    """Audit Log

     Admins: the organization's audit log, newest first — changes to the organization, its
    members, invitations and organization-scoped entities, with who made them. Filter by actor,
    entity, action and time; pass `next_cursor` back as `cursor` for older entries.

    Args:
        organization_id (UUID):
        actor (None | str | Unset): `user:<id>`, `api_key:<id>`, `system:<job>`
        user_id (None | Unset | UUID): The person acting
        entity_type (None | str | Unset): Equal to this value.
        entity_id (None | Unset | UUID): Equal to this value.
        action (None | str | Unset): Equal to this value.
        since (datetime.datetime | None | Unset): From this time (inclusive)
        until (datetime.datetime | None | Unset): Before this time
        limit (int | Unset): Rows per page. Default: 50.
        cursor (None | str | Unset): `next_cursor` of the previous page.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CursorPageAuditRead | Problem
    """

    return (
        await asyncio_detailed(
            organization_id=organization_id,
            client=client,
            actor=actor,
            user_id=user_id,
            entity_type=entity_type,
            entity_id=entity_id,
            action=action,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
        )
    ).parsed
