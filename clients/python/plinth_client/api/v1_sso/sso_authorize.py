from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    provider: str,
    *,
    return_to: None | str | Unset = UNSET,
    link: None | str | Unset = UNSET,
    login_hint: None | str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_return_to: None | str | Unset
    if isinstance(return_to, Unset):
        json_return_to = UNSET
    else:
        json_return_to = return_to
    params["return_to"] = json_return_to

    json_link: None | str | Unset
    if isinstance(link, Unset):
        json_link = UNSET
    else:
        json_link = link
    params["link"] = json_link

    json_login_hint: None | str | Unset
    if isinstance(login_hint, Unset):
        json_login_hint = UNSET
    else:
        json_login_hint = login_hint
    params["login_hint"] = json_login_hint

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/auth/sso/{provider}/authorize".format(
            provider=quote(str(provider), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | Problem | None:
    if response.status_code == 302:
        response_302 = cast(Any, None)
        return response_302

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Any | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    provider: str,
    *,
    client: AuthenticatedClient | Client,
    return_to: None | str | Unset = UNSET,
    link: None | str | Unset = UNSET,
    login_hint: None | str | Unset = UNSET,
) -> Response[Any | Problem]:
    """Authorize

     Open in the browser: redirects to the provider (authorization code + PKCE, `state`,
    `nonce`). `return_to` must be one of SSO_REDIRECT_ALLOWLIST exactly (default: the first).
    Sets a short-lived HttpOnly cookie that binds the flow to this browser.

    Args:
        provider (str):
        return_to (None | str | Unset):
        link (None | str | Unset):
        login_hint (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem]
    """

    kwargs = _get_kwargs(
        provider=provider,
        return_to=return_to,
        link=link,
        login_hint=login_hint,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    provider: str,
    *,
    client: AuthenticatedClient | Client,
    return_to: None | str | Unset = UNSET,
    link: None | str | Unset = UNSET,
    login_hint: None | str | Unset = UNSET,
) -> Any | Problem | None:
    """Authorize

     Open in the browser: redirects to the provider (authorization code + PKCE, `state`,
    `nonce`). `return_to` must be one of SSO_REDIRECT_ALLOWLIST exactly (default: the first).
    Sets a short-lived HttpOnly cookie that binds the flow to this browser.

    Args:
        provider (str):
        return_to (None | str | Unset):
        link (None | str | Unset):
        login_hint (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem
    """

    return sync_detailed(
        provider=provider,
        client=client,
        return_to=return_to,
        link=link,
        login_hint=login_hint,
    ).parsed


async def asyncio_detailed(
    provider: str,
    *,
    client: AuthenticatedClient | Client,
    return_to: None | str | Unset = UNSET,
    link: None | str | Unset = UNSET,
    login_hint: None | str | Unset = UNSET,
) -> Response[Any | Problem]:
    """Authorize

     Open in the browser: redirects to the provider (authorization code + PKCE, `state`,
    `nonce`). `return_to` must be one of SSO_REDIRECT_ALLOWLIST exactly (default: the first).
    Sets a short-lived HttpOnly cookie that binds the flow to this browser.

    Args:
        provider (str):
        return_to (None | str | Unset):
        link (None | str | Unset):
        login_hint (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem]
    """

    kwargs = _get_kwargs(
        provider=provider,
        return_to=return_to,
        link=link,
        login_hint=login_hint,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    provider: str,
    *,
    client: AuthenticatedClient | Client,
    return_to: None | str | Unset = UNSET,
    link: None | str | Unset = UNSET,
    login_hint: None | str | Unset = UNSET,
) -> Any | Problem | None:
    """Authorize

     Open in the browser: redirects to the provider (authorization code + PKCE, `state`,
    `nonce`). `return_to` must be one of SSO_REDIRECT_ALLOWLIST exactly (default: the first).
    Sets a short-lived HttpOnly cookie that binds the flow to this browser.

    Args:
        provider (str):
        return_to (None | str | Unset):
        link (None | str | Unset):
        login_hint (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem
    """

    return (
        await asyncio_detailed(
            provider=provider,
            client=client,
            return_to=return_to,
            link=link,
            login_hint=login_hint,
        )
    ).parsed
