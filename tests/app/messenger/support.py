"""Helpers shared by the messenger tests: users with headers, threads and messages over HTTP."""

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from app.users.models import User
from tests.helpers import bearer, create_user

API = "/api/v1"


@dataclass
class Actor:
    """A user and the Authorization header of a fresh access token for them."""

    user: User
    headers: dict[str, str]

    @property
    def id(self) -> str:
        return str(self.user.id)


async def actor(
    database: Any, name: str, *, scopes: tuple[str, ...] = ("regular",), **kwargs: Any
) -> Actor:
    user = await create_user(
        database, f"{name}@example.com", scopes=scopes, full_name=name.title(), **kwargs
    )
    return Actor(user, bearer(user))


async def new_thread(
    client: httpx.AsyncClient, creator: Actor, *members: Actor, title: str = "Plans"
) -> dict[str, Any]:
    response = await client.post(
        f"{API}/threads",
        json={"title": title, "participant_ids": [m.id for m in members]},
        headers=creator.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def send(
    client: httpx.AsyncClient, author: Actor, thread_id: str, body: str = "hello"
) -> dict[str, Any]:
    response = await client.post(
        f"{API}/threads/{thread_id}/messages", json={"body": body}, headers=author.headers
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def participant_ids(thread: dict[str, Any]) -> list[str]:
    return [p["user_id"] for p in thread["participants"]]


def problem_without_request_id(response: httpx.Response) -> dict[str, Any]:
    body = dict(response.json())
    body.pop("request_id", None)
    return body


def random_id() -> str:
    return str(uuid.uuid4())
