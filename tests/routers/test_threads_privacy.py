"""A non-member cannot tell a thread or message exists: every route answers the same 404 as for
an id that was never used."""

from typing import Any

import httpx
import pytest

from tests.app.messenger.support import (
    API,
    Actor,
    actor,
    new_thread,
    problem_without_request_id,
    random_id,
    send,
)


def probes(
    thread_id: str, message_id: str, member_id: str, outsider_id: str
) -> list[tuple[str, str, Any]]:
    """(method, url, json) for every thread and message route."""
    thread = f"{API}/threads/{thread_id}"
    return [
        ("GET", thread, None),
        ("PATCH", thread, {"title": "mine now"}),
        ("DELETE", thread, None),
        ("POST", f"{thread}/participants", {"user_ids": [outsider_id]}),
        ("DELETE", f"{thread}/participants/{member_id}", None),
        ("DELETE", f"{thread}/participants/{outsider_id}", None),
        ("GET", f"{thread}/events", None),
        ("POST", f"{thread}/read", None),
        ("GET", f"{thread}/messages", None),
        ("POST", f"{thread}/messages", {"body": "let me in"}),
        ("PATCH", f"{API}/messages/{message_id}", {"body": "defaced"}),
        ("DELETE", f"{API}/messages/{message_id}", None),
    ]


async def call(
    client: httpx.AsyncClient, who: Actor, method: str, url: str, body: Any
) -> httpx.Response:
    return await client.request(method, url, json=body, headers=who.headers)


PROBES = len(probes(*["x"] * 4))


@pytest.mark.parametrize("index", range(PROBES))
async def test_a_non_member_gets_the_same_404_as_for_a_missing_id(
    client: httpx.AsyncClient, database: Any, index: int
) -> None:
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    mallory = await actor(database, "mallory")
    thread = await new_thread(client, alice, bob)
    message = await send(client, alice, thread["id"], "secret")

    method, url, body = probes(thread["id"], message["id"], bob.id, mallory.id)[index]
    _, missing_url, _ = probes(random_id(), random_id(), bob.id, mallory.id)[index]
    probed = await call(client, mallory, method, url, body)
    missing = await call(client, mallory, method, missing_url, body)

    assert probed.status_code == 404, probed.text
    assert problem_without_request_id(probed) == problem_without_request_id(missing)
    assert probed.headers.get("content-type") == missing.headers.get("content-type")


async def test_probing_changed_nothing(client: httpx.AsyncClient, database: Any) -> None:
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    mallory = await actor(database, "mallory")
    thread = await new_thread(client, alice, bob)
    message = await send(client, alice, thread["id"], "secret")
    before = (await client.get(f"{API}/threads/{thread['id']}", headers=alice.headers)).json()

    for method, url, body in probes(thread["id"], message["id"], bob.id, mallory.id):
        assert (await call(client, mallory, method, url, body)).status_code == 404

    after = (await client.get(f"{API}/threads/{thread['id']}", headers=alice.headers)).json()
    assert after == before
    history = await client.get(f"{API}/threads/{thread['id']}/messages", headers=bob.headers)
    items = history.json()["items"]
    assert [(m["body"], m["edited_at"]) for m in items] == [("secret", None)]
    mine = await client.get(f"{API}/threads", headers=mallory.headers)
    assert mine.json()["items"] == []


async def test_an_admin_outside_the_thread_only_gets_to_delete_messages(
    client: httpx.AsyncClient, database: Any
) -> None:
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    admin = await actor(database, "admin", scopes=("admin",))
    thread = await new_thread(client, alice, bob)
    message = await send(client, alice, thread["id"], "secret")

    for method, url, body in probes(thread["id"], message["id"], bob.id, admin.id):
        response = await call(client, admin, method, url, body)
        expected = 204 if (method, url) == ("DELETE", f"{API}/messages/{message['id']}") else 404
        assert response.status_code == expected, (method, url)


async def test_a_deleted_threads_events_and_read_marker_are_404_to_its_members(
    client: httpx.AsyncClient, database: Any
) -> None:
    """The thread's own visibility guards these routes, not only the membership behind them."""
    alice, bob = await actor(database, "alice"), await actor(database, "bob")
    thread = await new_thread(client, alice, bob)
    await send(client, alice, thread["id"], "secret")
    url = f"{API}/threads/{thread['id']}"
    assert (await client.get(f"{url}/events", headers=bob.headers)).status_code == 200
    assert (await client.delete(url, headers=alice.headers)).status_code == 204

    for method, path in (("GET", "events"), ("POST", "read")):
        gone = await client.request(method, f"{url}/{path}", headers=bob.headers)
        assert gone.status_code == 404, (path, gone.text)
