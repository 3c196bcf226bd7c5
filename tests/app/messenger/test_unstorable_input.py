"""The messenger's share of tests/routers/test_unstorable_input.py: text with a NUL character
and aware times with no date in UTC are a 422 naming the field on both legs."""

from typing import Any

import httpx
import pytest

from tests.app.messenger.support import API, Actor, actor, new_thread, send
from tests.routers.test_unstorable_input import NUL, OUT_OF_RANGE, assert_invalid


@pytest.fixture
async def alice(database: Any) -> Actor:
    return await actor(database, "alice", scopes=("regular", "admin"))


async def test_a_message_body_with_nul_is_refused(client: httpx.AsyncClient, alice: Actor) -> None:
    thread = await new_thread(client, alice)
    url = f"{API}/threads/{thread['id']}/messages"
    response = await client.post(url, json={"body": NUL}, headers=alice.headers)
    assert_invalid(response, ["body", "body"])
    assert (await client.get(url, headers=alice.headers)).json()["items"] == []


async def test_an_edit_with_nul_is_refused(client: httpx.AsyncClient, alice: Actor) -> None:
    thread = await new_thread(client, alice)
    message = await send(client, alice, thread["id"], "fine")
    url = f"{API}/messages/{message['id']}"
    response = await client.patch(url, json={"body": NUL}, headers=alice.headers)
    assert_invalid(response, ["body", "body"])


async def test_thread_titles_with_nul_are_refused(client: httpx.AsyncClient, alice: Actor) -> None:
    created = await client.post(f"{API}/threads", json={"title": NUL}, headers=alice.headers)
    assert_invalid(created, ["body", "title"])
    thread = await new_thread(client, alice)
    renamed = await client.patch(
        f"{API}/threads/{thread['id']}", json={"title": NUL}, headers=alice.headers
    )
    assert_invalid(renamed, ["body", "title"])


@pytest.mark.parametrize("since", OUT_OF_RANGE)
async def test_message_history_since_a_time_outside_the_calendar_is_refused(
    client: httpx.AsyncClient, alice: Actor, since: str
) -> None:
    thread = await new_thread(client, alice)
    url = f"{API}/threads/{thread['id']}/messages"
    response = await client.get(url, params={"since": since}, headers=alice.headers)
    assert_invalid(response, ["query", "since"])


async def test_the_calendar_edges_themselves_are_accepted(
    client: httpx.AsyncClient, alice: Actor
) -> None:
    thread = await new_thread(client, alice)
    await send(client, alice, thread["id"], "now")
    url = f"{API}/threads/{thread['id']}/messages"
    oldest = await client.get(
        url, params={"since": "0001-01-01T14:00:00+14:00"}, headers=alice.headers
    )
    assert oldest.status_code == 200, oldest.text
    assert [m["body"] for m in oldest.json()["items"]] == ["now"]
    newest = await client.get(
        url, params={"since": "9999-12-31T23:59:59+00:00"}, headers=alice.headers
    )
    assert newest.status_code == 200, newest.text
    assert newest.json()["items"] == []
