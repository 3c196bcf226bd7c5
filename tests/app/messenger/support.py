"""Helpers shared by the messenger tests: users with headers, threads and messages over HTTP."""

import uuid
from typing import Any

import httpx

from tests.helpers import API, Actor, actor

__all__ = ["API", "Actor", "actor"]  # the shared helpers, as the messenger tests import them


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
